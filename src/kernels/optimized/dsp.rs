//! The Armv7E-M DSP instructions the Cortex-M4/M7 paths use, one
//! instruction per function, through `core::arch::asm!` (the
//! `core::arch::arm` intrinsics are nightly-only).
//!
//! Compiled only with `cfg(edgegrad_dsp)` (set by `build.rs` for
//! `thumbv7em-*`): these instructions do not exist on Armv7-M/Armv6-M.
//! Every block but the loops [`mac2x2`], [`dw_mac4`], [`mac1x4`] and
//! [`mac4rows`] reads and writes only the registers it is given (no
//! memory, no stack), so the functions are safe to call; the compiler
//! allocates the registers and schedules around them. The loops are whole
//! `asm!` blocks (so that their 13 registers are fixed for the loop, with
//! no spills), each checking first that what it reads is in bounds:
//! `mac2x2` and `mac4rows` assert their slices' lengths, `mac1x4` returns
//! false and `dw_mac4` `None` (reading nothing) otherwise; `dw_mac4` reads
//! through a [`TapList`], whose largest offsets it checks. `mac2x2` and
//! `mac1x4` keep one word on the stack.
//!
//! Arithmetic is modulo 2³² like the reference kernels' `wrapping_add`:
//! SMLAD/SMLAxy wrap on overflow (they only set the sticky Q flag, which
//! nothing reads).
#![allow(unsafe_code)]

use super::taps::TapList;
use core::arch::asm;

/// `SXTB16 d, x`: bytes 0 and 2 of `x` sign-extended into the two
/// halfwords of the result.
#[inline(always)]
pub(crate) fn sxtb16(x: u32) -> u32 {
    let r;
    // SAFETY: register-only instruction, no memory or stack access.
    unsafe {
        asm!("sxtb16 {0}, {1}", lateout(reg) r, in(reg) x,
            options(pure, nomem, nostack, preserves_flags));
    }
    r
}

/// `SXTB16 d, x, ROR #8`: bytes 1 and 3 of `x` sign-extended into two
/// halfwords.
#[inline(always)]
pub(crate) fn sxtb16_ror8(x: u32) -> u32 {
    let r;
    // SAFETY: register-only instruction, no memory or stack access.
    unsafe {
        asm!("sxtb16 {0}, {1}, ror #8", lateout(reg) r, in(reg) x,
            options(pure, nomem, nostack, preserves_flags));
    }
    r
}

/// `SXTAB16 d, a, x`: bytes 0 and 2 of `x` sign-extended and added to the
/// halfwords of `a` (16-bit lanes, wrapping).
#[inline(always)]
pub(crate) fn sxtab16(a: u32, x: u32) -> u32 {
    let r;
    // SAFETY: register-only instruction, no memory or stack access.
    unsafe {
        asm!("sxtab16 {0}, {1}, {2}", lateout(reg) r, in(reg) a, in(reg) x,
            options(pure, nomem, nostack, preserves_flags));
    }
    r
}

/// `SXTAB16 d, a, x, ROR #8`: bytes 1 and 3 of `x` sign-extended and added
/// to the halfwords of `a`.
#[inline(always)]
pub(crate) fn sxtab16_ror8(a: u32, x: u32) -> u32 {
    let r;
    // SAFETY: register-only instruction, no memory or stack access.
    unsafe {
        asm!("sxtab16 {0}, {1}, {2}, ror #8", lateout(reg) r, in(reg) a, in(reg) x,
            options(pure, nomem, nostack, preserves_flags));
    }
    r
}

/// `SMLAD d, a, b, acc`: `acc + a.lo·b.lo + a.hi·b.hi` on signed
/// halfwords, modulo 2³².
#[inline(always)]
pub(crate) fn smlad(a: u32, b: u32, acc: i32) -> i32 {
    let r;
    // SAFETY: register-only instruction, no memory or stack access (it may
    // set the sticky Q flag, which nothing reads).
    unsafe {
        asm!("smlad {0}, {1}, {2}, {3}", lateout(reg) r, in(reg) a, in(reg) b, in(reg) acc,
            options(pure, nomem, nostack));
    }
    r
}

