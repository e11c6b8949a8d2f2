//! MAX_POOL_2D and AVERAGE_POOL_2D, int8: the reference
//! [`max_pool2d_s8`](crate::kernels::reference::max_pool2d_s8) and
//! [`avg_pool2d_s8`](crate::kernels::reference::avg_pool2d_s8), fast.
//!
//! Each output pixel walks its in-bounds window taps (the tap ranges skip
//! the padding), and for each tap runs over the pixel's channels, which
//! are contiguous in NHWC. Max pooling works in the output row itself
//! (on the DSP path four channels per `SSUB8`/`SEL`); average pooling sums
//! a block of up to 64 channels in stack accumulators, then divides by
//! the tap count with the reference's rounding.

#[cfg(edgegrad_dsp)]
use super::dot::word;
#[cfg(edgegrad_dsp)]
use super::dsp::{max8, min8};
use super::BLOCK;
use crate::kernels::reference::pooling::{check_pool, PoolDims};
use crate::kernels::reference::util::check_act_range_s8;
use crate::kernels::Window2d;
use crate::tensor::{TensorMut, TensorView};
use crate::Error;
use core::ops::Range;

/// Calls `f(pixel_output_offset, kys, kxs, x_at)` for every output pixel,
/// where `x_at(ky, kx)` is the input offset of tap `(ky, kx)` at channel 0.
#[inline(always)]
fn for_each_pixel(
    d: &PoolDims,
    mut f: impl FnMut(usize, Range<usize>, Range<usize>, &dyn Fn(usize, usize) -> usize),
) {
    let mut p = 0;
    for b in 0..d.n {
        for oy in 0..d.out_h {
            let kys = d.ay.taps(oy, d.kh);
            for ox in 0..d.out_w {
                let kxs = d.ax.taps(ox, d.kw);
                let x_at = |ky: usize, kx: usize| {
                    let iy = oy * d.ay.stride + ky - d.ay.pad;
                    let ix = ox * d.ax.stride + kx - d.ax.pad;
                    ((b * d.in_h + iy) * d.in_w + ix) * d.c
                };
                f(p * d.c, kys.clone(), kxs, &x_at);
                p += 1;
            }
        }
    }
}

/// int8 max pooling: same arguments, errors and results as
/// [`reference::max_pool2d_s8`](crate::kernels::reference::max_pool2d_s8).
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
    let c = d.c;
    for_each_pixel(&d, |o, kys, kxs, x_at| {
        let y = &mut out[o..][..c];
        y.fill(i8::MIN);
        for ky in kys {
            for kx in kxs.clone() {
                max_into(y, &x[x_at(ky, kx)..][..c]);
            }
        }
        clamp(y, act_min as i8, act_max as i8);
    });
    Ok(())
}

/// `y[i] = max(y[i], x[i])`.
#[inline(always)]
fn max_into(y: &mut [i8], x: &[i8]) {
    let x = &x[..y.len()];
    #[cfg(edgegrad_dsp)]
    let (y, x) = {
        let n4 = y.len() & !3;
        let (y4, yt) = y.split_at_mut(n4);
        for (yc, xc) in y4.chunks_exact_mut(4).zip(x.chunks_exact(4)) {
            let m = max8(word(yc), word(xc)).to_le_bytes();
            for (v, b) in yc.iter_mut().zip(m) {
                *v = b as i8;
            }
        }
        (yt, &x[n4..])
    };
    for (v, &xv) in y.iter_mut().zip(x) {
        *v = (*v).max(xv);
    }
}

/// Clamps every value to `[lo, hi]`.
#[inline(always)]
fn clamp(y: &mut [i8], lo: i8, hi: i8) {
    if lo == i8::MIN && hi == i8::MAX {
        return;
    }
    #[cfg(edgegrad_dsp)]
    let y = {
        let (lo4, hi4) = (
            u32::from_ne_bytes([lo as u8; 4]),
            u32::from_ne_bytes([hi as u8; 4]),
        );
        let n4 = y.len() & !3;
        let (y4, yt) = y.split_at_mut(n4);
        for yc in y4.chunks_exact_mut(4) {
            let m = min8(max8(word(yc), lo4), hi4).to_le_bytes();
            for (v, b) in yc.iter_mut().zip(m) {
                *v = b as i8;
            }
        }
        yt
    };
    for v in y {
        *v = (*v).clamp(lo, hi);
    }
}

