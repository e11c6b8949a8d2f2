//! Post-training calibration: from the values a tensor takes on
//! representative data to its int8 scale and zero point.
//!
//! Three ways to choose the real range `[lo, hi]` that maps onto
//! `[-128, 127]`:
//! - [`Calibration::MinMax`]: the extremes seen (no value clips; an outlier
//!   costs resolution everywhere);
//! - [`Calibration::Percentile`]: the `p`-th and `(100 − p)`-th percentiles
//!   (outliers clip, the bulk gets finer steps);
//! - [`Calibration::Mse`]: the range, among geometric shrinkings of the
//!   min/max range, that minimises the mean squared quantization error over the
//!   observed values.
//!
//! The range always contains 0, so that real zero (padding, ReLU's floor)
//! is exactly representable, as the TFLite int8 specification requires.

use crate::quant::{dequantize_value, quantize_value};
use std::vec::Vec;

/// How activation ranges are chosen from calibration data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Calibration {
    /// The observed minimum and maximum.
    MinMax,
    /// The `p`-th / `(100 − p)`-th percentiles, `p` in (0, 50), e.g. 0.01.
    Percentile(f32),
    /// The shrinking of the min/max range with the least squared error.
    Mse,
}

/// The most values an observer keeps for the percentile and MSE methods
/// (an evenly spaced subsample beyond that).
const MAX_KEPT: usize = 1 << 18;

/// Collects the values one tensor takes over the calibration data.
#[derive(Debug, Clone, Default)]
pub struct RangeObserver {
    min: f32,
    max: f32,
    seen: usize,
    kept: Vec<f32>,
    stride: usize,
}

impl RangeObserver {
    /// An observer that has seen nothing.
    pub fn new() -> Self {
        RangeObserver {
            min: f32::INFINITY,
            max: f32::NEG_INFINITY,
            seen: 0,
            kept: Vec::new(),
            stride: 1,
        }
    }

    /// Records `values` (non-finite values are ignored).
    pub fn observe(&mut self, values: &[f32]) {
        for &v in values.iter().filter(|v| v.is_finite()) {
            self.min = self.min.min(v);
            self.max = self.max.max(v);
            if self.seen % self.stride == 0 {
                self.kept.push(v);
                if self.kept.len() >= MAX_KEPT {
                    // Keep every other value and halve the sampling rate.
                    let mut i = 0;
                    self.kept.retain(|_| {
                        i += 1;
                        i % 2 == 1
                    });
                    self.stride *= 2;
                }
            }
            self.seen += 1;
        }
    }

    /// The number of finite values seen.
    pub fn count(&self) -> usize {
        self.seen
    }

    /// The real range `[lo, hi]` the method chooses, widened to contain 0.
    pub fn range(&self, method: Calibration) -> (f32, f32) {
        if self.seen == 0 {
            return (0.0, 0.0);
        }
        let (lo, hi) = match method {
            Calibration::MinMax => (self.min, self.max),
            Calibration::Percentile(p) => {
                let mut v = self.kept.clone();
                v.sort_by(f32::total_cmp);
                let p = p.clamp(0.0, 50.0) / 100.0;
                let at = |q: f32| v[((v.len() - 1) as f32 * q).round() as usize];
                (at(p), at(1.0 - p))
            }
            Calibration::Mse => self.mse_range(),
        };
        (lo.min(0.0), hi.max(0.0))
    }

    fn mse_range(&self) -> (f32, f32) {
        let (lo0, hi0) = (self.min.min(0.0), self.max.max(0.0));
        let mut best = (f64::INFINITY, lo0, hi0);
        // Shrink geometrically (1, 0.9, 0.81, … down to about 2e-4), so
        // heavy tails far above the bulk can be clipped too.
        for step in 0..=80 {
            let f = 0.9f32.powi(step);
            let (lo, hi) = (lo0 * f, hi0 * f);
            let (scale, zp) = quant_params(lo, hi);
            let err: f64 = self
                .kept
                .iter()
                .map(|&x| {
                    let d = x - dequantize_value(quantize_value(x, scale, zp) as i32, scale, zp);
                    (d as f64) * (d as f64)
                })
                .sum();
            if err < best.0 {
                best = (err, lo, hi);
            }
        }
        (best.1, best.2)
    }
}

/// The int8 `(scale, zero_point)` that maps `[lo, hi]` (containing 0) onto
/// `[-128, 127]`, with the zero point rounded so that real 0 is exact. A
/// degenerate range gets a tiny positive scale.
pub fn quant_params(lo: f32, hi: f32) -> (f32, i32) {
    let (lo, hi) = (lo.min(0.0), hi.max(0.0));
    let scale = ((hi as f64 - lo as f64) / 255.0) as f32;
    if !(scale.is_finite() && scale > 0.0) {
        return (1e-8, 0);
    }
    let zp = (-128.0 - lo as f64 / scale as f64)
        .round()
        .clamp(-128.0, 127.0) as i32;
    (scale, zp)
}

