//! Deterministic elementary functions for the float kernels and table
//! builders.
//!
//! These use only IEEE-754 addition, subtraction, multiplication, division
//! and bit manipulation, which every target computes with the same correct
//! rounding (Rust never fuses them into FMAs), so the host and every
//! Cortex-M give bit-identical results. They are used instead of
//! `micromath::F32Ext::exp`, whose four-term series is only good to about
//! 1e-3 relative error, and which has no `tanh`; these are accurate to a
//! few ulp.

/// `2^k` for `k` in `[-126, 127]`.
#[inline(always)]
fn pow2_f32(k: i32) -> f32 {
    f32::from_bits(((k + 127) as u32) << 23)
}

/// `2^k` for `k` in `[-1022, 1023]`.
#[inline(always)]
fn pow2_f64(k: i32) -> f64 {
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// Rounds to the nearest integer (ties away from zero) for `|x| < 2^31`.
#[inline(always)]
fn round_i32(x: f32) -> i32 {
    crate::quant::round_half_away(x) as i32
}

/// `e^x` in f32, within a few ulp of the exact value.
///
/// Cody–Waite range reduction `x = k·ln2 + r`, `|r| ≤ ln2/2`, then a
/// degree-7 Taylor polynomial for `e^r` (truncation error below 1e-8
/// relative) and a scale by `2^k` in two steps so subnormal results are
/// rounded once.
pub(crate) fn exp_f32(x: f32) -> f32 {
    const LN2_HI: f32 = 6.931_457_5e-1; // 0x3f317200: few bits, k·LN2_HI exact
    const LN2_LO: f32 = 1.428_606_8e-6; // ln 2 − LN2_HI
    if x.is_nan() {
        return x;
    }
    if x > 88.722_84 {
        return f32::INFINITY;
    }
    if x < -103.972_08 {
        return 0.0;
    }
    let k = round_i32(x * core::f32::consts::LOG2_E);
    let kf = k as f32;
    let r = (x - kf * LN2_HI) - kf * LN2_LO;
    // 1 + r + r²/2! + … + r⁷/7!, Horner form.
    let mut p = 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    let k1 = k / 2;
    p * pow2_f32(k1) * pow2_f32(k - k1)
}

/// `e^x` in f64, within a few ulp of the exact value (same method as
/// [`exp_f32`], degree-13 polynomial).
pub(crate) fn exp_f64(x: f64) -> f64 {
    // fdlibm's split of ln 2: 0x3fe62e42_fee00000 + 0x3dea39ef_35793c76.
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
    if x.is_nan() {
        return x;
    }
    if x > 709.782_712_893_384 {
        return f64::INFINITY;
    }
    if x < -745.2 {
        return 0.0;
    }
    let t = x * core::f64::consts::LOG2_E;
    // Round half away from zero; |t| < 1100 so the cast is exact.
    let k = if t >= 0.0 {
        (t + 0.5) as i32
    } else {
        (t - 0.5) as i32
    };
    let kf = k as f64;
    let r = (x - kf * LN2_HI) - kf * LN2_LO;
    let mut p = 1.0;
    let mut i = 13;
    while i >= 1 {
        p = 1.0 + p * r / i as f64;
        i -= 1;
    }
    let k1 = k / 2;
    p * pow2_f64(k1) * pow2_f64(k - k1)
}

/// The logistic function `1 / (1 + e^−x)` in f32, computed on the side
/// where `e^…` does not overflow.
pub(crate) fn sigmoid_f32(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + exp_f32(-x))
    } else {
        let e = exp_f32(x);
        e / (1.0 + e)
    }
}

