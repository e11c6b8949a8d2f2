//! End to end: the digits CNN the exporter quantizes trains to ≥ 95% test
//! accuracy on the shipped 8×8 digits split, and training is reproducible
//! bit for bit.
#![cfg(feature = "std")]

use std::time::Instant;

use edgegrad::autograd::manual_seed;
use edgegrad::data::{read_csv, VecDataset};
use edgegrad::nn::{Conv2d, Flatten, Linear, Loss, MaxPool2d, Module, Padding, ReLU, Sequential};
use edgegrad::optim::Adam;
use edgegrad::train::{evaluate, fit, FitConfig, Metric};

fn load(name: &str) -> VecDataset {
    let path = format!("{}/data/{name}", env!("CARGO_MANIFEST_DIR"));
    read_csv(&path, "label")
        .expect("digits CSV")
        .with_input_shape(&[8, 8, 1])
        .map_inputs(|p| p / 16.0)
}

/// conv 16@3×3 same + ReLU, conv 32@3×3 same + ReLU, maxpool 2, flatten, FC 10.
fn digits_cnn() -> Sequential {
    Sequential::new()
        .add(Conv2d::new(1, 16, 3).padding(Padding::Same))
        .add(ReLU)
        .add(Conv2d::new(16, 32, 3).padding(Padding::Same))
        .add(ReLU)
        .add(MaxPool2d::new(2))
        .add(Flatten)
        .add(Linear::new(4 * 4 * 32, 10))
}

#[test]
fn digits_cnn_reaches_95_percent_test_accuracy() {
    let (train, test) = (load("digits8x8_train.csv"), load("digits8x8_test.csv"));
    assert_eq!(
        (
            edgegrad::data::Dataset::len(&train),
            edgegrad::data::Dataset::len(&test)
        ),
        (1437, 360)
    );
    manual_seed(0);
    let mut model = digits_cnn();
    let mut opt = Adam::new(model.named_parameters(), 2e-3);
    let t0 = Instant::now();
    let cfg = FitConfig::new(12, 32).seed(0).progress(false);
    let h = fit(
        &mut model,
        &mut opt,
        Loss::CROSS_ENTROPY,
        &train,
        None,
        &cfg,
    )
    .unwrap();
    let secs = t0.elapsed().as_secs_f32();
    let (_, m) = evaluate(
        &mut model,
        Loss::CROSS_ENTROPY,
        &test,
        360,
        &[Metric::Accuracy],
    )
    .unwrap();
    let acc = m[0].1;
    eprintln!(
        "digits CNN: test accuracy {:.2}% in {secs:.2}s ({} epochs, final train loss {:.4})",
        acc * 100.0,
        h.epochs.len(),
        h.loss().last().unwrap()
    );
    assert!(acc >= 0.95, "test accuracy {acc}");
    // The exporter walks typed layers: conv weights come out OHWI.
    let conv = model.layer::<Conv2d>(2).expect("layer 2 is a Conv2d");
    assert_eq!(conv.weight.shape(), [32, 3, 3, 16]);
    assert_eq!(model.layer::<Linear>(6).unwrap().weight.shape(), [10, 512]);
}

#[test]
fn same_seed_gives_bit_identical_weights() {
    let train = load("digits8x8_train.csv").select(&(0..256).collect::<Vec<_>>());
    let run = |seed: u64| -> Vec<Vec<f32>> {
        manual_seed(seed);
        let mut model = digits_cnn();
        let mut opt = Adam::new(model.named_parameters(), 2e-3);
        let cfg = FitConfig::new(2, 32).progress(false); // loader seed drawn from the global RNG
        fit(
            &mut model,
            &mut opt,
            Loss::CROSS_ENTROPY,
            &train,
            None,
            &cfg,
        )
        .unwrap();
        model.parameters().iter().map(|p| p.to_vec()).collect()
    };
    let (a, b, c) = (run(7), run(7), run(8));
    let bits =
        |w: &Vec<Vec<f32>>| -> Vec<u32> { w.iter().flatten().map(|v| v.to_bits()).collect() };
    assert_eq!(bits(&a), bits(&b));
    assert_ne!(bits(&a), bits(&c));
}
