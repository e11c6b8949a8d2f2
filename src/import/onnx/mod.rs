//! ONNX import: a float ONNX model (as `torch.onnx.export` writes it, with
//! the TorchScript exporter or the current one) to an f32, f16 or int8
//! model file.
//!
//! Three stages:
//! 1. [`proto`]: protobuf decoding with hand-declared messages mirroring
//!    `onnx.proto`'s field numbers (no `protoc`); malformed bytes are an
//!    [`OnnxError::Decode`], never a panic.
//! 2. `lower`: ONNX's NCHW graph to edgegrad's NHWC operators. Filters go
//!    from OIHW to OHWI (depthwise, `group` = channels, to
//!    `[1, KH, KW, C·M]`); every activation remembers its layout, so a
//!    `Flatten` after a convolution costs nothing and the fully connected
//!    layer after it reads its weight columns in HWC order; BatchNorm is
//!    folded, Relu / Clip(0, 6) fused, Identity / Dropout removed, integer
//!    shape arithmetic folded to constants.
//! 3. `emit`: through [`ModelBuilder`](crate::export::ModelBuilder). For
//!    int8, the f32 model is built first with every intermediate tensor as
//!    an output, the calibration samples run through the host
//!    [`Interpreter`], each tensor's range is observed
//!    ([`RangeObserver`]), and the int8 model gets per-channel symmetric
//!    weights, int32 biases and per-tensor activation parameters. The last
//!    [`ConvertOptions::holdout`] of the samples are not used for ranges:
//!    they measure the int8 model's top-1 agreement with the f32 one.
//!
//! The device model's input and outputs are stored channels-last: a 4-D
//! ONNX input `[1, C, H, W]` becomes `[1, H, W, C]`. [`IoInfo`] says so and
//! converts samples ([`IoInfo::to_device`], [`IoInfo::from_device`]).
//! Calibration samples are given in ONNX's layout.
//!
//! Supported operators: Conv (dense, depthwise), Gemm, MatMul (+ Add),
//! BatchNormalization, Relu, Clip, LeakyRelu, Sigmoid, Tanh, Softmax (last
//! axis), MaxPool, AveragePool (pads equal to SAME or VALID),
//! GlobalAveragePool, ReduceMean (spatial), Add, Sub, Mul, Div (by a
//! constant), Concat, Flatten, Reshape, Squeeze, Unsqueeze, Transpose
//! (NCHW → NHWC or moving unit axes only), Slice (constant starts, ends,
//! axes and steps, rank ≤ 4; an NCHW value is sliced in its channels-last
//! storage),
//! Identity, Dropout, Constant, and on constants Shape, Gather, Cast,
//! Expand, arithmetic; LSTM and GRU (forward direction, default
//! activations, no clip, `initial_h`/`initial_c` absent or zero,
//! `sequence_lens` absent or the full length; `layout` 0 or 1; the GRU with
//! either `linear_before_reset`), whose `Y` and `Y_h` may both be used; a
//! Gather of one constant index of an activation: along a unit axis (a
//! reshape), the last time step of an LSTM/GRU output sequence (which
//! reads the op's persistent hidden state: PyTorch's `out[:, -1]` and
//! `h[-1]`), or any other index of an activation in ONNX order (a strided
//! slice, e.g. `out[:, 2]`). A bidirectional layer or the LSTM's `Y_c` are
//! [`OnnxError::Unsupported`] naming the node. In int8 models the LSTM is
//! the integer `lstm_s8` (TFLite's integer LSTM): per-gate symmetric int8
//! weights, int32 biases, the hidden state int8 over its calibrated range
//! and the int16 cell state with the power-of-two scale covering the
//! largest calibrated |c| (both observed by running the float LSTM one
//! step at a time over the calibration samples); the GRU, which has no
//! int8 kernel, runs in f32 between a Dequantize and a Quantize.
//! Converted recurrent models keep their state
//! across invokes: reset it
//! ([`Interpreter::reset_state`](crate::model::Interpreter::reset_state))
//! before each independent sequence. Anything else is an
//! [`OnnxError::UnsupportedOp`] naming the op and the node.

