//! The gemmlowp fixed-point helpers TFLite's integer softmax is defined
//! with, written from gemmlowp's published algorithm (`fixedpoint.h`).
//!
//! A value with `I` integer bits is an `i32` raw value `r` standing for
//! `r / 2^(31 − I)`. Products of such values use
//! [`saturating_rounding_doubling_high_mul`] (integer bits add up);
//! additions are plain two's-complement additions (wrapping here, where C++
//! would have undefined behaviour — they never overflow on valid inputs).

use crate::quant::{rounding_divide_by_pot, saturating_rounding_doubling_high_mul as mul};

/// gemmlowp's `SaturatingRoundingMultiplyByPOT<e>` for `e > 0`: a left shift
/// that saturates to `i32::MIN`/`i32::MAX`.
#[inline]
pub(crate) fn saturating_shl(x: i32, e: u32) -> i32 {
    let threshold = (1i32 << (31 - e)) - 1;
    if x > threshold {
        i32::MAX
    } else if x < -threshold {
        i32::MIN
    } else {
        x << e
    }
}

/// gemmlowp's `Rescale`: changes the number of integer bits from `src` to
/// `dst`, a saturating left shift or a rounding right shift of the raw
/// value.
#[inline]
pub(crate) fn rescale(raw: i32, src: i32, dst: i32) -> i32 {
    let e = src - dst;
    if e > 0 {
        saturating_shl(raw, e as u32)
    } else if e < 0 {
        rounding_divide_by_pot(raw, -e)
    } else {
        raw
    }
}

/// gemmlowp's `RoundingHalfSum`: `(a + b) / 2` rounded half away from zero.
#[inline]
pub(crate) fn rounding_half_sum(a: i32, b: i32) -> i32 {
    let sum = a as i64 + b as i64;
    let sign = if sum >= 0 { 1 } else { -1 };
    ((sum + sign) / 2) as i32
}

/// `e^a` for `a` in `[-1/4, 0)`, both Q0.31: a Taylor expansion around
/// `−1/8` to the fourth order.
pub(crate) fn exp_on_interval_between_negative_one_quarter_and_0_excl(a: i32) -> i32 {
    const EXP_MINUS_ONE_EIGHTH: i32 = 1_895_147_668; // e^(−1/8)
    const ONE_THIRD: i32 = 715_827_883;
    let x = a.wrapping_add(1 << 28); // a + 1/8
    let x2 = mul(x, x);
    let x3 = mul(x2, x);
    let x4 = mul(x2, x2);
    let x4_over_4 = rounding_divide_by_pot(x4, 2);
    let x4_over_24_plus_x3_over_6_plus_x2_over_2 = rounding_divide_by_pot(
        mul(x4_over_4.wrapping_add(x3), ONE_THIRD).wrapping_add(x2),
        1,
    );
    EXP_MINUS_ONE_EIGHTH.wrapping_add(mul(
        EXP_MINUS_ONE_EIGHTH,
        x.wrapping_add(x4_over_24_plus_x3_over_6_plus_x2_over_2),
    ))
}

/// `e^a` for `a ≤ 0` with `integer_bits` integer bits (`1..=30`); the
/// result is Q0.31.
///
/// `a` is split into `(a mod 1/4) − 1/4` — handled by
/// [`exp_on_interval_between_negative_one_quarter_and_0_excl`] — and a
/// remainder that is a multiple of 1/4; each set bit of the remainder
/// multiplies the result by the constant `e^(−2^k)` (a barrel shifter over
/// `k = −2..=4`). Inputs below −32 give 0; `a = 0` gives the largest Q0.31
/// value.
pub(crate) fn exp_on_negative_values(a: i32, integer_bits: i32) -> i32 {
    let fractional_bits = 31 - integer_bits;
    let one_quarter = 1i32 << (fractional_bits - 2);
    let mask = one_quarter - 1;
    let a_mod_quarter_minus_one_quarter = (a & mask) - one_quarter;
    let mut result = exp_on_interval_between_negative_one_quarter_and_0_excl(rescale(
        a_mod_quarter_minus_one_quarter,
        integer_bits,
        0,
    ));
    let remainder = a_mod_quarter_minus_one_quarter.wrapping_sub(a);

    // (exponent k, e^(−2^k) in Q0.31)
    const BARREL: [(i32, i32); 7] = [
        (-2, 1_672_461_947),
        (-1, 1_302_514_674),
        (0, 790_015_084),
        (1, 290_630_308),
        (2, 39_332_535),
        (3, 720_401),
        (4, 242),
    ];
    for (k, multiplier) in BARREL {
        if integer_bits > k {
            let shift = fractional_bits + k;
            if remainder & (1i32 << shift) != 0 {
                result = mul(result, multiplier);
            }
        }
    }
    if integer_bits > 5 {
        // Below −32 the result is 0.
        let clamp = -(1i32 << (36 - integer_bits));
        if a < clamp {
            result = 0;
        }
    }
    if a == 0 {
        result = i32::MAX;
    }
    result
}

