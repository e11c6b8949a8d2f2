//! SOFTMAX over the last axis: `out_i = e^(β·x_i) / Σ_j e^(β·x_j)`.
//!
//! int8 follows TFLite's integer reference softmax
//! (`reference_integer_ops::Softmax`, int8 in, int8 out with scale 1/256
//! and zero point −128) step by step, in gemmlowp fixed point:
//!
//! 1. per row, `max` of the int8 inputs; for each `diff = x − max`
//!    (skipped, i.e. output −128, when `diff < diff_min`):
//! 2. `d = SaturatingRoundingDoublingHighMul(diff · 2^input_beta_left_shift,
//!    input_beta_multiplier)` — `β · input_scale · diff` in Q5.26
//!    (`kScaledDiffIntegerBits = 5`);
//! 3. `exp_on_negative_values(d)` in Q0.31, summed as Q12.19
//!    (`kAccumulationIntegerBits = 12`, each term rescaled by a rounding
//!    right shift of 12);
//! 4. the sum's reciprocal via `GetReciprocal` (normalise by its leading
//!    zeros, `one_over_one_plus_x_for_x_in_0_1`), giving `num_bits_over_unit`;
//! 5. `out = RoundingDivideByPOT(reciprocal × exp, num_bits_over_unit + 31 − 8) − 128`,
//!    clamped to `[−128, 127]`.
//!
//! The parameters come from TFLite's Prepare ([`SoftmaxS8::new`]). The
//! float kernels subtract the row maximum before exponentiating.

use super::gemmlowp::{exp_on_negative_values, get_reciprocal, rescale};
use super::math::exp_f32;
use crate::kernels::Float;
use crate::quant::{
    quantize_multiplier, rounding_divide_by_pot, saturating_rounding_doubling_high_mul,
};
use crate::tensor::{Element, TensorMut, TensorView};
use crate::Error;
use half::f16;

/// `kScaledDiffIntegerBits`: integer bits of the scaled input differences.
const SCALED_DIFF_INTEGER_BITS: i32 = 5;
/// `kAccumulationIntegerBits`: integer bits of the sum of exponentials.
const ACCUMULATION_INTEGER_BITS: i32 = 12;

/// Parameters of [`softmax_s8`] (TFLite's `SoftmaxParams` for int8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SoftmaxS8 {
    /// Q31 multiplier of `β · input_scale · 2^26` (capped at `2^31 − 1`).
    pub input_beta_multiplier: i32,
    /// Its left shift, in `[0, 30]`.
    pub input_beta_left_shift: i32,
    /// The most negative `x − max` that still contributes (≤ 0); smaller
    /// differences give output −128.
    pub diff_min: i32,
}

impl SoftmaxS8 {
    /// The parameters TFLite's Prepare computes
    /// (`PreprocessSoftmaxScaling` and `CalculateInputRadius`, double
    /// rounding):
    ///
    /// - `real = min(β · input_scale · 2^(31 − 5), 2^31 − 1)` in f64,
    ///   quantized as a multiplier greater than one
    ///   (`QuantizeMultiplierGreaterThanOne`);
    /// - `diff_min = −floor((2^5 − 1) · 2^(31 − 5) / 2^left_shift)`.
    ///
    /// The output of [`softmax_s8`] always has scale 1/256 and zero point
    /// −128.
    ///
    /// Errors with `InvalidParameter` when `β · input_scale` is not finite
    /// and positive, when `real ≤ 1` (TFLite rejects it too), or when
    /// `real ≥ 2^30 − 1/4`, which needs a left shift of 31 (TFLite would
    /// overflow computing `diff · 2^31`).
    pub fn new(input_scale: f32, beta: f32) -> Result<Self, Error> {
        let product = beta as f64 * input_scale as f64;
        if !(product.is_finite() && product > 0.0) {
            return Err(Error::InvalidParameter);
        }
        let max_real_multiplier = ((1u64 << 31) - 1) as f64;
        let real =
            (product * (1u64 << (31 - SCALED_DIFF_INTEGER_BITS)) as f64).min(max_real_multiplier);
        // At or above 2^30 − 1/4 the 31-bit mantissa rounds up to a shift
        // of 31.
        if real <= 1.0 || real >= (1u64 << 30) as f64 - 0.25 {
            return Err(Error::InvalidParameter);
        }
        let (multiplier, shift) = quantize_multiplier(real);
        // CalculateInputRadius(5, shift): floor in f64 of a positive value.
        let radius = (((1i64 << SCALED_DIFF_INTEGER_BITS) - 1) as f64
            * (1i64 << (31 - SCALED_DIFF_INTEGER_BITS)) as f64
            / (1i64 << shift) as f64) as i32;
        Ok(SoftmaxS8 {
            input_beta_multiplier: multiplier,
            input_beta_left_shift: shift,
            diff_min: -radius,
        })
    }

