//! Lookup table of learnable vectors.

use std::any::Any;

use super::module::{param, Module};
use crate::autograd::Tensor;

/// Maps integer ids (held as f32 values in the input tensor) to learnable
/// vectors: `[..] → [.., dim]`. Initialised `N(0, 1)` as in PyTorch.
pub struct Embedding {
    /// `[num_embeddings, dim]`.
    pub weight: Tensor,
}

impl Embedding {
    /// `num` vectors of `dim` values.
    pub fn new(num: usize, dim: usize) -> Self {
        Embedding {
            weight: param(Tensor::randn(&[num, dim])),
        }
    }
}

impl Module for Embedding {
    fn forward(&self, x: &Tensor) -> Tensor {
        let num = self.weight.shape()[0];
        let ids: Vec<usize> = x
            .data()
            .iter()
            .map(|&v| {
                assert!(
                    v >= 0.0 && v.fract() == 0.0 && (v as usize) < num,
                    "Embedding: id {v} is not an integer in 0..{num}"
                );
                v as usize
            })
            .collect();
        let mut shape = x.shape().to_vec();
        shape.push(self.weight.shape()[1]);
        self.weight.index_select(0, &ids).reshape(&shape)
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        vec![("weight".into(), self.weight.clone())]
    }
    fn describe(&self) -> String {
        format!(
            "Embedding({}, {})",
            self.weight.shape()[0],
            self.weight.shape()[1]
        )
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
