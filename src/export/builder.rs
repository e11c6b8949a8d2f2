//! [`ModelBuilder`]: assemble a graph with given weights and quantization
//! parameters, and write it out as a model file.
//!
//! Each method adds one operator, infers its output shape, derives the
//! integer parameters an int8 kernel needs from the tensors' scales
//! (multipliers and shifts exactly as TensorFlow Lite's `Prepare` computes
//! them, activation clamps, lookup tables) and returns the output tensor.
//! [`ModelBuilder::build`] plans the arena, writes the file and validates
//! it with [`Model::from_bytes`](crate::model::Model::from_bytes), so a
//! builder can never produce a file the device rejects.

use super::writer::{self, PlanReport};
use crate::kernels::{reference, Padding};
use crate::model::format::ABSENT;
use crate::model::OpCode;
use crate::quant::{activation_range_s8, quantize_multiplier, Activation};
use crate::tensor::{DType, Element};
use crate::Error;
use std::vec::Vec;

/// A tensor of the graph being built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TensorId(pub u16);

/// Quantization parameters of a tensor being built.
#[derive(Debug, Clone, PartialEq)]
pub enum Quant {
    /// Not quantized.
    None,
    /// One scale and zero point.
    PerTensor {
        /// Scale.
        scale: f32,
        /// Zero point.
        zero_point: i32,
    },
    /// One scale per index along `axis`, zero point 0.
    PerChannel {
        /// Scales.
        scales: Vec<f32>,
        /// Channel axis.
        axis: usize,
    },
}

impl Quant {
    /// Per-tensor parameters.
    pub fn per_tensor(scale: f32, zero_point: i32) -> Self {
        Quant::PerTensor { scale, zero_point }
    }

    fn scale(&self, c: usize) -> Option<f32> {
        match self {
            Quant::None => None,
            Quant::PerTensor { scale, .. } => Some(*scale),
            Quant::PerChannel { scales, .. } => scales.get(c).copied(),
        }
    }

    fn zero_point(&self) -> i32 {
        match self {
            Quant::PerTensor { zero_point, .. } => *zero_point,
            _ => 0,
        }
    }

    fn channels(&self) -> usize {
        match self {
            Quant::PerChannel { scales, .. } => scales.len(),
            _ => 1,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct TensorDef {
    pub dtype: DType,
    pub shape: Vec<usize>,
    pub quant: Quant,
    /// Constant data (little-endian bytes), `None` for arena tensors.
    pub data: Option<Vec<u8>>,
    /// Persistent state (arena, alive for the whole model).
    pub persistent: bool,
}

impl TensorDef {
    pub fn is_arena(&self) -> bool {
        self.data.is_none()
    }
    pub fn count(&self) -> usize {
        self.shape.iter().product()
    }
    pub fn byte_len(&self) -> usize {
        self.count() * self.dtype.size()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct OpDef {
    pub code: OpCode,
    pub inputs: Vec<u16>,
    pub outputs: Vec<u16>,
    pub options: Vec<i32>,
    pub scratch: usize,
}

/// Convolution geometry and fused activation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConvOptions {
    /// `(stride_h, stride_w)`.
    pub stride: (usize, usize),
    /// `(dilation_h, dilation_w)`.
    pub dilation: (usize, usize),
    /// SAME or VALID.
    pub padding: Padding,
    /// Fused activation.
    pub activation: Activation,
}

impl Default for ConvOptions {
    fn default() -> Self {
        ConvOptions {
            stride: (1, 1),
            dilation: (1, 1),
            padding: Padding::Valid,
            activation: Activation::None,
        }
    }
}

/// Pooling geometry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoolOptions {
    /// `(kernel_h, kernel_w)`.
    pub kernel: (usize, usize),
    /// `(stride_h, stride_w)`.
    pub stride: (usize, usize),
    /// SAME or VALID.
    pub padding: Padding,
    /// Fused activation.
    pub activation: Activation,
}

/// The options of an [`lstm`](ModelBuilder::lstm).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LstmOptions {
    /// Input `[time, batch, in]` instead of `[batch, time, in]`.
    pub time_major: bool,
    /// The cell gate's activation is tanh (Keras' default), else sigmoid.
    pub cell_gate_tanh: bool,
    /// Clip the cell state to `±cell_clip` (real units); 0: no clip.
    pub cell_clip: f32,
}

/// What [`lstm_float`](ModelBuilder::lstm_float) and
/// [`gru`](ModelBuilder::gru) add: the output sequence and the persistent
/// hidden state, which after each invoke holds the last step's hidden
/// state (ONNX's `Y_h`; other ops may read it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecurrentOutput {
    /// The hidden state after every step, `[batch, time, H]` (or
    /// time-major).
    pub output: TensorId,
    /// The hidden state, `[batch, H]`.
    pub hidden: TensorId,
}

/// A model file and what the planner made of it.
#[derive(Debug, Clone)]
pub struct BuiltModel {
    /// The file's bytes (load them 16-aligned: see
    /// [`AlignedModel`](crate::model::AlignedModel)).
    pub bytes: Vec<u8>,
    /// The arena plan's figures.
    pub plan: PlanReport,
}

/// Builds a model graph op by op; see the [module docs](crate::export).
#[derive(Debug, Clone, Default)]
pub struct ModelBuilder {
    tensors: Vec<TensorDef>,
    ops: Vec<OpDef>,
    inputs: Vec<u16>,
    outputs: Vec<u16>,
}

fn f32_bits(x: f32) -> i32 {
    x.to_bits() as i32
}

fn bytes_of<T: Element>(data: &[T]) -> Vec<u8> {
    bytemuck::cast_slice(data).to_vec()
}

impl ModelBuilder {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    fn def(&self, t: TensorId) -> Result<&TensorDef, Error> {
        self.tensors
            .get(t.0 as usize)
            .ok_or(Error::TensorIndexOutOfRange {
                op: u16::MAX,
                index: t.0,
            })
    }

