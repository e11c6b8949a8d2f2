//! `fit`: the training loop (Keras's `model.fit`), with validation,
//! metrics, a progress bar, early stopping, learning-rate schedules,
//! gradient clipping, NaN/inf detection, checkpoints and a history that
//! plots itself.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use super::checkpoint::save_checkpoint;
use super::error::TrainError;
use super::metrics::{top_k_accuracy, Mean};
use crate::autograd::{no_grad, Tensor};
use crate::data::{DataLoader, Dataset, Targets};
use crate::nn::{bce_with_logits, cross_entropy, huber_loss, l1_loss, mse_loss, Loss, Module};
use crate::optim::{clip_grad_norm, LrSchedule, Optimizer};

/// A metric computed on every batch and averaged over the epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Top-1 accuracy (`"accuracy"`).
    Accuracy,
    /// Top-k accuracy (`"top{k}"`).
    TopK(usize),
}

impl Metric {
    /// The name in the history.
    pub fn name(&self) -> String {
        match self {
            Metric::Accuracy => "accuracy".into(),
            Metric::TopK(k) => format!("top{k}"),
        }
    }

    fn compute(&self, out: &Tensor, targets: &Targets) -> Option<f32> {
        let classes = targets.classes()?;
        Some(match self {
            Metric::Accuracy => top_k_accuracy(out, classes, 1),
            Metric::TopK(k) => top_k_accuracy(out, classes, *k),
        })
    }
}

/// What early stopping watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Monitor {
    /// Validation loss (lower is better); falls back to the training loss
    /// without validation data.
    ValLoss,
    /// Validation accuracy (higher is better).
    ValAccuracy,
    /// Training loss.
    Loss,
}

/// Stop when the monitored value has not improved by `min_delta` for
/// `patience` epochs (Keras's `EarlyStopping`), optionally restoring the
/// best weights.
#[derive(Clone, Copy, Debug)]
pub struct EarlyStopping {
    /// The value watched.
    pub monitor: Monitor,
    /// Epochs without improvement before stopping.
    pub patience: usize,
    /// Smallest change that counts as an improvement.
    pub min_delta: f32,
    /// Put back the parameters of the best epoch at the end.
    pub restore_best: bool,
}

impl EarlyStopping {
    /// Watches the validation loss with `patience`, restoring the best weights.
    pub fn new(patience: usize) -> Self {
        EarlyStopping {
            monitor: Monitor::ValLoss,
            patience,
            min_delta: 0.0,
            restore_best: true,
        }
    }
}

/// Settings of [`fit`]; build with `FitConfig::new(epochs, batch_size)`
/// and the builder methods.
#[derive(Clone)]
pub struct FitConfig {
    /// Passes over the training data.
    pub epochs: usize,
    /// Examples per step.
    pub batch_size: usize,
    /// Reshuffle every epoch.
    pub shuffle: bool,
    /// Seed of the loader's generator (`None`: drawn from the global RNG).
    pub seed: Option<u64>,
    /// Drop the last incomplete batch.
    pub drop_last: bool,
    /// Metrics besides the loss.
    pub metrics: Vec<Metric>,
    /// Show an indicatif progress bar (on a terminal) and one line per
    /// epoch (on stderr otherwise).
    pub progress: bool,
    /// Early stopping.
    pub early_stopping: Option<EarlyStopping>,
    /// Learning rate from the optimizer's initial rate, as a function of
    /// the epoch (or of the optimizer step, see `schedule_per_step`).
    pub schedule: Option<Arc<dyn LrSchedule>>,
    /// Step the schedule every optimizer step instead of every epoch
    /// (linear warm-up is usually counted in steps).
    pub schedule_per_step: bool,
    /// Clip gradients to this global norm before each step.
    pub clip_grad_norm: Option<f32>,
    /// Save a checkpoint (model + optimizer) here after every epoch.
    pub checkpoint: Option<PathBuf>,
    /// Stop with an error when the loss or a gradient is NaN or infinite.
    pub check_finite: bool,
}

