//! Pooling: MAX_POOL_2D, AVERAGE_POOL_2D and global average pooling.
//!
//! A pooling window slides over each channel of an NHWC input like a
//! convolution window ([`Window2d`], dilation 1); only the elements inside
//! the input count — padding is skipped, not read as zeros. Every window
//! must contain at least one input element.
//!
//! int8 max and average pooling follow TFLite's
//! `reference_integer_ops::MaxPool` / `AveragePool`: input and output share
//! scale and zero point (TFLite requires it), so the kernels work on the raw
//! int8 values. The average rounds half away from zero exactly as TFLite
//! does: `acc > 0 ? (acc + n/2) / n : (acc − n/2) / n` in integer division,
//! `n` the number of in-bounds elements; then both clamp to
//! `[act_min, act_max]`.
//!
//! Global average pooling averages each channel over the whole `H × W`
//! plane with a requantization ([`GlobalAvgPoolS8`]).

use super::util::{check_act_range_s8, check_quant_s8, check_shift, nhwc, window_axes, Axis};
use crate::kernels::{Float, FloatClamp, Window2d};
use crate::quant::{multiply_by_quantized_multiplier, quantize_multiplier};
use crate::tensor::{Element, TensorMut, TensorView};
use crate::Error;
use half::f16;

pub(crate) struct PoolDims {
    pub(crate) n: usize,
    pub(crate) in_h: usize,
    pub(crate) in_w: usize,
    pub(crate) c: usize,
    pub(crate) out_h: usize,
    pub(crate) out_w: usize,
    pub(crate) ay: Axis,
    pub(crate) ax: Axis,
    pub(crate) kh: usize,
    pub(crate) kw: usize,
}

pub(crate) fn check_pool<T: Element>(
    input: &TensorView<'_, T>,
    output: &TensorMut<'_, T>,
    window: &Window2d,
) -> Result<PoolDims, Error> {
    let [n, in_h, in_w, c] = nhwc(input.shape())?;
    let [on, out_h, out_w, oc] = nhwc(output.shape())?;
    if on != n || oc != c {
        return Err(Error::ShapeMismatch);
    }
    if window.dilation_h != 1 || window.dilation_w != 1 {
        return Err(Error::InvalidParameter);
    }
    // With dilation 1, "every window overlaps the input" (checked here)
    // means every window holds at least one input element.
    let (ay, ax) = window_axes(window, in_h, in_w, out_h, out_w)?;
    Ok(PoolDims {
        n,
        in_h,
        in_w,
        c,
        out_h,
        out_w,
        ay,
        ax,
        kh: window.kernel_h,
        kw: window.kernel_w,
    })
}

/// Calls `f(out_index, window)` for every output element, where `window`
/// visits the in-bounds input indices of its pooling window.
fn for_each_window(d: &PoolDims, mut f: impl FnMut(usize, &mut dyn FnMut(&mut dyn FnMut(usize)))) {
    let mut out_index = 0;
    for b in 0..d.n {
        for oy in 0..d.out_h {
            for ox in 0..d.out_w {
                for ch in 0..d.c {
                    let mut window = |visit: &mut dyn FnMut(usize)| {
                        for ky in d.ay.taps(oy, d.kh) {
                            let Some(iy) = d.ay.input_index(oy, ky) else {
                                continue;
                            };
                            for kx in d.ax.taps(ox, d.kw) {
                                if let Some(ix) = d.ax.input_index(ox, kx) {
                                    visit(((b * d.in_h + iy) * d.in_w + ix) * d.c + ch);
                                }
                            }
                        }
                    };
                    f(out_index, &mut window);
                    out_index += 1;
                }
            }
        }
    }
}

