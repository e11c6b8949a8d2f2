//! Training throughput on microcontroller-sized models (criterion): single
//! training steps of the digits CNN and a digits MLP at batch 1, 8 and 32
//! (read each against batch 1 of the same run: throughput is reported in
//! examples per second), and one epoch of the digits training split at
//! batch 32.
//!
//! `cargo bench --features std --bench train`
//!
//! `benches/train_pytorch.py` times the same models and steps in PyTorch.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use edgegrad::autograd::{manual_seed, Tensor};
use edgegrad::data::{read_csv, Dataset, VecDataset};
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

fn digits() -> VecDataset {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits8x8_train.csv");
    read_csv(path, "label")
        .unwrap()
        .with_input_shape(&[8, 8, 1])
        .map_inputs(|p| p / 16.0)
}

/// One training step (forward, cross-entropy, backward, Adam) at each
/// batch size; batch 1 is the baseline the others are read against.
fn steps(c: &mut Criterion) {
    for (name, make) in [("cnn", cnn as fn() -> Sequential), ("mlp", mlp)] {
        let mut group = c.benchmark_group(format!("train_step_{name}"));
        for batch in [1usize, 8, 32] {
            manual_seed(0);
            let model = make();
            let mut opt = Adam::new(model.named_parameters(), 1e-3);
            let x = Tensor::rand_uniform(&[batch, 8, 8, 1], 0.0, 1.0);
            let y: Vec<usize> = (0..batch).map(|i| i % 10).collect();
            group.throughput(Throughput::Elements(batch as u64));
            group.bench_with_input(BenchmarkId::from_parameter(batch), &batch, |b, _| {
                b.iter(|| {
                    opt.zero_grad();
                    let loss = cross_entropy(&model.forward(&x), &y, 0.0);
                    loss.backward();
                    opt.step();
                })
            });
        }
        group.finish();
    }
}

/// One epoch of the digits training split at batch 32.
fn epochs(c: &mut Criterion) {
    let train = digits();
    let mut group = c.benchmark_group("train_epoch");
    group.sample_size(10);
    for (name, make) in [("cnn", cnn as fn() -> Sequential), ("mlp", mlp)] {
        manual_seed(0);
        let mut model = make();
        let mut opt = Adam::new(model.named_parameters(), 1e-3);
        let cfg = FitConfig::new(1, 32).seed(0).progress(false).metrics(&[]);
        group.throughput(Throughput::Elements(train.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                fit(
                    &mut model,
                    &mut opt,
                    Loss::CROSS_ENTROPY,
                    &train,
                    None,
                    &cfg,
                )
                .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, steps, epochs);
criterion_main!(benches);
