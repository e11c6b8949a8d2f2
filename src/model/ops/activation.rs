//! Element-wise activations: `Relu`, `Relu6`, `LeakyRelu`, `Sigmoid`, `Tanh`.
//!
//! int8: inputs `x` and `table`, a constant int8 tensor of 256 entries
//! holding the output for every input value (`table[x + 128]`), computed by
//! the exporter or importer with the exact integer arithmetic the op needs
//! (TFLite's, for imported models). The device kernel is one table lookup
//! per element, whatever the function. No option words.
//!
//! float: input `x` only; `LeakyRelu` has one option word, `alpha` as f32
//! bits; the others none.
//!
//! Output: the shape (or at least the element count) of `x`. All of these
//! may run in place, over their input.

use super::*;
use crate::kernels::{reference, Float};

pub(crate) fn validate(model: &Model<'_>, op: &OpInfo<'_>) -> Result<(), Error> {
    let x = req_input(model, op, 0)?;
    let out = output_info(model, op)?;
    ensure_shapes(op, x.shape.same_count(&out.shape))?;
    match out.dtype {
        DType::I8 => {
            arity(op, 2, 2)?;
            act_quant(op, &x)?;
            act_quant(op, &out)?;
            let table = req_input(model, op, 1)?;
            ensure_dtypes(
                op,
                table.dtype == DType::I8 && table.arena_range().is_none(),
            )?;
            ensure_shapes(op, table.shape.num_elements() == 256)?;
            ensure_options(op, op.options.is_empty())
        }
        d if is_float(d) => {
            arity(op, 1, 1)?;
            ensure_dtypes(op, x.dtype == d)?;
            if op.code == crate::model::OpCode::LeakyRelu {
                ensure_options(op, op.options.len() == 1 && f32_word(op, 0)?.is_finite())
            } else {
                ensure_options(op, op.options.is_empty())
            }
        }
        _ => Err(Error::BadOpDTypes { op: op.index }),
    }
}

/// Runs any int8 activation: a 256-entry table lookup, in place when the
/// planner put the output over the input.
pub fn eval_lut_s8(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    let table_t = op.input(1).ok_or(Error::WrongArity { op: op.index })?;
    let table: &[i8; 256] = model
        .constant::<i8>(table_t)?
        .try_into()
        .map_err(|_| Error::BadOpShapes { op: op.index })?;
    if let Some(bytes) = in_place_bytes(model, op, arena)? {
        reference::lut_s8_inplace(bytemuck::cast_slice_mut(bytes), table);
        return Ok(());
    }
    let (io, mut out) = Io::split(model, op, arena)?;
    let (_, x) = io.input::<i8>(0)?;
    reference::lut_s8(x.data(), out.view::<i8>()?.data_mut(), table)
}

/// An out-of-place float activation kernel and its in-place twin.
type Unary<T> = (fn(&[T], &mut [T]) -> Result<(), Error>, fn(&mut [T]));

/// Runs a float activation, in place when the planner put the output over
/// the input.
fn eval_unary<T: Float>(
    model: &Model<'_>,
    op: &OpInfo<'_>,
    arena: &mut [u8],
    (f, f_inplace): Unary<T>,
) -> Result<(), Error> {
    if let Some(bytes) = in_place_bytes(model, op, arena)? {
        f_inplace(bytemuck::try_cast_slice_mut(bytes).map_err(|_| Error::MisalignedModel)?);
        return Ok(());
    }
    let (io, mut out) = Io::split(model, op, arena)?;
    let (_, x) = io.input::<T>(0)?;
    f(x.data(), out.view::<T>()?.data_mut())
}

macro_rules! float_evals {
    ($($name:ident: $t:ty => $f:ident, $fi:ident;)*) => {$(
        #[doc = concat!("Runs `", stringify!($f), "`.")]
        pub fn $name(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
            eval_unary::<$t>(model, op, arena, (reference::$f, reference::$fi))
        }
    )*};
}

float_evals! {
    eval_relu_f32: f32 => relu_f32, relu_f32_inplace;
    eval_relu_f16: half::f16 => relu_f16, relu_f16_inplace;
    eval_relu6_f32: f32 => relu6_f32, relu6_f32_inplace;
    eval_relu6_f16: half::f16 => relu6_f16, relu6_f16_inplace;
    eval_sigmoid_f32: f32 => sigmoid_f32, sigmoid_f32_inplace;
    eval_sigmoid_f16: half::f16 => sigmoid_f16, sigmoid_f16_inplace;
    eval_tanh_f32: f32 => tanh_f32, tanh_f32_inplace;
    eval_tanh_f16: half::f16 => tanh_f16, tanh_f16_inplace;
}

/// Runs f32 leaky ReLU.
pub fn eval_leaky_relu_f32(
    model: &Model<'_>,
    op: &OpInfo<'_>,
    arena: &mut [u8],
) -> Result<(), Error> {
    let alpha = f32_word(op, 0)?;
    if let Some(bytes) = in_place_bytes(model, op, arena)? {
        reference::leaky_relu_f32_inplace(
            bytemuck::try_cast_slice_mut(bytes).map_err(|_| Error::MisalignedModel)?,
            alpha,
        );
        return Ok(());
    }
    let (io, mut out) = Io::split(model, op, arena)?;
    let (_, x) = io.input::<f32>(0)?;
    reference::leaky_relu_f32(x.data(), out.view::<f32>()?.data_mut(), alpha)
}

/// Runs f16 leaky ReLU.
pub fn eval_leaky_relu_f16(
    model: &Model<'_>,
    op: &OpInfo<'_>,
    arena: &mut [u8],
) -> Result<(), Error> {
    let alpha = f32_word(op, 0)?;
    if let Some(bytes) = in_place_bytes(model, op, arena)? {
        reference::leaky_relu_f16_inplace(
            bytemuck::try_cast_slice_mut(bytes).map_err(|_| Error::MisalignedModel)?,
            alpha,
        );
        return Ok(());
    }
    let (io, mut out) = Io::split(model, op, arena)?;
    let (_, x) = io.input::<half::f16>(0)?;
    reference::leaky_relu_f16(x.data(), out.view::<half::f16>()?.data_mut(), alpha)
}
