//! The training loop: convergence, validation and history, early stopping,
//! NaN/inf detection naming the step and parameter, checkpoints (atomic,
//! resumable, clear errors on mismatch), plots.
#![cfg(feature = "std")]

use std::any::Any;

use edgegrad::autograd::{manual_seed, Tensor};
use edgegrad::data::{DataLoader, RandomShift, Target, VecDataset};
use edgegrad::nn::*;
use edgegrad::optim::{Adam, Optimizer, Sgd, StepLr};
use edgegrad::train::*;

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("edgegrad-fit-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

/// Two Gaussian blobs per class in 2-D, 3 classes.
fn blobs(n: usize, seed: u64) -> VecDataset {
    let mut rng = edgegrad::autograd::Rng::seed_from(seed);
    let centers = [(-2.0, 0.0), (2.0, 0.0), (0.0, 2.5)];
    let mut x = Vec::new();
    let mut y = Vec::new();
    for i in 0..n {
        let c = i % 3;
        x.push(centers[c].0 + 0.5 * rng.normal());
        x.push(centers[c].1 + 0.5 * rng.normal());
        y.push(c);
    }
    VecDataset::classification(x, &[2], &y)
}

fn mlp() -> Sequential {
    Sequential::new()
        .add(Linear::new(2, 16))
        .add(Tanh)
        .add(Linear::new(16, 3))
}

#[test]
fn fit_classifies_blobs_and_records_history() {
    manual_seed(1);
    let (train, val) = (blobs(300, 1), blobs(90, 2));
    let mut model = mlp();
    let mut opt = Adam::new(model.named_parameters(), 0.05);
    let cfg = FitConfig::new(10, 32)
        .seed(1)
        .progress(false)
        .metrics(&[Metric::Accuracy, Metric::TopK(2)])
        .schedule(StepLr {
            step_size: 5,
            gamma: 0.5,
        });
    let h = fit(
        &mut model,
        &mut opt,
        Loss::CROSS_ENTROPY,
        &train,
        Some(&val),
        &cfg,
    )
    .unwrap();
    assert_eq!(h.epochs.len(), 10);
    assert!(h.loss()[9] < h.loss()[0]);
    assert!(*h.val_metric("accuracy").last().unwrap() > 0.95);
    assert!(h.metric("top2").iter().all(|&v| v >= 0.5));
    assert_eq!((h.epochs[4].lr, h.epochs[5].lr), (0.05, 0.025));
    let names: Vec<String> = h.series().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "loss",
            "val_loss",
            "accuracy",
            "top2",
            "val_accuracy",
            "val_top2",
            "lr"
        ]
    );
    let (l, m) = evaluate(
        &mut model,
        Loss::CROSS_ENTROPY,
        &val,
        64,
        &[Metric::Accuracy],
    )
    .unwrap();
    assert_eq!(l, h.val_loss()[9]);
    assert_eq!(m[0].1, h.val_metric("accuracy")[9]);
    let out = predict(&mut model, &val, 64);
    assert_eq!(out.shape(), [90, 3]);
    let mut cm = ConfusionMatrix::new(3);
    cm.add_logits(&out, &val.labels());
    assert_eq!(cm.accuracy(), m[0].1);
    assert!(cm.to_string().contains("actual\\pred"));
    assert!(model.is_training(), "evaluate restores training mode");
    let png = tmp("history.png");
    h.plot(&png).unwrap();
    assert_eq!(&std::fs::read(&png).unwrap()[..8], b"\x89PNG\r\n\x1a\n");
}

