//! `Reshape`: the same elements under a new shape (flatten, squeeze).
//!
//! Input `x`, output of the same element type, element count and
//! quantization. No option words. The planner normally places the output
//! over the input, making it free; otherwise the bytes are copied.

use super::*;

pub(crate) fn validate(model: &Model<'_>, op: &OpInfo<'_>) -> Result<(), Error> {
    arity(op, 1, 1)?;
    let x = req_input(model, op, 0)?;
    let out = output_info(model, op)?;
    ensure_shapes(op, x.shape.same_count(&out.shape))?;
    ensure_dtypes(op, x.dtype == out.dtype && x.quant == out.quant)?;
    ensure_options(op, op.options.is_empty())
}

/// Runs a reshape of any element type.
pub fn eval(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    if in_place_bytes(model, op, arena)?.is_some() {
        return Ok(());
    }
    let t = op.input(0).ok_or(Error::WrongArity { op: op.index })?;
    let (io, mut out) = Io::split(model, op, arena)?;
    match out.info.dtype {
        DType::I8 => out
            .view::<i8>()?
            .data_mut()
            .copy_from_slice(io.input::<i8>(0)?.1.data()),
        DType::F16 => out
            .view::<half::f16>()?
            .data_mut()
            .copy_from_slice(io.input::<half::f16>(0)?.1.data()),
        DType::F32 => out
            .view::<f32>()?
            .data_mut()
            .copy_from_slice(io.input::<f32>(0)?.1.data()),
        _ => return Err(Error::BadOpDTypes { op: op.index }),
    }
    let _ = t;
    Ok(())
}