/// `SMLABB d, a, b, acc`: `acc + a.lo·b.lo` on signed halfwords.
#[inline(always)]
pub(crate) fn smlabb(a: u32, b: u32, acc: i32) -> i32 {
    let r;
    // SAFETY: register-only instruction, no memory or stack access.
    unsafe {
        asm!("smlabb {0}, {1}, {2}, {3}", lateout(reg) r, in(reg) a, in(reg) b, in(reg) acc,
            options(pure, nomem, nostack));
    }
    r
}

/// `SMLATT d, a, b, acc`: `acc + a.hi·b.hi` on signed halfwords.
#[inline(always)]
pub(crate) fn smlatt(a: u32, b: u32, acc: i32) -> i32 {
    let r;
    // SAFETY: register-only instruction, no memory or stack access.
    unsafe {
        asm!("smlatt {0}, {1}, {2}, {3}", lateout(reg) r, in(reg) a, in(reg) b, in(reg) acc,
            options(pure, nomem, nostack));
    }
    r
}

/// Four signed byte lanes: `max(a, b)` per lane (`SSUB8` sets the GE
/// flags lane by lane, `SEL` picks by them; both in one block, so nothing
/// can touch the flags in between).
#[inline(always)]
pub(crate) fn max8(a: u32, b: u32) -> u32 {
    let r;
    // SAFETY: register-only instructions, no memory or stack access; the
    // GE flags they set are declared clobbered (no `preserves_flags`).
    unsafe {
        asm!("ssub8 {0}, {1}, {2}", "sel {0}, {1}, {2}", out(reg) r, in(reg) a, in(reg) b,
            options(pure, nomem, nostack));
    }
    r
}

/// Four signed byte lanes: `min(a, b)` per lane.
#[inline(always)]
pub(crate) fn min8(a: u32, b: u32) -> u32 {
    let r;
    // SAFETY: as `max8`.
    unsafe {
        asm!("ssub8 {0}, {1}, {2}", "sel {0}, {2}, {1}", out(reg) r, in(reg) a, in(reg) b,
            options(pure, nomem, nostack));
    }
    r
}

/// `SMMULR d, a, b`: `floor((a·b + 2³¹) / 2³²)`, the rounded high word of
/// the signed 64-bit product.
#[inline(always)]
pub(crate) fn smmulr(a: i32, b: i32) -> i32 {
    let r;
    // SAFETY: register-only instruction, no memory or stack access.
    unsafe {
        asm!("smmulr {0}, {1}, {2}", lateout(reg) r, in(reg) a, in(reg) b,
            options(pure, nomem, nostack, preserves_flags));
    }
    r
}

