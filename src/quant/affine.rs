//! Affine quantization of single values and fused-activation ranges.

/// Rounds half away from zero (C's `roundf`, TFLite's `TfLiteRound`)
/// without `std`.
pub fn round_half_away(x: f32) -> f32 {
    if x.is_nan() || x.abs() >= 8_388_608.0 {
        return x; // already integral (or NaN / infinite)
    }
    let t = x as i32 as f32;
    let frac = x - t;
    if frac >= 0.5 {
        t + 1.0
    } else if frac <= -0.5 {
        t - 1.0
    } else {
        t
    }
}

/// Quantizes a real value: `clamp(round(x / scale) + zero_point, -128, 127)`,
/// as TFLite's reference QUANTIZE computes it (float division, rounding half
/// away from zero). NaN maps to the zero point.
pub fn quantize_value(x: f32, scale: f32, zero_point: i32) -> i8 {
    let q = x / scale;
    let r = if q.is_nan() {
        0
    } else {
        // `as` saturates for out-of-range floats.
        round_half_away(q) as i32
    };
    r.saturating_add(zero_point).clamp(-128, 127) as i8
}

/// Dequantizes: `scale × (q − zero_point)`, computed in f64 and rounded once
/// to f32 as TFLite's reference DEQUANTIZE does.
pub fn dequantize_value(q: i32, scale: f32, zero_point: i32) -> f32 {
    (scale as f64 * (q as i64 - zero_point as i64) as f64) as f32
}

/// An activation fused into the operation before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum Activation {
    /// No activation.
    None = 0,
    /// `max(x, 0)`.
    Relu = 1,
    /// `min(max(x, 0), 6)`.
    Relu6 = 2,
    /// `min(max(x, -1), 1)`.
    ReluN1To1 = 3,
}

impl Activation {
    /// The activation with file code `code`.
    pub const fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => Activation::None,
            1 => Activation::Relu,
            2 => Activation::Relu6,
            3 => Activation::ReluN1To1,
            _ => return None,
        })
    }

    /// The real-valued clamp range `(min, max)` of the activation.
    pub fn float_range(self) -> (f32, f32) {
        match self {
            Activation::None => (f32::NEG_INFINITY, f32::INFINITY),
            Activation::Relu => (0.0, f32::INFINITY),
            Activation::Relu6 => (0.0, 6.0),
            Activation::ReluN1To1 => (-1.0, 1.0),
        }
    }
}

/// The int8 output range `(min, max)` that realises `act` for an output
/// with `scale` and `zero_point` (TFLite's
/// `CalculateActivationRangeQuantized`): the activation's real bounds are
/// quantized and intersected with `[-128, 127]`.
pub fn activation_range_s8(act: Activation, scale: f32, zero_point: i32) -> (i32, i32) {
    let q = |x: f32| zero_point.saturating_add(round_half_away(x / scale) as i32);
    let (lo, hi) = match act {
        Activation::None => (-128, 127),
        Activation::Relu => (q(0.0), 127),
        Activation::Relu6 => (q(0.0), q(6.0)),
        Activation::ReluN1To1 => (q(-1.0), q(1.0)),
    };
    (lo.max(-128), hi.min(127))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_half_away_from_zero() {
        assert_eq!(round_half_away(2.5), 3.0);
        assert_eq!(round_half_away(-2.5), -3.0);
        assert_eq!(round_half_away(-2.4), -2.0);
        assert_eq!(round_half_away(1e20), 1e20);
    }

    #[test]
    fn quantize_saturates_and_handles_nan() {
        assert_eq!(quantize_value(1000.0, 0.1, 0), 127);
        assert_eq!(quantize_value(-1000.0, 0.1, 0), -128);
        assert_eq!(quantize_value(f32::NAN, 0.1, 5), 5);
        assert_eq!(quantize_value(0.25, 0.5, -3), -2); // 0.5 rounds up to 1
    }

    #[test]
    fn dequantize_inverts_quantize_on_grid_points() {
        for q in -128..=127 {
            let x = dequantize_value(q, 0.037, -7);
            assert_eq!(quantize_value(x, 0.037, -7) as i32, q);
        }
    }

    #[test]
    fn relu6_range_is_quantized_bounds() {
        assert_eq!(
            activation_range_s8(Activation::Relu6, 6.0 / 255.0, -128),
            (-128, 127)
        );
        assert_eq!(activation_range_s8(Activation::Relu, 0.1, -10), (-10, 127));
        assert_eq!(activation_range_s8(Activation::None, 0.1, 0), (-128, 127));
    }
}
