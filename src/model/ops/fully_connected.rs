//! `FullyConnected`: `y = x · Wᵀ + b`.
//!
//! Inputs: `input` (any shape whose element count is `batch × IN`),
//! `weights` `[OUT, IN]`, optional `bias` `[OUT]`. Output [batch, OUT].
//!
//! Option words — int8: `act_min, act_max, n, multiplier × n, shift × n`
//! (n = 1 or OUT); float: `act_min, act_max` as f32 bits.

use super::conv2d::{check_conv_dtypes, check_conv_options, clamp, requant};
use super::*;
use crate::kernels::{optimized, reference, FloatClamp};

pub(crate) fn validate(model: &Model<'_>, op: &OpInfo<'_>) -> Result<(), Error> {
    arity(op, 2, 3)?;
    let input = req_input(model, op, 0)?;
    let weights = req_input(model, op, 1)?;
    let bias = input_info(model, op, 2)?;
    let output = output_info(model, op)?;
    ensure_shapes(op, weights.shape.rank() == 2 && output.shape.rank() == 2)?;
    let (out_n, in_n) = (weights.shape.dim(0), weights.shape.dim(1));
    let batch = output.shape.dim(0);
    ensure_shapes(
        op,
        output.shape.dim(1) == out_n && batch.checked_mul(in_n) == Some(input.shape.num_elements()),
    )?;
    if let Some(b) = &bias {
        ensure_shapes(
            op,
            b.shape.num_elements() == out_n && b.arena_range().is_none(),
        )?;
    }
    check_conv_dtypes(op, &input, &weights, bias.as_ref(), &output, out_n, 0)?;
    check_conv_options(op, 0, out_n, output.dtype)
}

/// Runs the optimized int8 kernel (bit-identical to the reference).
pub fn eval_s8(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    let (io, mut out) = Io::split(model, op, arena)?;
    let (xi, x) = io.input::<i8>(0)?;
    let (_, w) = io.input::<i8>(1)?;
    let bias = io.opt_input::<i32>(2)?;
    let q = requant(op, 0, xi.scale_zp().1, out.info.scale_zp().1)?;
    optimized::fully_connected_s8(x, w, bias, &mut out.view()?, &q)
}

type FloatKernel<T> = fn(
    TensorView<T>,
    TensorView<T>,
    Option<&[T]>,
    &mut TensorMut<T>,
    FloatClamp,
) -> Result<(), Error>;

fn eval_float<T: crate::kernels::Float>(
    model: &Model<'_>,
    op: &OpInfo<'_>,
    arena: &mut [u8],
    kernel: FloatKernel<T>,
) -> Result<(), Error> {
    let (io, mut out) = Io::split(model, op, arena)?;
    let (_, x) = io.input::<T>(0)?;
    let (_, w) = io.input::<T>(1)?;
    let bias = io.opt_input::<T>(2)?;
    kernel(x, w, bias, &mut out.view()?, clamp(op, 0)?)
}

/// Runs the f16 kernel.
pub fn eval_f16(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_float(model, op, arena, reference::fully_connected_f16)
}

/// Runs the f32 kernel.
pub fn eval_f32(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_float(model, op, arena, reference::fully_connected_f32)
}