/// The 2 × 2 micro-kernel of [`super::gemm`]: `acc[2p + c] += Σ_k x_p[k] · w_c[k]`
/// for two pixels `p` (A, B) and two weight rows `c`, over `groups` groups
/// of four `k`. `x` is the interleaved patch buffer (per group: four bytes
/// of A, then four of B; word-aligned), `w0`/`w1` the two rows (any
/// alignment: unaligned `LDR` is allowed on Armv7E-M).
///
/// One loop iteration: one `LDRD` of both pixels' four bytes, two `LDR`
/// of weights, eight `SXTB16` (bytes 0/2 and 1/3 into halfword pairs, the
/// same pairing on both sides) and eight `SMLAD` (16 MACs).
#[inline(always)]
pub(crate) fn mac2x2(x: &[u32], w0: &[i8], w1: &[i8], groups: usize, acc: &mut [i32; 4]) {
    assert!(
        groups > 0 && x.len() >= 2 * groups && w0.len() >= 4 * groups && w1.len() >= 4 * groups
    );
    let [mut a0, mut a1, mut a2, mut a3] = *acc;
    // SAFETY: reads `2·groups` words from `x` (word-aligned: `LDRD`
    // needs it, and `&[u32]` guarantees it) and `4·groups` bytes from each
    // weight row, all in bounds (asserted above); writes only the named
    // registers (13 of them: LLVM also hands out r6 when the function needs
    // no base pointer). The loop end is pushed on the stack and popped
    // before the block ends, so the stack pointer is unchanged. SMLAD
    // wraps modulo 2³² like the reference's `wrapping_add` (it only sets
    // the sticky Q flag).
    unsafe {
        asm!(
            "add {n}, {xp}, {n}, lsl #3",
            "push {{{n}}}",
            "2:",
            "ldrd {xa}, {xb}, [{xp}], #8",
            "ldr {t}, [{w0}], #4",
            "sxtb16 {xah}, {xa}, ror #8",
            "sxtb16 {xa}, {xa}",
            "sxtb16 {n}, {xb}, ror #8",
            "sxtb16 {xb}, {xb}",
            "sxtb16 {th}, {t}, ror #8",
            "sxtb16 {t}, {t}",
            "smlad {a0}, {xa}, {t}, {a0}",
            "smlad {a0}, {xah}, {th}, {a0}",
            "smlad {a2}, {xb}, {t}, {a2}",
            "smlad {a2}, {n}, {th}, {a2}",
            "ldr {t}, [{w1}], #4",
            "sxtb16 {th}, {t}, ror #8",
            "sxtb16 {t}, {t}",
            "smlad {a1}, {xa}, {t}, {a1}",
            "smlad {a1}, {xah}, {th}, {a1}",
            "smlad {a3}, {xb}, {t}, {a3}",
            "smlad {a3}, {n}, {th}, {a3}",
            "ldr {th}, [sp]",
            "cmp {xp}, {th}",
            "bne 2b",
            "add sp, #4",
            a0 = inout(reg) a0,
            a1 = inout(reg) a1,
            a2 = inout(reg) a2,
            a3 = inout(reg) a3,
            xp = inout(reg) x.as_ptr() => _,
            w0 = inout(reg) w0.as_ptr() => _,
            w1 = inout(reg) w1.as_ptr() => _,
            n = inout(reg) groups => _,
            xa = out(reg) _,
            xb = out(reg) _,
            xah = out(reg) _,
            t = out(reg) _,
            th = out(reg) _,
            options(readonly),
        );
    }
    *acc = [a0, a1, a2, a3];
}

/// The depthwise micro-kernel of [`super::depthwise_conv2d`]: for four
/// channels `k < 4`, `Σ_taps (x[xc + xo + k] − zp) · w[wc + wo + k]` over
/// a pixel's [`TapList`], `off` being
/// [`offset_pair`](super::dot::offset_pair)`(zp)`. `None` (nothing read)
/// when some tap's four bytes are not inside `x` and `w`.
///
/// One loop iteration (one tap, 4 MACs): one `LDRD` of the offsets, two
/// `LDR` of four input and four filter bytes, two `SXTAB16` (`x − zp`),
/// two `SXTB16`, two `SMLABB` and two `SMLATT`, compare and branch.
#[inline(always)]
pub(crate) fn dw_mac4<const N: usize>(
    x: &[i8],
    w: &[i8],
    taps: &TapList<N>,
    xc: usize,
    wc: usize,
    off: u32,
) -> Option<[i32; 4]> {
    let (mut a0, mut a1, mut a2, mut a3) = (0i32, 0i32, 0i32, 0i32);
    let list = taps.taps();
    if list.is_empty() {
        return Some([0; 4]);
    }
    if !taps.covers(x, w, xc, wc, 4) {
        return None;
    }
    let range = list.as_ptr_range();
    // SAFETY: reads the tap list (`(u32, u32)` is word-aligned, as `LDRD`
    // needs) and four bytes of `x` at `xc + xo` and of `w` at `wc + wo`
    // per tap, in bounds: `covers` checked it against the list's maxima,
    // which `TapList` keeps exact. Writes only the named registers (13),
    // no stack.
    unsafe {
        asm!(
            "2:",
            "ldrd {xo}, {wo}, [{t}], #8",
            "ldr {xo}, [{xb}, {xo}]",
            "ldr {wo}, [{wb}, {wo}]",
            "sxtab16 {xe}, {off}, {xo}",
            "sxtab16 {xo}, {off}, {xo}, ror #8",
            "sxtb16 {we}, {wo}",
            "sxtb16 {wo}, {wo}, ror #8",
            "smlabb {a0}, {xe}, {we}, {a0}",
            "smlabb {a1}, {xo}, {wo}, {a1}",
            "smlatt {a2}, {xe}, {we}, {a2}",
            "smlatt {a3}, {xo}, {wo}, {a3}",
            "cmp {t}, {end}",
            "bne 2b",
            a0 = inout(reg) a0,
            a1 = inout(reg) a1,
            a2 = inout(reg) a2,
            a3 = inout(reg) a3,
            t = inout(reg) range.start => _,
            end = in(reg) range.end,
            xb = in(reg) x.as_ptr().wrapping_add(xc),
            wb = in(reg) w.as_ptr().wrapping_add(wc),
            off = in(reg) off,
            xo = out(reg) _,
            wo = out(reg) _,
            xe = out(reg) _,
            we = out(reg) _,
            options(readonly, nostack),
        );
    }
    Some([a0, a1, a2, a3])
}

