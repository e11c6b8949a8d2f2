//! UNIDIRECTIONAL_SEQUENCE_LSTM, int8: the reference
//! [`lstm_s8`](crate::kernels::reference::lstm_s8), fast.
//!
//! The cost of a step is its eight matrix-vector products (four gates ×
//! input and recurrent weights). Units go four at a time: per gate, one
//! pass over `x` and one over the previous `h` for the four consecutive
//! rows of that gate's matrices, so each input word is loaded once for
//! four rows; then the reference's own per-unit arithmetic. The last
//! `state % 4` units go one by one (`dot1`). Sums are modulo 2³² as the
//! reference's `wrapping_add`, so the order of the terms is free and the
//! zero points need no precomputed weight sums.
//!
//! On the DSP path (`cfg(edgegrad_dsp)`), `x − zp_x` and `h − zp_h` are
//! staged once per step on the stack as `SXTAB16` halfword pairs (two
//! words per four elements, at most 128 elements each: 512 bytes), and
//! `dsp::mac4rows`, one `asm!` loop, runs four rows
//! over them: per four elements one `LDRD`, four weight `LDR`s, eight
//! `SXTB16`, eight `SMLAD`. A length that is not a multiple of four has its
//! last group staged padded with the zero point (padding lanes 0), read by
//! the same loop wherever three more weight bytes follow the fourth row
//! (every block but the last, whose few leftover elements and anything past
//! 128 go through `dot4`). The portable path runs `dot4` on the rows.
//!
//! The eight accumulators are requantized to Q3.12 with the short
//! `SMMULR` path of `requant::Fast` when `|acc << left| < 2²⁹`
//! (checked per accumulator: one compare), else with the reference's
//! `multiply_by_quantized_multiplier`; both give the same value. The gate
//! activations and the cell and hidden updates are the reference's own
//! functions (`gate_s16`, `update_unit`), so every output byte and the
//! state are identical. No arena scratch: the new hidden state goes to the
//! output row and is copied into the state after the step.

use super::dot::{dot1, dot4};
use super::requant::Fast;
use crate::kernels::reference::lstm::{
    check, gate_s16, tanh_params, update_unit, LstmS8, LstmWeightsS8, Requant,
};
use crate::Error;

/// One gate product's requantization to Q3.12: the short path when the
/// accumulator is small enough, else the reference's.
#[derive(Clone, Copy)]
struct GateRequant {
    fast: Fast,
    /// `2²⁹ >> left`: `|acc| < limit` makes [`Fast`] exact (0: never).
    limit: u32,
    slow: Requant,
}

impl GateRequant {
    fn new(r: Requant) -> Self {
        let left = r.shift.clamp(0, 30) as u32;
        GateRequant {
            fast: Fast::new(r.multiplier, r.shift),
            limit: (1u32 << 29) >> left,
            slow: r,
        }
    }

    /// `multiply_by_quantized_multiplier(acc, m, s)`.
    #[inline(always)]
    fn apply(&self, acc: i32) -> i32 {
        if acc.unsigned_abs() < self.limit {
            self.fast.scale(acc)
        } else {
            self.slow.apply(acc)
        }
    }
}

/// The largest vector (input or hidden state) staged on the DSP path:
/// longer ones run their first `STAGE` elements from the stage and the
/// rest through `dot4`.
#[cfg(edgegrad_dsp)]
const STAGE: usize = 128;

/// A vector offset by its zero point and split into `SXTAB16` halfword
/// pairs once per step (two words per four elements), so that the
/// `mac4rows` loop of every row block reads it with one `LDRD`. A last
/// partial group is staged too, padded with the zero point (so its padding
/// lanes are 0): rows that have at least that many bytes after them (every
/// block but the last) run it in the same loop, the products of the
/// padding being 0.
struct Staged {
    #[cfg(edgegrad_dsp)]
    words: [u32; STAGE / 2],
    /// Whole groups of four elements staged.
    #[cfg(edgegrad_dsp)]
    full: usize,
    /// `full`, plus 1 when a padded partial group follows.
    #[cfg(edgegrad_dsp)]
    padded: usize,
}

impl Staged {
    fn new() -> Self {
        Staged {
            #[cfg(edgegrad_dsp)]
            words: [0; STAGE / 2],
            #[cfg(edgegrad_dsp)]
            full: 0,
            #[cfg(edgegrad_dsp)]
            padded: 0,
        }
    }

