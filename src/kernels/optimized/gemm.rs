//! Convolution as a small matrix product: two output pixels × two output
//! channels at a time.
//!
//! For each pair of output pixels (A, B: consecutive in NHWC order, any
//! row or batch), the patch of input each one reads (`KH·KW·C` values,
//! filter order) is copied once into a stack buffer, interleaved by
//! groups of four (four bytes of A, four of B), with the input zero point
//! in place of padded taps. Then every pair of output channels runs the
//! 2 × 2 micro-kernel over it ([`mac2x2`]: each loaded input word serves
//! two channels, each weight word two pixels), and the four sums are
//! requantized.
//!
//! The input offset is folded per channel: `Σ (x − zp)·w = Σ x·w − zp·Σ w`
//! (modulo 2³², like the reference), and `bias − zp·Σ w` is computed once
//! per call for a block of channels. Padded taps hold `zp`, so they add
//! `zp·w − zp·w = 0`, as the reference's skipped taps do.
//!
//! Limits (else the caller takes its general path): the patch must fit
//! the buffer (`KH·KW·C ≤ 144`) and the accumulators the range where
//! [`Fast`] requantization is exact.

use super::requant::{fits, max_sum, Compact};
use crate::kernels::reference::conv2d::ConvDims;
use crate::kernels::{RequantS8, Window2d};

/// Bytes of the interleaved two-pixel patch buffer (two × 144 values:
/// a 3×3 kernel over 16 channels).
const PATCH_BYTES: usize = 288;
/// The longest patch (`KH·KW·C`) the buffer holds.
pub(crate) const MAX_PATCH: usize = PATCH_BYTES / 2;
/// Output channels decoded at once ([`Chan`]: 16 × 12 bytes;
/// with the patch buffer, under 512 bytes of stack).
const CH_BLOCK: usize = 16;

/// Whether [`conv`] handles this problem.
pub(crate) fn applies(d: &ConvDims, bias: Option<&[i32]>, q: &RequantS8<'_>) -> bool {
    let k_len = d.kh * d.kw * d.in_c;
    k_len <= MAX_PATCH && fits(q, bias, d.out_c, max_sum(k_len))
}

/// One output channel's requantization, decoded once per block.
#[derive(Clone, Copy)]
struct Chan {
    /// `bias − zp·Σ w`: the accumulators' start value.
    folded: i32,
    q: Compact,
}

/// The convolution; the caller has checked the arguments and [`applies`].
pub(crate) fn conv(
    d: &ConvDims,
    window: &Window2d,
    x: &[i8],
    w: &[i8],
    bias: Option<&[i32]>,
    q: &RequantS8<'_>,
    out: &mut [i8],
) {
    let k_len = d.kh * d.kw * d.in_c;
    let oc = d.out_c;
    let zp = q.input_zero_point;
    let groups = k_len / 4;
    let npix = d.n * d.out_h * d.out_w;
    // 1×1, stride 1, no padding: the patch is one input pixel.
    let pointwise = d.kh == 1
        && d.kw == 1
        && d.ay.stride == 1
        && d.ax.stride == 1
        && d.ay.pad == 0
        && d.ax.pad == 0
        && d.in_h == d.out_h
        && d.in_w == d.out_w;
    let mut patch = [0u32; PATCH_BYTES / 4];
    let mut chans = [Chan {
        folded: 0,
        q: Compact::new(0, 0),
    }; CH_BLOCK];
    // Where a lone last pixel's "B" outputs go.
    let mut spare = [0i8; CH_BLOCK];
    let mut c0 = 0;
    while c0 < oc {
        let cn = CH_BLOCK.min(oc - c0);
        let wb = &w[c0 * k_len..][..cn * k_len];
        for (k, (ch, wc)) in chans[..cn]
            .iter_mut()
            .zip(wb.chunks_exact(k_len))
            .enumerate()
        {
            let sw = wc.iter().fold(0i32, |s, &v| s.wrapping_add(v as i32));
            let b = bias.map_or(0, |b| b[c0 + k]);
            *ch = Chan {
                folded: b.wrapping_sub(zp.wrapping_mul(sw)),
                q: Compact::of(q, c0 + k),
            };
        }
        let chans = &chans[..cn];
        let mut p = 0;
        while p < npix {
            if pointwise {
                // Output pixel p reads input pixel p: no index arithmetic.
                let ic = d.in_c;
                copy_run(&mut patch, 0, 0, &x[p * ic..][..ic]);
                if p + 1 < npix {
                    copy_run(&mut patch, 1, 0, &x[(p + 1) * ic..][..ic]);
                }
            } else {
                fill_patch(&mut patch, 0, d, window, x, p, zp);
                if p + 1 < npix {
                    fill_patch(&mut patch, 1, d, window, x, p + 1, zp);
                }
            }
            let (ya, yb): (&mut [i8], &mut [i8]) = if p + 1 < npix {
                let (a, b) = out[p * oc..][..2 * oc].split_at_mut(oc);
                (&mut a[c0..][..cn], &mut b[c0..][..cn])
            } else {
                (&mut out[p * oc + c0..][..cn], &mut spare[..cn])
            };
            let pairs = cn / 2;
            for (((cp, wp), ya), yb) in chans
                .chunks_exact(2)
                .zip(wb.chunks_exact(2 * k_len))
                .zip(ya.chunks_exact_mut(2))
                .zip(yb.chunks_exact_mut(2))
            {
                let (w0, w1) = wp.split_at(k_len);
                let acc = pair(&patch, w0, w1, groups, cp[0].folded, cp[1].folded);
                let (q0, q1) = (cp[0].q.fast(), cp[1].q.fast());
                ya[0] = q0.out(acc[0], q);
                ya[1] = q1.out(acc[1], q);
                yb[0] = q0.out(acc[2], q);
                yb[1] = q1.out(acc[3], q);
            }
            if cn % 2 == 1 {
                let c = 2 * pairs;
                let w0 = &wb[c * k_len..][..k_len];
                let cq = &chans[c];
                let acc = pair(&patch, w0, w0, groups, cq.folded, cq.folded);
                let q0 = cq.q.fast();
                ya[c] = q0.out(acc[0], q);
                yb[c] = q0.out(acc[2], q);
            }
            p += 2;
        }
        c0 += cn;
    }
}

