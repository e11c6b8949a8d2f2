//! Float GRU, ONNX's `GRU` operator (forward direction, default
//! activations) with both of its variants of the candidate gate.
//!
//! Gates in ONNX's order `z, r, n` (update, reset, candidate; PyTorch's
//! `nn.GRU` stores `r, z, n`). One step, for hidden state `h`:
//!
//! ```text
//! z = σ(W_z x + R_z h + Wb_z + Rb_z)
//! r = σ(W_r x + R_r h + Wb_r + Rb_r)
//! n = tanh(W_n x + Wb_n + R_n (r⊙h) + Rb_n)        linear_before_reset = 0
//! n = tanh(W_n x + Wb_n + r⊙(R_n h + Rb_n))        linear_before_reset = 1 (PyTorch)
//! h' = (1 − z)⊙n + z⊙h
//! ```
//!
//! With `linear_before_reset = 1` every unit needs only the previous `h`,
//! so the step runs unit by unit, writing the new `h` into the output row
//! and copying it to the state afterwards, as the LSTM does. With 0, the
//! candidate of every unit reads all of `r⊙h`, which the step first
//! writes into a `hidden_dim` scratch slice the caller provides.
//!
//! The state is read and updated in place, so calls of one step each give
//! the outputs of one call over the whole sequence. Sigmoid and tanh are
//! the crate's deterministic ones.

use super::lstm::{dot, RecurrentDims};
use super::math::{sigmoid_f32, tanh_f32};
use crate::kernels::Float;
use crate::Error;
use half::f16;

/// The constant tensors of a float GRU, gates `z, r, n` (ONNX's layout).
#[derive(Debug, Clone, Copy)]
pub struct GruWeights<'a, T> {
    /// Input weights `[3·hidden, input]` (ONNX `W`).
    pub input: &'a [T],
    /// Recurrent weights `[3·hidden, hidden]` (ONNX `R`).
    pub recurrent: &'a [T],
    /// Biases `[6·hidden]`: the input biases `Wb` then the recurrent
    /// biases `Rb` (ONNX `B`); `None` for zero.
    pub bias: Option<&'a [T]>,
}

fn len_check(got: usize, expected: usize) -> Result<(), Error> {
    if got == expected {
        Ok(())
    } else {
        Err(Error::LengthMismatch { expected, got })
    }
}

#[allow(clippy::too_many_arguments)]
fn gru_float<T: Float>(
    input: &[T],
    w: &GruWeights<'_, T>,
    hidden: &mut [T],
    scratch: &mut [T],
    output: &mut [T],
    d: &RecurrentDims,
    linear_before_reset: bool,
) -> Result<(), Error> {
    d.check(3)?;
    d.check_io(input.len(), output.len(), hidden.len())?;
    let (n_in, n_h) = (d.input_dim, d.hidden_dim);
    len_check(w.input.len(), 3 * n_h * n_in)?;
    len_check(w.recurrent.len(), 3 * n_h * n_h)?;
    if let Some(b) = w.bias {
        len_check(b.len(), 6 * n_h)?;
    }
    if !linear_before_reset {
        len_check(scratch.len(), n_h)?;
    }
    let bias = |k: usize| w.bias.map_or(0.0, |b| b[k].to_f32());
    let wx = |r: usize, x: &[T]| dot(&w.input[r * n_in..(r + 1) * n_in], x);
    let rh = |r: usize, h: &[T]| dot(&w.recurrent[r * n_h..(r + 1) * n_h], h);
    for b in 0..d.batch {
        for t in 0..d.time {
            let row = d.row(b, t);
            let x = &input[row * n_in..(row + 1) * n_in];
            let h = &mut hidden[b * n_h..(b + 1) * n_h];
            let y = &mut output[row * n_h..(row + 1) * n_h];
            if !linear_before_reset {
                // r⊙h of every unit first: each candidate reads all of it.
                for (j, s) in scratch.iter_mut().enumerate() {
                    let r = n_h + j;
                    let pre = bias(r) + bias(3 * n_h + r) + wx(r, x) + rh(r, h);
                    *s = T::from_f32(sigmoid_f32(pre) * h[j].to_f32());
                }
            }
            for j in 0..n_h {
                let (zr, rr, nr) = (j, n_h + j, 2 * n_h + j);
                let z = sigmoid_f32(bias(zr) + bias(3 * n_h + zr) + wx(zr, x) + rh(zr, h));
                let xn = bias(nr) + wx(nr, x);
                let n = if linear_before_reset {
                    let r = sigmoid_f32(bias(rr) + bias(3 * n_h + rr) + wx(rr, x) + rh(rr, h));
                    tanh_f32(xn + r * (rh(nr, h) + bias(3 * n_h + nr)))
                } else {
                    tanh_f32(xn + rh(nr, scratch) + bias(3 * n_h + nr))
                };
                let hj = h[j].to_f32();
                // h' = (1 − z)⊙n + z⊙h, as ONNX writes it.
                y[j] = T::from_f32((1.0 - z) * n + z * hj);
            }
            h.copy_from_slice(y);
        }
    }
    Ok(())
}

