//! Element-wise int8 functions as 256-entry lookup tables.
//!
//! Any function of one int8 value is a table of its 256 outputs: the
//! kernels [`lut_s8`] and [`lut_s8_inplace`] look each value up, and the
//! builders below compute tables once (on the host or at start-up; they are
//! `no_std` pure functions).
//!
//! **Index convention**: `table[i]` holds the output for the input value
//! `i − 128`, so the table is in ascending input order; the index of `x`
//! is `(x as u8 ^ 0x80)` ([`lut_index`]). (TFLite's own int8 LUTs are
//! indexed by `x as u8`; an importer that copies such a table rotates it by
//! 128.)
//!
//! - [`relu_table_s8`] is TFLite's int8 `RELU` / `RELU6` / `RELU_N1_TO_1`
//!   (`ReluQuantized`) exactly;
//! - [`leaky_relu_table_s8`] is TFLite's int8 `LEAKY_RELU`
//!   (`QuantizeLeakyRelu`) exactly;
//! - [`tflm_sigmoid_table_s8`] and [`tflm_tanh_table_s8`] are TensorFlow
//!   Lite Micro's int8 `LOGISTIC` and `TANH` (`reference_integer_ops::
//!   Logistic` / `Tanh`: gemmlowp fixed point on a Q4.27 input) exactly —
//!   what the TFLite importer bakes into its tables;
//! - [`sigmoid_table_s8`], [`tanh_table_s8`] and [`float_table_s8`] compute
//!   the function in f64 on the dequantized input and quantize the result
//!   rounding half away from zero — the real function correctly rounded
//!   (TFLite's `LUTPopulate` does the same in f32; TFLite Micro's integer
//!   LOGISTIC/TANH use a fixed-point approximation instead, which can differ
//!   by one quantum).

use super::math::{sigmoid_f64, tanh_f64};
use super::util::{check_len, check_quant_s8};
use crate::quant::{
    activation_range_s8, multiply_by_quantized_multiplier, quantize_multiplier, Activation,
};
use crate::Error;

/// The table index of the int8 value `x`: `x + 128`, i.e. `x as u8 ^ 0x80`.
#[inline(always)]
pub const fn lut_index(x: i8) -> usize {
    (x as u8 ^ 0x80) as usize
}

/// Maps every element of `input` through `table` into `output`
/// (`output[i] = table[lut_index(input[i])]`).
///
/// Errors with `LengthMismatch` when the slices differ in length.
pub fn lut_s8(input: &[i8], output: &mut [i8], table: &[i8; 256]) -> Result<(), Error> {
    check_len(input.len(), output.len())?;
    for (o, &x) in output.iter_mut().zip(input) {
        *o = table[lut_index(x)];
    }
    Ok(())
}

/// Maps every element of `data` through `table` in place.
pub fn lut_s8_inplace(data: &mut [i8], table: &[i8; 256]) {
    for x in data.iter_mut() {
        *x = table[lut_index(*x)];
    }
}

/// Builds a table from a per-value function of the int8 input.
fn table_from(mut f: impl FnMut(i32) -> i32) -> [i8; 256] {
    let mut t = [0i8; 256];
    for (i, slot) in t.iter_mut().enumerate() {
        *slot = f(i as i32 - 128).clamp(-128, 127) as i8;
    }
    t
}

/// TFLite's int8 `RELU`, `RELU6` and `RELU_N1_TO_1` (`ReluQuantized`) as a
/// table: `clamp(out_zp + MultiplyByQuantizedMultiplier(x − in_zp, m, s), lo, hi)`
/// with `m, s` from `input_scale / output_scale` (divided in f32, as TFLite
/// does) and `[lo, hi]` the
/// activation's quantized range ([`activation_range_s8`]).
/// `Activation::None` gives a plain requantization.
///
/// `input` and `output` are `(scale, zero_point)`. Errors with
/// `InvalidParameter` for a non-finite or non-positive scale or a zero
/// point outside `[-128, 127]`.
pub fn relu_table_s8(
    input: (f32, i32),
    output: (f32, i32),
    activation: Activation,
) -> Result<[i8; 256], Error> {
    check_quant_s8(input.0, input.1)?;
    check_quant_s8(output.0, output.1)?;
    // TFLite divides the scales in f32, then widens the ratio to f64.
    let (m, s) = quantize_multiplier((input.0 / output.0) as f64);
    let (lo, hi) = activation_range_s8(activation, output.0, output.1);
    Ok(table_from(|x| {
        output
            .1
            .saturating_add(multiply_by_quantized_multiplier(x - input.1, m, s))
            .clamp(lo, hi)
    }))
}

