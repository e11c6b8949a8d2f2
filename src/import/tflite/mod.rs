//! TensorFlow Lite import: a fully int8-quantized `.tflite` flatbuffer (the
//! TensorFlow converter's output for int8 post-training or
//! quantization-aware models) to an edgegrad model file.
//!
//! ```no_run
//! let tflite = std::fs::read("model.tflite").unwrap();
//! let built = edgegrad::import::tflite::convert(&tflite).unwrap();
//! std::fs::write("model.egm", &built.bytes).unwrap();
//! ```
//!
//! Reading: `flatbuf.rs` is a bounds-checked FlatBuffers reader (every
//! offset checked, errors instead of panics on hostile bytes) and
//! `schema.rs` decodes the tables of TFLite's public `schema.fbs` that the
//! importer needs. Converting: each TFLite operator becomes one or two
//! [`ModelBuilder`] ops; the builder plans the arena and validates the
//! file, so a converted model is always one the device accepts.
//!
//! # Exactness
//!
//! The result runs byte-identical to **TensorFlow Lite Micro**'s integer
//! reference kernels (and to LiteRT's reference kernels wherever the two
//! agree; see `tests/tflite_import.rs`, which checks every committed
//! fixture). Where TFLite Micro and LiteRT differ, TFLite Micro is
//! followed, since it is the microcontroller reference:
//!
//! - per-channel FULLY_CONNECTED: TFLite Micro requantizes with the
//!   double-rounding `MultiplyByQuantizedMultiplier` every edgegrad kernel
//!   uses; LiteRT's reference rounds once (1 LSB apart on ~0.1% of outputs);
//! - RELU6 whose output parameters differ from its input's: TFLite Micro
//!   clamps the raw int8 values (no requantization), LiteRT requantizes.
//!
//! The integer parameters are derived here exactly as TFLite's `Prepare`
//! derives them: conv / depthwise / FC multipliers
//! `input_scale · weight_scale[c] / output_scale` in f64 then
//! `QuantizeMultiplier`; ADD's `left_shift = 20` and its three
//! `QuantizeMultiplierSmallerThanOneExp` multipliers; MUL's f64 product;
//! SOFTMAX's `PreprocessSoftmaxScaling` and input radius; MEAN's
//! `QuantizedMeanOrSum` folding of the element count into the multiplier
//! ([`GlobalAvgPoolS8::new`](crate::kernels::reference::GlobalAvgPoolS8::new));
//! AVERAGE_POOL's rounded integer division is the kernel's own; LOGISTIC,
//! TANH, RELU, RELU6 and LEAKY_RELU are 256-entry tables computed with
//! TFLite Micro's integer arithmetic
//! ([`tflm_sigmoid_table_s8`](crate::kernels::reference::tflm_sigmoid_table_s8),
//! [`tflm_tanh_table_s8`](crate::kernels::reference::tflm_tanh_table_s8),
//! [`relu_table_s8`](crate::kernels::reference::relu_table_s8),
//! [`tflm_relu6_table_s8`](crate::kernels::reference::tflm_relu6_table_s8),
//! [`leaky_relu_table_s8`](crate::kernels::reference::leaky_relu_table_s8)).
//!
//! # Supported
//!
//! CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, MAX_POOL_2D,
//! AVERAGE_POOL_2D, MEAN (over H and W of a 4-D tensor), ADD, MUL, SOFTMAX,
//! LOGISTIC, TANH, RELU, RELU6, LEAKY_RELU, RESHAPE, SQUEEZE,
//! CONCATENATION, PAD, STRIDED_SLICE (begin/end/shrink masks, negative
//! strides, `offset`; not ellipsis or new-axis masks), QUANTIZE (float →
//! int8, int8 → int8), DEQUANTIZE (int8 → float) and
//! UNIDIRECTIONAL_SEQUENCE_LSTM (below), with int8
//! activations (per-tensor), int8 weights (per-tensor or per-channel, zero
//! point 0), int32 biases, fused
//! NONE/RELU/RELU6/RELU_N1_TO_1, SAME/VALID padding, strides, dilations and
//! depth multipliers. Anything else is an [`ImportError`] naming the
//! operator and its index.
//!
//! UNIDIRECTIONAL_SEQUENCE_LSTM, as TFLite Micro's integer LSTM runs it:
//! int8 input and hidden state, int8 weights per tensor, int32 gate biases,
//! int16 cell state, TANH cell activation, optional cell clip, batch- or
//! time-major; the hidden and cell state (TFLite variable tensors) become
//! persistent arena tensors, so the state carries over between invokes
//! ([`Interpreter::reset_state`](crate::model::Interpreter::reset_state)
//! starts a new sequence). The gate multipliers (`scale_x·scale_W / 2⁻¹²`),
//! the inter-gate multipliers, the cell scale's power of two and the
//! quantized clip are derived as TFLM's `Prepare` derives them. Peephole,
//! projection, layer normalization and CIFG LSTMs (which TFLite Micro
//! rejects too) are an [`ImportError`].

mod flatbuf;
mod schema;

