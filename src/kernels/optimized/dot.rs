//! Dot products of int8 rows with the input offset folded in:
//! `Σ (x − zp) · w`, the inner loop of convolution and fully connected.
//!
//! Sums are modulo 2³² (the reference kernels' `wrapping_add`), so the
//! order of the terms does not change the result: the DSP path pairs
//! bytes 0/2 and 1/3 of each word (what `SXTB16` extracts) for `SMLAD`,
//! the portable path goes element by element.
//!
//! On the DSP path `x − zp` costs nothing: `SXTAB16` sign-extends two
//! bytes and adds the offset to both halfwords in one instruction
//! (`x − zp` is in `[−255, 255]`, so 16 bits hold it).

#[cfg(edgegrad_dsp)]
use super::dsp::{smlad, sxtab16, sxtab16_ror8, sxtb16, sxtb16_ror8};

#[cfg(edgegrad_dsp)]
/// Four consecutive int8 values as a little-endian word (one unaligned
/// `LDR` on Armv7-M).
#[inline(always)]
pub(crate) fn word(c: &[i8]) -> u32 {
    let c: &[i8; 4] = c[..4].try_into().expect("four bytes");
    u32::from_le_bytes(c.map(|v| v as u8))
}

/// `−zp` in both halfwords of a word: the `SXTAB16` addend.
#[cfg(edgegrad_dsp)]
#[inline(always)]
pub(crate) fn offset_pair(zp: i32) -> u32 {
    ((zp.wrapping_neg() as u32) & 0xFFFF) * 0x0001_0001
}

/// `acc[k] += Σ_i (x[i] − zp) · w[k][i]` for four weight rows of
/// `x.len()` elements each (longer rows are cut to `x.len()`).
#[inline(always)]
pub(crate) fn dot4(x: &[i8], w: [&[i8]; 4], zp: i32, acc: &mut [i32; 4]) {
    let n = x.len();
    let [w0, w1, w2, w3] = w;
    let (w0, w1, w2, w3) = (&w0[..n], &w1[..n], &w2[..n], &w3[..n]);
    let [mut a0, mut a1, mut a2, mut a3] = *acc;
    #[cfg(edgegrad_dsp)]
    let n = {
        let off = offset_pair(zp);
        let n4 = n & !3;
        for ((((xc, c0), c1), c2), c3) in x[..n4]
            .chunks_exact(4)
            .zip(w0[..n4].chunks_exact(4))
            .zip(w1[..n4].chunks_exact(4))
            .zip(w2[..n4].chunks_exact(4))
            .zip(w3[..n4].chunks_exact(4))
        {
            let xw = word(xc);
            let (xe, xo) = (sxtab16(off, xw), sxtab16_ror8(off, xw));
            let k = word(c0);
            a0 = smlad(sxtb16(k), xe, a0);
            a0 = smlad(sxtb16_ror8(k), xo, a0);
            let k = word(c1);
            a1 = smlad(sxtb16(k), xe, a1);
            a1 = smlad(sxtb16_ror8(k), xo, a1);
            let k = word(c2);
            a2 = smlad(sxtb16(k), xe, a2);
            a2 = smlad(sxtb16_ror8(k), xo, a2);
            let k = word(c3);
            a3 = smlad(sxtb16(k), xe, a3);
            a3 = smlad(sxtb16_ror8(k), xo, a3);
        }
        n4
    };
    #[cfg(not(edgegrad_dsp))]
    let n = 0;
    for ((((&xv, &v0), &v1), &v2), &v3) in x[n..]
        .iter()
        .zip(&w0[n..])
        .zip(&w1[n..])
        .zip(&w2[n..])
        .zip(&w3[n..])
    {
        let xv = xv as i32 - zp;
        a0 = a0.wrapping_add(xv * v0 as i32);
        a1 = a1.wrapping_add(xv * v1 as i32);
        a2 = a2.wrapping_add(xv * v2 as i32);
        a3 = a3.wrapping_add(xv * v3 as i32);
    }
    *acc = [a0, a1, a2, a3];
}

/// `acc[r] += Σ_i (x[i] − zp) · w[r·stride + i]` for the four rows
/// `r < 4` of `x.len()` elements each, `stride` apart in `w` (on the DSP
/// path one `asm!` loop, [`mac1x4`](super::dsp::mac1x4), over the
/// multiples of four; the rest as [`dot4`]).
#[inline(always)]
pub(crate) fn dot4_strided(x: &[i8], w: &[i8], stride: usize, zp: i32, acc: &mut [i32; 4]) {
    #[cfg(edgegrad_dsp)]
    let done = {
        let groups = x.len() / 4;
        if super::dsp::mac1x4(x, w, stride, groups, offset_pair(zp), acc) {
            4 * groups
        } else {
            0
        }
    };
    #[cfg(not(edgegrad_dsp))]
    let done = 0;
    let row = |r: usize| w.get(r * stride + done..).unwrap_or(&[]);
    dot4(&x[done..], [row(0), row(1), row(2), row(3)], zp, acc);
}

/// `acc + Σ_i (x[i] − zp) · w[i]` over `x.len()` elements (`w` is cut to
/// that length).
#[inline(always)]
pub(crate) fn dot1(x: &[i8], w: &[i8], zp: i32, acc: i32) -> i32 {
    let n = x.len();
    let w = &w[..n];
    let mut a = acc;
    #[cfg(edgegrad_dsp)]
    let n = {
        let off = offset_pair(zp);
        let n4 = n & !3;
        for (xc, c) in x[..n4].chunks_exact(4).zip(w[..n4].chunks_exact(4)) {
            let xw = word(xc);
            let k = word(c);
            a = smlad(sxtb16(k), sxtab16(off, xw), a);
            a = smlad(sxtb16_ror8(k), sxtab16_ror8(off, xw), a);
        }
        n4
    };
    #[cfg(not(edgegrad_dsp))]
    let n = 0;
    for (&xv, &wv) in x[n..].iter().zip(&w[n..]) {
        a = a.wrapping_add((xv as i32 - zp) * wv as i32);
    }
    a
}
