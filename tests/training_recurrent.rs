//! Recurrent layers: outputs against PyTorch's `nn.RNN`/`nn.GRU`/`nn.LSTM`
//! with the same weights, gradients against finite differences, and a
//! sequence classifier that learns.
#![cfg(feature = "std")]
#![allow(clippy::excessive_precision)] // values as PyTorch printed them

use edgegrad::autograd::{gradcheck, manual_seed, Tensor};
use edgegrad::data::VecDataset;
use edgegrad::nn::*;
use edgegrad::optim::Adam;
use edgegrad::train::{evaluate, fit, FitConfig, Metric};

const N: usize = 2;
const T: usize = 3;
const F: usize = 2;
const H: usize = 3;

/// The weights and input the PyTorch values were computed with:
/// parameter `k` (in `named_parameters` order) holds `0.5·sin(0.37·i + k)`,
/// the input `cos(0.23·i)`.
fn setup(m: &dyn Module) -> Tensor {
    for (k, (_, p)) in m.named_parameters().iter().enumerate() {
        let v: Vec<f32> = (0..p.numel())
            .map(|i| 0.5 * (0.37 * i as f32 + k as f32).sin())
            .collect();
        *p.data_mut() = v;
    }
    Tensor::from_vec(
        (0..N * T * F).map(|i| (0.23 * i as f32).cos()).collect(),
        &[N, T, F],
    )
}

fn assert_matches(m: &dyn Module, want: &[f32]) {
    let names: Vec<String> = m.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    );
    let y = m.forward(&setup(m));
    assert_eq!(y.shape(), [N, T, H]);
    for (i, (a, b)) in y.to_vec().iter().zip(want).enumerate() {
        assert!(
            (a - b).abs() < 2e-6,
            "{} element {i}: {a} vs PyTorch {b}",
            m.describe()
        );
    }
}

#[test]
fn rnn_matches_pytorch() {
    let want = [
        0.60516381,
        0.76519287,
        0.70626891,
        0.92778933,
        0.90130913,
        0.27593148,
        0.9165498,
        0.87100387,
        0.07917824,
        0.47624943,
        0.27457851,
        -0.01062896,
        0.64595062,
        0.21510544,
        -0.48004311,
        0.47595963,
        -0.08146654,
        -0.60954499,
    ];
    assert_matches(&Rnn::new(F, H), &want);
}

#[test]
fn gru_matches_pytorch() {
    let want = [
        -0.40781873,
        -0.59568894,
        -0.52712011,
        -0.56447816,
        -0.77154481,
        -0.36098048,
        -0.67233336,
        -0.80767161,
        -0.31026509,
        -0.38195196,
        -0.41464019,
        -0.37558949,
        -0.43993181,
        -0.39793113,
        -0.3325952,
        -0.2808305,
        -0.21471709,
        -0.29592457,
    ];
    assert_matches(&Gru::new(F, H), &want);
}

#[test]
fn lstm_matches_pytorch() {
    let want = [
        -0.29932308,
        -0.4130787,
        -0.33370003,
        -0.46180469,
        -0.47336003,
        -0.22286621,
        -0.47651252,
        -0.43189219,
        -0.16401455,
        -0.17762351,
        -0.19129626,
        -0.16548114,
        -0.20331903,
        -0.14970681,
        -0.10871733,
        -0.1294989,
        -0.08321489,
        -0.07769026,
    ];
    let m = Lstm::new(F, H);
    assert_matches(&m, &want);
    let last = Lstm::new(F, H).last_only();
    let y = last.forward(&setup(&last));
    assert_eq!(y.shape(), [N, H]);
    assert_eq!(
        y.to_vec()[..3],
        m.forward(&setup(&m)).slice(1, 2, 3).to_vec()[..3]
    );
}

#[test]
fn recurrent_gradients() {
    manual_seed(1);
    let layers: Vec<Box<dyn Module>> = vec![
        Box::new(Rnn::new(F, H)),
        Box::new(Gru::new(F, H)),
        Box::new(Lstm::new(F, H).last_only()),
    ];
    for m in &layers {
        let x = setup(m.as_ref()).requires_grad_(true);
        let mut inputs = vec![x];
        inputs.extend(m.parameters());
        // The layer reads its own parameters; the inputs list makes gradcheck perturb them.
        if let Err(e) = gradcheck(|t| m.forward(&t[0]), &inputs) {
            panic!("{}: {e}", m.describe());
        }
    }
}

#[test]
fn lstm_classifies_sequences() {
    // Class = sign of the mean of the first half minus the second half of a noisy ramp.
    manual_seed(2);
    let mut rng = edgegrad::autograd::Rng::seed_from(3);
    let (n, t) = (96, 8);
    let mut x = Vec::new();
    let mut y = Vec::new();
    for i in 0..n {
        let up = i % 2 == 0;
        for s in 0..t {
            let ramp = s as f32 / t as f32 - 0.5;
            x.push(if up { ramp } else { -ramp } + 0.1 * rng.normal());
        }
        y.push(up as usize);
    }
    let ds = VecDataset::classification(x, &[t, 1], &y);
    let mut model = Sequential::new()
        .add(Lstm::new(1, 8).last_only())
        .add(Linear::new(8, 2));
    let mut opt = Adam::new(model.named_parameters(), 0.05);
    fit(
        &mut model,
        &mut opt,
        Loss::CROSS_ENTROPY,
        &ds,
        None,
        &FitConfig::new(15, 16).seed(1).progress(false),
    )
    .unwrap();
    let (_, m) = evaluate(
        &mut model,
        Loss::CROSS_ENTROPY,
        &ds,
        32,
        &[Metric::Accuracy],
    )
    .unwrap();
    assert!(m[0].1 > 0.95, "accuracy {}", m[0].1);
    assert!(model.summary(&[t, 1]).contains("Lstm(1→8)"));
}
