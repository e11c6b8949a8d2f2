//! [`Model`]: a validated, zero-copy view of a model file.
//!
//! [`Model::from_bytes`] is the only way in. It checks the header, the CRC,
//! every section, every tensor (type, shape, storage, quantization), every
//! operator (code, arity, tensor indices, dataflow, element types, shapes,
//! options) and the memory plan (no two tensors alive at the same time
//! share arena bytes, except an in-place op's output over its dying input).
//! Each malformed case has its own [`Error`] variant. After `Ok`, running
//! the model can neither panic nor touch memory out of bounds.

use super::format::{self, hdr, u16_at, u32_at};
use super::opcode::{KernelType, OpCode, OpSet};
use crate::tensor::{DType, Element, QuantParams, Shape};
use crate::Error;

/// The most tensors a model may have (bounds the validator's stack use:
/// 4 bytes per tensor).
pub const MAX_TENSORS: usize = 512;
/// The most operators a model may have.
pub const MAX_OPS: usize = 512;

/// Where a tensor's bytes live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Storage {
    /// In the model's constant pool, at this offset from the pool's start.
    Constant {
        /// Offset in the constant pool.
        offset: usize,
    },
    /// In the arena, at this offset.
    Arena {
        /// Offset in the arena.
        offset: usize,
    },
}

/// One entry of the tensor table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TensorInfo<'a> {
    /// Element type.
    pub dtype: DType,
    /// Shape.
    pub shape: Shape,
    /// Where its bytes are.
    pub storage: Storage,
    /// Length in bytes.
    pub byte_len: usize,
    /// Quantization parameters.
    pub quant: QuantParams<'a>,
    /// Persistent state (an arena tensor alive for the whole model and
    /// kept across [`invoke`](super::Interpreter::invoke) calls, which the
    /// op owning it reads and updates in place; see
    /// [`format`](super::format)).
    pub persistent: bool,
}

impl TensorInfo<'_> {
    /// The byte range in the arena, for an arena tensor.
    pub fn arena_range(&self) -> Option<core::ops::Range<usize>> {
        match self.storage {
            Storage::Arena { offset } => Some(offset..offset + self.byte_len),
            Storage::Constant { .. } => None,
        }
    }

    /// The per-tensor `(scale, zero_point)`, or `(1.0, 0)` when the tensor
    /// is not per-tensor quantized.
    pub fn scale_zp(&self) -> (f32, i32) {
        self.quant.per_tensor().unwrap_or((1.0, 0))
    }
}

/// One entry of the operator list.
#[derive(Debug, Clone, Copy)]
pub struct OpInfo<'a> {
    /// The operator's position in execution order.
    pub index: u16,
    /// What it computes.
    pub code: OpCode,
    /// Its input tensor indices ([`format::ABSENT`] for an absent optional one).
    pub inputs: &'a [u16],
    /// Its output tensor indices.
    pub outputs: &'a [u16],
    /// Its option words (meaning per op, see `model/ops/`).
    pub options: &'a [i32],
    /// Arena offset of its scratch buffer.
    pub scratch_offset: usize,
    /// Bytes of scratch (0: none).
    pub scratch_len: usize,
}

impl OpInfo<'_> {
    /// Input `i`, or `None` when absent or past the op's inputs.
    pub fn input(&self, i: usize) -> Option<u16> {
        self.inputs.get(i).copied().filter(|&t| t != format::ABSENT)
    }
}

/// A validated model file, borrowed (zero-copy) from its bytes.
#[derive(Debug, Clone, Copy)]
pub struct Model<'a> {
    bytes: &'a [u8],
    index: &'a [u16],
    consts: &'a [u8],
    n_tensors: usize,
    n_ops: usize,
    n_inputs: usize,
    n_outputs: usize,
    tensors_off: usize,
    ops_off: usize,
    arena_size: usize,
    lower_bound: usize,
}

impl<'a> Model<'a> {
    /// Parses and validates a model file. `bytes` must start on a 16-byte
    /// boundary (constants are read in place).
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, Error> {
        Self::validate(bytes, super::ops::validate)
    }

    /// [`from_bytes`](Self::from_bytes) for a firmware: the same checks,
    /// but each operator is validated by the code `resolver` registered for
    /// it, so the validation of ops the firmware does not run is not linked
    /// either. An op `resolver` lacks is [`Error::OpNotRegistered`].
    pub fn from_bytes_with(bytes: &'a [u8], resolver: &super::OpResolver) -> Result<Self, Error> {
        Self::validate(bytes, |model: &Model<'_>, op: &OpInfo<'_>| {
            match resolver.validator(op.code) {
                Some(check) => check(model, op),
                None => Err(Error::OpNotRegistered { op: op.index }),
            }
        })
    }

