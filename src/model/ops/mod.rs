//! Operators: for each op code, a `validate` (run once by
//! [`Model::from_bytes`]) that checks element types, shapes and option
//! words, and `eval_*` entry points (one per kernel type) that only read
//! their tensors and dispatch to a kernel in [`crate::kernels`].
//!
//! Files are named after the op (`conv2d.rs` runs `OpCode::Conv2d`), as the
//! kernels are, so one search finds an op's file format, validation and
//! kernel. Each module documents its inputs, outputs and option words.

pub mod activation;
pub mod add;
pub mod concatenation;
pub mod conv2d;
pub mod depthwise_conv2d;
pub mod fully_connected;
pub mod gru;
pub mod lstm;
pub mod mul;
pub mod pad;
pub mod pooling;
pub mod quantize;
pub mod reshape;
pub mod softmax;
pub mod strided_slice;

use super::file::{Model, OpInfo, TensorInfo};
use super::opcode::OpCode;
use crate::tensor::{DType, Element, TensorMut, TensorView};
use crate::Error;
use core::ops::Range;

/// An op's validation: its element types, shapes and option words.
pub type ValidateFn = fn(&Model<'_>, &OpInfo<'_>) -> Result<(), Error>;

/// The validation of `code`. A `const fn`, so that a resolver built in a
/// `const` links only the validators of the ops it registers.
pub const fn validator(code: OpCode) -> ValidateFn {
    match code {
        OpCode::Conv2d => conv2d::validate,
        OpCode::DepthwiseConv2d => depthwise_conv2d::validate,
        OpCode::FullyConnected => fully_connected::validate,
        OpCode::MaxPool2d | OpCode::AvgPool2d => pooling::validate_window,
        OpCode::GlobalAvgPool => pooling::validate_global,
        OpCode::Add => add::validate,
        OpCode::Mul => mul::validate,
        OpCode::Relu | OpCode::Relu6 | OpCode::LeakyRelu | OpCode::Sigmoid | OpCode::Tanh => {
            activation::validate
        }
        OpCode::Softmax => softmax::validate,
        OpCode::Reshape => reshape::validate,
        OpCode::Concatenation => concatenation::validate,
        OpCode::Quantize | OpCode::Dequantize => quantize::validate,
        OpCode::Pad => pad::validate,
        OpCode::Lstm => lstm::validate,
        OpCode::StridedSlice => strided_slice::validate,
        OpCode::Gru => gru::validate,
    }
}

/// Runs the op-specific checks of `op` (every op's validation linked).
pub(crate) fn validate(model: &Model<'_>, op: &OpInfo<'_>) -> Result<(), Error> {
    validator(op.code)(model, op)
}

/// Checks the numbers of inputs (`min_in..=max_in`) and outputs (exactly 1).
pub(crate) fn arity(op: &OpInfo<'_>, min_in: usize, max_in: usize) -> Result<(), Error> {
    if op.inputs.len() < min_in || op.inputs.len() > max_in || op.outputs.len() != 1 {
        return Err(Error::WrongArity { op: op.index });
    }
    // Required inputs must be present.
    if op.inputs[..min_in].contains(&super::format::ABSENT) {
        return Err(Error::WrongArity { op: op.index });
    }
    Ok(())
}

/// The tensor in input slot `slot` (`None` if absent).
pub(crate) fn input_info<'m>(
    model: &Model<'m>,
    op: &OpInfo<'_>,
    slot: usize,
) -> Result<Option<TensorInfo<'m>>, Error> {
    match op.input(slot) {
        Some(t) => model.tensor(t).map(Some),
        None => Ok(None),
    }
}

/// The tensor in required input slot `slot`.
pub(crate) fn req_input<'m>(
    model: &Model<'m>,
    op: &OpInfo<'_>,
    slot: usize,
) -> Result<TensorInfo<'m>, Error> {
    input_info(model, op, slot)?.ok_or(Error::WrongArity { op: op.index })
}

/// The op's (single) output tensor.
pub(crate) fn output_info<'m>(model: &Model<'m>, op: &OpInfo<'_>) -> Result<TensorInfo<'m>, Error> {
    let t = *op
        .outputs
        .first()
        .ok_or(Error::WrongArity { op: op.index })?;
    model.tensor(t)
}

/// The option word at `i`.
pub(crate) fn word(op: &OpInfo<'_>, i: usize) -> Result<i32, Error> {
    op.options
        .get(i)
        .copied()
        .ok_or(Error::BadOpOptions { op: op.index })
}