    fn add_tensor(&mut self, def: TensorDef) -> Result<TensorId, Error> {
        crate::tensor::Shape::new(&def.shape)?;
        if def.shape.contains(&0) {
            return Err(Error::ShapeMismatch);
        }
        match &def.quant {
            Quant::PerTensor { scale, zero_point } => {
                if !(scale.is_finite() && *scale > 0.0 && (-128..=127).contains(zero_point)) {
                    return Err(Error::InvalidParameter);
                }
            }
            Quant::PerChannel { scales, axis } => {
                if *axis >= def.shape.len()
                    || scales.len() != def.shape[*axis]
                    || scales.iter().any(|s| !(s.is_finite() && *s > 0.0))
                {
                    return Err(Error::InvalidParameter);
                }
            }
            Quant::None => {}
        }
        let id = u16::try_from(self.tensors.len()).map_err(|_| Error::TooManyEntries)?;
        if id == ABSENT {
            return Err(Error::TooManyEntries);
        }
        self.tensors.push(def);
        Ok(TensorId(id))
    }

    /// Adds a model input of `dtype` and `shape`; int8 inputs need `quant`.
    pub fn input(
        &mut self,
        dtype: DType,
        shape: &[usize],
        quant: Option<Quant>,
    ) -> Result<TensorId, Error> {
        let quant = quant.unwrap_or(Quant::None);
        if dtype == DType::I8 && !matches!(quant, Quant::PerTensor { .. }) {
            return Err(Error::InvalidParameter);
        }
        let t = self.activation(dtype, shape.to_vec(), quant)?;
        self.inputs.push(t.0);
        Ok(t)
    }

    /// The shape of tensor `t`.
    pub fn shape_of(&self, t: TensorId) -> Result<Vec<usize>, Error> {
        Ok(self.def(t)?.shape.clone())
    }

    /// The element type of tensor `t`.
    pub fn dtype_of(&self, t: TensorId) -> Result<DType, Error> {
        Ok(self.def(t)?.dtype)
    }

    /// The quantization of tensor `t`.
    pub fn quant_of(&self, t: TensorId) -> Result<Quant, Error> {
        Ok(self.def(t)?.quant.clone())
    }

    /// Marks `t` as a model output (in call order).
    pub fn output(&mut self, t: TensorId) {
        self.outputs.push(t.0);
    }

    /// Adds a constant tensor.
    pub fn constant<T: Element>(
        &mut self,
        shape: &[usize],
        data: &[T],
        quant: Quant,
    ) -> Result<TensorId, Error> {
        if shape.iter().product::<usize>() != data.len() {
            return Err(Error::LengthMismatch {
                expected: shape.iter().product(),
                got: data.len(),
            });
        }
        self.add_tensor(TensorDef {
            dtype: T::DTYPE,
            shape: shape.to_vec(),
            quant,
            data: Some(bytes_of(data)),
            persistent: false,
        })
    }

    fn activation(
        &mut self,
        dtype: DType,
        shape: Vec<usize>,
        quant: Quant,
    ) -> Result<TensorId, Error> {
        self.add_tensor(TensorDef {
            dtype,
            shape,
            quant,
            data: None,
            persistent: false,
        })
    }

    /// Adds a persistent state tensor (arena, alive for the whole model,
    /// kept across invokes and reset to real zero by the interpreter): the
    /// hidden and cell state of an [`lstm`](Self::lstm).
    pub fn state(
        &mut self,
        dtype: DType,
        shape: &[usize],
        quant: Quant,
    ) -> Result<TensorId, Error> {
        self.add_tensor(TensorDef {
            dtype,
            shape: shape.to_vec(),
            quant,
            data: None,
            persistent: true,
        })
    }

    /// Adds an operator with explicit tensors and option words (the
    /// low-level entry point the typed methods use; the result is checked
    /// when the model is built).
    pub fn add_op(
        &mut self,
        code: OpCode,
        inputs: &[Option<TensorId>],
        outputs: &[TensorId],
        options: Vec<i32>,
    ) {
        self.ops.push(OpDef {
            code,
            inputs: inputs.iter().map(|t| t.map_or(ABSENT, |t| t.0)).collect(),
            outputs: outputs.iter().map(|t| t.0).collect(),
            options,
            scratch: 0,
        });
    }

