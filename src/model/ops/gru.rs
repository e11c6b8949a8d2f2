//! `Gru`: a float GRU over a sequence, ONNX's `GRU` operator (forward
//! direction, default activations, either `linear_before_reset`; kernel:
//! [`reference::gru`](crate::kernels::reference::gru), which states the
//! equations), its hidden state persistent across invokes. f32 or f16:
//! every tensor has the input's element type.
//!
//! Inputs (5 or 6), gates in ONNX's order `z, r, n`:
//!
//! | slot | tensor |
//! |------|--------|
//! | 0    | `x`, `[batch, time, in]` (`[time, batch, in]` when time-major) |
//! | 1    | input weights, constant, `[3·hidden, in]` (ONNX `W`) |
//! | 2    | recurrent weights, constant, `[3·hidden, hidden]` (ONNX `R`) |
//! | 3    | biases, constant, `[6·hidden]`: input biases then recurrent biases (ONNX `B`) |
//! | 4    | hidden state, **persistent**, `batch × hidden` elements |
//! | 5    | scratch, **persistent**, `hidden` elements: `r⊙h` of the step; present exactly when `linear_before_reset` is 0 |
//!
//! Output: `[batch, time, hidden]` (or time-major), the hidden state after
//! every step. The hidden state is read and updated in place and carries
//! over from one `invoke` to the next (see
//! [`Interpreter::reset_state`](crate::model::Interpreter::reset_state)),
//! so one time step per invoke gives the outputs of one invoke over the
//! whole sequence. The scratch tensor is persistent only so that nothing
//! else shares its bytes; its contents never carry over.
//!
//! Option words (2):
//!
//! ```text
//!  0  time_major           0 | 1
//!  1  linear_before_reset  0 | 1 (PyTorch exports 1)
//! ```

use super::lstm::{
    arena_range, cast, cast_mut, float_dims, out_tensor, slot, split_ranges, validate_float_common,
};
use super::*;
use crate::kernels::reference::gru::{gru_f16, gru_f32, GruWeights};
use crate::kernels::reference::lstm::RecurrentDims;
use crate::kernels::Float;
use half::f16;

/// The number of option words.
pub const OPTION_WORDS: usize = 2;

/// `linear_before_reset` from the options.
fn linear_before_reset(op: &OpInfo<'_>) -> Result<bool, Error> {
    ensure_options(op, op.options.len() == OPTION_WORDS)?;
    let v = word(op, 1)?;
    ensure_options(op, v == 0 || v == 1)?;
    Ok(v == 1)
}

pub(crate) fn validate(model: &Model<'_>, op: &OpInfo<'_>) -> Result<(), Error> {
    let lbr = linear_before_reset(op)?;
    if lbr {
        arity(op, 5, 5)?;
    } else {
        arity(op, 6, 6)?;
    }
    let d = float_dims(model, op, 3)?;
    validate_float_common(model, op, &d, 3, 6, &[4])?;
    if !lbr {
        let x = req_input(model, op, 0)?;
        let s = req_input(model, op, 5)?;
        ensure_dtypes(op, s.dtype == x.dtype && s.persistent)?;
        ensure_shapes(op, s.shape.num_elements() == d.hidden_dim)?;
    }
    Ok(())
}

type GruFn<T> = fn(
    &[T],
    &GruWeights<'_, T>,
    &mut [T],
    &mut [T],
    &mut [T],
    &RecurrentDims,
    bool,
) -> Result<(), Error>;

fn eval_float<T: Float + bytemuck::Pod>(
    model: &Model<'_>,
    op: &OpInfo<'_>,
    arena: &mut [u8],
    run: GruFn<T>,
) -> Result<(), Error> {
    let lbr = linear_before_reset(op)?;
    let d = float_dims(model, op, 3)?;
    let w = GruWeights {
        input: model.constant::<T>(slot(op, 1)?)?,
        recurrent: model.constant::<T>(slot(op, 2)?)?,
        bias: Some(model.constant::<T>(slot(op, 3)?)?),
    };
    let h_r = arena_range(model, op, slot(op, 4)?)?;
    let y_r = arena_range(model, op, out_tensor(op)?)?;
    // Without scratch (linear_before_reset), an empty range.
    let s_r = match op.input(5) {
        Some(t) if !lbr => arena_range(model, op, t)?,
        _ => y_r.start..y_r.start,
    };
    let x_t = slot(op, 0)?;
    match model.tensor(x_t)?.arena_range() {
        Some(x_r) => {
            let [x, h, s, y] = split_ranges(arena, [x_r, h_r, s_r, y_r], op)?;
            run(
                cast(x)?,
                &w,
                cast_mut(h)?,
                cast_mut(s)?,
                cast_mut(y)?,
                &d,
                lbr,
            )
        }
        None => {
            let x = model.constant::<T>(x_t)?;
            let [h, s, y] = split_ranges(arena, [h_r, s_r, y_r], op)?;
            run(x, &w, cast_mut(h)?, cast_mut(s)?, cast_mut(y)?, &d, lbr)
        }
    }
}

/// Runs the f32 GRU (reference kernel), updating the state in place.
pub fn eval_f32(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_float::<f32>(model, op, arena, gru_f32)
}

/// Runs the f16 GRU (reference kernel), updating the state in place.
pub fn eval_f16(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_float::<f16>(model, op, arena, gru_f16)
}
