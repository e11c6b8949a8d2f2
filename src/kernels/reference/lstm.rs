//! Int8 LSTM (TFLite `UNIDIRECTIONAL_SEQUENCE_LSTM`) with TensorFlow Lite
//! Micro's integer arithmetic (`lstm_eval.h`: `LstmStep`,
//! `CalculateLstmGate`, `UpdateLstmCell`, `UpdateLstmHidden`). The int16
//! sigmoid/tanh interpolate in the crate's own correctly rounded table,
//! which differs from the one TFLite ships in a few entries: an imported
//! model's outputs are within one quantum of TFLite Micro's (measured on the
//! fixtures: 6 of 192 bytes differ on one model, none on the other).
//!
//! Tensors: int8 input `x` and hidden state `h` (per-tensor scale and zero
//! point), int8 weights (zero point 0), int32 gate biases (added to the
//! input FC only), int16 cell state `c` (scale a power of two, zero point
//! 0). Gates are indexed `[input, forget, cell, output]`, TFLite's tensor
//! order. One time step, for each unit `j`:
//!
//! 1. **Gate pre-activation** (`CalculateLstmGate`): two fully connected
//!    products requantized to int16 Q3.12 (scale 2⁻¹²):
//!    `a = MBQM(Σ W_x[j]·(x − zp_x) + b[j], m_x, s_x)` and
//!    `r = MBQM(Σ W_h[j]·(h − zp_h), m_h, s_h)`, each clamped to int16
//!    (the multipliers are `scale_x·scale_Wx / 2⁻¹²` and
//!    `scale_h·scale_Wh / 2⁻¹²`, `QuantizeMultiplier` in f64); then the
//!    saturating int16 sum `g = sat16(a + r)`.
//! 2. **Activation**: sigmoid for the input, forget and output gates, the
//!    op's activation (tanh, or sigmoid) for the cell gate, both as
//!    TFLite's int16 `Logistic` / `Tanh` compute them: a linear
//!    interpolation in the 256-entry table [`SIGMOID_TABLE_U16`] of
//!    `sigmoid(i/24)` in 0.16 fixed point; the results are Q0.15.
//! 3. **Cell update** (`UpdateLstmCell`): `c = sat16(mul(f, c) + mul(i, g))`
//!    where each `mul(a, b) = clamp16(MBQM(a·b, m, s))` (multipliers
//!    `2⁻¹⁵·scale_c / scale_c` and `2⁻¹⁵·2⁻¹⁵ / scale_c`), then clipped to
//!    `±cell_clip` when the model has a clip.
//! 4. **Hidden update** (`UpdateLstmHidden`): `h = clamp8(zp_h +
//!    MBQM(tanh(c)·o, m, s))` (multiplier `2⁻¹⁵·2⁻¹⁵ / scale_h`), where the
//!    tanh input is rescaled from the cell scale `2^p` to Q3.12 with TFLM's
//!    `(x·mult + round) >> shift` (see [`tanh_s16`]).
//! 5. The new `h` is the step's output.
//!
//! MBQM is TFLite's `MultiplyByQuantizedMultiplier` (double rounding,
//! [`crate::quant::multiply_by_quantized_multiplier`]). Every unit's
//! arithmetic depends only on the previous `h` and its own `c`, so the
//! step computes unit by
//! unit, writing the new `h` into the output row and copying it into the
//! state afterwards: no scratch buffer, the same bytes as TFLM's
//! gate-by-gate order.
//!
//! The state tensors are read and written in place, so a model that runs
//! one time step per call carries the state from call to call exactly as
//! one call over the whole sequence does.
//!
//! The float LSTM ([`lstm_f32`], [`lstm_f16`]) is ONNX's `LSTM` (forward,
//! default activations) and PyTorch's `nn.LSTM`, with the same gate order,
//! one weight matrix per kind (`[4·hidden, in]`, `[4·hidden, hidden]`) and
//! the input and recurrent biases summed; its state is a float `h` and `c`
//! updated in place the same way. [`RecurrentDims`] and the dot product
//! are shared with the GRU ([`super::gru`]).

use super::math::{sigmoid_f32, tanh_f32};
use crate::kernels::Float;
use crate::quant::{multiply_by_quantized_multiplier as mbqm, MAX_SHIFT, MIN_SHIFT};
use crate::Error;
use half::f16;

/// `sigmoid(i / 24)` in unsigned 0.16 fixed point for `i` in `0..256`,
/// correctly rounded (`round(65536·sigmoid(i/24))`, the last entries
/// saturated at 65535): the table the int16 sigmoid and tanh of the LSTM
/// interpolate in, as TFLite Micro's do. These values are computed by this
/// crate (the test below recomputes them); TFLite ships a table of the
/// same function whose entries differ by one in a few places, which is
/// where the last-quantum differences from TFLite Micro come from.
pub const SIGMOID_TABLE_U16: [u16; 256] = [
    32768, 33451, 34133, 34813, 35492, 36169, 36843, 37513, 38179, 38841, 39498, 40149, 40793,
    41432, 42063, 42687, 43303, 43911, 44511, 45101, 45682, 46254, 46816, 47369, 47911, 48442,
    48964, 49474, 49974, 50463, 50941, 51408, 51865, 52310, 52744, 53168, 53581, 53982, 54374,
    54754, 55124, 55484, 55834, 56173, 56502, 56822, 57132, 57433, 57724, 58006, 58279, 58544,
    58800, 59048, 59287, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60934, 61109, 61278,
    61441, 61598, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990,
    63090, 63186, 63279, 63368, 63453, 63536, 63615, 63691, 63764, 63835, 63903, 63968, 64030,
    64090, 64148, 64203, 64257, 64308, 64357, 64405, 64450, 64494, 64535, 64576, 64614, 64651,
    64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900, 64925, 64950, 64974, 64997, 65018,
    65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234,
    65246, 65258, 65269, 65280, 65291, 65300, 65310, 65319, 65328, 65337, 65345, 65352, 65360,
    65367, 65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433,
    65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476,
    65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498, 65500, 65501,
    65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513, 65514, 65515, 65516,
    65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
    65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529,
    65529, 65530, 65530, 65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532,
    65532, 65532, 65532, 65533, 65533, 65533, 65533, 65533, 65533, 65533, 65533, 65534, 65534,
    65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534,
];