    /// An output tensor like `x` (dtype) with `shape` and `quant` (for int8,
    /// `quant` must be given; for float it is ignored).
    fn output_like(
        &mut self,
        x: TensorId,
        shape: Vec<usize>,
        quant: Option<Quant>,
    ) -> Result<TensorId, Error> {
        let dtype = self.def(x)?.dtype;
        let quant = if dtype == DType::I8 {
            match quant {
                Some(q @ Quant::PerTensor { .. }) => q,
                _ => return Err(Error::InvalidParameter),
            }
        } else {
            Quant::None
        };
        self.activation(dtype, shape, quant)
    }

    fn nhwc(&self, x: TensorId) -> Result<[usize; 4], Error> {
        let s = &self.def(x)?.shape;
        s.as_slice().try_into().map_err(|_| Error::ShapeMismatch)
    }

    /// `act_min, act_max` words: the int8 clamp for the output, or f32 bits.
    fn clamp_words(&self, out: TensorId, act: Activation) -> Result<[i32; 2], Error> {
        let d = self.def(out)?;
        if d.dtype == DType::I8 {
            let (lo, hi) =
                activation_range_s8(act, d.quant.scale(0).unwrap_or(1.0), d.quant.zero_point());
            Ok([lo, hi])
        } else {
            let (lo, hi) = act.float_range();
            Ok([f32_bits(lo), f32_bits(hi)])
        }
    }

    /// `n, multipliers, shifts` for an int8 conv-like op:
    /// `input_scale × weight_scale[c] / output_scale` per channel, computed
    /// in f64 as TFLite does.
    fn multiplier_words(&self, x: TensorId, w: TensorId, out: TensorId) -> Result<Vec<i32>, Error> {
        let (xd, wd, od) = (self.def(x)?, self.def(w)?, self.def(out)?);
        let n = wd.quant.channels();
        let (xs, os) = (
            xd.quant.scale(0).ok_or(Error::InvalidParameter)?,
            od.quant.scale(0).ok_or(Error::InvalidParameter)?,
        );
        let mut mults = Vec::with_capacity(n);
        let mut shifts = Vec::with_capacity(n);
        for c in 0..n {
            let ws = wd.quant.scale(c).ok_or(Error::InvalidParameter)?;
            let (m, s) = quantize_multiplier(xs as f64 * ws as f64 / os as f64);
            mults.push(m);
            shifts.push(s);
        }
        let mut words = vec![n as i32];
        words.extend(mults);
        words.extend(shifts);
        Ok(words)
    }

    fn conv_like(
        &mut self,
        x: TensorId,
        filter: TensorId,
        bias: Option<TensorId>,
        opts: ConvOptions,
        depth_multiplier: Option<usize>,
        out_quant: Option<Quant>,
    ) -> Result<TensorId, Error> {
        let code = if depth_multiplier.is_some() {
            OpCode::DepthwiseConv2d
        } else {
            OpCode::Conv2d
        };
        let [n, h, w, c] = self.nhwc(x)?;
        let [fo, kh, kw, fc] = self.nhwc(filter)?;
        let oc = match depth_multiplier {
            None if fc == c => fo,
            Some(m) if fo == 1 && fc == c * m => fc,
            _ => return Err(Error::ShapeMismatch),
        };
        let (oh, pt) = opts
            .padding
            .resolve(h, kh, opts.stride.0, opts.dilation.0)
            .ok_or(Error::ShapeMismatch)?;
        let (ow, pl) = opts
            .padding
            .resolve(w, kw, opts.stride.1, opts.dilation.1)
            .ok_or(Error::ShapeMismatch)?;
        let out = self.output_like(x, vec![n, oh, ow, oc], out_quant)?;
        let mut words = vec![
            opts.stride.0 as i32,
            opts.stride.1 as i32,
            opts.dilation.0 as i32,
            opts.dilation.1 as i32,
            pt as i32,
            pl as i32,
        ];
        if let Some(m) = depth_multiplier {
            words.push(m as i32);
        }
        words.extend(self.clamp_words(out, opts.activation)?);
        if self.def(x)?.dtype == DType::I8 {
            words.extend(self.multiplier_words(x, filter, out)?);
        }
        self.add_op(code, &[Some(x), Some(filter), bias], &[out], words);
        Ok(out)
    }

    /// 2-D convolution (filter OHWI). `out_quant` is required for int8.
    pub fn conv2d(
        &mut self,
        x: TensorId,
        filter: TensorId,
        bias: Option<TensorId>,
        opts: ConvOptions,
        out_quant: Option<Quant>,
    ) -> Result<TensorId, Error> {
        self.conv_like(x, filter, bias, opts, None, out_quant)
    }

    /// Depthwise 2-D convolution (filter `[1, KH, KW, C × M]`).
    pub fn depthwise_conv2d(
        &mut self,
        x: TensorId,
        filter: TensorId,
        bias: Option<TensorId>,
        opts: ConvOptions,
        depth_multiplier: usize,
        out_quant: Option<Quant>,
    ) -> Result<TensorId, Error> {
        self.conv_like(
            x,
            filter,
            bias,
            opts,
            Some(depth_multiplier.max(1)),
            out_quant,
        )
    }

