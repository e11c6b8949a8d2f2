//! `cargo run --release --bin bench`: instructions per kernel call, the
//! optimized int8 kernels against the reference ones, on the benchmark
//! shapes of `shared/QEMU.md` (the shapes ARM's CMSIS-NN was measured on).
//!
//! Data is seeded pseudo-random: activations in [−128, 127] with zero point
//! −128, weights in [−127, 127], per-channel multipliers (per-tensor for the
//! fully connected layer). Each kernel runs once under the instruction
//! counter (`edgegrad_board::measure`); the two outputs must be identical
//! (for the LSTM also the hidden and cell state it updates).
//! One line per shape on stdout:
//!
//! ```text
//! bench conv3x3_16x16x8_to16 macs=294912 reference=3387774 optimized=512345 identical=yes
//! ```
//!
//! Then a sweep of random int8 LSTM problems (odd and long sizes, batch,
//! time, time-major, clip, sigmoid cell gate, random quantization), each
//! compared with the reference (not timed): `check lstm cases=N identical=yes`.
//!
//! `cargo xtask bench-mcu` builds and runs this and prints the table.
#![no_std]
#![no_main]

use cortex_m_rt::{entry, exception, ExceptionFrame};
use cortex_m_semihosting::debug;
use edgegrad::kernels::reference::lstm::{LstmS8, LstmWeightsS8, Requant};
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
/// Largest LSTM state over all batch rows (and state size).
const MAX_H: usize = 512;

/// The LSTM's gate biases and its state, one copy per kernel.
struct LstmBuffers {
    bias: [i32; 4 * MAX_H],
    hidden: [[i8; MAX_H]; 2],
    cell: [[i16; MAX_H]; 2],
}

struct Buffers {
    input: [i8; MAX_IN],
    filter: [i8; MAX_FILTER],
    bias: [i32; MAX_C],
    multipliers: [i32; MAX_C],
    shifts: [i32; MAX_C],
    want: [i8; MAX_OUT],
    got: [i8; MAX_OUT],
    lstm: LstmBuffers,
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
    /// `(in, state)`: one time step, batch 1, the state carried in.
    Lstm(usize, usize),
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

const BENCHES: [Bench; 13] = [
    Bench {
        name: "digits_conv1_8x8x1_to16",
        hw: [8, 8],
        channels: 1,
        kind: Kind::Conv(3, 3, 1, 16, 1),
    },
    Bench {
        name: "digits_conv2_8x8x16_to32",
        hw: [8, 8],
        channels: 16,
        kind: Kind::Conv(3, 3, 16, 32, 1),
    },
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
        name: "lstm_in6_h32_t1",
        hw: [1, 1],
        channels: 6,
        kind: Kind::Lstm(6, 32),
    },
    Bench {
        name: "lstm_in32_h64_t1",
        hw: [1, 1],
        channels: 32,
        kind: Kind::Lstm(32, 64),
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
    if let Kind::Lstm(n_in, n_s) = b.kind {
        // Its own data stream: the other shapes see the same data as
        // before the LSTM rows were added.
        return run_lstm(counter, n_in, n_s, buf, &mut Rng(0x5EED_1234 ^ n_s as u32));
    }
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
        ..
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
        Kind::Lstm(..) => return Err(Error::InvalidParameter),
    };
    Ok((macs, r, o, want[..n_out] == got[..n_out]))
}

/// A requantization of `real` (`real ≈ m · 2^(s − 31)`).
fn requant(real: f64) -> Requant {
    let (multiplier, shift) = edgegrad::quant::quantize_multiplier(real);
    Requant { multiplier, shift }
}