/// int8 average pooling: same arguments, errors and results as
/// [`reference::avg_pool2d_s8`](crate::kernels::reference::avg_pool2d_s8).
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
    let c = d.c;
    let mut acc = [0i32; BLOCK];
    for_each_pixel(&d, |o, kys, kxs, x_at| {
        // ≥ 1: every window holds an input element (validated).
        let count = kys.len() * kxs.len();
        let mut c0 = 0;
        while c0 < c {
            let n = BLOCK.min(c - c0);
            let acc = &mut acc[..n];
            acc.fill(0);
            for ky in kys.clone() {
                for kx in kxs.clone() {
                    for (a, &v) in acc.iter_mut().zip(&x[x_at(ky, kx) + c0..][..n]) {
                        *a += v as i32;
                    }
                }
            }
            let y = &mut out[o + c0..][..n];
            if count < 1 << 23 {
                // |sum| ≤ 128 · count < 2³⁰: exact in i32.
                let (n, half) = (count as i32, (count / 2) as i32);
                for (v, &a) in y.iter_mut().zip(acc.iter()) {
                    let avg = if a > 0 {
                        (a + half) / n
                    } else {
                        (a - half) / n
                    };
                    *v = avg.clamp(act_min, act_max) as i8;
                }
            } else {
                // Windows of 2²³ elements or more: i64, as the reference.
                let (n, half) = (count as i64, (count / 2) as i64);
                for (v, &a) in y.iter_mut().zip(acc.iter()) {
                    let a = a as i64;
                    let avg = if a > 0 {
                        (a + half) / n
                    } else {
                        (a - half) / n
                    };
                    *v = avg.clamp(act_min as i64, act_max as i64) as i8;
                }
            }
            c0 += n;
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::kernels::reference;

    type Pool = fn(
        crate::tensor::TensorView<i8>,
        &mut crate::tensor::TensorMut<i8>,
        &crate::kernels::Window2d,
        i32,
        i32,
    ) -> Result<(), crate::Error>;

    #[test]
    fn matches_reference_bit_for_bit() {
        let mut rng = Rng::new(0x90);
        for iter in 0..3000 {
            let mut c = conv_case(&mut rng, true);
            c.window.dilation_h = 1;
            c.window.dilation_w = 1;
            let (window, [ih, iw], [oh, ow]) = random_window(&mut rng, false);
            c.window = window;
            let ch = c.input[3];
            c.input = [c.input[0], ih, iw, ch];
            c.output = [c.input[0], oh, ow, ch];
            let (lo, hi) = match rng.usize(0, 2) {
                0 => (-128, 127),
                1 => (rng.range(-128, 0) as i32, 127),
                _ => {
                    let a = rng.range(-128, 127) as i32;
                    let b = rng.range(-128, 127) as i32;
                    (a.min(b), a.max(b))
                }
            };
            let x = rng.vec_i8(c.input.iter().product());
            let n: usize = c.output.iter().product();
            for (r, o) in [
                (
                    reference::max_pool2d_s8 as Pool,
                    super::max_pool2d_s8 as Pool,
                ),
                (reference::avg_pool2d_s8, super::avg_pool2d_s8),
            ] {
                let (mut want, mut got) = (vec![0i8; n], vec![1i8; n]);
                r(
                    view(&c.input, &x),
                    &mut view_mut(&c.output, &mut want),
                    &c.window,
                    lo,
                    hi,
                )
                .unwrap();
                o(
                    view(&c.input, &x),
                    &mut view_mut(&c.output, &mut got),
                    &c.window,
                    lo,
                    hi,
                )
                .unwrap();
                assert_eq!(got, want, "case {iter}: {c:?} clamp {lo}..={hi}");
            }
        }
    }
}