/// TFLite's int8 `LEAKY_RELU` (`QuantizeLeakyRelu`) as a table: for
/// `d = x − in_zp`, `out_zp + MultiplyByQuantizedMultiplier(d, m, s)` with
/// the identity multiplier `input_scale / output_scale` when `d ≥ 0` and the
/// alpha multiplier `input_scale · alpha / output_scale` otherwise (both
/// computed in f32 as TFLite's Prepare does, then quantized from f64),
/// clamped to `[-128, 127]`.
///
/// Errors with `InvalidParameter` for bad scales or zero points or a
/// non-finite `alpha`.
pub fn leaky_relu_table_s8(
    alpha: f32,
    input: (f32, i32),
    output: (f32, i32),
) -> Result<[i8; 256], Error> {
    check_quant_s8(input.0, input.1)?;
    check_quant_s8(output.0, output.1)?;
    if !alpha.is_finite() {
        return Err(Error::InvalidParameter);
    }
    // TFLite computes both ratios in f32 (`input_scale * alpha /
    // output_scale`, left to right), then widens them to f64.
    let (mi, si) = quantize_multiplier((input.0 / output.0) as f64);
    let (ma, sa) = quantize_multiplier((input.0 * alpha / output.0) as f64);
    Ok(table_from(|x| {
        let d = x - input.1;
        let v = if d >= 0 {
            multiply_by_quantized_multiplier(d, mi, si)
        } else {
            multiply_by_quantized_multiplier(d, ma, sa)
        };
        output.1.saturating_add(v)
    }))
}

/// A table of any real function: for each int8 `x`, `f` is applied in f64
/// to `input_scale · (x − input_zp)` and the result quantized to the output
/// as `clamp(round_half_away(f / output_scale) + output_zp, −128, 127)`
/// (NaN maps to the zero point).
///
/// Errors with `InvalidParameter` for bad scales or zero points.
pub fn float_table_s8(
    input: (f32, i32),
    output: (f32, i32),
    f: impl Fn(f64) -> f64,
) -> Result<[i8; 256], Error> {
    check_quant_s8(input.0, input.1)?;
    check_quant_s8(output.0, output.1)?;
    let (in_scale, out_scale) = (input.0 as f64, output.0 as f64);
    Ok(table_from(|x| {
        let y = f(in_scale * (x - input.1) as f64) / out_scale;
        let r = if y.is_nan() {
            0
        } else if y >= 0.0 {
            // Saturating casts; |y| beyond i32 clamps anyway.
            (y + 0.5) as i32
        } else {
            (y - 0.5) as i32
        };
        r.saturating_add(output.1)
    }))
}

/// The logistic function `1 / (1 + e^−x)` as an int8 table (see
/// [`float_table_s8`]). TFLite's int8 LOGISTIC uses output scale 1/256 and
/// zero point −128.
pub fn sigmoid_table_s8(input: (f32, i32), output: (f32, i32)) -> Result<[i8; 256], Error> {
    float_table_s8(input, output, sigmoid_f64)
}

/// `tanh` as an int8 table (see [`float_table_s8`]). TFLite's int8 TANH
/// uses output scale 1/128 and zero point 0.
pub fn tanh_table_s8(input: (f32, i32), output: (f32, i32)) -> Result<[i8; 256], Error> {
    float_table_s8(input, output, tanh_f64)
}

