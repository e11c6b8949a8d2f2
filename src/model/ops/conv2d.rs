//! `Conv2d`: 2-D convolution.
//!
//! Inputs: `input` `[N, H, W, C]`, `filter` `[OC, KH, KW, C]` (OHWI), optional
//! `bias` `[OC]`. Output `[N, OH, OW, OC]`.
//!
//! Option words:
//! - common: `stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left`
//! - int8: then `act_min, act_max, n, multiplier × n, shift × n`
//!   (n = 1 per-tensor, n = OC per-channel); input, filter and output are
//!   int8, bias int32, filter zero point 0.
//! - f32/f16: then `act_min, act_max` as f32 bits; every tensor of the
//!   same float type.

use super::*;
use crate::kernels::{optimized, reference, FloatClamp, RequantS8, Window2d};

/// Words before the activation range.
pub(crate) const WINDOW_WORDS: usize = 6;

/// The window of a conv-like op whose kernel is `kh × kw`.
pub(crate) fn window(op: &OpInfo<'_>, kh: usize, kw: usize) -> Result<Window2d, Error> {
    let w = Window2d {
        kernel_h: kh,
        kernel_w: kw,
        stride_h: size_word(op, 0)?,
        stride_w: size_word(op, 1)?,
        dilation_h: size_word(op, 2)?,
        dilation_w: size_word(op, 3)?,
        pad_top: size_word(op, 4)?,
        pad_left: size_word(op, 5)?,
    };
    ensure_options(op, w.validate().is_ok())?;
    Ok(w)
}

/// Checks that an `[N, H, W, C]` input, window and `[N, OH, OW, _]`
/// output agree: padding smaller than the window, every window starting
/// inside the padded input, and the output no larger than the padded
/// input allows.
pub(crate) fn check_geometry(
    op: &OpInfo<'_>,
    w: &Window2d,
    input: [usize; 4],
    output: [usize; 4],
) -> Result<(), Error> {
    let eff_h = (w.kernel_h - 1)
        .saturating_mul(w.dilation_h)
        .saturating_add(1);
    let eff_w = (w.kernel_w - 1)
        .saturating_mul(w.dilation_w)
        .saturating_add(1);
    ensure_options(op, w.pad_top < eff_h && w.pad_left < eff_w)?;
    let [n, h, wd, _] = input;
    let [on, oh, ow, _] = output;
    ensure_shapes(op, n == on)?;
    // The last window must start inside the input (after top/left padding).
    let last_h = (oh - 1).checked_mul(w.stride_h);
    let last_w = (ow - 1).checked_mul(w.stride_w);
    ensure_shapes(
        op,
        matches!((last_h, last_w), (Some(a), Some(b)) if a < h + w.pad_top && b < wd + w.pad_left),
    )
}

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
    let oc = f4[0];
    ensure_shapes(op, f4[3] == i4[3] && o4[3] == oc)?;
    if let Some(b) = &bias {
        ensure_shapes(
            op,
            b.shape.num_elements() == oc && b.arena_range().is_none(),
        )?;
    }
    let w = window(op, f4[1], f4[2])?;
    check_geometry(op, &w, i4, o4)?;
    check_conv_dtypes(op, &input, &filter, bias.as_ref(), &output, oc, 0)?;
    check_conv_options(op, WINDOW_WORDS, oc, output.dtype)
}

/// Element types of a conv-like op: int8 with an int32 bias and symmetric
/// (per-tensor or per-channel along `filter_axis`) filter, or all one float type.
pub(crate) fn check_conv_dtypes(
    op: &OpInfo<'_>,
    input: &TensorInfo<'_>,
    filter: &TensorInfo<'_>,
    bias: Option<&TensorInfo<'_>>,
    output: &TensorInfo<'_>,
    channels: usize,
    filter_axis: usize,
) -> Result<(), Error> {
    use crate::tensor::QuantParams;
    match output.dtype {
        DType::I8 => {
            act_quant(op, input)?;
            act_quant(op, output)?;
            let filter_ok = filter.dtype == DType::I8
                && match filter.quant {
                    QuantParams::PerTensor { zero_point, .. } => zero_point == 0,
                    QuantParams::PerChannel { axis, scales } => {
                        axis == filter_axis && scales.len() == channels
                    }
                    QuantParams::None => false,
                };
            ensure_dtypes(op, filter_ok && bias.is_none_or(|b| b.dtype == DType::I32))
        }
        d if is_float(d) => ensure_dtypes(
            op,
            input.dtype == d && filter.dtype == d && bias.is_none_or(|b| b.dtype == d),
        ),
        _ => Err(Error::BadOpDTypes { op: op.index }),
    }
}

/// Option words after `at`: the int8 activation range and multipliers, or
/// the float clamp.
pub(crate) fn check_conv_options(
    op: &OpInfo<'_>,
    at: usize,
    channels: usize,
    dtype: DType,
) -> Result<(), Error> {
    if dtype == DType::I8 {
        check_act_range(op, word(op, at)?, word(op, at + 1)?)?;
        let n = size_word(op, at + 2)?;
        check_multipliers(op, at + 3, n, channels)
    } else {
        let (lo, hi) = (f32_word(op, at)?, f32_word(op, at + 1)?);
        ensure_options(
            op,
            op.options.len() == at + 2 && !lo.is_nan() && !hi.is_nan() && lo <= hi,
        )
    }
}

/// The int8 requantization from option words at `at` (validated).
pub(crate) fn requant<'o>(
    op: &OpInfo<'o>,
    at: usize,
    input_zp: i32,
    output_zp: i32,
) -> Result<RequantS8<'o>, Error> {
    let n = size_word(op, at + 2)?;
    let words = op.options;
    let mults = words
        .get(at + 3..at + 3 + n)
        .ok_or(Error::BadOpOptions { op: op.index })?;
    let shifts = words
        .get(at + 3 + n..at + 3 + 2 * n)
        .ok_or(Error::BadOpOptions { op: op.index })?;
    Ok(RequantS8 {
        input_zero_point: input_zp,
        output_zero_point: output_zp,
        multipliers: mults,
        shifts,
        act_min: word(op, at)?,
        act_max: word(op, at + 1)?,
    })
}

/// The float clamp from option words at `at`.
pub(crate) fn clamp(op: &OpInfo<'_>, at: usize) -> Result<FloatClamp, Error> {
    Ok(FloatClamp {
        min: f32_word(op, at)?,
        max: f32_word(op, at + 1)?,
    })
}

/// Runs the optimized int8 kernel (bit-identical to the reference).
pub fn eval_s8(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    let (io, mut out) = Io::split(model, op, arena)?;
    let (xi, x) = io.input::<i8>(0)?;
    let (_, f) = io.input::<i8>(1)?;
    let bias = io.opt_input::<i32>(2)?;
    let w = window(op, f.shape().dim(1), f.shape().dim(2))?;
    let q = requant(op, WINDOW_WORDS, xi.scale_zp().1, out.info.scale_zp().1)?;
    optimized::conv2d_s8(x, f, bias, &mut out.view()?, &w, &q)
}

/// A float convolution kernel.
type FloatKernel<T> = fn(
    TensorView<T>,
    TensorView<T>,
    Option<&[T]>,
    &mut TensorMut<T>,
    &Window2d,
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
    kernel(x, f, bias, &mut out.view()?, &w, clamp(op, WINDOW_WORDS)?)
}

/// Runs the f16 kernel.
pub fn eval_f16(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_float(model, op, arena, reference::conv2d_f16)
}

/// Runs the f32 kernel.
pub fn eval_f32(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_float(model, op, arena, reference::conv2d_f32)
}
