//! CONV_2D: 2-D convolution of an NHWC input with OHWI filters.
//!
//! `out[b, y, x, o] = bias[o] + Σ_{ky, kx, i} in[b, y·sh + ky·dh − pt, x·sw + kx·dw − pl, i] · f[o, ky, kx, i]`,
//! where taps that fall outside the input (into the padding) contribute
//! nothing. The window's stride, dilation and top/left padding come from
//! [`Window2d`]; the bottom/right padding is implied by the output size.
//!
//! int8 follows TFLite's `reference_integer_ops::ConvPerChannel`:
//! `acc = Σ (x − input_zp) · w` over in-bounds taps (a padded tap reads the
//! input zero point, so `x − zp = 0`), then `acc += bias[o]`, then
//! `requantize(acc, multiplier[o], shift[o], output_zp, act_min, act_max)`.

use super::util::{check_len, nhwc, window_axes, Axis};
use crate::kernels::{Float, FloatClamp, RequantS8, Window2d};
use crate::quant::requantize;
use crate::tensor::{TensorMut, TensorView};
use crate::Error;
use half::f16;

/// The validated geometry of a convolution.
pub(crate) struct ConvDims {
    pub(crate) n: usize,
    pub(crate) in_h: usize,
    pub(crate) in_w: usize,
    pub(crate) in_c: usize,
    pub(crate) out_h: usize,
    pub(crate) out_w: usize,
    pub(crate) out_c: usize,
    pub(crate) kh: usize,
    pub(crate) kw: usize,
    pub(crate) ay: Axis,
    pub(crate) ax: Axis,
}

pub(crate) fn check<T: crate::tensor::Element, B>(
    input: &TensorView<'_, T>,
    filter: &TensorView<'_, T>,
    bias: Option<&[B]>,
    output: &TensorMut<'_, T>,
    window: &Window2d,
) -> Result<ConvDims, Error> {
    let [n, in_h, in_w, in_c] = nhwc(input.shape())?;
    let [fo, kh, kw, fi] = nhwc(filter.shape())?;
    let [on, out_h, out_w, out_c] = nhwc(output.shape())?;
    if on != n || fi != in_c || fo != out_c || kh != window.kernel_h || kw != window.kernel_w {
        return Err(Error::ShapeMismatch);
    }
    if let Some(b) = bias {
        check_len(out_c, b.len())?;
    }
    let (ay, ax) = window_axes(window, in_h, in_w, out_h, out_w)?;
    Ok(ConvDims {
        n,
        in_h,
        in_w,
        in_c,
        out_h,
        out_w,
        out_c,
        kh,
        kw,
        ay,
        ax,
    })
}

