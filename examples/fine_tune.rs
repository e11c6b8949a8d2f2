//! Transfer learning in a few lines: train the digits CNN on the digits
//! 0–4, save it, then load it into a new model, freeze the convolutional
//! backbone and train only a new head on the digits 5–9.
//!
//! `cargo run --release --features std --example fine_tune`

use edgegrad::autograd::manual_seed;
use edgegrad::data::{read_csv, Dataset, VecDataset};
use edgegrad::nn::{Conv2d, Flatten, Linear, Loss, MaxPool2d, Module, Padding, ReLU, Sequential};
use edgegrad::optim::Adam;
use edgegrad::train::{
    evaluate, fit, load_checkpoint, save_checkpoint, FitConfig, Metric, TrainError,
};

fn load(name: &str, digits: std::ops::Range<usize>) -> Result<VecDataset, TrainError> {
    let path = format!("{}/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let ds = read_csv(path, "label")?
        .with_input_shape(&[8, 8, 1])
        .map_inputs(|p| p / 16.0);
    let keep: Vec<usize> = (0..ds.len())
        .filter(|&i| digits.contains(&ds.labels()[i]))
        .collect();
    Ok(ds.select(&keep))
}

fn cnn() -> Sequential {
    Sequential::new()
        .add(Conv2d::new(1, 16, 3).padding(Padding::Same))
        .add(ReLU)
        .add(Conv2d::new(16, 32, 3).padding(Padding::Same))
        .add(ReLU)
        .add(MaxPool2d::new(2))
        .add(Flatten)
        .add(Linear::new(512, 10))
}

fn main() -> Result<(), TrainError> {
    manual_seed(0);
    let cfg = FitConfig::new(8, 32).seed(0);
    let ckpt = std::env::temp_dir().join("edgegrad_digits_0_4.safetensors");

    // 1. Pre-train on 0–4 and save.
    let mut base = cnn();
    let mut opt = Adam::new(base.named_parameters(), 2e-3);
    fit(
        &mut base,
        &mut opt,
        Loss::CROSS_ENTROPY,
        &load("digits8x8_train.csv", 0..5)?,
        None,
        &cfg,
    )?;
    save_checkpoint(&ckpt, &base, None)?;

    // 2. A new model with the pre-trained backbone, frozen, and a fresh head.
    let mut model = cnn();
    load_checkpoint(&ckpt, &model, None)?;
    model.layers_mut()[6] = Box::new(Linear::new(512, 10));
    model.freeze();
    model.set_frozen_where(false, &|name| name.starts_with("6."));
    println!("{}", model.summary(&[8, 8, 1]));
    let mut opt = Adam::new(model.named_parameters(), 5e-3);
    let (train, test) = (
        load("digits8x8_train.csv", 5..10)?,
        load("digits8x8_test.csv", 5..10)?,
    );
    fit(
        &mut model,
        &mut opt,
        Loss::CROSS_ENTROPY,
        &train,
        None,
        &cfg,
    )?;
    let (_, m) = evaluate(
        &mut model,
        Loss::CROSS_ENTROPY,
        &test,
        256,
        &[Metric::Accuracy],
    )?;
    println!(
        "digits 5–9 with a frozen 0–4 backbone: test accuracy {:.1}%",
        m[0].1 * 100.0
    );
    Ok(())
}
