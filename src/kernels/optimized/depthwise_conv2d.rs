//! DEPTHWISE_CONV_2D, int8: the reference
//! [`depthwise_conv2d_s8`](crate::kernels::reference::depthwise_conv2d_s8), fast.
//!
//! With multiplier 1, kernels up to 3×3 and accumulators in the exact
//! range of the fast requantization, `by_four` runs: a pixel's in-bounds
//! taps are listed once, four channels accumulate in registers over them.
//! Otherwise:
//! channels are innermost in NHWC, so one kernel tap of one pixel is a
//! contiguous run of `C` input values and `C` weights. With multiplier 1
//! the kernel loops over the pixel's in-bounds taps (padding is skipped by
//! the tap ranges, never tested per element) and, for each tap, over a
//! block of up to 64 channels whose accumulators live in a stack array;
//! then it requantizes the block. On the DSP path each word of four
//! channels takes two loads, four sign extensions (`SXTAB16` folds in
//! `x − zp`) and four `SMLABB`/`SMLATT`. Multipliers above 1 take a plain
//! per-channel loop.

#[cfg(edgegrad_dsp)]
use super::dot::{offset_pair, word};
#[cfg(edgegrad_dsp)]
use super::dsp::{dw_mac4, smlabb, smlatt, sxtab16, sxtab16_ror8, sxtb16, sxtb16_ror8};
use super::requant::{fits, max_sum, Compact};
use super::taps::TapList;
use super::{requant, BLOCK};
use crate::kernels::reference::depthwise_conv2d::{check, DwDims};
use crate::kernels::{RequantS8, Window2d};
use crate::tensor::{TensorMut, TensorView};
use crate::Error;

/// int8 depthwise convolution: same arguments, errors and results as
/// [`reference::depthwise_conv2d_s8`](crate::kernels::reference::depthwise_conv2d_s8).
/// Needs no scratch memory (about 850 bytes of stack).
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
    let (c, m) = (d.in_c, d.mult);
    let oc = c * m;
    q.validate(oc)?;
    let (x, w) = (input.data(), filter.data());
    let out = output.data_mut();
    let zp = q.input_zero_point;
    if m == 1 && fits(q, bias, c, max_sum(d.kh * d.kw)) && d.kh * d.kw <= MAX_TAPS {
        by_four(&d, window, x, w, bias, q, out);
        return Ok(());
    }
    let mut acc = [0i32; BLOCK];
    let mut p = 0;
    for b in 0..d.n {
        for oy in 0..d.out_h {
            let kys = d.ay.taps(oy, d.kh);
            for ox in 0..d.out_w {
                let kxs = d.ax.taps(ox, d.kw);
                let px = &mut out[p * oc..][..oc];
                p += 1;
                // The input offset of tap (ky, kx) at channel 0.
                let x_at = |ky: usize, kx: usize| {
                    let iy = oy * d.ay.stride + ky * window.dilation_h - d.ay.pad;
                    let ix = ox * d.ax.stride + kx * window.dilation_w - d.ax.pad;
                    ((b * d.in_h + iy) * d.in_w + ix) * c
                };
                if m == 1 {
                    let mut c0 = 0;
                    while c0 < c {
                        let n = BLOCK.min(c - c0);
                        let acc = &mut acc[..n];
                        acc.fill(0);
                        for ky in kys.clone() {
                            for kx in kxs.clone() {
                                let xs = &x[x_at(ky, kx) + c0..][..n];
                                let ws = &w[(ky * d.kw + kx) * c + c0..][..n];
                                tap(xs, ws, zp, acc);
                            }
                        }
                        for (k, (o, &a)) in px[c0..c0 + n].iter_mut().zip(acc.iter()).enumerate() {
                            *o = requant(a, bias, c0 + k, q);
                        }
                        c0 += n;
                    }
                } else {
                    for (o, y) in px.iter_mut().enumerate() {
                        let ch = o / m;
                        let mut a: i32 = 0;
                        for ky in kys.clone() {
                            for kx in kxs.clone() {
                                let xv = x[x_at(ky, kx) + ch] as i32 - zp;
                                a = a.wrapping_add(xv * w[(ky * d.kw + kx) * oc + o] as i32);
                            }
                        }
                        *y = requant(a, bias, o, q);
                    }
                }
            }
        }
    }
    Ok(())
}

