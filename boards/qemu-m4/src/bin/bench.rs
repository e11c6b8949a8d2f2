//! `cargo run --release --bin bench`: instructions per kernel call, the
//! optimized int8 kernels against the reference ones, on the benchmark
//! shapes of `shared/QEMU.md` (the shapes ARM's CMSIS-NN was measured on).
//!
//! Data is seeded pseudo-random: activations in [−128, 127] with zero point
//! −128, weights in [−127, 127], per-channel multipliers (per-tensor for the
//! fully connected layer). Each kernel runs once under the instruction
//! counter (`edgegrad_board::measure`); the two outputs must be identical.
//! One line per shape on stdout:
//!
//! ```text
//! bench conv3x3_16x16x8_to16 macs=294912 reference=3387774 optimized=512345 identical=yes
//! ```
//!
//! `cargo xtask bench-mcu` builds and runs this and prints the table.
#![no_std]
#![no_main]

use cortex_m_rt::{entry, exception, ExceptionFrame};
use cortex_m_semihosting::debug;
use edgegrad::kernels::{optimized, reference, RequantS8, Window2d};
use edgegrad::tensor::{Shape, TensorMut, TensorView};
use edgegrad::Error;
use edgegrad_board::measure::{self, Clock, Counter};
use edgegrad_board::out::Out;

const CLOCK: Clock = Clock {
    tick_ns: 40, // 25 MHz core clock
    icount_shift: 7,
};

/// Largest input, filter and output of any shape.
const MAX_IN: usize = 48 * 48 * 8;
const MAX_FILTER: usize = 640 * 128;
const MAX_OUT: usize = 24 * 24 * 32;
const MAX_C: usize = 128;

struct Buffers {
    input: [i8; MAX_IN],
    filter: [i8; MAX_FILTER],
    bias: [i32; MAX_C],
    multipliers: [i32; MAX_C],
    shifts: [i32; MAX_C],
    want: [i8; MAX_OUT],
    got: [i8; MAX_OUT],
}

/// xorshift32: reproducible data without a dependency.
struct Rng(u32);

impl Rng {
    fn next(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }
    fn i8(&mut self) -> i8 {
        (self.next() >> 24) as i8
    }
    fn weight(&mut self) -> i8 {
        (self.next() % 255) as i8 // 0..=254 → wraps to [-128, 126]; fixed below
    }
}

#[derive(Clone, Copy)]
enum Kind {
    /// `(kh, kw, in_c, out_c, pad)`.
    Conv(usize, usize, usize, usize, usize),
    /// `(kh, kw, pad)`.
    Depthwise(usize, usize, usize),
    /// `(in, out)`.
    Fc(usize, usize),
    MaxPool,
    AvgPool,
}

struct Bench {
    name: &'static str,
    /// `[h, w]` of the input (conv, depthwise, pooling).
    hw: [usize; 2],
    channels: usize,
    kind: Kind,
}

const BENCHES: [Bench; 9] = [
    Bench {
        name: "conv3x3_16x16x8_to16",
        hw: [16, 16],
        channels: 8,
        kind: Kind::Conv(3, 3, 8, 16, 1),
    },
    Bench {
        name: "conv3x3_32x32x16_to16",
        hw: [32, 32],
        channels: 16,
        kind: Kind::Conv(3, 3, 16, 16, 1),
    },
    Bench {
        name: "pw_25x5x64_to64",
        hw: [25, 5],
        channels: 64,
        kind: Kind::Conv(1, 1, 64, 64, 0),
    },
    Bench {
        name: "dw3x3_25x5x64",
        hw: [25, 5],
        channels: 64,
        kind: Kind::Depthwise(3, 3, 1),
    },
    Bench {
        name: "dw3x3_48x48x8",
        hw: [48, 48],
        channels: 8,
        kind: Kind::Depthwise(3, 3, 1),
    },
    Bench {
        name: "pw_24x24x16_to32",
        hw: [24, 24],
        channels: 16,
        kind: Kind::Conv(1, 1, 16, 32, 0),
    },
    Bench {
        name: "fc_640_to128",
        hw: [1, 1],
        channels: 640,
        kind: Kind::Fc(640, 128),
    },
    Bench {
        name: "maxpool2x2_16x16x32",
        hw: [16, 16],
        channels: 32,
        kind: Kind::MaxPool,
    },
    Bench {
        name: "avgpool2x2_16x16x32",
        hw: [16, 16],
        channels: 32,
        kind: Kind::AvgPool,
    },
];

