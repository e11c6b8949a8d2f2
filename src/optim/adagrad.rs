//! AdaGrad: <https://pytorch.org/docs/stable/generated/torch.optim.Adagrad.html>
//!
//! ```text
//! γ̃ ← γ / (1 + (t − 1)η)          (η: lr_decay)
//! g ← ∇θ + λθ
//! s ← s + g²                        (s starts at initial_accumulator_value)
//! θ ← θ − γ̃ g / (√s + ε)
//! ```
//! Defaults: γ = 0.01, η = 0, λ = 0, ε = 1e-10.

use std::collections::HashMap;

use super::state::{for_each_param, NamedParams, Slots, StateEntry};
use super::Optimizer;
use crate::train::TrainError;

/// AdaGrad (PyTorch's `torch.optim.Adagrad`).
pub struct Adagrad {
    params: NamedParams,
    /// Learning rate γ.
    pub lr: f32,
    /// Learning-rate decay η.
    pub lr_decay: f32,
    /// L2 weight decay λ.
    pub weight_decay: f32,
    /// ε.
    pub eps: f32,
    state: Slots,
}

impl Adagrad {
    /// With PyTorch's defaults and learning rate `lr` (PyTorch: 0.01).
    pub fn new(params: NamedParams, lr: f32) -> Self {
        Self::with_initial_accumulator(params, lr, 0.0)
    }

    /// Starting the sum of squares at `init`.
    pub fn with_initial_accumulator(params: NamedParams, lr: f32, init: f32) -> Self {
        let mut state = Slots::new(&params, &["sum"]);
        state
            .bufs
            .iter_mut()
            .for_each(|b| b[0].iter_mut().for_each(|v| *v = init));
        Adagrad {
            params,
            lr,
            lr_decay: 0.0,
            weight_decay: 0.0,
            eps: 1e-10,
            state,
        }
    }

    /// Sets the L2 weight decay.
    pub fn weight_decay(mut self, wd: f32) -> Self {
        self.weight_decay = wd;
        self
    }
}

impl Optimizer for Adagrad {
    fn step(&mut self) {
        let (lr, decay, wd, eps) = (self.lr, self.lr_decay, self.weight_decay, self.eps);
        let st = &mut self.state;
        for_each_param(&self.params, |i, p, g| {
            st.steps[i] += 1;
            let clr = lr / (1.0 + (st.steps[i] - 1) as f32 * decay);
            let s = &mut st.bufs[i][0];
            for ((p, &g), s) in p.iter_mut().zip(g).zip(s.iter_mut()) {
                let d = g + wd * *p;
                *s += d * d;
                *p -= clr * d / (s.sqrt() + eps);
            }
        });
    }
    optimizer_accessors!();
}
