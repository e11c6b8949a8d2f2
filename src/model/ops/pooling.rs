//! `MaxPool2d`, `AvgPool2d` and `GlobalAvgPool`.
//!
//! Max/average pooling — input `[N, H, W, C]`, output `[N, OH, OW, C]`; option
//! words `kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left,
//! act_min, act_max` (int8 clamp values, or f32 bits for float). An int8
//! pooling's input and output share scale and zero point (as in TFLite).
//!
//! Global average pooling — input `[N, H, W, C]`, output `[N, C]` or
//! `[N, 1, 1, C]`; int8 option words `multiplier, shift` (the real
//! multiplier `input_scale / (output_scale × H × W)`), float: none.

use super::conv2d::check_geometry;
use super::*;
use crate::kernels::{optimized, reference, FloatClamp, Window2d};

fn window(op: &OpInfo<'_>) -> Result<Window2d, Error> {
    let w = Window2d {
        kernel_h: size_word(op, 0)?,
        kernel_w: size_word(op, 1)?,
        stride_h: size_word(op, 2)?,
        stride_w: size_word(op, 3)?,
        dilation_h: 1,
        dilation_w: 1,
        pad_top: size_word(op, 4)?,
        pad_left: size_word(op, 5)?,
    };
    ensure_options(op, w.validate().is_ok())?;
    Ok(w)
}

pub(crate) fn validate_window(model: &Model<'_>, op: &OpInfo<'_>) -> Result<(), Error> {
    arity(op, 1, 1)?;
    let input = req_input(model, op, 0)?;
    let output = output_info(model, op)?;
    let (Some(i4), Some(o4)) = (input.shape.nhwc(), output.shape.nhwc()) else {
        return Err(Error::BadOpShapes { op: op.index });
    };
    ensure_shapes(op, i4[3] == o4[3])?;
    let w = window(op)?;
    check_geometry(op, &w, i4, o4)?;
    ensure_options(op, op.options.len() == 8)?;
    match output.dtype {
        DType::I8 => {
            ensure_dtypes(op, act_quant(op, &input)? == act_quant(op, &output)?)?;
            check_act_range(op, word(op, 6)?, word(op, 7)?)
        }
        d if is_float(d) => {
            ensure_dtypes(op, input.dtype == d)?;
            let c = super::conv2d::clamp(op, 6)?;
            ensure_options(op, c.min <= c.max)
        }
        _ => Err(Error::BadOpDTypes { op: op.index }),
    }
}

pub(crate) fn validate_global(model: &Model<'_>, op: &OpInfo<'_>) -> Result<(), Error> {
    arity(op, 1, 1)?;
    let input = req_input(model, op, 0)?;
    let output = output_info(model, op)?;
    let Some([n, _, _, c]) = input.shape.nhwc() else {
        return Err(Error::BadOpShapes { op: op.index });
    };
    let o = output.shape;
    let out_ok =
        (o.rank() == 2 && o.dims() == [n, c]) || (o.rank() == 4 && o.dims() == [n, 1, 1, c]);
    ensure_shapes(op, out_ok)?;
    match output.dtype {
        DType::I8 => {
            act_quant(op, &input)?;
            act_quant(op, &output)?;
            ensure_options(op, op.options.len() == 2)?;
            check_multipliers(op, 0, 1, 1)
        }
        d if is_float(d) => ensure_dtypes(op, input.dtype == d && op.options.is_empty()),
        _ => Err(Error::BadOpDTypes { op: op.index }),
    }
}

type PoolS8 = fn(TensorView<i8>, &mut TensorMut<i8>, &Window2d, i32, i32) -> Result<(), Error>;
type PoolFloat<T> =
    fn(TensorView<T>, &mut TensorMut<T>, &Window2d, FloatClamp) -> Result<(), Error>;

fn eval_window_s8(
    model: &Model<'_>,
    op: &OpInfo<'_>,
    arena: &mut [u8],
    kernel: PoolS8,
) -> Result<(), Error> {
    let (io, mut out) = Io::split(model, op, arena)?;
    let (_, x) = io.input::<i8>(0)?;
    kernel(
        x,
        &mut out.view()?,
        &window(op)?,
        word(op, 6)?,
        word(op, 7)?,
    )
}

fn eval_window_float<T: crate::kernels::Float>(
    model: &Model<'_>,
    op: &OpInfo<'_>,
    arena: &mut [u8],
    kernel: PoolFloat<T>,
) -> Result<(), Error> {
    let (io, mut out) = Io::split(model, op, arena)?;
    let (_, x) = io.input::<T>(0)?;
    kernel(
        x,
        &mut out.view()?,
        &window(op)?,
        super::conv2d::clamp(op, 6)?,
    )
}

/// Runs int8 max pooling.
pub fn eval_max_s8(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_window_s8(model, op, arena, optimized::max_pool2d_s8)
}
/// Runs f16 max pooling.
pub fn eval_max_f16(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_window_float(model, op, arena, reference::max_pool2d_f16)
}
/// Runs f32 max pooling.
pub fn eval_max_f32(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_window_float(model, op, arena, reference::max_pool2d_f32)
}
/// Runs int8 average pooling.
pub fn eval_avg_s8(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_window_s8(model, op, arena, optimized::avg_pool2d_s8)
}
/// Runs f16 average pooling.
pub fn eval_avg_f16(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_window_float(model, op, arena, reference::avg_pool2d_f16)
}
/// Runs f32 average pooling.
pub fn eval_avg_f32(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_window_float(model, op, arena, reference::avg_pool2d_f32)
}

/// Runs int8 global average pooling.
pub fn eval_global_s8(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    let (io, mut out) = Io::split(model, op, arena)?;
    let (xi, x) = io.input::<i8>(0)?;
    let p = reference::GlobalAvgPoolS8 {
        input_zero_point: xi.scale_zp().1,
        output_zero_point: out.info.scale_zp().1,
        multiplier: word(op, 0)?,
        shift: word(op, 1)?,
    };
    reference::global_avg_pool_s8(x, &mut out.view()?, &p)
}

fn eval_global_float<T: crate::kernels::Float>(
    model: &Model<'_>,
    op: &OpInfo<'_>,
    arena: &mut [u8],
    kernel: fn(TensorView<T>, &mut TensorMut<T>) -> Result<(), Error>,
) -> Result<(), Error> {
    let (io, mut out) = Io::split(model, op, arena)?;
    let (_, x) = io.input::<T>(0)?;
    kernel(x, &mut out.view()?)
}

/// Runs f16 global average pooling.
pub fn eval_global_f16(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_global_float(model, op, arena, reference::global_avg_pool_f16)
}
/// Runs f32 global average pooling.
pub fn eval_global_f32(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_global_float(model, op, arena, reference::global_avg_pool_f32)
}