/// f32 GRU over `d.time` steps of every batch row (see the module
/// documentation for the equations): `input` `batch·time·input_dim`
/// (`[batch, time, in]`, or `[time, batch, in]` when `d.time_major`),
/// `output` the hidden state after every step in the same layout,
/// `hidden` (`batch·hidden_dim`) the state, read and updated in place.
/// `scratch` holds `hidden_dim` values when `linear_before_reset` is false
/// (its contents are overwritten; it may be empty otherwise).
///
/// Errors: `InvalidParameter` for a zero size, `ShapeOverflow`,
/// `LengthMismatch` for a slice of the wrong length; nothing is written
/// then.
pub fn gru_f32(
    input: &[f32],
    w: &GruWeights<'_, f32>,
    hidden: &mut [f32],
    scratch: &mut [f32],
    output: &mut [f32],
    d: &RecurrentDims,
    linear_before_reset: bool,
) -> Result<(), Error> {
    gru_float(input, w, hidden, scratch, output, d, linear_before_reset)
}

/// f16 GRU: [`gru_f32`]'s arithmetic in f32 on f16 storage (weights,
/// input, state, scratch and output), each stored value rounded once.
pub fn gru_f16(
    input: &[f16],
    w: &GruWeights<'_, f16>,
    hidden: &mut [f16],
    scratch: &mut [f16],
    output: &mut [f16],
    d: &RecurrentDims,
    linear_before_reset: bool,
) -> Result<(), Error> {
    gru_float(input, w, hidden, scratch, output, d, linear_before_reset)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::{vec, vec::Vec};

    fn rnd(seed: &mut u64) -> f32 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        (*seed >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    }

    /// The ONNX equations in f64, straight from the operator's definition.
    fn gru_f64(
        x: &[f32],
        w: &[f32],
        r: &[f32],
        bias: &[f32],
        n_in: usize,
        n_h: usize,
        lbr: bool,
    ) -> Vec<f64> {
        let sig = |v: f64| 1.0 / (1.0 + (-v).exp());
        let time = x.len() / n_in;
        let mut h = vec![0f64; n_h];
        let mut out = Vec::new();
        let mv = |m: &[f32], row: usize, v: &[f64]| -> f64 {
            v.iter()
                .enumerate()
                .map(|(k, &a)| m[row * v.len() + k] as f64 * a)
                .sum()
        };
        for t in 0..time {
            let xt: Vec<f64> = x[t * n_in..(t + 1) * n_in]
                .iter()
                .map(|&v| v as f64)
                .collect();
            let b = |k: usize| bias[k] as f64;
            let z: Vec<f64> = (0..n_h)
                .map(|j| sig(mv(w, j, &xt) + mv(r, j, &h) + b(j) + b(3 * n_h + j)))
                .collect();
            let rg: Vec<f64> = (0..n_h)
                .map(|j| {
                    let k = n_h + j;
                    sig(mv(w, k, &xt) + mv(r, k, &h) + b(k) + b(3 * n_h + k))
                })
                .collect();
            let rh: Vec<f64> = (0..n_h).map(|j| rg[j] * h[j]).collect();
            let n: Vec<f64> = (0..n_h)
                .map(|j| {
                    let k = 2 * n_h + j;
                    let rec = if lbr {
                        rg[j] * (mv(r, k, &h) + b(3 * n_h + k))
                    } else {
                        mv(r, k, &rh) + b(3 * n_h + k)
                    };
                    (mv(w, k, &xt) + b(k) + rec).tanh()
                })
                .collect();
            h = (0..n_h)
                .map(|j| (1.0 - z[j]) * n[j] + z[j] * h[j])
                .collect();
            out.extend_from_slice(&h);
        }
        out
    }

    #[test]
    fn both_candidate_variants_match_the_onnx_equations() {
        let mut seed = 0x1234_5678_9abc_def1u64;
        for &(n_in, n_h, time) in &[(1, 1, 1), (3, 4, 6), (5, 7, 3), (2, 16, 4)] {
            for lbr in [false, true] {
                let w: Vec<f32> = (0..3 * n_h * n_in).map(|_| rnd(&mut seed)).collect();
                let r: Vec<f32> = (0..3 * n_h * n_h).map(|_| rnd(&mut seed)).collect();
                let b: Vec<f32> = (0..6 * n_h).map(|_| rnd(&mut seed) * 0.5).collect();
                let x: Vec<f32> = (0..time * n_in).map(|_| rnd(&mut seed) * 2.0).collect();
                let want = gru_f64(&x, &w, &r, &b, n_in, n_h, lbr);
                let d = RecurrentDims {
                    batch: 1,
                    time,
                    input_dim: n_in,
                    hidden_dim: n_h,
                    time_major: false,
                };
                let wt = GruWeights {
                    input: &w,
                    recurrent: &r,
                    bias: Some(&b),
                };
                let (mut h, mut s, mut y) =
                    (vec![0f32; n_h], vec![0f32; n_h], vec![0f32; time * n_h]);
                gru_f32(&x, &wt, &mut h, &mut s, &mut y, &d, lbr).unwrap();
                for (g, e) in y.iter().zip(&want) {
                    assert!((*g as f64 - e).abs() < 1e-5, "lbr {lbr}: {g} vs {e}");
                }
                assert_eq!(h[..], y[(time - 1) * n_h..]);
                // One step per call: the same bits.
                let d1 = RecurrentDims { time: 1, ..d };
                let mut h1 = vec![0f32; n_h];
                for t in 0..time {
                    let mut y1 = vec![0f32; n_h];
                    gru_f32(
                        &x[t * n_in..(t + 1) * n_in],
                        &wt,
                        &mut h1,
                        &mut s,
                        &mut y1,
                        &d1,
                        lbr,
                    )
                    .unwrap();
                    assert_eq!(y1[..], y[t * n_h..(t + 1) * n_h]);
                }
                // f16 storage stays close.
                let hf = |v: &[f32]| v.iter().map(|&a| f16::from_f32(a)).collect::<Vec<_>>();
                let (w16, r16, b16, x16) = (hf(&w), hf(&r), hf(&b), hf(&x));
                let wt16 = GruWeights {
                    input: &w16,
                    recurrent: &r16,
                    bias: Some(&b16),
                };
                let (mut h, mut s, mut y16) = (hf(&h1), hf(&s), hf(&y));
                h.fill(f16::ZERO);
                gru_f16(&x16, &wt16, &mut h, &mut s, &mut y16, &d, lbr).unwrap();
                for (g, e) in y16.iter().zip(&y) {
                    assert!((g.to_f32() - e).abs() < 2e-2, "f16 {g} vs {e}");
                }
            }
        }
    }

    #[test]
    fn bad_lengths_and_sizes_are_errors() {
        let d = RecurrentDims {
            batch: 1,
            time: 2,
            input_dim: 2,
            hidden_dim: 2,
            time_major: false,
        };
        let (w, r, b) = ([0f32; 12], [0f32; 12], [0f32; 12]);
        let wt = GruWeights {
            input: &w,
            recurrent: &r,
            bias: Some(&b),
        };
        let (mut h, mut s, mut y) = ([0f32; 2], [0f32; 2], [0f32; 4]);
        assert!(gru_f32(&[0.0; 4], &wt, &mut h, &mut s, &mut y, &d, false).is_ok());
        assert!(gru_f32(&[0.0; 4], &wt, &mut h, &mut [], &mut y, &d, true).is_ok());
        assert!(gru_f32(&[0.0; 4], &wt, &mut h, &mut [], &mut y, &d, false).is_err());
        assert!(gru_f32(&[0.0; 3], &wt, &mut h, &mut s, &mut y, &d, true).is_err());
        assert!(gru_f32(&[0.0; 4], &wt, &mut h, &mut s, &mut y[..3], &d, true).is_err());
        let short = GruWeights {
            bias: Some(&b[..5]),
            ..wt
        };
        assert!(gru_f32(&[0.0; 4], &short, &mut h, &mut s, &mut y, &d, true).is_err());
        let zero = RecurrentDims { hidden_dim: 0, ..d };
        assert!(gru_f32(&[], &wt, &mut [], &mut [], &mut [], &zero, true).is_err());
        let huge = RecurrentDims {
            batch: usize::MAX,
            ..d
        };
        assert!(gru_f32(&[0.0; 4], &wt, &mut h, &mut s, &mut y, &huge, true).is_err());
    }
}
