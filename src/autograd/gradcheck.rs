//! Central finite differences against `backward()`: the checker every op
//! test calls.
//!
//! For `out = f(inputs)` it draws a fixed random probe `r` of `out`'s shape
//! and compares, for every input element `x`,
//!
//! * analytic: `∂(Σ out⊙r)/∂x` from `out.backward_with(r)`, with
//! * numeric: `(L(x+ε) − L(x−ε)) / 2ε`, where `L = Σ out⊙r` is accumulated
//!   in **f64** (the forward itself is f32, so ε is large by f64 standards:
//!   the default `1e-2` balances the O(ε²) truncation error against f32
//!   rounding of order `1e-7·|L|/ε`).
//!
//! Inputs must avoid kinks (relu at 0, max ties, |x| at 0) by more than ε.

use super::rng::Rng;
use super::tape::no_grad;
use super::tensor::Tensor;

/// Tolerances of [`gradcheck_with`]: pass if `|a − n| ≤ atol + rtol·|n|`.
#[derive(Clone, Copy, Debug)]
pub struct GradCheckConfig {
    /// Finite-difference step.
    pub eps: f32,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance.
    pub rtol: f64,
}

impl Default for GradCheckConfig {
    fn default() -> Self {
        GradCheckConfig {
            eps: 1e-2,
            atol: 5e-3,
            rtol: 1e-2,
        }
    }
}

/// [`gradcheck_with`] with the default tolerances.
pub fn gradcheck(f: impl Fn(&[Tensor]) -> Tensor, inputs: &[Tensor]) -> Result<(), String> {
    gradcheck_with(f, inputs, GradCheckConfig::default())
}

/// Checks the gradients of `f` at `inputs` (leaves; those with
/// `requires_grad` are checked). Returns a description of the worst
/// mismatch on failure.
pub fn gradcheck_with(
    f: impl Fn(&[Tensor]) -> Tensor,
    inputs: &[Tensor],
    cfg: GradCheckConfig,
) -> Result<(), String> {
    for x in inputs {
        x.zero_grad();
    }
    let out = f(inputs);
    let mut rng = Rng::seed_from(0x9e37_79b9);
    let probe: Vec<f32> = (0..out.numel())
        .map(|_| rng.uniform() * 2.0 - 1.0)
        .collect();
    let loss = |o: &Tensor| -> f64 {
        o.data()
            .iter()
            .zip(&probe)
            .map(|(&a, &b)| a as f64 * b as f64)
            .sum()
    };
    out.backward_with(&Tensor::from_slice(&probe, out.shape()));
    for (k, x) in inputs.iter().enumerate() {
        if !x.requires_grad() {
            continue;
        }
        let analytic = x.grad().unwrap_or_else(|| vec![0.0; x.numel()]);
        for (j, &a) in analytic.iter().enumerate() {
            let orig = x.data()[j];
            x.data_mut()[j] = orig + cfg.eps;
            let lp = no_grad(|| loss(&f(inputs)));
            x.data_mut()[j] = orig - cfg.eps;
            let lm = no_grad(|| loss(&f(inputs)));
            x.data_mut()[j] = orig;
            let h = ((orig + cfg.eps) as f64) - ((orig - cfg.eps) as f64);
            let numeric = (lp - lm) / h;
            let a = a as f64;
            if (a - numeric).abs() > cfg.atol + cfg.rtol * numeric.abs() {
                return Err(format!(
                    "input {k} (shape {:?}) element {j}: analytic {a:.6} vs numeric {numeric:.6} (x = {orig})",
                    x.shape()
                ));
            }
        }
    }
    Ok(())
}
