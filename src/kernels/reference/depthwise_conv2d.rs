//! DEPTHWISE_CONV_2D: each input channel convolved with its own
//! `depth_multiplier` filters.
//!
//! With input channels `C` and multiplier `M`, output channel
//! `oc = ic·M + m` is
//! `out[b, y, x, oc] = bias[oc] + Σ_{ky, kx} in[b, y·sh + ky·dh − pt, x·sw + kx·dw − pl, ic] · f[0, ky, kx, oc]`;
//! the filter is `[1, KH, KW, C·M]` (TFLite's layout). Taps in the padding
//! contribute nothing.
//!
//! int8 follows TFLite's `reference_integer_ops::DepthwiseConvPerChannel`:
//! `acc = Σ (x − input_zp) · w` over in-bounds taps, `acc += bias[oc]`,
//! `requantize(acc, multiplier[oc], shift[oc], output_zp, act_min, act_max)`.

use super::util::{check_len, nhwc, window_axes, Axis};
use crate::kernels::{Float, FloatClamp, RequantS8, Window2d};
use crate::quant::requantize;
use crate::tensor::{Element, TensorMut, TensorView};
use crate::Error;
use half::f16;

pub(crate) struct DwDims {
    pub(crate) n: usize,
    pub(crate) in_h: usize,
    pub(crate) in_w: usize,
    pub(crate) in_c: usize,
    pub(crate) out_h: usize,
    pub(crate) out_w: usize,
    pub(crate) mult: usize,
    pub(crate) kh: usize,
    pub(crate) kw: usize,
    pub(crate) ay: Axis,
    pub(crate) ax: Axis,
}

impl DwDims {
    fn out_c(&self) -> usize {
        self.in_c * self.mult
    }
}

pub(crate) fn check<T: Element, B>(
    input: &TensorView<'_, T>,
    filter: &TensorView<'_, T>,
    bias: Option<&[B]>,
    output: &TensorMut<'_, T>,
    window: &Window2d,
    depth_multiplier: usize,
) -> Result<DwDims, Error> {
    if depth_multiplier == 0 {
        return Err(Error::InvalidParameter);
    }
    let [n, in_h, in_w, in_c] = nhwc(input.shape())?;
    let [one, kh, kw, fc] = nhwc(filter.shape())?;
    let [on, out_h, out_w, out_c] = nhwc(output.shape())?;
    let channels = in_c
        .checked_mul(depth_multiplier)
        .ok_or(Error::ShapeMismatch)?;
    if one != 1
        || on != n
        || fc != channels
        || out_c != channels
        || kh != window.kernel_h
        || kw != window.kernel_w
    {
        return Err(Error::ShapeMismatch);
    }
    if let Some(b) = bias {
        check_len(out_c, b.len())?;
    }
    let (ay, ax) = window_axes(window, in_h, in_w, out_h, out_w)?;
    Ok(DwDims {
        n,
        in_h,
        in_w,
        in_c,
        out_h,
        out_w,
        mult: depth_multiplier,
        kh,
        kw,
        ay,
        ax,
    })
}

/// int8 depthwise convolution (TFLite `DEPTHWISE_CONV_2D`, per-tensor or
/// per-channel requantization).
///
/// - `input`: `[N, H, W, C]`; `filter`: `[1, KH, KW, C·M]` with `M =
///   depth_multiplier`; `output`: ``[N, OH, OW, C·M]``; `bias`: `C·M` values
///   or none.
/// - `q`: zero points, one or `C·M` multipliers/shifts, clamp range.
///
/// Errors: `ShapeMismatch` for inconsistent shapes, `LengthMismatch` for a
/// bias of the wrong length, `InvalidParameter` for a zero multiplier, a bad
/// window or bad requantization parameters.
pub fn depthwise_conv2d_s8(
    input: TensorView<'_, i8>,
    filter: TensorView<'_, i8>,
    bias: Option<&[i32]>,
    output: &mut TensorMut<'_, i8>,
    window: &Window2d,
    depth_multiplier: usize,
    q: &RequantS8<'_>,
) -> Result<(), Error> {
    let d = check(&input, &filter, bias, output, window, depth_multiplier)?;
    let out_c = d.out_c();
    q.validate(out_c)?;
    let (x, w) = (input.data(), filter.data());
    let out = output.data_mut();
    for b in 0..d.n {
        for oy in 0..d.out_h {
            for ox in 0..d.out_w {
                for ic in 0..d.in_c {
                    for m in 0..d.mult {
                        let oc = ic * d.mult + m;
                        let mut acc: i32 = 0;
                        for ky in 0..d.kh {
                            let Some(iy) = d.ay.input_index(oy, ky) else {
                                continue; // padding: x − zp = 0
                            };
                            for kx in 0..d.kw {
                                let Some(ix) = d.ax.input_index(ox, kx) else {
                                    continue;
                                };
                                let xv = x[((b * d.in_h + iy) * d.in_w + ix) * d.in_c + ic] as i32
                                    - q.input_zero_point;
                                let wv = w[(ky * d.kw + kx) * out_c + oc] as i32;
                                acc = acc.wrapping_add(xv * wv);
                            }
                        }
                        if let Some(bias) = bias {
                            acc = acc.wrapping_add(bias[oc]);
                        }
                        let (mul, shift) = q.channel(oc);
                        out[((b * d.out_h + oy) * d.out_w + ox) * out_c + oc] =
                            requantize(acc, mul, shift, q.output_zero_point, q.act_min, q.act_max);
                    }
                }
            }
        }
    }
    Ok(())
}