/// The most kernel taps [`by_four`] handles (a 3×3 kernel; 8 bytes each
/// on the stack).
const MAX_TAPS: usize = 9;
/// Channels whose bias and requantization are decoded at once (12 bytes
/// each on the stack).
const CH_BLOCK: usize = 32;

/// Multiplier 1, accumulators in range: for each block of channels, the
/// biases and multipliers are decoded once and the taps of an interior
/// pixel listed once (input offsets relative to the pixel); a border
/// pixel lists its in-bounds taps' offsets; then each
/// group of four channels sums over that list in four registers and is
/// requantized ([`Fast`]), the last `C mod 4` channels one at a time.
fn by_four(
    d: &DwDims,
    window: &Window2d,
    x: &[i8],
    w: &[i8],
    bias: Option<&[i32]>,
    q: &RequantS8<'_>,
    out: &mut [i8],
) {
    let c = d.in_c;
    let zp = q.input_zero_point;
    // (input offset, filter offset) of every tap of an interior pixel
    // (input offsets from the pixel's top-left tap), and of the in-bounds
    // taps of a border pixel (input offsets absolute), at channel `c0`.
    let mut interior = TapList::<MAX_TAPS>::new();
    let mut border = TapList::<MAX_TAPS>::new();
    let mut chans = [(0i32, Compact::new(0, 0)); CH_BLOCK];
    let mut c0 = 0;
    while c0 < c {
        let cn = CH_BLOCK.min(c - c0);
        for (k, ch) in chans[..cn].iter_mut().enumerate() {
            *ch = (bias.map_or(0, |b| b[c0 + k]), Compact::of(q, c0 + k));
        }
        let chans = &chans[..cn];
        let c4 = cn & !3;
        interior.clear();
        for ky in 0..d.kh {
            for kx in 0..d.kw {
                let xo = (ky * window.dilation_h * d.in_w + kx * window.dilation_w) * c;
                interior.push(xo, (ky * d.kw + kx) * c + c0);
            }
        }
        let mut p = 0;
        for b in 0..d.n {
            for oy in 0..d.out_h {
                let kys = d.ay.taps(oy, d.kh);
                for ox in 0..d.out_w {
                    let kxs = d.ax.taps(ox, d.kw);
                    let (taps, base) = if kys.len() == d.kh && kxs.len() == d.kw {
                        let iy = oy * d.ay.stride - d.ay.pad;
                        let ix = ox * d.ax.stride - d.ax.pad;
                        (&interior, ((b * d.in_h + iy) * d.in_w + ix) * c + c0)
                    } else {
                        border.clear();
                        for ky in kys.clone() {
                            let iy = oy * d.ay.stride + ky * window.dilation_h - d.ay.pad;
                            for kx in kxs.clone() {
                                let ix = ox * d.ax.stride + kx * window.dilation_w - d.ax.pad;
                                let xo = ((b * d.in_h + iy) * d.in_w + ix) * c + c0;
                                border.push(xo, (ky * d.kw + kx) * c + c0);
                            }
                        }
                        (&border, 0)
                    };
                    let px = &mut out[p * c + c0..][..cn];
                    p += 1;
                    for (g, (y, cq)) in px[..c4]
                        .chunks_exact_mut(4)
                        .zip(chans.chunks_exact(4))
                        .enumerate()
                    {
                        let acc = sum4(x, w, taps, base + 4 * g, 4 * g, zp);
                        for k in 0..4 {
                            y[k] = cq[k].1.fast().out(acc[k].wrapping_add(cq[k].0), q);
                        }
                    }
                    for ch in c4..cn {
                        let mut a = chans[ch].0;
                        for &(xo, wo) in taps.taps() {
                            let xv = x[base + xo as usize + ch] as i32 - zp;
                            a = a.wrapping_add(xv * w[wo as usize + ch] as i32);
                        }
                        px[ch] = chans[ch].1.fast().out(a, q);
                    }
                }
            }
        }
        c0 += cn;
    }
}