/// One LSTM time step, batch 1, input `n_in`, `n_s` units, tanh cell gate,
/// no clip: input scale 1/128 (zero point −128, as the other shapes),
/// weights 1/256, hidden state 1/128 (zero point 0), cell 2⁻¹¹ (as TFLite
/// Micro's int16 cell). The state carried in is random; both kernels
/// start from the same copy and must leave the same output and state.
fn run_lstm(
    counter: &Counter,
    n_in: usize,
    n_s: usize,
    buf: &mut Buffers,
    rng: &mut Rng,
) -> Result<(u64, u64, u64, bool), Error> {
    for v in &mut buf.input[..n_in] {
        *v = rng.i8();
    }
    let (nx, nh) = (n_s * n_in, n_s * n_s);
    for v in &mut buf.filter[..4 * (nx + nh)] {
        let k = rng.weight();
        *v = if k == -128 { 127 } else { k };
    }
    let l = &mut buf.lstm;
    for v in &mut l.bias[..4 * n_s] {
        *v = (rng.next() % 8193) as i32 - 4096; // ±0.125 at scale 2⁻¹⁵
    }
    for i in 0..n_s {
        let h = rng.i8();
        let c = (rng.next() % 8193) as i16 - 4096; // ±2
        l.hidden[0][i] = h;
        l.hidden[1][i] = h;
        l.cell[0][i] = c;
        l.cell[1][i] = c;
    }
    let (x_scale, w_scale, h_scale, c_scale) =
        (1.0 / 128.0, 1.0 / 256.0, 1.0 / 128.0, 1.0 / 2048.0);
    let q15 = 1.0 / 32768.0;
    let p = LstmS8 {
        batch: 1,
        time: 1,
        input_dim: n_in,
        state_dim: n_s,
        time_major: false,
        input_zero_point: -128,
        hidden_zero_point: 0,
        input_fc: [requant(x_scale * w_scale * 4096.0); 4],
        recurrent_fc: [requant(h_scale * w_scale * 4096.0); 4],
        forget_mul: requant(q15),
        input_mul: requant(q15 * q15 / c_scale),
        output_mul: requant(q15 * q15 / h_scale),
        cell_clip: None,
        cell_scale_power: -11,
        cell_gate_tanh: true,
    };
    let f = &buf.filter;
    let wx = |g: usize| &f[g * nx..(g + 1) * nx];
    let wh = |g: usize| &f[4 * nx + g * nh..4 * nx + (g + 1) * nh];
    let bias = |g: usize| &l.bias[g * n_s..(g + 1) * n_s];
    let w = LstmWeightsS8 {
        input: [wx(0), wx(1), wx(2), wx(3)],
        recurrent: [wh(0), wh(1), wh(2), wh(3)],
        bias: [bias(0), bias(1), bias(2), bias(3)],
    };
    let x = &buf.input[..n_in];
    let [h_r, h_o] = &mut l.hidden;
    let [c_r, c_o] = &mut l.cell;
    let (want, got) = (&mut buf.want[..n_s], &mut buf.got[..n_s]);
    let (r, rr) =
        counter.measure(|| reference::lstm_s8(x, &w, &mut h_r[..n_s], &mut c_r[..n_s], want, &p));
    rr?;
    let (o, ro) =
        counter.measure(|| optimized::lstm_s8(x, &w, &mut h_o[..n_s], &mut c_o[..n_s], got, &p));
    ro?;
    let same = want == got && h_r == h_o && c_r == c_o;
    Ok(((4 * n_s * (n_in + n_s)) as u64, r, o, same))
}