mod emit;
mod lower;
pub mod proto;
mod tensor;

use crate::export::calibrate::{quant_params, RangeObserver};
use crate::export::{Calibration, ExportDtype, PlanReport};
use crate::model::{AlignedModel, Interpreter, Model, OpResolver};
use crate::quant::quantize_value;
use crate::tensor::DType;
use half::f16;
use prost::Message;
use std::collections::HashMap;
use std::fmt;
use std::string::String;
use std::vec::Vec;

/// Why an ONNX model could not be converted.
#[derive(Debug, Clone, PartialEq)]
pub enum OnnxError {
    /// The bytes are not an ONNX protobuf.
    Decode(String),
    /// Decodable, but inconsistent (bad tensor data, missing graph, …).
    Malformed(String),
    /// A node reads a tensor nothing defines.
    MissingTensor {
        /// The node's index in the graph.
        node: usize,
        /// Its op type.
        op: String,
        /// The missing tensor's name.
        name: String,
    },
    /// An operator the importer does not handle.
    UnsupportedOp {
        /// The node's index in the graph.
        node: usize,
        /// Its op type (with its domain when not the default).
        op: String,
        /// The node's name.
        name: String,
    },
    /// A supported operator used in a way the device cannot compute.
    Unsupported {
        /// The node's index (`None` for the graph's inputs and outputs).
        node: Option<usize>,
        /// Its op type.
        op: String,
        /// Why.
        reason: String,
    },
    /// Missing or ill-shaped calibration data.
    Calibration(String),
    /// The model file could not be built.
    Format(crate::Error),
}

impl fmt::Display for OnnxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OnnxError::Decode(e) => write!(f, "not an ONNX model: {e}"),
            OnnxError::Malformed(e) => write!(f, "malformed ONNX model: {e}"),
            OnnxError::MissingTensor { node, op, name } => {
                write!(
                    f,
                    "node {node} ({op}) reads tensor '{name}', which nothing defines"
                )
            }
            OnnxError::UnsupportedOp { node, op, name } => {
                write!(f, "node {node} ({op}")?;
                if !name.is_empty() {
                    write!(f, " '{name}'")?;
                }
                write!(f, "): unsupported op {op}")
            }
            OnnxError::Unsupported {
                node: Some(node),
                op,
                reason,
            } => write!(f, "node {node} ({op}): {reason}"),
            OnnxError::Unsupported {
                node: None, reason, ..
            } => write!(f, "{reason}"),
            OnnxError::Calibration(e) => write!(f, "calibration: {e}"),
            OnnxError::Format(e) => write!(f, "model file: {e}"),
        }
    }
}

impl std::error::Error for OnnxError {}

impl From<crate::Error> for OnnxError {
    fn from(e: crate::Error) -> Self {
        OnnxError::Format(e)
    }
}

/// How to convert.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConvertOptions {
    /// Element type of the model file.
    pub dtype: ExportDtype,
    /// How int8 activation ranges are chosen.
    pub calibration: Calibration,
    /// The fraction of calibration samples (the last ones) held out from
    /// range estimation to measure int8 top-1 agreement, in `[0, 1)`.
    pub holdout: f32,
}

impl ConvertOptions {
    /// Options for `dtype`: min/max calibration, 20% held out.
    pub fn new(dtype: ExportDtype) -> Self {
        ConvertOptions {
            dtype,
            calibration: Calibration::MinMax,
            holdout: 0.2,
        }
    }
}

/// A model input or output: its ONNX name and shape, and its layout on
/// the device.
#[derive(Debug, Clone, PartialEq)]
pub struct IoInfo {
    /// The ONNX name.
    pub name: String,
    /// The ONNX shape (batch 1).
    pub onnx_shape: Vec<usize>,
    /// The shape the device model holds.
    pub device_shape: Vec<usize>,
    /// Device element `i` is ONNX element `order[i]` (`None`: the same
    /// order).
    pub order: Option<Vec<usize>>,
}

