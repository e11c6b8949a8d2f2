//! `Lstm`: an LSTM over a sequence, its hidden and cell state persistent
//! across invokes. The input's element type picks one of two layouts.
//!
//! ## int8
//!
//! TFLite's `UNIDIRECTIONAL_SEQUENCE_LSTM` as TensorFlow Lite Micro
//! computes it (kernel: [`reference::lstm`](crate::kernels::reference::lstm), which
//! documents each step's arithmetic).
//!
//! Inputs (15), gates in TFLite's order `[input, forget, cell, output]`:
//!
//! | slot  | tensor | |
//! |-------|--------|-|
//! | 0     | `x`, int8 per-tensor, `[batch, time, in]` (`[time, batch, in]` when time-major) | |
//! | 1–4   | input weights, constant int8 per-tensor (zero point 0), `[state, in]` | |
//! | 5–8   | recurrent weights, constant int8 per-tensor (zero point 0), `[state, state]` | |
//! | 9–12  | gate biases, constant int32, `[state]` (added to the input product) | |
//! | 13    | hidden state, int8 per-tensor, **persistent**, `batch × state` elements | |
//! | 14    | cell state, int16 per-tensor (zero point 0), **persistent**, `batch × state` elements | |
//!
//! Output: int8 `[batch, time, state]` (or time-major), the hidden state
//! after every step. The two state tensors are read and updated in place
//! (they carry over from one `invoke` to the next; see
//! [`Interpreter::reset_state`](crate::model::Interpreter::reset_state)),
//! so a model with one time step per invoke gives, call after call, the
//! bytes of one invoke over the whole sequence.
//!
//! Option words (26), all computed on the host as TFLite Micro's `Prepare`
//! computes them:
//!
//! ```text
//!  0  time_major        0 | 1
//!  1  cell_gate_act     0 tanh, 1 sigmoid
//!  2  cell_clip         −1 none, else the quantized clip 0..=32767
//!  3  cell_scale_power  p with cell scale 2^p (in CELL_POWER_RANGE)
//!  4  input FC (multiplier, shift) × 4 gates, to Q3.12
//! 12  recurrent FC (multiplier, shift) × 4 gates, to Q3.12
//! 20  forget × cell     (multiplier, shift)
//! 22  input × cell gate (multiplier, shift)
//! 24  tanh(c) × output  (multiplier, shift)
//! ```
//!
//! ## f32 and f16
//!
//! ONNX's `LSTM` (forward, default activations, no peepholes or clip) and
//! PyTorch's `nn.LSTM` (kernel:
//! [`lstm_f32`] / [`lstm_f16`]). Every tensor has
//! the input's element type. Inputs (6), gates in the order `i, f, g, o`
//! (the int8 layout's order):
//!
//! | slot | tensor |
//! |------|--------|
//! | 0    | `x`, `[batch, time, in]` (`[time, batch, in]` when time-major) |
//! | 1    | input weights, constant, `[4·hidden, in]` (ONNX `W`) |
//! | 2    | recurrent weights, constant, `[4·hidden, hidden]` (ONNX `R`) |
//! | 3    | gate biases, constant, `[4·hidden]`: input plus recurrent bias (ONNX `Wb + Rb`) |
//! | 4    | hidden state, **persistent**, `batch × hidden` elements |
//! | 5    | cell state, **persistent**, `batch × hidden` elements |
//!
//! Output: `[batch, time, hidden]` (or time-major), the hidden state after
//! every step; the state carries over between invokes as in int8. One
//! option word: `0  time_major  0 | 1`.

use super::*;
use crate::kernels::optimized;
use crate::kernels::reference::lstm::{
    lstm_f16, lstm_f32, LstmS8, LstmWeights, LstmWeightsS8, RecurrentDims, Requant,
};
use crate::kernels::Float;
use half::f16;

/// The number of option words of the int8 LSTM.
pub const OPTION_WORDS: usize = 26;

/// The number of option words of the float LSTM.
pub const FLOAT_OPTION_WORDS: usize = 1;

/// Option word 0 (time-major, 0 or 1) and the batch and time sizes of the
/// rank-3 input `x` (weights `w` of rank 2), shared by the int8 and float
/// layouts.
fn sequence(
    op: &OpInfo<'_>,
    x: &TensorInfo<'_>,
    w: &TensorInfo<'_>,
) -> Result<(i32, usize, usize), Error> {
    ensure_shapes(op, x.shape.rank() == 3 && w.shape.rank() == 2)?;
    let time_major = word(op, 0)?;
    ensure_options(op, time_major == 0 || time_major == 1)?;
    Ok(if time_major == 1 {
        (time_major, x.shape.dim(1), x.shape.dim(0))
    } else {
        (time_major, x.shape.dim(0), x.shape.dim(1))
    })
}

