//! `Quantize` and `Dequantize`.
//!
//! `Quantize`: f32/f16 → int8 with the output's scale and zero point (no
//! option words), or int8 → int8 with new parameters (option words
//! `multiplier, shift` for `input_scale / output_scale`).
//! `Dequantize`: int8 → f32/f16 with the input's parameters (no option
//! words). Input and output have the same element count.

use super::*;
use crate::kernels::reference;
use crate::model::OpCode;

pub(crate) fn validate(model: &Model<'_>, op: &OpInfo<'_>) -> Result<(), Error> {
    arity(op, 1, 1)?;
    let x = req_input(model, op, 0)?;
    let out = output_info(model, op)?;
    ensure_shapes(op, x.shape.same_count(&out.shape))?;
    match (op.code, x.dtype, out.dtype) {
        (OpCode::Quantize, d, DType::I8) if is_float(d) => {
            act_quant(op, &out)?;
            ensure_options(op, op.options.is_empty())
        }
        (OpCode::Quantize, DType::I8, DType::I8) => {
            act_quant(op, &x)?;
            act_quant(op, &out)?;
            ensure_options(op, op.options.len() == 2)?;
            check_multipliers(op, 0, 1, 1)
        }
        (OpCode::Dequantize, DType::I8, d) if is_float(d) => {
            act_quant(op, &x)?;
            ensure_options(op, op.options.is_empty())
        }
        _ => Err(Error::BadOpDTypes { op: op.index }),
    }
}

type Convert<A, B> = fn(&[A], &mut [B], f32, i32) -> Result<(), Error>;

fn eval_quantize<T: crate::kernels::Float>(
    model: &Model<'_>,
    op: &OpInfo<'_>,
    arena: &mut [u8],
    kernel: Convert<T, i8>,
) -> Result<(), Error> {
    let (io, mut out) = Io::split(model, op, arena)?;
    let (_, x) = io.input::<T>(0)?;
    let (scale, zp) = out.info.scale_zp();
    kernel(x.data(), out.view::<i8>()?.data_mut(), scale, zp)
}

fn eval_dequantize<T: crate::kernels::Float>(
    model: &Model<'_>,
    op: &OpInfo<'_>,
    arena: &mut [u8],
    kernel: Convert<i8, T>,
) -> Result<(), Error> {
    let (io, mut out) = Io::split(model, op, arena)?;
    let (xi, x) = io.input::<i8>(0)?;
    let (scale, zp) = xi.scale_zp();
    kernel(x.data(), out.view::<T>()?.data_mut(), scale, zp)
}

/// Runs f32 → int8.
pub fn eval_quantize_f32(
    model: &Model<'_>,
    op: &OpInfo<'_>,
    arena: &mut [u8],
) -> Result<(), Error> {
    eval_quantize(model, op, arena, reference::quantize_f32_s8)
}
/// Runs f16 → int8.
pub fn eval_quantize_f16(
    model: &Model<'_>,
    op: &OpInfo<'_>,
    arena: &mut [u8],
) -> Result<(), Error> {
    eval_quantize(model, op, arena, reference::quantize_f16_s8)
}
/// Runs int8 → f32.
pub fn eval_dequantize_f32(
    model: &Model<'_>,
    op: &OpInfo<'_>,
    arena: &mut [u8],
) -> Result<(), Error> {
    eval_dequantize(model, op, arena, reference::dequantize_s8_f32)
}
/// Runs int8 → f16.
pub fn eval_dequantize_f16(
    model: &Model<'_>,
    op: &OpInfo<'_>,
    arena: &mut [u8],
) -> Result<(), Error> {
    eval_dequantize(model, op, arena, reference::dequantize_s8_f16)
}

/// Runs int8 → int8 requantization.
pub fn eval_requantize_s8(
    model: &Model<'_>,
    op: &OpInfo<'_>,
    arena: &mut [u8],
) -> Result<(), Error> {
    let (io, mut out) = Io::split(model, op, arena)?;
    let (xi, x) = io.input::<i8>(0)?;
    let p = reference::RequantizeS8 {
        input_zero_point: xi.scale_zp().1,
        output_zero_point: out.info.scale_zp().1,
        multiplier: word(op, 0)?,
        shift: word(op, 1)?,
    };
    reference::requantize_s8(x.data(), out.view::<i8>()?.data_mut(), &p)
}
