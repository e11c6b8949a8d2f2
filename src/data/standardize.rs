//! Standardisation: subtract the mean, divide by the standard deviation,
//! with statistics fitted on the training data only.

use super::dataset::VecDataset;
use super::loader::Transform;
use crate::autograd::Rng;

/// Per-feature (or global) mean and standard deviation.
#[derive(Clone, Debug, PartialEq)]
pub struct Standardizer {
    /// Means, one per feature (one value if global).
    pub mean: Vec<f32>,
    /// Standard deviations (population), floored at 1e-8.
    pub std: Vec<f32>,
}

impl Standardizer {
    /// Fits per-feature statistics (`per_feature = false`: one mean and std for all values).
    pub fn fit(ds: &VecDataset, per_feature: bool) -> Self {
        let x = ds.inputs();
        let n = ds.targets().len().max(1);
        let f = if per_feature { x.len() / n } else { 1 };
        let count = (x.len() / f) as f64;
        let mut mean = vec![0.0f64; f];
        let mut sq = vec![0.0f64; f];
        for (i, &v) in x.iter().enumerate() {
            mean[i % f] += v as f64;
            sq[i % f] += (v as f64) * (v as f64);
        }
        let mean: Vec<f64> = mean.iter().map(|m| m / count).collect();
        let std = sq
            .iter()
            .zip(&mean)
            .map(|(s, m)| ((s / count - m * m).max(0.0).sqrt() as f32).max(1e-8))
            .collect();
        Standardizer {
            mean: mean.iter().map(|&m| m as f32).collect(),
            std,
        }
    }

    /// Standardises one input in place.
    pub fn apply_to(&self, x: &mut [f32]) {
        let f = self.mean.len();
        for (i, v) in x.iter_mut().enumerate() {
            *v = (*v - self.mean[i % f]) / self.std[i % f];
        }
    }

    /// Standardises every input of a dataset.
    pub fn transform(&self, ds: &mut VecDataset) {
        let per = ds.inputs().len() / ds.targets().len().max(1);
        ds.inputs_mut()
            .chunks_mut(per.max(1))
            .for_each(|x| self.apply_to(x));
    }
}

impl Transform for Standardizer {
    fn apply(&self, x: &mut [f32], _shape: &[usize], _rng: &mut Rng) {
        self.apply_to(x)
    }
}