#[test]
fn fit_regression_with_mse_and_augmenting_loader() {
    manual_seed(2);
    // y = 2·x0 − x1 + 0.5
    let xs: Vec<f32> = (0..200)
        .map(|i| ((i * 37) % 100) as f32 / 50.0 - 1.0)
        .collect();
    let targets = xs
        .chunks(2)
        .map(|c| Target::Values(vec![2.0 * c[0] - c[1] + 0.5]))
        .collect();
    let ds = VecDataset::new(xs, &[2], targets);
    let mut model = Sequential::new().add(Linear::new(2, 1));
    let mut opt = Sgd::with_momentum(model.named_parameters(), 0.1, 0.9);
    let cfg = FitConfig::new(30, 10).progress(false).metrics(&[]);
    let h = fit(&mut model, &mut opt, Loss::Mse, &ds, None, &cfg).unwrap();
    assert!(*h.loss().last().unwrap() < 1e-4, "{:?}", h.loss());
    let w = model.layer::<Linear>(0).unwrap().weight.to_vec();
    assert!(
        (w[0] - 2.0).abs() < 0.01 && (w[1] + 1.0).abs() < 0.01,
        "{w:?}"
    );
    // A caller-built loader with a transform, and other losses on value targets.
    let mut loader = DataLoader::new(&ds, 10).shuffle(true).seed(1).map(
        |x: &mut [f32], _: &[usize], _: &mut edgegrad::autograd::Rng| {
            x.iter_mut().for_each(|v| *v *= 1.0)
        },
    );
    for loss in [Loss::L1, Loss::Huber(1.0)] {
        fit_loader(
            &mut model,
            &mut opt,
            loss,
            &mut loader,
            Some(&ds),
            &FitConfig::new(1, 10).progress(false).metrics(&[]),
        )
        .unwrap();
    }
    // Wrong target kind is an error, not a panic.
    let e = fit(&mut model, &mut opt, Loss::CROSS_ENTROPY, &ds, None, &cfg).unwrap_err();
    assert!(matches!(e, TrainError::InvalidArgument(_)), "{e}");
    let _ = RandomShift { max: 1 };
}

#[test]
fn early_stopping_restores_the_best_weights() {
    manual_seed(3);
    let (train, val) = (blobs(60, 3), blobs(30, 4));
    let mut model = mlp();
    // Improvements below min_delta do not count: training stops once it plateaus.
    let mut opt = Sgd::new(model.named_parameters(), 0.5);
    let es = EarlyStopping {
        monitor: Monitor::ValLoss,
        patience: 2,
        min_delta: 0.05,
        restore_best: true,
    };
    let cfg = FitConfig::new(50, 8)
        .seed(3)
        .progress(false)
        .early_stopping(es);
    let h = fit(
        &mut model,
        &mut opt,
        Loss::CROSS_ENTROPY,
        &train,
        Some(&val),
        &cfg,
    )
    .unwrap();
    assert!(
        h.epochs.len() < 50,
        "stopped after {} epochs",
        h.epochs.len()
    );
    let best = h.best_epoch.unwrap();
    let best_loss = h.epochs[best - 1].val_loss.unwrap();
    assert!(
        h.epochs.len() >= best + 2,
        "stopped {} epochs after the best",
        h.epochs.len() - best
    );
    let (l, _) = evaluate(&mut model, Loss::CROSS_ENTROPY, &val, 8, &[]).unwrap();
    assert!(
        (l - best_loss).abs() < 1e-5,
        "restored weights give val loss {l}, best was {best_loss}"
    );
}