/// `tanh x` in f32: an odd Taylor polynomial for `|x| < 1/16` (no
/// cancellation), `(1 − e^−2|x|)/(1 + e^−2|x|)` with the sign of `x` above.
pub(crate) fn tanh_f32(x: f32) -> f32 {
    let a = if x < 0.0 { -x } else { x };
    if x.is_nan() {
        return x;
    }
    let t = if a < 0.0625 {
        let a2 = a * a;
        // x − x³/3 + 2x⁵/15 − 17x⁷/315
        a * (1.0 + a2 * (-1.0 / 3.0 + a2 * (2.0 / 15.0 + a2 * (-17.0 / 315.0))))
    } else if a > 10.0 {
        1.0
    } else {
        let e = exp_f32(-2.0 * a);
        (1.0 - e) / (1.0 + e)
    };
    if x < 0.0 {
        -t
    } else {
        t
    }
}

/// The logistic function in f64 (for the int8 table builders).
pub(crate) fn sigmoid_f64(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + exp_f64(-x))
    } else {
        let e = exp_f64(x);
        e / (1.0 + e)
    }
}

/// `tanh x` in f64 (for the int8 table builders), as [`tanh_f32`] with a
/// longer polynomial.
pub(crate) fn tanh_f64(x: f64) -> f64 {
    let a = if x < 0.0 { -x } else { x };
    if x.is_nan() {
        return x;
    }
    let t = if a < 0.0625 {
        let a2 = a * a;
        // x − x³/3 + 2x⁵/15 − 17x⁷/315 + 62x⁹/2835 − 1382x¹¹/155925
        a * (1.0
            + a2 * (-1.0 / 3.0
                + a2 * (2.0 / 15.0
                    + a2 * (-17.0 / 315.0 + a2 * (62.0 / 2835.0 + a2 * (-1382.0 / 155925.0))))))
    } else if a > 20.0 {
        1.0
    } else {
        let e = exp_f64(-2.0 * a);
        (1.0 - e) / (1.0 + e)
    };
    if x < 0.0 {
        -t
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative error in units of f32 epsilon.
    fn ulps32(got: f32, want: f64) -> f64 {
        if want == 0.0 {
            return got.abs() as f64 / f32::MIN_POSITIVE as f64;
        }
        ((got as f64 - want) / want).abs() / f32::EPSILON as f64
    }

    #[test]
    fn exp_f32_is_within_two_ulp_of_exp_f64() {
        let mut x = -87.0f32;
        while x < 88.0 {
            let u = ulps32(exp_f32(x), (x as f64).exp());
            assert!(u <= 2.0, "x={x}: {u} ulp");
            x += 0.01173;
        }
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(exp_f32(200.0), f32::INFINITY);
        assert_eq!(exp_f32(-200.0), 0.0);
        assert!(exp_f32(f32::NAN).is_nan());
    }

    #[test]
    fn exp_f32_handles_subnormal_results() {
        let got = exp_f32(-100.0) as f64;
        let want = (-100.0f64).exp();
        assert!(
            (got - want).abs() <= f32::from_bits(1) as f64,
            "{got} vs {want}"
        );
    }

    #[test]
    fn exp_f64_matches_std_to_a_few_ulp() {
        let mut x = -700.0f64;
        while x < 700.0 {
            let want = x.exp();
            let rel = ((exp_f64(x) - want) / want).abs();
            assert!(rel <= 4.0 * f64::EPSILON, "x={x}: rel {rel}");
            x += 0.0917;
        }
    }

    #[test]
    fn sigmoid_and_tanh_match_std() {
        let mut x = -30.0f32;
        while x < 30.0 {
            let s = 1.0 / (1.0 + (-(x as f64)).exp());
            assert!(
                (sigmoid_f32(x) as f64 - s).abs() <= 2e-7 * s + 1e-30,
                "sigmoid {x}"
            );
            let t = (x as f64).tanh();
            assert!(
                (tanh_f32(x) as f64 - t).abs() <= 2e-6 * t.abs() + 1e-9,
                "tanh {x}"
            );
            assert!((sigmoid_f64(x as f64) - s).abs() <= 1e-15, "sigmoid64 {x}");
            assert!((tanh_f64(x as f64) - t).abs() <= 1e-15, "tanh64 {x}");
            x += 0.00731;
        }
    }
}
