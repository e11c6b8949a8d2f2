//! A cheaper requantization, bit-identical to [`crate::quant::requantize`]
//! whenever the accumulator is small enough, which a kernel checks once
//! per call ([`fits`]).
//!
//! The reference computes `h = floor((x·m + 2³⁰) / 2³¹)` on a 64-bit
//! product (`x = acc << left`), then divides by `2^e` rounding half away
//! from zero. When `|x| < 2²⁹`:
//! - `2x` fits in 32 bits and `h = floor((2x·m + 2³¹) / 2³²)`, which is
//!   exactly `SMMULR(2x, m)` (one instruction on Armv7E-M; a 64-bit
//!   multiply elsewhere); the `i32::MIN × i32::MIN` saturation of the
//!   reference cannot occur;
//! - `|h| ≤ |x| + 1 ≤ 2²⁹`, so `h + 2^(e−1) − [h < 0]` cannot overflow,
//!   and the rounding divide is `(h + 2^(e−1) − [h < 0]) >> e` for
//!   `e ≥ 1` (ties: `−(k + ½)·2^e` goes to `−k − 1`) and `h` for `e = 0`.

use crate::kernels::RequantS8;

/// The largest `|acc|` (as a power of two) for which [`Fast`] is exact:
/// `|acc << left| < 2²⁹`.
const LIMIT_LOG2: u32 = 29;

/// Whether every output channel's accumulator, bounded by
/// `max_sum + |bias[c]|` (`max_sum`: the largest `|Σ (x − zp)·w|` the
/// kernel can produce), stays within the range where [`Fast`] is exact.
pub(crate) fn fits(q: &RequantS8<'_>, bias: Option<&[i32]>, channels: usize, max_sum: u64) -> bool {
    (0..channels).all(|c| {
        let (_, s) = q.channel(c);
        let b = bias.map_or(0, |b| b[c].unsigned_abs() as u64);
        let left = s.clamp(0, 30) as u32;
        (max_sum + b) << left < 1u64 << LIMIT_LOG2
    })
}

/// The largest `|Σ (x − zp)·w|` over `n` products of int8 values
/// (`|x − zp| ≤ 255`, `|w| ≤ 128`).
pub(crate) fn max_sum(n: usize) -> u64 {
    n as u64 * 255 * 128
}

/// One channel's multiplier and shifts, decoded.
#[derive(Clone, Copy)]
pub(crate) struct Fast {
    mult: i32,
    /// `left + 1` (the doubling of `SMMULR`'s operand folded in).
    lsh: u32,
    /// The right shift `e`.
    e: u32,
    /// `2^(e−1)`, or 0 for `e = 0`.
    round: i32,
    /// All ones for `e ≥ 1` (subtract 1 from negative `h`), else 0.
    neg: i32,
}

impl Fast {
    #[inline(always)]
    pub(crate) fn new(mult: i32, shift: i32) -> Self {
        let left = shift.clamp(0, 30) as u32;
        let e = if shift < 0 { (-shift) as u32 } else { 0 };
        Fast {
            mult,
            lsh: left + 1,
            e,
            round: ((1u32 << e) >> 1) as i32,
            neg: if e > 0 { -1 } else { 0 },
        }
    }

    /// `multiply_by_quantized_multiplier(acc, m, shift)`, for `|acc << left| < 2²⁹`.
    #[inline(always)]
    pub(crate) fn scale(&self, acc: i32) -> i32 {
        let h = smmulr(acc << self.lsh, self.mult);
        (h + self.round + ((h >> 31) & self.neg)) >> self.e
    }

    /// The int8 output: scaled, plus the output zero point, clamped.
    #[inline(always)]
    pub(crate) fn out(&self, acc: i32, q: &RequantS8<'_>) -> i8 {
        (self.scale(acc) + q.output_zero_point).clamp(q.act_min, q.act_max) as i8
    }
}

/// [`Fast`] in 8 bytes (kept per channel by a kernel): the multiplier and
/// `lsh | e << 8`.
#[derive(Clone, Copy)]
pub(crate) struct Compact {
    mult: i32,
    shifts: u32,
}

impl Compact {
    #[inline(always)]
    pub(crate) fn new(mult: i32, shift: i32) -> Self {
        let f = Fast::new(mult, shift);
        Compact {
            mult,
            shifts: f.lsh | f.e << 8,
        }
    }

    /// Channel `c` of `q`.
    #[inline(always)]
    pub(crate) fn of(q: &RequantS8<'_>, c: usize) -> Self {
        let (m, s) = q.channel(c);
        Self::new(m, s)
    }

    /// Decoded (four instructions).
    #[inline(always)]
    pub(crate) fn fast(&self) -> Fast {
        let e = (self.shifts >> 8) & 31;
        let round = ((1u32 << e) >> 1) as i32;
        Fast {
            mult: self.mult,
            lsh: self.shifts & 31,
            e,
            round,
            neg: round.wrapping_neg() >> 31,
        }
    }
}

/// `floor((a·b + 2³¹) / 2³²)`.
#[inline(always)]
fn smmulr(a: i32, b: i32) -> i32 {
    #[cfg(edgegrad_dsp)]
    {
        super::dsp::smmulr(a, b)
    }
    #[cfg(not(edgegrad_dsp))]
    {
        ((a as i64 * b as i64 + (1 << 31)) >> 32) as i32
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::Rng;
    use super::*;
    use crate::quant::requantize;

    #[test]
    fn matches_reference_within_its_range() {
        let mut rng = Rng::new(0x5E);
        for iter in 0..200_000 {
            let shift = rng.range(-31, 30) as i32;
            let mult = match rng.usize(0, 9) {
                0 => rng.range(-0x7FFF_FFFF, 0x7FFF_FFFF) as i32,
                1 => i32::MAX,
                2 => i32::MIN,
                _ => 0x4000_0000 + rng.range(0, 0x3FFF_FFFF) as i32,
            };
            let left = shift.clamp(0, 30) as u32;
            let lim = (((1i64 << 29) >> left) - 1).max(0);
            let acc = match rng.usize(0, 4) {
                0 => lim as i32,
                1 => -lim as i32,
                2 => rng.range(-300.min(lim), 300.min(lim)) as i32,
                _ => rng.range(-lim, lim) as i32,
            };
            let zp = rng.range(-128, 127) as i32;
            let (lo, hi) = (-128, 127);
            let want = requantize(acc, mult, shift, zp, lo, hi);
            let f = Fast::new(mult, shift);
            let got = (f.scale(acc) + zp).clamp(lo, hi) as i8;
            assert_eq!(got, want, "case {iter}: acc {acc} m {mult} s {shift}");
            let want = crate::quant::multiply_by_quantized_multiplier(acc, mult, shift);
            assert_eq!(
                f.scale(acc),
                want,
                "case {iter}: acc {acc} m {mult} s {shift}"
            );
        }
    }
}