    fn validate(
        bytes: &'a [u8],
        check_op: impl Fn(&Model<'_>, &OpInfo<'_>) -> Result<(), Error>,
    ) -> Result<Self, Error> {
        let model = Self::parse_header(bytes)?;
        model.validate_tensors()?;
        model.validate_io()?;
        model.validate_ops(check_op)?;
        model.validate_plan()?;
        Ok(model)
    }

    fn parse_header(bytes: &'a [u8]) -> Result<Self, Error> {
        if bytes.len() < format::HEADER_LEN {
            return Err(Error::Truncated {
                needed: format::HEADER_LEN,
                got: bytes.len(),
            });
        }
        if bytes[..4] != format::MAGIC {
            return Err(Error::BadMagic);
        }
        let rd16 = |o| u16_at(bytes, o).unwrap_or(0) as usize;
        let rd32 = |o| u32_at(bytes, o).unwrap_or(0) as usize;
        let version = rd16(hdr::VERSION) as u16;
        if version != format::VERSION {
            return Err(Error::UnsupportedVersion { found: version });
        }
        if rd16(hdr::HEADER_LEN) != format::HEADER_LEN {
            return Err(Error::BadHeaderLength);
        }
        let file_len = rd32(hdr::FILE_LEN);
        if bytes.len() < file_len || file_len < format::HEADER_LEN {
            return Err(Error::Truncated {
                needed: file_len.max(format::HEADER_LEN),
                got: bytes.len(),
            });
        }
        if bytes.len() > file_len {
            return Err(Error::TrailingBytes);
        }
        if bytes.as_ptr() as usize % format::CONST_ALIGN != 0 {
            return Err(Error::MisalignedModel);
        }
        let stored = rd32(hdr::CRC) as u32;
        let computed = format::file_crc(bytes);
        if stored != computed {
            return Err(Error::CrcMismatch { stored, computed });
        }
        let n_tensors = rd16(hdr::N_TENSORS);
        let n_ops = rd16(hdr::N_OPS);
        if n_tensors > MAX_TENSORS || n_ops > MAX_OPS {
            return Err(Error::TooManyEntries);
        }
        let section = |off: usize, len: Option<usize>, align: usize| -> Result<(), Error> {
            let end = len
                .and_then(|l| off.checked_add(l))
                .ok_or(Error::BadSection)?;
            if off % align != 0 || off < format::HEADER_LEN || end > file_len {
                return Err(Error::BadSection);
            }
            Ok(())
        };
        let tensors_off = rd32(hdr::TENSORS_OFF);
        section(
            tensors_off,
            n_tensors.checked_mul(format::TENSOR_ENTRY_LEN),
            4,
        )?;
        let ops_off = rd32(hdr::OPS_OFF);
        section(ops_off, n_ops.checked_mul(format::OP_ENTRY_LEN), 4)?;
        let index_off = rd32(hdr::INDEX_OFF);
        let index_len = rd32(hdr::INDEX_LEN);
        section(index_off, index_len.checked_mul(2), 4)?;
        let const_off = rd32(hdr::CONST_OFF);
        let const_len = rd32(hdr::CONST_LEN);
        section(const_off, Some(const_len), format::CONST_ALIGN)?;
        let index: &[u16] = bytemuck::try_cast_slice(&bytes[index_off..index_off + 2 * index_len])
            .map_err(|_| Error::BadSection)?;
        let n_inputs = rd16(hdr::N_INPUTS);
        let n_outputs = rd16(hdr::N_OUTPUTS);
        if n_inputs == 0 || n_outputs == 0 || n_inputs + n_outputs > index.len() {
            return Err(Error::BadModelIo);
        }
        Ok(Model {
            bytes,
            index,
            consts: &bytes[const_off..const_off + const_len],
            n_tensors,
            n_ops,
            n_inputs,
            n_outputs,
            tensors_off,
            ops_off,
            arena_size: rd32(hdr::ARENA_SIZE),
            lower_bound: rd32(hdr::LOWER_BOUND),
        })
    }

    /// Number of tensors.
    pub fn num_tensors(&self) -> usize {
        self.n_tensors
    }

    /// Number of operators.
    pub fn num_ops(&self) -> usize {
        self.n_ops
    }

