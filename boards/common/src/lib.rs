//! What every QEMU board firmware of edgegrad shares: run an embedded
//! model on every sample of an embedded inputs file, print each output's
//! bytes, the accuracy against the file's labels and the instructions per
//! inference, then exit through semihosting.
//!
//! A board crate (`boards/qemu-m4`, `boards/qemu-m3`) supplies only what
//! differs: its memory map, target and QEMU runner, its clock for
//! [`measure`], and the `#[entry]` / exception handlers that call
//! [`run`], [`hard_fault`] and [`measure::on_systick`].
//!
//! # What the firmware prints (stdout, one record per line)
//!
//! ```text
//! edgegrad board=qemu-m4 model=mlp_s8.egm model_bytes=2192 arena=96 inputs=16x32 labels=yes
//! calibration instructions=1000 measured=1000
//! y 0 3115 80ff7f...            sample index, instructions, output 0 hex [, output 1 hex …]
//! …
//! calibration instructions=1000 measured=1000   (the same check after the run)
//! summary samples=16 correct=9 instructions_min=3101 instructions_max=3130 instructions_mean=3115
//! ok
//! ```
//!
//! Each output is its tensor's bytes as the arena holds them (int8 as is,
//! f16/f32 little-endian), in lower-case hex. `correct` compares the index
//! of the largest element of output 0 with the sample's label, and is `-`
//! when the inputs have no labels. Any error prints `error: …` on stderr
//! and exits with failure (semihosting exit code 1); so do panics and
//! HardFaults.
#![no_std]

pub mod inputs;
pub mod measure;
pub mod out;

pub use edgegrad;

use cortex_m_semihosting::debug;
use edgegrad::model::{Interpreter, Model, OpResolver};
use edgegrad::tensor::DType;
use inputs::{Inputs, InputsError};
use measure::{CalibrationError, Clock, Counter};
use out::Out;

/// Embeds a file 16-byte aligned, as a `&'static [u8]` (for the inputs
/// file; the model uses `edgegrad::include_model!`, which does the same).
#[macro_export]
macro_rules! include_aligned {
    ($path:expr) => {
        $crate::edgegrad::include_model!($path)
    };
}

/// What differs between boards at run time.
#[derive(Debug, Clone, Copy)]
pub struct Board {
    /// The board's folder name, printed in the first line.
    pub name: &'static str,
    /// SysTick's clock and the runner's icount shift.
    pub clock: Clock,
}

/// What the firmware embeds.
#[derive(Debug, Clone, Copy)]
pub struct Firmware<'a> {
    /// The model file's name (for the report).
    pub model_name: &'a str,
    /// The model file, 16-byte aligned.
    pub model: &'a [u8],
    /// The inputs file (see [`inputs`]).
    pub inputs: &'a [u8],
    /// The kernels linked into this firmware.
    pub ops: &'a OpResolver,
}

/// Why a run failed.
#[derive(Debug, Clone, Copy)]
pub enum RunError {
    /// From the model, the interpreter or a kernel.
    Model(edgegrad::Error),
    /// The inputs file is malformed.
    Inputs(InputsError),
    /// A sample's size is not the sum of the model inputs' sizes.
    SampleSize {
        /// Bytes of all model inputs.
        model: usize,
        /// Bytes per sample in the inputs file.
        file: usize,
    },
    /// The instruction counting method failed its self-check.
    Calibration(CalibrationError),
    /// The core peripherals were already taken.
    Peripherals,
}

impl From<edgegrad::Error> for RunError {
    fn from(e: edgegrad::Error) -> Self {
        RunError::Model(e)
    }
}

impl From<InputsError> for RunError {
    fn from(e: InputsError) -> Self {
        RunError::Inputs(e)
    }
}

impl RunError {
    /// Writes the error (no `core::fmt`: see [`out`]).
    pub fn write(&self, out: &mut Out) {
        match self {
            RunError::Model(e) => out.str("model: ").str(e.name()),
            RunError::Inputs(e) => out.str(e.message()),
            RunError::SampleSize { model, file } => out
                .str("the model's inputs take ")
                .dec(*model as u64)
                .str(" bytes, the inputs file's samples ")
                .dec(*file as u64),
            RunError::Calibration(c) => out
                .str("instruction counting is off: 1000 instructions measured as ")
                .dec(c.measured)
                .str(" (is QEMU running with -icount shift=7?)"),
            RunError::Peripherals => out.str("core peripherals already taken"),
        };
    }
}

/// Runs the firmware and exits QEMU: success after printing every
/// sample's outputs, failure (with the error on stderr) otherwise.
pub fn run(board: &Board, fw: &Firmware<'_>, arena: &mut [u8]) -> ! {
    let result = match Out::new() {
        Some(mut out) => {
            let r = run_all(&mut out, board, fw, arena);
            out.flush();
            r
        }
        None => Err(RunError::Peripherals),
    };
    match result {
        Ok(()) => exit(debug::EXIT_SUCCESS),
        Err(e) => {
            if let Some(mut err) = Out::stderr() {
                err.str("error: ")
                    .str(fw.model_name)
                    .str(" on ")
                    .str(board.name)
                    .str(": ");
                e.write(&mut err);
                err.str("\n").flush();
            }
            exit(debug::EXIT_FAILURE)
        }
    }
}

/// Reports a HardFault (the faulting `pc`) on stderr and exits with
/// failure; call it from the board's `HardFault` handler.
pub fn hard_fault(pc: u32) -> ! {
    if let Some(mut err) = Out::stderr() {
        err.str("error: HardFault at pc 0x")
            .hex(&pc.to_be_bytes())
            .str("\n")
            .flush();
    }
    exit(debug::EXIT_FAILURE)
}

