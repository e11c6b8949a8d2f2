//! The [`Dataset`] trait, an in-memory [`VecDataset`] and index [`Subset`]s.

use crate::autograd::Tensor;

/// The target of one example.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// A class index (classification).
    Class(usize),
    /// Values (regression, multi-label).
    Values(Vec<f32>),
}

/// The targets of a batch.
#[derive(Clone, Debug)]
pub enum Targets {
    /// Class indices, one per example.
    Classes(Vec<usize>),
    /// Values, `[batch, ..target shape]`.
    Values(Tensor),
}

impl Targets {
    /// The class indices, if these are classes.
    pub fn classes(&self) -> Option<&[usize]> {
        match self {
            Targets::Classes(c) => Some(c),
            Targets::Values(_) => None,
        }
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        match self {
            Targets::Classes(c) => c.len(),
            Targets::Values(t) => t.shape().first().copied().unwrap_or(0),
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Random access to examples (PyTorch's map-style `Dataset`).
pub trait Dataset: Send + Sync {
    /// Number of examples.
    fn len(&self) -> usize;

    /// True without examples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Shape of one input (without the batch axis), e.g. `[8, 8, 1]`.
    fn input_shape(&self) -> Vec<usize>;

    /// Copies input `i` into `out` (`out.len()` = product of the input shape).
    fn input_into(&self, i: usize, out: &mut [f32]);

    /// Target `i`.
    fn target(&self, i: usize) -> Target;

    /// Shape of one value target (`[]` for class targets).
    fn target_shape(&self) -> Vec<usize> {
        match self.target(0) {
            Target::Class(_) => Vec::new(),
            Target::Values(v) => vec![v.len()],
        }
    }
}

/// Examples held in memory: inputs as one flat `Vec<f32>`.
#[derive(Clone, Debug)]
pub struct VecDataset {
    inputs: Vec<f32>,
    input_shape: Vec<usize>,
    targets: Vec<Target>,
}

impl VecDataset {
    /// Inputs (flat, `n × Π input_shape`) with one target each.
    ///
    /// # Panics
    /// If the sizes disagree.
    pub fn new(inputs: Vec<f32>, input_shape: &[usize], targets: Vec<Target>) -> Self {
        let per: usize = input_shape.iter().product();
        assert_eq!(
            inputs.len(),
            per * targets.len(),
            "VecDataset: {} values for {} examples of {input_shape:?}",
            inputs.len(),
            targets.len()
        );
        VecDataset {
            inputs,
            input_shape: input_shape.to_vec(),
            targets,
        }
    }

    /// Classification data.
    pub fn classification(inputs: Vec<f32>, input_shape: &[usize], labels: &[usize]) -> Self {
        Self::new(
            inputs,
            input_shape,
            labels.iter().map(|&l| Target::Class(l)).collect(),
        )
    }

    /// The same data seen with another input shape of equal size
    /// (e.g. 64 CSV columns as `[8, 8, 1]`).
    pub fn with_input_shape(mut self, shape: &[usize]) -> Self {
        assert_eq!(
            shape.iter().product::<usize>(),
            self.input_shape.iter().product::<usize>(),
            "with_input_shape: {shape:?} vs {:?}",
            self.input_shape
        );
        self.input_shape = shape.to_vec();
        self
    }

    /// Applies `f` to every input value (e.g. `|p| p / 16.0`).
    pub fn map_inputs(mut self, f: impl Fn(f32) -> f32) -> Self {
        self.inputs.iter_mut().for_each(|v| *v = f(*v));
        self
    }

    /// All inputs, flat.
    pub fn inputs(&self) -> &[f32] {
        &self.inputs
    }

    /// All inputs, mutably.
    pub fn inputs_mut(&mut self) -> &mut [f32] {
        &mut self.inputs
    }

    /// All targets.
    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    /// Class labels (panics on value targets).
    pub fn labels(&self) -> Vec<usize> {
        self.targets
            .iter()
            .map(|t| match t {
                Target::Class(c) => *c,
                Target::Values(_) => panic!("labels() on a dataset with value targets"),
            })
            .collect()
    }

    /// `1 + the largest class label` (0 without class targets).
    pub fn num_classes(&self) -> usize {
        self.targets
            .iter()
            .filter_map(|t| {
                if let Target::Class(c) = t {
                    Some(c + 1)
                } else {
                    None
                }
            })
            .max()
            .unwrap_or(0)
    }

    /// A copy of the examples at `indices`.
    pub fn select(&self, indices: &[usize]) -> VecDataset {
        let per: usize = self.input_shape.iter().product();
        let mut inputs = Vec::with_capacity(indices.len() * per);
        for &i in indices {
            inputs.extend_from_slice(&self.inputs[i * per..][..per]);
        }
        VecDataset {
            inputs,
            input_shape: self.input_shape.clone(),
            targets: indices.iter().map(|&i| self.targets[i].clone()).collect(),
        }
    }

    /// All inputs as one tensor `[n, ..input_shape]`.
    pub fn input_tensor(&self) -> Tensor {
        let mut shape = vec![self.len()];
        shape.extend(&self.input_shape);
        Tensor::from_slice(&self.inputs, &shape)
    }
}

impl Dataset for VecDataset {
    fn len(&self) -> usize {
        self.targets.len()
    }
    fn input_shape(&self) -> Vec<usize> {
        self.input_shape.clone()
    }
    fn input_into(&self, i: usize, out: &mut [f32]) {
        let per = out.len();
        out.copy_from_slice(&self.inputs[i * per..][..per]);
    }
    fn target(&self, i: usize) -> Target {
        self.targets[i].clone()
    }
}

/// A view of some examples of another dataset (no copy).
pub struct Subset<'a> {
    /// The underlying dataset.
    pub dataset: &'a dyn Dataset,
    /// The examples, by index into `dataset`.
    pub indices: Vec<usize>,
}

impl<'a> Subset<'a> {
    /// The examples `indices` of `dataset`.
    pub fn new(dataset: &'a dyn Dataset, indices: Vec<usize>) -> Self {
        Subset { dataset, indices }
    }
}

impl Dataset for Subset<'_> {
    fn len(&self) -> usize {
        self.indices.len()
    }
    fn input_shape(&self) -> Vec<usize> {
        self.dataset.input_shape()
    }
    fn input_into(&self, i: usize, out: &mut [f32]) {
        self.dataset.input_into(self.indices[i], out)
    }
    fn target(&self, i: usize) -> Target {
        self.dataset.target(self.indices[i])
    }
    fn target_shape(&self) -> Vec<usize> {
        self.dataset.target_shape()
    }
}