/// TFLite's int16 `Logistic` of a Q3.12 value, result in Q0.15, as the
/// LSTM calls it (input multiplier 0 and shift 0, which the kernel turns
/// into "multiply by 3"):
///
/// - `v = 3·x` (Q3.12 scaled by 3/4 · 4: the table step is 1/24, so
///   `|v| / 2⁹` indexes it and the low 9 bits interpolate);
/// - `|v| ≥ 255·2⁹` saturates to `0x7FFF·2¹⁰`, else
///   `r = table[k]·2⁹ + frac·(table[k+1] − table[k])` (unsigned 32-bit);
/// - `r + 2⁹` for `v ≥ 0`, `2²⁵ − r + 2⁹ − 1` (that is `1 − sigmoid(|v|)`)
///   for `v < 0`, then `>> 10` to Q0.15.
#[inline]
pub fn sigmoid_s16(x: i16) -> i16 {
    let v = x as i32 * 3;
    let a = v.unsigned_abs();
    let k = a >> 9;
    let r: u32 = if k >= 255 {
        0x7FFF << 10
    } else {
        let ua = SIGMOID_TABLE_U16[k as usize] as u32;
        let ub = SIGMOID_TABLE_U16[k as usize + 1] as u32;
        let frac = a & 0x1FF;
        (ua << 9).wrapping_add(frac.wrapping_mul(ub.wrapping_sub(ua)))
    };
    let r = if v >= 0 {
        r.wrapping_add(1 << 9)
    } else {
        (1u32 << 25).wrapping_sub(r).wrapping_add((1 << 9) - 1)
    };
    (r >> 10) as i16
}

/// TFLite's int16 `Tanh(input_multiplier, input_left_shift)`, result in
/// Q0.15, with `tanh(x) = 2·sigmoid(2x) − 1` on the same table:
///
/// - a multiplier of 0 means "power-of-two input scale": the multiplier
///   becomes `3 << shift` and the shift 0;
/// - `v = (x·mult + round) >> shift` with `round = 2^(shift−1)` (0 for
///   shift 0);
/// - `|v| / 2⁸` indexes the table and the low 8 bits interpolate;
///   `|v| ≥ 255·2⁸` saturates to `0xFFFF·2⁸`;
/// - `r − 2²³ + 2⁷` for `v ≥ 0`, `−r + 2²³ + 2⁷ − 1` for `v < 0`, then an
///   arithmetic `>> 8`.
#[inline]
pub fn tanh_s16(x: i16, multiplier: i32, shift: i32) -> i16 {
    let (m, s) = if multiplier == 0 {
        (3i32.wrapping_shl(shift as u32), 0)
    } else {
        (multiplier, shift)
    };
    let round = if s > 0 { 1i32 << (s - 1) } else { 0 };
    let v = (x as i32).wrapping_mul(m).wrapping_add(round) >> s;
    let a = v.unsigned_abs();
    let k = a >> 8;
    let r: i32 = if k >= 255 {
        0xFFFF << 8
    } else {
        let ua = SIGMOID_TABLE_U16[k as usize] as u32;
        let ub = SIGMOID_TABLE_U16[k as usize + 1] as u32;
        let frac = a & 0xFF;
        (ua << 8).wrapping_add(frac.wrapping_mul(ub.wrapping_sub(ua))) as i32
    };
    let r = if v >= 0 {
        r - (1 << 23) + (1 << 7)
    } else {
        -r + (1 << 23) + (1 << 7) - 1
    };
    (r >> 8) as i16
}

/// The `(multiplier, shift)` TFLM's LSTM passes to [`tanh_s16`] for a
/// value of scale `2^power`: `shift = 15 + power − 3` (to Q3.12); a
/// negative shift becomes a right shift by `−shift` with multiplier 3.
/// (The gates' tanh uses power −12: multiplier 0, shift 0.)
pub const fn tanh_params(power: i32) -> (i32, i32) {
    let shift = 15 + power - 3;
    if shift < 0 {
        (3, -shift)
    } else {
        (0, shift)
    }
}

/// The range of cell-state scale powers [`LstmS8`] accepts: the tanh
/// rescale `(x·3·2^(12+p))` must fit 32 bits and a right shift stays
/// below 32.
pub const CELL_POWER_RANGE: core::ops::RangeInclusive<i32> = -43..=2;

/// A multiplier and shift (`real ≈ multiplier · 2^(shift − 31)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Requant {
    /// Q31 multiplier.
    pub multiplier: i32,
    /// Power-of-two exponent.
    pub shift: i32,
}