/// The input stage TFLite Micro's int8 LOGISTIC and TANH share
/// (`CalculateArithmeticOpData`): the real multiplier
/// `input_scale · 2^(31 − 4)` (f64) split by `frexp` into a mantissa
/// rounded to a Q31 `multiplier` (half away from zero, *not*
/// renormalised) and an exponent used as a left `shift`, and the input
/// radius `floor((2^4 − 1) · 2^(31 − 4) / 2^shift)` beyond which the output
/// saturates. Errors when the mantissa rounds to 2^31 (TFLite would
/// overflow) or the shift leaves `[-31, 30]`.
fn tflm_q4_input_stage(input_scale: f32) -> Result<(i32, i32, i32), Error> {
    const INPUT_INTEGER_BITS: i32 = 4;
    let real = input_scale as f64 * (1i64 << (31 - INPUT_INTEGER_BITS)) as f64;
    let (q, shift) = crate::quant::frexp(real);
    // TfLiteRound(q · 2^31): half away from zero; q is in [0.5, 1).
    let x = q * (1i64 << 31) as f64;
    let t = x as i64;
    let m = if x - t as f64 >= 0.5 { t + 1 } else { t };
    if !(1..(1i64 << 31)).contains(&m)
        || !(crate::quant::MIN_SHIFT..=crate::quant::MAX_SHIFT).contains(&shift)
    {
        return Err(Error::InvalidParameter);
    }
    // CalculateInputRadius(4, shift, 31) = floor(15 · 2^27 / 2^shift),
    // exact in integers (saturated to i32: such a radius is never reached).
    let max_input = ((1i64 << INPUT_INTEGER_BITS) - 1) << (31 - INPUT_INTEGER_BITS);
    let radius = if shift >= 0 {
        max_input >> shift
    } else {
        max_input << (-shift) as u32
    };
    Ok((m as i32, shift, radius.min(i32::MAX as i64) as i32))
}

/// TensorFlow Lite Micro's int8 `LOGISTIC` (`reference_integer_ops::Logistic`)
/// as a table, for an input with `input = (scale, zero_point)`; the output
/// is scale 1/256, zero point −128 (TFLite requires it). For
/// `d = x − input_zero_point`: `d ≤ −radius` gives −128, `d ≥ radius`
/// gives 127, otherwise `d` is scaled to Q4.27 with
/// `MultiplyByQuantizedMultiplier(d, multiplier, shift)` (see
/// `tflm_q4_input_stage` in this file), gemmlowp's fixed-point logistic gives a Q0.31
/// value `r`, and the output is
/// `clamp(RoundingDivideByPOT(r, 23) − 128, −128, 127)`.
///
/// Errors with `InvalidParameter` for a bad scale or zero point.
pub fn tflm_sigmoid_table_s8(input: (f32, i32)) -> Result<[i8; 256], Error> {
    check_quant_s8(input.0, input.1)?;
    let (m, s, radius) = tflm_q4_input_stage(input.0)?;
    Ok(table_from(|x| {
        let d = x - input.1;
        if d <= -radius {
            -128
        } else if d >= radius {
            127
        } else {
            let q4 = multiply_by_quantized_multiplier(d, m, s);
            let r = super::gemmlowp::logistic(q4, 4);
            crate::quant::rounding_divide_by_pot(r, 31 - 8) - 128
        }
    }))
}

/// TensorFlow Lite Micro's int8 `TANH` (`reference_integer_ops::Tanh`) as a
/// table; the output is scale 1/128, zero point 0. As
/// [`tflm_sigmoid_table_s8`] with gemmlowp's fixed-point tanh, and the
/// output `clamp(RoundingDivideByPOT(r, 24), −128, 127)`.
pub fn tflm_tanh_table_s8(input: (f32, i32)) -> Result<[i8; 256], Error> {
    check_quant_s8(input.0, input.1)?;
    let (m, s, radius) = tflm_q4_input_stage(input.0)?;
    Ok(table_from(|x| {
        let d = x - input.1;
        if d <= -radius {
            -128
        } else if d >= radius {
            127
        } else {
            let q4 = multiply_by_quantized_multiplier(d, m, s);
            let r = super::gemmlowp::tanh(q4, 4);
            crate::quant::rounding_divide_by_pot(r, 31 - 7)
        }
    }))
}