use crate::export::{BuiltModel, ConvOptions, ModelBuilder, PoolOptions, Quant, TensorId};
use crate::kernels::{reference, Padding};
use crate::model::OpCode;
use crate::quant::Activation;
use crate::tensor::DType;
use schema::{op, ty, Operator, Tensor, TfliteModel};
use std::collections::HashMap;
use std::fmt;

/// Why a `.tflite` file could not be converted.
#[derive(Debug, Clone, PartialEq)]
pub enum ImportError {
    /// The file is not a well-formed TFLite flatbuffer (truncated, an
    /// offset or index out of range, inconsistent sizes).
    Malformed(String),
    /// A well-formed model uses something edgegrad does not support (or
    /// cannot reproduce exactly): the operator's index and name, and why.
    Unsupported {
        /// The operator's index in the subgraph (`usize::MAX`: not an op).
        op: usize,
        /// The operator's schema name (`CONV_2D`).
        name: String,
        /// What is unsupported.
        reason: String,
    },
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::Malformed(m) => write!(f, "malformed TFLite file: {m}"),
            ImportError::Unsupported { op, name, reason } if *op == usize::MAX => {
                write!(f, "unsupported TFLite model ({name}): {reason}")
            }
            ImportError::Unsupported { op, name, reason } => {
                write!(f, "TFLite operator {op} ({name}): {reason}")
            }
        }
    }
}

impl std::error::Error for ImportError {}

impl From<flatbuf::FbError> for ImportError {
    fn from(e: flatbuf::FbError) -> Self {
        ImportError::Malformed(e.0)
    }
}

type Result<T> = std::result::Result<T, ImportError>;

/// Converts a `.tflite` file to an edgegrad model file (planned and
/// validated).
pub fn convert(tflite: &[u8]) -> Result<BuiltModel> {
    let model = TfliteModel::parse(tflite)?;
    let mut cx = Cx {
        m: &model,
        b: ModelBuilder::new(),
        map: HashMap::new(),
        op: usize::MAX,
        name: "model".into(),
    };
    for &i in &model.inputs {
        let t = cx.tensor(i)?;
        let shape = cx.shape(t)?;
        let id = match t.ty {
            ty::INT8 => {
                let q = cx.act_quant(t)?;
                cx.b.input(DType::I8, &shape, Some(q))
            }
            ty::FLOAT32 => cx.b.input(DType::F32, &shape, None),
            other => return Err(cx.unsupported(format!("model input of type {}", ty::name(other)))),
        }
        .map_err(|e| cx.build_err(e))?;
        cx.map.insert(i as usize, id);
    }
    for (k, o) in model.operators.iter().enumerate() {
        cx.op = k;
        cx.name = op::name(o.code);
        cx.operator(o)?;
    }
    cx.op = usize::MAX;
    cx.name = "model".into();
    for &i in &model.outputs {
        let id = *cx.map.get(&(cx.index(i)?)).ok_or_else(|| {
            ImportError::Malformed(format!("model output tensor {i} is never computed"))
        })?;
        cx.b.output(id);
    }
    cx.b.build().map_err(|e| cx.build_err(e))
}

struct Cx<'m, 'a> {
    m: &'m TfliteModel<'a>,
    b: ModelBuilder,
    /// TFLite tensor index → builder tensor.
    map: HashMap<usize, TensorId>,
    /// The operator being converted (for messages).
    op: usize,
    name: String,
}

fn fused(code: u8) -> Option<Activation> {
    match code {
        0 => Some(Activation::None),
        1 => Some(Activation::Relu),
        2 => Some(Activation::ReluN1To1),
        3 => Some(Activation::Relu6),
        _ => None,
    }
}

