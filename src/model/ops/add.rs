//! `Add`: element-wise `a + b` with broadcasting (each dimension equal or 1;
//! shapes aligned at the last dimension).
//!
//! Option words — int8 (TFLite's ADD arithmetic): `left_shift,
//! input1_multiplier, input1_shift, input2_multiplier, input2_shift,
//! output_multiplier, output_shift, act_min, act_max`; float: `act_min,
//! act_max` as f32 bits.

use super::*;
use crate::kernels::{reference, FloatClamp};

/// Checks that `a` and `b` broadcast to `out` exactly.
pub(crate) fn check_broadcast(
    op: &OpInfo<'_>,
    a: &crate::tensor::Shape,
    b: &crate::tensor::Shape,
    out: &crate::tensor::Shape,
) -> Result<(), Error> {
    let r = out.rank();
    ensure_shapes(op, a.rank() <= r && b.rank() <= r)?;
    for k in 0..r {
        let dim = |s: &crate::tensor::Shape| {
            let off = r - s.rank();
            if k < off {
                1
            } else {
                s.dim(k - off)
            }
        };
        let (da, db, d) = (dim(a), dim(b), out.dim(k));
        ensure_shapes(
            op,
            (da == d || da == 1) && (db == d || db == 1) && d == da.max(db),
        )?;
    }
    Ok(())
}

/// Element types and options shared by `Add` and `Mul`: `s8_words` option
/// words for int8 ending with the clamp range, or the float clamp.
pub(crate) fn validate_binary(
    model: &Model<'_>,
    op: &OpInfo<'_>,
    s8_words: usize,
) -> Result<(), Error> {
    arity(op, 2, 2)?;
    let a = req_input(model, op, 0)?;
    let b = req_input(model, op, 1)?;
    let out = output_info(model, op)?;
    check_broadcast(op, &a.shape, &b.shape, &out.shape)?;
    match out.dtype {
        DType::I8 => {
            act_quant(op, &a)?;
            act_quant(op, &b)?;
            act_quant(op, &out)?;
            ensure_options(op, op.options.len() == s8_words)?;
            check_act_range(op, word(op, s8_words - 2)?, word(op, s8_words - 1)?)?;
            // Every (multiplier, shift) pair before the clamp has a valid shift.
            let shifts_ok = op.options[..s8_words - 2]
                .iter()
                .enumerate()
                .filter(|(i, _)| (s8_words - 2 - i) % 2 == 1)
                .all(|(_, s)| (crate::quant::MIN_SHIFT..=crate::quant::MAX_SHIFT).contains(s));
            ensure_options(op, shifts_ok)
        }
        d if is_float(d) => {
            ensure_dtypes(op, a.dtype == d && b.dtype == d)?;
            let c = super::conv2d::clamp(op, 0)?;
            ensure_options(op, op.options.len() == 2 && c.min <= c.max)
        }
        _ => Err(Error::BadOpDTypes { op: op.index }),
    }
}

pub(crate) fn validate(model: &Model<'_>, op: &OpInfo<'_>) -> Result<(), Error> {
    validate_binary(model, op, 9)?;
    if output_info(model, op)?.dtype == DType::I8 {
        ensure_options(op, (0..=20).contains(&word(op, 0)?))?;
    }
    Ok(())
}

/// Runs the int8 kernel.
pub fn eval_s8(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    let (io, mut out) = Io::split(model, op, arena)?;
    let (ai, a) = io.input::<i8>(0)?;
    let (bi, b) = io.input::<i8>(1)?;
    let p = reference::AddS8 {
        input1_offset: -ai.scale_zp().1,
        input2_offset: -bi.scale_zp().1,
        output_offset: out.info.scale_zp().1,
        left_shift: word(op, 0)?,
        input1_multiplier: word(op, 1)?,
        input1_shift: word(op, 2)?,
        input2_multiplier: word(op, 3)?,
        input2_shift: word(op, 4)?,
        output_multiplier: word(op, 5)?,
        output_shift: word(op, 6)?,
        act_min: word(op, 7)?,
        act_max: word(op, 8)?,
    };
    reference::add_s8(a, b, &mut out.view()?, &p)
}

/// A float binary kernel.
pub(crate) type BinaryFloat<T> =
    fn(TensorView<T>, TensorView<T>, &mut TensorMut<T>, FloatClamp) -> Result<(), Error>;

/// Runs a float binary kernel.
pub(crate) fn eval_float<T: crate::kernels::Float>(
    model: &Model<'_>,
    op: &OpInfo<'_>,
    arena: &mut [u8],
    kernel: BinaryFloat<T>,
) -> Result<(), Error> {
    let (io, mut out) = Io::split(model, op, arena)?;
    let (_, a) = io.input::<T>(0)?;
    let (_, b) = io.input::<T>(1)?;
    kernel(a, b, &mut out.view()?, super::conv2d::clamp(op, 0)?)
}

/// Runs the f16 kernel.
pub fn eval_f16(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_float(model, op, arena, reference::add_f16)
}

/// Runs the f32 kernel.
pub fn eval_f32(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_float(model, op, arena, reference::add_f32)
}
