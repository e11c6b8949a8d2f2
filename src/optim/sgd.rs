//! Stochastic gradient descent, with momentum, dampening, Nesterov momentum
//! and L2 weight decay: <https://pytorch.org/docs/stable/generated/torch.optim.SGD.html>
//!
//! ```text
//! g ← ∇θ + λθ
//! if μ ≠ 0:  b ← g (first step),  b ← μb + (1 − τ)g (after)
//!            g ← g + μb (Nesterov)  or  g ← b
//! θ ← θ − γg
//! ```

use std::collections::HashMap;

use super::state::{for_each_param, ftz, NamedParams, Slots, StateEntry};
use super::Optimizer;
use crate::train::TrainError;

/// SGD (PyTorch's `torch.optim.SGD`).
pub struct Sgd {
    params: NamedParams,
    /// Learning rate γ.
    pub lr: f32,
    /// Momentum μ (0: plain SGD).
    pub momentum: f32,
    /// Dampening τ.
    pub dampening: f32,
    /// L2 weight decay λ.
    pub weight_decay: f32,
    /// Nesterov momentum.
    pub nesterov: bool,
    state: Slots,
}

impl Sgd {
    /// Plain SGD with learning rate `lr`.
    pub fn new(params: NamedParams, lr: f32) -> Self {
        let state = Slots::new(&params, &["momentum_buffer"]);
        Sgd {
            params,
            lr,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            state,
        }
    }

    /// SGD with momentum μ.
    pub fn with_momentum(params: NamedParams, lr: f32, momentum: f32) -> Self {
        Sgd {
            momentum,
            ..Self::new(params, lr)
        }
    }

    /// SGD with Nesterov momentum μ.
    pub fn nesterov(params: NamedParams, lr: f32, momentum: f32) -> Self {
        Sgd {
            momentum,
            nesterov: true,
            ..Self::new(params, lr)
        }
    }

    /// Sets the L2 weight decay.
    pub fn weight_decay(mut self, wd: f32) -> Self {
        self.weight_decay = wd;
        self
    }

    /// Sets the dampening.
    pub fn dampening(mut self, d: f32) -> Self {
        self.dampening = d;
        self
    }
}

impl Optimizer for Sgd {
    fn step(&mut self) {
        let (lr, mu, tau, wd, nesterov) = (
            self.lr,
            self.momentum,
            self.dampening,
            self.weight_decay,
            self.nesterov,
        );
        let st = &mut self.state;
        for_each_param(&self.params, |i, p, g| {
            let first = st.steps[i] == 0;
            st.steps[i] += 1;
            let b = &mut st.bufs[i][0];
            for ((p, &g), b) in p.iter_mut().zip(g).zip(b.iter_mut()) {
                let mut d = g + wd * *p;
                if mu != 0.0 {
                    *b = ftz(if first { d } else { mu * *b + (1.0 - tau) * d });
                    d = if nesterov { d + mu * *b } else { *b };
                }
                *p -= lr * d;
            }
        });
    }
    optimizer_accessors!();
}