/// int8 max pooling (TFLite `MAX_POOL_2D`): the largest in-bounds value of
/// each window, clamped to `[act_min, act_max]`. Input and output share
/// scale and zero point.
///
/// - `input`: `[N, H, W, C]`; `output`: `[N, OH, OW, C]`; `window`: size,
///   stride and top/left padding (dilation must be 1).
///
/// Errors: `ShapeMismatch` for inconsistent shapes, `InvalidParameter` for
/// a bad window (zero stride, dilation ≠ 1, a window with no input element)
/// or clamp range.
pub fn max_pool2d_s8(
    input: TensorView<'_, i8>,
    output: &mut TensorMut<'_, i8>,
    window: &Window2d,
    act_min: i32,
    act_max: i32,
) -> Result<(), Error> {
    let d = check_pool(&input, output, window)?;
    check_act_range_s8(act_min, act_max)?;
    let x = input.data();
    let out = output.data_mut();
    for_each_window(&d, |o, window| {
        let mut max = i8::MIN as i32;
        window(&mut |i| max = max.max(x[i] as i32));
        out[o] = max.clamp(act_min, act_max) as i8;
    });
    Ok(())
}

/// int8 average pooling (TFLite `AVERAGE_POOL_2D`): the rounded mean of the
/// in-bounds values of each window (`n` of them), `(acc ± n/2) / n` with
/// the sign of `acc`, clamped to `[act_min, act_max]`. Input and output
/// share scale and zero point.
///
/// Shapes and errors as [`max_pool2d_s8`].
pub fn avg_pool2d_s8(
    input: TensorView<'_, i8>,
    output: &mut TensorMut<'_, i8>,
    window: &Window2d,
    act_min: i32,
    act_max: i32,
) -> Result<(), Error> {
    let d = check_pool(&input, output, window)?;
    check_act_range_s8(act_min, act_max)?;
    let x = input.data();
    let out = output.data_mut();
    for_each_window(&d, |o, window| {
        // TFLite sums in i32; i64 gives the same result for every window
        // TFLite can sum without overflow, and cannot overflow itself.
        let (mut acc, mut count) = (0i64, 0i64);
        window(&mut |i| {
            acc += x[i] as i64;
            count += 1;
        });
        // count ≥ 1: validated. Division truncates toward zero, as in C.
        let avg = if acc > 0 {
            (acc + count / 2) / count
        } else {
            (acc - count / 2) / count
        };
        out[o] = avg.clamp(act_min as i64, act_max as i64) as i8;
    });
    Ok(())
}

fn max_pool2d_float<T: Float>(
    input: TensorView<'_, T>,
    output: &mut TensorMut<'_, T>,
    window: &Window2d,
    clamp: FloatClamp,
) -> Result<(), Error> {
    let d = check_pool(&input, output, window)?;
    let x = input.data();
    let out = output.data_mut();
    for_each_window(&d, |o, window| {
        let mut max = f32::MIN;
        window(&mut |i| {
            let v = x[i].to_f32();
            if v > max {
                max = v;
            }
        });
        out[o] = T::from_f32(clamp.apply(max));
    });
    Ok(())
}

fn avg_pool2d_float<T: Float>(
    input: TensorView<'_, T>,
    output: &mut TensorMut<'_, T>,
    window: &Window2d,
    clamp: FloatClamp,
) -> Result<(), Error> {
    let d = check_pool(&input, output, window)?;
    let x = input.data();
    let out = output.data_mut();
    for_each_window(&d, |o, window| {
        let (mut sum, mut count) = (0.0f32, 0u32);
        window(&mut |i| {
            sum += x[i].to_f32();
            count += 1;
        });
        out[o] = T::from_f32(clamp.apply(sum / count as f32));
    });
    Ok(())
}

/// f32 max pooling: the largest in-bounds value of each window, clamped by
/// `clamp`. Shapes and errors as [`max_pool2d_s8`].
pub fn max_pool2d_f32(
    input: TensorView<'_, f32>,
    output: &mut TensorMut<'_, f32>,
    window: &Window2d,
    clamp: FloatClamp,
) -> Result<(), Error> {
    max_pool2d_float(input, output, window, clamp)
}

