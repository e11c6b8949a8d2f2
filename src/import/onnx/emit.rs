//! From the lowered graph to a model file through [`ModelBuilder`]: f32,
//! f16, or int8 with ranges observed on calibration data.

use super::lower::{Ir, Kind, Operand, Unary};
use super::OnnxError;
use crate::export::calibrate::{quant_params, quantize_bias, quantize_weights, weight_scales};
use crate::export::{BuiltModel, ConvOptions, ModelBuilder, Quant, TensorId};
use crate::quant::{round_half_away, Activation};
use crate::tensor::DType;
use half::f16;
use std::collections::HashMap;
use std::vec::Vec;

/// A built model and, for every model output, the IR value it holds.
pub(super) struct Emitted {
    pub built: BuiltModel,
    pub output_values: Vec<usize>,
}

fn per_tensor((lo, hi): (f32, f32)) -> Quant {
    let (s, zp) = quant_params(lo, hi);
    Quant::per_tensor(s, zp)
}

/// What calibration observed inside an LSTM (int8 only): the range of its
/// hidden state and the largest |cell state| over every step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct LstmRange {
    pub hidden: (f32, f32),
    pub cell_max: f32,
}

impl LstmRange {
    pub fn new() -> Self {
        LstmRange {
            hidden: (0.0, 0.0),
            cell_max: 0.0,
        }
    }
}

/// Per-tensor symmetric int8 weights (zero point 0) and their scale.
fn symmetric_i8(w: &[f32]) -> (f32, Vec<i8>) {
    let m = w.iter().fold(0f32, |a, v| a.max(v.abs()));
    let s = if m > 0.0 { m / 127.0 } else { 1.0 };
    let q = w
        .iter()
        .map(|&v| round_half_away(v / s).clamp(-127.0, 127.0) as i8)
        .collect();
    (s, q)
}

/// The int16 cell state's scale: the smallest power of two `2^p` with
/// `cell_max ≤ 32767·2^p`, within what the int8 LSTM takes.
fn cell_power(cell_max: f32) -> i32 {
    let range = crate::kernels::reference::lstm::CELL_POWER_RANGE;
    let p = if cell_max > 0.0 {
        (cell_max as f64 / 32767.0).log2().ceil() as i32
    } else {
        *range.start()
    };
    p.clamp(*range.start(), *range.end())
}

struct Emitter<'r> {
    b: ModelBuilder,
    dtype: DType,
    /// Per IR value, its observed range (int8 only).
    ranges: Option<&'r [(f32, f32)]>,
    /// Per LSTM op (its IR value), its inner ranges (int8 only).
    lstm: Option<&'r HashMap<usize, LstmRange>>,
    t: Vec<Option<TensorId>>,
    /// The hidden state tensor of each recurrent op's IR value.
    state: HashMap<usize, TensorId>,
}