impl Requant {
    /// `multiply_by_quantized_multiplier(x, multiplier, shift)`.
    #[inline(always)]
    pub(crate) fn apply(self, x: i32) -> i32 {
        mbqm(x, self.multiplier, self.shift)
    }

    fn valid(self) -> bool {
        self.multiplier >= 0 && (MIN_SHIFT..=MAX_SHIFT).contains(&self.shift)
    }
}

/// The int8 LSTM's sizes and integer parameters, computed on the host as
/// TFLM's `Prepare` computes them (see the importer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LstmS8 {
    /// Batch size.
    pub batch: usize,
    /// Time steps in one call.
    pub time: usize,
    /// Input features.
    pub input_dim: usize,
    /// Units (hidden and cell state size).
    pub state_dim: usize,
    /// Input laid out `[time, batch, in]` (else `[batch, time, in]`).
    pub time_major: bool,
    /// Zero point of the input.
    pub input_zero_point: i32,
    /// Zero point of the hidden state (and output).
    pub hidden_zero_point: i32,
    /// Per gate `[input, forget, cell, output]`: the input FC's
    /// requantization to Q3.12.
    pub input_fc: [Requant; 4],
    /// Per gate: the recurrent FC's requantization to Q3.12.
    pub recurrent_fc: [Requant; 4],
    /// forget gate (Q0.15) × cell state → cell state.
    pub forget_mul: Requant,
    /// input gate (Q0.15) × cell gate (Q0.15) → cell state.
    pub input_mul: Requant,
    /// tanh(cell) (Q0.15) × output gate (Q0.15) → hidden state.
    pub output_mul: Requant,
    /// Quantized cell clip (`|c| ≤ clip`), `None` without clipping.
    pub cell_clip: Option<i16>,
    /// `p` with cell scale `2^p` (TFLM's `cell_state_scale_power`).
    pub cell_scale_power: i32,
    /// The cell gate's activation is tanh (else sigmoid).
    pub cell_gate_tanh: bool,
}