/// Reports a panic on stderr (its location; the message would need
/// `core::fmt`) and exits with failure.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    if let Some(mut err) = Out::stderr() {
        err.str("error: panic");
        if let Some(at) = info.location() {
            err.str(" at ")
                .str(at.file())
                .str(":")
                .dec(at.line() as u64);
        }
        err.str("\n").flush();
    }
    exit(debug::EXIT_FAILURE)
}

fn exit(status: debug::ExitStatus) -> ! {
    debug::exit(status);
    // Not reached under QEMU; on a debugger without semihosting exit, stop here.
    loop {
        cortex_m::asm::wfi();
    }
}

fn run_all(
    out: &mut Out,
    board: &Board,
    fw: &Firmware<'_>,
    arena: &mut [u8],
) -> Result<(), RunError> {
    // Validation through the resolver: only the registered ops' is linked.
    let model = Model::from_bytes_with(fw.model, fw.ops)?;
    let inputs = Inputs::parse(fw.inputs)?;
    let mut input_bytes = 0;
    for &t in model.inputs() {
        input_bytes += model.tensor(t)?.byte_len;
    }
    if input_bytes != inputs.sample_len() {
        return Err(RunError::SampleSize {
            model: input_bytes,
            file: inputs.sample_len(),
        });
    }
    let mut interp = Interpreter::new(&model, fw.ops, arena)?;
    out.str("edgegrad board=")
        .str(board.name)
        .str(" model=")
        .str(fw.model_name)
        .str(" model_bytes=")
        .dec(fw.model.len() as u64)
        .str(" arena=")
        .dec(interp.arena_used() as u64)
        .str(" inputs=")
        .dec(inputs.count() as u64)
        .str("x")
        .dec(inputs.sample_len() as u64)
        .str(" labels=")
        .str(if inputs.has_labels() { "yes\n" } else { "no\n" });

    let core = cortex_m::Peripherals::take().ok_or(RunError::Peripherals)?;
    let counter = Counter::new(core.SYST, board.clock).map_err(RunError::Calibration)?;
    out.str("calibration instructions=1000 measured=")
        .dec(counter.calibration())
        .str("\n");

    let out0 = interp.output_info(0)?.dtype;
    let n_outputs = model.outputs().len();
    let (mut min, mut max, mut sum, mut correct) = (u64::MAX, 0u64, 0u64, 0usize);
    for i in 0..inputs.count() {
        // The sample is every model input's bytes, in order (sizes
        // checked above).
        let mut sample = inputs.sample(i).unwrap_or(&[]);
        for k in 0..model.inputs().len() {
            let dst = interp.input_bytes_mut(k)?;
            let (head, rest) = sample.split_at(dst.len().min(sample.len()));
            if head.len() != dst.len() {
                return Err(RunError::SampleSize {
                    model: input_bytes,
                    file: inputs.sample_len(),
                });
            }
            dst.copy_from_slice(head);
            sample = rest;
        }
        // Each sample is its own sequence: recurrent state (an LSTM's)
        // starts at zero, as on the host.
        interp.reset_state()?;
        let (instructions, result) = counter.measure(|| interp.invoke());
        result?;
        min = min.min(instructions);
        max = max.max(instructions);
        sum += instructions;
        out.str("y ").dec(i as u64).str(" ").dec(instructions);
        for k in 0..n_outputs {
            out.str(" ").hex(interp.output_bytes(k)?);
        }
        out.str("\n");
        if let Some(label) = inputs.label(i) {
            correct += (argmax(interp.output_bytes(0)?, out0) == label as usize) as usize;
        }
    }
    // The method checked again after the run.
    let end = counter.calibrate();
    out.str("calibration instructions=1000 measured=")
        .dec(end)
        .str("\n");
    if end.abs_diff(1000) > 1 {
        return Err(RunError::Calibration(CalibrationError { measured: end }));
    }
    let n = inputs.count() as u64;
    out.str("summary samples=").dec(n).str(" correct=");
    if inputs.has_labels() {
        out.dec(correct as u64);
    } else {
        out.str("-");
    }
    out.str(" instructions_min=")
        .dec(min)
        .str(" instructions_max=")
        .dec(max)
        .str(" instructions_mean=")
        .dec((sum + n / 2) / n)
        .str("\nok\n");
    Ok(())
}

/// Index of the largest element (the first one on ties) of a tensor's
/// bytes of type `dtype`.
fn argmax(bytes: &[u8], dtype: DType) -> usize {
    // An integer key with the elements' order: floats by sign and magnitude.
    let key = |i: usize| -> i64 {
        let b = |k: usize| bytes.get(i * dtype.size() + k).copied().unwrap_or(0);
        match dtype {
            DType::I8 => b(0) as i8 as i64,
            DType::I16 => i16::from_le_bytes([b(0), b(1)]) as i64,
            DType::I32 => i32::from_le_bytes([b(0), b(1), b(2), b(3)]) as i64,
            DType::F16 => {
                let bits = u16::from_le_bytes([b(0), b(1)]) as i64;
                if bits & 0x8000 != 0 {
                    -(bits & 0x7fff)
                } else {
                    bits
                }
            }
            DType::F32 => {
                let bits = u32::from_le_bytes([b(0), b(1), b(2), b(3)]) as i64;
                if bits & 0x8000_0000 != 0 {
                    -(bits & 0x7fff_ffff)
                } else {
                    bits
                }
            }
        }
    };
    let n = bytes.len() / dtype.size();
    (0..n).fold(0, |best, i| if key(i) > key(best) { i } else { best })
}