/// f16 max pooling: as [`max_pool2d_f32`] on f16 storage.
pub fn max_pool2d_f16(
    input: TensorView<'_, f16>,
    output: &mut TensorMut<'_, f16>,
    window: &Window2d,
    clamp: FloatClamp,
) -> Result<(), Error> {
    max_pool2d_float(input, output, window, clamp)
}

/// f32 average pooling: the mean of the in-bounds values of each window
/// (sum in f32 divided by their count), clamped by `clamp`. Shapes and
/// errors as [`max_pool2d_s8`].
pub fn avg_pool2d_f32(
    input: TensorView<'_, f32>,
    output: &mut TensorMut<'_, f32>,
    window: &Window2d,
    clamp: FloatClamp,
) -> Result<(), Error> {
    avg_pool2d_float(input, output, window, clamp)
}

/// f16 average pooling: as [`avg_pool2d_f32`] on f16 storage (f32 sum,
/// one rounding to f16).
pub fn avg_pool2d_f16(
    input: TensorView<'_, f16>,
    output: &mut TensorMut<'_, f16>,
    window: &Window2d,
    clamp: FloatClamp,
) -> Result<(), Error> {
    avg_pool2d_float(input, output, window, clamp)
}

/// Parameters of [`global_avg_pool_s8`]:
/// `out = clamp(multiply_by_quantized_multiplier(Σ (x − input_zp), multiplier, shift) + output_zp, −128, 127)`,
/// the sum running over the `H × W` plane of one channel.
///
/// The count of the plane is folded into the multiplier exactly as
/// TensorFlow Lite's int8 `MEAN` does it (`QuantizedMeanOrSum`, the kernel
/// TFLite Micro runs for a MEAN over H and W; see [`GlobalAvgPoolS8::new`]),
/// so a TFLite MEAN imports as this op byte for byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct GlobalAvgPoolS8 {
    /// The input's zero point.
    pub input_zero_point: i32,
    /// The output's zero point.
    pub output_zero_point: i32,
    /// Q31 multiplier of `input_scale / (output_scale × count)`.
    pub multiplier: i32,
    /// Its shift, in `[-31, 30]`.
    pub shift: i32,
}

impl GlobalAvgPoolS8 {
    /// Parameters for averaging `count = H × W` values of an input with
    /// `(scale, zero_point)` `input` into an output with `output`, as
    /// TensorFlow Lite's int8 MEAN computes them (`QuantizedMeanOrSum`):
    ///
    /// 1. `(m, s) = QuantizeMultiplier(input_scale / output_scale)` (f64);
    /// 2. `k = min(floor(log2(count)), 32, 31 + s)`;
    /// 3. `multiplier = (m · 2^k) / count` (64-bit, truncating division),
    ///    `shift = s − k`.
    ///
    /// The kernel then computes
    /// `MultiplyByQuantizedMultiplier(Σ (x − input_zp), multiplier, shift) + output_zp`,
    /// which is TFLite's `MultiplyByQuantizedMultiplier(sum − input_zp · count, …)`.
    /// (Folding `1/count` in f64 instead would round differently.)
    ///
    /// Errors with `InvalidParameter` for a zero count, a non-finite or
    /// non-positive scale or a zero point outside `[-128, 127]`.
    pub fn new(input: (f32, i32), output: (f32, i32), count: usize) -> Result<Self, Error> {
        check_quant_s8(input.0, input.1)?;
        check_quant_s8(output.0, output.1)?;
        if count == 0 {
            return Err(Error::InvalidParameter);
        }
        let (m, s) = quantize_multiplier(input.0 as f64 / output.0 as f64);
        let count = count as u64;
        let k = (63 - count.leading_zeros() as i32)
            .min(32)
            .min(31 + s)
            .max(0);
        let multiplier = (((m as i64) << k) / count as i64) as i32;
        let shift = s - k;
        if !(crate::quant::MIN_SHIFT..=crate::quant::MAX_SHIFT).contains(&shift) {
            return Err(Error::InvalidParameter);
        }
        Ok(GlobalAvgPoolS8 {
            input_zero_point: input.1,
            output_zero_point: output.1,
            multiplier,
            shift,
        })
    }
}

