//! A real model with no training loop: a nearest-centroid classifier for
//! the 8×8 digits, written as one int8 fully connected layer + softmax,
//! exported with `ModelBuilder` and run through the interpreter on the
//! whole test split.
//!
//! For class centroids μ_c, `argmin_c |x − μ_c|²` equals
//! `argmax_c (μ_c · x − ½|μ_c|²)`: a linear layer with weights μ_c and
//! biases −½|μ_c|².
//!
//! `cargo run --release --features std --example digits_centroid`

use edgegrad::export::{BuiltModel, ModelBuilder, Quant};
use edgegrad::model::{AlignedModel, Interpreter, Model, OpResolver};
use edgegrad::quant::{quantize_value, Activation};
use edgegrad::tensor::DType;
use std::error::Error;

/// Images (pixels scaled to [0, 1]) and their labels.
pub type Digits = (Vec<[f32; 64]>, Vec<usize>);

pub fn read_digits(path: &str) -> Result<Digits, Box<dyn Error>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with('p'))
    {
        let v: Vec<f32> = line
            .split(',')
            .map(|f| f.trim().parse::<f32>())
            .collect::<Result<_, _>>()?;
        if v.len() != 65 {
            return Err(format!("{path}: a row has {} columns, expected 65", v.len()).into());
        }
        let mut x = [0f32; 64];
        for (d, s) in x.iter_mut().zip(&v) {
            *d = s / 16.0;
        }
        xs.push(x);
        ys.push(v[64] as usize);
    }
    Ok((xs, ys))
}

pub fn argmax<T: PartialOrd + Copy>(v: &[T]) -> usize {
    (0..v.len()).fold(0, |best, i| if v[i] > v[best] { i } else { best })
}

/// The classifier: centroids, the equivalent linear layer in f32, and its
/// int8 model file with the input's quantization.
pub struct Centroids {
    /// Class centroids.
    pub mu: [[f32; 64]; 10],
    /// Biases −½|μ_c|².
    pub bias: Vec<f32>,
    /// The int8 model file.
    pub built: BuiltModel,
    /// Input scale and zero point.
    pub input_quant: (f32, i32),
}

/// Fits the centroids on the training split and builds the int8 model.
pub fn centroid_model(
    train_x: &[[f32; 64]],
    train_y: &[usize],
) -> Result<Centroids, Box<dyn Error>> {
    // Centroids and the equivalent linear layer, in f32.
    let mut mu = [[0f32; 64]; 10];
    let mut count = [0f32; 10];
    for (x, &y) in train_x.iter().zip(train_y) {
        for (m, v) in mu[y].iter_mut().zip(x) {
            *m += v;
        }
        count[y] += 1.0;
    }
    for (m, n) in mu.iter_mut().zip(count) {
        m.iter_mut().for_each(|v| *v /= n);
    }
    let bias: Vec<f32> = mu
        .iter()
        .map(|m| -0.5 * m.iter().map(|v| v * v).sum::<f32>())
        .collect();
    let scores = |x: &[f32; 64]| -> Vec<f32> {
        (0..10)
            .map(|c| bias[c] + mu[c].iter().zip(x).map(|(a, b)| a * b).sum::<f32>())
            .collect()
    };

    // Quantize: input [0, 1] → int8, symmetric per-class weights, int32
    // bias, output range calibrated on the training set.
    let (in_scale, in_zp) = (1.0 / 255.0, -128);
    let w_scales: Vec<f32> = mu
        .iter()
        .map(|m| m.iter().fold(0f32, |a, v| a.max(v.abs())) / 127.0)
        .collect();
    let weights: Vec<i8> = (0..10)
        .flat_map(|c| {
            let s = w_scales[c];
            mu[c]
                .iter()
                .map(move |&v| (v / s).round().clamp(-127.0, 127.0) as i8)
        })
        .collect();
    let qbias: Vec<i32> = (0..10)
        .map(|c| (bias[c] / (in_scale * w_scales[c])).round() as i32)
        .collect();
    let (lo, hi) = train_x
        .iter()
        .flat_map(scores)
        .fold((0f32, 0f32), |(lo, hi), s| (lo.min(s), hi.max(s)));
    let out_scale = (hi - lo) / 255.0;
    let out_zp = (-128.0 - lo / out_scale).round() as i32;

    let mut b = ModelBuilder::new();
    let x = b.input(
        DType::I8,
        &[1, 64],
        Some(Quant::per_tensor(in_scale, in_zp)),
    )?;
    let w = b.constant(
        &[10, 64],
        &weights,
        Quant::PerChannel {
            scales: w_scales.clone(),
            axis: 0,
        },
    )?;
    let bias_t = b.constant(&[10], &qbias, Quant::None)?;
    let logits = b.fully_connected(
        x,
        w,
        Some(bias_t),
        Activation::None,
        Some(Quant::per_tensor(out_scale, out_zp)),
    )?;
    let probs = b.softmax(logits, 1.0)?;
    b.output(probs);
    let built = b.build()?;
    Ok(Centroids {
        mu,
        bias,
        built,
        input_quant: (in_scale, in_zp),
    })
}