impl FitConfig {
    /// `epochs` passes in batches of `batch_size`, shuffled, with accuracy,
    /// a progress bar and NaN checks.
    pub fn new(epochs: usize, batch_size: usize) -> Self {
        FitConfig {
            epochs,
            batch_size,
            shuffle: true,
            seed: None,
            drop_last: false,
            metrics: vec![Metric::Accuracy],
            progress: true,
            early_stopping: None,
            schedule: None,
            schedule_per_step: false,
            clip_grad_norm: None,
            checkpoint: None,
            check_finite: true,
        }
    }

    /// Seeds shuffling.
    pub fn seed(mut self, s: u64) -> Self {
        self.seed = Some(s);
        self
    }
    /// Sets the metrics.
    pub fn metrics(mut self, m: &[Metric]) -> Self {
        self.metrics = m.to_vec();
        self
    }
    /// Shows or hides the progress output.
    pub fn progress(mut self, on: bool) -> Self {
        self.progress = on;
        self
    }
    /// Enables early stopping.
    pub fn early_stopping(mut self, e: EarlyStopping) -> Self {
        self.early_stopping = Some(e);
        self
    }
    /// Sets a learning-rate schedule (stepped per epoch).
    pub fn schedule(mut self, s: impl LrSchedule + 'static) -> Self {
        self.schedule = Some(Arc::new(s));
        self
    }
    /// Sets a learning-rate schedule stepped every optimizer step.
    pub fn schedule_per_step(mut self, s: impl LrSchedule + 'static) -> Self {
        self.schedule = Some(Arc::new(s));
        self.schedule_per_step = true;
        self
    }
    /// Clips gradients by global norm.
    pub fn clip_grad_norm(mut self, max_norm: f32) -> Self {
        self.clip_grad_norm = Some(max_norm);
        self
    }
    /// Checkpoints after every epoch.
    pub fn checkpoint(mut self, path: impl Into<PathBuf>) -> Self {
        self.checkpoint = Some(path.into());
        self
    }
    /// Drops the last incomplete batch.
    pub fn drop_last(mut self, on: bool) -> Self {
        self.drop_last = on;
        self
    }
}

/// One epoch's record.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochLog {
    /// Epoch (1-based).
    pub epoch: usize,
    /// Mean training loss.
    pub loss: f32,
    /// Mean training metrics by name.
    pub metrics: Vec<(String, f32)>,
    /// Validation loss.
    pub val_loss: Option<f32>,
    /// Validation metrics by name.
    pub val_metrics: Vec<(String, f32)>,
    /// Learning rate at the start of the epoch.
    pub lr: f32,
    /// Wall-clock seconds of the epoch (training and validation).
    pub seconds: f32,
}

/// Loss and metrics per epoch (Keras's `History`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// The epochs run.
    pub epochs: Vec<EpochLog>,
    /// The epoch early stopping kept (1-based), if it stopped or restored.
    pub best_epoch: Option<usize>,
}

impl History {
    /// Training loss per epoch.
    pub fn loss(&self) -> Vec<f32> {
        self.epochs.iter().map(|e| e.loss).collect()
    }

    /// Validation loss per epoch (epochs without validation skipped).
    pub fn val_loss(&self) -> Vec<f32> {
        self.epochs.iter().filter_map(|e| e.val_loss).collect()
    }

    /// A training metric per epoch.
    pub fn metric(&self, name: &str) -> Vec<f32> {
        self.epochs
            .iter()
            .filter_map(|e| e.metrics.iter().find(|(n, _)| n == name).map(|p| p.1))
            .collect()
    }

    /// A validation metric per epoch.
    pub fn val_metric(&self, name: &str) -> Vec<f32> {
        self.epochs
            .iter()
            .filter_map(|e| e.val_metrics.iter().find(|(n, _)| n == name).map(|p| p.1))
            .collect()
    }