/// TensorFlow Lite Micro's int8 `RELU6` (`Relu6Quantized`) as a table: a
/// clamp of the raw input to `[zero_point, six]` with
/// `six = clamp(round(6 / scale) + zero_point, −128, 127)` (f32 division,
/// half away from zero), *without* requantization: TFLite Micro assumes
/// the output shares the input's parameters (LiteRT requantizes instead).
pub fn tflm_relu6_table_s8(input: (f32, i32)) -> Result<[i8; 256], Error> {
    check_quant_s8(input.0, input.1)?;
    let six = (crate::quant::round_half_away(6.0 / input.0) as i64 + input.1 as i64)
        .clamp(-128, 127) as i32;
    let zero = input.1;
    Ok(table_from(|x| {
        if x > six {
            six
        } else if x < zero {
            zero
        } else {
            x
        }
    }))
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::kernels::reference::util::testing::*;

    fn all_inputs() -> Vec<i8> {
        (-128..=127).map(|v| v as i8).collect()
    }

    #[test]
    fn lookup_uses_ascending_input_order() {
        let mut t = [0i8; 256];
        for (i, v) in t.iter_mut().enumerate() {
            *v = (i as i32 - 128) as i8; // identity
        }
        let x = all_inputs();
        let mut out = vec![0i8; 256];
        lut_s8(&x, &mut out, &t).unwrap();
        assert_eq!(out, x);
        assert_eq!(lut_index(-128), 0);
        assert_eq!(lut_index(0), 128);
        assert_eq!(lut_index(127), 255);
        let mut neg = t;
        neg.iter_mut().for_each(|v| *v = v.saturating_neg());
        let mut data = x.clone();
        lut_s8_inplace(&mut data, &neg);
        assert_eq!(data[0], 127);
        assert_eq!(data[255], -127);
        assert_eq!(
            lut_s8(&x, &mut out[..255], &t),
            Err(Error::LengthMismatch {
                expected: 256,
                got: 255
            })
        );
    }

    #[test]
    fn relu_tables_are_within_one_quantum_of_float() {
        let mut rng = Rng::new(61);
        for iter in 0..200 {
            let (si, zi) = (rng.scale(0.005, 0.5), rng.range(-128, 127) as i32);
            let (so, zo) = (
                (si as f64 * rng.uniform(0.5, 3.0)) as f32,
                rng.range(-128, 127) as i32,
            );
            let act = [
                Activation::None,
                Activation::Relu,
                Activation::Relu6,
                Activation::ReluN1To1,
            ][iter % 4];
            let t = relu_table_s8((si, zi), (so, zo), act).unwrap();
            let (lo, hi) = activation_range_s8(act, so, zo);
            let (flo, fhi) = act.float_range();
            let want: Vec<i32> = all_inputs()
                .iter()
                .map(|&x| {
                    let r = deq(x, si, zi).clamp(flo as f64, fhi as f64);
                    quantize_ref(r, so as f64, zo, lo, hi)
                })
                .collect();
            assert_close_s8(&t, &want, 1, &std::format!("case {iter} {act:?}"));
        }
        // Same scales: exact identity above the zero point.
        let t = relu_table_s8((0.1, -5), (0.1, -5), Activation::Relu).unwrap();
        assert_eq!(t[lut_index(-6)], -5);
        assert_eq!(t[lut_index(-5)], -5);
        assert_eq!(t[lut_index(100)], 100);
    }

    #[test]
    fn leaky_relu_table_is_within_one_quantum_of_float() {
        let mut rng = Rng::new(62);
        for iter in 0..200 {
            let alpha = rng.uniform(0.0, 0.5) as f32;
            let (si, zi) = (rng.scale(0.005, 0.5), rng.range(-128, 127) as i32);
            let (so, zo) = (
                (si as f64 * rng.uniform(0.5, 3.0)) as f32,
                rng.range(-128, 127) as i32,
            );
            let t = leaky_relu_table_s8(alpha, (si, zi), (so, zo)).unwrap();
            let want: Vec<i32> = all_inputs()
                .iter()
                .map(|&x| {
                    let r = deq(x, si, zi);
                    let r = if r >= 0.0 { r } else { alpha as f64 * r };
                    quantize_ref(r, so as f64, zo, -128, 127)
                })
                .collect();
            assert_close_s8(&t, &want, 1, &std::format!("case {iter} alpha {alpha}"));
        }
        assert_eq!(
            leaky_relu_table_s8(f32::NAN, (0.1, 0), (0.1, 0)),
            Err(Error::InvalidParameter)
        );
    }

    #[test]
    fn sigmoid_and_tanh_tables_are_the_correctly_rounded_functions() {
        let mut rng = Rng::new(63);
        for iter in 0..100 {
            let (si, zi) = (rng.scale(0.01, 0.2), rng.range(-128, 127) as i32);
            let sig = sigmoid_table_s8((si, zi), (1.0 / 256.0, -128)).unwrap();
            let th = tanh_table_s8((si, zi), (1.0 / 128.0, 0)).unwrap();
            let want_sig: Vec<i32> = all_inputs()
                .iter()
                .map(|&x| {
                    quantize_ref(
                        1.0 / (1.0 + (-deq(x, si, zi)).exp()),
                        1.0 / 256.0,
                        -128,
                        -128,
                        127,
                    )
                })
                .collect();
            let want_th: Vec<i32> = all_inputs()
                .iter()
                .map(|&x| quantize_ref(deq(x, si, zi).tanh(), 1.0 / 128.0, 0, -128, 127))
                .collect();
            assert_close_s8(&sig, &want_sig, 0, &std::format!("sigmoid case {iter}"));
            assert_close_s8(&th, &want_th, 0, &std::format!("tanh case {iter}"));
        }
        // Hand-checked: sigmoid(0) = 0.5 → 128 − 128 = 0; tanh(0) = 0.
        let sig = sigmoid_table_s8((0.1, 0), (1.0 / 256.0, -128)).unwrap();
        assert_eq!(sig[lut_index(0)], 0);
        assert_eq!(sig[lut_index(127)], 127); // 0.99999 · 256 − 128 = 127.99 → 128 → clamp 127
        assert_eq!(sig[lut_index(-128)], -128);
        let th = tanh_table_s8((0.1, 0), (1.0 / 128.0, 0)).unwrap();
        assert_eq!(th[lut_index(0)], 0);
        assert_eq!(th[lut_index(10)], 97); // tanh(1) · 128 = 97.48
    }

    #[test]
    fn float_table_handles_nan_and_bad_params() {
        let t = float_table_s8((0.1, 0), (0.1, 3), |_| f64::NAN).unwrap();
        assert!(t.iter().all(|&v| v == 3));
        let t = float_table_s8((0.1, 0), (0.1, 0), |x| x * 1e30).unwrap();
        assert_eq!((t[0], t[128], t[255]), (-128, 0, 127));
        assert_eq!(
            sigmoid_table_s8((0.0, 0), (1.0, 0)),
            Err(Error::InvalidParameter)
        );
        assert_eq!(
            tanh_table_s8((1.0, 0), (f32::INFINITY, 0)),
            Err(Error::InvalidParameter)
        );
        assert_eq!(
            relu_table_s8((1.0, -129), (1.0, 0), Activation::Relu),
            Err(Error::InvalidParameter)
        );
    }

    #[test]
    fn tflm_sigmoid_and_tanh_tables_are_within_one_quantum_of_the_real_function() {
        for &(scale, zp) in &[
            (0.02f32, 0),
            (0.1, -20),
            (0.05, 100),
            (0.5, -128),
            (0.004, 7),
        ] {
            let s = tflm_sigmoid_table_s8((scale, zp)).unwrap();
            let t = tflm_tanh_table_s8((scale, zp)).unwrap();
            let fs = sigmoid_table_s8((scale, zp), (1.0 / 256.0, -128)).unwrap();
            let ft = tanh_table_s8((scale, zp), (1.0 / 128.0, 0)).unwrap();
            for i in 0..256 {
                assert!(
                    (s[i] as i32 - fs[i] as i32).abs() <= 1,
                    "sigmoid {scale} {zp} {i}"
                );
                assert!(
                    (t[i] as i32 - ft[i] as i32).abs() <= 1,
                    "tanh {scale} {zp} {i}"
                );
                if i > 0 {
                    assert!(s[i] >= s[i - 1] && t[i] >= t[i - 1], "monotone");
                }
            }
            // Zero in, exact midpoint out.
            assert_eq!(s[lut_index(zp.clamp(-128, 127) as i8)], 0);
            assert_eq!(t[lut_index(zp.clamp(-128, 127) as i8)], 0);
        }
        assert!(tflm_sigmoid_table_s8((0.0, 0)).is_err());
    }

    #[test]
    fn tflm_relu6_clamps_raw_values() {
        let t = tflm_relu6_table_s8((0.05, -10)).unwrap();
        // six = round(6 / 0.05) - 10 = 110.
        assert_eq!(t[lut_index(-128)], -10);
        assert_eq!(t[lut_index(50)], 50);
        assert_eq!(t[lut_index(127)], 110);
    }
}