/// `(n, plane, c)` of a global pooling: input `[N, H, W, C]`, output
/// `[N, C]` or `[N, 1, 1, C]`.
fn check_global<T: Element>(
    input: &TensorView<'_, T>,
    output: &TensorMut<'_, T>,
) -> Result<(usize, usize, usize), Error> {
    let [n, h, w, c] = nhwc(input.shape())?;
    let ok = match *output.shape().dims() {
        [on, oc] => on == n && oc == c,
        [on, 1, 1, oc] => on == n && oc == c,
        _ => false,
    };
    if !ok {
        return Err(Error::ShapeMismatch);
    }
    Ok((n, h * w, c))
}

/// int8 global average pooling: every channel of every image averaged over
/// `H × W` with [`GlobalAvgPoolS8`]'s requantization.
///
/// - `input`: `[N, H, W, C]`; `output`: `[N, C]` or `[N, 1, 1, C]`.
///
/// Errors: `ShapeMismatch` for inconsistent shapes, `InvalidParameter` for a
/// shift or zero point out of range.
pub fn global_avg_pool_s8(
    input: TensorView<'_, i8>,
    output: &mut TensorMut<'_, i8>,
    params: &GlobalAvgPoolS8,
) -> Result<(), Error> {
    let (n, plane, c) = check_global(&input, output)?;
    check_shift(params.shift)?;
    if !(-128..=127).contains(&params.input_zero_point)
        || !(-128..=127).contains(&params.output_zero_point)
    {
        return Err(Error::InvalidParameter);
    }
    let x = input.data();
    let out = output.data_mut();
    for b in 0..n {
        for ch in 0..c {
            let mut acc: i32 = 0;
            for p in 0..plane {
                acc =
                    acc.wrapping_add(x[(b * plane + p) * c + ch] as i32 - params.input_zero_point);
            }
            let v = multiply_by_quantized_multiplier(acc, params.multiplier, params.shift)
                .saturating_add(params.output_zero_point);
            out[b * c + ch] = v.clamp(-128, 127) as i8;
        }
    }
    Ok(())
}

fn global_avg_pool_float<T: Float>(
    input: TensorView<'_, T>,
    output: &mut TensorMut<'_, T>,
) -> Result<(), Error> {
    let (n, plane, c) = check_global(&input, output)?;
    let x = input.data();
    let out = output.data_mut();
    for b in 0..n {
        for ch in 0..c {
            let mut sum = 0.0f32;
            for p in 0..plane {
                sum += x[(b * plane + p) * c + ch].to_f32();
            }
            out[b * c + ch] = T::from_f32(sum / plane as f32);
        }
    }
    Ok(())
}

/// f32 global average pooling: the mean of each channel over `H × W` (f32
/// sum divided by the count). Shapes and errors as [`global_avg_pool_s8`].
pub fn global_avg_pool_f32(
    input: TensorView<'_, f32>,
    output: &mut TensorMut<'_, f32>,
) -> Result<(), Error> {
    global_avg_pool_float(input, output)
}

