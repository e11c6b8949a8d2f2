//! Gated recurrent unit, PyTorch's equations and weight layout.

use std::any::Any;

use super::module::Module;
use super::recurrent::{finish, RecurrentWeights};
use crate::autograd::Tensor;

/// One GRU layer over `[batch, time, features]`, PyTorch's gate order
/// `r, z, n`:
///
/// ```text
/// r = σ(Wᵢᵣx + bᵢᵣ + Wₕᵣh + bₕᵣ)    z = σ(Wᵢz x + bᵢz + Wₕz h + bₕz)
/// n = tanh(Wᵢₙx + bᵢₙ + r⊙(Wₕₙh + bₕₙ))
/// h' = (1 − z)⊙n + z⊙h
/// ```
///
/// `h` starts at zero. Parameters are named as PyTorch's `nn.GRU`.
pub struct Gru {
    w: RecurrentWeights,
    /// Output every step (`true`) or only the last.
    pub return_sequences: bool,
}

impl Gru {
    /// `input` features to `hidden` units.
    pub fn new(input: usize, hidden: usize) -> Self {
        Gru {
            w: RecurrentWeights::new(input, hidden, 3),
            return_sequences: true,
        }
    }

    /// Output only the last hidden state.
    pub fn last_only(mut self) -> Self {
        self.return_sequences = false;
        self
    }
}

impl Module for Gru {
    fn forward(&self, x: &Tensor) -> Tensor {
        let hsz = self.w.hidden();
        let xw = self.w.project_input(x, "Gru");
        let mut h = Tensor::zeros(&[x.shape()[0], hsz]);
        let mut out = Vec::with_capacity(x.shape()[1]);
        for t in 0..x.shape()[1] {
            let xi = RecurrentWeights::step_input(&xw, t).split(&[hsz; 3], -1);
            let hh = h
                .linear(&self.w.weight_hh, Some(&self.w.bias_hh))
                .split(&[hsz; 3], -1);
            let r = xi[0].add(&hh[0]).sigmoid();
            let z = xi[1].add(&hh[1]).sigmoid();
            let n = xi[2].add(&r.mul(&hh[2])).tanh();
            // h' = n + z⊙(h − n)
            h = n.add(&z.mul(&h.sub(&n)));
            out.push(h.clone());
        }
        finish(out, self.return_sequences)
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        self.w.named()
    }
    fn describe(&self) -> String {
        format!("Gru({}→{})", self.w.input(), self.w.hidden())
    }
    fn macs(&self, input: &[usize], _output: &[usize]) -> u64 {
        self.w.macs(input)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
