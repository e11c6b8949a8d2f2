//! Exporting a trained [`Sequential`] model to a model file: int8 (post-
//! training quantization), f16 or f32.
//!
//! The walk over the layers first *lowers* the network into the operators
//! the file can hold:
//! - BatchNorm is folded into the convolution or linear layer before it
//!   (`w' = w·γ/σ`, `b' = (b − μ)·γ/σ + β` per output channel, σ from the
//!   running variance), so it costs nothing on the device;
//! - ReLU / ReLU6 right after a convolution or linear layer become that
//!   op's output clamp (TFLite's fused activation);
//! - Flatten is a reshape (free: the planner aliases it); Dropout vanishes;
//! - a grouped convolution with one input channel per group is a depthwise
//!   convolution (filter transposed to `[1, KH, KW, C·M]`).
//!
//! For int8, the calibration data runs through the float model (in
//! evaluation mode) and every exported op's output range is observed
//! ([`Calibration`]); weights are quantized per output channel
//! (symmetric, `[-127, 127]`), biases to int32 at `input_scale ×
//! weight_scale`. A layer the format cannot express is an
//! [`ExportError::UnsupportedLayer`] naming it.

use super::calibrate::{
    quant_params, quantize_bias, quantize_weights, weight_scales, Calibration, RangeObserver,
};
use super::{ConvOptions, ModelBuilder, PlanReport, PoolOptions, Quant, TensorId};
use crate::autograd::Tensor;
use crate::kernels::Padding;
use crate::nn::{self, Module, Sequential};
use crate::quant::Activation;
use crate::tensor::DType;
use half::f16;
use std::fmt;
use std::string::{String, ToString};
use std::vec::Vec;

/// The element type of an exported model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportDtype {
    /// int8 activations and weights (post-training quantization).
    Int8,
    /// half-precision weights and activations.
    F16,
    /// f32 throughout.
    F32,
}

/// How to export.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExportOptions {
    /// Element type.
    pub dtype: ExportDtype,
    /// How int8 activation ranges are chosen.
    pub calibration: Calibration,
    /// Append a softmax over the last axis (for a classifier trained on
    /// logits with cross-entropy).
    pub softmax: bool,
}

impl ExportOptions {
    /// int8 with min/max calibration.
    pub fn int8() -> Self {
        ExportOptions {
            dtype: ExportDtype::Int8,
            calibration: Calibration::MinMax,
            softmax: false,
        }
    }

    /// The same options with another element type.
    pub fn dtype(mut self, dtype: ExportDtype) -> Self {
        self.dtype = dtype;
        self
    }

    /// The same options with a softmax appended.
    pub fn with_softmax(mut self) -> Self {
        self.softmax = true;
        self
    }

    /// The same options with another calibration method.
    pub fn calibration(mut self, c: Calibration) -> Self {
        self.calibration = c;
        self
    }
}

/// Why a model could not be exported.
#[derive(Debug, Clone, PartialEq)]
pub enum ExportError {
    /// A layer the model file cannot express.
    UnsupportedLayer {
        /// Its position in the `Sequential`.
        index: usize,
        /// Its description.
        layer: String,
        /// Why.
        reason: String,
    },
    /// Calibration samples whose size is not a multiple of the input's.
    CalibrationShape {
        /// Values per sample the model takes.
        expected: usize,
        /// Values given.
        got: usize,
    },
    /// int8 export without calibration samples.
    NoCalibrationData,
    /// The model file could not be built.
    Format(crate::Error),
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportError::UnsupportedLayer { index, layer, reason } => {
                write!(f, "layer {index} ({layer}) cannot be exported: {reason}")
            }
            ExportError::CalibrationShape { expected, got } => write!(
                f,
                "calibration data has {got} values, not a multiple of the {expected} of one input sample"
            ),
            ExportError::NoCalibrationData => f.write_str("int8 export needs calibration samples"),
            ExportError::Format(e) => write!(f, "model file: {e}"),
        }
    }
}

impl std::error::Error for ExportError {}

impl From<crate::Error> for ExportError {
    fn from(e: crate::Error) -> Self {
        ExportError::Format(e)
    }
}

/// One exported operator: what the exporter prints.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerReport {
    /// The op and its kernel (`conv2d_s8`).
    pub op: String,
    /// Its output shape.
    pub output_shape: Vec<usize>,
    /// Multiply-accumulates per inference.
    pub macs: u64,
}