impl IoInfo {
    fn new(name: &str, a: &lower::Act) -> Self {
        let order = match (a.layout, a.shape.as_slice()) {
            (lower::Layout::Nchw, &[_, c, h, w]) | (lower::Layout::FlatChw { c, h, w }, _)
                if c > 1 && h * w > 1 =>
            {
                let mut o = Vec::with_capacity(c * h * w);
                for y in 0..h {
                    for x in 0..w {
                        for ch in 0..c {
                            o.push((ch * h + y) * w + x);
                        }
                    }
                }
                Some(o)
            }
            _ => None,
        };
        IoInfo {
            name: name.into(),
            onnx_shape: a.shape.clone(),
            device_shape: a.stored(),
            order,
        }
    }

    /// One sample in ONNX's layout → the device's.
    pub fn to_device(&self, onnx: &[f32]) -> Vec<f32> {
        match &self.order {
            None => onnx.to_vec(),
            Some(o) => o
                .iter()
                .map(|&i| onnx.get(i).copied().unwrap_or(0.0))
                .collect(),
        }
    }

    /// One sample in the device's layout → ONNX's.
    pub fn from_device(&self, device: &[f32]) -> Vec<f32> {
        match &self.order {
            None => device.to_vec(),
            Some(o) => {
                let mut out = vec![0f32; device.len()];
                for (&i, &v) in o.iter().zip(device) {
                    if let Some(d) = out.get_mut(i) {
                        *d = v;
                    }
                }
                out
            }
        }
    }

    /// Elements per sample.
    pub fn len(&self) -> usize {
        self.onnx_shape.iter().product()
    }

    /// Whether a sample has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// int8 top-1 agreement with the f32 model on the held-out samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agreement {
    /// Held-out samples where the int8 and f32 models pick the same class.
    pub agree: usize,
    /// Held-out samples.
    pub total: usize,
}

impl Agreement {
    /// `agree / total` (1 when there are none).
    pub fn ratio(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.agree as f64 / self.total as f64
        }
    }
}

/// A converted model.
#[derive(Debug, Clone)]
pub struct Converted {
    /// The model file.
    pub bytes: Vec<u8>,
    /// The arena plan.
    pub plan: PlanReport,
    /// The model input.
    pub input: IoInfo,
    /// The model outputs, in ONNX's order.
    pub outputs: Vec<IoInfo>,
    /// The input's `(scale, zero_point)` for int8 models.
    pub input_quant: Option<(f32, i32)>,
    /// int8 only: agreement with the f32 model on the held-out samples.
    pub agreement: Option<Agreement>,
    /// Operators in the model file.
    pub ops: usize,
}

