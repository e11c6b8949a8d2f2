//! Layers, losses and initialisers: BatchNorm train vs eval, dropout
//! scaling and eval identity, freezing, summary, shapes, loss values and
//! gradients.
#![cfg(feature = "std")]
#![allow(clippy::cloned_ref_to_slice_refs)]

use edgegrad::autograd::{gradcheck, manual_seed, Rng, Tensor};
use edgegrad::nn::init::fans;
use edgegrad::nn::*;

fn rand(rng: &mut Rng, shape: &[usize]) -> Tensor {
    let n = shape.iter().product();
    Tensor::from_vec((0..n).map(|_| rng.normal()).collect(), shape).requires_grad_(true)
}

fn close(a: f32, b: f32, tol: f32) -> bool {
    (a - b).abs() <= tol * (1.0 + b.abs())
}

#[test]
fn batchnorm_training_uses_batch_statistics_and_updates_running_stats() {
    let mut rng = Rng::seed_from(1);
    let x = rand(&mut rng, &[4, 3, 3, 2])
        .mul_scalar(2.0)
        .add_scalar(5.0);
    let bn = BatchNorm2d::new(2);
    let y = bn.forward(&x);
    let (xd, yd) = (x.to_vec(), y.to_vec());
    let n = 4 * 3 * 3;
    for c in 0..2 {
        let ys: Vec<f32> = yd.iter().skip(c).step_by(2).copied().collect();
        let mean = ys.iter().sum::<f32>() / n as f32;
        let var = ys.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n as f32;
        assert!(
            mean.abs() < 1e-5 && close(var, 1.0, 1e-3),
            "channel {c}: mean {mean}, var {var}"
        );
        let xs: Vec<f64> = xd.iter().skip(c).step_by(2).map(|&v| v as f64).collect();
        let xm = xs.iter().sum::<f64>() / n as f64;
        let xv_unbiased = xs.iter().map(|v| (v - xm).powi(2)).sum::<f64>() / (n - 1) as f64;
        assert!(close(bn.running_mean.data()[c], (0.1 * xm) as f32, 1e-5));
        assert!(close(
            bn.running_var.data()[c],
            (0.9 + 0.1 * xv_unbiased) as f32,
            1e-5
        ));
    }
}

#[test]
fn batchnorm_eval_uses_running_statistics() {
    let mut bn = BatchNorm1d::new(2);
    *bn.running_mean.data_mut() = vec![1.0, -2.0];
    *bn.running_var.data_mut() = vec![4.0, 0.25];
    *bn.weight.data_mut() = vec![2.0, 1.0];
    *bn.bias.data_mut() = vec![0.5, 0.0];
    bn.eval();
    let x = Tensor::from_vec(vec![3.0, -1.0, 1.0, -2.0], &[2, 2]);
    let y = bn.forward(&x).to_vec();
    let e = |x: f32, m: f32, v: f32, w: f32, b: f32| (x - m) / (v + 1e-5f32).sqrt() * w + b;
    let want = [
        e(3.0, 1.0, 4.0, 2.0, 0.5),
        e(-1.0, -2.0, 0.25, 1.0, 0.0),
        e(1.0, 1.0, 4.0, 2.0, 0.5),
        e(-2.0, -2.0, 0.25, 1.0, 0.0),
    ];
    for (a, b) in y.iter().zip(want) {
        assert!(close(*a, b, 1e-6), "{y:?} vs {want:?}");
    }
    // Eval does not touch the running statistics.
    assert_eq!(bn.running_mean.to_vec(), vec![1.0, -2.0]);
    // Back to training: batch statistics again.
    bn.train();
    let y = bn.forward(&x).to_vec();
    assert!(close(y[0] + y[2], 2.0 * 0.5, 1e-4)); // mean of channel 0 is the bias
}

#[test]
fn batchnorm_gradients() {
    let mut rng = Rng::seed_from(2);
    let x = rand(&mut rng, &[3, 2, 3]);
    let bn = BatchNorm1d::new(3);
    *bn.weight.data_mut() = vec![1.5, -0.5, 1.0];
    check(
        |t| bn.forward(&t[0]),
        &[x.clone(), bn.weight.clone(), bn.bias.clone()],
    );
}

fn check(f: impl Fn(&[Tensor]) -> Tensor, inputs: &[Tensor]) {
    if let Err(e) = gradcheck(f, inputs) {
        panic!("{e}");
    }
}