    /// The arena bytes the model's memory plan needs.
    pub fn arena_size(&self) -> usize {
        self.arena_size
    }

    /// The planner's lower bound: the most bytes alive at any one time.
    pub fn arena_lower_bound(&self) -> usize {
        self.lower_bound
    }

    /// Bytes in the constant pool (weights, biases, tables, options).
    pub fn constant_bytes(&self) -> usize {
        self.consts.len()
    }

    /// The whole file.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The model's input tensor indices.
    pub fn inputs(&self) -> &'a [u16] {
        &self.index[..self.n_inputs]
    }

    /// The model's output tensor indices.
    pub fn outputs(&self) -> &'a [u16] {
        &self.index[self.n_inputs..self.n_inputs + self.n_outputs]
    }

    /// Tensor `t`'s table entry.
    pub fn tensor(&self, t: u16) -> Result<TensorInfo<'a>, Error> {
        let t_usize = t as usize;
        if t_usize >= self.n_tensors {
            return Err(Error::TensorIndexOutOfRange {
                op: u16::MAX,
                index: t,
            });
        }
        let b = self.bytes;
        let e = self.tensors_off + t_usize * format::TENSOR_ENTRY_LEN;
        let rd32 = |o: usize| u32_at(b, e + o).unwrap_or(0) as usize;
        let dtype = DType::from_code(b[e]).ok_or(Error::UnknownDType { tensor: t })?;
        let rank = b[e + 1] as usize;
        if rank > 4
            || b[e + 5] & !format::FLAG_PERSISTENT != 0
            || b[e + 6..e + 8] != [0, 0]
            || rd32(44) != 0
        {
            return Err(Error::BadShape { tensor: t });
        }
        let mut dims = [1usize; 4];
        for (i, d) in dims.iter_mut().enumerate() {
            *d = rd32(8 + 4 * i);
            if *d == 0 || (i >= rank && *d != 1) {
                return Err(Error::BadShape { tensor: t });
            }
        }
        let shape = Shape::new(&dims[..rank]).map_err(|_| Error::BadShape { tensor: t })?;
        let offset = rd32(24);
        let byte_len = rd32(28);
        if shape.num_elements().checked_mul(dtype.size()) != Some(byte_len) {
            return Err(Error::BadShape { tensor: t });
        }
        let storage = match b[e + 2] {
            0 => Storage::Constant { offset },
            1 => Storage::Arena { offset },
            _ => return Err(Error::UnknownStorage { tensor: t }),
        };
        let persistent = b[e + 5] & format::FLAG_PERSISTENT != 0;
        if persistent && !matches!(storage, Storage::Arena { .. }) {
            return Err(Error::UnknownStorage { tensor: t });
        }
        let bad_q = Error::BadQuantization { tensor: t };
        let quant = match b[e + 3] {
            0 => QuantParams::None,
            1 => {
                let scale = f32::from_bits(rd32(32) as u32);
                let zero_point = rd32(36) as u32 as i32;
                let zp_ok = match dtype {
                    DType::I8 => (-128..=127).contains(&zero_point),
                    DType::I16 => zero_point == 0,
                    DType::I32 => zero_point == 0,
                    _ => false,
                };
                if !(scale.is_finite() && scale > 0.0 && zp_ok) {
                    return Err(bad_q);
                }
                QuantParams::PerTensor { scale, zero_point }
            }
            2 => {
                let axis = b[e + 4] as usize;
                if axis >= rank.max(1) {
                    return Err(bad_q);
                }
                let n = shape.dim(axis);
                let off = rd32(40);
                let bytes = off
                    .checked_add(4 * n)
                    .and_then(|end| self.consts.get(off..end))
                    .ok_or(bad_q)?;
                let scales: &[f32] = bytemuck::try_cast_slice(bytes).map_err(|_| bad_q)?;
                if scales.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
                    return Err(bad_q);
                }
                QuantParams::PerChannel { scales, axis }
            }
            _ => return Err(bad_q),
        };
        Ok(TensorInfo {
            dtype,
            shape,
            storage,
            byte_len,
            quant,
            persistent,
        })
    }

    /// Operator `i`'s entry.
    pub fn op(&self, i: usize) -> Result<OpInfo<'a>, Error> {
        let op = i as u16;
        if i >= self.n_ops {
            return Err(Error::WrongArity { op });
        }
        let b = self.bytes;
        let e = self.ops_off + i * format::OP_ENTRY_LEN;
        let rd32 = |o: usize| u32_at(b, e + o).unwrap_or(0) as usize;
        let code = OpCode::from_code(b[e]).ok_or(Error::UnknownOpCode { op, code: b[e] })?;
        let (n_in, n_out) = (b[e + 1] as usize, b[e + 2] as usize);
        if b[e + 3] != 0 {
            return Err(Error::BadOpOptions { op });
        }
        let start = rd32(4);
        let io = start
            .checked_add(n_in + n_out)
            .and_then(|end| self.index.get(start..end))
            .ok_or(Error::WrongArity { op })?;
        let (opt_off, opt_len) = (rd32(8), rd32(12));
        let options = opt_len
            .checked_mul(4)
            .and_then(|l| opt_off.checked_add(l))
            .and_then(|end| self.consts.get(opt_off..end))
            .and_then(|s| bytemuck::try_cast_slice(s).ok())
            .ok_or(Error::BadOpOptions { op })?;
        Ok(OpInfo {
            index: op,
            code,
            inputs: &io[..n_in],
            outputs: &io[n_in..],
            options,
            scratch_offset: rd32(16),
            scratch_len: rd32(20),
        })
    }

    /// A constant tensor's elements, read in place.
    pub fn constant<T: Element>(&self, t: u16) -> Result<&'a [T], Error> {
        let info = self.tensor(t)?;
        if info.dtype != T::DTYPE {
            return Err(Error::DTypeMismatch);
        }
        match info.storage {
            Storage::Constant { offset } => self.const_slice(t, offset, info.byte_len),
            Storage::Arena { .. } => Err(Error::DTypeMismatch),
        }
    }

    fn const_slice<T: Element>(&self, t: u16, offset: usize, len: usize) -> Result<&'a [T], Error> {
        let bytes = offset
            .checked_add(len)
            .and_then(|end| self.consts.get(offset..end))
            .ok_or(Error::ConstantOutOfBounds { tensor: t })?;
        bytemuck::try_cast_slice(bytes).map_err(|_| Error::MisalignedTensor { tensor: t })
    }

    /// The (op, kernel type) pairs the model uses: what an
    /// [`OpResolver`](super::OpResolver) must provide.
    pub fn required_ops(&self) -> OpSet {
        let mut set = OpSet::EMPTY;
        for i in 0..self.n_ops {
            if let Ok(op) = self.op(i) {
                if let Some(kt) = self.kernel_type(&op) {
                    set = set.with(op.code, kt);
                }
            }
        }
        set
    }

    /// The kernel type that runs `op`: its output's element type, or its
    /// input's for QUANTIZE.
    pub fn kernel_type(&self, op: &OpInfo<'_>) -> Option<KernelType> {
        let t = if op.code == OpCode::Quantize {
            op.input(0)?
        } else {
            *op.outputs.first()?
        };
        KernelType::of(self.tensor(t).ok()?.dtype)
    }

    // ---- validation ------------------------------------------------------

    fn validate_tensors(&self) -> Result<(), Error> {
        for t in 0..self.n_tensors as u16 {
            let info = self.tensor(t)?;
            match info.storage {
                Storage::Constant { offset } => {
                    let align = info.dtype.size();
                    if offset % align != 0 {
                        return Err(Error::MisalignedTensor { tensor: t });
                    }
                    // Bounds (and alignment of the absolute address).
                    match info.dtype {
                        DType::I8 => self.const_slice::<i8>(t, offset, info.byte_len).map(drop),
                        DType::I16 => self.const_slice::<i16>(t, offset, info.byte_len).map(drop),
                        DType::I32 => self.const_slice::<i32>(t, offset, info.byte_len).map(drop),
                        DType::F16 => self
                            .const_slice::<half::f16>(t, offset, info.byte_len)
                            .map(drop),
                        DType::F32 => self.const_slice::<f32>(t, offset, info.byte_len).map(drop),
                    }?;
                }
                Storage::Arena { offset } => {
                    if offset % format::ARENA_ALIGN != 0 {
                        return Err(Error::MisalignedTensor { tensor: t });
                    }
                    if offset
                        .checked_add(info.byte_len)
                        .is_none_or(|e| e > self.arena_size)
                    {
                        return Err(Error::ArenaOffsetOutOfBounds { tensor: t });
                    }
                }
            }
        }
        Ok(())
    }

    fn validate_io(&self) -> Result<(), Error> {
        let io = &self.index[..self.n_inputs + self.n_outputs];
        for (k, &t) in io.iter().enumerate() {
            let info = self.tensor(t).map_err(|_| Error::BadModelIo)?;
            if info.arena_range().is_none() || KernelType::of(info.dtype).is_none() {
                return Err(Error::BadModelIo);
            }
            // No tensor twice among the inputs, nor twice among the outputs.
            let (group, pos) = if k < self.n_inputs {
                (&io[..self.n_inputs], k)
            } else {
                (&io[self.n_inputs..], k - self.n_inputs)
            };
            if group[..pos].contains(&t) {
                return Err(Error::BadModelIo);
            }
        }
        Ok(())
    }

    /// Each op: indices in range, outputs in the arena and written once,
    /// inputs written before they are read, then the op's own checks.
    fn validate_ops(
        &self,
        check_op: impl Fn(&Model<'_>, &OpInfo<'_>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        // written[t]: a model input, persistent state (reset by the
        // interpreter) or an earlier op's output.
        let mut written = [false; MAX_TENSORS];
        for (t, w) in written.iter_mut().enumerate().take(self.n_tensors) {
            *w = self.tensor(t as u16)?.persistent;
        }
        for &t in self.inputs() {
            written[t as usize] = true;
        }
        for i in 0..self.n_ops {
            let op = self.op(i)?;
            let opi = op.index;
            for &t in op.inputs.iter().chain(op.outputs) {
                if t != format::ABSENT && t as usize >= self.n_tensors {
                    return Err(Error::TensorIndexOutOfRange { op: opi, index: t });
                }
            }
            for &t in op.inputs.iter().filter(|&&t| t != format::ABSENT) {
                let info = self.tensor(t)?;
                if info.arena_range().is_some() && !written[t as usize] {
                    return Err(Error::BadDataflow { op: opi });
                }
            }
            for &t in op.outputs {
                if t == format::ABSENT {
                    return Err(Error::BadDataflow { op: opi });
                }
                let info = self.tensor(t)?;
                // State is updated by its op through an input slot, never
                // produced as an output.
                if info.arena_range().is_none() || info.persistent || written[t as usize] {
                    return Err(Error::BadDataflow { op: opi });
                }
                written[t as usize] = true;
            }
            if op.scratch_len > 0
                && (op.scratch_offset % format::ARENA_ALIGN != 0
                    || op
                        .scratch_offset
                        .checked_add(op.scratch_len)
                        .is_none_or(|e| e > self.arena_size))
            {
                return Err(Error::BadOpOptions { op: opi });
            }
            check_op(self, &op)?;
        }
        for &t in self.outputs() {
            if !written[t as usize] {
                return Err(Error::BadModelIo);
            }
        }
        Ok(())
    }

    /// The live interval `[first, last]` of every arena tensor, in "time"
    /// steps: model inputs are born at 0, op `i` runs at `i + 1`, model
    /// outputs live until `n_ops + 1`, persistent tensors from 0 to
    /// `n_ops + 1` (the whole model: no other tensor may share their bytes).
    pub(crate) fn lifetimes(&self, first: &mut [u16], last: &mut [u16]) {
        let end = self.n_ops as u16 + 1;
        for t in 0..self.n_tensors {
            let persistent = self.tensor(t as u16).is_ok_and(|i| i.persistent);
            (first[t], last[t]) = if persistent { (0, end) } else { (u16::MAX, 0) };
        }
        for &t in self.inputs() {
            first[t as usize] = 0;
        }
        for i in 0..self.n_ops {
            let Ok(op) = self.op(i) else { continue };
            let time = i as u16 + 1;
            for &t in op.inputs.iter().filter(|&&t| t != format::ABSENT) {
                let t = t as usize;
                if t < self.n_tensors {
                    last[t] = last[t].max(time);
                }
            }
            for &t in op.outputs {
                let t = t as usize;
                if t < self.n_tensors {
                    first[t] = first[t].min(time);
                    last[t] = last[t].max(time);
                }
            }
        }
        for &t in self.outputs() {
            last[t as usize] = end;
        }
    }

    /// No two arena tensors alive at the same time share bytes, except an
    /// in-place op's output lying exactly over its first input when that
    /// input dies at the op; scratch buffers overlap nothing alive during
    /// their op.
    fn validate_plan(&self) -> Result<(), Error> {
        let mut first = [0u16; MAX_TENSORS];
        let mut last = [0u16; MAX_TENSORS];
        self.lifetimes(&mut first, &mut last);
        for a in 0..self.n_tensors as u16 {
            let Some(ra) = self.tensor(a)?.arena_range() else {
                continue;
            };
            for b in a + 1..self.n_tensors as u16 {
                let Some(rb) = self.tensor(b)?.arena_range() else {
                    continue;
                };
                let (ia, ib) = (a as usize, b as usize);
                let live_together = first[ia] <= last[ib] && first[ib] <= last[ia];
                let share_bytes = ra.start < rb.end && rb.start < ra.end;
                if live_together && share_bytes && !self.is_in_place_pair(a, b, &first, &last) {
                    return Err(Error::OverlappingTensors { a, b });
                }
            }
        }
        let mut end = 0;
        for t in 0..self.n_tensors as u16 {
            if let Some(r) = self.tensor(t)?.arena_range() {
                end = end.max(r.end);
            }
        }
        for i in 0..self.n_ops {
            let op = self.op(i)?;
            if op.scratch_len > 0 {
                end = end.max(op.scratch_offset + op.scratch_len);
            }
        }
        if end != self.arena_size {
            return Err(Error::ArenaSizeMismatch {
                stated: self.arena_size,
                planned: end,
            });
        }
        for i in 0..self.n_ops {
            let op = self.op(i)?;
            if op.scratch_len == 0 {
                continue;
            }
            let rs = op.scratch_offset..op.scratch_offset + op.scratch_len;
            let time = i as u16 + 1;
            for t in 0..self.n_tensors as u16 {
                let Some(rt) = self.tensor(t)?.arena_range() else {
                    continue;
                };
                let live = first[t as usize] <= time && time <= last[t as usize];
                if live && rt.start < rs.end && rs.start < rt.end {
                    return Err(Error::OverlappingTensors { a: t, b: t });
                }
            }
        }
        Ok(())
    }

    /// True when one of `a`, `b` is an in-place op's first input, dying at
    /// that op, and the other its output on exactly the same bytes.
    fn is_in_place_pair(&self, a: u16, b: u16, first: &[u16], last: &[u16]) -> bool {
        let (Ok(ta), Ok(tb)) = (self.tensor(a), self.tensor(b)) else {
            return false;
        };
        if ta.arena_range() != tb.arena_range() {
            return false;
        }
        for (inp, out) in [(a, b), (b, a)] {
            let time = first[out as usize];
            if time == 0 || last[inp as usize] != time {
                continue;
            }
            if let Ok(op) = self.op(time as usize - 1) {
                if op.code.can_run_in_place()
                    && op.input(0) == Some(inp)
                    && op.outputs.first() == Some(&out)
                {
                    return true;
                }
            }
        }
        false
    }
}

