//! The [`Module`] trait: a forward pass, named parameters and buffers,
//! train/eval mode, freezing, and what `summary()` needs.

use std::any::Any;

use crate::autograd::Tensor;

/// A layer or a model (PyTorch's `nn.Module`, Keras's `Layer`).
///
/// Parameter names follow PyTorch's `state_dict` convention (`weight`,
/// `bias`; a [`Sequential`](super::Sequential) prefixes its children with
/// their index: `0.weight`), so checkpoints read naturally in PyTorch.
pub trait Module: Send + Sync {
    /// The forward pass.
    fn forward(&self, x: &Tensor) -> Tensor;

    /// Learnable parameters with their names.
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }

    /// Non-learnable state saved in checkpoints (BatchNorm running stats).
    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }

    /// Switches between training (`true`) and evaluation behaviour
    /// (Dropout, BatchNorm). Stateless layers ignore it.
    fn set_training(&mut self, _training: bool) {}

    /// Whether the module is in training mode (`true` for layers without modes).
    fn is_training(&self) -> bool {
        true
    }

    /// A one-line description for `summary()`, e.g. `Conv2d(1→16, 3×3, same)`
    /// (default: the type's name).
    fn describe(&self) -> String {
        let full = std::any::type_name::<Self>();
        full.rsplit("::").next().unwrap_or(full).to_string()
    }

    /// Multiply-accumulates of one forward pass from `input` to `output`
    /// shapes (0 for layers without products).
    fn macs(&self, _input: &[usize], _output: &[usize]) -> u64 {
        0
    }

    /// For exporters and tools: downcast to the concrete layer type.
    fn as_any(&self) -> &dyn Any;

    // ---- provided ------------------------------------------------------

    /// The parameters without names.
    fn parameters(&self) -> Vec<Tensor> {
        self.named_parameters()
            .into_iter()
            .map(|(_, t)| t)
            .collect()
    }

    /// Training mode (PyTorch's `model.train()`).
    fn train(&mut self) {
        self.set_training(true)
    }

    /// Evaluation mode (PyTorch's `model.eval()`).
    fn eval(&mut self) {
        self.set_training(false)
    }

    /// Stops gradients to every parameter (transfer learning: freeze the backbone).
    fn freeze(&self) {
        self.parameters()
            .iter()
            .for_each(|p| p.set_requires_grad(false));
    }

    /// Lets gradients reach every parameter again.
    fn unfreeze(&self) {
        self.parameters()
            .iter()
            .for_each(|p| p.set_requires_grad(true));
    }

    /// Freezes (`frozen = true`) or unfreezes the parameters whose name
    /// satisfies `pred`; returns how many were changed.
    fn set_frozen_where(&self, frozen: bool, pred: &dyn Fn(&str) -> bool) -> usize {
        let mut n = 0;
        for (name, p) in self.named_parameters() {
            if pred(&name) {
                p.set_requires_grad(!frozen);
                n += 1;
            }
        }
        n
    }

    /// Number of parameter elements.
    fn num_parameters(&self) -> usize {
        self.parameters().iter().map(Tensor::numel).sum()
    }

    /// Number of parameter elements that currently require a gradient.
    fn num_trainable_parameters(&self) -> usize {
        self.parameters()
            .iter()
            .filter(|p| p.requires_grad())
            .map(Tensor::numel)
            .sum()
    }
}

/// A parameter leaf: a tensor that requires a gradient.
pub(crate) fn param(t: Tensor) -> Tensor {
    t.requires_grad_(true)
}