    /// Fully connected layer (weights `[OUT, IN]`); the input is flattened
    /// to `[count / IN, IN]`.
    pub fn fully_connected(
        &mut self,
        x: TensorId,
        weights: TensorId,
        bias: Option<TensorId>,
        act: Activation,
        out_quant: Option<Quant>,
    ) -> Result<TensorId, Error> {
        let wd = self.def(weights)?;
        let [out_n, in_n]: [usize; 2] = wd
            .shape
            .as_slice()
            .try_into()
            .map_err(|_| Error::ShapeMismatch)?;
        let count = self.def(x)?.count();
        if count % in_n != 0 {
            return Err(Error::ShapeMismatch);
        }
        let out = self.output_like(x, vec![count / in_n, out_n], out_quant)?;
        let mut words = self.clamp_words(out, act)?.to_vec();
        if self.def(x)?.dtype == DType::I8 {
            words.extend(self.multiplier_words(x, weights, out)?);
        }
        self.add_op(
            OpCode::FullyConnected,
            &[Some(x), Some(weights), bias],
            &[out],
            words,
        );
        Ok(out)
    }

    fn pool(&mut self, code: OpCode, x: TensorId, opts: PoolOptions) -> Result<TensorId, Error> {
        let [n, h, w, c] = self.nhwc(x)?;
        let (oh, pt) = opts
            .padding
            .resolve(h, opts.kernel.0, opts.stride.0, 1)
            .ok_or(Error::ShapeMismatch)?;
        let (ow, pl) = opts
            .padding
            .resolve(w, opts.kernel.1, opts.stride.1, 1)
            .ok_or(Error::ShapeMismatch)?;
        let q = self.def(x)?.quant.clone();
        let out = self.output_like(x, vec![n, oh, ow, c], Some(q))?;
        let mut words = vec![
            opts.kernel.0 as i32,
            opts.kernel.1 as i32,
            opts.stride.0 as i32,
            opts.stride.1 as i32,
            pt as i32,
            pl as i32,
        ];
        words.extend(self.clamp_words(out, opts.activation)?);
        self.add_op(code, &[Some(x)], &[out], words);
        Ok(out)
    }

    /// 2-D max pooling (output quantization = input's).
    pub fn max_pool2d(&mut self, x: TensorId, opts: PoolOptions) -> Result<TensorId, Error> {
        self.pool(OpCode::MaxPool2d, x, opts)
    }

    /// 2-D average pooling (output quantization = input's).
    pub fn avg_pool2d(&mut self, x: TensorId, opts: PoolOptions) -> Result<TensorId, Error> {
        self.pool(OpCode::AvgPool2d, x, opts)
    }

    /// Average over height and width: `[N, H, W, C]` → `[N, C]`
    /// (`[N, 1, 1, C]` with `keep_dims`).
    pub fn global_avg_pool(
        &mut self,
        x: TensorId,
        keep_dims: bool,
        out_quant: Option<Quant>,
    ) -> Result<TensorId, Error> {
        let [n, h, w, c] = self.nhwc(x)?;
        let shape = if keep_dims {
            vec![n, 1, 1, c]
        } else {
            vec![n, c]
        };
        let out = self.output_like(x, shape, out_quant)?;
        let mut words = vec![];
        if self.def(x)?.dtype == DType::I8 {
            let p = reference::GlobalAvgPoolS8::new(self.sz(x)?, self.sz(out)?, h * w)?;
            words = vec![p.multiplier, p.shift];
        }
        self.add_op(OpCode::GlobalAvgPool, &[Some(x)], &[out], words);
        Ok(out)
    }

    fn broadcast_shape(&self, a: TensorId, b: TensorId) -> Result<Vec<usize>, Error> {
        let (sa, sb) = (&self.def(a)?.shape, &self.def(b)?.shape);
        let r = sa.len().max(sb.len());
        let dim = |s: &Vec<usize>, k: usize| {
            if k < r - s.len() {
                1
            } else {
                s[k - (r - s.len())]
            }
        };
        (0..r)
            .map(|k| match (dim(sa, k), dim(sb, k)) {
                (x, y) if x == y || y == 1 => Ok(x),
                (1, y) => Ok(y),
                _ => Err(Error::ShapeMismatch),
            })
            .collect()
    }

    /// `(scale, zero_point)` of a per-tensor tensor (`(1, 0)` otherwise).
    fn sz(&self, t: TensorId) -> Result<(f32, i32), Error> {
        let d = self.def(t)?;
        Ok((d.quant.scale(0).unwrap_or(1.0), d.quant.zero_point()))
    }

    /// Element-wise `a + b` with broadcasting.
    pub fn add(
        &mut self,
        a: TensorId,
        b: TensorId,
        act: Activation,
        out_quant: Option<Quant>,
    ) -> Result<TensorId, Error> {
        let shape = self.broadcast_shape(a, b)?;
        let out = self.output_like(a, shape, out_quant)?;
        let words = if self.def(a)?.dtype == DType::I8 {
            let p = reference::AddS8::new(self.sz(a)?, self.sz(b)?, self.sz(out)?, act)?;
            vec![
                p.left_shift,
                p.input1_multiplier,
                p.input1_shift,
                p.input2_multiplier,
                p.input2_shift,
                p.output_multiplier,
                p.output_shift,
                p.act_min,
                p.act_max,
            ]
        } else {
            self.clamp_words(out, act)?.to_vec()
        };
        self.add_op(OpCode::Add, &[Some(a), Some(b)], &[out], words);
        Ok(out)
    }

