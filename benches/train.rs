//! Training throughput on microcontroller-sized models: one epoch of the
//! digits CNN and of a digits MLP at batch 32, and single training steps at
//! batch 1, 8 and 32. Plain timing (no harness dependency): the median of
//! several runs is printed.
//!
//! `cargo bench --features std --bench train`
//!
//! `scripts/bench_pytorch.py` times the same models and steps in PyTorch.

use std::time::Instant;

use edgegrad::autograd::{manual_seed, Tensor};
use edgegrad::data::{read_csv, VecDataset};
use edgegrad::nn::{
    cross_entropy, Conv2d, Flatten, Linear, Loss, MaxPool2d, Module, Padding, ReLU, Sequential,
};
use edgegrad::optim::{Adam, Optimizer};
use edgegrad::train::{fit, FitConfig};

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

fn mlp() -> Sequential {
    Sequential::new()
        .add(Flatten)
        .add(Linear::new(64, 128))
        .add(ReLU)
        .add(Linear::new(128, 64))
        .add(ReLU)
        .add(Linear::new(64, 10))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn epoch_ms(make: fn() -> Sequential, train: &VecDataset, runs: usize) -> f64 {
    manual_seed(0);
    let mut model = make();
    let mut opt = Adam::new(model.named_parameters(), 1e-3);
    let cfg = FitConfig::new(1, 32).seed(0).progress(false).metrics(&[]);
    fit(&mut model, &mut opt, Loss::CROSS_ENTROPY, train, None, &cfg).unwrap(); // warm-up
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                fit(&mut model, &mut opt, Loss::CROSS_ENTROPY, train, None, &cfg).unwrap();
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect(),
    )
}

fn step_us(make: fn() -> Sequential, batch: usize, runs: usize) -> f64 {
    manual_seed(0);
    let model = make();
    let mut opt = Adam::new(model.named_parameters(), 1e-3);
    let x = Tensor::rand_uniform(&[batch, 8, 8, 1], 0.0, 1.0);
    let y: Vec<usize> = (0..batch).map(|i| i % 10).collect();
    let mut step = || {
        opt.zero_grad();
        let loss = cross_entropy(&model.forward(&x), &y, 0.0);
        loss.backward();
        opt.step();
    };
    for _ in 0..20 {
        step();
    }
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                for _ in 0..10 {
                    step();
                }
                t.elapsed().as_secs_f64() * 1e6 / 10.0
            })
            .collect(),
    )
}

fn main() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits8x8_train.csv");
    let train = read_csv(path, "label")
        .unwrap()
        .with_input_shape(&[8, 8, 1])
        .map_inputs(|p| p / 16.0);
    println!("threads: {}", rayon::current_num_threads());
    for (name, make) in [
        ("digits CNN", cnn as fn() -> Sequential),
        ("digits MLP", mlp),
    ] {
        println!(
            "{name}: one epoch (1437 examples, batch 32, Adam): {:.1} ms",
            epoch_ms(make, &train, 7)
        );
        for b in [1, 8, 32] {
            println!(
                "{name}: one training step at batch {b:>2}: {:.1} µs",
                step_us(make, b, 15)
            );
        }
    }
}