fn shape(d: &[usize]) -> Result<Shape, Error> {
    Shape::new(d)
}

/// Runs one shape: `(macs, reference instructions, optimized instructions,
/// identical)`.
fn run(
    counter: &Counter,
    b: &Bench,
    buf: &mut Buffers,
    rng: &mut Rng,
) -> Result<(u64, u64, u64, bool), Error> {
    let [h, w] = b.hw;
    let c = b.channels;
    let n_in = h * w * c;
    for v in &mut buf.input[..n_in] {
        *v = rng.i8();
    }
    for v in buf.filter.iter_mut() {
        let k = rng.weight();
        *v = if k == -128 { 127 } else { k };
    }
    for i in 0..MAX_C {
        buf.bias[i] = (rng.next() % 20001) as i32 - 10000;
        buf.multipliers[i] = 0x4000_0000 + (rng.next() >> 2) as i32; // [2^30, 2^31)
        buf.shifts[i] = -((rng.next() % 4) as i32) - 7;
    }
    let Buffers {
        input,
        filter,
        bias,
        multipliers,
        shifts,
        want,
        got,
    } = buf;
    let per_channel = |n: usize| RequantS8 {
        input_zero_point: -128,
        output_zero_point: -128,
        multipliers: &multipliers[..n],
        shifts: &shifts[..n],
        act_min: -128,
        act_max: 127,
    };
    let (macs, n_out, r, o) = match b.kind {
        Kind::Conv(kh, kw, ic, oc, pad) => {
            let mut win = Window2d::new(kh, kw, 1, 1);
            win.pad_top = pad;
            win.pad_left = pad;
            let x = TensorView::new(shape(&[1, h, w, ic])?, &input[..n_in])?;
            let f = TensorView::new(shape(&[oc, kh, kw, ic])?, &filter[..oc * kh * kw * ic])?;
            let n_out = h * w * oc;
            let os = shape(&[1, h, w, oc])?;
            let q = per_channel(oc);
            let bias = Some(&bias[..oc]);
            let (r, rr) = counter.measure(|| {
                reference::conv2d_s8(
                    x,
                    f,
                    bias,
                    &mut TensorMut::new(os, &mut want[..n_out])?,
                    &win,
                    &q,
                )
            });
            rr?;
            let (o, ro) = counter.measure(|| {
                optimized::conv2d_s8(
                    x,
                    f,
                    bias,
                    &mut TensorMut::new(os, &mut got[..n_out])?,
                    &win,
                    &q,
                )
            });
            ro?;
            ((n_out * kh * kw * ic) as u64, n_out, r, o)
        }
        Kind::Depthwise(kh, kw, pad) => {
            let mut win = Window2d::new(kh, kw, 1, 1);
            win.pad_top = pad;
            win.pad_left = pad;
            let x = TensorView::new(shape(&[1, h, w, c])?, &input[..n_in])?;
            let f = TensorView::new(shape(&[1, kh, kw, c])?, &filter[..kh * kw * c])?;
            let os = shape(&[1, h, w, c])?;
            let q = per_channel(c);
            let bias = Some(&bias[..c]);
            let (r, rr) = counter.measure(|| {
                reference::depthwise_conv2d_s8(
                    x,
                    f,
                    bias,
                    &mut TensorMut::new(os, &mut want[..n_in])?,
                    &win,
                    1,
                    &q,
                )
            });
            rr?;
            let (o, ro) = counter.measure(|| {
                optimized::depthwise_conv2d_s8(
                    x,
                    f,
                    bias,
                    &mut TensorMut::new(os, &mut got[..n_in])?,
                    &win,
                    1,
                    &q,
                )
            });
            ro?;
            ((n_in * kh * kw) as u64, n_in, r, o)
        }
        Kind::Fc(ni, no) => {
            let x = TensorView::new(shape(&[1, ni])?, &input[..ni])?;
            let f = TensorView::new(shape(&[no, ni])?, &filter[..no * ni])?;
            let os = shape(&[1, no])?;
            let q = RequantS8 {
                multipliers: &multipliers[..1],
                shifts: &shifts[..1],
                ..per_channel(1)
            };
            let bias = Some(&bias[..no]);
            let (r, rr) = counter.measure(|| {
                reference::fully_connected_s8(
                    x,
                    f,
                    bias,
                    &mut TensorMut::new(os, &mut want[..no])?,
                    &q,
                )
            });
            rr?;
            let (o, ro) = counter.measure(|| {
                optimized::fully_connected_s8(
                    x,
                    f,
                    bias,
                    &mut TensorMut::new(os, &mut got[..no])?,
                    &q,
                )
            });
            ro?;
            ((ni * no) as u64, no, r, o)
        }
        Kind::MaxPool | Kind::AvgPool => {
            let win = Window2d::new(2, 2, 2, 2);
            let x = TensorView::new(shape(&[1, h, w, c])?, &input[..n_in])?;
            let n_out = (h / 2) * (w / 2) * c;
            let os = shape(&[1, h / 2, w / 2, c])?;
            type Pool =
                fn(TensorView<i8>, &mut TensorMut<i8>, &Window2d, i32, i32) -> Result<(), Error>;
            let (rk, ok): (Pool, Pool) = if matches!(b.kind, Kind::MaxPool) {
                (reference::max_pool2d_s8, optimized::max_pool2d_s8)
            } else {
                (reference::avg_pool2d_s8, optimized::avg_pool2d_s8)
            };
            let (r, rr) = counter.measure(|| {
                rk(
                    x,
                    &mut TensorMut::new(os, &mut want[..n_out])?,
                    &win,
                    -128,
                    127,
                )
            });
            rr?;
            let (o, ro) = counter.measure(|| {
                ok(
                    x,
                    &mut TensorMut::new(os, &mut got[..n_out])?,
                    &win,
                    -128,
                    127,
                )
            });
            ro?;
            ((n_out * 4) as u64, n_out, r, o)
        }
    };
    Ok((macs, r, o, want[..n_out] == got[..n_out]))
}