/// `1 / (1 + a)` for `a` in `[0, 1)` (Q0.31 in, Q0.31 out): three
/// Newton–Raphson steps on the half denominator `(1 + a)/2`, starting from
/// `48/17 − 32/17 · d` (Q2.29 throughout).
pub(crate) fn one_over_one_plus_x_for_x_in_0_1(a: i32) -> i32 {
    const C48_OVER_17: i32 = 1_515_870_810;
    const NEG_32_OVER_17: i32 = -1_010_580_540;
    const ONE_Q2: i32 = 1 << 29;
    let half_denominator = rounding_half_sum(a, i32::MAX);
    let mut x = C48_OVER_17.wrapping_add(mul(half_denominator, NEG_32_OVER_17));
    for _ in 0..3 {
        let half_denominator_times_x = mul(half_denominator, x);
        let one_minus_half_denominator_times_x = ONE_Q2.wrapping_sub(half_denominator_times_x);
        // Q2 × Q2 = Q4, rescaled to Q2.
        x = x.wrapping_add(rescale(mul(x, one_minus_half_denominator_times_x), 4, 2));
    }
    // x ≈ 1/d = 2/(1 + a) in Q2; halve it (reinterpret as Q1) and rescale
    // to Q0.
    rescale(x, 1, 0)
}

/// `(1 − a) / (1 + a)` for `a` in `[0, 1)` (Q0.31 in, Q0.31 out): the same
/// Newton–Raphson reciprocal of the half denominator as
/// [`one_over_one_plus_x_for_x_in_0_1`], then `x − 1` (Q2) rescaled to Q0
/// (gemmlowp's `one_minus_x_over_one_plus_x_for_x_in_0_1`).
pub(crate) fn one_minus_x_over_one_plus_x_for_x_in_0_1(a: i32) -> i32 {
    const C48_OVER_17: i32 = 1_515_870_810;
    const NEG_32_OVER_17: i32 = -1_010_580_540;
    const ONE_Q2: i32 = 1 << 29;
    let half_denominator = rounding_half_sum(a, i32::MAX);
    let mut x = C48_OVER_17.wrapping_add(mul(half_denominator, NEG_32_OVER_17));
    for _ in 0..3 {
        let half_denominator_times_x = mul(half_denominator, x);
        let one_minus_half_denominator_times_x = ONE_Q2.wrapping_sub(half_denominator_times_x);
        x = x.wrapping_add(rescale(mul(x, one_minus_half_denominator_times_x), 4, 2));
    }
    rescale(x.wrapping_sub(ONE_Q2), 2, 0)
}

/// gemmlowp's `logistic` of a value with `integer_bits` integer bits, Q0.31
/// out: `1 / (1 + e^−|a|)` from [`exp_on_negative_values`] and
/// [`one_over_one_plus_x_for_x_in_0_1`]; for `a < 0` the result is
/// `One − that` (`One` = `i32::MAX` in Q0.31); `a = 0` gives exactly 1/2.
pub(crate) fn logistic(a: i32, integer_bits: i32) -> i32 {
    if a == 0 {
        return 1 << 30;
    }
    let abs = if a > 0 { a } else { a.wrapping_neg() };
    let positive =
        one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(abs.wrapping_neg(), integer_bits));
    if a > 0 {
        positive
    } else {
        i32::MAX.wrapping_sub(positive)
    }
}