fn main() -> Result<(), Box<dyn Error>> {
    let root = env!("CARGO_MANIFEST_DIR");
    let (train_x, train_y) = read_digits(&format!("{root}/data/digits8x8_train.csv"))?;
    let (test_x, test_y) = read_digits(&format!("{root}/data/digits8x8_test.csv"))?;
    let Centroids {
        mu,
        bias,
        built,
        input_quant: (in_scale, in_zp),
    } = centroid_model(&train_x, &train_y)?;
    let scores = |x: &[f32; 64]| -> Vec<f32> {
        (0..10)
            .map(|c| bias[c] + mu[c].iter().zip(x).map(|(a, b)| a * b).sum::<f32>())
            .collect()
    };
    let f32_correct = test_x
        .iter()
        .zip(&test_y)
        .filter(|(x, &y)| argmax(&scores(x)) == y)
        .count();

    // Run it exactly as a device would.
    let file = AlignedModel::new(&built.bytes);
    let model = Model::from_bytes(file.as_bytes())?;
    let resolver = OpResolver::new().add_fully_connected_s8().add_softmax_s8();
    let mut arena = vec![0u8; model.arena_size()];
    let mut interp = Interpreter::new(&model, &resolver, &mut arena)?;
    let mut int8_correct = 0;
    for (i, (x, &y)) in test_x.iter().zip(&test_y).enumerate() {
        for (d, &v) in interp.input_mut::<i8>(0)?.iter_mut().zip(x) {
            *d = quantize_value(v, in_scale, in_zp);
        }
        interp.invoke()?;
        let out = interp.output::<i8>(0)?;
        let pred = argmax(out);
        int8_correct += (pred == y) as usize;
        if i < 5 {
            let p: Vec<String> = out
                .iter()
                .map(|&q| format!("{:.2}", (q as f32 + 128.0) / 256.0))
                .collect();
            println!(
                "sample {i}: label {y}, predicted {pred}, probabilities [{}]",
                p.join(" ")
            );
        }
    }
    let n = test_y.len() as f32;
    println!();
    println!("nearest-centroid digits classifier, int8 fully connected + softmax");
    println!(
        "  test accuracy   f32 {:.2}%   int8 (interpreter) {:.2}%   ({} samples)",
        100.0 * f32_correct as f32 / n,
        100.0 * int8_correct as f32 / n,
        test_y.len()
    );
    println!(
        "  model file      {} bytes ({} constant)",
        built.bytes.len(),
        model.constant_bytes()
    );
    println!(
        "  arena           {} bytes (lower bound {}, without reuse {})",
        built.plan.arena_size, built.plan.lower_bound, built.plan.linear_size
    );
    Ok(())
}
