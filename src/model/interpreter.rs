//! [`Interpreter`]: runs a validated [`Model`] in a caller-owned arena.
//!
//! Lifetimes: the interpreter borrows the model (which borrows its bytes,
//! typically in flash), the resolver and the arena for as long as it lives.
//! It allocates nothing and frees nothing; dropping it releases the
//! borrows. All activations, scratch buffers and inputs/outputs live in the
//! arena at the offsets the exporter planned, so the arena size is exact and
//! known before the program runs ([`Model::arena_size`], or
//! [`arena_size`](super::arena_size) in a `const`).

use super::file::{Model, TensorInfo};
use super::format::ARENA_ALIGN;
use super::resolver::{EvalFn, OpResolver};
use crate::tensor::Element;
use crate::Error;

/// Runs a model. See the [module docs](crate::model).
pub struct Interpreter<'m, 'a> {
    model: Model<'m>,
    resolver: &'a OpResolver,
    arena: &'a mut [u8],
}

impl core::fmt::Debug for Interpreter<'_, '_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Interpreter")
            .field("ops", &self.model.num_ops())
            .field("arena", &self.arena.len())
            .finish()
    }
}

impl<'m, 'a> Interpreter<'m, 'a> {
    /// An interpreter for `model` using the kernels of `resolver` and the
    /// memory of `arena`.
    ///
    /// Errors with [`Error::ArenaTooSmall`] when `arena` (after skipping to
    /// a 4-byte boundary) is shorter than the model's plan, and with
    /// [`Error::OpNotRegistered`] naming the first operator whose kernel
    /// `resolver` lacks.
    pub fn new(
        model: &Model<'m>,
        resolver: &'a OpResolver,
        arena: &'a mut [u8],
    ) -> Result<Self, Error> {
        let skip = (ARENA_ALIGN - arena.as_ptr() as usize % ARENA_ALIGN) % ARENA_ALIGN;
        let needed = model.arena_size() + skip;
        if arena.len() < needed {
            return Err(Error::ArenaTooSmall {
                needed,
                got: arena.len(),
            });
        }
        for i in 0..model.num_ops() {
            Self::kernel(model, resolver, i)?;
        }
        let arena = &mut arena[skip..needed];
        let mut interp = Interpreter {
            model: *model,
            resolver,
            arena,
        };
        interp.reset_state()?;
        Ok(interp)
    }

    /// Resets every persistent tensor (the state of recurrent ops such as
    /// [`OpCode::Lstm`](super::OpCode::Lstm)) to real zero: an int8
    /// tensor to its zero point, any other to 0 bytes, as TensorFlow Lite
    /// Micro resets its variable tensors. [`new`](Self::new) calls it;
    /// call it again to start a new sequence. State otherwise carries over
    /// from one [`invoke`](Self::invoke) to the next.
    pub fn reset_state(&mut self) -> Result<(), Error> {
        for t in 0..self.model.num_tensors() as u16 {
            let info = self.model.tensor(t)?;
            if !info.persistent {
                continue;
            }
            let r = info.arena_range().ok_or(Error::BadModelIo)?;
            let value = match (info.dtype, info.quant.per_tensor()) {
                (crate::tensor::DType::I8, Some((_, zp))) => zp as i8 as u8,
                _ => 0,
            };
            self.arena
                .get_mut(r)
                .ok_or(Error::ArenaOffsetOutOfBounds { tensor: t })?
                .fill(value);
        }
        Ok(())
    }

    fn kernel(model: &Model<'_>, resolver: &OpResolver, i: usize) -> Result<EvalFn, Error> {
        let op = model.op(i)?;
        let kt = model
            .kernel_type(&op)
            .ok_or(Error::BadOpDTypes { op: op.index })?;
        resolver
            .get(op.code, kt)
            .ok_or(Error::OpNotRegistered { op: op.index })
    }

    /// The model being run.
    pub fn model(&self) -> &Model<'m> {
        &self.model
    }

    /// The arena bytes in use (the model's planned size).
    pub fn arena_used(&self) -> usize {
        self.arena.len()
    }

    /// Runs every operator once, in order, on the current inputs.
    pub fn invoke(&mut self) -> Result<(), Error> {
        for i in 0..self.model.num_ops() {
            let eval = Self::kernel(&self.model, self.resolver, i)?;
            let op = self.model.op(i)?;
            eval(&self.model, &op, self.arena)?;
        }
        Ok(())
    }

    /// Table entry of model input `i`.
    pub fn input_info(&self, i: usize) -> Result<TensorInfo<'m>, Error> {
        let t = *self
            .model
            .inputs()
            .get(i)
            .ok_or(Error::NoSuchIo { index: i })?;
        self.model.tensor(t)
    }

    /// Table entry of model output `i`.
    pub fn output_info(&self, i: usize) -> Result<TensorInfo<'m>, Error> {
        let t = *self
            .model
            .outputs()
            .get(i)
            .ok_or(Error::NoSuchIo { index: i })?;
        self.model.tensor(t)
    }

    /// Model input `i`'s elements, to fill before [`invoke`](Self::invoke).
    /// Errors with [`Error::DTypeMismatch`] when `T` is not its type.
    pub fn input_mut<T: Element>(&mut self, i: usize) -> Result<&mut [T], Error> {
        let info = self.input_info(i)?;
        self.io_slice_mut(&info)
    }

    /// Model output `i`'s elements, valid after [`invoke`](Self::invoke).
    pub fn output<T: Element>(&self, i: usize) -> Result<&[T], Error> {
        let info = self.output_info(i)?;
        if info.dtype != T::DTYPE {
            return Err(Error::DTypeMismatch);
        }
        let r = info.arena_range().ok_or(Error::BadModelIo)?;
        let bytes = self.arena.get(r).ok_or(Error::BadModelIo)?;
        bytemuck::try_cast_slice(bytes).map_err(|_| Error::MisalignedModel)
    }

    /// Model input `i`'s raw bytes (any element type).
    pub fn input_bytes_mut(&mut self, i: usize) -> Result<&mut [u8], Error> {
        let r = self.input_info(i)?.arena_range().ok_or(Error::BadModelIo)?;
        self.arena.get_mut(r).ok_or(Error::BadModelIo)
    }

    /// Model output `i`'s raw bytes (any element type).
    pub fn output_bytes(&self, i: usize) -> Result<&[u8], Error> {
        let r = self
            .output_info(i)?
            .arena_range()
            .ok_or(Error::BadModelIo)?;
        self.arena.get(r).ok_or(Error::BadModelIo)
    }

    fn io_slice_mut<T: Element>(&mut self, info: &TensorInfo<'_>) -> Result<&mut [T], Error> {
        if info.dtype != T::DTYPE {
            return Err(Error::DTypeMismatch);
        }
        let r = info.arena_range().ok_or(Error::BadModelIo)?;
        let bytes = self.arena.get_mut(r).ok_or(Error::BadModelIo)?;
        bytemuck::try_cast_slice_mut(bytes).map_err(|_| Error::MisalignedModel)
    }
}
