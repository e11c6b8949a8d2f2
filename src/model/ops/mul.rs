//! `Mul`: element-wise `a × b` with broadcasting (as [`add`]).
//!
//! Option words — int8: `output_multiplier, output_shift, act_min,
//! act_max` (real multiplier `s_a × s_b / s_out`); float: `act_min,
//! act_max` as f32 bits.

use super::add::{eval_float, validate_binary};
use super::*;
use crate::kernels::reference;

pub(crate) fn validate(model: &Model<'_>, op: &OpInfo<'_>) -> Result<(), Error> {
    validate_binary(model, op, 4)
}

/// Runs the int8 kernel.
pub fn eval_s8(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    let (io, mut out) = Io::split(model, op, arena)?;
    let (ai, a) = io.input::<i8>(0)?;
    let (bi, b) = io.input::<i8>(1)?;
    let p = reference::MulS8 {
        input1_offset: -ai.scale_zp().1,
        input2_offset: -bi.scale_zp().1,
        output_offset: out.info.scale_zp().1,
        output_multiplier: word(op, 0)?,
        output_shift: word(op, 1)?,
        act_min: word(op, 2)?,
        act_max: word(op, 3)?,
    };
    reference::mul_s8(a, b, &mut out.view()?, &p)
}

/// Runs the f16 kernel.
pub fn eval_f16(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_float(model, op, arena, reference::mul_f16)
}

/// Runs the f32 kernel.
pub fn eval_f32(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_float(model, op, arena, reference::mul_f32)
}
