//! Fully connected layer `y = x Wᵀ + b`.

use std::any::Any;

use super::init::Init;
use super::module::{param, Module};
use crate::autograd::Tensor;

/// Fully connected layer; `weight` is `[out, in]` (PyTorch's and TFLite's
/// layout), `bias` is `[out]`. Inputs are `[.., in]`.
pub struct Linear {
    /// `[out, in]`.
    pub weight: Tensor,
    /// `[out]`, if any.
    pub bias: Option<Tensor>,
}

impl Linear {
    /// `in → out` with a bias and PyTorch's default initialisation.
    pub fn new(in_features: usize, out_features: usize) -> Self {
        let d = Init::TorchDefault {
            fan_in: in_features,
        };
        Self::with_init(in_features, out_features, true, d, d)
    }

    /// Chosen initialisers; `bias = false` for none.
    pub fn with_init(
        in_features: usize,
        out_features: usize,
        bias: bool,
        weight_init: Init,
        bias_init: Init,
    ) -> Self {
        Linear {
            weight: param(weight_init.tensor(&[out_features, in_features])),
            bias: bias.then(|| param(bias_init.tensor(&[out_features]))),
        }
    }

    /// Input features.
    pub fn in_features(&self) -> usize {
        self.weight.shape()[1]
    }

    /// Output features.
    pub fn out_features(&self) -> usize {
        self.weight.shape()[0]
    }
}

impl Module for Linear {
    fn forward(&self, x: &Tensor) -> Tensor {
        x.linear(&self.weight, self.bias.as_ref())
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut v = vec![("weight".to_string(), self.weight.clone())];
        v.extend(self.bias.iter().map(|b| ("bias".to_string(), b.clone())));
        v
    }
    fn describe(&self) -> String {
        format!("Linear({}→{})", self.in_features(), self.out_features())
    }
    fn macs(&self, _input: &[usize], output: &[usize]) -> u64 {
        (output.iter().product::<usize>() * self.in_features()) as u64
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