/// int8 2-D convolution (TFLite `CONV_2D`, int8 activations and weights,
/// int32 bias, per-tensor or per-channel requantization).
///
/// - `input`: `[N, H, W, C]`; `filter`: `[O, KH, KW, C]` with
///   `KH, KW` equal to the window's kernel size; `output`: `[N, OH, OW, O]`;
///   `bias`: `O` values (scale `input_scale × weight_scale[o]`) or none.
/// - `q`: input/output zero points, one multiplier/shift or `O` of them,
///   and the fused-activation clamp.
///
/// Errors: `ShapeMismatch` for inconsistent shapes, `LengthMismatch` for a
/// bias of the wrong length, `InvalidParameter` for a bad window (zero
/// stride or dilation, a window that does not overlap the input) or bad
/// requantization parameters.
pub fn conv2d_s8(
    input: TensorView<'_, i8>,
    filter: TensorView<'_, i8>,
    bias: Option<&[i32]>,
    output: &mut TensorMut<'_, i8>,
    window: &Window2d,
    q: &RequantS8<'_>,
) -> Result<(), Error> {
    let d = check(&input, &filter, bias, output, window)?;
    q.validate(d.out_c)?;
    let (x, w) = (input.data(), filter.data());
    let out = output.data_mut();
    let mut out_index = 0;
    for b in 0..d.n {
        for oy in 0..d.out_h {
            for ox in 0..d.out_w {
                for o in 0..d.out_c {
                    let mut acc: i32 = 0;
                    for ky in 0..d.kh {
                        let Some(iy) = d.ay.input_index(oy, ky) else {
                            continue; // padding: x − zp = 0
                        };
                        for kx in 0..d.kw {
                            let Some(ix) = d.ax.input_index(ox, kx) else {
                                continue;
                            };
                            let xs = &x[((b * d.in_h + iy) * d.in_w + ix) * d.in_c..][..d.in_c];
                            let ws = &w[((o * d.kh + ky) * d.kw + kx) * d.in_c..][..d.in_c];
                            for (&xv, &wv) in xs.iter().zip(ws) {
                                let xv = xv as i32 - q.input_zero_point;
                                acc = acc.wrapping_add(xv * wv as i32);
                            }
                        }
                    }
                    if let Some(bias) = bias {
                        acc = acc.wrapping_add(bias[o]);
                    }
                    let (m, s) = q.channel(o);
                    out[out_index] =
                        requantize(acc, m, s, q.output_zero_point, q.act_min, q.act_max);
                    out_index += 1;
                }
            }
        }
    }
    Ok(())
}

fn conv2d_float<T: Float>(
    input: TensorView<'_, T>,
    filter: TensorView<'_, T>,
    bias: Option<&[T]>,
    output: &mut TensorMut<'_, T>,
    window: &Window2d,
    clamp: FloatClamp,
) -> Result<(), Error> {
    let d = check(&input, &filter, bias, output, window)?;
    let (x, w) = (input.data(), filter.data());
    let out = output.data_mut();
    let mut out_index = 0;
    for b in 0..d.n {
        for oy in 0..d.out_h {
            for ox in 0..d.out_w {
                for o in 0..d.out_c {
                    let mut acc = 0.0f32;
                    for ky in 0..d.kh {
                        let Some(iy) = d.ay.input_index(oy, ky) else {
                            continue;
                        };
                        for kx in 0..d.kw {
                            let Some(ix) = d.ax.input_index(ox, kx) else {
                                continue;
                            };
                            let xs = &x[((b * d.in_h + iy) * d.in_w + ix) * d.in_c..][..d.in_c];
                            let ws = &w[((o * d.kh + ky) * d.kw + kx) * d.in_c..][..d.in_c];
                            for (&xv, &wv) in xs.iter().zip(ws) {
                                acc += xv.to_f32() * wv.to_f32();
                            }
                        }
                    }
                    if let Some(bias) = bias {
                        acc += bias[o].to_f32();
                    }
                    out[out_index] = T::from_f32(clamp.apply(acc));
                    out_index += 1;
                }
            }
        }
    }
    Ok(())
}

/// f32 2-D convolution: as [`conv2d_s8`] with `acc = Σ x·w + bias`
/// accumulated in f32, then clamped by `clamp`.
pub fn conv2d_f32(
    input: TensorView<'_, f32>,
    filter: TensorView<'_, f32>,
    bias: Option<&[f32]>,
    output: &mut TensorMut<'_, f32>,
    window: &Window2d,
    clamp: FloatClamp,
) -> Result<(), Error> {
    conv2d_float(input, filter, bias, output, window, clamp)
}