    /// Stages `v − zp` (the DSP path; nothing to do elsewhere).
    #[inline(always)]
    fn fill(&mut self, v: &[i8], zp: i32) {
        #[cfg(edgegrad_dsp)]
        {
            use super::dot::{offset_pair, word};
            use super::dsp::{sxtab16, sxtab16_ror8};
            let off = offset_pair(zp);
            let n4 = v.len().min(STAGE) & !3;
            let (whole, part) = self.words.split_at_mut(n4 / 2);
            for (c, out) in v[..n4].chunks_exact(4).zip(whole.chunks_exact_mut(2)) {
                let xw = word(c);
                out[0] = sxtab16(off, xw);
                out[1] = sxtab16_ror8(off, xw);
            }
            self.full = n4 / 4;
            self.padded = self.full;
            let rest = &v[n4..];
            if let (1..=3, [e, o, ..]) = (rest.len(), part) {
                let mut c = [zp as i8; 4];
                c[..rest.len()].copy_from_slice(rest);
                let xw = word(&c);
                *e = sxtab16(off, xw);
                *o = sxtab16_ror8(off, xw);
                self.padded += 1;
            }
        }
        #[cfg(not(edgegrad_dsp))]
        let _ = (v, zp);
    }

    /// How many staged groups [`Self::rows4`] runs on four rows of
    /// `stride` bytes followed by `avail − 4·stride` more: the padded group
    /// reads up to 3 bytes past the fourth row.
    #[inline(always)]
    fn groups(&self, stride: usize, avail: usize) -> usize {
        #[cfg(edgegrad_dsp)]
        {
            if self.padded > self.full && 3 * stride + 4 * self.padded <= avail {
                self.padded
            } else {
                self.full
            }
        }
        #[cfg(not(edgegrad_dsp))]
        {
            let _ = (stride, avail);
            0
        }
    }

    /// `acc[r] += Σ_k (v[k] − zp) · w[r·stride + k]` for four rows `r`
    /// (`v` the vector staged by [`Self::fill`]; `w` holds the four rows
    /// and whatever follows them; `groups` from [`Self::groups`]).
    #[inline(always)]
    fn rows4(&self, v: &[i8], w: &[i8], stride: usize, zp: i32, groups: usize, acc: &mut [i32; 4]) {
        #[cfg(edgegrad_dsp)]
        let done = if groups > 0 {
            super::dsp::mac4rows(&self.words, w, stride, groups, acc);
            (4 * groups).min(v.len())
        } else {
            0
        };
        #[cfg(not(edgegrad_dsp))]
        let done = groups;
        if done < v.len() {
            let row = |r: usize| &w[r * stride + done..];
            dot4(&v[done..], [row(0), row(1), row(2), row(3)], zp, acc);
        }
    }
}

/// int8 LSTM: same arguments, errors, outputs and state as
/// [`reference::lstm_s8`](crate::kernels::reference::lstm_s8). Needs no
/// scratch memory (on the DSP path, 512 bytes of stack).
pub fn lstm_s8(
    input: &[i8],
    w: &LstmWeightsS8<'_>,
    hidden: &mut [i8],
    cell: &mut [i16],
    output: &mut [i8],
    p: &LstmS8,
) -> Result<(), Error> {
    check(input.len(), w, hidden.len(), cell.len(), output.len(), p)?;
    let (n_in, n_s) = (p.input_dim, p.state_dim);
    let rq = Gates {
        x: p.input_fc.map(GateRequant::new),
        h: p.recurrent_fc.map(GateRequant::new),
    };
    let (mut xs, mut hs) = (Staged::new(), Staged::new());
    for b in 0..p.batch {
        let h = &mut hidden[b * n_s..][..n_s];
        let c = &mut cell[b * n_s..][..n_s];
        for t in 0..p.time {
            let row = if p.time_major {
                t * p.batch + b
            } else {
                b * p.time + t
            };
            let x = &input[row * n_in..][..n_in];
            let y = &mut output[row * n_s..][..n_s];
            xs.fill(x, p.input_zero_point);
            hs.fill(h, p.hidden_zero_point);
            step(x, &xs, h, &hs, w, c, y, p, &rq);
        }
    }
    Ok(())
}

/// The requantizations of the gates' input and recurrent products.
struct Gates {
    x: [GateRequant; 4],
    h: [GateRequant; 4],
}

