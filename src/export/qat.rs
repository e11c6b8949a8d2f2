//! Quantization-aware training (QAT): fine-tune a model while simulating
//! int8 quantization, so that the exported int8 model loses less accuracy.
//!
//! [`prepare_qat`] lowers a trained model exactly as the exporter will
//! (BatchNorm folded, activations fused) and rebuilds it as a trainable
//! `Sequential` in which
//! - every convolution and linear layer uses its weights fake-quantized per
//!   output channel (symmetric, `[-127, 127]`, as the exporter quantizes
//!   them) — [`QatConv2d`], [`QatLinear`];
//! - every tensor the int8 model requantizes (the model input, the output
//!   of each convolution, linear layer and global average pool) passes
//!   through a [`FakeQuant`] layer that learns its range (exponential moving
//!   average of the batch minimum and maximum while training) and rounds
//!   values to that int8 grid.
//!
//! Fake quantization uses the straight-through estimator: the forward pass
//! returns the quantized-dequantized value, the backward pass lets the
//! gradient through unchanged inside the representable range and stops it
//! outside (the clamp's gradient), as TensorFlow's `fake_quant` ops do.
//!
//! After fine-tuning (with the usual `fit`), [`export_sequential`](super::export_sequential)
//! exports the QAT model directly: it reads the learned ranges from the
//! `FakeQuant` layers, so no calibration data is needed.

use super::calibrate::{quant_params, weight_scales};
use super::sequential::{lower, ExportError, Stage};
use crate::autograd::Tensor;
use crate::kernels::Padding;
use crate::nn::{self, Module, Sequential};
use crate::quant::{dequantize_value, quantize_value, round_half_away, Activation};
use std::any::Any;
use std::string::String;
use std::sync::Mutex;
use std::vec::Vec;

/// `x` rounded to the int8 grid of the range `[lo, hi]`, with the
/// straight-through estimator's gradient (1 inside the representable
/// range, 0 outside).
pub fn fake_quantize(x: &Tensor, lo: f32, hi: f32) -> Tensor {
    let (scale, zp) = quant_params(lo, hi);
    let (qlo, qhi) = (
        dequantize_value(-128, scale, zp),
        dequantize_value(127, scale, zp),
    );
    let clamped = x.clamp(qlo, qhi);
    let delta: Vec<f32> = x
        .data()
        .iter()
        .map(|&v| {
            let q = dequantize_value(quantize_value(v, scale, zp) as i32, scale, zp);
            q - v.clamp(qlo, qhi)
        })
        .collect();
    // Value: the quantized one; gradient: the clamp's.
    clamped.add(&Tensor::from_vec(delta, x.shape()))
}

/// Weights fake-quantized per output channel (the first axis), as the
/// exporter quantizes them; the gradient passes straight through.
pub fn fake_quantize_weights(w: &Tensor) -> Tensor {
    let shape = w.shape().to_vec();
    let data = w.data();
    let scales = weight_scales(&data, shape[0]);
    let per = data.len() / shape[0].max(1);
    let delta: Vec<f32> = data
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let s = scales[i / per.max(1)];
            round_half_away(v / s).clamp(-127.0, 127.0) * s - v
        })
        .collect();
    drop(data);
    w.add(&Tensor::from_vec(delta, &shape))
}

#[derive(Debug, Clone, Copy)]
struct Range {
    lo: f32,
    hi: f32,
    seen: bool,
}

/// Learns a tensor's range while training and fake-quantizes it to int8.
#[derive(Debug)]
pub struct FakeQuant {
    range: Mutex<Range>,
    momentum: f32,
    fixed: bool,
    training: bool,
}

impl Default for FakeQuant {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeQuant {
    /// A layer that learns its range: the first training batch's min/max,
    /// then an exponential moving average with momentum 0.1.
    pub fn new() -> Self {
        FakeQuant {
            range: Mutex::new(Range {
                lo: 0.0,
                hi: 0.0,
                seen: false,
            }),
            momentum: 0.1,
            fixed: false,
            training: true,
        }
    }

    /// A layer with a fixed range (the fixed output quantization of
    /// sigmoid, tanh and softmax).
    pub fn fixed(lo: f32, hi: f32) -> Self {
        FakeQuant {
            range: Mutex::new(Range { lo, hi, seen: true }),
            momentum: 0.0,
            fixed: true,
            training: true,
        }
    }

