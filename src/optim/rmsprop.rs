//! RMSProp: <https://pytorch.org/docs/stable/generated/torch.optim.RMSprop.html>
//!
//! ```text
//! g ← ∇θ + λθ
//! v ← αv + (1 − α)g²
//! ṽ ← v − ḡ²  with ḡ ← αḡ + (1 − α)g   (centered only; else ṽ = v)
//! if μ > 0:  b ← μb + g / (√ṽ + ε);  θ ← θ − γb
//! else:      θ ← θ − γ g / (√ṽ + ε)
//! ```
//! Defaults: γ = 0.01, α = 0.99, ε = 1e-8, λ = 0, μ = 0, not centered.

use std::collections::HashMap;

use super::state::{for_each_param, ftz, NamedParams, Slots, StateEntry};
use super::Optimizer;
use crate::train::TrainError;

/// RMSProp (PyTorch's `torch.optim.RMSprop`).
pub struct RmsProp {
    params: NamedParams,
    /// Learning rate γ.
    pub lr: f32,
    /// Smoothing α.
    pub alpha: f32,
    /// ε.
    pub eps: f32,
    /// L2 weight decay λ.
    pub weight_decay: f32,
    /// Momentum μ.
    pub momentum: f32,
    /// Centered variant.
    pub centered: bool,
    state: Slots,
}

impl RmsProp {
    /// With PyTorch's defaults and learning rate `lr` (PyTorch: 0.01).
    pub fn new(params: NamedParams, lr: f32) -> Self {
        let state = Slots::new(&params, &["square_avg", "momentum_buffer", "grad_avg"]);
        RmsProp {
            params,
            lr,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
            state,
        }
    }

    /// Sets the momentum.
    pub fn momentum(mut self, m: f32) -> Self {
        self.momentum = m;
        self
    }

    /// Sets centering.
    pub fn centered(mut self, c: bool) -> Self {
        self.centered = c;
        self
    }

    /// Sets the L2 weight decay.
    pub fn weight_decay(mut self, wd: f32) -> Self {
        self.weight_decay = wd;
        self
    }
}

impl Optimizer for RmsProp {
    fn step(&mut self) {
        let (lr, a, eps, wd, mu, centered) = (
            self.lr,
            self.alpha,
            self.eps,
            self.weight_decay,
            self.momentum,
            self.centered,
        );
        let st = &mut self.state;
        for_each_param(&self.params, |i, p, g| {
            st.steps[i] += 1;
            let [v, b, ga] = &mut st.bufs[i][..] else {
                unreachable!()
            };
            for ((((p, &g), v), b), ga) in p
                .iter_mut()
                .zip(g)
                .zip(v.iter_mut())
                .zip(b.iter_mut())
                .zip(ga.iter_mut())
            {
                let d = g + wd * *p;
                *v = ftz(a * *v + (1.0 - a) * d * d);
                let mut vt = *v;
                if centered {
                    *ga = ftz(a * *ga + (1.0 - a) * d);
                    vt -= *ga * *ga;
                }
                let step = d / (vt.sqrt() + eps);
                if mu > 0.0 {
                    *b = ftz(mu * *b + step);
                    *p -= lr * *b;
                } else {
                    *p -= lr * step;
                }
            }
        });
    }
    optimizer_accessors!();
}