    /// Element-wise `a × b` with broadcasting.
    pub fn mul(
        &mut self,
        a: TensorId,
        b: TensorId,
        act: Activation,
        out_quant: Option<Quant>,
    ) -> Result<TensorId, Error> {
        let shape = self.broadcast_shape(a, b)?;
        let out = self.output_like(a, shape, out_quant)?;
        let words = if self.def(a)?.dtype == DType::I8 {
            let p = reference::MulS8::new(self.sz(a)?, self.sz(b)?, self.sz(out)?, act)?;
            vec![p.output_multiplier, p.output_shift, p.act_min, p.act_max]
        } else {
            self.clamp_words(out, act)?.to_vec()
        };
        self.add_op(OpCode::Mul, &[Some(a), Some(b)], &[out], words);
        Ok(out)
    }

    /// An int8 element-wise op (`Relu`, `Relu6`, `LeakyRelu`, `Sigmoid`,
    /// `Tanh`) as a lookup table: `table[i]` is the output for input
    /// `i − 128`; the output has `x`'s shape and `out_quant`. Importers use
    /// it to bake another runtime's exact integer arithmetic into the table.
    pub fn lookup_table(
        &mut self,
        code: OpCode,
        x: TensorId,
        out_quant: Quant,
        table: [i8; 256],
    ) -> Result<TensorId, Error> {
        self.lut_op(code, x, out_quant, table)
    }

    fn lut_op(
        &mut self,
        code: OpCode,
        x: TensorId,
        out_quant: Quant,
        table: [i8; 256],
    ) -> Result<TensorId, Error> {
        let shape = self.def(x)?.shape.clone();
        let out = self.output_like(x, shape, Some(out_quant))?;
        let t = self.constant::<i8>(&[256], &table, Quant::None)?;
        self.add_op(code, &[Some(x), Some(t)], &[out], vec![]);
        Ok(out)
    }

    fn float_unary(
        &mut self,
        code: OpCode,
        x: TensorId,
        words: Vec<i32>,
    ) -> Result<TensorId, Error> {
        let shape = self.def(x)?.shape.clone();
        let out = self.output_like(x, shape, None)?;
        self.add_op(code, &[Some(x)], &[out], words);
        Ok(out)
    }

    fn s8_params(&self, x: TensorId) -> Option<(f32, i32)> {
        let d = self.def(x).ok()?;
        (d.dtype == DType::I8).then(|| self.sz(x).ok()).flatten()
    }

    /// `max(x, 0)`; int8 keeps the input's quantization.
    pub fn relu(&mut self, x: TensorId) -> Result<TensorId, Error> {
        self.relu_like(OpCode::Relu, x, Activation::Relu)
    }

    /// `min(max(x, 0), 6)`; int8 keeps the input's quantization.
    pub fn relu6(&mut self, x: TensorId) -> Result<TensorId, Error> {
        self.relu_like(OpCode::Relu6, x, Activation::Relu6)
    }

    fn relu_like(&mut self, code: OpCode, x: TensorId, act: Activation) -> Result<TensorId, Error> {
        match self.s8_params(x) {
            Some((s, zp)) => {
                let table = reference::relu_table_s8((s, zp), (s, zp), act)?;
                self.lut_op(code, x, Quant::per_tensor(s, zp), table)
            }
            None => self.float_unary(code, x, vec![]),
        }
    }

    /// `x ≥ 0 ? x : αx`; int8 keeps the input's quantization.
    pub fn leaky_relu(&mut self, x: TensorId, alpha: f32) -> Result<TensorId, Error> {
        match self.s8_params(x) {
            Some((s, zp)) => {
                let table = reference::leaky_relu_table_s8(alpha, (s, zp), (s, zp))?;
                self.lut_op(OpCode::LeakyRelu, x, Quant::per_tensor(s, zp), table)
            }
            None => self.float_unary(OpCode::LeakyRelu, x, vec![f32_bits(alpha)]),
        }
    }

    /// Logistic sigmoid; int8 output scale 1/256, zero point −128 (TFLite's).
    pub fn sigmoid(&mut self, x: TensorId) -> Result<TensorId, Error> {
        match self.s8_params(x) {
            Some((s, zp)) => {
                let table = reference::sigmoid_table_s8((s, zp), (1.0 / 256.0, -128))?;
                self.lut_op(
                    OpCode::Sigmoid,
                    x,
                    Quant::per_tensor(1.0 / 256.0, -128),
                    table,
                )
            }
            None => self.float_unary(OpCode::Sigmoid, x, vec![]),
        }
    }

