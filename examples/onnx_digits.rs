//! A PyTorch model run by edgegrad: the digits CNN of
//! `scripts/onnx_fixtures.py` (trained in PyTorch on
//! `data/digits8x8_train.csv`, exported with `torch.onnx.export` to
//! `tests/fixtures/onnx/digits_cnn.onnx`) converted by
//! `edgegrad::import::onnx` to f32 and to int8 (post-training
//! quantization calibrated on the training split) and run on the whole test
//! split. Prints both accuracies beside PyTorch's and onnxruntime's
//! (measured by the script into `digits_cnn.json`); `cargo xtask qemu`
//! runs the same int8 model on the emulated Cortex-M4 and Cortex-M3
//! (`onnx_digits_pytorch`).
//!
//! ```text
//! cargo run --release --features std --example onnx_digits
//! ```

#[path = "digits_centroid.rs"]
#[allow(dead_code)]
mod digits_centroid;

use edgegrad::export::ExportDtype;
use edgegrad::import::onnx::{self, ConvertOptions, Converted};
use edgegrad::model::{AlignedModel, Interpreter, Model, OpResolver};
use edgegrad::quant::quantize_value;
use std::error::Error;

/// Correct predictions of `c` on `xs` (ONNX layout) against `ys`.
fn correct(c: &Converted, xs: &[[f32; 64]], ys: &[usize]) -> Result<usize, Box<dyn Error>> {
    let file = AlignedModel::new(&c.bytes);
    let model = Model::from_bytes(file.as_bytes())?;
    let resolver = OpResolver::all();
    let mut arena = vec![0u8; model.arena_size() + 16];
    let mut interp = Interpreter::new(&model, &resolver, &mut arena)?;
    let mut right = 0;
    for (x, &y) in xs.iter().zip(ys) {
        let x = c.input.to_device(x);
        let class = match c.input_quant {
            Some((scale, zp)) => {
                for (d, &v) in interp.input_mut::<i8>(0)?.iter_mut().zip(&x) {
                    *d = quantize_value(v, scale, zp);
                }
                interp.invoke()?;
                digits_centroid::argmax(interp.output::<i8>(0)?)
            }
            None => {
                interp.input_mut::<f32>(0)?.copy_from_slice(&x);
                interp.invoke()?;
                digits_centroid::argmax(interp.output::<f32>(0)?)
            }
        };
        right += usize::from(class == y);
    }
    Ok(right)
}

fn main() -> Result<(), Box<dyn Error>> {
    let root = env!("CARGO_MANIFEST_DIR");
    let bytes = std::fs::read(format!("{root}/tests/fixtures/onnx/digits_cnn.onnx"))?;
    let (train, _) = digits_centroid::read_digits(&format!("{root}/data/digits8x8_train.csv"))?;
    let (xs, ys) = digits_centroid::read_digits(&format!("{root}/data/digits8x8_test.csv"))?;
    let calibration: Vec<f32> = train.iter().flatten().copied().collect();
    let f32_model = onnx::convert(&bytes, None, &ConvertOptions::new(ExportDtype::F32))?;
    let int8_model = onnx::convert(
        &bytes,
        Some(&calibration),
        &ConvertOptions::new(ExportDtype::Int8),
    )?;
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(format!(
        "{root}/tests/fixtures/onnx/digits_cnn.json"
    ))?)?;
    let n = ys.len();
    let pct = |c: usize| 100.0 * c as f64 / n as f64;
    println!(
        "int8 model: {} bytes, arena {} bytes, {} ops",
        int8_model.bytes.len(),
        int8_model.plan.arena_size,
        int8_model.ops
    );
    for (who, key) in [
        ("PyTorch f32", "torch_test_accuracy"),
        ("onnxruntime f32", "onnxruntime_test_accuracy"),
    ] {
        let a = report[key].as_f64().unwrap_or(f64::NAN);
        println!("{who:<22} {:6.2}%", 100.0 * a);
    }
    let f = correct(&f32_model, &xs, &ys)?;
    let q = correct(&int8_model, &xs, &ys)?;
    println!("{:<22} {:6.2}%  ({f}/{n})", "edgegrad f32 (host)", pct(f));
    println!("{:<22} {:6.2}%  ({q}/{n})", "edgegrad int8 (host)", pct(q));
    Ok(())
}
