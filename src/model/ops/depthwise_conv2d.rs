//! `DepthwiseConv2d`: depthwise 2-D convolution with a channel multiplier.
//!
//! Inputs: `input` `[N, H, W, C]`, `filter` `[1, KH, KW, C × M]`, optional
//! `bias` `[C × M]`. Output `[N, OH, OW, C × M]`; output channel `c × M + m`
//! reads input channel `c`.
//!
//! Option words: `stride_h, stride_w, dilation_h, dilation_w, pad_top,
//! pad_left, depth_multiplier`, then as [`conv2d`] (int8:
//! `act_min, act_max, n, multipliers, shifts` with n = 1 or C × M; float:
//! `act_min, act_max` as f32 bits).

use super::conv2d::{
    check_conv_dtypes, check_conv_options, check_geometry, clamp, requant, window,
};
use super::*;
use crate::kernels::{optimized, reference, FloatClamp, Window2d};

const AT: usize = super::conv2d::WINDOW_WORDS + 1;

pub(crate) fn validate(model: &Model<'_>, op: &OpInfo<'_>) -> Result<(), Error> {
    arity(op, 2, 3)?;
    let input = req_input(model, op, 0)?;
    let filter = req_input(model, op, 1)?;
    let bias = input_info(model, op, 2)?;
    let output = output_info(model, op)?;
    let (Some(i4), Some(f4), Some(o4)) =
        (input.shape.nhwc(), filter.shape.nhwc(), output.shape.nhwc())
    else {
        return Err(Error::BadOpShapes { op: op.index });
    };
    let m = size_word(op, AT - 1)?;
    let oc = f4[3];
    ensure_options(op, m >= 1)?;
    ensure_shapes(
        op,
        f4[0] == 1 && i4[3].checked_mul(m) == Some(oc) && o4[3] == oc,
    )?;
    if let Some(b) = &bias {
        ensure_shapes(
            op,
            b.shape.num_elements() == oc && b.arena_range().is_none(),
        )?;
    }
    let w = window(op, f4[1], f4[2])?;
    check_geometry(op, &w, i4, o4)?;
    check_conv_dtypes(op, &input, &filter, bias.as_ref(), &output, oc, 3)?;
    check_conv_options(op, AT, oc, output.dtype)
}

/// Runs the optimized int8 kernel (bit-identical to the reference).
pub fn eval_s8(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    let (io, mut out) = Io::split(model, op, arena)?;
    let (xi, x) = io.input::<i8>(0)?;
    let (_, f) = io.input::<i8>(1)?;
    let bias = io.opt_input::<i32>(2)?;
    let w = window(op, f.shape().dim(1), f.shape().dim(2))?;
    let m = size_word(op, AT - 1)?;
    let q = requant(op, AT, xi.scale_zp().1, out.info.scale_zp().1)?;
    optimized::depthwise_conv2d_s8(x, f, bias, &mut out.view()?, &w, m, &q)
}

type FloatKernel<T> = fn(
    TensorView<T>,
    TensorView<T>,
    Option<&[T]>,
    &mut TensorMut<T>,
    &Window2d,
    usize,
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
    let (_, f) = io.input::<T>(1)?;
    let bias = io.opt_input::<T>(2)?;
    let w = window(op, f.shape().dim(1), f.shape().dim(2))?;
    kernel(
        x,
        f,
        bias,
        &mut out.view()?,
        &w,
        size_word(op, AT - 1)?,
        clamp(op, AT)?,
    )
}

/// Runs the f16 kernel.
pub fn eval_f16(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_float(model, op, arena, reference::depthwise_conv2d_f16)
}

/// Runs the f32 kernel.
pub fn eval_f32(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_float(model, op, arena, reference::depthwise_conv2d_f32)
}