/// The constant tensors of an LSTM, gates `[input, forget, cell, output]`.
#[derive(Debug, Clone, Copy)]
pub struct LstmWeightsS8<'a> {
    /// Input weights, each `[state, input]`.
    pub input: [&'a [i8]; 4],
    /// Recurrent weights, each `[state, state]`.
    pub recurrent: [&'a [i8]; 4],
    /// Gate biases, each `[state]`.
    pub bias: [&'a [i32]; 4],
}

const SIGMOID_GATE: [bool; 4] = [true, true, false, true];

impl LstmS8 {
    /// Checks the parameters: sizes nonzero, shifts in range, zero points
    /// int8, the cell power in [`CELL_POWER_RANGE`].
    pub fn check(&self) -> Result<(), Error> {
        let sizes = self.batch > 0 && self.time > 0 && self.input_dim > 0 && self.state_dim > 0;
        let zps = (-128..=127).contains(&self.input_zero_point)
            && (-128..=127).contains(&self.hidden_zero_point);
        let reqs = self
            .input_fc
            .iter()
            .chain(&self.recurrent_fc)
            .chain([&self.forget_mul, &self.input_mul, &self.output_mul])
            .all(|r| r.valid());
        let clip = self.cell_clip.is_none_or(|c| c >= 0);
        if sizes && zps && reqs && clip && CELL_POWER_RANGE.contains(&self.cell_scale_power) {
            Ok(())
        } else {
            Err(Error::InvalidParameter)
        }
    }
}

pub(crate) fn len_check(got: usize, expected: usize) -> Result<(), Error> {
    if got == expected {
        Ok(())
    } else {
        Err(Error::LengthMismatch { expected, got })
    }
}

/// Gate `g` of one unit from its two requantized products `a` (input FC
/// with bias) and `r` (recurrent FC), each MBQM'd to Q3.12: both clamped
/// to int16, their saturating int16 sum, then the gate's activation
/// (sigmoid, or tanh for the cell gate of a tanh LSTM). Shared with
/// [`optimized::lstm`](crate::kernels::optimized::lstm).
#[inline(always)]
pub(crate) fn gate_s16(g: usize, a: i32, r: i32, p: &LstmS8) -> i16 {
    let (a, r) = (a.clamp(-32768, 32767), r.clamp(-32768, 32767));
    let pre = (a + r).clamp(-32768, 32767) as i16;
    if SIGMOID_GATE[g] || !p.cell_gate_tanh {
        sigmoid_s16(pre)
    } else {
        // Q3.12 input: power −12, multiplier 0, shift 0.
        tanh_s16(pre, 0, 0)
    }
}

/// One unit's cell and hidden update from its activated gates `[i, f, g,
/// o]` and its cell `c`: returns the new cell and hidden values. `tanh_c`
/// is [`tanh_params`] of the cell scale power. Shared with
/// [`optimized::lstm`](crate::kernels::optimized::lstm).
#[inline(always)]
pub(crate) fn update_unit(gate: [i16; 4], c: i16, tanh_c: (i32, i32), p: &LstmS8) -> (i16, i8) {
    let [ig, fg, cg, og] = gate;
    // Cell: forget·c and input·cell-gate, each requantized to the cell
    // scale and clamped to int16, then a saturating sum and the clip.
    let fc = p
        .forget_mul
        .apply(fg as i32 * c as i32)
        .clamp(-32768, 32767);
    let ic = p
        .input_mul
        .apply(ig as i32 * cg as i32)
        .clamp(-32768, 32767);
    let mut cj = (fc + ic).clamp(-32768, 32767) as i16;
    if let Some(clip) = p.cell_clip {
        cj = cj.clamp(-clip, clip);
    }
    // Hidden: tanh(c) · output gate, requantized to the hidden scale
    // with its zero point, clamped to int8.
    let tc = tanh_s16(cj, tanh_c.0, tanh_c.1);
    let hv = p.hidden_zero_point + p.output_mul.apply(tc as i32 * og as i32);
    (cj, hv.clamp(-128, 127) as i8)
}

/// Checks [`lstm_s8`]'s parameters and every length (input, weights,
/// state, output); also called by the optimized kernel.
pub(crate) fn check(
    input: usize,
    w: &LstmWeightsS8<'_>,
    hidden: usize,
    cell: usize,
    output: usize,
    p: &LstmS8,
) -> Result<(), Error> {
    p.check()?;
    let (n_in, n_s) = (p.input_dim, p.state_dim);
    let steps = p.batch.checked_mul(p.time).ok_or(Error::ShapeOverflow)?;
    len_check(input, steps.checked_mul(n_in).ok_or(Error::ShapeOverflow)?)?;
    len_check(output, steps.checked_mul(n_s).ok_or(Error::ShapeOverflow)?)?;
    // batch·state ≤ batch·time·state, checked above.
    len_check(hidden, p.batch * n_s)?;
    len_check(cell, p.batch * n_s)?;
    let wx = n_s.checked_mul(n_in).ok_or(Error::ShapeOverflow)?;
    let wh = n_s.checked_mul(n_s).ok_or(Error::ShapeOverflow)?;
    for g in 0..4 {
        len_check(w.input[g].len(), wx)?;
        len_check(w.recurrent[g].len(), wh)?;
        len_check(w.bias[g].len(), n_s)?;
    }
    Ok(())
}

/// Runs the LSTM over `p.time` steps of every batch row: `input`
/// (`batch·time·input_dim`), the state `hidden` (int8) and `cell` (int16),
/// each `batch·state_dim`, updated in place, and `output`
/// (`batch·time·state_dim`, the hidden state after each step).
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
    for b in 0..p.batch {
        for t in 0..p.time {
            // The row of (b, t) in the input and output.
            let row = if p.time_major {
                t * p.batch + b
            } else {
                b * p.time + t
            };
            let x = &input[row * n_in..(row + 1) * n_in];
            let h = &mut hidden[b * n_s..(b + 1) * n_s];
            let c = &mut cell[b * n_s..(b + 1) * n_s];
            let y = &mut output[row * n_s..(row + 1) * n_s];
            step(x, w, h, c, y, p);
        }
    }
    Ok(())
}

/// One time step of one batch row (lengths checked by the caller).
fn step(x: &[i8], w: &LstmWeightsS8<'_>, h: &mut [i8], c: &mut [i16], y: &mut [i8], p: &LstmS8) {
    let (n_in, n_s) = (p.input_dim, p.state_dim);
    let tanh_c = tanh_params(p.cell_scale_power);
    for j in 0..n_s {
        let mut gate = [0i16; 4];
        for (g, out) in gate.iter_mut().enumerate() {
            // Input FC with the gate bias (TFLM's FullyConnected, int16
            // output).
            let wx = &w.input[g][j * n_in..(j + 1) * n_in];
            let mut acc = w.bias[g][j];
            for (&wv, &xv) in wx.iter().zip(x) {
                acc = acc.wrapping_add(wv as i32 * (xv as i32 - p.input_zero_point));
            }
            let a = p.input_fc[g].apply(acc);
            // Recurrent FC on the previous hidden state, no bias.
            let wh = &w.recurrent[g][j * n_s..(j + 1) * n_s];
            let mut acc = 0i32;
            for (&wv, &hv) in wh.iter().zip(h.iter()) {
                acc = acc.wrapping_add(wv as i32 * (hv as i32 - p.hidden_zero_point));
            }
            let r = p.recurrent_fc[g].apply(acc);
            *out = gate_s16(g, a, r, p);
        }
        (c[j], y[j]) = update_unit(gate, c[j], tanh_c, p);
    }
    h.copy_from_slice(y);
}

/// The sizes of a float recurrent layer (LSTM or GRU) and its layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RecurrentDims {
    /// Independent sequences (batch rows), each with its own state row.
    pub batch: usize,
    /// Time steps per call.
    pub time: usize,
    /// Input features per step.
    pub input_dim: usize,
    /// Hidden units.
    pub hidden_dim: usize,
    /// Input and output are `[time, batch, ..]` (else `[batch, time, ..]`).
    pub time_major: bool,
}

impl RecurrentDims {
    /// Checks that every size is nonzero and that `gates · hidden · (input
    /// + hidden)` and `batch · time · max(input, hidden)` fit in `usize`.
    pub fn check(&self, gates: usize) -> Result<(), Error> {
        if self.batch == 0 || self.time == 0 || self.input_dim == 0 || self.hidden_dim == 0 {
            return Err(Error::InvalidParameter);
        }
        let wide = self.input_dim.max(self.hidden_dim);
        gates
            .checked_mul(self.hidden_dim)
            .and_then(|g| g.checked_mul(self.input_dim.checked_add(self.hidden_dim)?))
            .and_then(|_| self.batch.checked_mul(self.time)?.checked_mul(wide))
            .and_then(|_| self.batch.checked_mul(self.hidden_dim)?.checked_mul(2))
            .map(|_| ())
            .ok_or(Error::ShapeOverflow)
    }