fn params(model: &Model<'_>, op: &OpInfo<'_>) -> Result<LstmS8, Error> {
    ensure_options(op, op.options.len() == OPTION_WORDS)?;
    let x = req_input(model, op, 0)?;
    let w = req_input(model, op, 1)?;
    let (_, x_zp) = act_quant(op, &x)?;
    let hidden = req_input(model, op, 13)?;
    let (_, h_zp) = act_quant(op, &hidden)?;
    let (time_major, batch, time) = sequence(op, &x, &w)?;
    let act = word(op, 1)?;
    ensure_options(op, act == 0 || act == 1)?;
    let clip = word(op, 2)?;
    ensure_options(op, (-1..=32767).contains(&clip))?;
    let rq = |i: usize| -> Result<Requant, Error> {
        Ok(Requant {
            multiplier: word(op, i)?,
            shift: word(op, i + 1)?,
        })
    };
    let gates = |at: usize| -> Result<[Requant; 4], Error> {
        Ok([rq(at)?, rq(at + 2)?, rq(at + 4)?, rq(at + 6)?])
    };
    let p = LstmS8 {
        batch,
        time,
        input_dim: x.shape.dim(2),
        state_dim: w.shape.dim(0),
        time_major: time_major == 1,
        input_zero_point: x_zp,
        hidden_zero_point: h_zp,
        input_fc: gates(4)?,
        recurrent_fc: gates(12)?,
        forget_mul: rq(20)?,
        input_mul: rq(22)?,
        output_mul: rq(24)?,
        cell_clip: (clip >= 0).then_some(clip as i16),
        cell_scale_power: word(op, 3)?,
        cell_gate_tanh: act == 0,
    };
    p.check()
        .map_err(|_| Error::BadOpOptions { op: op.index })?;
    Ok(p)
}

pub(crate) fn validate(model: &Model<'_>, op: &OpInfo<'_>) -> Result<(), Error> {
    if is_float(req_input(model, op, 0)?.dtype) {
        validate_float(model, op)
    } else {
        validate_s8(model, op)
    }
}

/// The sizes of a float recurrent op with `gates` gate blocks: `x` in
/// slot 0, input weights `[gates·hidden, in]` in slot 1, `time_major` in
/// option word 0.
pub(crate) fn float_dims(
    model: &Model<'_>,
    op: &OpInfo<'_>,
    gates: usize,
) -> Result<RecurrentDims, Error> {
    let x = req_input(model, op, 0)?;
    let w = req_input(model, op, 1)?;
    let (time_major, batch, time) = sequence(op, &x, &w)?;
    let rows = w.shape.dim(0);
    ensure_shapes(op, rows % gates == 0)?;
    let d = RecurrentDims {
        batch,
        time,
        input_dim: x.shape.dim(2),
        hidden_dim: rows / gates,
        time_major: time_major == 1,
    };
    d.check(gates)
        .map_err(|_| Error::BadOpShapes { op: op.index })?;
    Ok(d)
}

/// Checks a float recurrent op's common tensors: `x` float, slots 1 and 2
/// constant weights `[gates·H, in]` and `[gates·H, H]`, slot 3 a constant
/// bias of `bias_rows` elements, the `states` slots persistent with
/// `batch·H` elements, all of `x`'s type; the output `[d0, d1, H]`.
pub(crate) fn validate_float_common(
    model: &Model<'_>,
    op: &OpInfo<'_>,
    d: &RecurrentDims,
    gates: usize,
    bias_rows: usize,
    states: &[usize],
) -> Result<(), Error> {
    let x = req_input(model, op, 0)?;
    let dt = x.dtype;
    ensure_dtypes(op, is_float(dt))?;
    let (n_in, n_h) = (d.input_dim, d.hidden_dim);
    for (slot, dims) in [(1, [gates * n_h, n_in]), (2, [gates * n_h, n_h])] {
        let w = req_input(model, op, slot)?;
        ensure_dtypes(op, w.dtype == dt && w.arena_range().is_none())?;
        ensure_shapes(op, w.shape.dims() == dims)?;
    }
    let b = req_input(model, op, 3)?;
    ensure_dtypes(op, b.dtype == dt && b.arena_range().is_none())?;
    ensure_shapes(op, b.shape.num_elements() == bias_rows * n_h)?;
    for &slot in states {
        let s = req_input(model, op, slot)?;
        ensure_dtypes(op, s.dtype == dt && s.persistent)?;
        ensure_shapes(op, s.shape.num_elements() == d.batch * n_h)?;
    }
    let out = output_info(model, op)?;
    ensure_dtypes(op, out.dtype == dt)?;
    ensure_shapes(
        op,
        out.shape.rank() == 3
            && out.shape.dim(0) == x.shape.dim(0)
            && out.shape.dim(1) == x.shape.dim(1)
            && out.shape.dim(2) == n_h,
    )
}