/// Random LSTM problems, optimized against reference on output, hidden
/// and cell state: `(cases, identical)`. Sizes cover every remainder of
/// the 4-unit blocks and 4-byte groups, and vectors longer than the
/// optimized kernel's 128-element stage.
fn check_lstm(buf: &mut Buffers, rng: &mut Rng) -> Result<(u32, bool), Error> {
    const CASES: u32 = 300;
    let mut same = true;
    for case in 0..CASES {
        let mut pick = |lo: u32, hi: u32| (lo + rng.next() % (hi - lo + 1)) as usize;
        let (batch, time) = (pick(1, 3), pick(1, 3));
        let (n_in, n_s) = match case % 10 {
            0 => (pick(125, 140), pick(1, 40)),
            1 => (pick(1, 16), pick(125, 132)),
            _ => (pick(1, 40), pick(1, 40)),
        };
        let time_major = pick(0, 1) == 1;
        let clip = pick(0, 1) == 1;
        let tanh = pick(0, 3) != 0;
        let power = pick(0, 8) as i32 - 15;
        let (zx, zh) = (pick(0, 255) as i32 - 128, pick(0, 255) as i32 - 128);
        let fx = pick(1, 64) as f64 / 1024.0;
        let fh = pick(1, 64) as f64 / 1024.0;
        let clip_v = pick(0, 32767) as i16;
        let steps = batch * time;
        for v in &mut buf.input[..steps * n_in] {
            *v = rng.i8();
        }
        let (nx, nh) = (n_s * n_in, n_s * n_s);
        for v in &mut buf.filter[..4 * (nx + nh)] {
            *v = rng.i8();
        }
        let l = &mut buf.lstm;
        for v in &mut l.bias[..4 * n_s] {
            *v = (rng.next() % 80001) as i32 - 40000;
        }
        for i in 0..batch * n_s {
            let h = rng.i8();
            let c = rng.next() as i16;
            l.hidden[0][i] = h;
            l.hidden[1][i] = h;
            l.cell[0][i] = c;
            l.cell[1][i] = c;
        }
        let q15 = 1.0 / 32768.0;
        let c_scale = 1.0 / (1u32 << -power) as f64;
        let p = LstmS8 {
            batch,
            time,
            input_dim: n_in,
            state_dim: n_s,
            time_major,
            input_zero_point: zx,
            hidden_zero_point: zh,
            input_fc: [
                requant(fx),
                requant(fx * 1.5),
                requant(fx * 0.75),
                requant(fx * 1.25),
            ],
            recurrent_fc: [
                requant(fh),
                requant(fh * 0.5),
                requant(fh * 2.0),
                requant(fh * 1.1),
            ],
            forget_mul: requant(q15),
            input_mul: requant(q15 * q15 / c_scale),
            output_mul: requant(q15 * q15 * 128.0),
            cell_clip: clip.then_some(clip_v),
            cell_scale_power: power,
            cell_gate_tanh: tanh,
        };
        let f = &buf.filter;
        let wx = |g: usize| &f[g * nx..(g + 1) * nx];
        let wh = |g: usize| &f[4 * nx + g * nh..4 * nx + (g + 1) * nh];
        let bias = |g: usize| &l.bias[g * n_s..(g + 1) * n_s];
        let w = LstmWeightsS8 {
            input: [wx(0), wx(1), wx(2), wx(3)],
            recurrent: [wh(0), wh(1), wh(2), wh(3)],
            bias: [bias(0), bias(1), bias(2), bias(3)],
        };
        let x = &buf.input[..steps * n_in];
        let [h_r, h_o] = &mut l.hidden;
        let [c_r, c_o] = &mut l.cell;
        let n_out = steps * n_s;
        let (want, got) = (&mut buf.want[..n_out], &mut buf.got[..n_out]);
        let k = batch * n_s;
        reference::lstm_s8(x, &w, &mut h_r[..k], &mut c_r[..k], want, &p)?;
        optimized::lstm_s8(x, &w, &mut h_o[..k], &mut c_o[..k], got, &p)?;
        same &= want == got && h_r[..k] == h_o[..k] && c_r[..k] == c_o[..k];
    }
    Ok((CASES, same))
}