/// The four sums `[A·w0, A·w1, B·w0, B·w1]` of the patch against two
/// weight rows of `k_len` (`w0.len()`), started at `f0`/`f1`.
#[inline(always)]
fn pair(patch: &[u32], w0: &[i8], w1: &[i8], groups: usize, f0: i32, f1: i32) -> [i32; 4] {
    let mut acc = [f0, f1, f0, f1];
    if groups > 0 {
        mac2x2(patch, w0, w1, groups, &mut acc);
    }
    for k in groups * 4..w0.len() {
        let (xa, xb) = (byte(patch, 0, k), byte(patch, 1, k));
        let (v0, v1) = (w0[k] as i32, w1[k] as i32);
        acc[0] = acc[0].wrapping_add(xa * v0);
        acc[1] = acc[1].wrapping_add(xa * v1);
        acc[2] = acc[2].wrapping_add(xb * v0);
        acc[3] = acc[3].wrapping_add(xb * v1);
    }
    acc
}

/// The words of groups `g0..g1` of pixel `slot`.
#[inline(always)]
fn lane(patch: &mut [u32], slot: usize, g0: usize, g1: usize) -> impl Iterator<Item = &mut u32> {
    let from = (2 * g0 + slot).min(patch.len());
    patch[from..].iter_mut().step_by(2).take(g1 - g0)
}

/// Byte `k` of pixel `slot`'s patch, sign-extended.
#[inline(always)]
fn byte(patch: &[u32], slot: usize, k: usize) -> i32 {
    (patch[(k / 4) * 2 + slot] >> ((k % 4) * 8)) as u8 as i8 as i32
}

#[inline(always)]
fn set_byte(patch: &mut [u32], slot: usize, k: usize, v: u8) {
    let w = &mut patch[(k / 4) * 2 + slot];
    let sh = (k % 4) * 8;
    *w = (*w & !(0xFF << sh)) | ((v as u32) << sh);
}

/// Writes `src` at patch positions `k0..` of pixel `slot`.
#[inline(always)]
fn copy_run(patch: &mut [u32], slot: usize, k0: usize, src: &[i8]) {
    let mut k = k0;
    let mut s = src;
    while k % 4 != 0 && !s.is_empty() {
        set_byte(patch, slot, k, s[0] as u8);
        k += 1;
        s = &s[1..];
    }
    let words = s.chunks_exact(4);
    let rest = words.remainder();
    for c in words {
        patch[(k / 4) * 2 + slot] =
            u32::from_le_bytes([c[0] as u8, c[1] as u8, c[2] as u8, c[3] as u8]);
        k += 4;
    }
    for &v in rest {
        set_byte(patch, slot, k, v as u8);
        k += 1;
    }
}

/// Writes `len` copies of `v` at patch positions `k0..` of pixel `slot`.
#[inline(always)]
fn fill_run(patch: &mut [u32], slot: usize, k0: usize, len: usize, v: i8) {
    let mut k = k0;
    let end = k0 + len;
    while k % 4 != 0 && k < end {
        set_byte(patch, slot, k, v as u8);
        k += 1;
    }
    let word = (v as u8 as u32) * 0x0101_0101;
    while k + 4 <= end {
        patch[(k / 4) * 2 + slot] = word;
        k += 4;
    }
    while k < end {
        set_byte(patch, slot, k, v as u8);
        k += 1;
    }
}