/// The body shared by the four-row loops [`mac1x4`] and [`mac4rows`]:
/// for rows 1, 0, 3, 2 (at `{p0} + {n}`, `{p0}`, `{p2} + {n}`, `{p2}`;
/// `{p0}` and `{p2}` post-incremented by 4), load four weights, split them
/// into halfword pairs (`SXTB16` of the word `ROR #8`, then of the word)
/// and `SMLAD` them with the input pairs `{xe}` and `{xo}` into `{a1}`,
/// `{a0}`, `{a3}`, `{a2}`. 20 instructions, 16 MACs.
macro_rules! four_rows {
    () => {
        concat!(
            "ldr {k}, [{p0}, {n}]\n",
            "sxtb16 {kh}, {k}, ror #8\n",
            "sxtb16 {k}, {k}\n",
            "smlad {a1}, {k}, {xe}, {a1}\n",
            "smlad {a1}, {kh}, {xo}, {a1}\n",
            "ldr {k}, [{p0}], #4\n",
            "sxtb16 {kh}, {k}, ror #8\n",
            "sxtb16 {k}, {k}\n",
            "smlad {a0}, {k}, {xe}, {a0}\n",
            "smlad {a0}, {kh}, {xo}, {a0}\n",
            "ldr {k}, [{p2}, {n}]\n",
            "sxtb16 {kh}, {k}, ror #8\n",
            "sxtb16 {k}, {k}\n",
            "smlad {a3}, {k}, {xe}, {a3}\n",
            "smlad {a3}, {kh}, {xo}, {a3}\n",
            "ldr {k}, [{p2}], #4\n",
            "sxtb16 {kh}, {k}, ror #8\n",
            "sxtb16 {k}, {k}\n",
            "smlad {a2}, {k}, {xe}, {a2}\n",
            "smlad {a2}, {kh}, {xo}, {a2}",
        )
    };
}

/// The fully connected micro-kernel of [`super::dot::dot4_strided`]:
/// `acc[r] += Σ_{i < 4·groups} (x[i] − zp) · w[r·stride + i]` for the four
/// rows `r < 4`, `off` being [`offset_pair`](super::dot::offset_pair)`(zp)`.
///
/// One loop iteration (16 MACs, 26 instructions): one `LDR` of four input
/// bytes and two `SXTAB16` (`x − zp`, even and odd bytes), then per row an
/// `LDR` of four weights, two `SXTB16` and two `SMLAD`; the loop end is
/// kept on the stack (13 registers are all in use). Returns false, having
/// read nothing, when `groups` is 0 or a row is out of bounds.
#[inline(always)]
pub(crate) fn mac1x4(
    x: &[i8],
    w: &[i8],
    stride: usize,
    groups: usize,
    off: u32,
    acc: &mut [i32; 4],
) -> bool {
    let n = groups.saturating_mul(4);
    let last_row = stride.saturating_mul(3).saturating_add(n);
    if groups == 0 || x.len() < n || w.len() < last_row {
        return false;
    }
    let [mut a0, mut a1, mut a2, mut a3] = *acc;
    let x_end = x.as_ptr().wrapping_add(n);
    // SAFETY: reads `n = 4·groups` bytes of `x` and bytes `r·stride ..
    // r·stride + n` of `w` for `r < 4`, all in bounds (checked above;
    // unaligned `LDR` is allowed on Armv7E-M); writes only the named
    // registers (13). The loop end is pushed on the stack and popped
    // before the block ends, so the stack pointer is unchanged. SMLAD
    // wraps modulo 2³² like the reference's `wrapping_add`.
    unsafe {
        asm!(
            "push {{{k}}}",
            "2:",
            "ldr {xe}, [{xp}], #4",
            "sxtab16 {xo}, {off}, {xe}, ror #8",
            "sxtab16 {xe}, {off}, {xe}",
            four_rows!(),
            "ldr {k}, [sp]",
            "cmp {xp}, {k}",
            "bne 2b",
            "add sp, #4",
            a0 = inout(reg) a0,
            a1 = inout(reg) a1,
            a2 = inout(reg) a2,
            a3 = inout(reg) a3,
            xp = inout(reg) x.as_ptr() => _,
            p0 = inout(reg) w.as_ptr() => _,
            p2 = inout(reg) w.as_ptr().wrapping_add(2 * stride) => _,
            n = in(reg) stride,
            off = in(reg) off,
            k = inout(reg) x_end => _,
            kh = out(reg) _,
            xe = out(reg) _,
            xo = out(reg) _,
            options(readonly),
        );
    }
    *acc = [a0, a1, a2, a3];
    true
}