/// The option word at `i` as a non-negative size.
pub(crate) fn size_word(op: &OpInfo<'_>, i: usize) -> Result<usize, Error> {
    usize::try_from(word(op, i)?).map_err(|_| Error::BadOpOptions { op: op.index })
}

/// The option word at `i` read as f32 bits.
pub(crate) fn f32_word(op: &OpInfo<'_>, i: usize) -> Result<f32, Error> {
    Ok(f32::from_bits(word(op, i)? as u32))
}

/// Fails with [`Error::BadOpDTypes`] unless `ok`.
pub(crate) fn ensure_dtypes(op: &OpInfo<'_>, ok: bool) -> Result<(), Error> {
    if ok {
        Ok(())
    } else {
        Err(Error::BadOpDTypes { op: op.index })
    }
}

/// Fails with [`Error::BadOpShapes`] unless `ok`.
pub(crate) fn ensure_shapes(op: &OpInfo<'_>, ok: bool) -> Result<(), Error> {
    if ok {
        Ok(())
    } else {
        Err(Error::BadOpShapes { op: op.index })
    }
}

/// Fails with [`Error::BadOpOptions`] unless `ok`.
pub(crate) fn ensure_options(op: &OpInfo<'_>, ok: bool) -> Result<(), Error> {
    if ok {
        Ok(())
    } else {
        Err(Error::BadOpOptions { op: op.index })
    }
}

/// True for the float element types.
pub(crate) fn is_float(d: DType) -> bool {
    matches!(d, DType::F32 | DType::F16)
}

/// The per-tensor quantization of an int8 activation tensor, or an error.
pub(crate) fn act_quant(op: &OpInfo<'_>, t: &TensorInfo<'_>) -> Result<(f32, i32), Error> {
    match (t.dtype, t.quant.per_tensor()) {
        (DType::I8, Some(q)) => Ok(q),
        _ => Err(Error::BadOpDTypes { op: op.index }),
    }
}

/// Checks an int8 multiplier list in the options: `n` multipliers then `n`
/// shifts starting at word `at`, with `n` 1 or `channels`.
pub(crate) fn check_multipliers(
    op: &OpInfo<'_>,
    at: usize,
    n: usize,
    channels: usize,
) -> Result<(), Error> {
    ensure_options(op, n == 1 || n == channels)?;
    ensure_options(op, op.options.len() == at + 2 * n)?;
    let shifts = &op.options[at + n..];
    ensure_options(
        op,
        shifts
            .iter()
            .all(|s| (crate::quant::MIN_SHIFT..=crate::quant::MAX_SHIFT).contains(s)),
    )
}

/// Checks an int8 clamp range pair of option words.
pub(crate) fn check_act_range(op: &OpInfo<'_>, min: i32, max: i32) -> Result<(), Error> {
    ensure_options(op, -128 <= min && min <= max && max <= 127)
}

/// The tensors of one op, with the arena split so the output can be
/// written while the inputs are read.
pub(crate) struct Io<'r, 'm> {
    pub model: &'r Model<'m>,
    pub op: &'r OpInfo<'m>,
    lo: &'r [u8],
    hi: &'r [u8],
    hole: Range<usize>,
}

/// The op's output, borrowed mutably from the arena.
pub(crate) struct Out<'r, 'm> {
    pub info: TensorInfo<'m>,
    bytes: &'r mut [u8],
}

impl<'r, 'm> Io<'r, 'm> {
    /// Splits `arena` around the op's output.
    pub fn split(
        model: &'r Model<'m>,
        op: &'r OpInfo<'m>,
        arena: &'r mut [u8],
    ) -> Result<(Self, Out<'r, 'm>), Error> {
        let info = output_info(model, op)?;
        let r = info
            .arena_range()
            .ok_or(Error::BadDataflow { op: op.index })?;
        if r.end > arena.len() {
            return Err(Error::ArenaOffsetOutOfBounds {
                tensor: op.outputs[0],
            });
        }
        let (lo, rest) = arena.split_at_mut(r.start);
        let (bytes, hi) = rest.split_at_mut(r.end - r.start);
        Ok((
            Io {
                model,
                op,
                lo,
                hi,
                hole: r,
            },
            Out { info, bytes },
        ))
    }