fn depthwise_conv2d_float<T: Float>(
    input: TensorView<'_, T>,
    filter: TensorView<'_, T>,
    bias: Option<&[T]>,
    output: &mut TensorMut<'_, T>,
    window: &Window2d,
    depth_multiplier: usize,
    clamp: FloatClamp,
) -> Result<(), Error> {
    let d = check(&input, &filter, bias, output, window, depth_multiplier)?;
    let out_c = d.out_c();
    let (x, w) = (input.data(), filter.data());
    let out = output.data_mut();
    for b in 0..d.n {
        for oy in 0..d.out_h {
            for ox in 0..d.out_w {
                for ic in 0..d.in_c {
                    for m in 0..d.mult {
                        let oc = ic * d.mult + m;
                        let mut acc = 0.0f32;
                        for ky in 0..d.kh {
                            let Some(iy) = d.ay.input_index(oy, ky) else {
                                continue;
                            };
                            for kx in 0..d.kw {
                                let Some(ix) = d.ax.input_index(ox, kx) else {
                                    continue;
                                };
                                let xv = x[((b * d.in_h + iy) * d.in_w + ix) * d.in_c + ic];
                                let wv = w[(ky * d.kw + kx) * out_c + oc];
                                acc += xv.to_f32() * wv.to_f32();
                            }
                        }
                        if let Some(bias) = bias {
                            acc += bias[oc].to_f32();
                        }
                        out[((b * d.out_h + oy) * d.out_w + ox) * out_c + oc] =
                            T::from_f32(clamp.apply(acc));
                    }
                }
            }
        }
    }
    Ok(())
}

/// f32 depthwise convolution: as [`depthwise_conv2d_s8`] in f32, clamped by
/// `clamp`.
pub fn depthwise_conv2d_f32(
    input: TensorView<'_, f32>,
    filter: TensorView<'_, f32>,
    bias: Option<&[f32]>,
    output: &mut TensorMut<'_, f32>,
    window: &Window2d,
    depth_multiplier: usize,
    clamp: FloatClamp,
) -> Result<(), Error> {
    depthwise_conv2d_float(input, filter, bias, output, window, depth_multiplier, clamp)
}