/// An exported model file and its figures.
#[derive(Debug, Clone)]
pub struct ExportedModel {
    /// The model file.
    pub bytes: Vec<u8>,
    /// The arena plan.
    pub plan: PlanReport,
    /// Every operator, in order.
    pub layers: Vec<LayerReport>,
    /// The input's `(scale, zero_point)` for int8 models.
    pub input_quant: Option<(f32, i32)>,
}

impl ExportedModel {
    /// Total multiply-accumulates per inference.
    pub fn macs(&self) -> u64 {
        self.layers.iter().map(|l| l.macs).sum()
    }
}

impl fmt::Display for ExportedModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  {:<22} {:<16} {:>10}", "op", "output", "MACs")?;
        for l in &self.layers {
            writeln!(
                f,
                "  {:<22} {:<16} {:>10}",
                l.op,
                format!("{:?}", l.output_shape),
                l.macs
            )?;
        }
        writeln!(
            f,
            "  model {} bytes, arena {} bytes (lower bound {}), {} MACs",
            self.bytes.len(),
            self.plan.arena_size,
            self.plan.lower_bound,
            self.macs()
        )
    }
}

/// A lowered operator.
#[derive(Debug, Clone)]
pub(super) enum Stage {
    Conv {
        /// OHWI (`[C·M, KH, KW, 1]` when depthwise).
        w: Vec<f32>,
        shape: [usize; 4],
        bias: Vec<f32>,
        stride: [usize; 2],
        dilation: [usize; 2],
        padding: Padding,
        depth_multiplier: Option<usize>,
        act: Activation,
    },
    Dense {
        w: Vec<f32>,
        shape: [usize; 2],
        bias: Vec<f32>,
        act: Activation,
    },
    MaxPool(PoolOptions),
    AvgPool(PoolOptions),
    GlobalAvg,
    Flatten,
    Relu,
    Relu6,
    LeakyRelu(f32),
    Sigmoid,
    Tanh,
    Softmax,
}

/// A stage, the index of the layer whose output is its output (for
/// calibration), and the output range a quantization-aware-training
/// `FakeQuant` layer after it learned, if any.
pub(super) struct Lowered {
    pub(super) stage: Stage,
    pub(super) layer: usize,
    pub(super) range: Option<(f32, f32)>,
}

fn unsupported(index: usize, layer: &dyn Module, reason: &str) -> ExportError {
    ExportError::UnsupportedLayer {
        index,
        layer: layer.describe(),
        reason: reason.to_string(),
    }
}

fn padding_of(
    index: usize,
    layer: &dyn Module,
    p: &nn::Padding,
    input: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    dilation: [usize; 2],
) -> Result<Padding, ExportError> {
    match p {
        nn::Padding::Valid => Ok(Padding::Valid),
        nn::Padding::Same => Ok(Padding::Same),
        nn::Padding::Explicit(pads) => {
            // Explicit pads the device can run are those of SAME or VALID.
            for (cand, label) in [(Padding::Same, "same"), (Padding::Valid, "valid")] {
                let ok = (0..2).all(|a| {
                    let before = cand
                        .resolve(input[a], kernel[a], stride[a], dilation[a])
                        .map(|(_, b)| b);
                    let want = nn::Padding::Explicit(pads.clone()).resolve(
                        a,
                        input[a],
                        kernel[a],
                        stride[a],
                        dilation[a],
                    );
                    let same_total = match cand {
                        Padding::Valid => want == [0, 0],
                        Padding::Same => {
                            crate::autograd::same_padding(
                                input[a],
                                kernel[a],
                                stride[a],
                                dilation[a],
                            ) == want
                        }
                    };
                    before == Some(want[0]) && same_total
                });
                if ok {
                    let _ = label;
                    return Ok(cand);
                }
            }
            Err(unsupported(
                index,
                layer,
                "explicit padding other than SAME or VALID",
            ))
        }
    }
}

fn vec_of(t: &Tensor) -> Vec<f32> {
    t.to_vec()
}

/// A lowered model: its stages and the input's range when a `FakeQuant`
/// layer comes first.
pub(super) type LoweredModel = (Vec<Lowered>, Option<(f32, f32)>);

