//! Integer rounding primitives, exactly as the TensorFlow Lite integer
//! reference defines them (gemmlowp's `SaturatingRoundingDoublingHighMul`
//! and `RoundingDivideByPOT`).

/// `round(a × b / 2³¹)` with ties away from zero, saturating the one
/// overflowing case (`i32::MIN × i32::MIN`) to `i32::MAX`.
///
/// The nudge is `2³⁰` for a non-negative product and `1 − 2³⁰` for a
/// negative one, then the 64-bit sum is divided by `2³¹` truncating toward
/// zero — the definition TFLite and CMSIS-NN share.
#[inline(always)]
pub fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    // TFLite's definition, `(ab + nudge) / 2³¹` truncating toward zero with
    // nudge `2³⁰` or `1 − 2³⁰` by the sign of `ab`, equals
    // `floor((ab + 2³⁰) / 2³¹)` for both signs (for `ab < 0`:
    // `trunc(n / d) = floor((n + d − 1) / d)` with `n = ab + 1 − 2³⁰ < 0`),
    // which is one add and one shift instead of a sign-dependent nudge
    // and a signed 64-bit division (`tests::matches_tflite_definition`).
    let ab = a as i64 * b as i64;
    ((ab + (1 << 30)) >> 31) as i32
}

/// `x / 2^exponent` rounded to nearest, ties away from zero.
///
/// `exponent` must be in `0..=31`; values outside are clamped to that range
/// (never a panic), which no valid model produces.
#[inline(always)]
pub fn rounding_divide_by_pot(x: i32, exponent: i32) -> i32 {
    let e = exponent.clamp(0, 31) as u32;
    let mask = ((1i64 << e) - 1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1) + (x < 0) as i32;
    (x >> e) + (remainder > threshold) as i32
}

/// `x × multiplier × 2^(shift − 31)`, rounded, as TFLite's
/// `MultiplyByQuantizedMultiplier` (double rounding).
///
/// A positive `shift` is a left shift applied before the multiply
/// (wrapping, as two's-complement hardware does), a negative one a rounding
/// right shift after it. `shift` must be in
/// [`MIN_SHIFT`](super::MIN_SHIFT)`..=`[`MAX_SHIFT`](super::MAX_SHIFT).
#[inline(always)]
pub fn multiply_by_quantized_multiplier(x: i32, multiplier: i32, shift: i32) -> i32 {
    let left = shift.clamp(0, 30) as u32;
    let right = if shift < 0 { -shift } else { 0 };
    rounding_divide_by_pot(
        saturating_rounding_doubling_high_mul(x.wrapping_mul(1 << left), multiplier),
        right,
    )
}