/// f16 2-D convolution: f16 storage, products and sums in f32, the clamped
/// result rounded once to f16.
pub fn conv2d_f16(
    input: TensorView<'_, f16>,
    filter: TensorView<'_, f16>,
    bias: Option<&[f16]>,
    output: &mut TensorMut<'_, f16>,
    window: &Window2d,
    clamp: FloatClamp,
) -> Result<(), Error> {
    conv2d_float(input, filter, bias, output, window, clamp)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::kernels::reference::util::testing::*;

    /// A random convolution problem.
    struct Case {
        window: Window2d,
        input: [usize; 4],
        filter: [usize; 4],
        output: [usize; 4],
    }

    fn random_case(rng: &mut Rng) -> Case {
        let (window, [ih, iw], [oh, ow]) = random_window(rng, true);
        let n = rng.usize(1, 2);
        let ic = rng.usize(1, 4);
        let oc = rng.usize(1, 4);
        Case {
            window,
            input: [n, ih, iw, ic],
            filter: [oc, window.kernel_h, window.kernel_w, ic],
            output: [n, oh, ow, oc],
        }
    }

    /// The convolution in f64: `(Σ x·w + bias, Σ |x·w| + |bias|)` per output.
    fn conv_f64(c: &Case, x: &[f64], w: &[f64], bias: Option<&[f64]>) -> (Vec<f64>, Vec<f64>) {
        let [n, ih, iw, ic] = c.input;
        let [_, oh, ow, oc] = c.output;
        let [_, kh, kw, _] = c.filter;
        let win = &c.window;
        let (mut sums, mut mags) = (Vec::new(), Vec::new());
        for b in 0..n {
            for oy in 0..oh {
                for ox in 0..ow {
                    for o in 0..oc {
                        let (mut s, mut m) = (0.0, 0.0);
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let y = (oy * win.stride_h + ky * win.dilation_h) as i64
                                    - win.pad_top as i64;
                                let xx = (ox * win.stride_w + kx * win.dilation_w) as i64
                                    - win.pad_left as i64;
                                if y < 0 || xx < 0 || y >= ih as i64 || xx >= iw as i64 {
                                    continue;
                                }
                                for i in 0..ic {
                                    let xi = ((b * ih + y as usize) * iw + xx as usize) * ic + i;
                                    let p = x[xi] * w[((o * kh + ky) * kw + kx) * ic + i];
                                    s += p;
                                    m += p.abs();
                                }
                            }
                        }
                        if let Some(bias) = bias {
                            s += bias[o];
                            m += bias[o].abs();
                        }
                        sums.push(s);
                        mags.push(m);
                    }
                }
            }
        }
        (sums, mags)
    }

    #[test]
    fn s8_matches_float_on_dequantized_values_within_one_quantum() {
        let mut rng = Rng::new(1);
        for iter in 0..2000 {
            let c = random_case(&mut rng);
            let [oc, kh, kw, ic] = c.filter;
            let q = RandomQuant::new(&mut rng, oc, kh * kw * ic);
            let x = rng.vec_i8(c.input.iter().product());
            let w = rng.vec_weights(c.filter.iter().product());
            let bias: Vec<i32> = (0..oc).map(|_| rng.range(-30000, 30000) as i32).collect();
            let use_bias = rng.bool();
            let mut out = vec![0i8; c.output.iter().product()];
            conv2d_s8(
                view(&c.input, &x),
                view(&c.filter, &w),
                use_bias.then_some(&bias[..]),
                &mut view_mut(&c.output, &mut out),
                &c.window,
                &q.requant(),
            )
            .unwrap();

            let xr: Vec<f64> = x.iter().map(|&v| deq(v, q.in_scale, q.in_zp)).collect();
            let wr: Vec<f64> = w
                .iter()
                .enumerate()
                .map(|(i, &v)| v as f64 * q.w_scale(i / (kh * kw * ic)) as f64)
                .collect();
            let br: Vec<f64> = (0..oc)
                .map(|o| bias[o] as f64 * q.in_scale as f64 * q.w_scale(o) as f64)
                .collect();
            let (real, _) = conv_f64(&c, &xr, &wr, use_bias.then_some(&br[..]));
            let want: Vec<i32> = real.iter().map(|&r| q.quantize(r)).collect();
            assert_close_s8(&out, &want, 1, &format_case(iter, &c));
            // Bit-exact with TFLite's integer definition, accumulated by the
            // independent loop above on exact integers.
            let xi: Vec<f64> = x.iter().map(|&v| (v as i32 - q.in_zp) as f64).collect();
            let wi: Vec<f64> = w.iter().map(|&v| v as f64).collect();
            let bi: Vec<f64> = bias.iter().map(|&v| v as f64).collect();
            let (acc, _) = conv_f64(&c, &xi, &wi, use_bias.then_some(&bi[..]));
            assert_close_s8(&out, &q.requantize_all(&acc, oc), 0, "integer definition");
        }
    }

    fn format_case(iter: usize, c: &Case) -> std::string::String {
        std::format!(
            "case {iter}: in {:?} filter {:?} out {:?} {:?}",
            c.input,
            c.filter,
            c.output,
            c.window
        )
    }

    fn float_matches_f64<T: Float>(seed: u64) {
        let mut rng = Rng::new(seed);
        let tol = tol_for::<T>();
        for iter in 0..1000 {
            let c = random_case(&mut rng);
            let x: Vec<T> = vec_float(&mut rng, c.input.iter().product(), -1.0, 1.0);
            let w: Vec<T> = vec_float(&mut rng, c.filter.iter().product(), -1.0, 1.0);
            let bias: Vec<T> = vec_float(&mut rng, c.output[3], -1.0, 1.0);
            let use_bias = rng.bool();
            let clamp = if rng.bool() {
                FloatClamp::NONE
            } else {
                FloatClamp {
                    min: -0.5,
                    max: 1.5,
                }
            };
            let mut out = vec![T::from_f32(0.0); c.output.iter().product()];
            conv2d_float(
                view(&c.input, &x),
                view(&c.filter, &w),
                use_bias.then_some(&bias[..]),
                &mut view_mut(&c.output, &mut out),
                &c.window,
                clamp,
            )
            .unwrap();
            let bias64 = widen(&bias);
            let (sums, mags) =
                conv_f64(&c, &widen(&x), &widen(&w), use_bias.then_some(&bias64[..]));
            let want: Vec<f64> = sums
                .iter()
                .map(|&s| s.clamp(clamp.min as f64, clamp.max as f64))
                .collect();
            let tols: Vec<f64> = want.iter().zip(&mags).map(|(&r, &m)| tol(m, r)).collect();
            assert_close_f(&widen(&out), &want, &tols, &format_case(iter, &c));
        }
    }

    #[test]
    fn f32_matches_f64_reference() {
        float_matches_f64::<f32>(2);
    }

    #[test]
    fn f16_matches_f64_reference() {
        float_matches_f64::<f16>(3);
    }

    #[test]
    fn public_float_wrappers_compute_a_hand_checked_case() {
        // 1×3×3×1 input, one 2×2 filter of ones, stride 1, pad 1 before:
        // output 3×3 (pad after implied 0).
        let x: [f32; 9] = [1., 2., 3., 4., 5., 6., 7., 8., 9.];
        let w = [1.0f32; 4];
        let mut win = Window2d::new(2, 2, 1, 1);
        win.pad_top = 1;
        win.pad_left = 1;
        let mut out = [0f32; 9];
        conv2d_f32(
            view(&[1, 3, 3, 1], &x),
            view(&[1, 2, 2, 1], &w),
            Some(&[0.5]),
            &mut view_mut(&[1, 3, 3, 1], &mut out),
            &win,
            FloatClamp::NONE,
        )
        .unwrap();
        assert_eq!(out, [1.5, 3.5, 5.5, 5.5, 12.5, 16.5, 11.5, 24.5, 28.5]);

        let xh: std::vec::Vec<f16> = x.iter().map(|&v| f16::from_f32(v)).collect();
        let wh = [f16::ONE; 4];
        let mut outh = [f16::ZERO; 9];
        conv2d_f16(
            view(&[1, 3, 3, 1], &xh),
            view(&[1, 2, 2, 1], &wh),
            None,
            &mut view_mut(&[1, 3, 3, 1], &mut outh),
            &win,
            FloatClamp {
                min: 0.0,
                max: 20.0,
            },
        )
        .unwrap();
        let got: std::vec::Vec<f32> = outh.iter().map(|v| v.to_f32()).collect();
        assert_eq!(got, [1., 3., 5., 5., 12., 16., 11., 20., 20.]);
    }

    #[test]
    fn s8_hand_checked_per_channel_case() {
        // 1×1×2×2 input (zp 1), 1×1 filters; channel 0 scaled by 1.0,
        // channel 1 by 0.5; output zp −3.
        let x = [3i8, 5, -1, 1];
        let w = [2i8, 1, -1, 3];
        let (m1, s1) = crate::quant::quantize_multiplier(1.0);
        let (m2, s2) = crate::quant::quantize_multiplier(0.5);
        let q = RequantS8 {
            input_zero_point: 1,
            output_zero_point: -3,
            multipliers: &[m1, m2],
            shifts: &[s1, s2],
            act_min: -128,
            act_max: 127,
        };
        let mut out = [0i8; 4];
        conv2d_s8(
            view(&[1, 1, 2, 2], &x),
            view(&[2, 1, 1, 2], &w),
            Some(&[10, -7]),
            &mut view_mut(&[1, 1, 2, 2], &mut out),
            &Window2d::new(1, 1, 1, 1),
            &q,
        )
        .unwrap();
        // pixel 0: x−zp = (2, 4): ch0 = 4+4+10 = 18 → 15; ch1 = −2+12−7 = 3 → 1.5 → 2 → −1
        // pixel 1: x−zp = (−2, 0): ch0 = −4+10 = 6 → 3; ch1 = 2−7 = −5 → −2.5,
        // which TFLite's doubling high multiply rounds toward zero: −2 → −5.
        assert_eq!(out, [15, -1, 3, -5]);
    }

    #[test]
    fn bad_arguments_are_errors_not_panics() {
        let x = [0i8; 2 * 4 * 4 * 3];
        let w = [0i8; 5 * 3 * 3 * 3];
        let mut o = [0i8; 2 * 2 * 2 * 5];
        let q = RequantS8 {
            input_zero_point: 0,
            output_zero_point: 0,
            multipliers: &[1 << 30],
            shifts: &[0],
            act_min: -128,
            act_max: 127,
        };
        let win = Window2d::new(3, 3, 1, 1);
        let run = |x: &[i8],
                   xs: &[usize],
                   w: &[i8],
                   ws: &[usize],
                   b: Option<&[i32]>,
                   o: &mut [i8],
                   os: &[usize],
                   win: &Window2d,
                   q: &RequantS8| {
            conv2d_s8(view(xs, x), view(ws, w), b, &mut view_mut(os, o), win, q)
        };
        let (xs, ws, os) = ([2, 4, 4, 3], [5, 3, 3, 3], [2, 2, 2, 5]);
        assert_eq!(run(&x, &xs, &w, &ws, None, &mut o, &os, &win, &q), Ok(()));
        // Bias of the wrong length.
        assert_eq!(
            run(&x, &xs, &w, &ws, Some(&[0; 4]), &mut o, &os, &win, &q),
            Err(Error::LengthMismatch {
                expected: 5,
                got: 4
            })
        );
        // Filter channels ≠ input channels.
        assert_eq!(
            run(
                &x,
                &xs,
                &w[..5 * 9 * 2],
                &[5, 3, 3, 2],
                None,
                &mut o,
                &os,
                &win,
                &q
            ),
            Err(Error::ShapeMismatch)
        );
        // Output channels ≠ filter count.
        assert_eq!(
            run(
                &x,
                &xs,
                &w,
                &ws,
                None,
                &mut o[..32],
                &[2, 2, 2, 4],
                &win,
                &q
            ),
            Err(Error::ShapeMismatch)
        );
        // Batch mismatch, rank 3 input.
        assert_eq!(
            run(
                &x,
                &xs,
                &w,
                &ws,
                None,
                &mut o[..20],
                &[1, 2, 2, 5],
                &win,
                &q
            ),
            Err(Error::ShapeMismatch)
        );
        assert_eq!(
            run(&x, &[8, 4, 3], &w, &ws, None, &mut o, &os, &win, &q),
            Err(Error::ShapeMismatch)
        );
        // Window kernel ≠ filter size.
        assert_eq!(
            run(
                &x,
                &xs,
                &w,
                &ws,
                None,
                &mut o,
                &os,
                &Window2d::new(3, 2, 1, 1),
                &q
            ),
            Err(Error::ShapeMismatch)
        );
        // Zero stride / dilation, padding as large as the kernel, huge stride.
        let mut bad = win;
        bad.stride_h = 0;
        assert_eq!(
            run(&x, &xs, &w, &ws, None, &mut o, &os, &bad, &q),
            Err(Error::InvalidParameter)
        );
        let mut bad = win;
        bad.dilation_w = 0;
        assert_eq!(
            run(&x, &xs, &w, &ws, None, &mut o, &os, &bad, &q),
            Err(Error::InvalidParameter)
        );
        let mut bad = win;
        bad.pad_top = 3;
        assert_eq!(
            run(&x, &xs, &w, &ws, None, &mut o, &os, &bad, &q),
            Err(Error::InvalidParameter)
        );
        let mut bad = win;
        bad.stride_w = usize::MAX;
        assert_eq!(
            run(&x, &xs, &w, &ws, None, &mut o, &os, &bad, &q),
            Err(Error::InvalidParameter)
        );
        let mut bad = win;
        bad.dilation_h = usize::MAX;
        assert_eq!(
            run(&x, &xs, &w, &ws, None, &mut o, &os, &bad, &q),
            Err(Error::InvalidParameter)
        );
        // An output larger than the windows can cover.
        let mut big = [0i8; 2 * 5 * 2 * 5];
        assert_eq!(
            run(&x, &xs, &w, &ws, None, &mut big, &[2, 5, 2, 5], &win, &q),
            Err(Error::InvalidParameter)
        );
        // Requantization: wrong multiplier count, bad shift, bad clamp, bad zp.
        let q2 = RequantS8 {
            multipliers: &[1, 2],
            shifts: &[0, 0],
            ..q
        };
        assert_eq!(
            run(&x, &xs, &w, &ws, None, &mut o, &os, &win, &q2),
            Err(Error::InvalidParameter)
        );
        let q2 = RequantS8 { shifts: &[31], ..q };
        assert_eq!(
            run(&x, &xs, &w, &ws, None, &mut o, &os, &win, &q2),
            Err(Error::InvalidParameter)
        );
        let q2 = RequantS8 {
            act_min: 5,
            act_max: 4,
            ..q
        };
        assert_eq!(
            run(&x, &xs, &w, &ws, None, &mut o, &os, &win, &q2),
            Err(Error::InvalidParameter)
        );
        let q2 = RequantS8 {
            input_zero_point: 128,
            ..q
        };
        assert_eq!(
            run(&x, &xs, &w, &ws, None, &mut o, &os, &win, &q2),
            Err(Error::InvalidParameter)
        );
        // Float: the same shape checks.
        let xf = [0f32; 2 * 4 * 4 * 3];
        let wf = [0f32; 5 * 3 * 3 * 2];
        let mut of = [0f32; 2 * 2 * 2 * 5];
        assert_eq!(
            conv2d_f32(
                view(&xs, &xf),
                view(&[5, 3, 3, 2], &wf),
                None,
                &mut view_mut(&os, &mut of),
                &win,
                FloatClamp::NONE
            ),
            Err(Error::ShapeMismatch)
        );
    }
}