/// f16 global average pooling: as [`global_avg_pool_f32`] on f16 storage.
pub fn global_avg_pool_f16(
    input: TensorView<'_, f16>,
    output: &mut TensorMut<'_, f16>,
) -> Result<(), Error> {
    global_avg_pool_float(input, output)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::kernels::reference::util::testing::*;

    /// A random pooling problem: `(window, input dims, output dims)`.
    fn random_case(rng: &mut Rng) -> (Window2d, [usize; 4], [usize; 4]) {
        let (w, [ih, iw], [oh, ow]) = random_window(rng, false);
        let (n, c) = (rng.usize(1, 2), rng.usize(1, 4));
        (w, [n, ih, iw, c], [n, oh, ow, c])
    }

    /// The in-bounds values of every window, in output order.
    fn windows(w: &Window2d, i: [usize; 4], o: [usize; 4], x: &[f64]) -> Vec<Vec<f64>> {
        let mut all = Vec::new();
        for b in 0..o[0] {
            for oy in 0..o[1] {
                for ox in 0..o[2] {
                    for ch in 0..o[3] {
                        let mut vals = Vec::new();
                        for ky in 0..w.kernel_h {
                            for kx in 0..w.kernel_w {
                                let y = (oy * w.stride_h + ky) as i64 - w.pad_top as i64;
                                let xx = (ox * w.stride_w + kx) as i64 - w.pad_left as i64;
                                if y >= 0 && xx >= 0 && y < i[1] as i64 && xx < i[2] as i64 {
                                    vals.push(
                                        x[((b * i[1] + y as usize) * i[2] + xx as usize) * i[3]
                                            + ch],
                                    );
                                }
                            }
                        }
                        assert!(!vals.is_empty());
                        all.push(vals);
                    }
                }
            }
        }
        all
    }

    fn random_act(rng: &mut Rng) -> (i32, i32) {
        if rng.bool() {
            (-128, 127)
        } else {
            let a = rng.range(-128, 127) as i32;
            let b = rng.range(-128, 127) as i32;
            (a.min(b), a.max(b))
        }
    }

    #[test]
    fn s8_max_and_avg_are_bit_exact_with_the_float_definition() {
        let mut rng = Rng::new(31);
        for iter in 0..1500 {
            let (w, i, o) = random_case(&mut rng);
            let (lo, hi) = random_act(&mut rng);
            let x = rng.vec_i8(i.iter().product());
            // Shared scale and zero point: dequantize, pool, quantize back.
            let (scale, zp) = (rng.scale(0.01, 1.0), rng.range(-128, 127) as i32);
            let xr: Vec<f64> = x.iter().map(|&v| deq(v, scale, zp)).collect();
            let wins = windows(&w, i, o, &xr);
            let mut out = vec![0i8; o.iter().product()];
            max_pool2d_s8(view(&i, &x), &mut view_mut(&o, &mut out), &w, lo, hi).unwrap();
            let want: Vec<i32> = wins
                .iter()
                .map(|v| {
                    quantize_ref(
                        v.iter().cloned().fold(f64::MIN, f64::max),
                        scale as f64,
                        zp,
                        lo,
                        hi,
                    )
                })
                .collect();
            assert_close_s8(
                &out,
                &want,
                0,
                &std::format!("max case {iter}: {i:?} {o:?} {w:?}"),
            );

            avg_pool2d_s8(view(&i, &x), &mut view_mut(&o, &mut out), &w, lo, hi).unwrap();
            // Exact: the mean of the raw values, rounded half away from zero
            // (the average of dequantized values plus the zero point).
            let raw = windows(&w, i, o, &x.iter().map(|&v| v as f64).collect::<Vec<_>>());
            let want: Vec<i32> = raw
                .iter()
                .map(|v| {
                    let mean = v.iter().sum::<f64>() / v.len() as f64;
                    (round_away(mean) as i32).clamp(lo, hi)
                })
                .collect();
            assert_close_s8(
                &out,
                &want,
                0,
                &std::format!("avg case {iter}: {i:?} {o:?} {w:?}"),
            );
            // And within one quantum of the dequantized float average.
            let want_f: Vec<i32> = wins
                .iter()
                .map(|v| {
                    quantize_ref(
                        v.iter().sum::<f64>() / v.len() as f64,
                        scale as f64,
                        zp,
                        lo,
                        hi,
                    )
                })
                .collect();
            assert_close_s8(&out, &want_f, 1, "avg vs float");
        }
    }

    #[test]
    fn s8_avg_rounds_ties_away_from_zero() {
        // Windows of two: (1 + 2)/2 = 1.5 → 2, (−1 − 2)/2 = −1.5 → −2,
        // (3 + 4)/2 = 3.5 → 4, (−3 − 4) → −4.
        let x = [1i8, 2, -1, -2, 3, 4, -3, -4];
        let mut out = [0i8; 4];
        avg_pool2d_s8(
            view(&[1, 1, 8, 1], &x),
            &mut view_mut(&[1, 1, 4, 1], &mut out),
            &Window2d::new(1, 2, 1, 2),
            -128,
            127,
        )
        .unwrap();
        assert_eq!(out, [2, -2, 4, -4]);
        // A corner window with padding counts only its in-bounds element.
        let x = [10i8, 20, 30, 40];
        let mut w = Window2d::new(2, 2, 2, 2);
        w.pad_top = 1;
        w.pad_left = 1;
        let mut out = [0i8; 4];
        avg_pool2d_s8(
            view(&[1, 2, 2, 1], &x),
            &mut view_mut(&[1, 2, 2, 1], &mut out),
            &w,
            -128,
            127,
        )
        .unwrap();
        assert_eq!(out, [10, 20, 30, 40]);
    }

    fn float_pools_match_f64<T: Float>(seed: u64) {
        let mut rng = Rng::new(seed);
        let tol = tol_for::<T>();
        for iter in 0..300 {
            let (w, i, o) = random_case(&mut rng);
            let clamp = if rng.bool() {
                FloatClamp::NONE
            } else {
                FloatClamp {
                    min: -0.5,
                    max: 0.5,
                }
            };
            let x: Vec<T> = vec_float(&mut rng, i.iter().product(), -1.0, 1.0);
            let wins = windows(&w, i, o, &widen(&x));
            let c = |v: f64| v.clamp(clamp.min as f64, clamp.max as f64);
            let mut out = vec![T::from_f32(0.0); o.iter().product()];
            max_pool2d_float(view(&i, &x), &mut view_mut(&o, &mut out), &w, clamp).unwrap();
            let want: Vec<f64> = wins
                .iter()
                .map(|v| c(v.iter().cloned().fold(f64::MIN, f64::max)))
                .collect();
            // Max pooling selects an input: exact.
            assert_close_f(
                &widen(&out),
                &want,
                &vec![0.0; want.len()],
                &std::format!("max {iter}"),
            );
            avg_pool2d_float(view(&i, &x), &mut view_mut(&o, &mut out), &w, clamp).unwrap();
            let want: Vec<f64> = wins
                .iter()
                .map(|v| c(v.iter().sum::<f64>() / v.len() as f64))
                .collect();
            let tols: Vec<f64> = wins
                .iter()
                .zip(&want)
                .map(|(v, &r)| tol(v.iter().map(|a| a.abs()).sum::<f64>() / v.len() as f64, r))
                .collect();
            assert_close_f(&widen(&out), &want, &tols, &std::format!("avg {iter}"));
        }
    }

    #[test]
    fn f32_pools_match_f64_reference() {
        float_pools_match_f64::<f32>(32);
    }

    #[test]
    fn f16_pools_match_f64_reference() {
        float_pools_match_f64::<f16>(33);
    }

    #[test]
    fn public_float_pool_wrappers_agree_with_the_generic_kernels() {
        let x = [1.0f32, -2.0, 3.0, 4.0];
        let w = Window2d::new(2, 2, 1, 1);
        let mut out = [0f32; 1];
        max_pool2d_f32(
            view(&[1, 2, 2, 1], &x),
            &mut view_mut(&[1, 1, 1, 1], &mut out),
            &w,
            FloatClamp::NONE,
        )
        .unwrap();
        assert_eq!(out, [4.0]);
        avg_pool2d_f32(
            view(&[1, 2, 2, 1], &x),
            &mut view_mut(&[1, 1, 1, 1], &mut out),
            &w,
            FloatClamp::NONE,
        )
        .unwrap();
        assert_eq!(out, [1.5]);
        global_avg_pool_f32(view(&[1, 2, 2, 1], &x), &mut view_mut(&[1, 1], &mut out)).unwrap();
        assert_eq!(out, [1.5]);
        let xh = x.map(f16::from_f32);
        let mut oh = [f16::ZERO];
        max_pool2d_f16(
            view(&[1, 2, 2, 1], &xh),
            &mut view_mut(&[1, 1, 1, 1], &mut oh),
            &w,
            FloatClamp { min: 0.0, max: 3.0 },
        )
        .unwrap();
        assert_eq!(oh[0].to_f32(), 3.0);
        avg_pool2d_f16(
            view(&[1, 2, 2, 1], &xh),
            &mut view_mut(&[1, 1, 1, 1], &mut oh),
            &w,
            FloatClamp::NONE,
        )
        .unwrap();
        assert_eq!(oh[0].to_f32(), 1.5);
        global_avg_pool_f16(
            view(&[1, 2, 2, 1], &xh),
            &mut view_mut(&[1, 1, 1, 1], &mut oh),
        )
        .unwrap();
        assert_eq!(oh[0].to_f32(), 1.5);
    }

    #[test]
    fn s8_global_avg_pool_is_within_one_quantum_of_float() {
        let mut rng = Rng::new(34);
        for iter in 0..300 {
            let (n, h, w, c) = (
                rng.usize(1, 2),
                rng.usize(1, 9),
                rng.usize(1, 9),
                rng.usize(1, 5),
            );
            let (in_s, in_zp) = (rng.scale(0.005, 0.5), rng.range(-128, 127) as i32);
            let (out_s, out_zp) = (
                (in_s as f64 * rng.uniform(0.2, 2.0)) as f32,
                rng.range(-128, 127) as i32,
            );
            let p = GlobalAvgPoolS8::new((in_s, in_zp), (out_s, out_zp), h * w).unwrap();
            let x = rng.vec_i8(n * h * w * c);
            let mut out = vec![0i8; n * c];
            let odims: &[usize] = if rng.bool() { &[n, c] } else { &[n, 1, 1, c] };
            global_avg_pool_s8(view(&[n, h, w, c], &x), &mut view_mut(odims, &mut out), &p)
                .unwrap();
            let mut want = Vec::new();
            for b in 0..n {
                for ch in 0..c {
                    let mut s = 0.0;
                    for q in 0..h * w {
                        s += deq(x[(b * h * w + q) * c + ch], in_s, in_zp);
                    }
                    want.push(quantize_ref(
                        s / (h * w) as f64,
                        out_s as f64,
                        out_zp,
                        -128,
                        127,
                    ));
                }
            }
            assert_close_s8(&out, &want, 1, &std::format!("case {iter}"));
        }
    }

    #[test]
    fn global_avg_pool_constructor_folds_the_count_into_the_multiplier() {
        let p = GlobalAvgPoolS8::new((0.5, 3), (0.25, -2), 4).unwrap();
        assert_eq!((p.multiplier, p.shift), quantize_multiplier(0.5));
        // Σ(x − 3) over [5, 7, 9, 11] = 20 → × 0.5 = 10 → + (−2) = 8.
        let x = [5i8, 7, 9, 11];
        let mut out = [0i8; 1];
        global_avg_pool_s8(
            view(&[1, 2, 2, 1], &x),
            &mut view_mut(&[1, 1], &mut out),
            &p,
        )
        .unwrap();
        assert_eq!(out, [8]);
        assert_eq!(
            GlobalAvgPoolS8::new((0.5, 3), (0.25, -2), 0),
            Err(Error::InvalidParameter)
        );
        assert_eq!(
            GlobalAvgPoolS8::new((0.0, 3), (0.25, -2), 1),
            Err(Error::InvalidParameter)
        );
        assert_eq!(
            GlobalAvgPoolS8::new((0.5, 3), (f32::NAN, -2), 1),
            Err(Error::InvalidParameter)
        );
        assert_eq!(
            GlobalAvgPoolS8::new((0.5, 300), (0.25, -2), 1),
            Err(Error::InvalidParameter)
        );
    }

    #[test]
    fn bad_arguments_are_errors_not_panics() {
        let x = [0i8; 16];
        let mut o = [0i8; 4];
        let w = Window2d::new(2, 2, 2, 2);
        let ok = max_pool2d_s8(
            view(&[1, 4, 4, 1], &x),
            &mut view_mut(&[1, 2, 2, 1], &mut o),
            &w,
            -128,
            127,
        );
        assert_eq!(ok, Ok(()));
        type Pool = fn(
            TensorView<'_, i8>,
            &mut TensorMut<'_, i8>,
            &Window2d,
            i32,
            i32,
        ) -> Result<(), Error>;
        for pool in [max_pool2d_s8 as Pool, avg_pool2d_s8 as Pool] {
            let mut run = |is: &[usize], os: &[usize], w: &Window2d, lo: i32, hi: i32| {
                pool(
                    view(is, &x[..is.iter().product::<usize>()]),
                    &mut view_mut(os, &mut o[..os.iter().product::<usize>()]),
                    w,
                    lo,
                    hi,
                )
            };
            assert_eq!(
                run(&[1, 4, 4, 1], &[1, 2, 2, 1], &w, 0, -1),
                Err(Error::InvalidParameter)
            );
            assert_eq!(
                run(&[1, 4, 4, 1], &[1, 2, 2, 1], &w, -129, 0),
                Err(Error::InvalidParameter)
            );
            assert_eq!(
                run(&[1, 4, 4, 1], &[1, 2, 1, 2], &w, -128, 127),
                Err(Error::ShapeMismatch)
            );
            assert_eq!(
                run(&[16], &[1, 2, 2, 1], &w, -128, 127),
                Err(Error::ShapeMismatch)
            );
            assert_eq!(
                run(&[2, 2, 4, 1], &[1, 2, 2, 1], &w, -128, 127),
                Err(Error::ShapeMismatch)
            );
            let mut bad = w;
            bad.dilation_h = 2;
            assert_eq!(
                run(&[1, 4, 4, 1], &[1, 2, 2, 1], &bad, -128, 127),
                Err(Error::InvalidParameter)
            );
            let mut bad = w;
            bad.pad_top = 2; // the first row of windows would be all padding
            assert_eq!(
                run(&[1, 4, 4, 1], &[1, 2, 2, 1], &bad, -128, 127),
                Err(Error::InvalidParameter)
            );
            let mut bad = w;
            bad.stride_h = 0;
            assert_eq!(
                run(&[1, 4, 4, 1], &[1, 2, 2, 1], &bad, -128, 127),
                Err(Error::InvalidParameter)
            );
            // Too many output rows: the last windows would hold no input.
            assert_eq!(
                run(&[1, 4, 4, 1], &[1, 4, 1, 1], &w, -128, 127),
                Err(Error::InvalidParameter)
            );
        }
        let p = GlobalAvgPoolS8 {
            input_zero_point: 0,
            output_zero_point: 0,
            multiplier: 1 << 30,
            shift: 0,
        };
        let mut g = |is: &[usize], os: &[usize], p: &GlobalAvgPoolS8| {
            global_avg_pool_s8(
                view(is, &x[..is.iter().product::<usize>()]),
                &mut view_mut(os, &mut o[..os.iter().product::<usize>()]),
                p,
            )
        };
        assert_eq!(g(&[1, 2, 2, 4], &[1, 4], &p), Ok(()));
        assert_eq!(g(&[1, 2, 2, 4], &[1, 1, 4], &p), Err(Error::ShapeMismatch));
        assert_eq!(g(&[1, 2, 2, 4], &[2, 2], &p), Err(Error::ShapeMismatch));
        assert_eq!(
            g(&[1, 2, 2, 4], &[1, 1, 2, 2], &p),
            Err(Error::ShapeMismatch)
        );
        assert_eq!(g(&[2, 8], &[2, 1], &p), Err(Error::ShapeMismatch));
        assert_eq!(
            g(&[1, 2, 2, 4], &[1, 4], &GlobalAvgPoolS8 { shift: 40, ..p }),
            Err(Error::InvalidParameter)
        );
        assert_eq!(
            g(
                &[1, 2, 2, 4],
                &[1, 4],
                &GlobalAvgPoolS8 {
                    output_zero_point: -200,
                    ..p
                }
            ),
            Err(Error::InvalidParameter)
        );
    }
}