    /// Hyperbolic tangent; int8 output scale 1/128, zero point 0 (TFLite's).
    pub fn tanh(&mut self, x: TensorId) -> Result<TensorId, Error> {
        match self.s8_params(x) {
            Some((s, zp)) => {
                let table = reference::tanh_table_s8((s, zp), (1.0 / 128.0, 0))?;
                self.lut_op(OpCode::Tanh, x, Quant::per_tensor(1.0 / 128.0, 0), table)
            }
            None => self.float_unary(OpCode::Tanh, x, vec![]),
        }
    }

    /// Softmax over the last axis; int8 output scale 1/256, zero point −128.
    pub fn softmax(&mut self, x: TensorId, beta: f32) -> Result<TensorId, Error> {
        let shape = self.def(x)?.shape.clone();
        match self.s8_params(x) {
            Some((s, _)) => {
                let out = self.output_like(x, shape, Some(Quant::per_tensor(1.0 / 256.0, -128)))?;
                let p = reference::SoftmaxS8::new(s, beta)?;
                self.add_op(
                    OpCode::Softmax,
                    &[Some(x)],
                    &[out],
                    vec![p.input_beta_multiplier, p.input_beta_left_shift, p.diff_min],
                );
                Ok(out)
            }
            None => self.float_unary(OpCode::Softmax, x, vec![f32_bits(beta)]),
        }
    }

    /// The same elements with a new shape.
    pub fn reshape(&mut self, x: TensorId, shape: &[usize]) -> Result<TensorId, Error> {
        let d = self.def(x)?.clone();
        if shape.iter().product::<usize>() != d.count() {
            return Err(Error::ShapeMismatch);
        }
        let out = self.activation(d.dtype, shape.to_vec(), d.quant)?;
        self.add_op(OpCode::Reshape, &[Some(x)], &[out], vec![]);
        Ok(out)
    }

    /// Concatenation along `axis` (int8 inputs must share quantization).
    pub fn concatenation(&mut self, xs: &[TensorId], axis: usize) -> Result<TensorId, Error> {
        let first = self.def(*xs.first().ok_or(Error::ShapeMismatch)?)?.clone();
        let mut shape = first.shape.clone();
        if axis >= shape.len() {
            return Err(Error::InvalidParameter);
        }
        shape[axis] = 0;
        for &x in xs {
            let d = self.def(x)?;
            if d.shape.len() != first.shape.len()
                || d.dtype != first.dtype
                || d.quant != first.quant
            {
                return Err(Error::ShapeMismatch);
            }
            shape[axis] += d.shape[axis];
        }
        let out = self.activation(first.dtype, shape, first.quant)?;
        let inputs: Vec<Option<TensorId>> = xs.iter().map(|&x| Some(x)).collect();
        self.add_op(OpCode::Concatenation, &inputs, &[out], vec![axis as i32]);
        Ok(out)
    }

    /// Float → int8 with `quant`, or int8 → int8 with new parameters.
    pub fn quantize(&mut self, x: TensorId, quant: Quant) -> Result<TensorId, Error> {
        let d = self.def(x)?.clone();
        let out = self.activation(DType::I8, d.shape.clone(), quant.clone())?;
        let words = if d.dtype == DType::I8 {
            let p = reference::RequantizeS8::new(self.sz(x)?, self.sz(out)?)?;
            vec![p.multiplier, p.shift]
        } else {
            vec![]
        };
        self.add_op(OpCode::Quantize, &[Some(x)], &[out], words);
        Ok(out)
    }

    /// int8 → `dtype` (f32 or f16).
    pub fn dequantize(&mut self, x: TensorId, dtype: DType) -> Result<TensorId, Error> {
        let shape = self.def(x)?.shape.clone();
        let out = self.activation(dtype, shape, Quant::None)?;
        self.add_op(OpCode::Dequantize, &[Some(x)], &[out], vec![]);
        Ok(out)
    }

    /// Constant padding: `before[k]` and `after[k]` elements around
    /// dimension `k`.
    pub fn pad(
        &mut self,
        x: TensorId,
        before: &[usize],
        after: &[usize],
    ) -> Result<TensorId, Error> {
        let d = self.def(x)?.clone();
        let r = d.shape.len();
        if before.len() != r || after.len() != r {
            return Err(Error::ShapeMismatch);
        }
        let shape: Vec<usize> = (0..r).map(|k| d.shape[k] + before[k] + after[k]).collect();
        let out = self.activation(d.dtype, shape, d.quant)?;
        let mut words = vec![0i32; 4];
        for (w, &b) in words.iter_mut().zip(before) {
            *w = b as i32;
        }
        self.add_op(OpCode::Pad, &[Some(x)], &[out], words);
        Ok(out)
    }