#[test]
fn dropout_scales_in_training_and_is_identity_in_eval() {
    manual_seed(3);
    let mut d = Dropout::new(0.25);
    let x = Tensor::ones(&[10_000]).requires_grad_(true);
    let y = d.forward(&x);
    let yd = y.to_vec();
    let zeros = yd.iter().filter(|&&v| v == 0.0).count() as f32 / 10_000.0;
    assert!((zeros - 0.25).abs() < 0.02, "drop rate {zeros}");
    assert!(yd.iter().all(|&v| v == 0.0 || v == 1.0 / 0.75));
    let mean = yd.iter().sum::<f32>() / 10_000.0;
    assert!((mean - 1.0).abs() < 0.03, "mean {mean}");
    // The gradient is the mask times the scale.
    y.sum_all().backward();
    assert_eq!(x.grad().unwrap(), yd);
    d.eval();
    let z = Tensor::from_vec(vec![1.0, -2.0, 3.0], &[3]);
    assert_eq!(d.forward(&z).to_vec(), vec![1.0, -2.0, 3.0]);
}

fn small_cnn() -> Sequential {
    Sequential::new()
        .add(Conv2d::new(1, 4, 3).padding(Padding::Same))
        .add(BatchNorm2d::new(4))
        .add(ReLU)
        .add(MaxPool2d::new(2))
        .add(Flatten)
        .add(Dropout::new(0.5))
        .add(Linear::new(4 * 4 * 4, 10))
}

#[test]
fn sequential_names_modes_and_downcasting() {
    let mut m = small_cnn();
    let names: Vec<String> = m.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        ["0.weight", "0.bias", "1.weight", "1.bias", "6.weight", "6.bias"]
    );
    let bufs: Vec<String> = m.named_buffers().into_iter().map(|(n, _)| n).collect();
    assert_eq!(bufs, ["1.running_mean", "1.running_var"]);
    assert!(m.layers()[5].is_training());
    m.eval();
    assert!(!m.layers()[5].is_training() && !m.layers()[1].is_training());
    assert!(m.layer::<Conv2d>(0).is_some() && m.layer::<Linear>(0).is_none());
    assert_eq!(m.forward(&Tensor::zeros(&[2, 8, 8, 1])).shape(), [2, 10]);
}

#[test]
fn summary_lists_shapes_params_and_macs() {
    let mut m = small_cnn();
    let s = m.summary(&[8, 8, 1]);
    assert!(s.contains("[-, 8, 8, 4]"), "{s}");
    assert!(s.contains("Total params: 698"), "{s}"); // 40 + 8 + 650
    assert!(s.contains("Total MACs per example: 3,200"), "{s}"); // conv 64·4·9 + bn 256 + fc 64·10
    assert!(m.is_training(), "summary restores the mode");
}

#[test]
fn freezing_and_unfreezing_for_transfer_learning() {
    let m = small_cnn();
    m.freeze();
    assert_eq!(m.num_trainable_parameters(), 0);
    let n = m.set_frozen_where(false, &|name| name.starts_with("6."));
    assert_eq!(n, 2);
    assert_eq!(m.num_trainable_parameters(), 650);
    let y = m.forward(&Tensor::ones(&[2, 8, 8, 1])).sum_all();
    y.backward();
    let grads: Vec<bool> = m.parameters().iter().map(|p| p.grad().is_some()).collect();
    assert_eq!(grads, [false, false, false, false, true, true]);
    m.unfreeze();
    assert_eq!(m.num_trainable_parameters(), m.num_parameters());
}