    fn validate(&self) -> Result<(), Error> {
        if !(0..=30).contains(&self.input_beta_left_shift) || self.diff_min > 0 {
            return Err(Error::InvalidParameter);
        }
        Ok(())
    }

    /// The Q5.26 scaled difference (TFLite's
    /// `MultiplyByQuantizedMultiplierGreaterThanOne`).
    #[inline(always)]
    fn scaled_diff(&self, diff: i32) -> i32 {
        saturating_rounding_doubling_high_mul(
            diff.wrapping_mul(1 << self.input_beta_left_shift),
            self.input_beta_multiplier,
        )
    }
}

/// `(rows, depth)` of a softmax over the last axis.
fn check<T: Element>(
    input: &TensorView<'_, T>,
    output: &TensorMut<'_, T>,
) -> Result<(usize, usize), Error> {
    if input.shape() != output.shape() {
        return Err(Error::ShapeMismatch);
    }
    let depth = input.shape().last();
    let rows = input.data().len().checked_div(depth).unwrap_or(0);
    Ok((rows, depth))
}

/// int8 softmax over the last axis (TFLite `SOFTMAX`); the output has scale
/// 1/256 and zero point −128.
///
/// `input` and `output` have the same shape (any rank; a scalar is one row
/// of one). Rows longer than 4095 whose elements all equal the maximum
/// overflow the Q12.19 sum as in TFLite (wrapping here; no panic).
///
/// Errors: `ShapeMismatch` when the shapes differ, `InvalidParameter` for
/// parameters out of range.
pub fn softmax_s8(
    input: TensorView<'_, i8>,
    output: &mut TensorMut<'_, i8>,
    params: &SoftmaxS8,
) -> Result<(), Error> {
    let (rows, depth) = check(&input, output)?;
    params.validate()?;
    let x = input.data();
    let out = output.data_mut();
    for r in 0..rows {
        let row = &x[r * depth..][..depth];
        let out_row = &mut out[r * depth..][..depth];
        let max = row.iter().copied().max().unwrap_or(i8::MIN) as i32;

        let mut sum_of_exps: i32 = 0; // Q12.19
        for &v in row {
            let diff = v as i32 - max;
            if diff >= params.diff_min {
                let e = exp_on_negative_values(params.scaled_diff(diff), SCALED_DIFF_INTEGER_BITS);
                sum_of_exps = sum_of_exps.wrapping_add(rescale(e, 0, ACCUMULATION_INTEGER_BITS));
            }
        }

        let (shifted_scale, num_bits_over_unit) =
            get_reciprocal(sum_of_exps, ACCUMULATION_INTEGER_BITS);

        for (o, &v) in out_row.iter_mut().zip(row) {
            let diff = v as i32 - max;
            *o = if diff >= params.diff_min {
                let e = exp_on_negative_values(params.scaled_diff(diff), SCALED_DIFF_INTEGER_BITS);
                let unsat = rounding_divide_by_pot(
                    saturating_rounding_doubling_high_mul(shifted_scale, e),
                    num_bits_over_unit + 31 - 8,
                );
                (unsat - 128).clamp(-128, 127) as i8
            } else {
                -128
            };
        }
    }
    Ok(())
}