/// `Σ_taps (x[xc + xo + k] − zp)·w[wc + wo + k]` for the four channels
/// `k < 4` (on the DSP path, the `asm!` loop [`dw_mac4`]).
#[inline(always)]
fn sum4(x: &[i8], w: &[i8], taps: &TapList<MAX_TAPS>, xc: usize, wc: usize, zp: i32) -> [i32; 4] {
    #[cfg(edgegrad_dsp)]
    if let Some(a) = dw_mac4(x, w, taps, xc, wc, offset_pair(zp)) {
        return a;
    }
    let (x, w) = (&x[xc..], &w[wc..]);
    let mut a = [0i32; 4];
    for &(xo, wo) in taps.taps() {
        let (xs, ws) = (&x[xo as usize..][..4], &w[wo as usize..][..4]);
        for k in 0..4 {
            a[k] = a[k].wrapping_add((xs[k] as i32 - zp) * ws[k] as i32);
        }
    }
    a
}

/// `acc[i] += (x[i] − zp) · w[i]`: one tap over a block of channels.
#[inline(always)]
fn tap(x: &[i8], w: &[i8], zp: i32, acc: &mut [i32]) {
    let n = acc.len();
    let (x, w) = (&x[..n], &w[..n]);
    #[cfg(edgegrad_dsp)]
    let n = {
        let off = offset_pair(zp);
        let n4 = n & !3;
        for ((xc, wc), a) in x[..n4]
            .chunks_exact(4)
            .zip(w[..n4].chunks_exact(4))
            .zip(acc[..n4].chunks_exact_mut(4))
        {
            let (xw, ww) = (word(xc), word(wc));
            let (xe, xo) = (sxtab16(off, xw), sxtab16_ror8(off, xw));
            let (we, wo) = (sxtb16(ww), sxtb16_ror8(ww));
            a[0] = smlabb(xe, we, a[0]);
            a[1] = smlabb(xo, wo, a[1]);
            a[2] = smlatt(xe, we, a[2]);
            a[3] = smlatt(xo, wo, a[3]);
        }
        n4
    };
    #[cfg(not(edgegrad_dsp))]
    let n = 0;
    for ((&xv, &wv), a) in x[n..].iter().zip(&w[n..]).zip(&mut acc[n..]) {
        *a = a.wrapping_add((xv as i32 - zp) * wv as i32);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::kernels::reference;

    #[test]
    fn matches_reference_bit_for_bit() {
        let mut rng = Rng::new(0xD0);
        for iter in 0..3000 {
            let c = conv_case(&mut rng, true);
            let oc = c.output[3];
            let q = RandomQuant::new(&mut rng, oc, c.filter[1] * c.filter[2]);
            let x = rng.vec_i8(c.input.iter().product());
            let w = rng.vec_weights(c.filter.iter().product());
            let bias: Vec<i32> = (0..oc).map(|_| rng.range(-30000, 30000) as i32).collect();
            let bias = rng.bool().then_some(&bias[..]);
            let n: usize = c.output.iter().product();
            let (mut want, mut got) = (vec![0i8; n], vec![1i8; n]);
            reference::depthwise_conv2d_s8(
                view(&c.input, &x),
                view(&c.filter, &w),
                bias,
                &mut view_mut(&c.output, &mut want),
                &c.window,
                c.mult,
                &q.requant(),
            )
            .unwrap();
            super::depthwise_conv2d_s8(
                view(&c.input, &x),
                view(&c.filter, &w),
                bias,
                &mut view_mut(&c.output, &mut got),
                &c.window,
                c.mult,
                &q.requant(),
            )
            .unwrap();
            assert_eq!(got, want, "case {iter}: {c:?}");
        }
    }
}