/// Lowers the layers, folding and fusing; `shapes[i]` is layer i's output
/// shape (batch first) for one sample.
pub(super) fn lower(
    model: &Sequential,
    input_shape: &[usize],
    shapes: &[Vec<usize>],
) -> Result<LoweredModel, ExportError> {
    let mut out: Vec<Lowered> = Vec::new();
    let mut input_range = None;
    for (i, layer) in model.layers().iter().enumerate() {
        let any = layer.as_any();
        let in_shape: Vec<usize> = if i == 0 {
            let mut s = vec![1];
            s.extend_from_slice(input_shape);
            s
        } else {
            shapes[i - 1].clone()
        };
        let stage = if let Some(fq) = any.downcast_ref::<super::qat::FakeQuant>() {
            match out.last_mut() {
                Some(prev) if prev.layer + 1 == i => {
                    prev.range = fq.range();
                    prev.layer = i;
                }
                None if i == 0 => input_range = fq.range(),
                _ => {
                    return Err(unsupported(
                        i,
                        layer.as_ref(),
                        "FakeQuant must follow an exported operator",
                    ))
                }
            }
            continue;
        } else if let Some(conv) = any.downcast_ref::<nn::Conv2d>() {
            lower_conv(i, layer.as_ref(), conv, &in_shape)?
        } else if let Some(conv) = any.downcast_ref::<super::qat::QatConv2d>() {
            lower_conv(i, layer.as_ref(), &conv.inner, &in_shape)?
        } else if let Some(dw) = any.downcast_ref::<nn::DepthwiseConv2d>() {
            lower_conv(i, layer.as_ref(), &dw.conv, &in_shape)?
        } else if let Some(lin) = any.downcast_ref::<super::qat::QatLinear>() {
            dense(&lin.inner)
        } else if let Some(lin) = any.downcast_ref::<nn::Linear>() {
            let ws = lin.weight.shape().to_vec();
            let w = vec_of(&lin.weight);
            let bias = lin
                .bias
                .as_ref()
                .map(vec_of)
                .unwrap_or_else(|| vec![0.0; ws[0]]);
            Stage::Dense {
                w,
                shape: [ws[0], ws[1]],
                bias,
                act: Activation::None,
            }
        } else if let Some(bn) = any.downcast_ref::<nn::BatchNorm>() {
            let Some(prev) = last_fusable(&mut out, i) else {
                return Err(unsupported(
                    i,
                    layer.as_ref(),
                    "BatchNorm must follow a convolution or linear layer",
                ));
            };
            fold_batch_norm(&mut prev.stage, bn);
            prev.layer = i;
            continue;
        } else if any.is::<nn::ReLU>() || any.is::<nn::ReLU6>() {
            let act = if any.is::<nn::ReLU>() {
                Activation::Relu
            } else {
                Activation::Relu6
            };
            if let Some(prev) = last_fusable(&mut out, i) {
                match &mut prev.stage {
                    Stage::Conv { act: a, .. } | Stage::Dense { act: a, .. } => *a = act,
                    _ => {}
                }
                prev.layer = i;
                continue;
            }
            if act == Activation::Relu {
                Stage::Relu
            } else {
                Stage::Relu6
            }
        } else if any.is::<nn::Dropout>() {
            if let Some(prev) = out.last_mut() {
                if prev.layer + 1 == i {
                    prev.layer = i;
                }
            }
            continue;
        } else if any.is::<nn::Flatten>() {
            Stage::Flatten
        } else if let Some(p) = any.downcast_ref::<nn::MaxPool2d>() {
            Stage::MaxPool(pool_options(
                i,
                layer.as_ref(),
                p.kernel,
                p.stride,
                &p.padding,
                &in_shape,
            )?)
        } else if let Some(p) = any.downcast_ref::<nn::AvgPool2d>() {
            Stage::AvgPool(pool_options(
                i,
                layer.as_ref(),
                p.kernel,
                p.stride,
                &p.padding,
                &in_shape,
            )?)
        } else if any.is::<nn::GlobalAvgPool>() {
            Stage::GlobalAvg
        } else if let Some(l) = any.downcast_ref::<nn::LeakyReLU>() {
            Stage::LeakyRelu(l.0)
        } else if any.is::<nn::Sigmoid>() {
            Stage::Sigmoid
        } else if any.is::<nn::Tanh>() {
            Stage::Tanh
        } else if let Some(s) = any.downcast_ref::<nn::Softmax>() {
            if s.0 != -1 && s.0 != in_shape.len() as isize - 1 {
                return Err(unsupported(
                    i,
                    layer.as_ref(),
                    "softmax over an axis other than the last",
                ));
            }
            Stage::Softmax
        } else {
            return Err(unsupported(
                i,
                layer.as_ref(),
                "no edgegrad operator computes this layer",
            ));
        };
        out.push(Lowered {
            stage,
            layer: i,
            range: None,
        });
    }
    Ok((out, input_range))
}

