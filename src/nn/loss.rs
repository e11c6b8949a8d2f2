//! Losses: MSE, L1, Huber, cross-entropy from logits (log-sum-exp stable,
//! integer targets, label smoothing), binary cross-entropy with logits.
//! All reduce by the mean, as PyTorch's defaults do.

use crate::autograd::Tensor;

/// Mean squared error `mean((pred − target)²)`.
pub fn mse_loss(pred: &Tensor, target: &Tensor) -> Tensor {
    pred.sub(target).pow(2.0).mean_all()
}

/// Mean absolute error `mean(|pred − target|)`.
pub fn l1_loss(pred: &Tensor, target: &Tensor) -> Tensor {
    pred.sub(target).abs().mean_all()
}

/// Huber loss (PyTorch's `HuberLoss`): `½d²` where `|d| ≤ δ`, else
/// `δ(|d| − ½δ)`, averaged.
pub fn huber_loss(pred: &Tensor, target: &Tensor, delta: f32) -> Tensor {
    pred.sub(target)
        .unary(
            "huber",
            move |d| {
                if d.abs() <= delta {
                    0.5 * d * d
                } else {
                    delta * (d.abs() - 0.5 * delta)
                }
            },
            move |d, _| d.clamp(-delta, delta),
        )
        .mean_all()
}

/// Cross-entropy between `logits: [n, classes]` and integer `targets`,
/// averaged over the batch, with optional label smoothing `ε`
/// (PyTorch's `CrossEntropyLoss(label_smoothing=ε)`: the target
/// distribution is `(1 − ε)·onehot + ε/classes`).
///
/// Fused and stable: `log p = x − max − log Σ e^(x − max)`; the gradient is
/// `(softmax − q) / n`.
///
/// # Panics
/// If `logits` is not `[n, classes]`, `targets.len() != n`, or a target is
/// out of range.
pub fn cross_entropy(logits: &Tensor, targets: &[usize], label_smoothing: f32) -> Tensor {
    let s = logits.shape();
    assert!(
        s.len() == 2 && s[0] == targets.len(),
        "cross_entropy: logits {s:?} vs {} targets",
        targets.len()
    );
    let (n, c) = (s[0], s[1]);
    let eps = label_smoothing;
    let mut probs = vec![0.0; n * c];
    let mut loss = 0.0f64;
    {
        let x = logits.data();
        for (i, &t) in targets.iter().enumerate() {
            assert!(
                t < c,
                "cross_entropy: target {t} out of range for {c} classes"
            );
            let row = &x[i * c..][..c];
            let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let sum: f32 = row.iter().map(|v| (v - m).exp()).sum();
            let lse = m + sum.ln();
            let mut l = -(1.0 - eps) * (row[t] - lse);
            if eps > 0.0 {
                l -= eps / c as f32 * row.iter().map(|v| v - lse).sum::<f32>();
            }
            loss += l as f64;
            for (p, v) in probs[i * c..][..c].iter_mut().zip(row) {
                *p = (v - lse).exp();
            }
        }
    }
    let targets = targets.to_vec();
    Tensor::from_op(
        "cross_entropy",
        vec![],
        vec![(loss / n as f64) as f32],
        &[logits],
        move |g, _, _| {
            let scale = g[0] / n as f32;
            let mut gx = probs.clone();
            for (i, &t) in targets.iter().enumerate() {
                let row = &mut gx[i * c..][..c];
                for v in row.iter_mut() {
                    *v = (*v - eps / c as f32) * scale;
                }
                row[t] -= (1.0 - eps) * scale;
            }
            vec![Some(gx)]
        },
    )
}

/// Binary cross-entropy on logits (PyTorch's `BCEWithLogitsLoss`), stable
/// for any logit: `mean(max(x, 0) − x·t + log(1 + e^(−|x|)))`.
pub fn bce_with_logits(logits: &Tensor, targets: &Tensor) -> Tensor {
    assert_eq!(
        logits.shape(),
        targets.shape(),
        "bce_with_logits: logits {:?} vs targets {:?}",
        logits.shape(),
        targets.shape()
    );
    let n = logits.numel();
    let t = targets.to_vec();
    let loss: f64 = logits
        .data()
        .iter()
        .zip(&t)
        .map(|(&x, &t)| (x.max(0.0) - x * t + (-x.abs()).exp().ln_1p()) as f64)
        .sum();
    let x = logits.clone();
    Tensor::from_op(
        "bce_with_logits",
        vec![],
        vec![(loss / n as f64) as f32],
        &[logits],
        move |g, _, _| {
            let s = g[0] / n as f32;
            vec![Some(
                x.data()
                    .iter()
                    .zip(&t)
                    .map(|(&x, &t)| (1.0 / (1.0 + (-x).exp()) - t) * s)
                    .collect(),
            )]
        },
    )
}

/// A loss chosen by value, for [`fit`](fn@crate::train::fit).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Loss {
    /// [`cross_entropy`] with label smoothing (0 for none); class targets.
    CrossEntropy {
        /// Label smoothing ε.
        label_smoothing: f32,
    },
    /// [`mse_loss`]; value targets.
    Mse,
    /// [`l1_loss`]; value targets.
    L1,
    /// [`huber_loss`] with δ; value targets.
    Huber(f32),
    /// [`bce_with_logits`]; value targets in `[0, 1]`.
    BceWithLogits,
}

impl Loss {
    /// Cross-entropy without smoothing.
    pub const CROSS_ENTROPY: Loss = Loss::CrossEntropy {
        label_smoothing: 0.0,
    };

    /// Whether targets are class indices.
    pub fn uses_classes(&self) -> bool {
        matches!(self, Loss::CrossEntropy { .. })
    }
}