    /// Every curve by name (`loss`, `val_loss`, `accuracy`, `val_accuracy`, `lr`, …).
    pub fn series(&self) -> Vec<(String, Vec<f32>)> {
        let mut v = vec![("loss".to_string(), self.loss())];
        if !self.val_loss().is_empty() {
            v.push(("val_loss".into(), self.val_loss()));
        }
        if let Some(e) = self.epochs.first() {
            for (n, _) in &e.metrics {
                v.push((n.clone(), self.metric(n)));
            }
            for (n, _) in &e.val_metrics {
                v.push((format!("val_{n}"), self.val_metric(n)));
            }
        }
        v.push(("lr".into(), self.epochs.iter().map(|e| e.lr).collect()));
        v
    }

    /// Writes a PNG of the loss and metric curves.
    pub fn plot(&self, path: impl AsRef<Path>) -> Result<(), TrainError> {
        super::plot::plot_history(self, path.as_ref())
    }
}

/// The loss of `out` against `targets`.
///
/// # Panics
/// If the targets' kind does not suit the loss (class indices for
/// cross-entropy, values for the others).
pub fn compute_loss(loss: Loss, out: &Tensor, targets: &Targets) -> Tensor {
    match (loss, targets) {
        (Loss::CrossEntropy { label_smoothing }, Targets::Classes(c)) => cross_entropy(out, c, label_smoothing),
        (Loss::Mse, Targets::Values(t)) => mse_loss(out, t),
        (Loss::L1, Targets::Values(t)) => l1_loss(out, t),
        (Loss::Huber(d), Targets::Values(t)) => huber_loss(out, t, d),
        (Loss::BceWithLogits, Targets::Values(t)) => bce_with_logits(out, t),
        (l, _) => panic!("loss {l:?} does not take these targets (cross-entropy needs class targets, the others value targets)"),
    }
}

fn check_targets(loss: Loss, ds: &dyn Dataset) -> Result<(), TrainError> {
    if ds.is_empty() {
        return Err(TrainError::InvalidArgument("empty dataset".into()));
    }
    let classes = matches!(ds.target(0), crate::data::Target::Class(_));
    if classes != loss.uses_classes() {
        return Err(TrainError::InvalidArgument(format!(
            "loss {loss:?} does not take {} targets",
            if classes { "class" } else { "value" }
        )));
    }
    Ok(())
}

/// Mean loss and metrics of `model` on `ds` (evaluation mode, no graph;
/// the model's previous mode is restored).
pub fn evaluate(
    model: &mut dyn Module,
    loss: Loss,
    ds: &dyn Dataset,
    batch_size: usize,
    metrics: &[Metric],
) -> Result<(f32, Vec<(String, f32)>), TrainError> {
    check_targets(loss, ds)?;
    let was = model.is_training();
    model.eval();
    let mut loader = DataLoader::new(ds, batch_size.max(1));
    let mut l = Mean::default();
    let mut ms = vec![Mean::default(); metrics.len()];
    no_grad(|| {
        for b in loader.iter() {
            let out = model.forward(&b.inputs);
            let n = b.targets.len() as f32;
            l.add(compute_loss(loss, &out, &b.targets).item(), n);
            for (m, acc) in metrics.iter().zip(&mut ms) {
                if let Some(v) = m.compute(&out, &b.targets) {
                    acc.add(v, n);
                }
            }
        }
    });
    model.set_training(was);
    Ok((
        l.value(),
        metrics
            .iter()
            .zip(&ms)
            .map(|(m, a)| (m.name(), a.value()))
            .collect(),
    ))
}

