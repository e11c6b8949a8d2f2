//! [`DataLoader`]: seeded shuffling, batching, drop-last and a transform step.

use super::dataset::{Dataset, Target, Targets};
use crate::autograd::{with_rng, Rng, Tensor};

/// A batch: inputs `[batch, ..input_shape]` and their targets.
#[derive(Clone, Debug)]
pub struct Batch {
    /// Inputs.
    pub inputs: Tensor,
    /// Targets.
    pub targets: Targets,
}

/// A per-example transform (augmentation, normalisation): edits one input
/// of `shape` in place, drawing randomness from `rng`.
pub trait Transform: Send + Sync {
    /// Transforms one input.
    fn apply(&self, input: &mut [f32], shape: &[usize], rng: &mut Rng);
}

impl<F: Fn(&mut [f32], &[usize], &mut Rng) + Send + Sync> Transform for F {
    fn apply(&self, input: &mut [f32], shape: &[usize], rng: &mut Rng) {
        self(input, shape, rng)
    }
}

/// Iterates over a dataset in batches (PyTorch's `DataLoader`).
///
/// Shuffling and transforms draw from the loader's own generator, seeded
/// by [`seed`](Self::seed) or else from the global one the first time it is
/// needed (a loader that neither shuffles nor transforms never draws, so
/// evaluation does not disturb the global stream): the same seed gives the
/// same batches in the same order, epoch after epoch.
pub struct DataLoader<'a> {
    dataset: &'a dyn Dataset,
    batch_size: usize,
    shuffle: bool,
    drop_last: bool,
    rng: Option<Rng>,
    transforms: Vec<Box<dyn Transform + 'a>>,
}

impl<'a> DataLoader<'a> {
    /// Batches of `batch_size` in dataset order.
    ///
    /// # Panics
    /// If `batch_size` is 0.
    pub fn new(dataset: &'a dyn Dataset, batch_size: usize) -> Self {
        assert!(batch_size > 0, "DataLoader: batch size 0");
        DataLoader {
            dataset,
            batch_size,
            shuffle: false,
            drop_last: false,
            rng: None,
            transforms: Vec::new(),
        }
    }

    /// Reshuffles every epoch.
    pub fn shuffle(mut self, on: bool) -> Self {
        self.shuffle = on;
        self
    }

    /// Seeds the loader's generator.
    pub fn seed(mut self, seed: u64) -> Self {
        self.rng = Some(Rng::seed_from(seed));
        self
    }

    /// Drops the last batch if it is smaller than the batch size.
    pub fn drop_last(mut self, on: bool) -> Self {
        self.drop_last = on;
        self
    }

    /// Adds a transform applied to every example as it is batched.
    pub fn map(mut self, t: impl Transform + 'a) -> Self {
        self.transforms.push(Box::new(t));
        self
    }

    /// The dataset.
    pub fn dataset(&self) -> &'a dyn Dataset {
        self.dataset
    }

    /// The batch size.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Batches per epoch.
    pub fn num_batches(&self) -> usize {
        let n = self.dataset.len();
        if self.drop_last {
            n / self.batch_size
        } else {
            n.div_ceil(self.batch_size)
        }
    }

    /// One epoch of batches (a new shuffle each call).
    pub fn iter(&mut self) -> BatchIter<'_, 'a> {
        let mut order: Vec<usize> = (0..self.dataset.len()).collect();
        let random = self.shuffle || !self.transforms.is_empty();
        let rng = if random {
            let r = self.rng.get_or_insert_with(|| with_rng(|g| g.fork()));
            if self.shuffle {
                r.shuffle(&mut order);
            }
            r.fork()
        } else {
            Rng::seed_from(0)
        };
        BatchIter {
            loader: self,
            order,
            pos: 0,
            rng,
        }
    }
}

/// The batches of one epoch.
pub struct BatchIter<'l, 'a> {
    loader: &'l DataLoader<'a>,
    order: Vec<usize>,
    pos: usize,
    rng: Rng,
}

impl Iterator for BatchIter<'_, '_> {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        let l = self.loader;
        let left = self.order.len() - self.pos;
        if left == 0 || (l.drop_last && left < l.batch_size) {
            return None;
        }
        let idx = &self.order[self.pos..self.pos + left.min(l.batch_size)];
        self.pos += idx.len();
        let shape = l.dataset.input_shape();
        let per: usize = shape.iter().product();
        let mut inputs = vec![0.0; idx.len() * per];
        let mut classes = Vec::new();
        let mut values = Vec::new();
        for (k, &i) in idx.iter().enumerate() {
            let x = &mut inputs[k * per..][..per];
            l.dataset.input_into(i, x);
            for t in &l.transforms {
                t.apply(x, &shape, &mut self.rng);
            }
            match l.dataset.target(i) {
                Target::Class(c) => classes.push(c),
                Target::Values(v) => values.extend(v),
            }
        }
        let mut bshape = vec![idx.len()];
        bshape.extend(&shape);
        let targets = if classes.len() == idx.len() {
            Targets::Classes(classes)
        } else {
            let mut ts = vec![idx.len()];
            ts.extend(l.dataset.target_shape());
            if ts.iter().product::<usize>() != values.len() {
                ts = vec![idx.len(), values.len() / idx.len()];
            }
            Targets::Values(Tensor::from_vec(values, &ts))
        };
        Some(Batch {
            inputs: Tensor::from_vec(inputs, &bshape),
            targets,
        })
    }
}