fn dense(lin: &nn::Linear) -> Stage {
    let ws = lin.weight.shape().to_vec();
    let w = vec_of(&lin.weight);
    let bias = lin
        .bias
        .as_ref()
        .map(vec_of)
        .unwrap_or_else(|| vec![0.0; ws[0]]);
    Stage::Dense {
        w,
        shape: [ws[0], ws[1]],
        bias,
        act: Activation::None,
    }
}

/// The conv/linear stage right before layer `i`, if it has no activation
/// yet (so a BatchNorm or ReLU at `i` can fold or fuse into it).
fn last_fusable(out: &mut [Lowered], i: usize) -> Option<&mut Lowered> {
    match out.last_mut() {
        Some(l)
            if matches!(
                l.stage,
                Stage::Conv {
                    act: Activation::None,
                    ..
                } | Stage::Dense {
                    act: Activation::None,
                    ..
                }
            ) && l.layer + 1 == i =>
        {
            Some(l)
        }
        _ => None,
    }
}

fn lower_conv(
    i: usize,
    layer: &dyn Module,
    conv: &nn::Conv2d,
    in_shape: &[usize],
) -> Result<Stage, ExportError> {
    let ws = conv.weight.shape().to_vec();
    let [o, kh, kw, ig] = [ws[0], ws[1], ws[2], ws[3]];
    if in_shape.len() != 4 {
        return Err(unsupported(i, layer, "convolution input is not NHWC"));
    }
    let c = in_shape[3];
    let w = vec_of(&conv.weight);
    let bias = conv
        .bias
        .as_ref()
        .map(vec_of)
        .unwrap_or_else(|| vec![0.0; o]);
    let padding = padding_of(
        i,
        layer,
        &conv.padding,
        [in_shape[1], in_shape[2]],
        [kh, kw],
        conv.stride,
        conv.dilation,
    )?;
    let depth_multiplier = if conv.groups == 1 {
        None
    } else if conv.groups == c && ig == 1 {
        Some(o / c)
    } else {
        return Err(unsupported(
            i,
            layer,
            "grouped convolution that is neither dense nor depthwise",
        ));
    };
    Ok(Stage::Conv {
        w,
        shape: [o, kh, kw, ig],
        bias,
        stride: conv.stride,
        dilation: conv.dilation,
        padding,
        depth_multiplier,
        act: Activation::None,
    })
}

fn pool_options(
    i: usize,
    layer: &dyn Module,
    kernel: [usize; 2],
    stride: [usize; 2],
    p: &nn::Padding,
    in_shape: &[usize],
) -> Result<PoolOptions, ExportError> {
    if in_shape.len() != 4 {
        return Err(unsupported(i, layer, "pooling input is not NHWC"));
    }
    let padding = padding_of(
        i,
        layer,
        p,
        [in_shape[1], in_shape[2]],
        kernel,
        stride,
        [1, 1],
    )?;
    Ok(PoolOptions {
        kernel: (kernel[0], kernel[1]),
        stride: (stride[0], stride[1]),
        padding,
        activation: Activation::None,
    })
}

/// Folds an (evaluation-mode) BatchNorm into the conv/linear stage before it.
fn fold_batch_norm(stage: &mut Stage, bn: &nn::BatchNorm) {
    let gamma = vec_of(&bn.weight);
    let beta = vec_of(&bn.bias);
    let mean = vec_of(&bn.running_mean);
    let var = vec_of(&bn.running_var);
    let factor: Vec<f32> = (0..gamma.len())
        .map(|c| gamma[c] / (var[c] + bn.eps).sqrt())
        .collect();
    let (w, bias) = match stage {
        Stage::Conv { w, bias, .. } | Stage::Dense { w, bias, .. } => (w, bias),
        _ => return,
    };
    // Output channels are the first axis (OHWI, or [out, in]).
    let n = factor.len();
    let per = w.len() / n;
    for (i, v) in w.iter_mut().enumerate() {
        *v *= factor[i / per];
    }
    for c in 0..n {
        bias[c] = (bias[c] - mean[c]) * factor[c] + beta[c];
    }
}