/// One time step of one batch row (lengths checked by the caller; `xs`
/// and `hs` hold `x` and `h` staged).
// Index loops: the iterator forms cost about 1% more instructions on the
// Cortex-M4 (bench-mcu).
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
#[inline(always)]
fn step(
    x: &[i8],
    xs: &Staged,
    h: &mut [i8],
    hs: &Staged,
    w: &LstmWeightsS8<'_>,
    c: &mut [i16],
    y: &mut [i8],
    p: &LstmS8,
    rq: &Gates,
) {
    let (n_in, n_s) = (p.input_dim, p.state_dim);
    let (zx, zh) = (p.input_zero_point, p.hidden_zero_point);
    let tanh_c = tanh_params(p.cell_scale_power);
    // Four units at a time: per gate, one pass over x and one over h for
    // the four rows.
    let mut j = 0;
    while j + 4 <= n_s {
        let gx = xs.groups(n_in, (n_s - j) * n_in);
        let gh = hs.groups(n_s, (n_s - j) * n_s);
        let mut gate = [[0i16; 4]; 4]; // [unit][gate]
        for g in 0..4 {
            let b: &[i32; 4] = w.bias[g][j..j + 4].try_into().expect("four biases");
            let mut ax = *b;
            xs.rows4(x, &w.input[g][j * n_in..], n_in, zx, gx, &mut ax);
            let mut ah = [0i32; 4];
            hs.rows4(h, &w.recurrent[g][j * n_s..], n_s, zh, gh, &mut ah);
            for u in 0..4 {
                gate[u][g] = gate_s16(g, rq.x[g].apply(ax[u]), rq.h[g].apply(ah[u]), p);
            }
        }
        for u in 0..4 {
            (c[j + u], y[j + u]) = update_unit(gate[u], c[j + u], tanh_c, p);
        }
        j += 4;
    }
    // The last units one by one.
    while j < n_s {
        let mut gate = [0i16; 4];
        for (g, out) in gate.iter_mut().enumerate() {
            let ax = dot1(x, &w.input[g][j * n_in..], zx, w.bias[g][j]);
            let ah = dot1(h, &w.recurrent[g][j * n_s..], zh, 0);
            *out = gate_s16(g, rq.x[g].apply(ax), rq.h[g].apply(ah), p);
        }
        (c[j], y[j]) = update_unit(gate, c[j], tanh_c, p);
        j += 1;
    }
    h.copy_from_slice(y);
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::super::testing::*;
    use crate::kernels::reference;
    use crate::kernels::reference::lstm::{LstmS8, LstmWeightsS8, Requant, CELL_POWER_RANGE};
    use std::format;

    /// A random Q31 multiplier and shift: mostly realistic (the gate
    /// products' `scale_x·scale_w·2¹²`, the cell products' powers of two),
    /// sometimes any valid pair (large left shifts take the slow path).
    fn requant(rng: &mut Rng, real: f64) -> Requant {
        if rng.usize(0, 7) == 0 {
            return Requant {
                multiplier: rng.range(0, i32::MAX as i64) as i32,
                shift: rng.range(-31, 30) as i32,
            };
        }
        let (multiplier, shift) = crate::quant::quantize_multiplier(real * rng.uniform(0.5, 2.0));
        Requant { multiplier, shift }
    }

    fn params(rng: &mut Rng, batch: usize, time: usize, n_in: usize, n_s: usize) -> LstmS8 {
        let power = if rng.bool() {
            rng.range(-15, -9) as i32
        } else {
            rng.range(
                *CELL_POWER_RANGE.start() as i64,
                *CELL_POWER_RANGE.end() as i64,
            ) as i32
        };
        let c_scale = 2f64.powi(power);
        let h_scale = rng.uniform(1.0 / 256.0, 1.0 / 64.0);
        let fc = |rng: &mut Rng, terms: usize| {
            // Input scale × weight scale × 2¹², weights scaled to the terms.
            let real = rng.uniform(1.0 / 256.0, 1.0 / 32.0) * rng.uniform(0.001, 0.05)
                / (terms as f64).sqrt()
                * 4096.0;
            requant(rng, real)
        };
        LstmS8 {
            batch,
            time,
            input_dim: n_in,
            state_dim: n_s,
            time_major: rng.bool(),
            input_zero_point: rng.range(-128, 127) as i32,
            hidden_zero_point: rng.range(-128, 127) as i32,
            input_fc: core::array::from_fn(|_| fc(rng, n_in)),
            recurrent_fc: core::array::from_fn(|_| fc(rng, n_s)),
            forget_mul: requant(rng, 1.0 / 32768.0),
            input_mul: requant(rng, 1.0 / 32768.0 / 32768.0 / c_scale),
            output_mul: requant(rng, 1.0 / 32768.0 / 32768.0 / h_scale),
            cell_clip: rng.bool().then(|| rng.range(0, 32767) as i16),
            cell_scale_power: power,
            cell_gate_tanh: rng.usize(0, 3) != 0,
        }
    }

    /// Sizes 1–9 mostly (every remainder of the 4-byte words), sometimes
    /// up to 40.
    fn dim(rng: &mut Rng) -> usize {
        if rng.bool() {
            rng.usize(1, 9)
        } else {
            rng.usize(10, 40)
        }
    }

    #[test]
    fn matches_reference_bit_for_bit() {
        let mut rng = Rng::new(0x157);
        for iter in 0..2000 {
            let (batch, time) = (rng.usize(1, 3), rng.usize(1, 5));
            let (n_in, n_s) = (dim(&mut rng), dim(&mut rng));
            let p = params(&mut rng, batch, time, n_in, n_s);
            let wide = rng.usize(0, 3) == 0;
            let wx: Vec<Vec<i8>> = (0..4).map(|_| rng.vec_weights(n_s * n_in)).collect();
            let wh: Vec<Vec<i8>> = (0..4).map(|_| rng.vec_weights(n_s * n_s)).collect();
            let bias: Vec<Vec<i32>> = (0..4)
                .map(|_| {
                    (0..n_s)
                        .map(|_| {
                            if wide {
                                rng.range(i32::MIN as i64, i32::MAX as i64) as i32
                            } else {
                                rng.range(-40000, 40000) as i32
                            }
                        })
                        .collect()
                })
                .collect();
            let w = LstmWeightsS8 {
                input: [&wx[0], &wx[1], &wx[2], &wx[3]],
                recurrent: [&wh[0], &wh[1], &wh[2], &wh[3]],
                bias: [&bias[0], &bias[1], &bias[2], &bias[3]],
            };
            let x = rng.vec_i8(batch * time * n_in);
            // A carried state: random hidden bytes and cells.
            let h0 = rng.vec_i8(batch * n_s);
            let c0: Vec<i16> = (0..batch * n_s)
                .map(|_| rng.range(-32768, 32767) as i16)
                .collect();
            let (mut hr, mut cr, mut yr) = (h0.clone(), c0.clone(), vec![0i8; batch * time * n_s]);
            let (mut ho, mut co, mut yo) = (h0, c0, vec![1i8; batch * time * n_s]);
            reference::lstm_s8(&x, &w, &mut hr, &mut cr, &mut yr, &p).unwrap();
            super::lstm_s8(&x, &w, &mut ho, &mut co, &mut yo, &p).unwrap();
            let what = format!(
                "case {iter}: batch {batch} time {time} in {n_in} state {n_s} \
                 time-major {} clip {:?} tanh {}",
                p.time_major, p.cell_clip, p.cell_gate_tanh
            );
            assert_eq!(yo, yr, "{what}: output");
            assert_eq!(ho, hr, "{what}: hidden");
            assert_eq!(co, cr, "{what}: cell");
        }
    }

    #[test]
    fn same_errors_as_reference() {
        let mut rng = Rng::new(0x158);
        for _ in 0..300 {
            let (n_in, n_s) = (rng.usize(1, 6), rng.usize(1, 6));
            let (batch, time) = (rng.usize(1, 2), rng.usize(1, 2));
            let mut p = params(&mut rng, batch, time, n_in, n_s);
            match rng.usize(0, 3) {
                0 => p.cell_scale_power = 3,
                1 => p.recurrent_fc[2].shift = 40,
                2 => p.state_dim = 0,
                _ => {}
            }
            let z = |n: usize, rng: &mut Rng| {
                let n = if rng.usize(0, 5) == 0 { n + 1 } else { n };
                vec![0i8; n]
            };
            let wx: Vec<Vec<i8>> = (0..4).map(|_| z(n_s * n_in, &mut rng)).collect();
            let wh: Vec<Vec<i8>> = (0..4).map(|_| z(n_s * n_s, &mut rng)).collect();
            let bias = vec![0i32; n_s];
            let w = LstmWeightsS8 {
                input: [&wx[0], &wx[1], &wx[2], &wx[3]],
                recurrent: [&wh[0], &wh[1], &wh[2], &wh[3]],
                bias: [&bias; 4],
            };
            let steps = p.batch * p.time;
            let x = z(steps * n_in, &mut rng);
            let mut h = z(p.batch * n_s, &mut rng);
            let mut c = vec![0i16; p.batch * n_s];
            let mut y = z(steps * n_s, &mut rng);
            let want =
                reference::lstm_s8(&x, &w, &mut h.clone(), &mut c.clone(), &mut y.clone(), &p);
            let got = super::lstm_s8(&x, &w, &mut h, &mut c, &mut y, &p);
            assert_eq!(got, want);
        }
    }
}