/// Requantizes an int32 accumulator to an int8 output: scale with
/// `multiplier`/`shift`, add the output zero point, clamp to
/// `[act_min, act_max]` (the int8 range narrowed by a fused activation).
#[inline(always)]
pub fn requantize(
    acc: i32,
    multiplier: i32,
    shift: i32,
    output_zp: i32,
    act_min: i32,
    act_max: i32,
) -> i8 {
    let v = multiply_by_quantized_multiplier(acc, multiplier, shift).saturating_add(output_zp);
    v.clamp(act_min, act_max) as i8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubling_high_mul_saturates_only_min_times_min() {
        assert_eq!(
            saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN),
            i32::MAX
        );
        assert_eq!(
            saturating_rounding_doubling_high_mul(i32::MIN, i32::MAX),
            -i32::MAX
        );
        assert_eq!(
            saturating_rounding_doubling_high_mul(i32::MAX, i32::MAX),
            i32::MAX - 1
        );
    }

    #[test]
    fn doubling_high_mul_rounds_ties_upward() {
        // a*b = ±2^30 → exactly ±0.5 after the division by 2^31. The nudge
        // 1 − 2³⁰ for negative products makes negative ties round toward
        // zero (−0.5 → 0, −1.5 → −1), as gemmlowp defines it.
        assert_eq!(saturating_rounding_doubling_high_mul(1 << 15, 1 << 15), 1);
        assert_eq!(
            saturating_rounding_doubling_high_mul(-(1 << 15), 1 << 15),
            0
        );
        assert_eq!(saturating_rounding_doubling_high_mul(-3 << 15, 1 << 15), -1);
        // just below a tie
        assert_eq!(
            saturating_rounding_doubling_high_mul((1 << 15) - 1, 1 << 15),
            0
        );
    }

    /// TFLite's formula, as written in gemmlowp.
    fn srdhm_tflite(a: i32, b: i32) -> i32 {
        if a == i32::MIN && b == i32::MIN {
            return i32::MAX;
        }
        let ab = a as i64 * b as i64;
        let nudge: i64 = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
        ((ab + nudge) / (1i64 << 31)) as i32
    }

    #[test]
    fn matches_tflite_definition() {
        let edges = [
            i32::MIN,
            i32::MIN + 1,
            -(1 << 30) - 1,
            -(1 << 30),
            -(1 << 15),
            -3,
            -1,
            0,
            1,
            2,
            1 << 15,
            1 << 30,
            i32::MAX - 1,
            i32::MAX,
        ];
        for &a in &edges {
            for &b in &edges {
                assert_eq!(
                    saturating_rounding_doubling_high_mul(a, b),
                    srdhm_tflite(a, b),
                    "{a} {b}"
                );
            }
        }
        let mut s = 0x1234_5678_9ABC_DEF0u64;
        for _ in 0..200_000 {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let a = (s >> 32) as i32 >> (s % 24);
            let b = s as i32;
            assert_eq!(
                saturating_rounding_doubling_high_mul(a, b),
                srdhm_tflite(a, b),
                "{a} {b}"
            );
        }
    }

    #[test]
    fn doubling_high_mul_by_zero_is_zero() {
        assert_eq!(saturating_rounding_doubling_high_mul(i32::MIN, 0), 0);
        assert_eq!(saturating_rounding_doubling_high_mul(0, i32::MAX), 0);
    }

    #[test]
    fn rounding_divide_rounds_negative_ties_away_from_zero() {
        assert_eq!(rounding_divide_by_pot(5, 1), 3);
        assert_eq!(rounding_divide_by_pot(-5, 1), -3);
        assert_eq!(rounding_divide_by_pot(-3, 1), -2);
        assert_eq!(rounding_divide_by_pot(-6, 2), -2); // -1.5 → -2
        assert_eq!(rounding_divide_by_pot(-5, 2), -1); // -1.25 → -1
        assert_eq!(rounding_divide_by_pot(7, 0), 7);
    }

    #[test]
    fn rounding_divide_handles_extremes() {
        assert_eq!(rounding_divide_by_pot(i32::MIN, 31), -1);
        assert_eq!(rounding_divide_by_pot(i32::MAX, 31), 1);
        assert_eq!(rounding_divide_by_pot(i32::MIN, 1), i32::MIN / 2);
        assert_eq!(rounding_divide_by_pot(-1, 31), 0);
    }

    #[test]
    fn rounding_divide_matches_exact_rounding_everywhere_small() {
        for x in -2000i32..2000 {
            for e in 0..8 {
                let exact = x as f64 / (1u32 << e) as f64;
                let want = exact.abs().round().copysign(exact) as i32;
                assert_eq!(rounding_divide_by_pot(x, e), want, "x={x} e={e}");
            }
        }
    }

    #[test]
    fn zero_multiplier_gives_zero() {
        assert_eq!(multiply_by_quantized_multiplier(i32::MAX, 0, 0), 0);
        assert_eq!(multiply_by_quantized_multiplier(i32::MIN, 0, -31), 0);
    }

    #[test]
    fn min_input_with_half_multiplier() {
        // i32::MIN × 0.5 = -2^30 exactly.
        assert_eq!(
            multiply_by_quantized_multiplier(i32::MIN, 1 << 30, 0),
            -(1 << 30)
        );
    }

    #[test]
    fn requantize_clamps_to_activation_range() {
        let (m, s) = crate::quant::quantize_multiplier(1.0);
        assert_eq!(requantize(500, m, s, 0, -128, 127), 127);
        assert_eq!(requantize(-500, m, s, 0, -128, 127), -128);
        assert_eq!(requantize(-5, m, s, 3, 0, 127), 0);
        let (half, hs) = crate::quant::quantize_multiplier(0.5);
        assert_eq!(requantize(i32::MAX, half, hs, 127, -128, 127), 127);
        assert_eq!(requantize(i32::MIN, half, hs, -128, -128, 127), -128);
    }
}
