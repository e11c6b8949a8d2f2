//! Long short-term memory, PyTorch's equations and weight layout.

use std::any::Any;

use super::module::Module;
use super::recurrent::{finish, RecurrentWeights};
use crate::autograd::Tensor;

/// One LSTM layer over `[batch, time, features]` (batch first, channels
/// last), with PyTorch's gate order `i, f, g, o`:
///
/// ```text
/// i = σ(Wᵢᵢx + bᵢᵢ + Wₕᵢh + bₕᵢ)    f = σ(Wᵢf x + bᵢf + Wₕf h + bₕf)
/// g = tanh(Wᵢg x + bᵢg + Wₕg h + bₕg)  o = σ(Wᵢₒx + bᵢₒ + Wₕₒh + bₕₒ)
/// c' = f⊙c + i⊙g                      h' = o⊙tanh(c')
/// ```
///
/// `h` and `c` start at zero. Outputs every `h` (`[batch, time, H]`) or,
/// after [`last_only`](Self::last_only), the last (`[batch, H]`).
/// Parameters are named as PyTorch's `nn.LSTM` (`weight_ih_l0` `[4H, F]`, …).
pub struct Lstm {
    w: RecurrentWeights,
    /// Output every step (`true`) or only the last.
    pub return_sequences: bool,
}

impl Lstm {
    /// `input` features to `hidden` units.
    pub fn new(input: usize, hidden: usize) -> Self {
        Lstm {
            w: RecurrentWeights::new(input, hidden, 4),
            return_sequences: true,
        }
    }

    /// Output only the last hidden state.
    pub fn last_only(mut self) -> Self {
        self.return_sequences = false;
        self
    }

    /// Runs the sequence and returns every `(h, c)`.
    pub fn states(&self, x: &Tensor) -> Vec<(Tensor, Tensor)> {
        let hsz = self.w.hidden();
        let xw = self.w.project_input(x, "Lstm");
        let n = x.shape()[0];
        let mut h = Tensor::zeros(&[n, hsz]);
        let mut c = Tensor::zeros(&[n, hsz]);
        let mut out = Vec::with_capacity(x.shape()[1]);
        for t in 0..x.shape()[1] {
            let gates = RecurrentWeights::step_input(&xw, t)
                .add(&h.linear(&self.w.weight_hh, Some(&self.w.bias_hh)));
            let g = gates.split(&[hsz; 4], -1);
            let (i, f, gg, o) = (g[0].sigmoid(), g[1].sigmoid(), g[2].tanh(), g[3].sigmoid());
            c = f.mul(&c).add(&i.mul(&gg));
            h = o.mul(&c.tanh());
            out.push((h.clone(), c.clone()));
        }
        out
    }
}

impl Module for Lstm {
    fn forward(&self, x: &Tensor) -> Tensor {
        finish(
            self.states(x).into_iter().map(|(h, _)| h).collect(),
            self.return_sequences,
        )
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        self.w.named()
    }
    fn describe(&self) -> String {
        format!("Lstm({}→{})", self.w.input(), self.w.hidden())
    }
    fn macs(&self, input: &[usize], _output: &[usize]) -> u64 {
        self.w.macs(input)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