#[test]
fn nan_loss_stops_with_the_step() {
    manual_seed(4);
    let mut ds = blobs(40, 5);
    ds.inputs_mut()[2 * 20] = f32::NAN; // example 20 → batch 2 (0-based) at batch size 8
    let mut model = mlp();
    let mut opt = Sgd::new(model.named_parameters(), 0.1);
    let cfg = FitConfig::new(3, 8).progress(false);
    let mut cfg = cfg;
    cfg.shuffle = false;
    let e = fit(&mut model, &mut opt, Loss::CROSS_ENTROPY, &ds, None, &cfg).unwrap_err();
    assert!(
        matches!(
            e,
            TrainError::NonFiniteLoss {
                epoch: 0,
                step: 2,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("step 2"));
}

/// `y = √|x·w|`: its gradient is infinite where `x·w = 0`.
struct SqrtModel {
    w: Tensor,
}

impl Module for SqrtModel {
    fn forward(&self, x: &Tensor) -> Tensor {
        x.linear(&self.w, None).abs().sqrt()
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        vec![("head.weight".into(), self.w.clone())]
    }
    fn describe(&self) -> String {
        "SqrtModel".into()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[test]
fn infinite_gradient_names_the_parameter() {
    let ds = VecDataset::new(
        vec![1.0, 2.0],
        &[1],
        vec![Target::Values(vec![1.0]), Target::Values(vec![1.0])],
    );
    let mut model = SqrtModel {
        w: Tensor::zeros(&[1, 1]).requires_grad_(true),
    };
    let mut opt = Sgd::new(model.named_parameters(), 0.1);
    let e = fit(
        &mut model,
        &mut opt,
        Loss::Mse,
        &ds,
        None,
        &FitConfig::new(1, 2).progress(false).metrics(&[]),
    )
    .unwrap_err();
    assert!(
        matches!(&e, TrainError::NonFiniteGradient { step: 0, parameter, .. } if parameter == "head.weight"),
        "{e}"
    );
    assert!(e.to_string().contains("`head.weight`"));
}

fn cnn() -> Sequential {
    Sequential::new()
        .add(Conv2d::new(1, 2, 3).padding(Padding::Same))
        .add(BatchNorm2d::new(2))
        .add(ReLU)
        .add(Flatten)
        .add(Linear::new(2 * 4 * 4, 3))
}

fn images(n: usize) -> VecDataset {
    let mut rng = edgegrad::autograd::Rng::seed_from(9);
    VecDataset::classification(
        (0..n * 16).map(|_| rng.uniform()).collect(),
        &[4, 4, 1],
        &(0..n).map(|i| i % 3).collect::<Vec<_>>(),
    )
}

#[test]
fn checkpoint_resumes_training_exactly() {
    let ds = images(24);
    let cfg = FitConfig::new(1, 8).seed(5).progress(false);
    let dir = tmp("resume");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ckpt.safetensors");
    // Run A: two epochs straight.
    manual_seed(6);
    let mut a = cnn();
    let mut oa = Adam::new(a.named_parameters(), 0.01);
    fit(
        &mut a,
        &mut oa,
        Loss::CROSS_ENTROPY,
        &ds,
        None,
        &cfg.clone().checkpoint(&path),
    )
    .unwrap();
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left behind");
    fit(
        &mut a,
        &mut oa,
        Loss::CROSS_ENTROPY,
        &ds,
        None,
        &cfg.clone().seed(77),
    )
    .unwrap();
    // Run B: a fresh model and optimizer restored from the checkpoint after epoch 1.
    manual_seed(123);
    let mut b = cnn();
    let mut ob = Adam::new(b.named_parameters(), 0.01);
    load_checkpoint(&path, &b, Some(&mut ob)).unwrap();
    fit(
        &mut b,
        &mut ob,
        Loss::CROSS_ENTROPY,
        &ds,
        None,
        &cfg.clone().seed(77),
    )
    .unwrap();
    let bits = |m: &Sequential| -> Vec<u32> {
        m.named_parameters()
            .iter()
            .chain(m.named_buffers().iter())
            .flat_map(|(_, t)| t.to_vec())
            .map(f32::to_bits)
            .collect()
    };
    assert_eq!(bits(&a), bits(&b));
    // Names follow PyTorch's state_dict convention; optimizer state under optim.
    let bytes = std::fs::read(&path).unwrap();
    let text = String::from_utf8_lossy(&bytes[..2000.min(bytes.len())]);
    for n in [
        "\"0.weight\"",
        "\"1.running_var\"",
        "\"optim.4.bias.exp_avg_sq\"",
        "\"layout\"",
    ] {
        assert!(text.contains(n), "{n} missing from header");
    }
}

#[test]
fn checkpoint_mismatch_names_the_tensors() {
    let path = tmp("small.safetensors");
    manual_seed(7);
    let m = cnn();
    save_checkpoint(&path, &m, None).unwrap();
    // Different shapes and names.
    let other = Sequential::new()
        .add(Conv2d::new(1, 3, 3))
        .add(BatchNorm2d::new(3))
        .add(Linear::new(4, 3));
    let before = other.parameters()[0].to_vec();
    let e = load_checkpoint(&path, &other, None).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("0.weight: expected shape [3, 3, 3, 1], file has [2, 3, 3, 1]"),
        "{msg}"
    );
    assert!(msg.contains("missing: 2.weight, 2.bias"), "{msg}");
    assert!(msg.contains("unexpected: 4.bias, 4.weight"), "{msg}");
    assert!(
        msg.contains("1.running_mean: expected shape [3], file has [2]"),
        "{msg}"
    );
    assert_eq!(
        other.parameters()[0].to_vec(),
        before,
        "nothing loaded on error"
    );
    // Optimizer state requested but absent.
    let mut opt = Adam::new(m.named_parameters(), 0.01);
    let e = load_checkpoint(&path, &m, Some(&mut opt))
        .unwrap_err()
        .to_string();
    assert!(e.contains("0.weight.exp_avg"), "{e}");
    // Not a safetensors file; missing file.
    std::fs::write(&path, b"garbage").unwrap();
    assert!(matches!(
        load_checkpoint(&path, &m, None),
        Err(TrainError::Checkpoint { .. })
    ));
    assert!(matches!(
        load_checkpoint(tmp("nope.safetensors"), &m, None),
        Err(TrainError::Io { .. })
    ));
    let _ = opt.lr();
}

#[test]
fn metrics_by_hand() {
    let logits = Tensor::from_vec(vec![0.1, 0.7, 0.2, 0.5, 0.3, 0.2, 0.2, 0.2, 0.6], &[3, 3]);
    assert!((accuracy(&logits, &[1, 1, 2]) - 2.0 / 3.0).abs() < 1e-6);
    assert_eq!(top_k_accuracy(&logits, &[2, 1, 0], 2), 1.0); // a tie goes to the lower class
    assert_eq!(top_k_accuracy(&logits, &[0, 2, 1], 2), 0.0);
    assert_eq!(top_k_accuracy(&logits, &[0, 2, 1], 3), 1.0);
    let mut cm = ConfusionMatrix::new(3);
    cm.add_logits(&logits, &[1, 1, 2]);
    assert_eq!((cm.get(1, 1), cm.get(1, 0), cm.get(2, 2)), (1, 1, 1));
    assert_eq!((cm.recall(1), cm.precision(0)), (0.5, 0.0));
    let mut m = Mean::default();
    m.add(1.0, 3.0);
    m.add(3.0, 1.0);
    assert_eq!(m.value(), 1.5);
}

#[test]
fn per_step_warm_up_and_clipping_in_fit() {
    manual_seed(8);
    let train = blobs(64, 8);
    let mut model = mlp();
    let mut opt = Sgd::new(model.named_parameters(), 0.1);
    let cfg = FitConfig::new(3, 16)
        .progress(false)
        .clip_grad_norm(0.5)
        .schedule_per_step(edgegrad::optim::WarmUp::new(
            8,
            0.0,
            edgegrad::optim::Constant,
        ));
    let h = fit(
        &mut model,
        &mut opt,
        Loss::CROSS_ENTROPY,
        &train,
        None,
        &cfg,
    )
    .unwrap();
    // 4 steps per epoch: epoch starts at steps 0, 4, 8.
    let lrs: Vec<f32> = h.epochs.iter().map(|e| e.lr).collect();
    assert_eq!(lrs, [0.0, 0.05, 0.1]);
    assert_eq!(opt.lr(), 0.1);
}

#[test]
fn fit_refuses_a_fully_frozen_model_and_ignores_class_metrics_for_regression() {
    let ds = blobs(12, 9);
    let mut model = mlp();
    model.freeze();
    let mut opt = Sgd::new(model.named_parameters(), 0.1);
    let e = fit(
        &mut model,
        &mut opt,
        Loss::CROSS_ENTROPY,
        &ds,
        None,
        &FitConfig::new(1, 4).progress(false),
    )
    .unwrap_err();
    assert!(e.to_string().contains("no trainable parameter"), "{e}");
    model.unfreeze();
    let reg = VecDataset::new(
        vec![0.0, 1.0],
        &[1],
        vec![Target::Values(vec![0.0]), Target::Values(vec![1.0])],
    );
    let mut lin = Sequential::new().add(Linear::new(1, 1));
    let mut opt = Sgd::new(lin.named_parameters(), 0.1);
    let h = fit(
        &mut lin,
        &mut opt,
        Loss::Mse,
        &reg,
        Some(&reg),
        &FitConfig::new(1, 2).progress(false),
    )
    .unwrap();
    assert!(h.epochs[0].metrics.is_empty() && h.epochs[0].val_metrics.is_empty());
}
