//! Train/validation split and k-fold cross-validation, seeded.

use crate::autograd::Rng;

/// Shuffles `0..n` with `seed` and cuts off `round(n · val_fraction)`
/// indices for validation: `(train, validation)`.
pub fn train_val_split(n: usize, val_fraction: f32, seed: u64) -> (Vec<usize>, Vec<usize>) {
    assert!(
        (0.0..=1.0).contains(&val_fraction),
        "val_fraction {val_fraction} not in [0, 1]"
    );
    let mut idx: Vec<usize> = (0..n).collect();
    Rng::seed_from(seed).shuffle(&mut idx);
    let n_val = (n as f32 * val_fraction).round() as usize;
    let val = idx.split_off(n - n_val);
    (idx, val)
}

/// `k` folds of a seeded shuffle of `0..n`: for each fold,
/// `(train indices, validation indices)`; every index is validated exactly
/// once, fold sizes differ by at most one.
///
/// ```
/// use edgegrad::data::{kfold, Dataset, Subset, VecDataset};
/// use edgegrad::nn::{Linear, Loss, Module, Sequential};
/// use edgegrad::optim::Sgd;
/// use edgegrad::train::{evaluate, fit, FitConfig, Metric};
/// let xs: Vec<f32> = (0..40).map(|i| i as f32 / 40.0).collect();
/// let labels: Vec<usize> = (0..40).map(|i| (i >= 20) as usize).collect();
/// let ds = VecDataset::classification(xs, &[1], &labels);
/// let mut scores = Vec::new();
/// for (train_idx, val_idx) in kfold(ds.len(), 4, 0) {
///     let (train, val) = (Subset::new(&ds, train_idx), Subset::new(&ds, val_idx));
///     let mut model = Sequential::new().add(Linear::new(1, 2));
///     let mut opt = Sgd::new(model.named_parameters(), 0.5);
///     fit(&mut model, &mut opt, Loss::CROSS_ENTROPY, &train, None, &FitConfig::new(5, 8).progress(false))?;
///     let (_, m) = evaluate(&mut model, Loss::CROSS_ENTROPY, &val, 16, &[Metric::Accuracy])?;
///     scores.push(m[0].1);
/// }
/// assert_eq!(scores.len(), 4);
/// # Ok::<(), edgegrad::train::TrainError>(())
/// ```
pub fn kfold(n: usize, k: usize, seed: u64) -> Vec<(Vec<usize>, Vec<usize>)> {
    assert!(
        k >= 2 && k <= n,
        "kfold: need 2 ≤ k ≤ n, got k = {k}, n = {n}"
    );
    let mut idx: Vec<usize> = (0..n).collect();
    Rng::seed_from(seed).shuffle(&mut idx);
    (0..k)
        .map(|f| {
            let (lo, hi) = (f * n / k, (f + 1) * n / k);
            let val = idx[lo..hi].to_vec();
            let train = idx[..lo].iter().chain(&idx[hi..]).copied().collect();
            (train, val)
        })
        .collect()
}
