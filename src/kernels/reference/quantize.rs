//! QUANTIZE and DEQUANTIZE: conversions between float and int8, and int8 to
//! int8 requantization.
//!
//! - float → int8: TFLite's `AffineQuantize`,
//!   `clamp(round_half_away(x / scale) + zero_point, −128, 127)` with the
//!   division in f32 ([`quantize_value`]); f16 inputs are widened to f32
//!   first.
//! - int8 → float: TFLite's `Dequantize`, `scale · (q − zero_point)` computed
//!   in f64 and rounded to f32 ([`dequantize_value`]); the f16 variant
//!   rounds that f32 to f16.
//! - int8 → int8: TFLite's int8 QUANTIZE with an int8 input (`Requantize`),
//!   `clamp(MultiplyByQuantizedMultiplier(x − in_zp, m, s) + out_zp, −128, 127)`
//!   with `m, s` from `input_scale / output_scale` ([`RequantizeS8::new`]).

use super::util::{check_len, check_quant_s8, check_shift};
use crate::kernels::Float;
use crate::quant::{
    dequantize_value, multiply_by_quantized_multiplier, quantize_multiplier, quantize_value,
};
use crate::Error;
use half::f16;

fn quantize<T: Float>(
    input: &[T],
    output: &mut [i8],
    scale: f32,
    zero_point: i32,
) -> Result<(), Error> {
    check_len(input.len(), output.len())?;
    check_quant_s8(scale, zero_point)?;
    for (o, &x) in output.iter_mut().zip(input) {
        *o = quantize_value(x.to_f32(), scale, zero_point);
    }
    Ok(())
}

fn dequantize<T: Float>(
    input: &[i8],
    output: &mut [T],
    scale: f32,
    zero_point: i32,
) -> Result<(), Error> {
    check_len(input.len(), output.len())?;
    check_quant_s8(scale, zero_point)?;
    for (o, &q) in output.iter_mut().zip(input) {
        *o = T::from_f32(dequantize_value(q as i32, scale, zero_point));
    }
    Ok(())
}

/// Quantizes f32 values to int8 with `scale` and `zero_point` (TFLite
/// `QUANTIZE`); NaN maps to the zero point, out-of-range values saturate.
///
/// Errors: `LengthMismatch` when the slices differ in length,
/// `InvalidParameter` for a non-finite or non-positive scale or a zero point
/// outside `[-128, 127]`.
pub fn quantize_f32_s8(
    input: &[f32],
    output: &mut [i8],
    scale: f32,
    zero_point: i32,
) -> Result<(), Error> {
    quantize(input, output, scale, zero_point)
}

/// Quantizes f16 values to int8 (widened to f32, then as
/// [`quantize_f32_s8`]).
pub fn quantize_f16_s8(
    input: &[f16],
    output: &mut [i8],
    scale: f32,
    zero_point: i32,
) -> Result<(), Error> {
    quantize(input, output, scale, zero_point)
}

/// Dequantizes int8 values to f32: `scale · (q − zero_point)` (TFLite
/// `DEQUANTIZE`). Errors as [`quantize_f32_s8`].
pub fn dequantize_s8_f32(
    input: &[i8],
    output: &mut [f32],
    scale: f32,
    zero_point: i32,
) -> Result<(), Error> {
    dequantize(input, output, scale, zero_point)
}

/// Dequantizes int8 values to f16 (the f32 result of
/// [`dequantize_s8_f32`] rounded to f16). Errors as [`quantize_f32_s8`].
pub fn dequantize_s8_f16(
    input: &[i8],
    output: &mut [f16],
    scale: f32,
    zero_point: i32,
) -> Result<(), Error> {
    dequantize(input, output, scale, zero_point)
}

/// Parameters of [`requantize_s8`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RequantizeS8 {
    /// The input's zero point.
    pub input_zero_point: i32,
    /// The output's zero point.
    pub output_zero_point: i32,
    /// Q31 multiplier of `input_scale / output_scale`.
    pub multiplier: i32,
    /// Its shift, in `[-31, 30]`.
    pub shift: i32,
}

