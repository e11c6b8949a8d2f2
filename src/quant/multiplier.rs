//! Real multipliers as a Q31 integer and a shift (TFLite's `QuantizeMultiplier`).

/// The smallest shift a multiplier can carry (a right shift of 31).
pub const MIN_SHIFT: i32 = -31;
/// The largest shift a multiplier can carry (a left shift of 30).
pub const MAX_SHIFT: i32 = 30;

/// Splits `x` into a mantissa in `[0.5, 1)` (with `x`'s sign) and a power of
/// two, like C's `frexp`. Zero, infinities and NaN return `(x, 0)`.
pub fn frexp(x: f64) -> (f64, i32) {
    if x == 0.0 || !x.is_finite() {
        return (x, 0);
    }
    let bits = x.to_bits();
    let exp_bits = ((bits >> 52) & 0x7ff) as i32;
    if exp_bits == 0 {
        // Subnormal: scale into the normal range first.
        let (m, e) = frexp(x * (1u64 << 54) as f64);
        return (m, e - 54);
    }
    let mantissa = f64::from_bits((bits & !(0x7ffu64 << 52)) | (1022u64 << 52));
    (mantissa, exp_bits - 1022)
}

/// A real multiplier as `(multiplier, shift)` with
/// `real ≈ multiplier × 2^(shift − 31)`, `multiplier` a Q31 value in
/// `[2³⁰, 2³¹)` (or 0).
///
/// Follows TensorFlow Lite's `QuantizeMultiplier`: the mantissa is rounded
/// half away from zero to 31 bits; a mantissa that rounds up to 1.0 is
/// halved and the shift increased; multipliers below `2⁻³¹` become `(0, 0)`.
/// Shifts above [`MAX_SHIFT`] saturate (such a multiplier exceeds 2³⁰ and
/// no valid model has one). Non-finite input gives `(0, 0)`.
pub fn quantize_multiplier(real: f64) -> (i32, i32) {
    if real == 0.0 || !real.is_finite() {
        return (0, 0);
    }
    let (q, mut shift) = frexp(real);
    let mut q_fixed = round_f64(q * (1u64 << 31) as f64) as i64;
    if q_fixed == 1i64 << 31 || q_fixed == -(1i64 << 31) {
        q_fixed /= 2;
        shift += 1;
    }
    if shift < MIN_SHIFT {
        return (0, 0);
    }
    if shift > MAX_SHIFT {
        return (if q_fixed > 0 { i32::MAX } else { -i32::MAX }, MAX_SHIFT);
    }
    (q_fixed as i32, shift)
}

/// Rounds half away from zero (C's `round`) without `std`.
fn round_f64(x: f64) -> f64 {
    if x.is_nan() || x.abs() >= 4_503_599_627_370_496.0 {
        return x; // already integral (or NaN)
    }
    let t = x as i64 as f64;
    let frac = x - t;
    if frac >= 0.5 {
        t + 1.0
    } else if frac <= -0.5 {
        t - 1.0
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::multiply_by_quantized_multiplier;

    #[test]
    fn frexp_matches_definition() {
        assert_eq!(frexp(1.0), (0.5, 1));
        assert_eq!(frexp(0.75), (0.75, 0));
        assert_eq!(frexp(-3.0), (-0.75, 2));
        let (m, e) = frexp(f64::MIN_POSITIVE / 8.0);
        assert_eq!(m, 0.5);
        assert_eq!(e, -1021 - 3);
    }

    #[test]
    fn zero_multiplier_is_zero_zero() {
        assert_eq!(quantize_multiplier(0.0), (0, 0));
        assert_eq!(quantize_multiplier(f64::NAN), (0, 0));
    }

    #[test]
    fn one_is_half_q31_shift_one() {
        assert_eq!(quantize_multiplier(1.0), (1 << 30, 1));
        assert_eq!(quantize_multiplier(0.5), (1 << 30, 0));
    }

    #[test]
    fn mantissa_rounding_up_to_one_is_renormalised() {
        // Just below 1.0: the 31-bit mantissa rounds to 2^31.
        let (m, s) = quantize_multiplier(1.0 - 1e-12);
        assert_eq!((m, s), (1 << 30, 1));
    }

    #[test]
    fn tiny_multipliers_flush_to_zero() {
        assert_eq!(quantize_multiplier(1e-12), (0, 0));
        let (m, s) = quantize_multiplier(2f64.powi(-31));
        assert_eq!((m, s), (1 << 30, -30));
    }

    #[test]
    fn multipliers_above_one_use_a_left_shift() {
        let (m, s) = quantize_multiplier(3.0);
        assert_eq!((m, s), (3 << 29, 2));
        assert_eq!(multiply_by_quantized_multiplier(7, m, s), 21);
        let (m, s) = quantize_multiplier(1e12);
        assert_eq!(s, MAX_SHIFT);
        assert!(m > 0);
    }

    #[test]
    fn quantized_multiplier_reproduces_the_real_one() {
        let mut r = 1e-6f64;
        while r < 100.0 {
            let (m, s) = quantize_multiplier(r);
            let back = m as f64 * 2f64.powi(s - 31);
            assert!((back - r).abs() <= r * 1e-9, "r={r} back={back}");
            r *= 1.37;
        }
    }
}