/// f16 depthwise convolution: f16 storage, f32 arithmetic, the clamped
/// result rounded once to f16.
pub fn depthwise_conv2d_f16(
    input: TensorView<'_, f16>,
    filter: TensorView<'_, f16>,
    bias: Option<&[f16]>,
    output: &mut TensorMut<'_, f16>,
    window: &Window2d,
    depth_multiplier: usize,
    clamp: FloatClamp,
) -> Result<(), Error> {
    depthwise_conv2d_float(input, filter, bias, output, window, depth_multiplier, clamp)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::kernels::reference::util::testing::*;

    struct Case {
        window: Window2d,
        input: [usize; 4],
        mult: usize,
        output: [usize; 4],
    }

    impl Case {
        fn filter(&self) -> [usize; 4] {
            [
                1,
                self.window.kernel_h,
                self.window.kernel_w,
                self.output[3],
            ]
        }
    }

    fn random_case(rng: &mut Rng) -> Case {
        let (window, [ih, iw], [oh, ow]) = random_window(rng, true);
        let n = rng.usize(1, 2);
        let ic = rng.usize(1, 4);
        let mult = rng.usize(1, 3);
        Case {
            window,
            input: [n, ih, iw, ic],
            mult,
            output: [n, oh, ow, ic * mult],
        }
    }

    fn describe(iter: usize, c: &Case) -> std::string::String {
        std::format!(
            "case {iter}: in {:?} mult {} out {:?} {:?}",
            c.input,
            c.mult,
            c.output,
            c.window
        )
    }

    /// Depthwise convolution in f64: `(Σ x·w + bias, Σ |x·w| + |bias|)`.
    fn dw_f64(c: &Case, x: &[f64], w: &[f64], bias: Option<&[f64]>) -> (Vec<f64>, Vec<f64>) {
        let [n, ih, iw, ic] = c.input;
        let [_, oh, ow, oc] = c.output;
        let win = &c.window;
        let mut sums = vec![0.0; n * oh * ow * oc];
        let mut mags = vec![0.0; n * oh * ow * oc];
        for b in 0..n {
            for oy in 0..oh {
                for ox in 0..ow {
                    for o in 0..oc {
                        let i = o / c.mult;
                        let at = ((b * oh + oy) * ow + ox) * oc + o;
                        for ky in 0..win.kernel_h {
                            for kx in 0..win.kernel_w {
                                let y = (oy * win.stride_h + ky * win.dilation_h) as i64
                                    - win.pad_top as i64;
                                let xx = (ox * win.stride_w + kx * win.dilation_w) as i64
                                    - win.pad_left as i64;
                                if y < 0 || xx < 0 || y >= ih as i64 || xx >= iw as i64 {
                                    continue;
                                }
                                let p = x[((b * ih + y as usize) * iw + xx as usize) * ic + i]
                                    * w[(ky * win.kernel_w + kx) * oc + o];
                                sums[at] += p;
                                mags[at] += p.abs();
                            }
                        }
                        if let Some(bias) = bias {
                            sums[at] += bias[o];
                            mags[at] += bias[o].abs();
                        }
                    }
                }
            }
        }
        (sums, mags)
    }

    #[test]
    fn s8_matches_float_on_dequantized_values_within_one_quantum() {
        let mut rng = Rng::new(11);
        for iter in 0..2000 {
            let c = random_case(&mut rng);
            let oc = c.output[3];
            let taps = c.window.kernel_h * c.window.kernel_w;
            let q = RandomQuant::new(&mut rng, oc, taps);
            let x = rng.vec_i8(c.input.iter().product());
            let w = rng.vec_weights(c.filter().iter().product());
            let bias: Vec<i32> = (0..oc).map(|_| rng.range(-5000, 5000) as i32).collect();
            let use_bias = rng.bool();
            let mut out = vec![0i8; c.output.iter().product()];
            depthwise_conv2d_s8(
                view(&c.input, &x),
                view(&c.filter(), &w),
                use_bias.then_some(&bias[..]),
                &mut view_mut(&c.output, &mut out),
                &c.window,
                c.mult,
                &q.requant(),
            )
            .unwrap();
            let xr: Vec<f64> = x.iter().map(|&v| deq(v, q.in_scale, q.in_zp)).collect();
            let wr: Vec<f64> = w
                .iter()
                .enumerate()
                .map(|(i, &v)| v as f64 * q.w_scale(i % oc) as f64)
                .collect();
            let br: Vec<f64> = (0..oc)
                .map(|o| bias[o] as f64 * q.in_scale as f64 * q.w_scale(o) as f64)
                .collect();
            let (real, _) = dw_f64(&c, &xr, &wr, use_bias.then_some(&br[..]));
            let want: Vec<i32> = real.iter().map(|&r| q.quantize(r)).collect();
            assert_close_s8(&out, &want, 1, &describe(iter, &c));
            // Bit-exact with TFLite's integer definition.
            let xi: Vec<f64> = x.iter().map(|&v| (v as i32 - q.in_zp) as f64).collect();
            let wi: Vec<f64> = w.iter().map(|&v| v as f64).collect();
            let bi: Vec<f64> = bias.iter().map(|&v| v as f64).collect();
            let (acc, _) = dw_f64(&c, &xi, &wi, use_bias.then_some(&bi[..]));
            assert_close_s8(&out, &q.requantize_all(&acc, oc), 0, "integer definition");
        }
    }

    fn float_matches_f64<T: Float>(seed: u64) {
        let mut rng = Rng::new(seed);
        let tol = tol_for::<T>();
        for iter in 0..1000 {
            let c = random_case(&mut rng);
            let x: Vec<T> = vec_float(&mut rng, c.input.iter().product(), -2.0, 2.0);
            let w: Vec<T> = vec_float(&mut rng, c.filter().iter().product(), -1.0, 1.0);
            let bias: Vec<T> = vec_float(&mut rng, c.output[3], -1.0, 1.0);
            let use_bias = rng.bool();
            let clamp = if rng.bool() {
                FloatClamp::NONE
            } else {
                FloatClamp { min: 0.0, max: 6.0 }
            };
            let mut out = vec![T::from_f32(0.0); c.output.iter().product()];
            depthwise_conv2d_float(
                view(&c.input, &x),
                view(&c.filter(), &w),
                use_bias.then_some(&bias[..]),
                &mut view_mut(&c.output, &mut out),
                &c.window,
                c.mult,
                clamp,
            )
            .unwrap();
            let b64 = widen(&bias);
            let (sums, mags) = dw_f64(&c, &widen(&x), &widen(&w), use_bias.then_some(&b64[..]));
            let want: Vec<f64> = sums
                .iter()
                .map(|&s| s.clamp(clamp.min as f64, clamp.max as f64))
                .collect();
            let tols: Vec<f64> = want.iter().zip(&mags).map(|(&r, &m)| tol(m, r)).collect();
            assert_close_f(&widen(&out), &want, &tols, &describe(iter, &c));
        }
    }

    #[test]
    fn f32_matches_f64_reference() {
        float_matches_f64::<f32>(12);
    }

    #[test]
    fn f16_matches_f64_reference() {
        float_matches_f64::<f16>(13);
    }

    #[test]
    fn channel_multiplier_orders_outputs_input_channel_major() {
        // One pixel, 2 input channels, multiplier 2, 1×1 filter:
        // out[ic·2 + m] = x[ic] · f[ic·2 + m].
        let x = [2.0f32, 3.0];
        let f = [1.0f32, 10.0, 100.0, 1000.0];
        let mut out = [0f32; 4];
        depthwise_conv2d_f32(
            view(&[1, 1, 1, 2], &x),
            view(&[1, 1, 1, 4], &f),
            None,
            &mut view_mut(&[1, 1, 1, 4], &mut out),
            &Window2d::new(1, 1, 1, 1),
            2,
            FloatClamp::NONE,
        )
        .unwrap();
        assert_eq!(out, [2.0, 20.0, 300.0, 3000.0]);
        let fh: std::vec::Vec<f16> = f.iter().map(|&v| f16::from_f32(v)).collect();
        let xh = [f16::from_f32(2.0), f16::from_f32(3.0)];
        let mut oh = [f16::ZERO; 4];
        depthwise_conv2d_f16(
            view(&[1, 1, 1, 2], &xh),
            view(&[1, 1, 1, 4], &fh),
            Some(&[f16::ONE; 4]),
            &mut view_mut(&[1, 1, 1, 4], &mut oh),
            &Window2d::new(1, 1, 1, 1),
            2,
            FloatClamp::NONE,
        )
        .unwrap();
        // 3001 is not an f16: it rounds to the even neighbour 3000.
        assert_eq!(oh.map(|v| v.to_f32()), [3.0, 21.0, 301.0, 3000.0]);
    }

    #[test]
    fn bad_arguments_are_errors_not_panics() {
        let x = [0i8; 3 * 3 * 2];
        let w = [0i8; 2 * 2 * 4];
        let mut o = [0i8; 2 * 2 * 4];
        let q = RequantS8 {
            input_zero_point: 0,
            output_zero_point: 0,
            multipliers: &[1 << 30],
            shifts: &[0],
            act_min: -128,
            act_max: 127,
        };
        let win = Window2d::new(2, 2, 1, 1);
        let mut run = |ws: &[usize],
                       os: &[usize],
                       b: Option<&[i32]>,
                       mult: usize,
                       win: &Window2d,
                       q: &RequantS8| {
            depthwise_conv2d_s8(
                view(&[1, 3, 3, 2], &x),
                view(ws, &w[..ws.iter().product::<usize>()]),
                b,
                &mut view_mut(os, &mut o[..os.iter().product::<usize>()]),
                win,
                mult,
                q,
            )
        };
        let (ws, os) = ([1, 2, 2, 4], [1, 2, 2, 4]);
        assert_eq!(run(&ws, &os, None, 2, &win, &q), Ok(()));
        assert_eq!(
            run(&ws, &os, None, 0, &win, &q),
            Err(Error::InvalidParameter)
        );
        assert_eq!(run(&ws, &os, None, 3, &win, &q), Err(Error::ShapeMismatch));
        assert_eq!(
            run(&[2, 2, 1, 4], &os, None, 2, &win, &q),
            Err(Error::ShapeMismatch)
        );
        assert_eq!(
            run(&ws, &[1, 2, 2, 2], None, 2, &win, &q),
            Err(Error::ShapeMismatch)
        );
        assert_eq!(
            run(&ws, &os, None, usize::MAX, &win, &q),
            Err(Error::ShapeMismatch)
        );
        assert_eq!(
            run(&ws, &os, Some(&[0; 3]), 2, &win, &q),
            Err(Error::LengthMismatch {
                expected: 4,
                got: 3
            })
        );
        let q3 = RequantS8 {
            multipliers: &[1, 1, 1],
            shifts: &[0, 0, 0],
            ..q
        };
        assert_eq!(
            run(&ws, &os, None, 2, &win, &q3),
            Err(Error::InvalidParameter)
        );
        let mut bad = win;
        bad.stride_w = 0;
        assert_eq!(
            run(&ws, &os, None, 2, &bad, &q),
            Err(Error::InvalidParameter)
        );
        let mut bad = win;
        bad.pad_left = 2;
        assert_eq!(
            run(&ws, &os, None, 2, &bad, &q),
            Err(Error::InvalidParameter)
        );
    }
}