fn validate_float(model: &Model<'_>, op: &OpInfo<'_>) -> Result<(), Error> {
    arity(op, 6, 6)?;
    ensure_options(op, op.options.len() == FLOAT_OPTION_WORDS)?;
    let d = float_dims(model, op, 4)?;
    validate_float_common(model, op, &d, 4, 4, &[4, 5])
}

fn validate_s8(model: &Model<'_>, op: &OpInfo<'_>) -> Result<(), Error> {
    arity(op, 15, 15)?;
    let p = params(model, op)?;
    let (n_in, n_s) = (p.input_dim, p.state_dim);
    for slot in 1..=8 {
        let w = req_input(model, op, slot)?;
        let cols = if slot <= 4 { n_in } else { n_s };
        ensure_dtypes(
            op,
            w.dtype == DType::I8
                && w.arena_range().is_none()
                && matches!(w.quant.per_tensor(), Some((_, 0))),
        )?;
        ensure_shapes(op, w.shape.rank() == 2 && w.shape.dims() == [n_s, cols])?;
    }
    for slot in 9..=12 {
        let b = req_input(model, op, slot)?;
        ensure_dtypes(op, b.dtype == DType::I32 && b.arena_range().is_none())?;
        ensure_shapes(op, b.shape.num_elements() == n_s)?;
    }
    let hidden = req_input(model, op, 13)?;
    let cell = req_input(model, op, 14)?;
    ensure_dtypes(
        op,
        hidden.persistent
            && cell.persistent
            && cell.dtype == DType::I16
            && matches!(cell.quant.per_tensor(), Some((_, 0))),
    )?;
    ensure_shapes(
        op,
        hidden.shape.num_elements() == p.batch * n_s && cell.shape.num_elements() == p.batch * n_s,
    )?;
    let x = req_input(model, op, 0)?;
    let out = output_info(model, op)?;
    act_quant(op, &out)?;
    ensure_shapes(
        op,
        out.shape.rank() == 3
            && out.shape.dim(0) == x.shape.dim(0)
            && out.shape.dim(1) == x.shape.dim(1)
            && out.shape.dim(2) == n_s,
    )
}