#[test]
fn layer_shapes() {
    manual_seed(4);
    let x = Tensor::zeros(&[2, 9, 9, 4]);
    let c = Conv2d::new(4, 6, 3).stride(2).padding(Padding::Same);
    assert_eq!(c.forward(&x).shape(), [2, 5, 5, 6]);
    let c = Conv2d::with_options(
        4,
        6,
        [3, 1],
        Conv2dOptions {
            dilation: [2, 1],
            groups: 2,
            bias: false,
            ..Default::default()
        },
    );
    assert_eq!(c.weight.shape(), [6, 3, 1, 2]);
    assert_eq!(c.forward(&x).shape(), [2, 5, 9, 6]);
    let dw = DepthwiseConv2d::with_multiplier(4, 3, 2).padding(Padding::Same);
    assert_eq!(dw.weight().shape(), [8, 3, 3, 1]);
    assert_eq!(dw.weight_1hwc().shape(), [1, 3, 3, 8]);
    assert_eq!(dw.forward(&x).shape(), [2, 9, 9, 8]);
    assert_eq!(MaxPool2d::new(2).forward(&x).shape(), [2, 4, 4, 4]);
    assert_eq!(
        AvgPool2d::new(3)
            .stride(2)
            .padding(Padding::Same)
            .forward(&x)
            .shape(),
        [2, 5, 5, 4]
    );
    assert_eq!(GlobalAvgPool.forward(&x).shape(), [2, 4]);
    let s = Tensor::zeros(&[2, 10, 3]);
    assert_eq!(
        Conv1d::new(3, 5, 3)
            .padding(Padding::Same)
            .forward(&s)
            .shape(),
        [2, 10, 5]
    );
    assert_eq!(
        Conv1d::new(3, 5, 3).stride(2).forward(&s).shape(),
        [2, 4, 5]
    );
    assert_eq!(MaxPool1d::new(2).forward(&s).shape(), [2, 5, 3]);
    assert_eq!(AvgPool1d::new(3).forward(&s).shape(), [2, 3, 3]);
    assert_eq!(GlobalAvgPool.forward(&s).shape(), [2, 3]);
    let e = Embedding::new(7, 4);
    let ids = Tensor::from_vec(vec![0.0, 6.0, 3.0, 3.0], &[2, 2]);
    let out = e.forward(&ids);
    assert_eq!(out.shape(), [2, 2, 4]);
    assert_eq!(out.to_vec()[8..12], e.weight.to_vec()[12..16]);
    let p = PReLU::new(4);
    assert_eq!(
        p.forward(&Tensor::full(&[1, 4], -1.0)).to_vec(),
        vec![-0.25; 4]
    );
    for (l, v) in [
        (&ReLU as &dyn Module, 0.0),
        (&ReLU6, 0.0),
        (&LeakyReLU(0.1), -0.2),
        (&ELU(1.0), (-2f32).exp() - 1.0),
        (&Sigmoid, 1.0 / (1.0 + 2f32.exp())),
        (&Tanh, (-2f32).tanh()),
    ] {
        assert!(
            close(l.forward(&Tensor::scalar(-2.0)).item(), v, 1e-6),
            "{}",
            l.describe()
        );
    }
    assert!(close(
        Softmax::default()
            .forward(&Tensor::from_vec(vec![0.0, 0.0], &[1, 2]))
            .to_vec()[0],
        0.5,
        1e-6
    ));
    assert!(close(
        LogSoftmax::default()
            .forward(&Tensor::from_vec(vec![0.0, 0.0], &[1, 2]))
            .to_vec()[0],
        -(2f32.ln()),
        1e-6
    ));
}

#[test]
fn init_distributions() {
    manual_seed(5);
    assert_eq!(fans(&[16, 3, 3, 8]), (72, 144));
    assert_eq!(fans(&[10, 512]), (512, 10));
    let stats = |t: &Tensor| {
        let d = t.to_vec();
        let m = d.iter().sum::<f32>() / d.len() as f32;
        let v = d.iter().map(|x| (x - m).powi(2)).sum::<f32>() / d.len() as f32;
        (m, v.sqrt(), d.iter().fold(0f32, |a, x| a.max(x.abs())))
    };
    let shape = [256, 3, 3, 32]; // fan_in 288, fan_out 2304
    let (m, s, _) = stats(&Init::KaimingNormal.tensor(&shape));
    assert!(
        m.abs() < 0.01 && close(s, (2.0f32 / 288.0).sqrt(), 0.02),
        "{m} {s}"
    );
    let (_, s, mx) = stats(&Init::KaimingUniform.tensor(&shape));
    assert!(mx <= (6.0f32 / 288.0).sqrt() && close(s, (2.0f32 / 288.0).sqrt(), 0.02));
    let (_, s, _) = stats(&Init::XavierNormal.tensor(&shape));
    assert!(close(s, (2.0f32 / (288.0 + 2304.0)).sqrt(), 0.02));
    let (_, _, mx) = stats(&Init::XavierUniform.tensor(&shape));
    assert!(mx <= (6.0f32 / (288.0 + 2304.0)).sqrt());
    assert_eq!(Init::Zeros.tensor(&[3]).to_vec(), vec![0.0; 3]);
    assert_eq!(Init::Constant(0.5).tensor(&[2]).to_vec(), vec![0.5; 2]);
    // Same seed, same draws.
    manual_seed(9);
    let a = Linear::new(8, 4).weight.to_vec();
    manual_seed(9);
    assert_eq!(a, Linear::new(8, 4).weight.to_vec());
}

