//! CONV_2D, int8: the reference [`conv2d_s8`](crate::kernels::reference::conv2d_s8), fast.
//!
//! Most layers run as a small matrix product (`gemm.rs`: two output
//! pixels × two output channels per micro-kernel call, over a stack
//! buffer of the two pixels' input patches). Patches longer than 144
//! values, or accumulators outside the exact range of the fast
//! requantization, take the general path:
//! for each output pixel, the in-bounds taps of each kernel row are one
//! contiguous run of input and filter when the horizontal dilation is 1
//! (`(kx1 − kx0) × C` elements), so the pixel is a few long dot products;
//! with dilation each tap is a run of `C`. Four output channels
//! accumulate together (`dot4_strided`), the remaining ones alone.

use super::dot::{dot1, dot4_strided};
use super::{requant, requant4};
use crate::kernels::reference::conv2d::{check, ConvDims};
use crate::kernels::{RequantS8, Window2d};
use crate::tensor::{TensorMut, TensorView};
use crate::Error;
use core::ops::Range;

/// int8 2-D convolution: same arguments, errors and results as
/// [`reference::conv2d_s8`](crate::kernels::reference::conv2d_s8).
/// Needs no scratch memory.
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
    if super::gemm::applies(&d, bias, q) {
        super::gemm::conv(&d, window, x, w, bias, q, out);
        return Ok(());
    }
    let (ic, oc) = (d.in_c, d.out_c);
    let k_len = d.kh * d.kw * ic; // one filter (output channel)
    let zp = q.input_zero_point;
    let mut p = 0; // output pixel index
    for b in 0..d.n {
        for oy in 0..d.out_h {
            let kys = d.ay.taps(oy, d.kh);
            for ox in 0..d.out_w {
                let kxs = d.ax.taps(ox, d.kw);
                let px = &mut out[p * oc..][..oc];
                p += 1;
                let pix = Pixel {
                    b,
                    oy,
                    ox,
                    kys: kys.clone(),
                    kxs,
                };
                let mut o = 0;
                while o + 4 <= oc {
                    let mut acc = [0i32; 4];
                    let f0 = &w[o * k_len..][..4 * k_len];
                    pix.runs(&d, window, x, |xs, wo| {
                        dot4_strided(xs, &f0[wo..], k_len, zp, &mut acc);
                    });
                    requant4(acc, bias, o, q, &mut px[o..]);
                    o += 4;
                }
                while o < oc {
                    let mut acc = 0;
                    let f0 = &w[o * k_len..][..k_len];
                    pix.runs(&d, window, x, |xs, wo| acc = dot1(xs, &f0[wo..], zp, acc));
                    px[o] = requant(acc, bias, o, q);
                    o += 1;
                }
            }
        }
    }
    Ok(())
}

/// One output pixel: where it is and its in-bounds kernel taps.
struct Pixel {
    b: usize,
    oy: usize,
    ox: usize,
    kys: Range<usize>,
    kxs: Range<usize>,
}

impl Pixel {
    /// Calls `f(x_run, w_offset)` for each contiguous run of the pixel's
    /// in-bounds taps: one per kernel row with dilation 1 (all its
    /// in-bounds taps), else one per tap; `w_offset` is the run's start
    /// within one filter.
    #[inline(always)]
    fn runs(&self, d: &ConvDims, window: &Window2d, x: &[i8], mut f: impl FnMut(&[i8], usize)) {
        let ic = d.in_c;
        for ky in self.kys.clone() {
            let iy = self.oy * d.ay.stride + ky * window.dilation_h - d.ay.pad;
            let row = (self.b * d.in_h + iy) * d.in_w;
            if window.dilation_w == 1 {
                let ix = self.ox * d.ax.stride + self.kxs.start - d.ax.pad;
                let len = self.kxs.len() * ic;
                f(
                    &x[(row + ix) * ic..][..len],
                    (ky * d.kw + self.kxs.start) * ic,
                );
            } else {
                for kx in self.kxs.clone() {
                    let ix = self.ox * d.ax.stride + kx * window.dilation_w - d.ax.pad;
                    f(&x[(row + ix) * ic..][..ic], (ky * d.kw + kx) * ic);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::kernels::{reference, Window2d};

    #[test]
    fn matches_reference_bit_for_bit() {
        check_cases(0xC0, 3000, |rng| conv_case(rng, false));
    }

    /// Patches at the two-pixel buffer's limit and just past it (3×3 over
    /// 15–17 channels, 1×1 over 140–150), and wide pointwise layers.
    #[test]
    fn matches_reference_at_patch_limits() {
        check_cases(0xC1, 300, |rng| {
            let (n, h, w) = (rng.usize(1, 2), rng.usize(1, 6), rng.usize(1, 6));
            let oc = rng.usize(1, 40);
            let (k, ic, pad) = if rng.bool() {
                (3, rng.usize(15, 17), 1)
            } else {
                (1, rng.usize(140, 150), 0)
            };
            let mut window = Window2d::new(k, k, 1, 1);
            window.pad_top = pad;
            window.pad_left = pad;
            Case {
                window,
                input: [n, h, w, ic],
                filter: [oc, k, k, ic],
                output: [n, h, w, oc],
                mult: 1,
            }
        });
    }

    fn check_cases(seed: u64, n: usize, mut gen: impl FnMut(&mut Rng) -> Case) {
        let mut rng = Rng::new(seed);
        for iter in 0..n {
            let c = gen(&mut rng);
            let [oc, kh, kw, ic] = c.filter;
            let q = RandomQuant::new(&mut rng, oc, kh * kw * ic);
            let x = rng.vec_i8(c.input.iter().product());
            let w = rng.vec_weights(c.filter.iter().product());
            let bias: Vec<i32> = (0..oc).map(|_| rng.range(-30000, 30000) as i32).collect();
            let bias = rng.bool().then_some(&bias[..]);
            let n: usize = c.output.iter().product();
            let (mut want, mut got) = (vec![0i8; n], vec![1i8; n]);
            reference::conv2d_s8(
                view(&c.input, &x),
                view(&c.filter, &w),
                bias,
                &mut view_mut(&c.output, &mut want),
                &c.window,
                &q.requant(),
            )
            .unwrap();
            super::conv2d_s8(
                view(&c.input, &x),
                view(&c.filter, &w),
                bias,
                &mut view_mut(&c.output, &mut got),
                &c.window,
                &q.requant(),
            )
            .unwrap();
            assert_eq!(got, want, "case {iter}: {c:?}");
        }
    }
}
