//! MAX_POOL_2D and AVERAGE_POOL_2D, int8: the reference
//! [`max_pool2d_s8`](crate::kernels::reference::max_pool2d_s8) and
//! [`avg_pool2d_s8`](crate::kernels::reference::avg_pool2d_s8), fast.
//!
//! Each output pixel walks its in-bounds window taps (the tap ranges skip
//! the padding), and for each tap runs over the pixel's channels, which
//! are contiguous in NHWC. Max pooling works in the output row itself
//! (on the DSP path four channels per `SSUB8`/`SEL`); average pooling sums
//! a block of up to 64 channels in stack accumulators (on the DSP path,
//! four channels per word in two `SXTAB16` halfword pairs), then divides by
//! the tap count with the reference's rounding (for windows of up to 256
//! elements, as a multiply by the reciprocal: `RoundDiv`).

#[cfg(edgegrad_dsp)]
use super::dot::word;
#[cfg(edgegrad_dsp)]
use super::dsp::{max8, min8, sxtab16, sxtab16_ror8};
use super::BLOCK;
use crate::kernels::reference::pooling::{check_pool, PoolDims};
use crate::kernels::reference::util::check_act_range_s8;
use crate::kernels::Window2d;
use crate::tensor::{TensorMut, TensorView};
use crate::Error;
use core::ops::Range;

/// Where the window taps of one output pixel read: [`at`](Self::at).
#[derive(Clone, Copy)]
struct PixelTaps {
    /// Input row of tap row 0 plus the padding (`oy·stride`), likewise
    /// the column, and the batch row.
    y0: usize,
    x0: usize,
    b: usize,
}

impl PixelTaps {
    /// The input offset of tap `(ky, kx)` at channel 0 (an in-bounds tap:
    /// `ky`, `kx` from the pixel's tap ranges).
    #[inline(always)]
    fn at(&self, d: &PoolDims, ky: usize, kx: usize) -> usize {
        let iy = self.y0 + ky - d.ay.pad;
        let ix = self.x0 + kx - d.ax.pad;
        ((self.b * d.in_h + iy) * d.in_w + ix) * d.c
    }
}