#[entry]
fn main() -> ! {
    static mut BUF: Buffers = Buffers {
        input: [0; MAX_IN],
        filter: [0; MAX_FILTER],
        bias: [0; MAX_C],
        multipliers: [0; MAX_C],
        shifts: [0; MAX_C],
        want: [0; MAX_OUT],
        got: [0; MAX_OUT],
    };
    let Some(mut out) = Out::new() else {
        exit(false)
    };
    let Some(p) = cortex_m::Peripherals::take() else {
        exit(false)
    };
    let Ok(counter) = Counter::new(p.SYST, CLOCK) else {
        out.str("error: instruction counting is off (-icount shift=7?)\n");
        exit(false)
    };
    let mut rng = Rng(0x1234_5678);
    let mut ok = true;
    for b in &BENCHES {
        match run(&counter, b, BUF, &mut rng) {
            Ok((macs, r, o, same)) => {
                out.str("bench ")
                    .str(b.name)
                    .str(" macs=")
                    .dec(macs)
                    .str(" reference=")
                    .dec(r)
                    .str(" optimized=")
                    .dec(o)
                    .str(" identical=")
                    .str(if same { "yes" } else { "no" })
                    .str("\n");
                ok &= same;
            }
            Err(e) => {
                out.str("error: ")
                    .str(b.name)
                    .str(": ")
                    .str(e.name())
                    .str("\n");
                ok = false;
            }
        }
    }
    out.flush();
    exit(ok)
}

fn exit(ok: bool) -> ! {
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {
        cortex_m::asm::wfi();
    }
}

#[exception]
fn SysTick() {
    measure::on_systick();
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    edgegrad_board::hard_fault(frame.pc())
}
