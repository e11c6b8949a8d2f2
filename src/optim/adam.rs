//! Adam and AdamW, one implementation:
//! <https://pytorch.org/docs/stable/generated/torch.optim.Adam.html>,
//! <https://pytorch.org/docs/stable/generated/torch.optim.AdamW.html>
//!
//! ```text
//! AdamW only:  θ ← θ − γλθ                      (decoupled decay)
//! Adam only:   g ← ∇θ + λθ                      (L2 decay)
//! m ← β₁m + (1 − β₁)g
//! v ← β₂v + (1 − β₂)g²
//! m̂ ← m / (1 − β₁ᵗ),  v̂ ← v / (1 − β₂ᵗ)        (bias correction)
//! θ ← θ − γ m̂ / (√v̂ + ε)
//! ```
//! Defaults: γ = 1e-3, β = (0.9, 0.999), ε = 1e-8, λ = 0 (Adam) or 1e-2
//! (AdamW). Computed as PyTorch's implementation does it,
//! `θ ← θ − (γ / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)`, so trajectories
//! agree step for step.

use std::collections::HashMap;

use super::state::{for_each_param, ftz, NamedParams, Slots, StateEntry};
use super::Optimizer;
use crate::train::TrainError;

/// Adam, or AdamW when `decoupled_weight_decay` is set.
pub struct Adam {
    params: NamedParams,
    /// Learning rate γ.
    pub lr: f32,
    /// β₁.
    pub beta1: f32,
    /// β₂.
    pub beta2: f32,
    /// ε.
    pub eps: f32,
    /// Weight decay λ.
    pub weight_decay: f32,
    /// AdamW's decoupled decay instead of L2.
    pub decoupled_weight_decay: bool,
    state: Slots,
}

impl Adam {
    /// Adam with PyTorch's defaults and learning rate `lr` (PyTorch: 1e-3).
    pub fn new(params: NamedParams, lr: f32) -> Self {
        let state = Slots::new(&params, &["exp_avg", "exp_avg_sq"]);
        Adam {
            params,
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled_weight_decay: false,
            state,
        }
    }

    /// Sets β₁ and β₂.
    pub fn betas(mut self, b1: f32, b2: f32) -> Self {
        self.beta1 = b1;
        self.beta2 = b2;
        self
    }

    /// Sets ε.
    pub fn eps(mut self, eps: f32) -> Self {
        self.eps = eps;
        self
    }

    /// Sets the weight decay (L2 for Adam, decoupled for AdamW).
    pub fn weight_decay(mut self, wd: f32) -> Self {
        self.weight_decay = wd;
        self
    }
}

/// AdamW: Adam with decoupled weight decay (default λ = 1e-2).
pub struct AdamW;

impl AdamW {
    /// AdamW with PyTorch's defaults and learning rate `lr`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(params: NamedParams, lr: f32) -> Adam {
        Adam {
            weight_decay: 1e-2,
            decoupled_weight_decay: true,
            ..Adam::new(params, lr)
        }
    }
}

impl Optimizer for Adam {
    fn step(&mut self) {
        let (lr, b1, b2, eps, wd, decoupled) = (
            self.lr,
            self.beta1,
            self.beta2,
            self.eps,
            self.weight_decay,
            self.decoupled_weight_decay,
        );
        let st = &mut self.state;
        for_each_param(&self.params, |i, p, g| {
            st.steps[i] += 1;
            let t = st.steps[i] as i32;
            let bc1 = 1.0 - b1.powi(t);
            let bc2 = 1.0 - b2.powi(t);
            let step_size = lr / bc1;
            let bc2_sqrt = bc2.sqrt();
            let [m, v] = &mut st.bufs[i][..] else {
                unreachable!()
            };
            let decay = if decoupled { 1.0 - lr * wd } else { 1.0 };
            let l2 = if decoupled { 0.0 } else { wd };
            // Zipped slices: no bounds checks, so the loop vectorises.
            for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                *p *= decay;
                let d = g + l2 * *p;
                *m = ftz(b1 * *m + (1.0 - b1) * d);
                *v = ftz(b2 * *v + (1.0 - b2) * d * d);
                *p -= step_size * *m / (v.sqrt() / bc2_sqrt + eps);
            }
        });
    }
    optimizer_accessors!();
}
