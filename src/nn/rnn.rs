//! Elman recurrent layer with tanh, PyTorch's equations and weight layout.

use std::any::Any;

use super::module::Module;
use super::recurrent::{finish, RecurrentWeights};
use crate::autograd::Tensor;

/// One Elman RNN layer over `[batch, time, features]`:
/// `h' = tanh(Wᵢₕx + bᵢₕ + Wₕₕh + bₕₕ)`, `h` starting at zero.
/// Parameters are named as PyTorch's `nn.RNN`.
pub struct Rnn {
    w: RecurrentWeights,
    /// Output every step (`true`) or only the last.
    pub return_sequences: bool,
}

impl Rnn {
    /// `input` features to `hidden` units.
    pub fn new(input: usize, hidden: usize) -> Self {
        Rnn {
            w: RecurrentWeights::new(input, hidden, 1),
            return_sequences: true,
        }
    }

    /// Output only the last hidden state.
    pub fn last_only(mut self) -> Self {
        self.return_sequences = false;
        self
    }
}

impl Module for Rnn {
    fn forward(&self, x: &Tensor) -> Tensor {
        let xw = self.w.project_input(x, "Rnn");
        let mut h = Tensor::zeros(&[x.shape()[0], self.w.hidden()]);
        let mut out = Vec::with_capacity(x.shape()[1]);
        for t in 0..x.shape()[1] {
            h = RecurrentWeights::step_input(&xw, t)
                .add(&h.linear(&self.w.weight_hh, Some(&self.w.bias_hh)))
                .tanh();
            out.push(h.clone());
        }
        finish(out, self.return_sequences)
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        self.w.named()
    }
    fn describe(&self) -> String {
        format!("Rnn({}→{})", self.w.input(), self.w.hidden())
    }
    fn macs(&self, input: &[usize], _output: &[usize]) -> u64 {
        self.w.macs(input)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
