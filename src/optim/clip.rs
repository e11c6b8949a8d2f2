//! Gradient clipping by value and by global norm.

use crate::autograd::Tensor;

/// Clamps every gradient element into `[−clip, clip]`
/// (PyTorch's `clip_grad_value_`).
pub fn clip_grad_value(params: &[Tensor], clip: f32) {
    for p in params {
        if let Some(g) = p.grad_mut().as_mut() {
            g.iter_mut().for_each(|v| *v = v.clamp(-clip, clip));
        }
    }
}

/// Scales all gradients together so their global L2 norm is at most
/// `max_norm`, and returns the norm *before* clipping (as TF's
/// `clip_by_global_norm` and PyTorch's `clip_grad_norm_` do). The scale is
/// PyTorch's: `max_norm / (norm + 1e-6)`, applied only when below 1.
pub fn clip_grad_norm(params: &[Tensor], max_norm: f32) -> f32 {
    let norm = global_grad_norm(params);
    let coef = max_norm / (norm + 1e-6);
    if coef < 1.0 {
        for p in params {
            if let Some(g) = p.grad_mut().as_mut() {
                g.iter_mut().for_each(|v| *v *= coef);
            }
        }
    }
    norm
}

/// The L2 norm of all gradients taken together (accumulated in f64).
pub fn global_grad_norm(params: &[Tensor]) -> f32 {
    let mut s = 0.0f64;
    for p in params {
        if let Some(g) = p.grad_mut().as_ref() {
            s += g.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>();
        }
    }
    s.sqrt() as f32
}