/// gemmlowp's `tanh` of a value with `integer_bits` integer bits, Q0.31
/// out: for `n = −|a|`, `t = (1 − e^(2n)) / (1 + e^(2n))` where `2n` is the
/// same raw value read with one more integer bit (`ExactMulByPot<1>`, so
/// no overflow); the sign of `a` is restored by negation; `a = 0` gives 0.
pub(crate) fn tanh(a: i32, integer_bits: i32) -> i32 {
    if a == 0 {
        return 0;
    }
    let n = if a < 0 { a } else { a.wrapping_neg() };
    let t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(n, integer_bits + 1));
    if a < 0 {
        t.wrapping_neg()
    } else {
        t
    }
}

/// TFLite's `GetReciprocal`: for a positive `x` with `x_integer_bits`
/// integer bits, returns `(r, num_bits_over_unit)` with
/// `1/x ≈ r / 2^31 / 2^num_bits_over_unit`.
pub(crate) fn get_reciprocal(x: i32, x_integer_bits: i32) -> (i32, i32) {
    let headroom_plus_one = (x as u32).leading_zeros();
    let num_bits_over_unit = x_integer_bits - headroom_plus_one as i32;
    let shifted_sum_minus_one = (x as u32)
        .checked_shl(headroom_plus_one)
        .unwrap_or(0)
        .wrapping_sub(1u32 << 31) as i32;
    (
        one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one),
        num_bits_over_unit,
    )
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    fn q(raw: i32, integer_bits: i32) -> f64 {
        raw as f64 / (1u64 << (31 - integer_bits)) as f64
    }

    /// The fourth-order Taylor polynomial is good to about 2.2e-7 on
    /// `[-1/4, 0)`; the barrel-shifter products add a few LSB.
    #[test]
    fn exp_on_negative_values_tracks_exp() {
        for integer_bits in [5, 6] {
            let frac = 31 - integer_bits;
            let mut a = 0i64;
            while a >= i32::MIN as i64 {
                let raw = a as i32;
                let got = q(exp_on_negative_values(raw, integer_bits), 0);
                let want = q(raw, integer_bits).exp();
                assert!(
                    (got - want).abs() < 3e-7,
                    "bits {integer_bits} a={} got {got} want {want}",
                    q(raw, integer_bits)
                );
                a -= (1i64 << frac) / 37 + 12345;
            }
        }
        assert_eq!(exp_on_negative_values(0, 5), i32::MAX);
    }

    #[test]
    fn reciprocal_of_one_plus_x_is_accurate() {
        let mut a = 0i64;
        while a < i32::MAX as i64 {
            let got = q(one_over_one_plus_x_for_x_in_0_1(a as i32), 0);
            let want = 1.0 / (1.0 + q(a as i32, 0));
            assert!((got - want).abs() < 1e-8, "a={a}: {got} vs {want}");
            a += 9_876_543;
        }
    }

    #[test]
    fn get_reciprocal_scales_by_the_headroom() {
        // x = 3.0 with 12 integer bits.
        let x = 3 << 19;
        let (r, bits) = get_reciprocal(x, 12);
        let got = q(r, 0) / (1u64 << bits) as f64;
        assert!((got - 1.0 / 3.0).abs() < 1e-9, "{got}");
    }

    #[test]
    fn saturating_shift_saturates_both_ways() {
        assert_eq!(saturating_shl(1 << 29, 2), i32::MAX);
        assert_eq!(saturating_shl(-(1 << 29), 2), i32::MIN);
        assert_eq!(saturating_shl(-5, 3), -40);
        assert_eq!(rescale(1 << 20, 0, 12), 1 << 8);
        assert_eq!(rounding_half_sum(3, 4), 4);
        assert_eq!(rounding_half_sum(-3, -4), -4);
    }
}