    /// The row of `(b, t)` in the input and output.
    #[inline(always)]
    pub(crate) fn row(&self, b: usize, t: usize) -> usize {
        if self.time_major {
            t * self.batch + b
        } else {
            b * self.time + t
        }
    }

    /// Checks the lengths of the input (`batch·time·input_dim`), output
    /// (`batch·time·hidden_dim`) and a state (`batch·hidden_dim`).
    pub(crate) fn check_io(&self, input: usize, output: usize, state: usize) -> Result<(), Error> {
        let steps = self.batch * self.time;
        len_check(input, steps * self.input_dim)?;
        len_check(output, steps * self.hidden_dim)?;
        len_check(state, self.batch * self.hidden_dim)
    }
}

/// The constant tensors of a float LSTM, gates in ONNX's and PyTorch's
/// order `i, f, g, o` (TFLite's `[input, forget, cell, output]`).
#[derive(Debug, Clone, Copy)]
pub struct LstmWeights<'a, T> {
    /// Input weights `[4·hidden, input]` (ONNX `W`, PyTorch `weight_ih`).
    pub input: &'a [T],
    /// Recurrent weights `[4·hidden, hidden]` (ONNX `R`, `weight_hh`).
    pub recurrent: &'a [T],
    /// Gate biases `[4·hidden]`, the sum of the input and recurrent biases
    /// (ONNX `Wb + Rb`, `bias_ih + bias_hh`); `None` for zero.
    pub bias: Option<&'a [T]>,
}

/// `Σ w·x` over two slices of equal length, in f32, in order.
#[inline(always)]
pub(crate) fn dot<T: Float>(w: &[T], x: &[T]) -> f32 {
    let mut acc = 0.0f32;
    for (&a, &b) in w.iter().zip(x) {
        acc += a.to_f32() * b.to_f32();
    }
    acc
}

fn lstm_float<T: Float>(
    input: &[T],
    w: &LstmWeights<'_, T>,
    hidden: &mut [T],
    cell: &mut [T],
    output: &mut [T],
    d: &RecurrentDims,
) -> Result<(), Error> {
    d.check(4)?;
    d.check_io(input.len(), output.len(), hidden.len())?;
    let (n_in, n_h) = (d.input_dim, d.hidden_dim);
    len_check(cell.len(), d.batch * n_h)?;
    len_check(w.input.len(), 4 * n_h * n_in)?;
    len_check(w.recurrent.len(), 4 * n_h * n_h)?;
    if let Some(b) = w.bias {
        len_check(b.len(), 4 * n_h)?;
    }
    for b in 0..d.batch {
        for t in 0..d.time {
            let row = d.row(b, t);
            let x = &input[row * n_in..(row + 1) * n_in];
            let h = &mut hidden[b * n_h..(b + 1) * n_h];
            let c = &mut cell[b * n_h..(b + 1) * n_h];
            let y = &mut output[row * n_h..(row + 1) * n_h];
            for j in 0..n_h {
                let mut pre = [0f32; 4];
                for (g, p) in pre.iter_mut().enumerate() {
                    let r = g * n_h + j;
                    let mut acc = w.bias.map_or(0.0, |bias| bias[r].to_f32());
                    acc += dot(&w.input[r * n_in..(r + 1) * n_in], x);
                    acc += dot(&w.recurrent[r * n_h..(r + 1) * n_h], h);
                    *p = acc;
                }
                let i = sigmoid_f32(pre[0]);
                let f = sigmoid_f32(pre[1]);
                let g = tanh_f32(pre[2]);
                let o = sigmoid_f32(pre[3]);
                let cj = T::from_f32(f * c[j].to_f32() + i * g);
                c[j] = cj;
                y[j] = T::from_f32(o * tanh_f32(cj.to_f32()));
            }
            h.copy_from_slice(y);
        }
    }
    Ok(())
}

/// f32 LSTM over `d.time` steps of every batch row, ONNX's `LSTM` (forward,
/// default activations, no peepholes or clip) and PyTorch's `nn.LSTM`:
///
/// ```text
/// i = σ(Wᵢx + Rᵢh + bᵢ)   f = σ(W_f x + R_f h + b_f)
/// g = tanh(W_g x + R_g h + b_g)   o = σ(Wₒx + Rₒh + bₒ)
/// c' = f⊙c + i⊙g   h' = o⊙tanh(c')
/// ```
///
/// `input` is `batch·time·input_dim` (`[batch, time, in]`, or
/// `[time, batch, in]` when `d.time_major`), `output` the hidden state
/// after every step in the same layout; `hidden` and `cell`
/// (`batch·hidden_dim` each) are the state, read and updated in place, so
/// calls of one step each give the outputs of one call over the whole
/// sequence. Each unit's step needs only the previous `h` and its own `c`:
/// the new `h` goes into the output row and is copied to the state after
/// the step (no scratch). Sigmoid and tanh are the crate's deterministic
/// ones: the same bits on every target.
///
/// Errors: `InvalidParameter` for a zero size, `ShapeOverflow`,
/// `LengthMismatch` for a slice of the wrong length; nothing is written
/// then.
pub fn lstm_f32(
    input: &[f32],
    w: &LstmWeights<'_, f32>,
    hidden: &mut [f32],
    cell: &mut [f32],
    output: &mut [f32],
    d: &RecurrentDims,
) -> Result<(), Error> {
    lstm_float(input, w, hidden, cell, output, d)
}