/// Calls `f(pixel_output_offset, kys, kxs, taps)` for every output pixel,
/// where `taps.at(d, ky, kx)` is the input offset of tap `(ky, kx)` at
/// channel 0.
#[inline(always)]
fn for_each_pixel(d: &PoolDims, mut f: impl FnMut(usize, Range<usize>, Range<usize>, PixelTaps)) {
    let mut p = 0;
    for b in 0..d.n {
        for oy in 0..d.out_h {
            let kys = d.ay.taps(oy, d.kh);
            for ox in 0..d.out_w {
                let kxs = d.ax.taps(ox, d.kw);
                let taps = PixelTaps {
                    y0: oy * d.ay.stride,
                    x0: ox * d.ax.stride,
                    b,
                };
                f(p * d.c, kys.clone(), kxs, taps);
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
    for_each_pixel(&d, |o, kys, kxs, taps| {
        let y = &mut out[o..][..c];
        y.fill(i8::MIN);
        for ky in kys {
            for kx in kxs.clone() {
                max_into(y, &x[taps.at(&d, ky, kx)..][..c]);
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
    // Windows of at most 256 elements: halfword sums and the reciprocal
    // division are exact (see `RoundDiv`).
    let small = d.kh * d.kw <= 256;
    for_each_pixel(&d, |o, kys, kxs, taps| {
        // ≥ 1: every window holds an input element (validated).
        let count = kys.len() * kxs.len();
        let y = &mut out[o..][..c];
        let div = RoundDiv::new(count);
        // The reference's rounded average: a multiply for windows of at
        // most 256 elements, else its own i64 division.
        let average = |a: i32| -> i32 {
            if small {
                return div.apply(a);
            }
            let (a, n, half) = (a as i64, count as i64, (count / 2) as i64);
            (if a > 0 {
                (a + half) / n
            } else {
                (a - half) / n
            }) as i32
        };
        #[cfg(edgegrad_dsp)]
        let done = if small {
            // Four channels per word: even and odd bytes summed in two
            // halfword pairs (`SXTAB16`, |sum| ≤ 128·256), for blocks of up
            // to 64 channels, tap by tap.
            let c4 = c & !3;
            let mut pairs = [(0u32, 0u32); BLOCK / 4];
            let mut c0 = 0;
            while c0 < c4 {
                let n = BLOCK.min(c4 - c0);
                let pairs = &mut pairs[..n / 4];
                pairs.fill((0, 0));
                for ky in kys.clone() {
                    for kx in kxs.clone() {
                        let xs = &x[taps.at(&d, ky, kx) + c0..][..n];
                        for ((e, od), xc) in pairs.iter_mut().zip(xs.chunks_exact(4)) {
                            let w = word(xc);
                            (*e, *od) = (sxtab16(*e, w), sxtab16_ror8(*od, w));
                        }
                    }
                }
                for (yc, &(e, od)) in y[c0..c0 + n].chunks_exact_mut(4).zip(pairs.iter()) {
                    let sums = [e as i16, od as i16, (e >> 16) as i16, (od >> 16) as i16];
                    for (v, s) in yc.iter_mut().zip(sums) {
                        *v = average(s as i32).clamp(act_min, act_max) as i8;
                    }
                }
                c0 += n;
            }
            c4
        } else {
            0
        };
        #[cfg(not(edgegrad_dsp))]
        let done = 0;
        let mut c0 = done;
        while c0 < c {
            let n = BLOCK.min(c - c0);
            let acc = &mut acc[..n];
            acc.fill(0);
            for ky in kys.clone() {
                for kx in kxs.clone() {
                    for (a, &v) in acc.iter_mut().zip(&x[taps.at(&d, ky, kx) + c0..][..n]) {
                        *a += v as i32;
                    }
                }
            }
            for (v, &a) in y[c0..c0 + n].iter_mut().zip(acc.iter()) {
                *v = average(a).clamp(act_min, act_max) as i8;
            }
            c0 += n;
        }
    });
    Ok(())
}

/// The reference's rounded average `(sum ± ⌊n/2⌋) / n` (C division,
/// toward zero) for window sizes `n ≤ 256`, as a multiply: with
/// `x = |sum| + ⌊n/2⌋` it is `sign(sum)·⌊x/n⌋`, and
/// `⌊x/n⌋ = ⌊x·M / 2³²⌋` for `M = ⌈2³²/n⌉` whenever `x < 2¹⁷`: writing
/// `M·n = 2³² + e` (`0 ≤ e < n`) and `x = qn + r`,
/// `x·M / 2³² = q + (r + x·e/2³²)/n` and `x·e/2³² < 2¹⁷·2⁸/2³² < 1`, so the
/// fraction stays below 1. Sums of int8 values over at most 256 elements
/// give `x ≤ 128·256 + 128`.
#[derive(Clone, Copy)]
struct RoundDiv {
    /// `⌈2³²/n⌉` (0 for `n = 1`).
    m: u32,
    half: u32,
}

impl RoundDiv {
    #[inline(always)]
    fn new(n: usize) -> Self {
        let n = n.clamp(1, 256) as u32;
        RoundDiv {
            // u32::MAX / n + 1 = ⌈2³²/n⌉ for 2 ≤ n (n a power of two: exact).
            m: if n > 1 { u32::MAX / n + 1 } else { 0 },
            half: n / 2,
        }
    }

    #[inline(always)]
    fn apply(&self, sum: i32) -> i32 {
        let x = sum.unsigned_abs() + self.half;
        let q = if self.m == 0 {
            x
        } else {
            ((x as u64 * self.m as u64) >> 32) as u32
        };
        if sum < 0 {
            -(q as i32)
        } else {
            q as i32
        }
    }
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
    fn reciprocal_division_rounds_as_the_reference_for_every_small_window() {
        for n in 1..=256usize {
            let div = super::RoundDiv::new(n);
            let half = (n / 2) as i32;
            for sum in -128 * n as i32..=127 * n as i32 {
                let want = if sum > 0 {
                    (sum + half) / n as i32
                } else {
                    (sum - half) / n as i32
                };
                assert_eq!(div.apply(sum), want, "sum {sum} / {n}");
            }
        }
    }

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
