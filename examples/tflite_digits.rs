//! A Keras model run by edgegrad: the digits CNN of
//! `scripts/tflite_fixtures.py --digits` (Conv2D → MaxPool → depthwise →
//! 1×1 conv → global average pool → Dense → softmax, trained in Keras on
//! `data/digits8x8_train.csv`, converted to an int8 `.tflite` by
//! TensorFlow's converter) converted by `edgegrad::import::tflite` and run
//! on the whole test split. Prints edgegrad's int8 accuracy beside
//! TFLite's own (LiteRT and TFLite Micro, measured by the script into
//! `examples/tflite/digits_keras.json`); `cargo xtask qemu` runs the same
//! converted model on the emulated Cortex-M4 and Cortex-M3.
//!
//! ```text
//! cargo run --release --features std --example tflite_digits
//! ```

#[path = "digits_centroid.rs"]
#[allow(dead_code)]
mod digits_centroid;

use edgegrad::model::{AlignedModel, Interpreter, Model, OpResolver};
use edgegrad::quant::quantize_value;
use std::error::Error;

fn main() -> Result<(), Box<dyn Error>> {
    let root = env!("CARGO_MANIFEST_DIR");
    let tflite = std::fs::read(format!("{root}/examples/tflite/digits_keras.tflite"))?;
    let built = edgegrad::import::tflite::convert(&tflite)?;
    let file = AlignedModel::new(&built.bytes);
    let model = Model::from_bytes(file.as_bytes())?;
    let resolver = OpResolver::all();
    let mut arena = vec![0u8; model.arena_size() + 16];
    let mut interp = Interpreter::new(&model, &resolver, &mut arena)?;
    let (scale, zp) = interp.input_info(0)?.scale_zp();
    let (xs, ys) = digits_centroid::read_digits(&format!("{root}/data/digits8x8_test.csv"))?;
    let mut correct = 0;
    for (x, &y) in xs.iter().zip(&ys) {
        for (d, &v) in interp.input_mut::<i8>(0)?.iter_mut().zip(x) {
            *d = quantize_value(v, scale, zp);
        }
        interp.invoke()?;
        if digits_centroid::argmax(interp.output::<i8>(0)?) == y {
            correct += 1;
        }
    }
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(format!(
        "{root}/examples/tflite/digits_keras.json"
    ))?)?;
    println!(
        "converted model: {} bytes, arena {} bytes",
        built.bytes.len(),
        built.plan.arena_size
    );
    println!(
        "Keras f32 accuracy:          {:.4}",
        report["keras_f32_accuracy"].as_f64().unwrap_or(f64::NAN)
    );
    println!(
        "TFLite int8 (LiteRT):        {:.4}",
        report["litert_int8_accuracy"].as_f64().unwrap_or(f64::NAN)
    );
    println!(
        "TFLite int8 (TFLite Micro):  {:.4}",
        report["tflm_int8_accuracy"].as_f64().unwrap_or(f64::NAN)
    );
    println!(
        "edgegrad int8 (host):        {:.4}  ({correct}/{})",
        correct as f64 / ys.len() as f64,
        ys.len()
    );
    Ok(())
}