/// Model outputs for every example of `ds`, `[n, ..]` (evaluation mode, no graph).
pub fn predict(model: &mut dyn Module, ds: &dyn Dataset, batch_size: usize) -> Tensor {
    let was = model.is_training();
    model.eval();
    let mut loader = DataLoader::new(ds, batch_size.max(1));
    let outs: Vec<Tensor> = no_grad(|| loader.iter().map(|b| model.forward(&b.inputs)).collect());
    model.set_training(was);
    let refs: Vec<&Tensor> = outs.iter().collect();
    no_grad(|| Tensor::concat(&refs, 0))
}

/// Trains `model` on `train` (Keras's `model.fit`), validating on `val`
/// after every epoch. Batches come from a [`DataLoader`] built from the
/// config; use [`fit_loader`] to supply your own (with augmentations).
pub fn fit(
    model: &mut dyn Module,
    optimizer: &mut dyn Optimizer,
    loss: Loss,
    train: &dyn Dataset,
    val: Option<&dyn Dataset>,
    cfg: &FitConfig,
) -> Result<History, TrainError> {
    if cfg.batch_size == 0 {
        return Err(TrainError::InvalidArgument("batch size 0".into()));
    }
    let mut loader = DataLoader::new(train, cfg.batch_size)
        .shuffle(cfg.shuffle)
        .drop_last(cfg.drop_last);
    if let Some(s) = cfg.seed {
        loader = loader.seed(s);
    }
    fit_loader(model, optimizer, loss, &mut loader, val, cfg)
}