impl Emitter<'_> {
    fn lstm_range(&self, out: usize) -> Option<LstmRange> {
        match self.dtype {
            DType::I8 => self.lstm.and_then(|m| m.get(&out)).copied(),
            _ => None,
        }
    }

    /// An LSTM in an int8 model as the int8 `lstm_s8` (TFLite's integer
    /// LSTM): each gate's input and recurrent weights per-tensor symmetric
    /// int8, int32 biases at `scale_x·scale_W`, the hidden state (and the
    /// output sequence) int8 over the calibrated hidden range, the cell
    /// state int16 with the power-of-two scale covering the calibrated
    /// largest |c|.
    fn lstm_s8(
        &mut self,
        r: &super::lower::Recurrent,
        out: usize,
        range: LstmRange,
        q: Option<Quant>,
    ) -> Result<TensorId, OnnxError> {
        let x = self.get(r.x)?;
        let x_scale = self.scale_of(x)?;
        let (h, f) = (r.hidden, r.input);
        if r.w.len() != 4 * h * f || r.r.len() != 4 * h * h || r.bias.len() != 4 * h {
            return Err(OnnxError::Malformed("internal: LSTM weight sizes".into()));
        }
        let mut wi = Vec::with_capacity(4);
        let mut wr = Vec::with_capacity(4);
        let mut bs = Vec::with_capacity(4);
        for g in 0..4 {
            let (s, qw) = symmetric_i8(&r.w[g * h * f..(g + 1) * h * f]);
            wi.push(self.b.constant(&[h, f], &qw, Quant::per_tensor(s, 0))?);
            let bias: Vec<i32> = r.bias[g * h..(g + 1) * h]
                .iter()
                .map(|&v| {
                    round_half_away(v / (x_scale * s)).clamp(i32::MIN as f32, i32::MAX as f32)
                        as i32
                })
                .collect();
            bs.push(self.b.constant(&[h], &bias, Quant::None)?);
            let (s, qr) = symmetric_i8(&r.r[g * h * h..(g + 1) * h * h]);
            wr.push(self.b.constant(&[h, h], &qr, Quant::per_tensor(s, 0))?);
        }
        let hq = per_tensor(range.hidden);
        let hidden = self.b.state(DType::I8, &[r.batch, h], hq.clone())?;
        let cell_scale = (cell_power(range.cell_max) as f32).exp2();
        let cell = self
            .b
            .state(DType::I16, &[r.batch, h], Quant::per_tensor(cell_scale, 0))?;
        let as4 = |v: Vec<TensorId>| -> Result<[TensorId; 4], OnnxError> {
            v.try_into()
                .map_err(|_| OnnxError::Malformed("internal: LSTM gates".into()))
        };
        let y = self.b.lstm(
            x,
            as4(wi)?,
            as4(wr)?,
            as4(bs)?,
            hidden,
            cell,
            crate::export::LstmOptions {
                time_major: r.time_major,
                cell_gate_tanh: true,
                cell_clip: 0.0,
            },
            hq,
        )?;
        self.state.insert(out, hidden);
        Ok(if r.output_used {
            self.requantize(y, q)?
        } else {
            y
        })
    }

    fn out_q(&self, id: usize) -> Option<Quant> {
        self.ranges.and_then(|r| r.get(id)).map(|&r| per_tensor(r))
    }

    fn get(&self, id: usize) -> Result<TensorId, OnnxError> {
        self.t.get(id).copied().flatten().ok_or_else(|| {
            OnnxError::Malformed(format!("internal: value {id} used before defined"))
        })
    }

    fn scale_of(&self, x: TensorId) -> Result<f32, OnnxError> {
        Ok(match self.b.quant_of(x)? {
            Quant::PerTensor { scale, .. } => scale,
            _ => 1.0,
        })
    }

    /// Weights with their output channels along `axis` (0 or the last).
    fn weights(&mut self, w: &[f32], shape: &[usize], axis: usize) -> Result<TensorId, OnnxError> {
        Ok(match self.dtype {
            DType::I8 => {
                let n = shape[axis];
                let (scales, q) = if axis == 0 {
                    let s = weight_scales(w, n);
                    let q = quantize_weights(w, &s);
                    (s, q)
                } else {
                    let mut m = vec![0f32; n];
                    for (i, v) in w.iter().enumerate() {
                        m[i % n] = m[i % n].max(v.abs());
                    }
                    let s: Vec<f32> = m
                        .iter()
                        .map(|&v| if v > 0.0 { v / 127.0 } else { 1.0 })
                        .collect();
                    let q = w
                        .iter()
                        .enumerate()
                        .map(|(i, &v)| round_half_away(v / s[i % n]).clamp(-127.0, 127.0) as i8)
                        .collect::<Vec<_>>();
                    (s, q)
                };
                self.b
                    .constant(shape, &q, Quant::PerChannel { scales, axis })?
            }
            _ => self.float_const(shape, w)?,
        })
    }

    fn float_const(&mut self, shape: &[usize], v: &[f32]) -> Result<TensorId, OnnxError> {
        Ok(match self.dtype {
            DType::F16 => {
                let h: Vec<f16> = v.iter().map(|&x| f16::from_f32(x)).collect();
                self.b.constant(shape, &h, Quant::None)?
            }
            _ => self.b.constant(shape, v, Quant::None)?,
        })
    }

    fn bias(&mut self, bias: &[f32], x: TensorId, w: TensorId) -> Result<TensorId, OnnxError> {
        Ok(match self.dtype {
            DType::I8 => {
                let scales = match self.b.quant_of(w)? {
                    Quant::PerChannel { scales, .. } => scales,
                    Quant::PerTensor { scale, .. } => vec![scale],
                    Quant::None => vec![1.0],
                };
                let q = quantize_bias(bias, self.scale_of(x)?, &scales);
                self.b.constant(&[bias.len()], &q, Quant::None)?
            }
            _ => self.float_const(&[bias.len()], bias)?,
        })
    }

    /// The second operand of Add / Mul.
    fn operand(&mut self, o: &Operand) -> Result<TensorId, OnnxError> {
        match o {
            Operand::Val(id) => self.get(*id),
            Operand::Const { shape, data } => match self.dtype {
                DType::I8 => {
                    let lo = data.iter().fold(0f32, |a, &v| a.min(v));
                    let hi = data.iter().fold(0f32, |a, &v| a.max(v));
                    let (s, zp) = quant_params(lo, hi);
                    let q: Vec<i8> = data
                        .iter()
                        .map(|&v| crate::quant::quantize_value(v, s, zp))
                        .collect();
                    Ok(self.b.constant(shape, &q, Quant::per_tensor(s, zp))?)
                }
                _ => self.float_const(shape, data),
            },
        }
    }

    /// A float value of an int8 model (an f32 island) quantized to `q`;
    /// in float models, `t` itself.
    fn requantize(&mut self, t: TensorId, q: Option<Quant>) -> Result<TensorId, OnnxError> {
        Ok(match q {
            Some(q) if self.dtype == DType::I8 => self.b.quantize(t, q)?,
            _ => t,
        })
    }

    fn op(&mut self, kind: &Kind, out: usize) -> Result<TensorId, OnnxError> {
        let q = self.out_q(out);
        Ok(match kind {
            Kind::Conv {
                x,
                w,
                wshape,
                bias,
                stride,
                dilation,
                padding,
                depth_multiplier,
                act,
            } => {
                let x = self.get(*x)?;
                let axis = if depth_multiplier.is_some() { 3 } else { 0 };
                let wt = self.weights(w, wshape, axis)?;
                let bt = self.bias(bias, x, wt)?;
                let opts = ConvOptions {
                    stride: *stride,
                    dilation: *dilation,
                    padding: *padding,
                    activation: *act,
                };
                match depth_multiplier {
                    Some(m) => self.b.depthwise_conv2d(x, wt, Some(bt), opts, *m, q)?,
                    None => self.b.conv2d(x, wt, Some(bt), opts, q)?,
                }
            }
            Kind::Dense {
                x,
                w,
                wshape,
                bias,
                act,
            } => {
                let x = self.get(*x)?;
                let wt = self.weights(w, wshape, 0)?;
                let bt = self.bias(bias, x, wt)?;
                self.b.fully_connected(x, wt, Some(bt), *act, q)?
            }
            Kind::MaxPool(x, p) => {
                let x = self.get(*x)?;
                self.b.max_pool2d(x, *p)?
            }
            Kind::AvgPool(x, p) => {
                let x = self.get(*x)?;
                self.b.avg_pool2d(x, *p)?
            }
            Kind::GlobalAvg { x, keep_dims } => {
                let x = self.get(*x)?;
                self.b.global_avg_pool(x, *keep_dims, q)?
            }
            Kind::Add(x, o) => {
                let x = self.get(*x)?;
                let y = self.operand(o)?;
                self.b.add(x, y, Activation::None, q)?
            }
            Kind::Mul(x, o) => {
                let x = self.get(*x)?;
                let y = self.operand(o)?;
                self.b.mul(x, y, Activation::None, q)?
            }
            Kind::Unary(x, u) => {
                let x = self.get(*x)?;
                match u {
                    Unary::Relu => self.b.relu(x)?,
                    Unary::Relu6 => self.b.relu6(x)?,
                    Unary::LeakyRelu(a) => self.b.leaky_relu(x, *a)?,
                    Unary::Sigmoid => self.b.sigmoid(x)?,
                    Unary::Tanh => self.b.tanh(x)?,
                    Unary::Softmax => self.b.softmax(x, 1.0)?,
                }
            }
            Kind::Reshape(x, shape) => {
                let x = self.get(*x)?;
                self.b.reshape(x, shape)?
            }
            Kind::Pad(x, p) => {
                let x = self.get(*x)?;
                self.b.pad(x, &[0, p[0], p[2], 0], &[0, p[1], p[3], 0])?
            }
            Kind::Recurrent(r) if r.gru.is_none() && self.lstm_range(out).is_some() => {
                let range = self.lstm_range(out).unwrap_or(LstmRange::new());
                self.lstm_s8(r, out, range, q)?
            }
            Kind::Recurrent(r) => {
                let mut x = self.get(r.x)?;
                // int8: an f32 island between Dequantize and Quantize.
                if self.dtype == DType::I8 {
                    x = self.b.dequantize(x, DType::F32)?;
                }
                let g = if r.gru.is_some() { 3 } else { 4 };
                let (h, f) = (r.hidden, r.input);
                let w = self.float_const(&[g * h, f], &r.w)?;
                let rt = self.float_const(&[g * h, h], &r.r)?;
                let bt = self.float_const(&[r.bias.len()], &r.bias)?;
                let o = match r.gru {
                    None => self.b.lstm_float(x, w, rt, bt, r.time_major)?,
                    Some(lbr) => self.b.gru(x, w, rt, bt, r.time_major, lbr)?,
                };
                self.state.insert(out, o.hidden);
                if r.output_used {
                    self.requantize(o.output, q)?
                } else {
                    o.output
                }
            }
            Kind::RecurrentState(v, shape) => {
                let s = *self.state.get(v).ok_or_else(|| {
                    OnnxError::Malformed(format!("internal: value {v} is not a recurrent op"))
                })?;
                let t = self.b.reshape(s, shape)?;
                // An int8 state keeps its own parameters (the hidden range
                // over every step); a float one (an island) is quantized.
                if self.b.dtype_of(s)? == DType::I8 {
                    t
                } else {
                    self.requantize(t, q)?
                }
            }
            Kind::Slice(x, spec) => {
                let x = self.get(*x)?;
                self.b
                    .strided_slice(x, &spec.begin, &spec.stride, &spec.count, &spec.out_shape)?
            }
            Kind::Concat(xs, axis) => {
                let mut ts = Vec::with_capacity(xs.len());
                for &x in xs {
                    let mut t = self.get(x)?;
                    // int8 inputs must share the output's parameters.
                    if let Some(q) = &q {
                        if self.b.quant_of(t)? != *q {
                            t = self.b.quantize(t, q.clone())?;
                        }
                    }
                    ts.push(t);
                }
                self.b.concatenation(&ts, *axis)?
            }
        })
    }
}

