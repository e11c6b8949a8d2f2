//! `Concatenation` along one axis.
//!
//! Inputs: one or more tensors of the output's rank, equal in every
//! dimension but `axis`, whose sizes along `axis` add up to the output's.
//! int8 inputs share the output's scale and zero point (TFLite's converter
//! guarantees it for int8 models; a model that needs a rescale uses a
//! `Quantize` op first). Option words: `axis`.

use super::*;
use crate::kernels::reference;
use crate::tensor::Element;

pub(crate) fn validate(model: &Model<'_>, op: &OpInfo<'_>) -> Result<(), Error> {
    if op.inputs.is_empty()
        || op.outputs.len() != 1
        || op.inputs.contains(&crate::model::format::ABSENT)
    {
        return Err(Error::WrongArity { op: op.index });
    }
    let out = output_info(model, op)?;
    ensure_options(op, op.options.len() == 1)?;
    let axis = size_word(op, 0)?;
    let r = out.shape.rank();
    ensure_options(op, axis < r)?;
    ensure_dtypes(op, matches!(out.dtype, DType::I8 | DType::F16 | DType::F32))?;
    let mut total = 0usize;
    for slot in 0..op.inputs.len() {
        let x = req_input(model, op, slot)?;
        ensure_dtypes(
            op,
            x.dtype == out.dtype && (out.dtype != DType::I8 || x.quant == out.quant),
        )?;
        ensure_shapes(op, x.shape.rank() == r)?;
        for k in (0..r).filter(|&k| k != axis) {
            ensure_shapes(op, x.shape.dim(k) == out.shape.dim(k))?;
        }
        total += x.shape.dim(axis);
    }
    ensure_shapes(op, total == out.shape.dim(axis))
}

fn eval_t<T: Element>(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    let axis = size_word(op, 0)?;
    let (io, mut out) = Io::split(model, op, arena)?;
    let mut y = out.view::<T>()?;
    let mut offset = 0;
    for slot in 0..op.inputs.len() {
        let (_, x) = io.input::<T>(slot)?;
        let n = x.shape().dim(axis);
        reference::concat_into(x, axis, offset, &mut y)?;
        offset += n;
    }
    Ok(())
}

/// Runs int8 concatenation.
pub fn eval_s8(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_t::<i8>(model, op, arena)
}
/// Runs f16 concatenation.
pub fn eval_f16(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_t::<half::f16>(model, op, arena)
}
/// Runs f32 concatenation.
pub fn eval_f32(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_t::<f32>(model, op, arena)
}