/// Exports `model` (switched to evaluation mode) for inputs of
/// `input_shape` (one sample, without the batch axis). int8 needs
/// `calibration`: samples laid end to end, `input_shape` each.
pub fn export_sequential(
    model: &mut Sequential,
    input_shape: &[usize],
    calibration: Option<&[f32]>,
    opts: &ExportOptions,
) -> Result<ExportedModel, ExportError> {
    model.eval();
    let per_sample: usize = input_shape.iter().product();
    // One sample's output shapes, to lower with.
    let mut one = vec![1usize];
    one.extend_from_slice(input_shape);
    let probe = Tensor::zeros(&one);
    let shapes: Vec<Vec<usize>> = model
        .forward_trace(&probe)
        .iter()
        .map(|t| t.shape().to_vec())
        .collect();
    let (stages, input_range) = lower(model, input_shape, &shapes)?;

    // Output ranges: learned by quantization-aware training (FakeQuant
    // layers) where present, else observed on the calibration data.
    let needs_range = |s: &Stage| {
        matches!(
            s,
            Stage::Conv { .. } | Stage::Dense { .. } | Stage::GlobalAvg
        )
    };
    let learned = input_range.is_some()
        && stages
            .iter()
            .all(|l| l.range.is_some() || !needs_range(&l.stage));
    let mut input_obs = RangeObserver::new();
    let mut obs: Vec<RangeObserver> = stages.iter().map(|_| RangeObserver::new()).collect();
    if opts.dtype == ExportDtype::Int8 && !learned {
        let data = calibration
            .filter(|d| !d.is_empty())
            .ok_or(ExportError::NoCalibrationData)?;
        if data.len() % per_sample != 0 {
            return Err(ExportError::CalibrationShape {
                expected: per_sample,
                got: data.len(),
            });
        }
        input_obs.observe(data);
        for chunk in data.chunks(256 * per_sample) {
            let mut shape = vec![chunk.len() / per_sample];
            shape.extend_from_slice(input_shape);
            let trace = model.forward_trace(&Tensor::from_vec(chunk.to_vec(), &shape));
            for (o, s) in obs.iter_mut().zip(&stages) {
                o.observe(&trace[s.layer].data());
            }
        }
    }
    let to_quant = |(lo, hi): (f32, f32)| {
        let (s, zp) = quant_params(lo, hi);
        Quant::per_tensor(s, zp)
    };
    let range_of = |learned: Option<(f32, f32)>, o: &RangeObserver| {
        to_quant(learned.unwrap_or_else(|| o.range(opts.calibration)))
    };

    let mut b = ModelBuilder::new();
    let (dtype, input_quant) = match opts.dtype {
        ExportDtype::Int8 => {
            let Quant::PerTensor { scale, zero_point } = range_of(input_range, &input_obs) else {
                unreachable!()
            };
            (DType::I8, Some((scale, zero_point)))
        }
        ExportDtype::F16 => (DType::F16, None),
        ExportDtype::F32 => (DType::F32, None),
    };
    let mut x = b.input(
        dtype,
        &one,
        input_quant.map(|(s, z)| Quant::per_tensor(s, z)),
    )?;
    for (lowered, o) in stages.iter().zip(&obs) {
        let out_q = (dtype == DType::I8).then(|| range_of(lowered.range, o));
        x = emit(&mut b, x, &lowered.stage, dtype, out_q)?;
    }
    if opts.softmax && !matches!(stages.last().map(|s| &s.stage), Some(Stage::Softmax)) {
        x = b.softmax(x, 1.0)?;
    }
    b.output(x);
    let built = b.build()?;
    let layers = report(&built.bytes)?;
    Ok(ExportedModel {
        bytes: built.bytes,
        plan: built.plan,
        layers,
        input_quant,
    })
}