    /// A strided slice ([`OpCode::StridedSlice`]): along each dimension `k`
    /// of `x`, `count[k]` indices from `begin[k]` in steps of `stride[k]`
    /// (negative walks backwards). The output has shape `out_shape`, any
    /// shape holding `count[0]·count[1]·…` elements (a dimension of count
    /// 1 may be dropped), with `x`'s element type and quantization.
    pub fn strided_slice(
        &mut self,
        x: TensorId,
        begin: &[usize],
        stride: &[i32],
        count: &[usize],
        out_shape: &[usize],
    ) -> Result<TensorId, Error> {
        let d = self.def(x)?.clone();
        let r = d.shape.len();
        if r > 4 || begin.len() != r || stride.len() != r || count.len() != r {
            return Err(Error::ShapeMismatch);
        }
        let mut window = reference::SliceWindow {
            begin: [0; 4],
            stride: [1; 4],
            count: [1; 4],
        };
        let mut dims = [1usize; 4];
        for k in 0..r {
            let e = 4 - r + k;
            (window.begin[e], window.stride[e], window.count[e]) = (begin[k], stride[k], count[k]);
            dims[e] = d.shape[k];
        }
        window.check(dims)?;
        if out_shape.iter().product::<usize>() != window.len() {
            return Err(Error::ShapeMismatch);
        }
        let out = self.activation(d.dtype, out_shape.to_vec(), d.quant)?;
        let mut words = Vec::with_capacity(12);
        words.extend(window.begin.map(|b| b as i32));
        words.extend(window.stride);
        words.extend(window.count.map(|c| c as i32));
        self.add_op(OpCode::StridedSlice, &[Some(x)], &[out], words);
        Ok(out)
    }

    /// An int8 LSTM ([`OpCode::Lstm`], TFLite's
    /// `UNIDIRECTIONAL_SEQUENCE_LSTM`): `x` int8 `[batch, time, in]`
    /// (`[time, batch, in]` when `opts.time_major`), gates
    /// `[input, forget, cell, output]` with int8 per-tensor weights
    /// (`[state, in]` and `[state, state]`, zero point 0) and int32
    /// biases, `hidden` (int8) and `cell` (int16, zero point 0) state
    /// tensors made with [`state`](Self::state). The output is int8
    /// `[.., .., state]` with `out_quant`.
    ///
    /// The option words are derived as TFLite Micro's `Prepare` does: gate
    /// products to Q3.12 (`scale_x·scale_W / 2⁻¹²`, f64, `QuantizeMultiplier`),
    /// the inter-gate products from the Q0.15 gate outputs
    /// (`2⁻¹⁵·scale_c / scale_c`, `2⁻¹⁵·2⁻¹⁵ / scale_c`,
    /// `2⁻¹⁵·2⁻¹⁵ / scale_h`), the cell scale's power of two (`CheckedLog2`,
    /// in f32) and the quantized clip `clip / scale_c` truncated to int16.
    #[allow(clippy::too_many_arguments)]
    pub fn lstm(
        &mut self,
        x: TensorId,
        input_weights: [TensorId; 4],
        recurrent_weights: [TensorId; 4],
        biases: [TensorId; 4],
        hidden: TensorId,
        cell: TensorId,
        opts: LstmOptions,
        out_quant: Quant,
    ) -> Result<TensorId, Error> {
        let xd = self.def(x)?;
        let [d0, d1, _]: [usize; 3] = xd
            .shape
            .as_slice()
            .try_into()
            .map_err(|_| Error::ShapeMismatch)?;
        let x_scale = xd.quant.scale(0).ok_or(Error::InvalidParameter)?;
        let h_scale = self
            .def(hidden)?
            .quant
            .scale(0)
            .ok_or(Error::InvalidParameter)?;
        let c_scale = self
            .def(cell)?
            .quant
            .scale(0)
            .ok_or(Error::InvalidParameter)?;
        let state = self
            .def(input_weights[0])?
            .shape
            .first()
            .copied()
            .ok_or(Error::ShapeMismatch)?;
        let q = |real: f64| {
            let (m, s) = quantize_multiplier(real);
            [m, s]
        };
        // 2⁻¹²: the gates' int16 pre-activation scale (Q3.12); 2⁻¹⁵: the
        // activations' output scale (Q0.15).
        let (pre, act) = (1.0f32 / 4096.0, 1.0f32 / 32768.0);
        let fc = |w: TensorId, in_scale: f32| -> Result<[i32; 2], Error> {
            let ws = match &self.def(w)?.quant {
                Quant::PerTensor {
                    scale,
                    zero_point: 0,
                } => *scale,
                _ => return Err(Error::InvalidParameter),
            };
            Ok(q(in_scale as f64 * ws as f64 / pre as f64))
        };
        // CheckedLog2: log(x) · (1 / log 2) in f32, rounded.
        let power = (c_scale.ln() * (1.0f32 / 2.0f32.ln())).round() as i32;
        let clip = if opts.cell_clip > 0.0 {
            (opts.cell_clip as f64 / c_scale as f64).clamp(-32768.0, 32767.0) as i16 as i32
        } else {
            -1
        };
        let mut words = vec![
            opts.time_major as i32,
            if opts.cell_gate_tanh { 0 } else { 1 },
            clip,
            power,
        ];
        for w in input_weights {
            words.extend(fc(w, x_scale)?);
        }
        for w in recurrent_weights {
            words.extend(fc(w, h_scale)?);
        }
        let prod = |a: f32, b: f32, out: f32| q(a as f64 * b as f64 / out as f64);
        words.extend(prod(act, c_scale, c_scale));
        words.extend(prod(act, act, c_scale));
        words.extend(prod(act, act, h_scale));
        let out = self.output_like(x, vec![d0, d1, state], Some(out_quant))?;
        let mut inputs = vec![Some(x)];
        inputs.extend(input_weights.map(Some));
        inputs.extend(recurrent_weights.map(Some));
        inputs.extend(biases.map(Some));
        inputs.extend([Some(hidden), Some(cell)]);
        self.add_op(OpCode::Lstm, &inputs, &[out], words);
        Ok(out)
    }

