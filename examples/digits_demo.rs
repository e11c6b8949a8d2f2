//! The main job, host half: train the digits CNN, quantize it, export int8,
//! f16 and f32 model files and measure each through the interpreter (the
//! same kernels the device runs) on the whole test split.
//!
//! conv 16@3×3 same + ReLU → conv 32@3×3 same + ReLU → maxpool 2 → flatten
//! → FC 10 (+ softmax in the exported files); inputs 8×8×1, pixels / 16.
//!
//! `cargo run --release --features std --example digits_demo [OUT_DIR]`
//! writes to OUT_DIR (default `target/demo`): `digits.egm` (the int8
//! model), `digits.egi` (the 360 test digits, quantized, with labels) and
//! `digits.expected` (the host interpreter's outputs) for the board
//! firmware (`cargo xtask demo` runs it in QEMU), `digits_f16.egm`,
//! `digits_f32.egm`, and `summary.json` with the host's figures.

#[path = "support/device_fixture.rs"]
mod device_fixture;
#[path = "support/digits_cnn.rs"]
mod digits_cnn;

use edgegrad::data::{Dataset, VecDataset};
use edgegrad::export::{
    export_sequential, prepare_qat, write_atomic, ExportDtype, ExportOptions, ExportedModel,
};
use edgegrad::model::{AlignedModel, Interpreter, Model, OpResolver};
use edgegrad::nn::{Loss, Module};
use edgegrad::optim::Adam;
use edgegrad::quant::quantize_value;
use edgegrad::train::{evaluate, fit, FitConfig, Metric};
use half::f16;
use std::error::Error;
use std::path::PathBuf;
use std::time::Instant;

use device_fixture::argmax;

/// Accuracy of a model file through the interpreter, and every int8
/// output (for the device comparison).
fn host_accuracy(exported: &ExportedModel, test: &VecDataset) -> Result<f64, Box<dyn Error>> {
    let file = AlignedModel::new(&exported.bytes);
    let model = Model::from_bytes(file.as_bytes())?;
    let resolver = OpResolver::all();
    let mut arena = vec![0u8; model.arena_size()];
    let mut interp = Interpreter::new(&model, &resolver, &mut arena)?;
    let labels = test.labels();
    let per = 64;
    let mut correct = 0;
    for (i, &y) in labels.iter().enumerate() {
        let x = &test.inputs()[i * per..(i + 1) * per];
        let pred = match exported.input_quant {
            Some((scale, zp)) => {
                for (d, &v) in interp.input_mut::<i8>(0)?.iter_mut().zip(x) {
                    *d = quantize_value(v, scale, zp);
                }
                interp.invoke()?;
                argmax(interp.output::<i8>(0)?)
            }
            None if interp.input_info(0)?.dtype == edgegrad::tensor::DType::F16 => {
                for (d, &v) in interp.input_mut::<f16>(0)?.iter_mut().zip(x) {
                    *d = f16::from_f32(v);
                }
                interp.invoke()?;
                argmax(interp.output::<f16>(0)?)
            }
            None => {
                interp.input_mut::<f32>(0)?.copy_from_slice(x);
                interp.invoke()?;
                argmax(interp.output::<f32>(0)?)
            }
        };
        correct += (pred == y) as usize;
    }
    Ok(correct as f64 / labels.len() as f64)
}