#[test]
fn loss_values() {
    let p = Tensor::from_vec(vec![1.0, 2.0, -1.0, 4.0], &[2, 2]);
    let t = Tensor::from_vec(vec![1.5, 0.0, -1.0, 1.0], &[2, 2]);
    assert!(close(
        mse_loss(&p, &t).item(),
        (0.25 + 4.0 + 0.0 + 9.0) / 4.0,
        1e-6
    ));
    assert!(close(
        l1_loss(&p, &t).item(),
        (0.5 + 2.0 + 0.0 + 3.0) / 4.0,
        1e-6
    ));
    // Huber δ=1: 0.125, 1.5, 0, 2.5
    assert!(close(
        huber_loss(&p, &t, 1.0).item(),
        (0.125 + 1.5 + 0.0 + 2.5) / 4.0,
        1e-6
    ));
    // Cross-entropy: −log softmax at the target, averaged.
    let logits = Tensor::from_vec(vec![2.0, 1.0, 0.1, 0.5, 2.5, -1.0], &[2, 3]);
    let lse = |r: [f32; 3]| r.iter().map(|v| v.exp()).sum::<f32>().ln();
    let want = ((lse([2.0, 1.0, 0.1]) - 2.0) + (lse([0.5, 2.5, -1.0]) - 2.5)) / 2.0;
    assert!(close(
        cross_entropy(&logits, &[0, 1], 0.0).item(),
        want,
        1e-6
    ));
    // Label smoothing ε: (1−ε)·CE + ε·mean over classes of −log p.
    let eps = 0.1;
    let mean_nll = |r: [f32; 3]| r.iter().map(|v| lse(r) - v).sum::<f32>() / 3.0;
    let want_s = ((1.0 - eps) * (lse([2.0, 1.0, 0.1]) - 2.0)
        + eps * mean_nll([2.0, 1.0, 0.1])
        + (1.0 - eps) * (lse([0.5, 2.5, -1.0]) - 2.5)
        + eps * mean_nll([0.5, 2.5, -1.0]))
        / 2.0;
    assert!(close(
        cross_entropy(&logits, &[0, 1], eps).item(),
        want_s,
        1e-6
    ));
    // Stable for huge logits.
    let big = Tensor::from_vec(vec![1000.0, -1000.0, 0.0], &[1, 3]);
    assert!(close(cross_entropy(&big, &[1], 0.0).item(), 2000.0, 1e-6));
    let bl = Tensor::from_vec(vec![100.0, -100.0, 0.0], &[3]);
    let bt = Tensor::from_vec(vec![0.0, 1.0, 1.0], &[3]);
    assert!(close(
        bce_with_logits(&bl, &bt).item(),
        (100.0 + 100.0 + 2f32.ln()) / 3.0,
        1e-5
    ));
}

#[test]
fn loss_gradients() {
    let mut rng = Rng::seed_from(6);
    let p = rand(&mut rng, &[3, 4]);
    let t = Tensor::from_vec(
        (0..12).map(|i| (i % 5) as f32 * 0.4 - 0.8).collect(),
        &[3, 4],
    );
    check(|x| mse_loss(&x[0], &t), &[p.clone()]);
    check(|x| l1_loss(&x[0], &t), &[p.clone()]);
    check(|x| huber_loss(&x[0], &t, 0.5), &[p.clone()]);
    check(|x| cross_entropy(&x[0], &[3, 0, 2], 0.0), &[p.clone()]);
    check(|x| cross_entropy(&x[0], &[1, 1, 2], 0.2), &[p.clone()]);
    let bt = Tensor::from_vec((0..12).map(|i| (i % 2) as f32).collect(), &[3, 4]);
    check(|x| bce_with_logits(&x[0], &bt), &[p]);
}

#[test]
#[allow(clippy::excessive_precision)] // values as PyTorch printed them
fn cross_entropy_with_label_smoothing_matches_pytorch() {
    // torch.nn.functional.cross_entropy(logits, [0, 1], label_smoothing=0.1), PyTorch 2.15.
    let logits =
        Tensor::from_vec(vec![2.0, 1.0, 0.1, 0.5, 2.5, -1.0], &[2, 3]).requires_grad_(true);
    let l = cross_entropy(&logits, &[0, 1], 0.1);
    assert!(close(l.item(), 4.251040816e-01, 1e-6));
    l.backward();
    let want = [
        -1.371660829e-01,
        1.045498252e-01,
        3.261628002e-02,
        4.139059782e-02,
        -3.767827153e-02,
        -3.712340258e-03,
    ];
    for (g, w) in logits.grad().unwrap().iter().zip(want) {
        assert!((g - w).abs() < 1e-6, "{g} vs {w}");
    }
}