fn softmax_float<T: Float>(
    input: TensorView<'_, T>,
    output: &mut TensorMut<'_, T>,
    beta: f32,
) -> Result<(), Error> {
    let (rows, depth) = check(&input, output)?;
    if !beta.is_finite() {
        return Err(Error::InvalidParameter);
    }
    let x = input.data();
    let out = output.data_mut();
    for r in 0..rows {
        let row = &x[r * depth..][..depth];
        let out_row = &mut out[r * depth..][..depth];
        let mut max = f32::NEG_INFINITY;
        for v in row {
            let v = v.to_f32();
            if v > max {
                max = v;
            }
        }
        // Exponentiate (x − max)·β ≤ 0 (for β ≥ 0): no overflow. The
        // exponentials are recomputed in the second pass so the output
        // buffer never holds unnormalised f16 values.
        let mut sum = 0.0f32;
        for v in row {
            sum += exp_f32((v.to_f32() - max) * beta);
        }
        let inv = 1.0 / sum;
        for (o, v) in out_row.iter_mut().zip(row) {
            *o = T::from_f32(exp_f32((v.to_f32() - max) * beta) * inv);
        }
    }
    Ok(())
}

/// f32 softmax over the last axis with inverse temperature `beta`:
/// `e^(β(x − max)) / Σ e^(β(x − max))`, stable for any input range.
///
/// Errors: `ShapeMismatch` when the shapes differ, `InvalidParameter` for a
/// non-finite `beta`.
pub fn softmax_f32(
    input: TensorView<'_, f32>,
    output: &mut TensorMut<'_, f32>,
    beta: f32,
) -> Result<(), Error> {
    softmax_float(input, output, beta)
}