/// The four-row kernel of [`super::lstm`]: `acc[r] += Σ_k x[k] · w_r[k]`
/// for the rows `w_r = w[r·stride..]`, `r` in 0..4 (four consecutive
/// units of one gate matrix), over `groups` groups of four `k`. `x` is the
/// input already offset and split into halfword pairs, two words per group
/// (`SXTAB16` of the word and of the word `ROR #8`: `x₀ − zp, x₂ − zp`
/// then `x₁ − zp, x₃ − zp`); the weights are read in place (any alignment).
///
/// One iteration: one `LDRD` of the group's two input words, four `LDR`
/// of weights (rows 0 and 2 through post-incremented pointers, rows 1 and
/// 3 at `+stride` from them), eight `SXTB16` and eight `SMLAD` (16 MACs).
#[inline(always)]
pub(crate) fn mac4rows(x: &[u32], w: &[i8], stride: usize, groups: usize, acc: &mut [i32; 4]) {
    // `stride ≤ len/4` first, so that `3·stride + 4·groups` cannot
    // overflow (`4·groups ≤ 2·x.len()`).
    assert!(
        groups > 0
            && groups <= x.len() / 2
            && stride <= w.len() / 4
            && 3 * stride + 4 * groups <= w.len()
    );
    let [mut a0, mut a1, mut a2, mut a3] = *acc;
    // SAFETY: reads `2·groups` words from `x` (word-aligned: `LDRD` needs
    // it, and `&[u32]` guarantees it) and `4·groups` bytes of each row
    // `w[r·stride..]`, `r < 4`, all within `w` (asserted above: the last
    // row ends at `3·stride + 4·groups`); unaligned `LDR` is allowed on
    // Armv7E-M. Writes only the named registers (13, as `mac2x2`), no
    // stack. SMLAD wraps modulo 2³² like the reference's `wrapping_add`
    // (it only sets the sticky Q flag).
    unsafe {
        asm!(
            "add {end}, {xp}, {end}, lsl #3",
            "add {p2}, {p0}, {n}, lsl #1",
            "2:",
            "ldrd {xe}, {xo}, [{xp}], #8",
            four_rows!(),
            "cmp {xp}, {end}",
            "bne 2b",
            a0 = inout(reg) a0,
            a1 = inout(reg) a1,
            a2 = inout(reg) a2,
            a3 = inout(reg) a3,
            xp = inout(reg) x.as_ptr() => _,
            p0 = inout(reg) w.as_ptr() => _,
            n = in(reg) stride,
            end = inout(reg) groups => _,
            p2 = out(reg) _,
            xe = out(reg) _,
            xo = out(reg) _,
            k = out(reg) _,
            kh = out(reg) _,
            options(readonly, nostack),
        );
    }
    *acc = [a0, a1, a2, a3];
}