/// f16 LSTM: [`lstm_f32`]'s arithmetic in f32 on f16 storage (weights,
/// input, state and output), each stored value rounded once to f16.
pub fn lstm_f16(
    input: &[f16],
    w: &LstmWeights<'_, f16>,
    hidden: &mut [f16],
    cell: &mut [f16],
    output: &mut [f16],
    d: &RecurrentDims,
) -> Result<(), Error> {
    lstm_float(input, w, hidden, cell, output, d)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::{vec, vec::Vec};

    #[test]
    fn table_is_sigmoid_of_i_over_24_correctly_rounded() {
        for (i, &v) in SIGMOID_TABLE_U16.iter().enumerate() {
            let exact = 65536.0 / (1.0 + (-(i as f64) / 24.0).exp());
            assert_eq!(v as f64, exact.round().min(65535.0), "entry {i}");
        }
    }

    #[test]
    fn sigmoid_and_tanh_s16_track_the_functions() {
        for x in (-32768..=32767).step_by(7) {
            let xf = x as f64 / 4096.0; // Q3.12
            let s = sigmoid_s16(x as i16) as f64 / 32768.0;
            assert!(
                (s - 1.0 / (1.0 + (-xf).exp())).abs() < 2e-4,
                "sigmoid {x}: {s}"
            );
            let t = tanh_s16(x as i16, 0, 0) as f64 / 32768.0;
            assert!((t - xf.tanh()).abs() < 4e-4, "tanh {x}: {t}");
        }
        // Saturation ends and symmetry points.
        // The Q3.12 range ends at ±8: sigmoid(8)·2¹⁵ = 32757.0.
        assert_eq!(sigmoid_s16(i16::MAX), 32757);
        assert_eq!(sigmoid_s16(i16::MIN), 11);
        assert_eq!(sigmoid_s16(0), 16384);
        assert_eq!(tanh_s16(0, 0, 0), 0);
        // Cell scale 2⁻¹¹ (power −11): multiplier 6, shift 0.
        assert_eq!(tanh_params(-11), (0, 1));
        assert_eq!(tanh_params(-15), (3, 3));
        let t = tanh_s16(2048, 0, 1) as f64 / 32768.0; // 1.0 at scale 2⁻¹¹
        assert!((t - 1f64.tanh()).abs() < 4e-4, "{t}");
        let t = tanh_s16(16384, 3, 3) as f64 / 32768.0; // 0.5 at scale 2⁻¹⁵
        assert!((t - 0.5f64.tanh()).abs() < 4e-4, "{t}");
    }

    fn params(n_in: usize, n_s: usize, time: usize) -> LstmS8 {
        let q = |r: f64| {
            let (multiplier, shift) = crate::quant::quantize_multiplier(r);
            Requant { multiplier, shift }
        };
        // x scale 1/64, weights 1/64, h scale 1/128 zp 3, cell 2⁻¹¹.
        let fc_x = q((1.0 / 64.0) * (1.0 / 64.0) * 4096.0);
        let fc_h = q((1.0 / 128.0) * (1.0 / 64.0) * 4096.0);
        let c_scale = 1.0 / 2048.0;
        LstmS8 {
            batch: 1,
            time,
            input_dim: n_in,
            state_dim: n_s,
            time_major: false,
            input_zero_point: -2,
            hidden_zero_point: 3,
            input_fc: [fc_x; 4],
            recurrent_fc: [fc_h; 4],
            forget_mul: q(1.0 / 32768.0),
            input_mul: q(1.0 / 32768.0 / 32768.0 / c_scale),
            output_mul: q(1.0 / 32768.0 / 32768.0 * 128.0),
            cell_clip: None,
            cell_scale_power: -11,
            cell_gate_tanh: true,
        }
    }

    /// The float LSTM the integer one approximates.
    #[test]
    fn tracks_the_float_lstm() {
        let (n_in, n_s, time) = (3, 4, 5);
        let mut seed = 7u32;
        let mut rnd = |k: i32| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            ((seed >> 16) as i32 % (2 * k + 1) - k) as i8
        };
        let wi: Vec<Vec<i8>> = (0..4)
            .map(|_| (0..n_s * n_in).map(|_| rnd(60)).collect())
            .collect();
        let wr: Vec<Vec<i8>> = (0..4)
            .map(|_| (0..n_s * n_s).map(|_| rnd(60)).collect())
            .collect();
        let bias: Vec<Vec<i32>> = (0..4)
            .map(|_| (0..n_s).map(|_| rnd(100) as i32 * 8).collect())
            .collect();
        let x: Vec<i8> = (0..time * n_in).map(|_| rnd(64)).collect();
        let p = params(n_in, n_s, time);
        let w = LstmWeightsS8 {
            input: [&wi[0], &wi[1], &wi[2], &wi[3]],
            recurrent: [&wr[0], &wr[1], &wr[2], &wr[3]],
            bias: [&bias[0], &bias[1], &bias[2], &bias[3]],
        };
        let mut h = [3i8; 4]; // zero point: h = 0
        let mut c = [0i16; 4];
        let mut y = vec![0i8; time * n_s];
        lstm_s8(&x, &w, &mut h, &mut c, &mut y, &p).unwrap();
        // Float reference.
        let sig = |v: f64| 1.0 / (1.0 + (-v).exp());
        let (mut hf, mut cf) = (vec![0f64; n_s], vec![0f64; n_s]);
        for t in 0..time {
            let xf: Vec<f64> = (0..n_in)
                .map(|k| (x[t * n_in + k] as f64 + 2.0) / 64.0)
                .collect();
            let mut g = [[0f64; 4]; 4];
            for (gi, gate) in g.iter_mut().enumerate() {
                for j in 0..n_s {
                    let mut a = bias[gi][j] as f64 / 4096.0;
                    for k in 0..n_in {
                        a += wi[gi][j * n_in + k] as f64 / 64.0 * xf[k];
                    }
                    for k in 0..n_s {
                        a += wr[gi][j * n_s + k] as f64 / 64.0 * hf[k];
                    }
                    gate[j] = if gi == 2 { a.tanh() } else { sig(a) };
                }
            }
            for j in 0..n_s {
                cf[j] = g[1][j] * cf[j] + g[0][j] * g[2][j];
                hf[j] = g[3][j] * cf[j].tanh();
                let got = (y[t * n_s + j] as f64 - 3.0) / 128.0;
                assert!(
                    (got - hf[j]).abs() < 0.03,
                    "t {t} j {j}: {got} vs {}",
                    hf[j]
                );
            }
        }
        // The state is the last output row.
        assert_eq!(h[..], y[(time - 1) * n_s..]);
        // Running the steps one call at a time gives the same bytes.
        let mut p1 = p;
        p1.time = 1;
        let (mut h1, mut c1) = ([3i8; 4], [0i16; 4]);
        for t in 0..time {
            let mut y1 = [0i8; 4];
            lstm_s8(
                &x[t * n_in..(t + 1) * n_in],
                &w,
                &mut h1,
                &mut c1,
                &mut y1,
                &p1,
            )
            .unwrap();
            assert_eq!(y1[..], y[t * n_s..(t + 1) * n_s]);
        }
        assert_eq!((h1, c1), (h, c));
    }

    /// Batch rows are independent sequences, each with its own state row,
    /// in batch-major and time-major layouts alike; a clip bounds the cell.
    #[test]
    fn batches_and_time_major_match_single_sequences() {
        let (n_in, n_s, time, batch) = (3, 4, 4, 2);
        let mut seed = 11u32;
        let mut rnd = |k: i32| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            ((seed >> 16) as i32 % (2 * k + 1) - k) as i8
        };
        let wi: Vec<Vec<i8>> = (0..4)
            .map(|_| (0..n_s * n_in).map(|_| rnd(90)).collect())
            .collect();
        let wr: Vec<Vec<i8>> = (0..4)
            .map(|_| (0..n_s * n_s).map(|_| rnd(90)).collect())
            .collect();
        let bias: Vec<Vec<i32>> = (0..4)
            .map(|_| (0..n_s).map(|_| rnd(100) as i32 * 16).collect())
            .collect();
        let w = LstmWeightsS8 {
            input: [&wi[0], &wi[1], &wi[2], &wi[3]],
            recurrent: [&wr[0], &wr[1], &wr[2], &wr[3]],
            bias: [&bias[0], &bias[1], &bias[2], &bias[3]],
        };
        // x[b][t] rows.
        let x: Vec<i8> = (0..batch * time * n_in).map(|_| rnd(127)).collect();
        let mut p = params(n_in, n_s, time);
        p.cell_clip = Some(1500);
        let single: Vec<Vec<i8>> = (0..batch)
            .map(|b| {
                let (mut h, mut c, mut y) = ([3i8; 4], [0i16; 4], vec![0i8; time * n_s]);
                let xb = &x[b * time * n_in..(b + 1) * time * n_in];
                lstm_s8(xb, &w, &mut h, &mut c, &mut y, &p).unwrap();
                assert!(c.iter().all(|v| v.abs() <= 1500));
                y
            })
            .collect();
        p.batch = batch;
        let (mut h, mut c, mut y) = ([3i8; 8], [0i16; 8], vec![0i8; batch * time * n_s]);
        lstm_s8(&x, &w, &mut h, &mut c, &mut y, &p).unwrap();
        assert_eq!(y, single.concat());
        // Time-major: rows (t, b).
        p.time_major = true;
        let mut xt = Vec::new();
        for t in 0..time {
            for b in 0..batch {
                let at = (b * time + t) * n_in;
                xt.extend_from_slice(&x[at..at + n_in]);
            }
        }
        let (mut h, mut c, mut yt) = ([3i8; 8], [0i16; 8], vec![0i8; batch * time * n_s]);
        lstm_s8(&xt, &w, &mut h, &mut c, &mut yt, &p).unwrap();
        for t in 0..time {
            for (b, yb) in single.iter().enumerate() {
                let at = (t * batch + b) * n_s;
                assert_eq!(yt[at..at + n_s], yb[t * n_s..(t + 1) * n_s]);
            }
        }
    }

    /// The float LSTM against the equations in f64, batch rows and
    /// time-major layout, one step per call, and bad lengths.
    #[test]
    fn float_lstm_tracks_f64_and_streams() {
        let (n_in, n_h, time, batch) = (3, 5, 4, 2);
        let mut seed = 99u32;
        let mut rnd = || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            ((seed >> 8) & 0xFFFF) as f32 / 32768.0 - 1.0
        };
        let wi: Vec<f32> = (0..4 * n_h * n_in).map(|_| rnd()).collect();
        let wr: Vec<f32> = (0..4 * n_h * n_h).map(|_| rnd()).collect();
        let bias: Vec<f32> = (0..4 * n_h).map(|_| rnd()).collect();
        let x: Vec<f32> = (0..batch * time * n_in).map(|_| 2.0 * rnd()).collect();
        let w = LstmWeights {
            input: &wi,
            recurrent: &wr,
            bias: Some(&bias),
        };
        let d = RecurrentDims {
            batch,
            time,
            input_dim: n_in,
            hidden_dim: n_h,
            time_major: false,
        };
        let (mut h, mut c, mut y) = (
            vec![0f32; batch * n_h],
            vec![0f32; batch * n_h],
            vec![0f32; batch * time * n_h],
        );
        lstm_f32(&x, &w, &mut h, &mut c, &mut y, &d).unwrap();
        let sig = |v: f64| 1.0 / (1.0 + (-v).exp());
        for b in 0..batch {
            let (mut hf, mut cf) = (vec![0f64; n_h], vec![0f64; n_h]);
            for t in 0..time {
                let xt = &x[(b * time + t) * n_in..][..n_in];
                let pre = |g: usize, j: usize, hf: &[f64]| {
                    let r = g * n_h + j;
                    let mut a = bias[r] as f64;
                    for k in 0..n_in {
                        a += wi[r * n_in + k] as f64 * xt[k] as f64;
                    }
                    for k in 0..n_h {
                        a += wr[r * n_h + k] as f64 * hf[k];
                    }
                    a
                };
                let gates: Vec<[f64; 4]> = (0..n_h)
                    .map(|j| {
                        [
                            sig(pre(0, j, &hf)),
                            sig(pre(1, j, &hf)),
                            pre(2, j, &hf).tanh(),
                            sig(pre(3, j, &hf)),
                        ]
                    })
                    .collect();
                for j in 0..n_h {
                    let [i, f, g, o] = gates[j];
                    cf[j] = f * cf[j] + i * g;
                    hf[j] = o * cf[j].tanh();
                    let got = y[(b * time + t) * n_h + j] as f64;
                    assert!(
                        (got - hf[j]).abs() < 1e-5,
                        "b {b} t {t} j {j}: {got} vs {}",
                        hf[j]
                    );
                }
            }
        }
        // One step per call, time-major rows: the same bits.
        let d1 = RecurrentDims {
            time: 1,
            batch: 1,
            ..d
        };
        for b in 0..batch {
            let (mut h1, mut c1) = (vec![0f32; n_h], vec![0f32; n_h]);
            for t in 0..time {
                let mut y1 = vec![0f32; n_h];
                let row = b * time + t;
                lstm_f32(&x[row * n_in..][..n_in], &w, &mut h1, &mut c1, &mut y1, &d1).unwrap();
                assert_eq!(y1[..], y[row * n_h..][..n_h]);
            }
            assert_eq!(c1[..], c[b * n_h..][..n_h]);
        }
        let mut xt = Vec::new();
        for t in 0..time {
            for b in 0..batch {
                xt.extend_from_slice(&x[(b * time + t) * n_in..][..n_in]);
            }
        }
        let dt = RecurrentDims {
            time_major: true,
            ..d
        };
        let (mut h, mut c, mut yt) = (
            vec![0f32; batch * n_h],
            vec![0f32; batch * n_h],
            vec![0f32; batch * time * n_h],
        );
        lstm_f32(&xt, &w, &mut h, &mut c, &mut yt, &dt).unwrap();
        for t in 0..time {
            for b in 0..batch {
                assert_eq!(
                    yt[(t * batch + b) * n_h..][..n_h],
                    y[(b * time + t) * n_h..][..n_h]
                );
            }
        }
        // Bad lengths and sizes.
        assert!(lstm_f32(&x[1..], &w, &mut h, &mut c, &mut yt, &dt).is_err());
        assert!(lstm_f32(&xt, &w, &mut h[1..], &mut c, &mut yt, &dt).is_err());
        let short = LstmWeights {
            bias: Some(&bias[1..]),
            ..w
        };
        assert!(lstm_f32(&xt, &short, &mut h, &mut c, &mut yt, &dt).is_err());
        let zero = RecurrentDims { input_dim: 0, ..dt };
        assert!(lstm_f32(&[], &w, &mut h, &mut c, &mut yt, &zero).is_err());
        let huge = RecurrentDims {
            time: usize::MAX / 2,
            ..dt
        };
        assert!(lstm_f32(&xt, &w, &mut h, &mut c, &mut yt, &huge).is_err());
    }

    #[test]
    fn bad_lengths_and_parameters_are_errors() {
        let p = params(2, 2, 1);
        let z8 = [0i8; 4];
        let zb = [0i32; 2];
        let w = LstmWeightsS8 {
            input: [&z8; 4],
            recurrent: [&z8; 4],
            bias: [&zb; 4],
        };
        let (mut h, mut c, mut y) = ([0i8; 2], [0i16; 2], [0i8; 2]);
        assert!(lstm_s8(&[0; 2], &w, &mut h, &mut c, &mut y, &p).is_ok());
        assert!(lstm_s8(&[0; 3], &w, &mut h, &mut c, &mut y, &p).is_err());
        let mut bad = p;
        bad.cell_scale_power = 10;
        assert!(lstm_s8(&[0; 2], &w, &mut h, &mut c, &mut y, &bad).is_err());
        let mut bad = p;
        bad.input_fc[1].shift = 99;
        assert!(lstm_s8(&[0; 2], &w, &mut h, &mut c, &mut y, &bad).is_err());
    }
}