/// Per-channel symmetric weight scales: `max |w| / 127` of each output
/// channel (the first axis of `w`, `channels` of them). An all-zero
/// channel gets scale 1.
pub fn weight_scales(w: &[f32], channels: usize) -> Vec<f32> {
    let per = w.len() / channels.max(1);
    (0..channels)
        .map(|c| {
            let m = w[c * per..(c + 1) * per]
                .iter()
                .fold(0f32, |a, v| a.max(v.abs()));
            if m > 0.0 {
                m / 127.0
            } else {
                1.0
            }
        })
        .collect()
}

/// Quantizes weights per output channel (first axis): `round(w / s_c)`
/// clamped to `[-127, 127]`.
pub fn quantize_weights(w: &[f32], scales: &[f32]) -> Vec<i8> {
    let per = w.len() / scales.len().max(1);
    w.iter()
        .enumerate()
        .map(|(i, &v)| {
            let s = scales[(i / per.max(1)).min(scales.len() - 1)];
            crate::quant::round_half_away(v / s).clamp(-127.0, 127.0) as i8
        })
        .collect()
}

/// Quantizes a bias for an accumulator of scale `input_scale × s_c`:
/// `round(b / (input_scale × s_c))`, saturated to i32.
pub fn quantize_bias(b: &[f32], input_scale: f32, weight_scales: &[f32]) -> Vec<i32> {
    b.iter()
        .enumerate()
        .map(|(c, &v)| {
            let s = input_scale as f64 * weight_scales[c.min(weight_scales.len() - 1)] as f64;
            let q = (v as f64 / s).round();
            q.clamp(i32::MIN as f64, i32::MAX as f64) as i32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_max_range_contains_zero_and_the_extremes() {
        let mut o = RangeObserver::new();
        o.observe(&[0.5, 2.0, 1.0]);
        assert_eq!(o.range(Calibration::MinMax), (0.0, 2.0));
        let (s, zp) = quant_params(0.0, 2.0);
        assert_eq!(zp, -128);
        assert!((s - 2.0 / 255.0).abs() < 1e-9);
    }

    #[test]
    fn zero_is_exactly_representable() {
        for (lo, hi) in [(-1.0f32, 3.0f32), (-0.3, 0.01), (-5.0, 5.0)] {
            let (s, zp) = quant_params(lo, hi);
            assert_eq!(dequantize_value(zp, s, zp), 0.0);
            assert!((-128..=127).contains(&zp));
        }
    }

    /// Squared quantization error of `values` over the range `(lo, hi)`.
    fn sq_error(values: &[f32], (lo, hi): (f32, f32)) -> f64 {
        let (s, zp) = quant_params(lo, hi);
        values
            .iter()
            .map(|&x| (x - dequantize_value(quantize_value(x, s, zp) as i32, s, zp)) as f64)
            .map(|d| d * d)
            .sum()
    }

    #[test]
    fn percentile_clips_an_outlier() {
        let mut o = RangeObserver::new();
        let mut v: Vec<f32> = (0..10_000).map(|i| (i % 100) as f32 / 100.0).collect();
        v.push(1000.0);
        o.observe(&v);
        assert_eq!(o.range(Calibration::MinMax).1, 1000.0);
        assert!(o.range(Calibration::Percentile(0.1)).1 < 1.0);
    }

    #[test]
    fn mse_range_never_has_more_error_than_min_max() {
        // Heavy-tailed data: many small values, a few large ones.
        let v: Vec<f32> = (1..20_000)
            .map(|i| {
                let u = i as f32 / 20_000.0;
                let x = (1.0 / (1.0 - u)).powf(1.5) - 1.0; // Pareto-like tail
                if i % 2 == 0 {
                    x
                } else {
                    -0.3 * x
                }
            })
            .collect();
        let mut o = RangeObserver::new();
        o.observe(&v);
        let mm = sq_error(&v, o.range(Calibration::MinMax));
        let mse = sq_error(&v, o.range(Calibration::Mse));
        assert!(mse <= mm, "mse {mse} > min/max {mm}");
        // Widening never helps: the chosen range lies within min/max.
        let (lo, hi) = o.range(Calibration::Mse);
        let (mlo, mhi) = o.range(Calibration::MinMax);
        assert!(mlo <= lo && hi <= mhi);
    }

    #[test]
    fn weights_and_bias_quantize_per_channel() {
        let w = [0.5f32, -1.0, 0.25, 0.0, 0.0, 0.0];
        let s = weight_scales(&w, 2);
        assert_eq!(s, vec![1.0 / 127.0, 1.0]);
        assert_eq!(quantize_weights(&w, &s), vec![64, -127, 32, 0, 0, 0]);
        assert_eq!(quantize_bias(&[1.0, -2.0], 0.5, &s), vec![254, -4]);
    }
}