/// Optimized == reference on random problems of every other int8 kernel
/// on the DSP path (the host tests cover the portable one): convolution,
/// depthwise convolution (multiplier 1–3), fully connected, max and
/// average pooling, over random windows (kernel 1–3, stride 1–2,
/// dilation 1–2, any padding), channel counts of every remainder mod 4
/// and past the 64-channel blocks, and random requantization (per-channel
/// or per-tensor, shifts across the fast path's limit, clamp ranges).
/// Returns `(cases, identical)`.
fn check_kernels(buf: &mut Buffers, rng: &mut Rng) -> Result<(u32, bool), Error> {
    const CASES: u32 = 1000;
    let mut same = true;
    for case in 0..CASES {
        let mut pick = |lo: usize, hi: usize| lo + rng.next() as usize % (hi - lo + 1);
        // A window and input/output sizes consistent with it.
        let (kh, kw) = (pick(1, 3), pick(1, 3));
        let mut win = Window2d::new(kh, kw, pick(1, 2), pick(1, 2));
        let pooling = case % 5 >= 3;
        if !pooling {
            win.dilation_h = pick(1, 2);
            win.dilation_w = pick(1, 2);
        }
        let eff_h = (kh - 1) * win.dilation_h + 1;
        let eff_w = (kw - 1) * win.dilation_w + 1;
        win.pad_top = pick(0, eff_h - 1);
        win.pad_left = pick(0, eff_w - 1);
        let (ih, iw) = (pick(eff_h, 8), pick(eff_w, 8));
        let (pb, pr) = (pick(0, eff_h - 1), pick(0, eff_w - 1));
        let oh = (ih + win.pad_top + pb - eff_h) / win.stride_h + 1;
        let ow = (iw + win.pad_left + pr - eff_w) / win.stride_w + 1;
        let n = pick(1, 2);
        let chans = |pick: &mut dyn FnMut(usize, usize) -> usize| {
            if pick(0, 7) == 0 {
                pick(10, 70)
            } else {
                pick(1, 9)
            }
        };
        let kind = case % 5;
        let mult = pick(1, 3);
        // Depthwise output channels within the multiplier buffers.
        let ic = chans(&mut pick).min(MAX_C / mult);
        // Fully connected weights within the filter buffer.
        let oc = chans(&mut pick).min(MAX_FILTER / (ih * iw * ic));
        let (zp_in, zp_out) = (pick(0, 255) as i32 - 128, pick(0, 255) as i32 - 128);
        let (act_min, act_max) = match pick(0, 2) {
            0 => (-128, 127),
            1 => (zp_out, 127),
            _ => {
                let (a, b) = (pick(0, 255) as i32 - 128, pick(0, 255) as i32 - 128);
                (a.min(b), a.max(b))
            }
        };
        let per_channel = pick(0, 1) == 1;
        for i in 0..MAX_C {
            let j = if per_channel { i } else { 0 };
            if j == i {
                buf.multipliers[i] = 0x4000_0000 + (rng.next() >> 2) as i32;
                // Mostly −12..−5; sometimes ≥ 0, beyond the fast path.
                buf.shifts[i] = if rng.next().is_multiple_of(10) {
                    (rng.next() % 3) as i32
                } else {
                    -((rng.next() % 8) as i32) - 5
                };
                buf.bias[i] = (rng.next() % 60001) as i32 - 30000;
            } else {
                (buf.multipliers[i], buf.shifts[i]) = (buf.multipliers[0], buf.shifts[0]);
                buf.bias[i] = (rng.next() % 60001) as i32 - 30000;
            }
        }
        for v in buf.input.iter_mut().take(n * ih * iw * ic) {
            *v = rng.i8();
        }
        let weights = match kind {
            0 => oc * kh * kw * ic,
            1 => kh * kw * ic * mult,
            2 => oc * ih * iw * ic,
            _ => 0,
        };
        for v in buf.filter.iter_mut().take(weights) {
            let k = rng.weight();
            *v = if k == -128 { 127 } else { k };
        }
        let nq = |c: usize| if per_channel { c } else { 1 };
        let Buffers {
            input,
            filter,
            bias,
            multipliers,
            shifts,
            want,
            got,
            ..
        } = &mut *buf;
        let q = |c: usize| RequantS8 {
            input_zero_point: zp_in,
            output_zero_point: zp_out,
            multipliers: &multipliers[..nq(c)],
            shifts: &shifts[..nq(c)],
            act_min,
            act_max,
        };
        let with_bias = !rng.next().is_multiple_of(4);
        let b = |c: usize| with_bias.then_some(&bias[..c]);
        let n_out;
        match kind {
            0 => {
                let x = TensorView::new(shape(&[n, ih, iw, ic])?, &input[..n * ih * iw * ic])?;
                let f = TensorView::new(shape(&[oc, kh, kw, ic])?, &filter[..oc * kh * kw * ic])?;
                n_out = n * oh * ow * oc;
                let os = shape(&[n, oh, ow, oc])?;
                let (r, o) = (&mut want[..n_out], &mut got[..n_out]);
                reference::conv2d_s8(x, f, b(oc), &mut TensorMut::new(os, r)?, &win, &q(oc))?;
                optimized::conv2d_s8(x, f, b(oc), &mut TensorMut::new(os, o)?, &win, &q(oc))?;
            }
            1 => {
                let c = ic * mult;
                let x = TensorView::new(shape(&[n, ih, iw, ic])?, &input[..n * ih * iw * ic])?;
                let f = TensorView::new(shape(&[1, kh, kw, c])?, &filter[..kh * kw * c])?;
                n_out = n * oh * ow * c;
                let os = shape(&[n, oh, ow, c])?;
                let (r, o) = (&mut want[..n_out], &mut got[..n_out]);
                let qc = q(c);
                reference::depthwise_conv2d_s8(
                    x,
                    f,
                    b(c),
                    &mut TensorMut::new(os, r)?,
                    &win,
                    mult,
                    &qc,
                )?;
                optimized::depthwise_conv2d_s8(
                    x,
                    f,
                    b(c),
                    &mut TensorMut::new(os, o)?,
                    &win,
                    mult,
                    &qc,
                )?;
            }
            2 => {
                let k = ih * iw * ic;
                let x = TensorView::new(shape(&[n, k])?, &input[..n * k])?;
                let f = TensorView::new(shape(&[oc, k])?, &filter[..oc * k])?;
                n_out = n * oc;
                let os = shape(&[n, oc])?;
                let (r, o) = (&mut want[..n_out], &mut got[..n_out]);
                reference::fully_connected_s8(x, f, b(oc), &mut TensorMut::new(os, r)?, &q(oc))?;
                optimized::fully_connected_s8(x, f, b(oc), &mut TensorMut::new(os, o)?, &q(oc))?;
            }
            _ => {
                let x = TensorView::new(shape(&[n, ih, iw, ic])?, &input[..n * ih * iw * ic])?;
                n_out = n * oh * ow * ic;
                let os = shape(&[n, oh, ow, ic])?;
                let (r, o) = (&mut want[..n_out], &mut got[..n_out]);
                if kind == 3 {
                    reference::max_pool2d_s8(
                        x,
                        &mut TensorMut::new(os, r)?,
                        &win,
                        act_min,
                        act_max,
                    )?;
                    optimized::max_pool2d_s8(
                        x,
                        &mut TensorMut::new(os, o)?,
                        &win,
                        act_min,
                        act_max,
                    )?;
                } else {
                    reference::avg_pool2d_s8(
                        x,
                        &mut TensorMut::new(os, r)?,
                        &win,
                        act_min,
                        act_max,
                    )?;
                    optimized::avg_pool2d_s8(
                        x,
                        &mut TensorMut::new(os, o)?,
                        &win,
                        act_min,
                        act_max,
                    )?;
                }
            }
        }
        same &= want[..n_out] == got[..n_out];
    }
    Ok((CASES, same))
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
        lstm: LstmBuffers {
            bias: [0; 4 * MAX_H],
            hidden: [[0; MAX_H]; 2],
            cell: [[0; MAX_H]; 2],
        },
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
    type Check = fn(&mut Buffers, &mut Rng) -> Result<(u32, bool), Error>;
    for (name, check) in [
        ("lstm", check_lstm as Check),
        ("kernels", check_kernels as Check),
    ] {
        match check(BUF, &mut rng) {
            Ok((cases, same)) => {
                out.str("check ")
                    .str(name)
                    .str(" cases=")
                    .dec(cases as u64)
                    .str(" identical=")
                    .str(if same { "yes" } else { "no" })
                    .str("\n");
                ok &= same;
            }
            Err(e) => {
                out.str("error: ")
                    .str(name)
                    .str(" check: ")
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