/// Emits `ir` with element type `dtype`. int8 needs `ranges` (one per IR
/// value). With `all_outputs`, every computed value is a model output too
/// (for calibration).
pub(super) fn emit(
    ir: &Ir,
    dtype: DType,
    ranges: Option<&[(f32, f32)]>,
    lstm: Option<&HashMap<usize, LstmRange>>,
    all_outputs: bool,
) -> Result<Emitted, OnnxError> {
    let mut e = Emitter {
        b: ModelBuilder::new(),
        dtype,
        ranges: if dtype == DType::I8 { ranges } else { None },
        lstm,
        t: vec![None; ir.n_values],
        state: HashMap::new(),
    };
    if dtype == DType::I8 && ranges.is_none_or(|r| r.len() < ir.n_values) {
        return Err(OnnxError::Calibration(
            "int8 needs a range for every value".into(),
        ));
    }
    let in_q = e.out_q(ir.input.id);
    let x = e.b.input(dtype, &ir.input.stored(), in_q)?;
    e.t[ir.input.id] = Some(x);
    for op in &ir.ops {
        let t = e.op(&op.kind, op.out)?;
        e.t[op.out] = Some(t);
    }
    let mut output_values = Vec::new();
    for o in &ir.outputs {
        let t = e.get(o.id)?;
        e.b.output(t);
        output_values.push(o.id);
    }
    if all_outputs {
        for op in &ir.ops {
            if !output_values.contains(&op.out) {
                let t = e.get(op.out)?;
                e.b.output(t);
                output_values.push(op.out);
            }
        }
    }
    Ok(Emitted {
        built: e.b.build()?,
        output_values,
    })
}