/// Splits `arena` into the mutable byte ranges `r` (pairwise disjoint, in
/// bounds), returned in the order given.
pub(crate) fn split_ranges<'a, const N: usize>(
    mut arena: &'a mut [u8],
    r: [Range<usize>; N],
    op: &OpInfo<'_>,
) -> Result<[&'a mut [u8]; N], Error> {
    let mut order: [usize; N] = core::array::from_fn(|i| i);
    order.sort_unstable_by_key(|&i| r[i].start);
    let mut out: [Option<&'a mut [u8]>; N] = core::array::from_fn(|_| None);
    let mut at = 0;
    for &i in &order {
        let (s, e) = (r[i].start, r[i].end);
        if s < at || e < s || e - at > arena.len() {
            return Err(Error::BadDataflow { op: op.index });
        }
        let (_, rest) = core::mem::take(&mut arena).split_at_mut(s - at);
        let (mine, rest) = rest.split_at_mut(e - s);
        out[i] = Some(mine);
        arena = rest;
        at = e;
    }
    Ok(out.map(Option::unwrap_or_default))
}

pub(crate) fn cast<T: bytemuck::Pod>(b: &[u8]) -> Result<&[T], Error> {
    bytemuck::try_cast_slice(b).map_err(|_| Error::MisalignedModel)
}

pub(crate) fn cast_mut<T: bytemuck::Pod>(b: &mut [u8]) -> Result<&mut [T], Error> {
    bytemuck::try_cast_slice_mut(b).map_err(|_| Error::MisalignedModel)
}

/// Runs the int8 LSTM (optimized kernel, bit-identical to the reference),
/// updating the state in place.
pub fn eval_s8(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    let p = params(model, op)?;
    let t = |slot: usize| op.input(slot).ok_or(Error::WrongArity { op: op.index });
    let w8 = |slot: usize| -> Result<&[i8], Error> { model.constant::<i8>(t(slot)?) };
    let b32 = |slot: usize| -> Result<&[i32], Error> { model.constant::<i32>(t(slot)?) };
    let w = LstmWeightsS8 {
        input: [w8(1)?, w8(2)?, w8(3)?, w8(4)?],
        recurrent: [w8(5)?, w8(6)?, w8(7)?, w8(8)?],
        bias: [b32(9)?, b32(10)?, b32(11)?, b32(12)?],
    };
    let range = |tensor: u16| {
        model
            .tensor(tensor)?
            .arena_range()
            .ok_or(Error::BadDataflow { op: op.index })
    };
    let out_t = *op
        .outputs
        .first()
        .ok_or(Error::WrongArity { op: op.index })?;
    let x_info = model.tensor(t(0)?)?;
    let (h_r, c_r, y_r) = (range(t(13)?)?, range(t(14)?)?, range(out_t)?);
    match x_info.arena_range() {
        Some(x_r) => {
            let [x, h, c, y] = split_ranges(arena, [x_r, h_r, c_r, y_r], op)?;
            optimized::lstm_s8(cast(x)?, &w, cast_mut(h)?, cast_mut(c)?, cast_mut(y)?, &p)
        }
        None => {
            let x = model.constant::<i8>(t(0)?)?;
            let [h, c, y] = split_ranges(arena, [h_r, c_r, y_r], op)?;
            optimized::lstm_s8(x, &w, cast_mut(h)?, cast_mut(c)?, cast_mut(y)?, &p)
        }
    }
}

/// The arena range of tensor `tensor` (an arena tensor of `op`).
pub(crate) fn arena_range(
    model: &Model<'_>,
    op: &OpInfo<'_>,
    tensor: u16,
) -> Result<Range<usize>, Error> {
    model
        .tensor(tensor)?
        .arena_range()
        .ok_or(Error::BadDataflow { op: op.index })
}

/// The tensor in slot `slot` of `op`.
pub(crate) fn slot(op: &OpInfo<'_>, slot: usize) -> Result<u16, Error> {
    op.input(slot).ok_or(Error::WrongArity { op: op.index })
}

/// The op's output tensor.
pub(crate) fn out_tensor(op: &OpInfo<'_>) -> Result<u16, Error> {
    op.outputs
        .first()
        .copied()
        .ok_or(Error::WrongArity { op: op.index })
}

type LstmFn<T> = fn(
    &[T],
    &LstmWeights<'_, T>,
    &mut [T],
    &mut [T],
    &mut [T],
    &RecurrentDims,
) -> Result<(), Error>;

fn eval_float<T: Float + bytemuck::Pod>(
    model: &Model<'_>,
    op: &OpInfo<'_>,
    arena: &mut [u8],
    run: LstmFn<T>,
) -> Result<(), Error> {
    let d = float_dims(model, op, 4)?;
    let w = LstmWeights {
        input: model.constant::<T>(slot(op, 1)?)?,
        recurrent: model.constant::<T>(slot(op, 2)?)?,
        bias: Some(model.constant::<T>(slot(op, 3)?)?),
    };
    let h_r = arena_range(model, op, slot(op, 4)?)?;
    let c_r = arena_range(model, op, slot(op, 5)?)?;
    let y_r = arena_range(model, op, out_tensor(op)?)?;
    let x_t = slot(op, 0)?;
    match model.tensor(x_t)?.arena_range() {
        Some(x_r) => {
            let [x, h, c, y] = split_ranges(arena, [x_r, h_r, c_r, y_r], op)?;
            run(cast(x)?, &w, cast_mut(h)?, cast_mut(c)?, cast_mut(y)?, &d)
        }
        None => {
            let x = model.constant::<T>(x_t)?;
            let [h, c, y] = split_ranges(arena, [h_r, c_r, y_r], op)?;
            run(x, &w, cast_mut(h)?, cast_mut(c)?, cast_mut(y)?, &d)
        }
    }
}

/// Runs the f32 LSTM (reference kernel), updating the state in place.
pub fn eval_f32(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_float::<f32>(model, op, arena, lstm_f32)
}

/// Runs the f16 LSTM (reference kernel), updating the state in place.
pub fn eval_f16(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_float::<f16>(model, op, arena, lstm_f16)
}