impl RequantizeS8 {
    /// The parameters TFLite's Prepare computes for an int8 → int8 QUANTIZE:
    /// `effective_scale = input_scale / output_scale` in f64, quantized with
    /// [`quantize_multiplier`]. `input` and `output` are
    /// `(scale, zero_point)`.
    ///
    /// Errors with `InvalidParameter` for a non-finite or non-positive scale
    /// or a zero point outside `[-128, 127]`.
    pub fn new(input: (f32, i32), output: (f32, i32)) -> Result<Self, Error> {
        check_quant_s8(input.0, input.1)?;
        check_quant_s8(output.0, output.1)?;
        let (multiplier, shift) = quantize_multiplier(input.0 as f64 / output.0 as f64);
        Ok(RequantizeS8 {
            input_zero_point: input.1,
            output_zero_point: output.1,
            multiplier,
            shift,
        })
    }
}

/// Requantizes int8 values from one `(scale, zero_point)` to another
/// (TFLite's int8 → int8 `QUANTIZE`):
/// `clamp(MultiplyByQuantizedMultiplier(x − in_zp, m, s) + out_zp, −128, 127)`.
///
/// Errors: `LengthMismatch` when the slices differ in length,
/// `InvalidParameter` for a shift or zero point out of range.
pub fn requantize_s8(input: &[i8], output: &mut [i8], params: &RequantizeS8) -> Result<(), Error> {
    check_len(input.len(), output.len())?;
    check_shift(params.shift)?;
    if !(-128..=127).contains(&params.input_zero_point)
        || !(-128..=127).contains(&params.output_zero_point)
    {
        return Err(Error::InvalidParameter);
    }
    for (o, &x) in output.iter_mut().zip(input) {
        let v = multiply_by_quantized_multiplier(
            x as i32 - params.input_zero_point,
            params.multiplier,
            params.shift,
        )
        .saturating_add(params.output_zero_point);
        *o = v.clamp(-128, 127) as i8;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::kernels::reference::util::testing::*;

    fn quantize_matches_f64<T: Float>(seed: u64) {
        let mut rng = Rng::new(seed);
        for iter in 0..200 {
            let (scale, zp) = (rng.scale(0.001, 1.0), rng.range(-128, 127) as i32);
            let x: Vec<T> = vec_float(&mut rng, 64, -200.0 * scale as f64, 200.0 * scale as f64);
            let mut q = vec![0i8; x.len()];
            quantize(&x, &mut q, scale, zp).unwrap();
            // Bit-exact with the f32 definition; within one quantum of the
            // f64 one (the f32 division can land on the other side of a tie).
            let exact: Vec<i32> = x
                .iter()
                .map(|v| quantize_value(v.to_f32(), scale, zp) as i32)
                .collect();
            assert_close_s8(&q, &exact, 0, "f32 definition");
            let want: Vec<i32> = widen(&x)
                .iter()
                .map(|&v| quantize_ref(v, scale as f64, zp, -128, 127))
                .collect();
            assert_close_s8(&q, &want, 1, &std::format!("case {iter}"));
        }
    }

    #[test]
    fn quantize_f32_and_f16_match_the_definition() {
        quantize_matches_f64::<f32>(101);
        quantize_matches_f64::<f16>(102);
        let mut q = [0i8; 5];
        quantize_f32_s8(&[0.25, -0.25, f32::NAN, 1e9, -1e9], &mut q, 0.5, 1).unwrap();
        assert_eq!(q, [2, 0, 1, 127, -128]); // 0.5 → 1 and −0.5 → −1: ties away
        quantize_f16_s8(&[f16::from_f32(0.75)], &mut q[..1], 0.5, 0).unwrap();
        assert_eq!(q[0], 2);
    }

    #[test]
    fn dequantize_is_exact_in_f32_and_rounded_once_in_f16() {
        let mut rng = Rng::new(103);
        let all: Vec<i8> = (-128..=127).map(|v| v as i8).collect();
        for _ in 0..50 {
            let (scale, zp) = (rng.scale(0.001, 10.0), rng.range(-128, 127) as i32);
            let mut f = vec![0f32; 256];
            dequantize_s8_f32(&all, &mut f, scale, zp).unwrap();
            let mut h = vec![f16::ZERO; 256];
            dequantize_s8_f16(&all, &mut h, scale, zp).unwrap();
            for (i, &q) in all.iter().enumerate() {
                let want = deq(q, scale, zp);
                assert_eq!(f[i], want as f32);
                // Rounding f64 → f32 → f16 is within half an f16 ulp (plus
                // the f32 rounding).
                let tol = want.abs() / 2048.0 * 1.0001 + 3e-8;
                assert!(
                    (h[i].to_f32() as f64 - want).abs() <= tol,
                    "{q}: {} vs {want}",
                    h[i]
                );
            }
        }
    }

    #[test]
    fn requantize_is_within_one_quantum_of_float() {
        let mut rng = Rng::new(104);
        let all: Vec<i8> = (-128..=127).map(|v| v as i8).collect();
        for iter in 0..300 {
            let (si, zi) = (rng.scale(0.001, 1.0), rng.range(-128, 127) as i32);
            let (so, zo) = (
                (si as f64 * rng.uniform(0.1, 10.0)) as f32,
                rng.range(-128, 127) as i32,
            );
            let p = RequantizeS8::new((si, zi), (so, zo)).unwrap();
            let mut out = vec![0i8; 256];
            requantize_s8(&all, &mut out, &p).unwrap();
            let want: Vec<i32> = all
                .iter()
                .map(|&x| quantize_ref(deq(x, si, zi), so as f64, zo, -128, 127))
                .collect();
            assert_close_s8(&out, &want, 1, &std::format!("case {iter}"));
        }
        // Same scale, shifted zero point: exact.
        let p = RequantizeS8::new((0.5, 10), (0.5, -10)).unwrap();
        let mut out = [0i8; 3];
        requantize_s8(&[10, 20, -128], &mut out, &p).unwrap();
        assert_eq!(out, [-10, 0, -128]);
    }

    #[test]
    fn bad_arguments_are_errors_not_panics() {
        let mut q = [0i8; 2];
        let mut f = [0f32; 2];
        assert_eq!(
            quantize_f32_s8(&[0.0; 3], &mut q, 1.0, 0),
            Err(Error::LengthMismatch {
                expected: 3,
                got: 2
            })
        );
        assert_eq!(
            quantize_f32_s8(&[0.0; 2], &mut q, 0.0, 0),
            Err(Error::InvalidParameter)
        );
        assert_eq!(
            quantize_f32_s8(&[0.0; 2], &mut q, 1.0, 128),
            Err(Error::InvalidParameter)
        );
        assert_eq!(
            dequantize_s8_f32(&[0; 2], &mut f, f32::INFINITY, 0),
            Err(Error::InvalidParameter)
        );
        assert_eq!(
            dequantize_s8_f32(&[0; 1], &mut f, 1.0, 0),
            Err(Error::LengthMismatch {
                expected: 1,
                got: 2
            })
        );
        assert!(dequantize_s8_f16(&[0; 2], &mut [f16::ZERO; 2], -1.0, 0).is_err());
        assert_eq!(
            RequantizeS8::new((1.0, 0), (0.0, 0)),
            Err(Error::InvalidParameter)
        );
        let p = RequantizeS8::new((1.0, 0), (1.0, 0)).unwrap();
        assert_eq!(
            requantize_s8(&[0; 2], &mut q, &RequantizeS8 { shift: 31, ..p }),
            Err(Error::InvalidParameter)
        );
        assert_eq!(
            requantize_s8(
                &[0; 2],
                &mut q,
                &RequantizeS8 {
                    input_zero_point: -129,
                    ..p
                }
            ),
            Err(Error::InvalidParameter)
        );
        assert_eq!(
            requantize_s8(&[0; 3], &mut q, &p),
            Err(Error::LengthMismatch {
                expected: 3,
                got: 2
            })
        );
    }
}
