//! The Armv7E-M DSP instructions the Cortex-M4/M7 paths use, one
//! instruction per function, through `core::arch::asm!` (the
//! `core::arch::arm` intrinsics are nightly-only).
//!
//! Compiled only with `cfg(edgegrad_dsp)` (set by `build.rs` for
//! `thumbv7em-*`): these instructions do not exist on Armv7-M/Armv6-M.
//! Every block reads and writes only the registers it is given (no
//! memory, no stack), so the functions are safe to call; the compiler
//! allocates the registers and schedules around them.
//!
//! Arithmetic is modulo 2³² like the reference kernels' `wrapping_add`:
//! SMLAD/SMLAxy wrap on overflow (they only set the sticky Q flag, which
//! nothing reads).
#![allow(unsafe_code)]

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