/// f16 softmax over the last axis: as [`softmax_f32`] in f32, each output
/// rounded once to f16.
pub fn softmax_f16(
    input: TensorView<'_, f16>,
    output: &mut TensorMut<'_, f16>,
    beta: f32,
) -> Result<(), Error> {
    softmax_float(input, output, beta)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::kernels::reference::util::testing::*;

    fn softmax_f64(row: &[f64], beta: f64) -> Vec<f64> {
        let max = row.iter().cloned().fold(f64::MIN, f64::max);
        let e: Vec<f64> = row.iter().map(|&v| ((v - max) * beta).exp()).collect();
        let s: f64 = e.iter().sum();
        e.iter().map(|v| v / s).collect()
    }

    fn run_s8(x: &[i8], dims: &[usize], p: &SoftmaxS8) -> Vec<i8> {
        let mut out = vec![0i8; x.len()];
        softmax_s8(view(dims, x), &mut view_mut(dims, &mut out), p).unwrap();
        out
    }

    #[test]
    fn s8_is_within_one_quantum_of_float_softmax() {
        let mut rng = Rng::new(81);
        for iter in 0..1500 {
            let depth = rng.usize(1, 40);
            let rows = rng.usize(1, 3);
            let in_scale = rng.scale(0.01, 0.5);
            let beta = if rng.bool() {
                1.0
            } else {
                rng.uniform(0.2, 2.0) as f32
            };
            let zp = rng.range(-128, 127) as i32;
            let p = SoftmaxS8::new(in_scale, beta).unwrap();
            // Some rows spread over the full range, some narrow.
            let spread = [255, 30, 5][rng.usize(0, 2)];
            let x: Vec<i8> = (0..rows * depth)
                .map(|_| (rng.range(-128, -128 + spread)) as i8)
                .collect();
            let out = run_s8(&x, &[rows, depth], &p);
            let mut want = Vec::new();
            for r in 0..rows {
                let real: Vec<f64> = x[r * depth..][..depth]
                    .iter()
                    .map(|&v| deq(v, in_scale, zp))
                    .collect();
                for pr in softmax_f64(&real, beta as f64) {
                    want.push(quantize_ref(pr, 1.0 / 256.0, -128, -128, 127));
                }
            }
            assert_close_s8(
                &out,
                &want,
                1,
                &std::format!("case {iter}: depth {depth} scale {in_scale} beta {beta}"),
            );
        }
    }

    #[test]
    fn s8_hand_computed_cases_are_exact() {
        let p = SoftmaxS8::new(0.1, 1.0).unwrap();
        // One element: probability 1 → 256 − 128 = 128, clamped to 127.
        assert_eq!(run_s8(&[42], &[1, 1], &p), [127]);
        // Equal elements: 1/n exactly. n = 2 → 0, n = 4 → −64, n = 8 → −96.
        assert_eq!(run_s8(&[5, 5], &[2], &p), [0, 0]);
        assert_eq!(run_s8(&[-7; 4], &[4], &p), [-64; 4]);
        assert_eq!(run_s8(&[100; 8], &[8], &p), [-96; 8]);
        // Rows are independent.
        assert_eq!(run_s8(&[1, 1, 9, 9, 9, 9], &[3, 2], &p), [0; 6]);
        // Input scale 1: a difference of 255 is far below diff_min; the
        // maximum takes everything.
        let p1 = SoftmaxS8::new(1.0, 1.0).unwrap();
        assert_eq!(p1.input_beta_left_shift, 27);
        assert_eq!(p1.diff_min, -15); // −floor(31 · 2^26 / 2^27)
        assert_eq!(run_s8(&[127, -128], &[2], &p1), [127, -128]);
        // Two values ln 3 apart: probabilities 3/4 and 1/4 → 64 and −64.
        // With scale ln3/16 and x = (16, 0): e^(ln 3) = 3.
        let p3 = SoftmaxS8::new(core::f32::consts::LN_2 * 1.584_962_5 / 16.0, 1.0).unwrap();
        assert_eq!(run_s8(&[16, 0], &[2], &p3), [64, -64]);
    }

    #[test]
    fn constructor_follows_tflite_prepare() {
        // β·scale = 2^-3 → real = 2^23 → frexp (0.5, 24): multiplier 2^30,
        // shift 24, diff_min = −floor(31 · 2^26 / 2^24) = −124.
        let p = SoftmaxS8::new(0.125, 1.0).unwrap();
        assert_eq!(
            p,
            SoftmaxS8 {
                input_beta_multiplier: 1 << 30,
                input_beta_left_shift: 24,
                diff_min: -124
            }
        );
        assert_eq!(SoftmaxS8::new(0.0, 1.0), Err(Error::InvalidParameter));
        assert_eq!(SoftmaxS8::new(0.1, -1.0), Err(Error::InvalidParameter));
        assert_eq!(SoftmaxS8::new(f32::NAN, 1.0), Err(Error::InvalidParameter));
        assert_eq!(SoftmaxS8::new(1e-9, 1.0), Err(Error::InvalidParameter)); // real ≤ 1
        assert_eq!(SoftmaxS8::new(16.0, 1.0), Err(Error::InvalidParameter)); // shift 31
        assert!(SoftmaxS8::new(15.9, 1.0).is_ok());
    }

    #[test]
    fn bad_arguments_are_errors_not_panics() {
        let p = SoftmaxS8::new(0.1, 1.0).unwrap();
        let x = [0i8; 6];
        let mut o = [0i8; 6];
        assert_eq!(
            softmax_s8(view(&[2, 3], &x), &mut view_mut(&[3, 2], &mut o), &p),
            Err(Error::ShapeMismatch)
        );
        let bad = SoftmaxS8 {
            input_beta_left_shift: 31,
            ..p
        };
        assert_eq!(
            softmax_s8(view(&[2, 3], &x), &mut view_mut(&[2, 3], &mut o), &bad),
            Err(Error::InvalidParameter)
        );
        let bad = SoftmaxS8 { diff_min: 1, ..p };
        assert_eq!(
            softmax_s8(view(&[2, 3], &x), &mut view_mut(&[2, 3], &mut o), &bad),
            Err(Error::InvalidParameter)
        );
        // Arbitrary (validated) parameters never panic.
        let mut rng = Rng::new(82);
        for _ in 0..200 {
            let q = SoftmaxS8 {
                input_beta_multiplier: rng.next_u64() as i32,
                input_beta_left_shift: rng.range(0, 30) as i32,
                diff_min: -(rng.range(0, 1 << 20) as i32),
            };
            let x = rng.vec_i8(6);
            softmax_s8(view(&[2, 3], &x), &mut view_mut(&[2, 3], &mut o), &q).unwrap();
        }
        // Empty last axis: nothing to do.
        let mut none: [i8; 0] = [];
        softmax_s8(view(&[2, 0], &[]), &mut view_mut(&[2, 0], &mut none), &p).unwrap();
        let f = [0f32; 6];
        let mut fo = [0f32; 6];
        assert_eq!(
            softmax_f32(view(&[6], &f), &mut view_mut(&[6], &mut fo), f32::NAN),
            Err(Error::InvalidParameter)
        );
        assert_eq!(
            softmax_f32(view(&[6], &f), &mut view_mut(&[2, 3], &mut fo), 1.0),
            Err(Error::ShapeMismatch)
        );
    }

    // Tolerance: f32 within 1e-6 relative + 1e-9 absolute of the f64
    // softmax of the same inputs; f16 adds the final rounding (1e-3
    // relative, 1e-7 absolute).
    fn float_matches_f64<T: Float>(seed: u64, rel: f64, abs: f64) {
        let mut rng = Rng::new(seed);
        for iter in 0..300 {
            let depth = rng.usize(1, 30);
            let rows = rng.usize(1, 3);
            let beta = rng.uniform(0.1, 3.0) as f32;
            let range = [1.0, 10.0, 100.0][rng.usize(0, 2)];
            let x: Vec<T> = vec_float(&mut rng, rows * depth, -range, range);
            let mut out = vec![T::from_f32(0.0); x.len()];
            softmax_float(
                view(&[rows, depth], &x),
                &mut view_mut(&[rows, depth], &mut out),
                beta,
            )
            .unwrap();
            let xw = widen(&x);
            let mut want = Vec::new();
            for r in 0..rows {
                want.extend(softmax_f64(&xw[r * depth..][..depth], beta as f64));
            }
            let tols: Vec<f64> = want.iter().map(|w| rel * w + abs).collect();
            assert_close_f(&widen(&out), &want, &tols, &std::format!("case {iter}"));
        }
    }

    #[test]
    fn f32_matches_f64_reference() {
        float_matches_f64::<f32>(83, 1e-6, 1e-9);
    }

    #[test]
    fn f16_matches_f64_reference() {
        float_matches_f64::<f16>(84, 1e-3, 1e-7);
    }

    #[test]
    fn float_softmax_is_stable_for_huge_inputs() {
        let x = [1000.0f32, 1000.0, -1000.0];
        let mut out = [0f32; 3];
        softmax_f32(view(&[3], &x), &mut view_mut(&[3], &mut out), 1.0).unwrap();
        assert_eq!(out, [0.5, 0.5, 0.0]);
        let xh = [f16::from_f32(60000.0), f16::from_f32(0.0)];
        let mut oh = [f16::ZERO; 2];
        softmax_f16(view(&[1, 2], &xh), &mut view_mut(&[1, 2], &mut oh), 1.0).unwrap();
        assert_eq!(oh.map(|v| v.to_f32()), [1.0, 0.0]);
    }
}