/// Reads the (op, kernel type) pairs a model file uses in a `const`
/// context, for a compile-time check that a firmware's resolver covers its
/// embedded model (see [`OpResolver`](super::OpResolver)).
///
/// # Panics
/// On bytes that are not a well-formed model file: in a `const` item, a
/// compile error.
pub const fn required_ops(bytes: &[u8]) -> OpSet {
    const fn rd16(b: &[u8], o: usize) -> usize {
        u16::from_le_bytes([b[o], b[o + 1]]) as usize
    }
    const fn rd32(b: &[u8], o: usize) -> usize {
        u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]) as usize
    }
    let _ = format::arena_size(bytes); // checks the magic
    let n_ops = rd16(bytes, hdr::N_OPS);
    let ops_off = rd32(bytes, hdr::OPS_OFF);
    let tensors_off = rd32(bytes, hdr::TENSORS_OFF);
    let index_off = rd32(bytes, hdr::INDEX_OFF);
    let mut set = OpSet::EMPTY;
    let mut i = 0;
    while i < n_ops {
        let e = ops_off + i * format::OP_ENTRY_LEN;
        let code = match OpCode::from_code(bytes[e]) {
            Some(c) => c,
            None => panic!("unknown op code in model file"),
        };
        let n_in = bytes[e + 1] as usize;
        let start = rd32(bytes, e + 4);
        let slot = if matches!(code, OpCode::Quantize) {
            start
        } else {
            start + n_in
        };
        let t = rd16(bytes, index_off + 2 * slot);
        let dtype = match DType::from_code(bytes[tensors_off + t * format::TENSOR_ENTRY_LEN]) {
            Some(d) => d,
            None => panic!("unknown dtype in model file"),
        };
        if let Some(kt) = KernelType::of(dtype) {
            set = set.with(code, kt);
        }
        i += 1;
    }
    set
}