    /// The bytes of tensor `t`, from the constant pool or the arena.
    fn bytes_of<T: Element>(&self, t: u16) -> Result<(TensorInfo<'m>, &'r [T]), Error> {
        let info = self.model.tensor(t)?;
        if info.dtype != T::DTYPE {
            return Err(Error::DTypeMismatch);
        }
        let data = match info.arena_range() {
            None => self.model.constant::<T>(t)?,
            Some(r) => {
                let bytes = if r.end <= self.hole.start {
                    self.lo.get(r)
                } else if r.start >= self.hole.end {
                    self.hi.get(r.start - self.hole.end..r.end - self.hole.end)
                } else {
                    None
                };
                let bytes = bytes.ok_or(Error::OverlappingTensors {
                    a: t,
                    b: self.op.outputs[0],
                })?;
                bytemuck::try_cast_slice(bytes)
                    .map_err(|_| Error::MisalignedTensor { tensor: t })?
            }
        };
        Ok((info, data))
    }

    /// Input `slot` as a tensor view.
    pub fn input<T: Element>(
        &self,
        slot: usize,
    ) -> Result<(TensorInfo<'m>, TensorView<'r, T>), Error> {
        let t = self
            .op
            .input(slot)
            .ok_or(Error::WrongArity { op: self.op.index })?;
        let (info, data) = self.bytes_of::<T>(t)?;
        Ok((info, TensorView::new(info.shape, data)?))
    }

    /// Optional input `slot`'s elements (`None` when absent).
    pub fn opt_input<T: Element>(&self, slot: usize) -> Result<Option<&'r [T]>, Error> {
        match self.op.input(slot) {
            Some(t) => Ok(Some(self.bytes_of::<T>(t)?.1)),
            None => Ok(None),
        }
    }
}

impl<'r> Out<'r, '_> {
    /// The output as a mutable tensor view.
    pub fn view<T: Element>(&mut self) -> Result<TensorMut<'_, T>, Error> {
        if self.info.dtype != T::DTYPE {
            return Err(Error::DTypeMismatch);
        }
        let data =
            bytemuck::try_cast_slice_mut(&mut *self.bytes).map_err(|_| Error::MisalignedModel)?;
        TensorMut::new(self.info.shape, data)
    }
}

/// For an in-place capable op: the output's bytes when it lies exactly
/// over input 0 (the planner put it there), else `None`.
pub(crate) fn in_place_bytes<'r>(
    model: &Model<'_>,
    op: &OpInfo<'_>,
    arena: &'r mut [u8],
) -> Result<Option<&'r mut [u8]>, Error> {
    let out = output_info(model, op)?.arena_range();
    let inp = req_input(model, op, 0)?.arena_range();
    match (out, inp) {
        (Some(o), Some(i)) if o == i => Ok(Some(arena.get_mut(o).ok_or(
            Error::ArenaOffsetOutOfBounds {
                tensor: op.outputs[0],
            },
        )?)),
        _ => Ok(None),
    }
}

/// Multiply-accumulates (or, for pooling, window elements visited; for
/// element-wise ops, elements) one run of `op` performs.
pub fn macs(model: &Model<'_>, op: &OpInfo<'_>) -> u64 {
    let shape = |slot: Option<u16>| slot.and_then(|t| model.tensor(t).ok()).map(|t| t.shape);
    let (Some(out), Some(x)) = (shape(op.outputs.first().copied()), shape(op.input(0))) else {
        return 0;
    };
    let n = |s: crate::tensor::Shape| s.num_elements() as u64;
    match op.code {
        OpCode::Conv2d => {
            shape(op.input(1)).map_or(0, |f| n(out) * (f.dim(1) * f.dim(2) * f.dim(3)) as u64)
        }
        OpCode::DepthwiseConv2d => {
            shape(op.input(1)).map_or(0, |f| n(out) * (f.dim(1) * f.dim(2)) as u64)
        }
        OpCode::FullyConnected => shape(op.input(1)).map_or(0, |w| n(out) * w.dim(1) as u64),
        OpCode::MaxPool2d | OpCode::AvgPool2d => {
            let k = op
                .options
                .first()
                .zip(op.options.get(1))
                .map_or(0, |(a, b)| (*a as u64) * (*b as u64));
            n(out) * k
        }
        OpCode::GlobalAvgPool | OpCode::Add | OpCode::Mul | OpCode::Softmax => n(x).max(n(out)),
        // Four gates, each an input and a recurrent product per output.
        // Four gates (three for the GRU), each an input and a recurrent
        // product per output (int8 weights per gate `[H, in]`, float
        // stacked `[gates·H, in]`: `in` either way).
        OpCode::Lstm => {
            shape(op.input(1)).map_or(0, |w| 4 * n(out) * (w.dim(1) + out.dim(2)) as u64)
        }
        OpCode::Gru => {
            shape(op.input(1)).map_or(0, |w| 3 * n(out) * (w.dim(1) + out.dim(2)) as u64)
        }
        _ => 0,
    }
}
