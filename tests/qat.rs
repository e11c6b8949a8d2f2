//! Quantization-aware training: the straight-through estimator, the QAT
//! model's simulation of the int8 model, and export from learned ranges.
#![cfg(feature = "std")]

use edgegrad::autograd::{manual_seed, Tensor};
use edgegrad::data::VecDataset;
use edgegrad::export::qat::{fake_quantize, FakeQuant};
use edgegrad::export::{export_sequential, prepare_qat, ExportOptions, ExportedModel};
use edgegrad::model::{AlignedModel, Interpreter, Model, OpResolver};
use edgegrad::nn::{
    BatchNorm2d, Conv2d, Flatten, Linear, Loss, MaxPool2d, Module, Padding, ReLU, Sequential,
};
use edgegrad::optim::Adam;
use edgegrad::quant::quantize_value;
use edgegrad::train::{fit, FitConfig};

#[test]
fn fake_quantize_rounds_to_the_grid_and_passes_gradients_inside_the_range() {
    let x = Tensor::from_vec(vec![-3.0, -0.26, 0.0, 0.51, 0.74, 5.0], &[6]).requires_grad_(true);
    // Range [-1, 1]: scale 2/255, zero point −1 (−0.5 rounded away from 0).
    let y = fake_quantize(&x, -1.0, 1.0);
    let v = y.to_vec();
    let (step, zp) = edgegrad::export::calibrate::quant_params(-1.0, 1.0);
    assert_eq!(zp, -1);
    for (&a, &b) in v.iter().zip(&[-3.0f32, -0.26, 0.0, 0.51, 0.74, 5.0]) {
        let clamped = b.clamp((-128 - zp) as f32 * step, (127 - zp) as f32 * step);
        assert!((a - clamped).abs() <= step / 2.0 + 1e-6, "{a} vs {b}");
        assert!(
            ((a / step).round() - a / step).abs() < 1e-3,
            "{a} not on the grid"
        );
    }
    y.sum(&[0], false).backward();
    assert_eq!(x.grad().unwrap(), vec![0.0, 1.0, 1.0, 1.0, 1.0, 0.0]);
}

#[test]
fn fake_quant_layer_learns_its_range_then_freezes_in_eval() {
    let mut fq = FakeQuant::new();
    assert_eq!(fq.range(), None);
    fq.forward(&Tensor::from_vec(vec![-1.0, 2.0], &[2]));
    assert_eq!(fq.range(), Some((-1.0, 2.0)));
    fq.forward(&Tensor::from_vec(vec![-3.0, 4.0], &[2]));
    let (lo, hi) = fq.range().unwrap();
    assert!(
        (lo + 1.2).abs() < 1e-6 && (hi - 2.2).abs() < 1e-6,
        "{lo} {hi}"
    );
    fq.eval();
    fq.forward(&Tensor::from_vec(vec![-100.0, 100.0], &[2]));
    assert_eq!(fq.range(), Some((lo, hi)));
}

fn run_int8(m: &ExportedModel, x: &[f32]) -> Vec<f32> {
    let file = AlignedModel::new(&m.bytes);
    let model = Model::from_bytes(file.as_bytes()).unwrap();
    let resolver = OpResolver::all();
    let mut arena = vec![0u8; model.arena_size()];
    let mut it = Interpreter::new(&model, &resolver, &mut arena).unwrap();
    let (s, zp) = m.input_quant.unwrap();
    for (d, &v) in it.input_mut::<i8>(0).unwrap().iter_mut().zip(x) {
        *d = quantize_value(v, s, zp);
    }
    it.invoke().unwrap();
    let (os, ozp) = it.output_info(0).unwrap().scale_zp();
    it.output::<i8>(0)
        .unwrap()
        .iter()
        .map(|&q| os * (q as i32 - ozp) as f32)
        .collect()
}

/// Synthetic 6×6×1 images in 3 classes (a bright row, column or diagonal).
fn toy_images(n: usize) -> VecDataset {
    let mut rng = 12345u64;
    let mut next = || {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (rng >> 40) as f32 / (1u64 << 24) as f32
    };
    let mut x = Vec::new();
    let mut y = Vec::new();
    for i in 0..n {
        let class = i % 3;
        for r in 0..6 {
            for c in 0..6 {
                let on = match class {
                    0 => r == 2,
                    1 => c == 3,
                    _ => r == c,
                };
                x.push(if on { 0.8 } else { 0.0 } + 0.3 * next());
            }
        }
        y.push(class);
    }
    VecDataset::classification(x, &[6, 6, 1], &y)
}

#[test]
fn qat_model_simulates_the_int8_model_and_exports_without_calibration_data() {
    manual_seed(7);
    let data = toy_images(120);
    let mut net = Sequential::new()
        .add(Conv2d::new(1, 4, 3).padding(Padding::Same))
        .add(BatchNorm2d::new(4))
        .add(ReLU)
        .add(MaxPool2d::new(2))
        .add(Flatten)
        .add(Linear::new(36, 3));
    let mut opt = Adam::new(net.named_parameters(), 1e-2);
    fit(
        &mut net,
        &mut opt,
        Loss::CROSS_ENTROPY,
        &data,
        None,
        &FitConfig::new(3, 16).seed(1).progress(false),
    )
    .unwrap();

    let mut qat = prepare_qat(&mut net, &[6, 6, 1]).unwrap();
    let mut opt = Adam::new(qat.named_parameters(), 1e-3);
    fit(
        &mut qat,
        &mut opt,
        Loss::CROSS_ENTROPY,
        &data,
        None,
        &FitConfig::new(2, 16).seed(2).progress(false),
    )
    .unwrap();
    qat.eval();

    // Exported from the learned ranges: no calibration data needed.
    let m = export_sequential(&mut qat, &[6, 6, 1], None, &ExportOptions::int8()).unwrap();
    let out_scale = {
        let file = AlignedModel::new(&m.bytes);
        let model = Model::from_bytes(file.as_bytes()).unwrap();
        model.tensor(model.outputs()[0]).unwrap().scale_zp().0
    };
    let x = data.inputs();
    let mut worst = 0f32;
    for s in 0..20 {
        let sample = &x[s * 36..(s + 1) * 36];
        let sim = qat
            .forward(&Tensor::from_vec(sample.to_vec(), &[1, 6, 6, 1]))
            .to_vec();
        for (a, b) in run_int8(&m, sample).iter().zip(&sim) {
            worst = worst.max((a - b).abs());
        }
    }
    // The fake-quantized float model and the integer model agree to a couple of
    // output steps (bias rounding and accumulation order are all that differ).
    assert!(
        worst <= 2.5 * out_scale,
        "worst {worst}, output step {out_scale}"
    );
}
