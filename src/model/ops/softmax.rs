//! `Softmax` over the last axis.
//!
//! int8: the output has scale 1/256 and zero point −128 (TFLite's
//! requirement); option words `input_beta_multiplier,
//! input_beta_left_shift, diff_min` (see
//! [`SoftmaxS8`](crate::kernels::reference::SoftmaxS8)). float: one option
//! word, `beta` as f32 bits.

use super::*;
use crate::kernels::reference;

pub(crate) fn validate(model: &Model<'_>, op: &OpInfo<'_>) -> Result<(), Error> {
    arity(op, 1, 1)?;
    let x = req_input(model, op, 0)?;
    let out = output_info(model, op)?;
    ensure_shapes(op, x.shape == out.shape && x.shape.rank() >= 1)?;
    match out.dtype {
        DType::I8 => {
            act_quant(op, &x)?;
            ensure_dtypes(op, act_quant(op, &out)? == (1.0 / 256.0, -128))?;
            ensure_options(op, op.options.len() == 3)?;
            let shift = word(op, 1)?;
            ensure_options(
                op,
                (0..=31).contains(&shift) && word(op, 0)? >= 0 && word(op, 2)? <= 0,
            )
        }
        d if is_float(d) => {
            ensure_dtypes(op, x.dtype == d)?;
            ensure_options(op, op.options.len() == 1 && f32_word(op, 0)?.is_finite())
        }
        _ => Err(Error::BadOpDTypes { op: op.index }),
    }
}

/// Runs the int8 kernel.
pub fn eval_s8(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    let (io, mut out) = Io::split(model, op, arena)?;
    let (_, x) = io.input::<i8>(0)?;
    let p = reference::SoftmaxS8 {
        input_beta_multiplier: word(op, 0)?,
        input_beta_left_shift: word(op, 1)?,
        diff_min: word(op, 2)?,
    };
    reference::softmax_s8(x, &mut out.view()?, &p)
}

/// A float softmax kernel.
type FloatKernel<T> = fn(TensorView<T>, &mut TensorMut<T>, f32) -> Result<(), Error>;

fn eval_float<T: crate::kernels::Float>(
    model: &Model<'_>,
    op: &OpInfo<'_>,
    arena: &mut [u8],
    kernel: FloatKernel<T>,
) -> Result<(), Error> {
    let (io, mut out) = Io::split(model, op, arena)?;
    let (_, x) = io.input::<T>(0)?;
    kernel(x, &mut out.view()?, f32_word(op, 0)?)
}

/// Runs the f16 kernel.
pub fn eval_f16(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_float(model, op, arena, reference::softmax_f16)
}

/// Runs the f32 kernel.
pub fn eval_f32(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_float(model, op, arena, reference::softmax_f32)
}
