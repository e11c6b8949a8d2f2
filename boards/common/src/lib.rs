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

use core::fmt::{self, Write};
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

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Model(e) => write!(f, "model: {e}"),
            RunError::Inputs(e) => write!(f, "{e}"),
            RunError::SampleSize { model, file } => write!(
                f,
                "the model's inputs take {model} bytes, the inputs file's samples {file}"
            ),
            RunError::Calibration(c) => write!(
                f,
                "instruction counting is off: 1000 instructions measured as {} \
                 (is QEMU running with -icount shift=7?)",
                c.measured
            ),
            RunError::Peripherals => write!(f, "core peripherals already taken"),
        }
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
            cortex_m_semihosting::heprintln!("error: {} on {}: {}", fw.model_name, board.name, e);
            exit(debug::EXIT_FAILURE)
        }
    }
}

/// Reports a HardFault (the faulting `pc`) on stderr and exits with
/// failure; call it from the board's `HardFault` handler.
pub fn hard_fault(pc: u32) -> ! {
    cortex_m_semihosting::heprintln!("error: HardFault at pc {:#010x}", pc);
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
    let model = Model::from_bytes(fw.model)?;
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
    let _ = writeln!(
        out,
        "edgegrad board={} model={} model_bytes={} arena={} inputs={}x{} labels={}",
        board.name,
        fw.model_name,
        fw.model.len(),
        interp.arena_used(),
        inputs.count(),
        inputs.sample_len(),
        if inputs.has_labels() { "yes" } else { "no" },
    );

    let core = cortex_m::Peripherals::take().ok_or(RunError::Peripherals)?;
    let counter = Counter::new(core.SYST, board.clock).map_err(RunError::Calibration)?;
    let _ = writeln!(
        out,
        "calibration instructions=1000 measured={}",
        counter.calibration()
    );

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
        let (instructions, result) = counter.measure(|| interp.invoke());
        result?;
        min = min.min(instructions);
        max = max.max(instructions);
        sum += instructions;
        let _ = write!(out, "y {i} {instructions}");
        for k in 0..n_outputs {
            let _ = out.write_str(" ");
            out.hex(interp.output_bytes(k)?);
        }
        let _ = out.write_str("\n");
        if let Some(label) = inputs.label(i) {
            correct += (argmax(interp.output_bytes(0)?, out0) == label as usize) as usize;
        }
    }
    // The method checked again after the run.
    let end = counter.calibrate();
    let _ = writeln!(out, "calibration instructions=1000 measured={end}");
    if end.abs_diff(1000) > 1 {
        return Err(RunError::Calibration(CalibrationError { measured: end }));
    }
    let n = inputs.count() as u64;
    let _ = write!(out, "summary samples={n} correct=");
    if inputs.has_labels() {
        let _ = write!(out, "{correct}");
    } else {
        let _ = write!(out, "-");
    }
    let _ = writeln!(
        out,
        " instructions_min={min} instructions_max={max} instructions_mean={}",
        (sum + n / 2) / n
    );
    let _ = writeln!(out, "ok");
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