/// [`fit`] with a caller-built loader (its batch size, shuffling and
/// transforms are used; the config's are ignored).
pub fn fit_loader(
    model: &mut dyn Module,
    optimizer: &mut dyn Optimizer,
    loss: Loss,
    loader: &mut DataLoader<'_>,
    val: Option<&dyn Dataset>,
    cfg: &FitConfig,
) -> Result<History, TrainError> {
    check_targets(loss, loader.dataset())?;
    if let Some(v) = val {
        check_targets(loss, v)?;
    }
    let names: Vec<(String, Tensor)> = model.named_parameters();
    let params: Vec<Tensor> = names.iter().map(|(_, t)| t.clone()).collect();
    if !params.iter().any(Tensor::requires_grad) {
        return Err(TrainError::InvalidArgument(
            "the model has no trainable parameter (all frozen?)".into(),
        ));
    }
    // Class metrics only mean something with class targets.
    let metrics: Vec<Metric> = if loss.uses_classes() {
        cfg.metrics.clone()
    } else {
        Vec::new()
    };
    let base_lr = optimizer.lr();
    let mut history = History::default();
    let mut step = 0usize;
    let mut best: Option<(f32, usize, Vec<Vec<f32>>)> = None;
    let mut since_best = 0usize;
    let style = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
        .expect("valid template")
        .progress_chars("=> ");
    for epoch in 0..cfg.epochs {
        let t0 = Instant::now();
        if let Some(s) = &cfg.schedule {
            optimizer.set_lr(s.lr(base_lr, if cfg.schedule_per_step { step } else { epoch }));
        }
        let lr = optimizer.lr();
        model.train();
        let pb = if cfg.progress {
            ProgressBar::new(loader.num_batches() as u64)
        } else {
            ProgressBar::hidden()
        };
        pb.set_style(style.clone());
        pb.set_prefix(format!("Epoch {}/{}", epoch + 1, cfg.epochs));
        let mut l = Mean::default();
        let mut ms = vec![Mean::default(); metrics.len()];
        for b in loader.iter() {
            optimizer.zero_grad();
            let out = model.forward(&b.inputs);
            let lt = compute_loss(loss, &out, &b.targets);
            let lv = lt.item();
            if cfg.check_finite && !lv.is_finite() {
                pb.abandon();
                return Err(TrainError::NonFiniteLoss {
                    epoch,
                    step,
                    value: lv,
                });
            }
            lt.backward();
            if cfg.check_finite {
                for (n, p) in &names {
                    if p.grad_mut()
                        .as_ref()
                        .is_some_and(|g| g.iter().any(|v| !v.is_finite()))
                    {
                        pb.abandon();
                        return Err(TrainError::NonFiniteGradient {
                            epoch,
                            step,
                            parameter: n.clone(),
                        });
                    }
                }
            }
            if let Some(c) = cfg.clip_grad_norm {
                clip_grad_norm(&params, c);
            }
            if let (Some(s), true) = (&cfg.schedule, cfg.schedule_per_step) {
                optimizer.set_lr(s.lr(base_lr, step));
            }
            optimizer.step();
            step += 1;
            let n = b.targets.len() as f32;
            l.add(lv, n);
            for (m, acc) in metrics.iter().zip(&mut ms) {
                if let Some(v) = no_grad(|| m.compute(&out, &b.targets)) {
                    acc.add(v, n);
                }
            }
            pb.inc(1);
            if cfg.progress {
                let mut msg = format!("loss {:.4}", l.value());
                if let (Some(m), Some(a)) = (metrics.first(), ms.first()) {
                    msg += &format!(" {} {:.4}", m.name(), a.value());
                }
                pb.set_message(msg);
            }
        }
        let epoch_metrics: Vec<(String, f32)> = metrics
            .iter()
            .zip(&ms)
            .map(|(m, a)| (m.name(), a.value()))
            .collect();
        let (val_loss, val_metrics) = match val {
            Some(v) => {
                let (vl, vm) = evaluate(model, loss, v, loader.batch_size(), &metrics)?;
                (Some(vl), vm)
            }
            None => (None, Vec::new()),
        };
        let log = EpochLog {
            epoch: epoch + 1,
            loss: l.value(),
            metrics: epoch_metrics,
            val_loss,
            val_metrics,
            lr,
            seconds: t0.elapsed().as_secs_f32(),
        };
        if cfg.progress {
            let mut line = format!("loss {:.4}", log.loss);
            for (n, v) in &log.metrics {
                line += &format!(" - {n} {v:.4}");
            }
            if let Some(vl) = log.val_loss {
                line += &format!(" - val_loss {vl:.4}");
            }
            for (n, v) in &log.val_metrics {
                line += &format!(" - val_{n} {v:.4}");
            }
            line += &format!(" - {:.2}s", log.seconds);
            if pb.is_hidden() {
                // Not a terminal (CI logs, pipes): one plain line per epoch.
                eprintln!("Epoch {}/{}: {line}", epoch + 1, cfg.epochs);
            } else {
                pb.finish_with_message(line);
            }
        }
        history.epochs.push(log);
        if let Some(p) = &cfg.checkpoint {
            save_checkpoint(p, model, Some(&*optimizer))?;
        }
        if let Some(es) = cfg.early_stopping {
            let e = history.epochs.last().unwrap();
            let (value, lower_better) = match es.monitor {
                Monitor::ValLoss => (e.val_loss.unwrap_or(e.loss), true),
                Monitor::Loss => (e.loss, true),
                Monitor::ValAccuracy => (
                    e.val_metrics
                        .iter()
                        .find(|(n, _)| n == "accuracy")
                        .map_or(0.0, |p| p.1),
                    false,
                ),
            };
            let score = if lower_better { -value } else { value };
            let improved = best
                .as_ref()
                .is_none_or(|(b, _, _)| score > *b + es.min_delta);
            if improved {
                let snap = if es.restore_best {
                    params.iter().map(|p| p.to_vec()).collect()
                } else {
                    Vec::new()
                };
                best = Some((score, epoch + 1, snap));
                since_best = 0;
            } else {
                since_best += 1;
                if since_best >= es.patience {
                    break;
                }
            }
        }
    }
    if let (Some(es), Some((_, be, snap))) = (cfg.early_stopping, best) {
        history.best_epoch = Some(be);
        if es.restore_best {
            for (p, s) in params.iter().zip(snap) {
                *p.data_mut() = s;
            }
        }
    }
    Ok(history)
}