impl<'a> Cx<'_, 'a> {
    fn unsupported(&self, reason: impl Into<String>) -> ImportError {
        ImportError::Unsupported {
            op: self.op,
            name: self.name.clone(),
            reason: reason.into(),
        }
    }

    fn malformed(&self, what: impl fmt::Display) -> ImportError {
        if self.op == usize::MAX {
            ImportError::Malformed(what.to_string())
        } else {
            ImportError::Malformed(format!("operator {} ({}): {what}", self.op, self.name))
        }
    }

    fn build_err(&self, e: crate::Error) -> ImportError {
        self.unsupported(format!("cannot be expressed: {e}"))
    }

    fn index(&self, i: i32) -> Result<usize> {
        usize::try_from(i)
            .ok()
            .filter(|&i| i < self.m.tensors.len())
            .ok_or_else(|| {
                self.malformed(format!(
                    "tensor index {i} out of range ({} tensors)",
                    self.m.tensors.len()
                ))
            })
    }

    fn tensor(&self, i: i32) -> Result<&'_ Tensor> {
        let i = self.index(i)?;
        Ok(&self.m.tensors[i])
    }

    fn shape(&self, t: &Tensor) -> Result<Vec<usize>> {
        if t.shape.len() > 4 {
            return Err(self.unsupported(format!(
                "tensor '{}' has rank {} (at most 4)",
                t.name,
                t.shape.len()
            )));
        }
        let bad = || self.unsupported(format!("tensor '{}' has shape {:?}", t.name, t.shape));
        let dims = t
            .shape
            .iter()
            .map(|&d| usize::try_from(d).ok().filter(|&d| d > 0))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(bad)?;
        // The element count must fit the model file (u32), so that every
        // product of these dimensions later is free of overflow.
        crate::tensor::Shape::new(&dims).map_err(|_| bad())?;
        Ok(dims)
    }

    /// The constant data of `t`, `None` for an activation.
    fn data(&self, t: &Tensor) -> Result<Option<&'a [u8]>> {
        let b = *self.m.buffers.get(t.buffer as usize).ok_or_else(|| {
            self.malformed(format!(
                "tensor '{}': buffer {} out of range ({} buffers)",
                t.name,
                t.buffer,
                self.m.buffers.len()
            ))
        })?;
        Ok((!b.is_empty()).then_some(b))
    }

    /// Per-tensor quantization of an int8 activation.
    fn act_quant(&self, t: &Tensor) -> Result<Quant> {
        match &t.quant {
            Some(q) if q.scale.len() == 1 => {
                let zp = q.zero_point.first().copied().unwrap_or(0);
                let s = q.scale[0];
                if !(s.is_finite() && s > 0.0 && (-128..=127).contains(&zp)) {
                    return Err(self
                        .unsupported(format!("tensor '{}': scale {s}, zero point {zp}", t.name)));
                }
                Ok(Quant::per_tensor(s, zp as i32))
            }
            _ => Err(self.unsupported(format!(
                "int8 tensor '{}' is not quantized per tensor",
                t.name
            ))),
        }
    }

    /// The quantization of a constant tensor.
    fn const_quant(&self, t: &Tensor) -> Result<Quant> {
        match &t.quant {
            None => Ok(Quant::None),
            Some(q) if q.scale.len() == 1 => {
                let zp = q.zero_point.first().copied().unwrap_or(0);
                if !(-128..=127).contains(&zp) {
                    return Err(self.unsupported(format!("tensor '{}': zero point {zp}", t.name)));
                }
                Ok(Quant::per_tensor(q.scale[0], zp as i32))
            }
            Some(q) => {
                if q.zero_point.iter().any(|&z| z != 0) {
                    return Err(self.unsupported(format!(
                        "per-channel tensor '{}' with nonzero zero points",
                        t.name
                    )));
                }
                let axis = usize::try_from(q.quantized_dimension)
                    .ok()
                    .filter(|&a| a < t.shape.len())
                    .ok_or_else(|| {
                        self.malformed(format!(
                            "tensor '{}': quantized dimension {}",
                            t.name, q.quantized_dimension
                        ))
                    })?;
                Ok(Quant::PerChannel {
                    scales: q.scale.clone(),
                    axis,
                })
            }
        }
    }

    /// The builder tensor of TFLite tensor `i` (constants created on first
    /// use).
    fn value(&mut self, i: i32) -> Result<TensorId> {
        let idx = self.index(i)?;
        if let Some(&id) = self.map.get(&idx) {
            return Ok(id);
        }
        let t = &self.m.tensors[idx];
        if t.sparse {
            return Err(self.unsupported(format!("sparse tensor '{}'", t.name)));
        }
        let Some(data) = self.data(t)? else {
            return Err(self.malformed(format!(
                "tensor {i} ('{}') is read before any operator computes it",
                t.name
            )));
        };
        let shape = self.shape(t)?;
        let count: usize = shape.iter().product();
        let size = match t.ty {
            ty::INT8 => 1,
            ty::INT32 | ty::FLOAT32 => 4,
            ty::INT16 => 2,
            other => {
                return Err(self.unsupported(format!(
                    "constant '{}' of type {}",
                    t.name,
                    ty::name(other)
                )))
            }
        };
        if data.len() != count * size {
            return Err(self.malformed(format!(
                "tensor '{}': buffer of {} bytes for {count} elements of {size} bytes",
                t.name,
                data.len()
            )));
        }
        let quant = self.const_quant(t)?;
        let id = match t.ty {
            ty::INT8 => {
                let v: Vec<i8> = data.iter().map(|&b| b as i8).collect();
                self.b.constant::<i8>(&shape, &v, quant)
            }
            ty::INT16 => {
                let v: Vec<i16> = data
                    .chunks_exact(2)
                    .map(|c| i16::from_le_bytes([c[0], c[1]]))
                    .collect();
                self.b.constant::<i16>(&shape, &v, quant)
            }
            ty::INT32 => self.b.constant::<i32>(&shape, &le_i32(data), quant),
            _ => {
                let v: Vec<f32> = le_i32(data)
                    .into_iter()
                    .map(|x| f32::from_bits(x as u32))
                    .collect();
                self.b.constant::<f32>(&shape, &v, quant)
            }
        }
        .map_err(|e| self.build_err(e))?;
        self.map.insert(idx, id);
        Ok(id)
    }

    /// The int32 values of a constant input (shapes, axes, paddings).
    fn const_i32s(&self, i: i32) -> Result<Vec<i32>> {
        let t = self.tensor(i)?;
        match (t.ty, self.data(t)?) {
            (ty::INT32, Some(d)) if d.len() % 4 == 0 => Ok(le_i32(d)),
            _ => Err(self.unsupported(format!(
                "input '{}' must be a constant int32 tensor",
                t.name
            ))),
        }
    }

    fn input(&self, o: &Operator<'_>, slot: usize) -> Result<i32> {
        match o.inputs.get(slot) {
            Some(&i) if i >= 0 => Ok(i),
            _ => Err(self.malformed(format!("missing input {slot}"))),
        }
    }

    fn opt_input(&self, o: &Operator<'_>, slot: usize) -> Option<i32> {
        o.inputs.get(slot).copied().filter(|&i| i >= 0)
    }

    fn int8_act(&mut self, i: i32) -> Result<TensorId> {
        let t = self.tensor(i)?;
        if t.ty != ty::INT8 {
            return Err(self.unsupported(format!(
                "tensor '{}' is {}, not INT8",
                t.name,
                ty::name(t.ty)
            )));
        }
        self.act_quant(t)?;
        self.value(i)
    }

    /// The single output of `o`: its index, tensor, shape and (int8) quant.
    fn out(&self, o: &Operator<'_>) -> Result<(i32, Vec<usize>, Quant)> {
        if o.outputs.len() != 1 {
            return Err(self.unsupported(format!("{} outputs (expected 1)", o.outputs.len())));
        }
        let i = o.outputs[0];
        let t = self.tensor(i)?;
        if self.data(t)?.is_some() {
            return Err(self.malformed(format!("output tensor '{}' has constant data", t.name)));
        }
        let shape = self.shape(t)?;
        let q = match t.ty {
            ty::INT8 => self.act_quant(t)?,
            ty::FLOAT32 => Quant::None,
            other => return Err(self.unsupported(format!("output of type {}", ty::name(other)))),
        };
        Ok((i, shape, q))
    }

    /// Records `id` as TFLite tensor `i`, reshaping it to TFLite's shape
    /// when only the shape differs, and checking the quantization.
    fn bind(&mut self, i: i32, id: TensorId, shape: &[usize], quant: &Quant) -> Result<()> {
        let got_q = self.b.quant_of(id).map_err(|e| self.build_err(e))?;
        let same_q = match (&got_q, quant) {
            (
                Quant::PerTensor {
                    scale: a,
                    zero_point: za,
                },
                Quant::PerTensor {
                    scale: b,
                    zero_point: zb,
                },
            ) => a.to_bits() == b.to_bits() && za == zb,
            (Quant::None, Quant::None) => true,
            _ => false,
        };
        if !same_q {
            return Err(self.unsupported(format!(
                "output quantization {quant:?} differs from the {got_q:?} the operator produces (TFLite requires them equal)"
            )));
        }
        let got = self.b.shape_of(id).map_err(|e| self.build_err(e))?;
        let id = if got == shape {
            id
        } else if got.iter().product::<usize>() == shape.iter().product::<usize>() {
            self.b.reshape(id, shape).map_err(|e| self.build_err(e))?
        } else {
            return Err(self.unsupported(format!(
                "output shape {shape:?}, but the operator computes {got:?}"
            )));
        };
        let idx = self.index(i)?;
        if self.map.insert(idx, id).is_some() {
            return Err(self.malformed(format!("tensor {i} is computed twice")));
        }
        Ok(())
    }

    fn options(&self, o: &Operator<'a>, want: u8) -> Result<Option<flatbuf::Table<'a>>> {
        if o.options.is_some() && o.options_type != want {
            return Err(self.malformed(format!(
                "options of type {} (expected {want})",
                o.options_type
            )));
        }
        Ok(o.options)
    }

    fn activation(&self, code: u8) -> Result<Activation> {
        fused(code).ok_or_else(|| self.unsupported(format!("fused activation {code}")))
    }

    fn padding(&self, code: u8) -> Result<Padding> {
        match code {
            0 => Ok(Padding::Same),
            1 => Ok(Padding::Valid),
            other => Err(self.unsupported(format!("padding {other}"))),
        }
    }

    fn positive(&self, v: i32, what: &str) -> Result<usize> {
        usize::try_from(v)
            .ok()
            .filter(|&v| v > 0)
            .ok_or_else(|| self.unsupported(format!("{what} {v}")))
    }

    /// Checks a weight tensor: int8 constant, zero point 0, per-channel
    /// along `axis` if per-channel.
    fn weights(&mut self, i: i32, axis: usize) -> Result<TensorId> {
        let t = self.tensor(i)?;
        if t.ty != ty::INT8 || self.data(t)?.is_none() {
            return Err(self.unsupported(format!(
                "weights '{}' must be a constant INT8 tensor",
                t.name
            )));
        }
        match self.const_quant(t)? {
            Quant::PerTensor { zero_point: 0, .. } => {}
            Quant::PerChannel { axis: a, .. } if a == axis => {}
            q => return Err(self.unsupported(format!("weights '{}' quantized as {q:?}", t.name))),
        }
        self.value(i)
    }

    fn bias(&mut self, o: &Operator<'_>) -> Result<Option<TensorId>> {
        match self.opt_input(o, 2) {
            None => Ok(None),
            Some(i) => {
                let t = self.tensor(i)?;
                if t.ty != ty::INT32 || self.data(t)?.is_none() {
                    return Err(self.unsupported(format!(
                        "bias '{}' must be a constant INT32 tensor",
                        t.name
                    )));
                }
                self.value(i).map(Some)
            }
        }
    }

    /// A state tensor (TFLite variable) of an LSTM: `dtype` with
    /// per-tensor quantization (int16: zero point 0), persistent.
    fn lstm_state(&mut self, i: i32, dtype: DType) -> Result<TensorId> {
        let t = self.tensor(i)?;
        let want = if dtype == DType::I8 {
            ty::INT8
        } else {
            ty::INT16
        };
        if t.ty != want || !t.is_variable || self.data(t)?.is_some() {
            return Err(self.unsupported(format!(
                "state tensor '{}' must be a variable {} tensor",
                t.name,
                ty::name(want)
            )));
        }
        let q = self.act_quant(t)?;
        if dtype == DType::I16 && !matches!(q, Quant::PerTensor { zero_point: 0, .. }) {
            return Err(
                self.unsupported(format!("cell state '{}' has a nonzero zero point", t.name))
            );
        }
        let shape = self.shape(t)?;
        let idx = self.index(i)?;
        if self.map.contains_key(&idx) {
            return Err(self.unsupported(format!("state tensor '{}' is shared", t.name)));
        }
        let id = self
            .b
            .state(dtype, &shape, q)
            .map_err(|e| self.build_err(e))?;
        self.map.insert(idx, id);
        Ok(id)
    }

    /// UNIDIRECTIONAL_SEQUENCE_LSTM (int8 activations and weights, int16
    /// cell state) as one [`OpCode::Lstm`]: TFLite Micro's integer LSTM.
    /// The standard LSTM only, as TFLite Micro: no peephole, projection,
    /// layer normalization or coupled input gate (CIFG).
    fn lstm(&mut self, o: &Operator<'a>, out_q: Quant) -> Result<TensorId> {
        if o.inputs.len() != 24 {
            return Err(self.malformed(format!("{} inputs (expected 24)", o.inputs.len())));
        }
        // UnidirectionalSequenceLSTMOptions: fused_activation_function 0,
        // cell_clip 1, proj_clip 2, time_major 3,
        // asymmetric_quantize_inputs 4, diagonal_recurrent_tensors 5.
        let (act, cell_clip, time_major, diagonal) = match self.options(o, 71)? {
            Some(t) => (
                t.u8(0, 0)?,
                t.f32(1, 0.0)?,
                t.u8(3, 0)? != 0,
                t.u8(5, 0)? != 0,
            ),
            None => (0, 0.0, false, false),
        };
        if act != 4 {
            return Err(self.unsupported(format!(
                "cell activation {act} (only TANH, 4, is supported)"
            )));
        }
        if diagonal {
            return Err(self.unsupported("diagonal recurrent tensors"));
        }
        for (slots, what) in [
            (&[9, 10, 11][..], "peephole weights"),
            (&[16, 17][..], "a projection"),
            (&[20, 21, 22, 23][..], "layer normalization"),
        ] {
            if slots.iter().any(|&s| self.opt_input(o, s).is_some()) {
                return Err(self.unsupported(format!("an LSTM with {what}")));
            }
        }
        if self.opt_input(o, 1).is_none() || self.opt_input(o, 5).is_none() {
            return Err(self.unsupported("an LSTM without an input gate (CIFG)"));
        }
        let x = self.int8_act(self.input(o, 0)?)?;
        let mut weights = [TensorId(0); 8];
        for (k, w) in weights.iter_mut().enumerate() {
            let i = self.input(o, k + 1)?;
            let t = self.tensor(i)?;
            if !matches!(t.quant.as_ref().map(|q| q.scale.len()), Some(1)) {
                return Err(self.unsupported(format!(
                    "LSTM weights '{}' must be quantized per tensor",
                    t.name
                )));
            }
            *w = self.weights(i, 0)?;
        }
        let mut biases = [TensorId(0); 4];
        for (k, b) in biases.iter_mut().enumerate() {
            let i = self.input(o, 12 + k)?;
            let t = self.tensor(i)?;
            if t.ty != ty::INT32 || self.data(t)?.is_none() {
                return Err(
                    self.unsupported(format!("bias '{}' must be a constant INT32 tensor", t.name))
                );
            }
            *b = self.value(i)?;
        }
        let hidden = self.lstm_state(self.input(o, 18)?, DType::I8)?;
        let cell = self.lstm_state(self.input(o, 19)?, DType::I16)?;
        let [i0, i1, i2, i3, r0, r1, r2, r3] = weights;
        let opts = crate::export::LstmOptions {
            time_major,
            cell_gate_tanh: true,
            cell_clip,
        };
        self.b
            .lstm(
                x,
                [i0, i1, i2, i3],
                [r0, r1, r2, r3],
                biases,
                hidden,
                cell,
                opts,
                out_q,
            )
            .map_err(|e| self.build_err(e))
    }

    /// STRIDED_SLICE's begin/end/strides inputs and masks resolved into
    /// first index, step and count per axis, as TFLite's
    /// `strided_slice_logic` defines them: negative indices count from the
    /// end, a begin/end mask bit means "from the start / to the end" in the
    /// stride's direction, indices are clamped to the axis, `offset` makes
    /// `end` relative to `begin`, and a shrink-axis bit takes the one index
    /// `begin` (the output drops that axis).
    fn slice_window(&self, o: &Operator<'a>, shape: &[usize]) -> Result<SliceAxes> {
        let begin = self.const_i32s(self.input(o, 1)?)?;
        let end = self.const_i32s(self.input(o, 2)?)?;
        let strides = self.const_i32s(self.input(o, 3)?)?;
        let r = shape.len();
        if begin.len() != r || end.len() != r || strides.len() != r {
            return Err(self.unsupported(format!(
                "begin/end/strides of lengths {}/{}/{} for a rank-{r} input",
                begin.len(),
                end.len(),
                strides.len()
            )));
        }
        // StridedSliceOptions: begin_mask 0, end_mask 1, ellipsis_mask 2,
        // new_axis_mask 3, shrink_axis_mask 4, offset 5.
        let (bm, em, ell, new, shrink, offset) = match self.options(o, 32)? {
            Some(t) => (
                t.i32(0, 0)?,
                t.i32(1, 0)?,
                t.i32(2, 0)?,
                t.i32(3, 0)?,
                t.i32(4, 0)?,
                t.u8(5, 0)? != 0,
            ),
            None => (0, 0, 0, 0, 0, false),
        };
        if ell != 0 || new != 0 {
            return Err(self.unsupported("ellipsis_mask or new_axis_mask"));
        }
        let mut w = SliceAxes::default();
        for (d, &dim) in shape.iter().enumerate() {
            let n = dim as i64;
            let bit = |mask: i32| mask >> d & 1 == 1;
            let b = begin[d] as i64;
            let e = if offset {
                b + end[d] as i64
            } else {
                end[d] as i64
            };
            let wrap = |v: i64| if v < 0 { v + n } else { v };
            if bit(shrink) {
                let at = wrap(b);
                if !(0..n).contains(&at) {
                    return Err(self.unsupported(format!("index {b} of an axis of {dim}")));
                }
                w.begin.push(at as usize);
                w.stride.push(1);
                w.count.push(1);
                continue;
            }
            let s = strides[d] as i64;
            if s == 0 {
                return Err(self.unsupported("a zero stride"));
            }
            // The reachable range in the stride's direction.
            let (lo, hi) = if s > 0 { (0, n) } else { (-1, n - 1) };
            let start = if bit(bm) {
                if s > 0 {
                    lo
                } else {
                    hi
                }
            } else {
                wrap(b).clamp(lo, hi)
            };
            let stop = if bit(em) {
                if s > 0 {
                    hi
                } else {
                    lo
                }
            } else {
                wrap(e).clamp(lo, hi)
            };
            let span = if s > 0 { stop - start } else { start - stop };
            let count = if span > 0 {
                (span + s.abs() - 1) / s.abs()
            } else {
                0
            };
            w.begin.push(if count > 0 { start as usize } else { 0 });
            w.stride.push(s as i32);
            w.count.push(count as usize);
        }
        Ok(w)
    }

    fn operator(&mut self, o: &Operator<'a>) -> Result<()> {
        let (out_i, out_shape, out_q) = self.out(o)?;
        let b_err = |cx: &Self, e| cx.build_err(e);
        let id = match o.code {
            op::CONV_2D | op::DEPTHWISE_CONV_2D => {
                let depthwise = o.code == op::DEPTHWISE_CONV_2D;
                let opts = self.options(o, if depthwise { 2 } else { 1 })?;
                let opts = opts.ok_or_else(|| self.malformed("no options"))?;
                // Conv2DOptions: padding 0, stride_w 1, stride_h 2, act 3,
                // dilation_w 4, dilation_h 5. DepthwiseConv2DOptions:
                // padding 0, stride_w 1, stride_h 2, depth_multiplier 3,
                // act 4, dilation_w 5, dilation_h 6.
                let (a, d) = if depthwise { (4, 5) } else { (3, 4) };
                let conv = ConvOptions {
                    padding: self.padding(opts.u8(0, 0)?)?,
                    stride: (
                        self.positive(opts.i32(2, 0)?, "stride")?,
                        self.positive(opts.i32(1, 0)?, "stride")?,
                    ),
                    dilation: (
                        self.positive(opts.i32(d + 1, 1)?, "dilation")?,
                        self.positive(opts.i32(d, 1)?, "dilation")?,
                    ),
                    activation: self.activation(opts.u8(a, 0)?)?,
                };
                let x = self.int8_act(self.input(o, 0)?)?;
                let w = self.weights(self.input(o, 1)?, if depthwise { 3 } else { 0 })?;
                let bias = self.bias(o)?;
                let xc = *self
                    .b
                    .shape_of(x)
                    .map_err(|e| b_err(self, e))?
                    .last()
                    .unwrap_or(&0);
                let ws = self.b.shape_of(w).map_err(|e| b_err(self, e))?;
                if depthwise {
                    let oc = *ws.last().unwrap_or(&0);
                    if xc == 0 || oc % xc != 0 || ws.len() != 4 || ws[0] != 1 {
                        return Err(self
                            .unsupported(format!("filter shape {ws:?} for {xc} input channels")));
                    }
                    self.b
                        .depthwise_conv2d(x, w, bias, conv, oc / xc, Some(out_q.clone()))
                } else {
                    if ws.len() != 4 || ws[3] != xc {
                        return Err(self.unsupported(format!(
                            "filter shape {ws:?} for {xc} input channels (grouped convolution)"
                        )));
                    }
                    self.b.conv2d(x, w, bias, conv, Some(out_q.clone()))
                }
            }
            op::FULLY_CONNECTED => {
                let opts = self.options(o, 8)?;
                // FullyConnectedOptions: act 0, weights_format 1,
                // keep_num_dims 2.
                let (act, fmt) = match opts {
                    Some(t) => (t.u8(0, 0)?, t.u8(1, 0)?),
                    None => (0, 0),
                };
                if fmt != 0 {
                    return Err(self.unsupported(format!("weights format {fmt}")));
                }
                let act = self.activation(act)?;
                let x = self.int8_act(self.input(o, 0)?)?;
                let w = self.weights(self.input(o, 1)?, 0)?;
                let bias = self.bias(o)?;
                self.b.fully_connected(x, w, bias, act, Some(out_q.clone()))
            }
            op::MAX_POOL_2D | op::AVERAGE_POOL_2D => {
                let opts = self
                    .options(o, 5)?
                    .ok_or_else(|| self.malformed("no options"))?;
                // Pool2DOptions: padding 0, stride_w 1, stride_h 2,
                // filter_width 3, filter_height 4, act 5.
                let p = PoolOptions {
                    padding: self.padding(opts.u8(0, 0)?)?,
                    stride: (
                        self.positive(opts.i32(2, 0)?, "stride")?,
                        self.positive(opts.i32(1, 0)?, "stride")?,
                    ),
                    kernel: (
                        self.positive(opts.i32(4, 0)?, "filter size")?,
                        self.positive(opts.i32(3, 0)?, "filter size")?,
                    ),
                    activation: self.activation(opts.u8(5, 0)?)?,
                };
                let x = self.int8_act(self.input(o, 0)?)?;
                if o.code == op::MAX_POOL_2D {
                    self.b.max_pool2d(x, p)
                } else {
                    self.b.avg_pool2d(x, p)
                }
            }
            op::MEAN => {
                let keep = match self.options(o, 27)? {
                    Some(t) => t.u8(0, 0)? != 0,
                    None => false,
                };
                let x = self.int8_act(self.input(o, 0)?)?;
                let rank = self.b.shape_of(x).map_err(|e| b_err(self, e))?.len() as i32;
                let mut axes: Vec<i32> = self
                    .const_i32s(self.input(o, 1)?)?
                    .into_iter()
                    .map(|a| if a < 0 { a + rank } else { a })
                    .collect();
                axes.sort_unstable();
                axes.dedup();
                if rank != 4 || axes != [1, 2] {
                    return Err(self.unsupported(format!(
                        "MEAN over axes {axes:?} of a rank-{rank} tensor (only H and W of NHWC)"
                    )));
                }
                self.b.global_avg_pool(x, keep, Some(out_q.clone()))
            }
            op::ADD | op::MUL => {
                let opts = self.options(o, if o.code == op::ADD { 11 } else { 21 })?;
                let act = self.activation(match opts {
                    Some(t) => t.u8(0, 0)?,
                    None => 0,
                })?;
                let a = self.int8_act(self.input(o, 0)?)?;
                let c = self.int8_act(self.input(o, 1)?)?;
                if o.code == op::ADD {
                    self.b.add(a, c, act, Some(out_q.clone()))
                } else {
                    self.b.mul(a, c, act, Some(out_q.clone()))
                }
            }
            op::SOFTMAX => {
                let beta = match self.options(o, 9)? {
                    Some(t) => t.f32(0, 0.0)?,
                    None => 0.0,
                };
                let x = self.int8_act(self.input(o, 0)?)?;
                self.b.softmax(x, beta)
            }
            op::LOGISTIC | op::TANH | op::RELU | op::RELU6 | op::LEAKY_RELU => {
                let xi = self.input(o, 0)?;
                let x = self.int8_act(xi)?;
                let in_q = match self.b.quant_of(x).map_err(|e| b_err(self, e))? {
                    Quant::PerTensor { scale, zero_point } => (scale, zero_point),
                    _ => return Err(self.unsupported("input must be INT8 per tensor")),
                };
                let Quant::PerTensor { scale, zero_point } = out_q else {
                    return Err(self.unsupported("output must be INT8"));
                };
                let out = (scale, zero_point);
                let (code, table) = match o.code {
                    op::LOGISTIC => {
                        if out != (1.0 / 256.0, -128) {
                            return Err(self.unsupported(format!(
                                "output quantization {out:?} (TFLite requires (1/256, -128))"
                            )));
                        }
                        (OpCode::Sigmoid, reference::tflm_sigmoid_table_s8(in_q))
                    }
                    op::TANH => {
                        if out != (1.0 / 128.0, 0) {
                            return Err(self.unsupported(format!(
                                "output quantization {out:?} (TFLite requires (1/128, 0))"
                            )));
                        }
                        (OpCode::Tanh, reference::tflm_tanh_table_s8(in_q))
                    }
                    op::RELU => (
                        OpCode::Relu,
                        reference::relu_table_s8(in_q, out, Activation::Relu),
                    ),
                    op::RELU6 => (OpCode::Relu6, reference::tflm_relu6_table_s8(in_q)),
                    _ => {
                        let alpha = match self.options(o, 75)? {
                            Some(t) => t.f32(0, 0.2)?,
                            None => 0.2,
                        };
                        (
                            OpCode::LeakyRelu,
                            reference::leaky_relu_table_s8(alpha, in_q, out),
                        )
                    }
                };
                let table = table.map_err(|e| b_err(self, e))?;
                self.b
                    .lookup_table(code, x, Quant::per_tensor(scale, zero_point), table)
            }
            op::RESHAPE | op::SQUEEZE => {
                let x = self.int8_act(self.input(o, 0)?)?;
                self.b.reshape(x, &out_shape)
            }
            op::CONCATENATION => {
                let opts = self.options(o, 10)?;
                // ConcatenationOptions: axis 0, act 1.
                let (axis, act) = match opts {
                    Some(t) => (t.i32(0, 0)?, t.u8(1, 0)?),
                    None => (0, 0),
                };
                if act != 0 {
                    return Err(self.unsupported(format!("fused activation {act}")));
                }
                if o.inputs.is_empty() {
                    return Err(self.malformed("no inputs"));
                }
                let mut xs = Vec::new();
                for &i in &o.inputs {
                    let x = self.int8_act(i)?;
                    let q = self.b.quant_of(x).map_err(|e| b_err(self, e))?;
                    if q != out_q {
                        return Err(self.unsupported(format!(
                            "input quantization {q:?} differs from the output's {out_q:?}"
                        )));
                    }
                    xs.push(x);
                }
                let rank = out_shape.len() as i32;
                let axis = if axis < 0 { axis + rank } else { axis };
                if !(0..rank).contains(&axis) {
                    return Err(self.unsupported(format!("axis {axis} of a rank-{rank} tensor")));
                }
                self.b.concatenation(&xs, axis as usize)
            }
            op::PAD => {
                let x = self.int8_act(self.input(o, 0)?)?;
                if self.opt_input(o, 2).is_some() {
                    return Err(self.unsupported("a constant value input (PADV2)"));
                }
                let shape = self.b.shape_of(x).map_err(|e| b_err(self, e))?;
                let p = self.const_i32s(self.input(o, 1)?)?;
                if p.len() != 2 * shape.len() || p.iter().any(|&v| v < 0) {
                    return Err(self
                        .unsupported(format!("paddings {p:?} for a rank-{} tensor", shape.len())));
                }
                let before: Vec<usize> = p.iter().step_by(2).map(|&v| v as usize).collect();
                let after: Vec<usize> = p.iter().skip(1).step_by(2).map(|&v| v as usize).collect();
                self.b.pad(x, &before, &after)
            }
            op::QUANTIZE => {
                let xi = self.input(o, 0)?;
                let t = self.tensor(xi)?;
                if !matches!(t.ty, ty::FLOAT32 | ty::INT8) || out_q == Quant::None {
                    return Err(self.unsupported(format!("{} to {:?}", ty::name(t.ty), out_q)));
                }
                let x = if t.ty == ty::INT8 {
                    self.int8_act(xi)?
                } else {
                    self.value(xi)?
                };
                self.b.quantize(x, out_q.clone())
            }
            op::DEQUANTIZE => {
                if out_q != Quant::None {
                    return Err(self.unsupported("output must be FLOAT32"));
                }
                let x = self.int8_act(self.input(o, 0)?)?;
                self.b.dequantize(x, DType::F32)
            }
            op::UNIDIRECTIONAL_SEQUENCE_LSTM => Ok(self.lstm(o, out_q.clone())?),
            op::STRIDED_SLICE => {
                let x = self.int8_act(self.input(o, 0)?)?;
                let shape = self.b.shape_of(x).map_err(|e| b_err(self, e))?;
                let w = self.slice_window(o, &shape)?;
                if self.b.quant_of(x).map_err(|e| b_err(self, e))? != out_q {
                    return Err(self.unsupported("output quantization differs from the input's"));
                }
                self.b
                    .strided_slice(x, &w.begin, &w.stride, &w.count, &out_shape)
            }
            _ => return Err(self.unsupported("operator not supported")),
        }
        .map_err(|e| b_err(self, e))?;
        self.bind(out_i, id, &out_shape, &out_q)
    }
}

/// A strided slice per axis of the input: first index, step, count.
#[derive(Default)]
struct SliceAxes {
    begin: Vec<usize>,
    stride: Vec<i32>,
    count: Vec<usize>,
}

fn le_i32(d: &[u8]) -> Vec<i32> {
    d.chunks_exact(4)
        .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}