/// Adds one stage to the builder.
fn emit(
    b: &mut ModelBuilder,
    x: TensorId,
    stage: &Stage,
    dtype: DType,
    out_q: Option<Quant>,
) -> Result<TensorId, ExportError> {
    let x_scale = match b.quant_of(x)? {
        Quant::PerTensor { scale, .. } => scale,
        _ => 1.0,
    };
    let konst = |b: &mut ModelBuilder,
                 w: &[f32],
                 shape: &[usize],
                 axis_channels: Option<(usize, usize)>|
     -> Result<TensorId, crate::Error> {
        match dtype {
            DType::I8 => {
                let (axis, n) = axis_channels.unwrap_or((0, shape[0]));
                let scales = if axis == 0 {
                    weight_scales(w, n)
                } else {
                    // Channel-last layout ([1, KH, KW, C·M]): scales per last index.
                    let mut m = vec![0f32; n];
                    for (i, v) in w.iter().enumerate() {
                        m[i % n] = m[i % n].max(v.abs());
                    }
                    m.iter()
                        .map(|&v| if v > 0.0 { v / 127.0 } else { 1.0 })
                        .collect()
                };
                let q: Vec<i8> = if axis == 0 {
                    quantize_weights(w, &scales)
                } else {
                    w.iter()
                        .enumerate()
                        .map(|(i, &v)| {
                            crate::quant::round_half_away(v / scales[i % n]).clamp(-127.0, 127.0)
                                as i8
                        })
                        .collect()
                };
                b.constant(shape, &q, Quant::PerChannel { scales, axis })
            }
            DType::F16 => b.constant(
                shape,
                &w.iter().map(|&v| f16::from_f32(v)).collect::<Vec<_>>(),
                Quant::None,
            ),
            _ => b.constant(shape, w, Quant::None),
        }
    };
    let bias_of =
        |b: &mut ModelBuilder, bias: &[f32], wq: TensorId| -> Result<TensorId, crate::Error> {
            match dtype {
                DType::I8 => {
                    let scales = b.quant_of(wq).map(|q| match q {
                        Quant::PerChannel { scales, .. } => scales,
                        Quant::PerTensor { scale, .. } => vec![scale],
                        Quant::None => vec![1.0],
                    })?;
                    b.constant(
                        &[bias.len()],
                        &quantize_bias(bias, x_scale, &scales),
                        Quant::None,
                    )
                }
                DType::F16 => b.constant(
                    &[bias.len()],
                    &bias.iter().map(|&v| f16::from_f32(v)).collect::<Vec<_>>(),
                    Quant::None,
                ),
                _ => b.constant(&[bias.len()], bias, Quant::None),
            }
        };
    Ok(match stage {
        Stage::Conv {
            w,
            shape,
            bias,
            stride,
            dilation,
            padding,
            depth_multiplier,
            act,
        } => {
            let wt = if depth_multiplier.is_some() {
                // OHWI [C·M, KH, KW, 1] → the device's [1, KH, KW, C·M].
                let [o, kh, kw, _] = *shape;
                let mut t = vec![0f32; w.len()];
                for oc in 0..o {
                    for k in 0..kh * kw {
                        t[k * o + oc] = w[oc * kh * kw + k];
                    }
                }
                konst(b, &t, &[1, kh, kw, o], Some((3, o)))?
            } else {
                konst(b, w, shape, None)?
            };
            let bt = bias_of(b, bias, wt)?;
            let opts = ConvOptions {
                stride: (stride[0], stride[1]),
                dilation: (dilation[0], dilation[1]),
                padding: *padding,
                activation: *act,
            };
            match depth_multiplier {
                Some(m) => b.depthwise_conv2d(x, wt, Some(bt), opts, *m, out_q)?,
                None => b.conv2d(x, wt, Some(bt), opts, out_q)?,
            }
        }
        Stage::Dense {
            w,
            shape,
            bias,
            act,
        } => {
            let wt = konst(b, w, shape, None)?;
            let bt = bias_of(b, bias, wt)?;
            b.fully_connected(x, wt, Some(bt), *act, out_q)?
        }
        Stage::MaxPool(p) => b.max_pool2d(x, *p)?,
        Stage::AvgPool(p) => b.avg_pool2d(x, *p)?,
        Stage::GlobalAvg => b.global_avg_pool(x, false, out_q)?,
        Stage::Flatten => {
            let n = b.shape_of(x)?.iter().product::<usize>();
            b.reshape(x, &[1, n])?
        }
        Stage::Relu => b.relu(x)?,
        Stage::Relu6 => b.relu6(x)?,
        Stage::LeakyRelu(a) => b.leaky_relu(x, *a)?,
        Stage::Sigmoid => b.sigmoid(x)?,
        Stage::Tanh => b.tanh(x)?,
        Stage::Softmax => b.softmax(x, 1.0)?,
    })
}

/// Per-op names, output shapes and MACs of a model file.
fn report(bytes: &[u8]) -> Result<Vec<LayerReport>, crate::Error> {
    let file = crate::model::AlignedModel::new(bytes);
    let model = crate::model::Model::from_bytes(file.as_bytes())?;
    let mut out = Vec::new();
    for i in 0..model.num_ops() {
        let op = model.op(i)?;
        let kt = model.kernel_type(&op).map_or("?", |k| k.suffix());
        let shape = model.tensor(op.outputs[0])?.shape.dims().to_vec();
        out.push(LayerReport {
            op: format!("{}_{kt}", op.code.name()),
            output_shape: shape,
            macs: crate::model::ops::macs(&model, &op),
        });
    }
    Ok(out)
}
