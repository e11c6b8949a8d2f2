//! `edgegrad convert IN.onnx -o OUT.egm [--calibration CAL.npy] [--dtype int8|f16|f32]`.

use crate::npy::{self, Array};
use anyhow::{bail, Context};
use edgegrad::export::ExportDtype;
use edgegrad::import::onnx::{self, ConvertOptions};
use std::fmt::Write as _;
use std::path::Path;

/// The element type of the converted model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Dtype {
    /// int8 weights and activations (post-training quantization).
    Int8,
    /// half precision.
    F16,
    /// float32.
    F32,
}

/// Converts `input` (ONNX) to the model file `output`.
pub fn run(
    input: &Path,
    output: &Path,
    calibration: Option<&Path>,
    dtype: Dtype,
) -> anyhow::Result<()> {
    let bytes = std::fs::read(input).with_context(|| format!("cannot read {}", input.display()))?;
    let dtype = match dtype {
        Dtype::Int8 => ExportDtype::Int8,
        Dtype::F16 => ExportDtype::F16,
        Dtype::F32 => ExportDtype::F32,
    };
    let samples = match calibration {
        None if dtype == ExportDtype::Int8 => bail!(
            "int8 conversion needs --calibration CAL.npy (samples in the ONNX input's layout), \
             or use --dtype f32 / f16"
        ),
        None => None,
        Some(p) => {
            let info = onnx::input_info(&bytes)
                .map_err(|e| anyhow::anyhow!("{}: {e}", input.display()))?;
            Some(read_samples(p, &info.onnx_shape)?)
        }
    };
    let conv = onnx::convert(&bytes, samples.as_deref(), &ConvertOptions::new(dtype))
        .map_err(|e| anyhow::anyhow!("{}: {e}", input.display()))?;
    edgegrad::export::write_atomic(output, &conv.bytes)
        .with_context(|| format!("cannot write {}", output.display()))?;
    let mut text = String::new();
    writeln!(
        text,
        "{} → {}: {} ops, model {} bytes, arena {} bytes",
        input.display(),
        output.display(),
        conv.ops,
        conv.bytes.len(),
        conv.plan.arena_size
    )?;
    let io =
        std::iter::once(("input", &conv.input)).chain(conv.outputs.iter().map(|o| ("output", o)));
    for (kind, info) in io {
        let note = if info.order.is_some() {
            " (channels-last)"
        } else {
            ""
        };
        writeln!(
            text,
            "  {kind} '{}': ONNX {:?} → device {:?}{note}",
            info.name, info.onnx_shape, info.device_shape
        )?;
    }
    if let Some((s, zp)) = conv.input_quant {
        writeln!(text, "  int8 input: scale {s}, zero point {zp}")?;
    }
    if let Some(a) = conv.agreement {
        writeln!(
            text,
            "  int8 top-1 agreement with f32 on {} held-out calibration samples: {}/{} = {:.1}%",
            a.total,
            a.agree,
            a.total,
            100.0 * a.ratio()
        )?;
    }
    crate::emit(&text)
}

/// Calibration samples (float32 or float16 NPY, `[N, dims…]` where
/// `[1, dims…]` is the model input's shape), as f32.
fn read_samples(path: &Path, input_shape: &[usize]) -> anyhow::Result<Vec<f32>> {
    let (shape, array) = npy::read(path)?;
    let sample = &input_shape[1.min(input_shape.len())..];
    let ok = shape
        .split_first()
        .is_some_and(|(_, rest)| rest == sample || rest == input_shape);
    if !ok {
        bail!(
            "{}: shape {shape:?} does not hold samples of the model input {input_shape:?} \
             (expected [N, {}])",
            path.display(),
            sample
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(match array {
        Array::F32(v) => v,
        Array::F16(v) => onnx::f16_to_f32(&v),
        Array::I8(_) => bail!(
            "{}: calibration samples must be float32 or float16",
            path.display()
        ),
    })
}
