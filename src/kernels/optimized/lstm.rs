//! UNIDIRECTIONAL_SEQUENCE_LSTM, int8: the reference
//! [`lstm_s8`](crate::kernels::reference::lstm_s8), fast.
//!
//! The cost of a step is its eight matrix-vector products (four gates ×
//! input and recurrent weights). Unit by unit, as the reference: the four
//! gate rows of unit `j` are one pass of [`dot4`] over `x` (each input word
//! loaded and offset once for the four gates; on the DSP path `SXTAB16`
//! folds in `x − zp` and `SMLAD` does two MACs) and one over the previous
//! `h`; the input zero points cost nothing and need no precomputed weight
//! sums. Sums are modulo 2³² as the reference's `wrapping_add`, so the
//! order of the terms is free.
//!
//! The eight accumulators are requantized to Q3.12 with the short
//! `SMMULR` path of [`super::requant::Fast`] when `|acc << left| < 2²⁹`
//! (checked per accumulator: one compare), else with the reference's
//! `multiply_by_quantized_multiplier`; both give the same value. The gate
//! activations and the cell and hidden updates are the reference's own
//! functions (`gate_s16`, `update_unit`), so every output byte and the
//! state are identical. No scratch: the new hidden state goes to the
//! output row and is copied into the state after the step.

use super::dot::dot4;
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

/// int8 LSTM: same arguments, errors, outputs and state as
/// [`reference::lstm_s8`](crate::kernels::reference::lstm_s8). Needs no
/// scratch memory.
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
    let rq_x = p.input_fc.map(GateRequant::new);
    let rq_h = p.recurrent_fc.map(GateRequant::new);
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
            step(x, w, h, c, y, p, &rq_x, &rq_h);
        }
    }
    Ok(())
}

/// One time step of one batch row (lengths checked by the caller).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn step(
    x: &[i8],
    w: &LstmWeightsS8<'_>,
    h: &mut [i8],
    c: &mut [i16],
    y: &mut [i8],
    p: &LstmS8,
    rq_x: &[GateRequant; 4],
    rq_h: &[GateRequant; 4],
) {
    let (n_in, n_s) = (p.input_dim, p.state_dim);
    let (zx, zh) = (p.input_zero_point, p.hidden_zero_point);
    let tanh_c = tanh_params(p.cell_scale_power);
    let [wx0, wx1, wx2, wx3] = w.input;
    let [wh0, wh1, wh2, wh3] = w.recurrent;
    let [b0, b1, b2, b3] = w.bias;
    for j in 0..n_s {
        let (ox, oh) = (j * n_in, j * n_s);
        let mut ax = [b0[j], b1[j], b2[j], b3[j]];
        dot4(
            x,
            [&wx0[ox..], &wx1[ox..], &wx2[ox..], &wx3[ox..]],
            zx,
            &mut ax,
        );
        let mut ah = [0i32; 4];
        dot4(
            h,
            [&wh0[oh..], &wh1[oh..], &wh2[oh..], &wh3[oh..]],
            zh,
            &mut ah,
        );
        let gate = [
            gate_s16(0, rq_x[0].apply(ax[0]), rq_h[0].apply(ah[0]), p),
            gate_s16(1, rq_x[1].apply(ax[1]), rq_h[1].apply(ah[1]), p),
            gate_s16(2, rq_x[2].apply(ax[2]), rq_h[2].apply(ah[2]), p),
            gate_s16(3, rq_x[3].apply(ax[3]), rq_h[3].apply(ah[3]), p),
        ];
        (c[j], y[j]) = update_unit(gate, c[j], tanh_c, p);
    }
    h.copy_from_slice(y);
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::kernels::reference;
    use crate::kernels::reference::lstm::{LstmS8, LstmWeightsS8, Requant, CELL_POWER_RANGE};

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