/// Decodes and lowers `onnx` without building a model (to check it).
fn parse(onnx: &[u8]) -> Result<(lower::Ir, Vec<String>, String), OnnxError> {
    let model = proto::ModelProto::decode(onnx).map_err(|e| OnnxError::Decode(e.to_string()))?;
    let graph = model
        .graph
        .as_ref()
        .ok_or_else(|| OnnxError::Malformed("no graph".into()))?;
    let opset = model
        .opset_import
        .iter()
        .filter(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map(|o| o.version)
        .max()
        .unwrap_or(1);
    let ir = lower::lower(graph, opset)?;
    let outs = graph.output.iter().map(|o| o.name.clone()).collect();
    let input = graph
        .input
        .iter()
        .find(|i| !graph.initializer.iter().any(|t| t.name == i.name))
        .map(|i| i.name.clone())
        .unwrap_or_default();
    Ok((ir, outs, input))
}

/// The position of the largest value (first on ties).
fn argmax<T: PartialOrd + Copy>(v: &[T]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

/// Converts an ONNX model. `calibration` holds samples laid end to end in
/// ONNX's input layout (needed for int8, ignored otherwise).
pub fn convert(
    onnx: &[u8],
    calibration: Option<&[f32]>,
    opts: &ConvertOptions,
) -> Result<Converted, OnnxError> {
    let (ir, out_names, in_name) = parse(onnx)?;
    let input = IoInfo::new(&in_name, &ir.input);
    let outputs: Vec<IoInfo> = ir
        .outputs
        .iter()
        .zip(&out_names)
        .map(|(a, n)| IoInfo::new(n, a))
        .collect();
    let dtype = match opts.dtype {
        ExportDtype::F32 => DType::F32,
        ExportDtype::F16 => DType::F16,
        ExportDtype::Int8 => DType::I8,
    };
    let finish = |built: crate::export::BuiltModel,
                  input_quant: Option<(f32, i32)>,
                  agreement: Option<Agreement>|
     -> Result<Converted, OnnxError> {
        let file = AlignedModel::new(&built.bytes);
        let ops = Model::from_bytes(file.as_bytes())?.num_ops();
        Ok(Converted {
            bytes: built.bytes,
            plan: built.plan,
            input: input.clone(),
            outputs: outputs.clone(),
            input_quant,
            agreement,
            ops,
        })
    };
    if dtype != DType::I8 {
        let e = emit::emit(&ir, dtype, None, None, false)?;
        return finish(e.built, None, None);
    }

    // int8: observe every value's range on the calibration part.
    let per = input.len();
    let data = calibration.filter(|d| !d.is_empty()).ok_or_else(|| {
        OnnxError::Calibration("int8 conversion needs calibration samples".into())
    })?;
    if per == 0 || data.len() % per != 0 {
        return Err(OnnxError::Calibration(format!(
            "{} values are not a whole number of samples of {per}",
            data.len()
        )));
    }
    let n = data.len() / per;
    if !(0.0..1.0).contains(&opts.holdout) {
        return Err(OnnxError::Calibration("holdout must be in [0, 1)".into()));
    }
    let held = ((n as f64 * opts.holdout as f64).round() as usize).min(n.saturating_sub(1));
    let calib = n - held;
    let probe = emit::emit(&ir, DType::F32, None, None, true)?;
    // LSTMs (int8 through `lstm_s8`): their hidden and cell ranges over
    // every step, from a step-by-step float run on their calibrated inputs.
    let lstms: Vec<(usize, &lower::Recurrent)> = ir
        .ops
        .iter()
        .filter_map(|op| match &op.kind {
            lower::Kind::Recurrent(r) if r.gru.is_none() => Some((op.out, &**r)),
            _ => None,
        })
        .collect();
    let mut lstm_ranges: HashMap<usize, emit::LstmRange> = lstms
        .iter()
        .map(|&(v, _)| (v, emit::LstmRange::new()))
        .collect();
    let pfile = AlignedModel::new(&probe.built.bytes);
    let pmodel = Model::from_bytes(pfile.as_bytes())?;
    let resolver = OpResolver::all();
    let mut parena = vec![0u8; pmodel.arena_size() + 16];
    let mut obs: Vec<RangeObserver> = (0..ir.n_values).map(|_| RangeObserver::new()).collect();
    let mut float_top1 = Vec::with_capacity(held);
    {
        let mut interp = Interpreter::new(&pmodel, &resolver, &mut parena)?;
        for s in 0..n {
            let sample = input.to_device(&data[s * per..(s + 1) * per]);
            interp.input_mut::<f32>(0)?.copy_from_slice(&sample);
            // Each sample is its own sequence: recurrent state from zero.
            interp.reset_state()?;
            interp.invoke()?;
            if s < calib {
                obs[ir.input.id].observe(&sample);
                for (k, &v) in probe.output_values.iter().enumerate() {
                    obs[v].observe(interp.output::<f32>(k)?);
                }
                for &(v, r) in &lstms {
                    let x = if r.x == ir.input.id {
                        &sample[..]
                    } else {
                        let k = probe
                            .output_values
                            .iter()
                            .position(|&o| o == r.x)
                            .ok_or_else(|| {
                                OnnxError::Malformed("internal: LSTM input not observed".into())
                            })?;
                        interp.output::<f32>(k)?
                    };
                    if let Some(range) = lstm_ranges.get_mut(&v) {
                        observe_lstm(r, x, range)?;
                    }
                }
            } else {
                float_top1.push(argmax(interp.output::<f32>(0)?));
            }
        }
    }
    let ranges: Vec<(f32, f32)> = obs.iter().map(|o| o.range(opts.calibration)).collect();
    let e = emit::emit(&ir, DType::I8, Some(&ranges), Some(&lstm_ranges), false)?;
    let (scale, zp) = quant_params(ranges[ir.input.id].0, ranges[ir.input.id].1);

    // Top-1 agreement on the held-out samples.
    let file = AlignedModel::new(&e.built.bytes);
    let model = Model::from_bytes(file.as_bytes())?;
    let mut arena = vec![0u8; model.arena_size() + 16];
    let mut interp = Interpreter::new(&model, &resolver, &mut arena)?;
    let mut agree = 0;
    for (k, s) in (calib..n).enumerate() {
        let sample = input.to_device(&data[s * per..(s + 1) * per]);
        let q: Vec<i8> = sample
            .iter()
            .map(|&v| quantize_value(v, scale, zp))
            .collect();
        interp.input_mut::<i8>(0)?.copy_from_slice(&q);
        interp.reset_state()?;
        interp.invoke()?;
        if argmax(interp.output::<i8>(0)?) == float_top1[k] {
            agree += 1;
        }
    }
    let agreement = Agreement { agree, total: held };
    finish(e.built, Some((scale, zp)), Some(agreement))
}

/// Runs LSTM `r` one step at a time on its input `x` (device layout,
/// one sample) from zero state, widening `range` with every step's hidden
/// state and cell state.
fn observe_lstm(
    r: &lower::Recurrent,
    x: &[f32],
    range: &mut emit::LstmRange,
) -> Result<(), OnnxError> {
    use crate::kernels::reference::lstm::{lstm_f32, LstmWeights, RecurrentDims};
    let (b, t, f, h) = (r.batch, r.time, r.input, r.hidden);
    if x.len() != b * t * f {
        return Err(OnnxError::Malformed("internal: LSTM input size".into()));
    }
    let w = LstmWeights {
        input: &r.w,
        recurrent: &r.r,
        bias: Some(&r.bias),
    };
    let dims = RecurrentDims {
        batch: b,
        time: 1,
        input_dim: f,
        hidden_dim: h,
        time_major: true,
    };
    let (mut hs, mut cs, mut out) = (vec![0f32; b * h], vec![0f32; b * h], vec![0f32; b * h]);
    let mut step = vec![0f32; b * f];
    for ti in 0..t {
        for bi in 0..b {
            let at = if r.time_major {
                (ti * b + bi) * f
            } else {
                (bi * t + ti) * f
            };
            step[bi * f..(bi + 1) * f].copy_from_slice(&x[at..at + f]);
        }
        lstm_f32(&step, &w, &mut hs, &mut cs, &mut out, &dims)?;
        for &v in &out {
            range.hidden = (range.hidden.0.min(v), range.hidden.1.max(v));
        }
        for &v in &cs {
            range.cell_max = range.cell_max.max(v.abs());
        }
    }
    Ok(())
}

/// Checks that `onnx` decodes and lowers (no model is built).
pub fn check(onnx: &[u8]) -> Result<(), OnnxError> {
    parse(onnx).map(|_| ())
}

/// The model input of `onnx` (decoded and lowered, no model built), e.g.
/// to check calibration samples' shape before converting.
pub fn input_info(onnx: &[u8]) -> Result<IoInfo, OnnxError> {
    let (ir, _, name) = parse(onnx)?;
    Ok(IoInfo::new(&name, &ir.input))
}

/// Converts float16 samples to f32 (calibration files may be either).
pub fn f16_to_f32(v: &[f16]) -> Vec<f32> {
    v.iter().map(|x| x.to_f32()).collect()
}
