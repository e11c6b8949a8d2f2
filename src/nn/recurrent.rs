//! Shared plumbing of the recurrent layers ([`Rnn`](super::Rnn),
//! [`Gru`](super::Gru), [`Lstm`](super::Lstm)): weights in PyTorch's layout
//! and names, the input projection of all time steps in one product, and
//! the choice between the whole output sequence and the last step.

use super::init::Init;
use super::module::param;
use crate::autograd::Tensor;

/// The weights of one recurrent layer with `gates` gate blocks
/// (PyTorch's `weight_ih_l0` `[gates·H, F]`, `weight_hh_l0` `[gates·H, H]`,
/// `bias_ih_l0`, `bias_hh_l0` `[gates·H]`), initialised `U(±1/√H)` as in PyTorch.
pub(crate) struct RecurrentWeights {
    pub(crate) weight_ih: Tensor,
    pub(crate) weight_hh: Tensor,
    pub(crate) bias_ih: Tensor,
    pub(crate) bias_hh: Tensor,
}

impl RecurrentWeights {
    pub(crate) fn new(input: usize, hidden: usize, gates: usize) -> Self {
        let b = 1.0 / (hidden as f32).sqrt();
        let u = Init::Uniform(-b, b);
        RecurrentWeights {
            weight_ih: param(u.tensor(&[gates * hidden, input])),
            weight_hh: param(u.tensor(&[gates * hidden, hidden])),
            bias_ih: param(u.tensor(&[gates * hidden])),
            bias_hh: param(u.tensor(&[gates * hidden])),
        }
    }

    pub(crate) fn named(&self) -> Vec<(String, Tensor)> {
        vec![
            ("weight_ih_l0".into(), self.weight_ih.clone()),
            ("weight_hh_l0".into(), self.weight_hh.clone()),
            ("bias_ih_l0".into(), self.bias_ih.clone()),
            ("bias_hh_l0".into(), self.bias_hh.clone()),
        ]
    }

    pub(crate) fn hidden(&self) -> usize {
        self.weight_hh.shape()[1]
    }

    pub(crate) fn input(&self) -> usize {
        self.weight_ih.shape()[1]
    }

    /// `x Wᵢₕᵀ + bᵢₕ` for every step at once: `[n, t, F] → [n, t, gates·H]`.
    pub(crate) fn project_input(&self, x: &Tensor, layer: &str) -> Tensor {
        let s = x.shape();
        assert!(
            s.len() == 3 && s[2] == self.input(),
            "{layer} expects [batch, time, {}] input, got {s:?}",
            self.input()
        );
        x.linear(&self.weight_ih, Some(&self.bias_ih))
    }

    /// Step `t` of the projected input, `[n, gates·H]`.
    pub(crate) fn step_input(xw: &Tensor, t: usize) -> Tensor {
        let s = xw.shape();
        xw.slice(1, t, t + 1).reshape(&[s[0], s[2]])
    }

    pub(crate) fn macs(&self, input: &[usize]) -> u64 {
        let (n, t) = (input[0], input[1]);
        (n * t * (self.weight_ih.numel() + self.weight_hh.numel())) as u64
    }
}

/// The layer output: all hidden states `[n, t, H]`, or the last `[n, H]`.
pub(crate) fn finish(states: Vec<Tensor>, return_sequences: bool) -> Tensor {
    if return_sequences {
        let refs: Vec<&Tensor> = states.iter().collect();
        Tensor::stack(&refs, 1)
    } else {
        states.into_iter().last().expect("at least one time step")
    }
}
