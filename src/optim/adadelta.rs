//! Adadelta: <https://pytorch.org/docs/stable/generated/torch.optim.Adadelta.html>
//!
//! ```text
//! g ← ∇θ + λθ
//! v ← ρv + (1 − ρ)g²
//! Δ ← √(u + ε) / √(v + ε) · g
//! u ← ρu + (1 − ρ)Δ²
//! θ ← θ − γΔ
//! ```
//! Defaults: γ = 1.0, ρ = 0.9, ε = 1e-6, λ = 0.

use std::collections::HashMap;

use super::state::{for_each_param, ftz, NamedParams, Slots, StateEntry};
use super::Optimizer;
use crate::train::TrainError;

/// Adadelta (PyTorch's `torch.optim.Adadelta`).
pub struct Adadelta {
    params: NamedParams,
    /// Learning rate γ (PyTorch default 1.0).
    pub lr: f32,
    /// Decay ρ.
    pub rho: f32,
    /// ε.
    pub eps: f32,
    /// L2 weight decay λ.
    pub weight_decay: f32,
    state: Slots,
}

impl Adadelta {
    /// With PyTorch's defaults (lr 1.0, ρ 0.9, ε 1e-6).
    pub fn new(params: NamedParams) -> Self {
        let state = Slots::new(&params, &["square_avg", "acc_delta"]);
        Adadelta {
            params,
            lr: 1.0,
            rho: 0.9,
            eps: 1e-6,
            weight_decay: 0.0,
            state,
        }
    }

    /// Sets the learning rate.
    pub fn lr(mut self, lr: f32) -> Self {
        self.lr = lr;
        self
    }

    /// Sets the L2 weight decay.
    pub fn weight_decay(mut self, wd: f32) -> Self {
        self.weight_decay = wd;
        self
    }
}

impl Optimizer for Adadelta {
    fn step(&mut self) {
        let (lr, rho, eps, wd) = (self.lr, self.rho, self.eps, self.weight_decay);
        let st = &mut self.state;
        for_each_param(&self.params, |i, p, g| {
            st.steps[i] += 1;
            let [v, u] = &mut st.bufs[i][..] else {
                unreachable!()
            };
            for (((p, &g), v), u) in p.iter_mut().zip(g).zip(v.iter_mut()).zip(u.iter_mut()) {
                let d = g + wd * *p;
                *v = ftz(rho * *v + (1.0 - rho) * d * d);
                let delta = (*u + eps).sqrt() / (*v + eps).sqrt() * d;
                *u = ftz(rho * *u + (1.0 - rho) * delta * delta);
                *p -= lr * delta;
            }
        });
    }
    optimizer_accessors!();
}