fn main() -> Result<(), Box<dyn Error>> {
    let root = env!("CARGO_MANIFEST_DIR");
    let out_dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(root).join("target/demo"));
    std::fs::create_dir_all(&out_dir)?;
    let train = digits_cnn::load("train")?;
    let test = digits_cnn::load("test")?;
    let t0 = Instant::now();
    let mut model = digits_cnn::trained(&train, 15)?;
    let train_secs = t0.elapsed().as_secs_f64();
    let (_, m) = evaluate(
        &mut model,
        Loss::CROSS_ENTROPY,
        &test,
        256,
        &[Metric::Accuracy],
    )?;
    let f32_acc = m[0].1 as f64;
    println!(
        "trained the digits CNN in {train_secs:.1} s: f32 test accuracy {:.2}%",
        100.0 * f32_acc
    );

    let opts = ExportOptions::int8().with_softmax();
    let int8 = export_sequential(&mut model, &[8, 8, 1], Some(train.inputs()), &opts)?;
    let f16m = export_sequential(&mut model, &[8, 8, 1], None, &opts.dtype(ExportDtype::F16))?;
    let f32m = export_sequential(&mut model, &[8, 8, 1], None, &opts.dtype(ExportDtype::F32))?;
    println!("\nint8 model:\n{int8}");
    let int8_acc = host_accuracy(&int8, &test)?;

    // Quantization-aware fine-tuning: two epochs with fake-quantized
    // weights and activations, exported from the learned ranges.
    let mut qat = prepare_qat(&mut model, &[8, 8, 1])?;
    let mut qat_opt = Adam::new(qat.named_parameters(), 5e-4);
    fit(
        &mut qat,
        &mut qat_opt,
        Loss::CROSS_ENTROPY,
        &train,
        None,
        &FitConfig::new(2, 32).seed(1).progress(false),
    )?;
    let qat_int8 = export_sequential(&mut qat, &[8, 8, 1], None, &opts)?;
    let qat_acc = host_accuracy(&qat_int8, &test)?;
    let f16_acc = host_accuracy(&f16m, &test)?;
    let f32_file_acc = host_accuracy(&f32m, &test)?;
    println!("accuracy on the {} test digits:", test.len());
    println!("  f32 (trainer)          {:.2}%", 100.0 * f32_acc);
    println!("  f32 model file         {:.2}%", 100.0 * f32_file_acc);
    println!("  f16 model file         {:.2}%", 100.0 * f16_acc);
    println!("  int8 model file        {:.2}%", 100.0 * int8_acc);
    println!("  int8 after QAT         {:.2}%", 100.0 * qat_acc);
    println!("sizes: int8 {} B (arena {} B, lower bound {} B), f16 {} B (arena {} B), f32 {} B (arena {} B)",
        int8.bytes.len(), int8.plan.arena_size, int8.plan.lower_bound, f16m.bytes.len(), f16m.plan.arena_size, f32m.bytes.len(), f32m.plan.arena_size);

    // The device fixture: the int8 model, every test digit quantized with
    // the model's input parameters, and the host's outputs.
    let (scale, zp) = int8
        .input_quant
        .ok_or("the int8 model has no input quantization")?;
    let samples: Vec<u8> = test
        .inputs()
        .iter()
        .map(|&v| quantize_value(v, scale, zp) as u8)
        .collect();
    let labels: Vec<u16> = test.labels().iter().map(|&y| y as u16).collect();
    let file = AlignedModel::new(&int8.bytes);
    let model = Model::from_bytes(file.as_bytes())?;
    let egi = device_fixture::inputs_file(&model, &samples, Some(&labels))?;
    let expected = device_fixture::expected("digits", &model, &egi)?;
    write_atomic(out_dir.join("digits.egm"), &int8.bytes)?;
    write_atomic(out_dir.join("digits.egi"), &egi)?;
    write_atomic(out_dir.join("digits.expected"), expected.as_bytes())?;
    write_atomic(out_dir.join("digits_f16.egm"), &f16m.bytes)?;
    write_atomic(out_dir.join("digits_f32.egm"), &f32m.bytes)?;
    let summary = format!(
        "{{\"f32_accuracy\": {f32_acc}, \"f32_file_accuracy\": {f32_file_acc}, \"int8_host_accuracy\": {int8_acc}, \"f16_host_accuracy\": {f16_acc}, \"int8_qat_host_accuracy\": {qat_acc}, \"model_bytes\": {}, \"inputs_bytes\": {}, \"arena_bytes\": {}, \"arena_lower_bound\": {}, \"macs\": {}, \"train_seconds\": {train_secs}}}\n",
        int8.bytes.len(), egi.len(), int8.plan.arena_size, int8.plan.lower_bound, int8.macs()
    );
    write_atomic(out_dir.join("summary.json"), summary.as_bytes())?;
    println!("wrote {}", out_dir.display());
    Ok(())
}