    /// The learned range, once a batch has been seen.
    pub fn range(&self) -> Option<(f32, f32)> {
        let r = *self.range.lock().unwrap_or_else(|e| e.into_inner());
        r.seen.then_some((r.lo, r.hi))
    }
}

impl Module for FakeQuant {
    fn forward(&self, x: &Tensor) -> Tensor {
        let mut r = self.range.lock().unwrap_or_else(|e| e.into_inner());
        if self.training && !self.fixed {
            let data = x.data();
            let (lo, hi) = data
                .iter()
                .filter(|v| v.is_finite())
                .fold((0f32, 0f32), |(lo, hi), &v| (lo.min(v), hi.max(v)));
            drop(data);
            if r.seen {
                r.lo += self.momentum * (lo - r.lo);
                r.hi += self.momentum * (hi - r.hi);
            } else {
                *r = Range { lo, hi, seen: true };
            }
        }
        if !r.seen {
            return x.clone();
        }
        let (lo, hi) = (r.lo, r.hi);
        drop(r);
        fake_quantize(x, lo, hi)
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    fn is_training(&self) -> bool {
        self.training
    }

    fn describe(&self) -> String {
        match self.range() {
            Some((lo, hi)) => format!("FakeQuant([{lo:.4}, {hi:.4}])"),
            None => "FakeQuant(unobserved)".into(),
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A convolution whose weights are fake-quantized per output channel.
pub struct QatConv2d {
    /// The convolution (its weights stay in float; the forward pass
    /// quantizes them).
    pub inner: nn::Conv2d,
}

impl Module for QatConv2d {
    fn forward(&self, x: &Tensor) -> Tensor {
        let s = x.shape();
        assert!(s.len() == 4, "QatConv2d expects NHWC input, got {s:?}");
        let p = self.inner.params_for(s[1], s[2]);
        x.conv2d(
            &fake_quantize_weights(&self.inner.weight),
            self.inner.bias.as_ref(),
            p,
        )
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        self.inner.named_parameters()
    }
    fn describe(&self) -> String {
        format!("Qat{}", self.inner.describe())
    }
    fn macs(&self, input: &[usize], output: &[usize]) -> u64 {
        self.inner.macs(input, output)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A linear layer whose weights are fake-quantized per output channel.
pub struct QatLinear {
    /// The linear layer.
    pub inner: nn::Linear,
}

impl Module for QatLinear {
    fn forward(&self, x: &Tensor) -> Tensor {
        x.linear(
            &fake_quantize_weights(&self.inner.weight),
            self.inner.bias.as_ref(),
        )
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        self.inner.named_parameters()
    }
    fn describe(&self) -> String {
        format!("Qat{}", self.inner.describe())
    }
    fn macs(&self, input: &[usize], output: &[usize]) -> u64 {
        self.inner.macs(input, output)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn param(data: Vec<f32>, shape: &[usize]) -> Tensor {
    Tensor::from_vec(data, shape).requires_grad_(true)
}

fn nn_padding(p: Padding) -> nn::Padding {
    match p {
        Padding::Same => nn::Padding::Same,
        Padding::Valid => nn::Padding::Valid,
    }
}

/// Rebuilds `model` (switched to evaluation mode, so BatchNorm folds with
/// its running statistics) for quantization-aware training; see the
/// [module docs](self). The returned model is in training mode and owns new
/// parameter tensors, initialised from `model`'s.
pub fn prepare_qat(
    model: &mut Sequential,
    input_shape: &[usize],
) -> Result<Sequential, ExportError> {
    model.eval();
    let mut one = vec![1usize];
    one.extend_from_slice(input_shape);
    let shapes: Vec<Vec<usize>> = model
        .forward_trace(&Tensor::zeros(&one))
        .iter()
        .map(|t| t.shape().to_vec())
        .collect();
    let (stages, _) = lower(model, input_shape, &shapes)?;
    let mut q = Sequential::new().add(FakeQuant::new());
    let act_layer = |q: Sequential, act: Activation| match act {
        Activation::Relu => q.add(nn::ReLU),
        Activation::Relu6 => q.add(nn::ReLU6),
        _ => q,
    };
    for l in stages {
        q = match l.stage {
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
                let groups = depth_multiplier.map_or(1, |m| shape[0] / m);
                let conv = nn::Conv2d {
                    weight: param(w, &shape),
                    bias: Some(param(bias, &[shape[0]])),
                    stride,
                    padding: nn_padding(padding),
                    dilation,
                    groups,
                };
                act_layer(q.add(QatConv2d { inner: conv }), act).add(FakeQuant::new())
            }
            Stage::Dense {
                w,
                shape,
                bias,
                act,
            } => {
                let lin = nn::Linear {
                    weight: param(w, &shape),
                    bias: Some(param(bias, &[shape[0]])),
                };
                act_layer(q.add(QatLinear { inner: lin }), act).add(FakeQuant::new())
            }
            Stage::MaxPool(p) => q.add(nn::MaxPool2d {
                kernel: [p.kernel.0, p.kernel.1],
                stride: [p.stride.0, p.stride.1],
                padding: nn_padding(p.padding),
            }),
            Stage::AvgPool(p) => q.add(nn::AvgPool2d {
                kernel: [p.kernel.0, p.kernel.1],
                stride: [p.stride.0, p.stride.1],
                padding: nn_padding(p.padding),
            }),
            Stage::GlobalAvg => q.add(nn::GlobalAvgPool).add(FakeQuant::new()),
            Stage::Flatten => q.add(nn::Flatten),
            Stage::Relu => q.add(nn::ReLU),
            Stage::Relu6 => q.add(nn::ReLU6),
            Stage::LeakyRelu(a) => q.add(nn::LeakyReLU(a)),
            // The int8 outputs of these have fixed quantization (TFLite's).
            Stage::Sigmoid => q.add(nn::Sigmoid).add(FakeQuant::fixed(0.0, 255.0 / 256.0)),
            Stage::Tanh => q.add(nn::Tanh).add(FakeQuant::fixed(-1.0, 127.0 / 128.0)),
            Stage::Softmax => q
                .add(nn::Softmax(-1))
                .add(FakeQuant::fixed(0.0, 255.0 / 256.0)),
        };
    }
    q.train();
    Ok(q)
}