    /// The `(batch, hidden)` of a float recurrent op on `x` with weights
    /// `[gates·hidden, in]`, and its output shape.
    fn recurrent_dims(
        &self,
        x: TensorId,
        weights: TensorId,
        gates: usize,
        time_major: bool,
    ) -> Result<(usize, usize, Vec<usize>), Error> {
        let xd = self.def(x)?;
        if !matches!(xd.dtype, DType::F32 | DType::F16) {
            return Err(Error::DTypeMismatch);
        }
        let [d0, d1, _]: [usize; 3] = xd
            .shape
            .as_slice()
            .try_into()
            .map_err(|_| Error::ShapeMismatch)?;
        let rows = *self
            .def(weights)?
            .shape
            .first()
            .ok_or(Error::ShapeMismatch)?;
        if rows == 0 || rows % gates != 0 {
            return Err(Error::ShapeMismatch);
        }
        let hidden = rows / gates;
        let batch = if time_major { d1 } else { d0 };
        Ok((batch, hidden, vec![d0, d1, hidden]))
    }

    /// A float LSTM ([`OpCode::Lstm`] with f32 or f16 tensors, ONNX's
    /// `LSTM` and PyTorch's `nn.LSTM`): `x` `[batch, time, in]`
    /// (`[time, batch, in]` when `time_major`), constants of `x`'s type
    /// `weights` `[4·H, in]`, `recurrent` `[4·H, H]` and `bias` `[4·H]`
    /// (the sum of the input and recurrent biases), gates `i, f, g, o`.
    /// Adds the persistent hidden and cell state (`[batch, H]` each, zero
    /// at start and after
    /// [`reset_state`](crate::model::Interpreter::reset_state)) and
    /// returns the output, the hidden state after every step
    /// (`[batch, time, H]`, or time-major), and the hidden state.
    pub fn lstm_float(
        &mut self,
        x: TensorId,
        weights: TensorId,
        recurrent: TensorId,
        bias: TensorId,
        time_major: bool,
    ) -> Result<RecurrentOutput, Error> {
        let (batch, hidden, shape) = self.recurrent_dims(x, weights, 4, time_major)?;
        let dtype = self.def(x)?.dtype;
        let h = self.state(dtype, &[batch, hidden], Quant::None)?;
        let c = self.state(dtype, &[batch, hidden], Quant::None)?;
        let out = self.output_like(x, shape, None)?;
        self.add_op(
            OpCode::Lstm,
            &[
                Some(x),
                Some(weights),
                Some(recurrent),
                Some(bias),
                Some(h),
                Some(c),
            ],
            &[out],
            vec![time_major as i32],
        );
        Ok(RecurrentOutput {
            output: out,
            hidden: h,
        })
    }

    /// A float GRU ([`OpCode::Gru`], ONNX's `GRU`): `x` `[batch, time, in]`
    /// (`[time, batch, in]` when `time_major`), constants of `x`'s type
    /// `weights` `[3·H, in]`, `recurrent` `[3·H, H]` and `bias` `[6·H]`
    /// (input biases, then recurrent biases), gates in ONNX's order
    /// `z, r, n` (PyTorch stores `r, z, n`); `linear_before_reset` as ONNX
    /// defines it (PyTorch's GRU is 1). Adds the persistent hidden state
    /// `[batch, H]` (and, for `linear_before_reset = false`, an `[H]`
    /// scratch) and returns the output, the hidden state after every
    /// step, and the hidden state.
    pub fn gru(
        &mut self,
        x: TensorId,
        weights: TensorId,
        recurrent: TensorId,
        bias: TensorId,
        time_major: bool,
        linear_before_reset: bool,
    ) -> Result<RecurrentOutput, Error> {
        let (batch, hidden, shape) = self.recurrent_dims(x, weights, 3, time_major)?;
        let dtype = self.def(x)?.dtype;
        let h = self.state(dtype, &[batch, hidden], Quant::None)?;
        let mut inputs = vec![Some(x), Some(weights), Some(recurrent), Some(bias), Some(h)];
        if !linear_before_reset {
            inputs.push(Some(self.state(dtype, &[hidden], Quant::None)?));
        }
        let out = self.output_like(x, shape, None)?;
        self.add_op(
            OpCode::Gru,
            &inputs,
            &[out],
            vec![time_major as i32, linear_before_reset as i32],
        );
        Ok(RecurrentOutput {
            output: out,
            hidden: h,
        })
    }

    /// Plans the arena, writes the model file and validates it.
    pub fn build(&self) -> Result<BuiltModel, Error> {
        let (bytes, plan) = writer::write(&self.tensors, &self.ops, &self.inputs, &self.outputs)?;
        let aligned = crate::model::AlignedModel::new(&bytes);
        crate::model::Model::from_bytes(aligned.as_bytes())?;
        Ok(BuiltModel { bytes, plan })
    }
}