/// Copies output pixel `p`'s input patch into `slot` (0: A, 1: B), `zp`
/// in padded taps.
fn fill_patch(
    patch: &mut [u32],
    slot: usize,
    d: &ConvDims,
    window: &Window2d,
    x: &[i8],
    p: usize,
    zp: i32,
) {
    let ic = d.in_c;
    let ox = p % d.out_w;
    let oy = (p / d.out_w) % d.out_h;
    let b = p / (d.out_w * d.out_h);
    let kys = d.ay.taps(oy, d.kh);
    let kxs = d.ax.taps(ox, d.kw);
    let zb = zp as i8;
    let row_len = d.kw * ic;
    if ic % 4 == 0 && window.dilation_w == 1 {
        // Every run starts and ends on a group boundary: whole words.
        let zw = (zb as u8 as u32) * 0x0101_0101;
        for ky in 0..d.kh {
            let g = ky * row_len / 4;
            let g2 = g + row_len / 4;
            if !kys.contains(&ky) {
                lane(patch, slot, g, g2).for_each(|v| *v = zw);
                continue;
            }
            let g0 = g + kxs.start * ic / 4;
            let g1 = g + kxs.end.max(kxs.start) * ic / 4;
            lane(patch, slot, g, g0).for_each(|v| *v = zw);
            if g1 > g0 {
                let iy = oy * d.ay.stride + ky * window.dilation_h - d.ay.pad;
                let ix = ox * d.ax.stride + kxs.start - d.ax.pad;
                let src = &x[((b * d.in_h + iy) * d.in_w + ix) * ic..][..(g1 - g0) * 4];
                for (v, c) in lane(patch, slot, g0, g1).zip(src.chunks_exact(4)) {
                    *v = u32::from_le_bytes([c[0] as u8, c[1] as u8, c[2] as u8, c[3] as u8]);
                }
            }
            lane(patch, slot, g1, g2).for_each(|v| *v = zw);
        }
        return;
    }
    for ky in 0..d.kh {
        let k_row = ky * row_len;
        if !kys.contains(&ky) {
            fill_run(patch, slot, k_row, row_len, zb);
            continue;
        }
        let iy = oy * d.ay.stride + ky * window.dilation_h - d.ay.pad;
        let row = (b * d.in_h + iy) * d.in_w;
        if window.dilation_w == 1 {
            fill_run(patch, slot, k_row, kxs.start * ic, zb);
            if !kxs.is_empty() {
                let ix = ox * d.ax.stride + kxs.start - d.ax.pad;
                let src = &x[(row + ix) * ic..][..kxs.len() * ic];
                copy_run(patch, slot, k_row + kxs.start * ic, src);
            }
            let end = kxs.end.max(kxs.start);
            fill_run(patch, slot, k_row + end * ic, (d.kw - end) * ic, zb);
        } else {
            for kx in 0..d.kw {
                let k = k_row + kx * ic;
                if kxs.contains(&kx) {
                    let ix = ox * d.ax.stride + kx * window.dilation_w - d.ax.pad;
                    copy_run(patch, slot, k, &x[(row + ix) * ic..][..ic]);
                } else {
                    fill_run(patch, slot, k, ic, zb);
                }
            }
        }
    }
}

/// `acc[2p + c] += Σ_k x_p[k] · w_c[k]` over `groups` groups of four.
#[cfg(edgegrad_dsp)]
use super::dsp::mac2x2;

/// The portable micro-kernel: as the DSP one, element by element.
#[cfg(not(edgegrad_dsp))]
#[inline(always)]
fn mac2x2(x: &[u32], w0: &[i8], w1: &[i8], groups: usize, acc: &mut [i32; 4]) {
    let [mut a0, mut a1, mut a2, mut a3] = *acc;
    for ((xs, c0), c1) in x[..2 * groups]
        .chunks_exact(2)
        .zip(w0[..4 * groups].chunks_exact(4))
        .zip(w1[..4 * groups].chunks_exact(4))
    {
        let (xa, xb) = (xs[0].to_le_bytes(), xs[1].to_le_bytes());
        for i in 0..4 {
            let (va, vb) = (xa[i] as i8 as i32, xb[i] as i8 as i32);
            let (v0, v1) = (c0[i] as i32, c1[i] as i32);
            a0 = a0.wrapping_add(va * v0);
            a1 = a1.wrapping_add(va * v1);
            a2 = a2.wrapping_add(vb * v0);
            a3 = a3.wrapping_add(vb * v1);
        }
    }
    *acc = [a0, a1, a2, a3];
}
