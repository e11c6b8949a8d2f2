//! `Pad`: constant padding of a tensor of rank ≤ 4.
//!
//! Input `x`, output of the same rank, each dimension at least the
//! input's. Option words: `before_0, before_1, before_2, before_3` (the
//! padding before each dimension; unused trailing ones 0; the padding
//! after is implied by the output shape). The pad value is the output's
//! zero point for int8 (real 0, as TFLite's PAD) and 0.0 for float.

use super::*;
use crate::kernels::reference;
use crate::tensor::Element;

fn pads(op: &OpInfo<'_>) -> Result<[usize; 4], Error> {
    Ok([
        size_word(op, 0)?,
        size_word(op, 1)?,
        size_word(op, 2)?,
        size_word(op, 3)?,
    ])
}

pub(crate) fn validate(model: &Model<'_>, op: &OpInfo<'_>) -> Result<(), Error> {
    arity(op, 1, 1)?;
    let x = req_input(model, op, 0)?;
    let out = output_info(model, op)?;
    ensure_options(op, op.options.len() == 4)?;
    let before = pads(op)?;
    let r = x.shape.rank();
    ensure_shapes(op, out.shape.rank() == r)?;
    for (k, &b) in before.iter().enumerate() {
        if k >= r {
            ensure_options(op, b == 0)?;
        } else {
            let fits = x
                .shape
                .dim(k)
                .checked_add(b)
                .is_some_and(|n| n <= out.shape.dim(k));
            ensure_shapes(op, fits)?;
        }
    }
    match out.dtype {
        DType::I8 => ensure_dtypes(
            op,
            x.dtype == DType::I8 && act_quant(op, &x)? == act_quant(op, &out)?,
        ),
        d if is_float(d) => ensure_dtypes(op, x.dtype == d),
        _ => Err(Error::BadOpDTypes { op: op.index }),
    }
}

fn eval_t<T: Element>(
    model: &Model<'_>,
    op: &OpInfo<'_>,
    arena: &mut [u8],
    value: impl Fn(&TensorInfo<'_>) -> T,
) -> Result<(), Error> {
    let (io, mut out) = Io::split(model, op, arena)?;
    let (_, x) = io.input::<T>(0)?;
    let v = value(&out.info);
    reference::pad(x, &mut out.view()?, pads(op)?, v)
}

/// Runs int8 padding (with the zero point).
pub fn eval_s8(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_t::<i8>(model, op, arena, |o| o.scale_zp().1 as i8)
}
/// Runs f16 padding.
pub fn eval_f16(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_t(model, op, arena, |_| half::f16::ZERO)
}
/// Runs f32 padding.
pub fn eval_f32(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_t(model, op, arena, |_| 0.0f32)
}
