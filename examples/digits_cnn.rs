//! Trains the digits CNN (the model the exporter quantizes) on the 8×8
//! digits split and reports test accuracy:
//! conv 16@3×3 same + ReLU → conv 32@3×3 same + ReLU → maxpool 2 → flatten
//! → FC 10, softmax cross-entropy, inputs 8×8×1 scaled by 1/16.
//!
//! `cargo run --release --features std --example digits_cnn [epochs] [plot.png] [weights.safetensors]`

use std::time::Instant;

use edgegrad::autograd::manual_seed;
use edgegrad::data::{read_csv, VecDataset};
use edgegrad::nn::{Conv2d, Flatten, Linear, Loss, MaxPool2d, Module, Padding, ReLU, Sequential};
use edgegrad::optim::Adam;
use edgegrad::train::{
    evaluate, fit, predict, save_checkpoint, ConfusionMatrix, FitConfig, Metric, TrainError,
};

fn load(path: &str) -> Result<VecDataset, TrainError> {
    Ok(read_csv(path, "label")?
        .with_input_shape(&[8, 8, 1])
        .map_inputs(|p| p / 16.0))
}

fn main() -> Result<(), TrainError> {
    let args: Vec<String> = std::env::args().collect();
    let epochs = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(15);
    let dir = env!("CARGO_MANIFEST_DIR");
    let train = load(&format!("{dir}/data/digits8x8_train.csv"))?;
    let test = load(&format!("{dir}/data/digits8x8_test.csv"))?;
    manual_seed(0);
    let mut model = Sequential::new()
        .add(Conv2d::new(1, 16, 3).padding(Padding::Same))
        .add(ReLU)
        .add(Conv2d::new(16, 32, 3).padding(Padding::Same))
        .add(ReLU)
        .add(MaxPool2d::new(2))
        .add(Flatten)
        .add(Linear::new(4 * 4 * 32, 10));
    println!("{}", model.summary(&[8, 8, 1]));
    let mut opt = Adam::new(model.named_parameters(), 2e-3);
    let t0 = Instant::now();
    let history = fit(
        &mut model,
        &mut opt,
        Loss::CROSS_ENTROPY,
        &train,
        Some(&test),
        &FitConfig::new(epochs, 32).seed(0),
    )?;
    let secs = t0.elapsed().as_secs_f32();
    let (loss, m) = evaluate(
        &mut model,
        Loss::CROSS_ENTROPY,
        &test,
        256,
        &[Metric::Accuracy],
    )?;
    println!(
        "test loss {loss:.4}, test accuracy {:.2}% after {epochs} epochs in {secs:.2}s",
        m[0].1 * 100.0
    );
    let mut cm = ConfusionMatrix::new(10);
    cm.add_logits(&predict(&mut model, &test, 256), &test.labels());
    println!("{cm}");
    if let Some(p) = args.get(2) {
        history.plot(p)?;
        println!("wrote {p}");
    }
    if let Some(p) = args.get(3) {
        save_checkpoint(p, &model, None)?;
        println!("wrote {p} (safetensors; conv weights OHWI)");
    }
    Ok(())
}
