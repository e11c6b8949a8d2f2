//! `edgegrad`: the command-line toolbox.
//!
//! - `edgegrad inspect MODEL [--json]` validates a model file and prints its
//!   tensors, operators, arena plan, constant bytes and MACs.
//! - `edgegrad run MODEL --input IN.npy … --output OUT.npy …` runs a model on
//!   every sample (first axis = batch) of the inputs through the same
//!   interpreter and kernels the device uses.
//! - `edgegrad convert IN.tflite -o OUT.egm` converts a fully int8
//!   TensorFlow Lite model (byte-exact with TensorFlow Lite Micro);
//!   `edgegrad convert IN.onnx -o OUT.egm [--calibration CAL.npy] [--dtype
//!   int8|f16|f32]` converts a float ONNX model (quantized by edgegrad's
//!   post-training quantization for int8). The input's extension picks the
//!   importer.
//!
//! Every failure is one line on stderr and exit code 1.

mod convert;
mod convert_onnx;
mod inspect;
mod npy;
mod run;

use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "edgegrad",
    version,
    about = "Machine learning on microcontrollers: inspect, run and convert edgegrad model files"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a model file and describe it.
    Inspect {
        /// The model file (.egm).
        model: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Run a model on NPY inputs and write NPY outputs.
    Run {
        /// The model file (.egm).
        model: PathBuf,
        /// One NPY file per model input, in the model's input order; the
        /// first axis is the batch. float32 is quantized with the input's
        /// parameters (int8 models) or converted (f16 models); int8 / float16
        /// matching the model's input type is used as is.
        #[arg(long = "input", required = true)]
        inputs: Vec<PathBuf>,
        /// One NPY file per model output, in the model's output order,
        /// written in the output's element type.
        #[arg(long = "output", required = true)]
        outputs: Vec<PathBuf>,
    },
    /// Convert a model from another framework to a model file: a fully
    /// int8 TensorFlow Lite model (.tflite, byte-exact with TensorFlow Lite
    /// Micro), or a float ONNX model (.onnx, quantized with --calibration
    /// samples for int8).
    Convert {
        /// The model to convert; its extension picks the importer.
        input: PathBuf,
        /// The model file to write (.egm).
        #[arg(short, long)]
        output: PathBuf,
        /// Calibration samples (NPY, float32 or float16, first axis the
        /// sample, each in the source model's input layout); the last 20%
        /// measure int8 top-1 agreement. Needed for int8.
        #[arg(long)]
        calibration: Option<PathBuf>,
        /// Element type of the model file.
        #[arg(long, value_enum, default_value = "int8")]
        dtype: convert_onnx::Dtype,
    },
}

/// `edgegrad convert`: one importer per input extension.
fn convert(
    input: &Path,
    output: &Path,
    calibration: Option<&Path>,
    dtype: convert_onnx::Dtype,
) -> anyhow::Result<()> {
    match input.extension().and_then(|e| e.to_str()) {
        Some("onnx") => convert_onnx::run(input, output, calibration, dtype),
        Some("tflite") => {
            // An int8 .tflite carries its own quantization.
            if calibration.is_some() || dtype != convert_onnx::Dtype::Int8 {
                anyhow::bail!(
                    "{}: a .tflite model is converted as it is quantized (int8); --calibration and --dtype apply to .onnx",
                    input.display()
                );
            }
            convert::run(input, output)
        }
        _ => anyhow::bail!(
            "{}: unknown model type (expected a .tflite or .onnx file)",
            input.display()
        ),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect { model, json } => inspect::run(&model, json),
        Command::Run {
            model,
            inputs,
            outputs,
        } => run::run(&model, &inputs, &outputs),
        Command::Convert {
            input,
            output,
            calibration,
            dtype,
        } => convert(&input, &output, calibration.as_deref(), dtype),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Writes `text` to stdout; a closed pipe (`edgegrad inspect … | head`) is
/// not an error.
pub(crate) fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// Reads and validates a model file, with the path in every error.
pub(crate) fn load(path: &std::path::Path) -> anyhow::Result<edgegrad::model::AlignedModel> {
    use anyhow::Context;
    let file = edgegrad::model::AlignedModel::read(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    edgegrad::model::Model::from_bytes(file.as_bytes())
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(file)
}
