//! Lowering an ONNX graph (NCHW activations, OIHW filters) to edgegrad's
//! operators (NHWC activations, OHWI filters).
//!
//! Every ONNX value is either a constant (initializers, `Constant` nodes
//! and the integer shape arithmetic around `Reshape`, folded here) or an
//! activation, which carries its logical ONNX shape (batch 1) and a
//! [`Layout`] saying how its elements are stored on the device:
//! - [`Layout::Plain`]: in ONNX order;
//! - [`Layout::Nchw`]: a rank-4 NCHW value stored NHWC;
//! - [`Layout::FlatChw`]: `[1, C·H·W]` in ONNX's CHW order, stored in HWC
//!   order (a `Flatten`/`Reshape` of an NHWC activation; the `Gemm` or
//!   `MatMul` after it permutes its weight columns instead of the data).
//!
//! Folding and fusion: BatchNormalization into the Conv/Gemm before it,
//! Relu / Clip(0, 6) into the op before it, an `Add` of a per-channel
//! constant into the bias before it (MatMul + Add → one fully connected
//! op); Identity and Dropout vanish.

use super::proto::{AttributeProto, GraphProto, NodeProto};
use super::tensor::{self, element_count, Const, Data};
use super::OnnxError;
use crate::export::PoolOptions;
use crate::kernels::Padding;
use crate::quant::Activation;
use std::collections::HashMap;
use std::string::{String, ToString};
use std::vec::Vec;

/// How an activation's elements are laid out on the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Layout {
    /// ONNX's order.
    Plain,
    /// Logical `[N, C, H, W]`, stored `[N, H, W, C]`.
    Nchw,
    /// Logical `[1, C·H·W]` (CHW order), stored in HWC order.
    FlatChw { c: usize, h: usize, w: usize },
}

/// An activation: its IR value, logical ONNX shape and layout.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Act {
    pub id: usize,
    pub shape: Vec<usize>,
    pub layout: Layout,
}

impl Act {
    /// The shape the device stores.
    pub fn stored(&self) -> Vec<usize> {
        stored_shape(&self.shape, self.layout)
    }
}

pub(super) fn stored_shape(shape: &[usize], layout: Layout) -> Vec<usize> {
    match (layout, shape) {
        (Layout::Nchw, [n, c, h, w]) => vec![*n, *h, *w, *c],
        _ => shape.to_vec(),
    }
}

#[derive(Debug, Clone)]
enum Val {
    Const(Const),
    Act(Act),
}

/// The second operand of a binary op.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Operand {
    /// An activation (IR value).
    Val(usize),
    /// A constant in the device's layout.
    Const { shape: Vec<usize>, data: Vec<f32> },
}

/// An element-wise function of one activation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Unary {
    Relu,
    Relu6,
    LeakyRelu(f32),
    Sigmoid,
    Tanh,
    Softmax,
}

/// One lowered operator (device layout throughout).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Kind {
    Conv {
        x: usize,
        /// OHWI, or `[1, KH, KW, C·M]` when depthwise.
        w: Vec<f32>,
        wshape: [usize; 4],
        bias: Vec<f32>,
        stride: (usize, usize),
        dilation: (usize, usize),
        padding: Padding,
        depth_multiplier: Option<usize>,
        act: Activation,
    },
    Dense {
        x: usize,
        /// `[out, in]`.
        w: Vec<f32>,
        wshape: [usize; 2],
        bias: Vec<f32>,
        act: Activation,
    },
    MaxPool(usize, PoolOptions),
    AvgPool(usize, PoolOptions),
    GlobalAvg {
        x: usize,
        keep_dims: bool,
    },
    Add(usize, Operand),
    Mul(usize, Operand),
    Unary(usize, Unary),
    Reshape(usize, Vec<usize>),
    Concat(Vec<usize>, usize),
    /// Zero padding of an NHWC value: rows before/after, columns before/after.
    Pad(usize, [usize; 4]),
    /// A float LSTM or GRU (device output `[d0, d1, hidden]`).
    Recurrent(Box<Recurrent>),
    /// The hidden state after the last step of the recurrent op defining
    /// value `.0` (ONNX's `Y_h`, or the last step of `Y`), stored as `.1`.
    RecurrentState(usize, Vec<usize>),
    /// A strided slice of a value in ONNX order (`Gather` of one index).
    Slice(usize, Box<SliceSpec>),
}

/// Where a [`Kind::Slice`] reads, per dimension of its input (as
/// `ModelBuilder::strided_slice` takes it), and the stored output shape.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SliceSpec {
    pub begin: Vec<usize>,
    pub stride: Vec<i32>,
    pub count: Vec<usize>,
    pub out_shape: Vec<usize>,
}

/// A lowered ONNX `LSTM` or `GRU` (forward direction).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Recurrent {
    pub x: usize,
    /// `None` for an LSTM; for a GRU, its `linear_before_reset`.
    pub gru: Option<bool>,
    /// `[gates·H, in]`, gates `i, f, g, o` (LSTM) or `z, r, n` (GRU).
    pub w: Vec<f32>,
    /// `[gates·H, H]`.
    pub r: Vec<f32>,
    /// LSTM: `[4·H]`, `Wb + Rb`; GRU: `[6·H]`, `Wb` then `Rb`.
    pub bias: Vec<f32>,
    pub input: usize,
    pub hidden: usize,
    pub batch: usize,
    pub time: usize,
    pub time_major: bool,
    /// Whether anything reads the output sequence (not only the state).
    pub output_used: bool,
}

impl Kind {
    /// The IR values the op reads.
    fn reads(&self) -> Vec<usize> {
        match self {
            Kind::Conv { x, .. }
            | Kind::Dense { x, .. }
            | Kind::MaxPool(x, _)
            | Kind::AvgPool(x, _)
            | Kind::GlobalAvg { x, .. }
            | Kind::Unary(x, _)
            | Kind::Reshape(x, _)
            | Kind::Pad(x, _)
            | Kind::Slice(x, _)
            | Kind::RecurrentState(x, _) => vec![*x],
            Kind::Add(x, o) | Kind::Mul(x, o) => match o {
                Operand::Val(y) => vec![*x, *y],
                Operand::Const { .. } => vec![*x],
            },
            Kind::Concat(xs, _) => xs.clone(),
            Kind::Recurrent(r) => vec![r.x],
        }
    }
}

/// A sequence output of a recurrent op with batch 1: `[time, hidden]`
/// values in order, whatever unit axes its shape has.
#[derive(Debug, Clone, Copy)]
struct Sequence {
    /// The recurrent op's IR value.
    op_value: usize,
    time: usize,
    hidden: usize,
}

/// An operator and the IR value it defines.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct IrOp {
    pub kind: Kind,
    pub out: usize,
}

/// A lowered graph: value 0 is the input.
#[derive(Debug, Clone)]
pub(super) struct Ir {
    /// The model input as an activation (logical shape, layout).
    pub input: Act,
    pub ops: Vec<IrOp>,
    /// The graph outputs.
    pub outputs: Vec<Act>,
    /// How many IR values there are.
    pub n_values: usize,
}

/// The largest stride, dilation, kernel size or padding accepted (keeps
/// window arithmetic far from overflow).
const MAX_GEOMETRY: i64 = 1 << 16;

/// Uses of an IR value that forbid folding into its producer.
const PINNED: usize = 1 << 20;

struct Lowerer {
    opset: i64,
    vals: HashMap<String, Val>,
    /// ONNX uses of each name (node inputs; graph outputs count as pinned).
    name_uses: HashMap<String, usize>,
    /// Uses of each IR value, over every name that aliases it.
    uses: Vec<usize>,
    /// The op defining each IR value (`None` for the input).
    producer: Vec<Option<usize>>,
    ops: Vec<IrOp>,
    /// The node being lowered, for errors.
    node: usize,
    op_type: String,
    /// IR values that are a recurrent op's output sequence (batch 1).
    sequences: HashMap<usize, Sequence>,
}

/// Lowers `graph` (opset version `opset` of the default domain).
pub(super) fn lower(graph: &GraphProto, opset: i64) -> Result<Ir, OnnxError> {
    let mut l = Lowerer {
        opset,
        vals: HashMap::new(),
        name_uses: HashMap::new(),
        uses: Vec::new(),
        producer: Vec::new(),
        ops: Vec::new(),
        node: 0,
        op_type: String::new(),
        sequences: HashMap::new(),
    };
    for n in &graph.node {
        for i in n.input.iter().filter(|s| !s.is_empty()) {
            *l.name_uses.entry(i.clone()).or_default() += 1;
        }
    }
    for o in &graph.output {
        *l.name_uses.entry(o.name.clone()).or_default() += PINNED;
    }
    for t in &graph.initializer {
        let c = tensor::decode(t)?;
        l.vals.insert(t.name.clone(), Val::Const(c));
    }
    // The one non-constant input (initializers may be listed as inputs too).
    let inputs: Vec<_> = graph
        .input
        .iter()
        .filter(|i| !l.vals.contains_key(&i.name))
        .collect();
    let [input] = inputs.as_slice() else {
        return Err(OnnxError::Unsupported {
            node: None,
            op: String::new(),
            reason: format!(
                "the graph has {} inputs; exactly one is supported",
                inputs.len()
            ),
        });
    };
    let tt = input
        .r#type
        .as_ref()
        .and_then(|t| t.tensor_type.as_ref())
        .ok_or_else(|| OnnxError::Malformed(format!("input '{}' is not a tensor", input.name)))?;
    if tt.elem_type != super::proto::data_type::FLOAT {
        return Err(OnnxError::Unsupported {
            node: None,
            op: String::new(),
            reason: format!("input '{}' is not float32", input.name),
        });
    }
    let dims = tt
        .shape
        .as_ref()
        .ok_or_else(|| OnnxError::Malformed(format!("input '{}' has no shape", input.name)))?;
    let mut shape = Vec::new();
    for (k, d) in dims.dim.iter().enumerate() {
        match d.dim_value {
            Some(v) if v > 0 => shape.push(v as usize),
            // A symbolic (batch) dimension: the device runs one sample.
            _ if k == 0 => shape.push(1),
            _ => {
                return Err(OnnxError::Unsupported {
                    node: None,
                    op: String::new(),
                    reason: format!("input '{}': dimension {k} is not fixed", input.name),
                })
            }
        }
    }
    let shape = tensor::checked_shape(
        &shape.iter().map(|&d| d as i64).collect::<Vec<_>>(),
        "input",
    )?;
    if shape.is_empty() || shape.len() > 4 || shape[0] != 1 {
        return Err(OnnxError::Unsupported {
            node: None,
            op: String::new(),
            reason: format!("input shape {shape:?}: rank 1..4 with batch 1 is supported"),
        });
    }
    let layout = if shape.len() == 4 {
        Layout::Nchw
    } else {
        Layout::Plain
    };
    let input_act = l.new_act(&input.name, shape, layout, None);
    for (i, n) in graph.node.iter().enumerate() {
        l.node = i;
        l.op_type = n.op_type.clone();
        if !n.domain.is_empty() && n.domain != "ai.onnx" {
            return Err(l.unsupported_op(n));
        }
        l.lower_node(n)?;
    }
    let mut outputs = Vec::new();
    for o in &graph.output {
        match l.vals.get(&o.name) {
            Some(Val::Act(a)) => outputs.push(a.clone()),
            Some(Val::Const(_)) => {
                return Err(OnnxError::Unsupported {
                    node: None,
                    op: String::new(),
                    reason: format!("output '{}' is a constant", o.name),
                })
            }
            None => {
                return Err(OnnxError::Malformed(format!(
                    "output '{}' is not computed by any node",
                    o.name
                )))
            }
        }
    }
    if outputs.is_empty() {
        return Err(OnnxError::Malformed("the graph has no outputs".into()));
    }
    // Drop ops whose values nothing reads (e.g. a recurrent op's output
    // sequence when only its last step is used, which is the state).
    let mut live = vec![false; l.uses.len()];
    for o in &outputs {
        live[o.id] = true;
    }
    let mut keep = vec![false; l.ops.len()];
    for (i, op) in l.ops.iter().enumerate().rev() {
        if live[op.out] {
            keep[i] = true;
            for v in op.kind.reads() {
                live[v] = true;
            }
        }
    }
    let mut k = keep.iter();
    l.ops.retain(|_| *k.next().unwrap_or(&true));
    // Recurrent ops whose output sequence only their state readers use.
    let mut seq_read = vec![false; l.uses.len()];
    for o in &outputs {
        seq_read[o.id] = true;
    }
    for op in &l.ops {
        if !matches!(op.kind, Kind::RecurrentState(..)) {
            for v in op.kind.reads() {
                seq_read[v] = true;
            }
        }
    }
    for op in &mut l.ops {
        if let Kind::Recurrent(r) = &mut op.kind {
            r.output_used = seq_read[op.out];
        }
    }
    Ok(Ir {
        input: input_act,
        ops: l.ops,
        outputs,
        n_values: l.uses.len(),
    })
}

fn attr<'n>(n: &'n NodeProto, name: &str) -> Option<&'n AttributeProto> {
    n.attribute.iter().find(|a| a.name == name)
}

fn attr_i(n: &NodeProto, name: &str, default: i64) -> i64 {
    attr(n, name).map_or(default, |a| a.i)
}

fn attr_f(n: &NodeProto, name: &str, default: f32) -> f32 {
    attr(n, name).map_or(default, |a| a.f)
}

fn attr_ints(n: &NodeProto, name: &str) -> Option<Vec<i64>> {
    attr(n, name).map(|a| a.ints.clone())
}

fn attr_s(n: &NodeProto, name: &str) -> Option<String> {
    attr(n, name).map(|a| String::from_utf8_lossy(&a.s).into_owned())
}

/// Resolves a possibly negative axis against `rank`.
fn axis_of(axis: i64, rank: usize) -> Option<usize> {
    let r = rank as i64;
    let a = if axis < 0 { axis + r } else { axis };
    (0..r).contains(&a).then_some(a as usize)
}

fn broadcast(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let r = a.len().max(b.len());
    let dim = |s: &[usize], k: usize| {
        if k < r - s.len() {
            1
        } else {
            s[k - (r - s.len())]
        }
    };
    (0..r)
        .map(|k| match (dim(a, k), dim(b, k)) {
            (x, y) if x == y || y == 1 => Some(x),
            (1, y) => Some(y),
            _ => None,
        })
        .collect()
}

/// The flat index into an operand of shape `s` broadcast to `shape` of
/// output element `i`.
fn broadcast_index(shape: &[usize], s: &[usize], mut i: usize) -> usize {
    let r = shape.len();
    let mut src = 0;
    let mut stride = 1;
    for k in (0..r).rev() {
        let d = shape[k].max(1);
        let coord = i % d;
        i /= d;
        let sk = if k + s.len() >= r {
            s[k + s.len() - r]
        } else {
            1
        };
        if sk != 1 {
            src += coord * stride;
        }
        stride *= sk;
    }
    src
}

/// `data` of logical `shape` permuted by `perm` (output axis k = input
/// axis `perm[k]`).
fn permute(data: &[f32], shape: &[usize], perm: &[usize]) -> (Vec<usize>, Vec<f32>) {
    let r = shape.len();
    let out_shape: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
    let mut in_strides = vec![1usize; r];
    for k in (0..r.saturating_sub(1)).rev() {
        in_strides[k] = in_strides[k + 1] * shape[k + 1];
    }
    let mut out = Vec::with_capacity(data.len());
    let mut idx = vec![0usize; r];
    for _ in 0..data.len() {
        let src: usize = (0..r).map(|k| idx[k] * in_strides[perm[k]]).sum();
        out.push(data[src]);
        for k in (0..r).rev() {
            idx[k] += 1;
            if idx[k] < out_shape[k] {
                break;
            }
            idx[k] = 0;
        }
    }
    (out_shape, out)
}

/// The column order of a `[1, C·H·W]` CHW vector stored HWC: stored
/// element `i` holds logical element `order[i]`.
fn chw_order(c: usize, h: usize, w: usize) -> Vec<usize> {
    let mut order = Vec::with_capacity(c * h * w);
    for y in 0..h {
        for x in 0..w {
            for ch in 0..c {
                order.push((ch * h + y) * w + x);
            }
        }
    }
    order
}

impl Lowerer {
    fn unsupported_op(&self, n: &NodeProto) -> OnnxError {
        OnnxError::UnsupportedOp {
            node: self.node,
            op: if n.domain.is_empty() {
                n.op_type.clone()
            } else {
                format!("{}::{}", n.domain, n.op_type)
            },
            name: n.name.clone(),
        }
    }

    fn err(&self, reason: impl Into<String>) -> OnnxError {
        OnnxError::Unsupported {
            node: Some(self.node),
            op: self.op_type.clone(),
            reason: reason.into(),
        }
    }

    fn new_act(&mut self, name: &str, shape: Vec<usize>, layout: Layout, op: Option<usize>) -> Act {
        let id = self.uses.len();
        self.uses.push(*self.name_uses.get(name).unwrap_or(&0));
        self.producer.push(op);
        let a = Act { id, shape, layout };
        self.vals.insert(name.to_string(), Val::Act(a.clone()));
        a
    }

    /// Names `out` as another name of activation `a` (consumed once by the
    /// node doing so).
    fn alias(&mut self, out: &str, a: &Act, shape: Vec<usize>, layout: Layout) {
        let u = *self.name_uses.get(out).unwrap_or(&0);
        self.uses[a.id] = (self.uses[a.id] + u).saturating_sub(1);
        self.vals.insert(
            out.to_string(),
            Val::Act(Act {
                id: a.id,
                shape,
                layout,
            }),
        );
    }

    /// Adds an op defining a new activation named `out`.
    fn push(&mut self, out: &str, kind: Kind, shape: Vec<usize>, layout: Layout) -> Act {
        let idx = self.ops.len();
        let a = self.new_act(out, shape, layout, Some(idx));
        self.ops.push(IrOp { kind, out: a.id });
        a
    }

    fn input<'a>(&'a self, n: &NodeProto, k: usize) -> Result<Option<&'a Val>, OnnxError> {
        match n.input.get(k) {
            None => Ok(None),
            Some(s) if s.is_empty() => Ok(None),
            Some(s) => self
                .vals
                .get(s)
                .map(Some)
                .ok_or_else(|| OnnxError::MissingTensor {
                    node: self.node,
                    op: n.op_type.clone(),
                    name: s.clone(),
                }),
        }
    }

    fn need(&self, n: &NodeProto, k: usize) -> Result<Val, OnnxError> {
        self.input(n, k)?
            .cloned()
            .ok_or_else(|| self.err(format!("input {k} is missing")))
    }

    fn act(&self, n: &NodeProto, k: usize) -> Result<Act, OnnxError> {
        match self.need(n, k)? {
            Val::Act(a) => Ok(a),
            Val::Const(_) => Err(self.err(format!(
                "input {k} is a constant where an activation is expected"
            ))),
        }
    }

    fn konst(&self, n: &NodeProto, k: usize) -> Result<Const, OnnxError> {
        match self.need(n, k)? {
            Val::Const(c) => Ok(c),
            Val::Act(_) => Err(self.err(format!(
                "input {k} must be a constant (weights computed at run time are not supported)"
            ))),
        }
    }

    fn out_name<'n>(&self, n: &'n NodeProto) -> Result<&'n str, OnnxError> {
        n.output
            .first()
            .map(String::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| self.err("the node has no output"))
    }

    fn set_const(&mut self, n: &NodeProto, c: Const) -> Result<(), OnnxError> {
        let o = self.out_name(n)?.to_string();
        self.vals.insert(o, Val::Const(c));
        Ok(())
    }

    /// The op defining `a`, when nothing else reads `a` (so it can absorb
    /// the node consuming it).
    fn sole_producer(&mut self, a: &Act) -> Option<&mut Kind> {
        if self.uses[a.id] != 1 {
            return None;
        }
        let p = self.producer[a.id]?;
        self.ops.get_mut(p).map(|op| &mut op.kind)
    }

    /// `a` stored NHWC (a rank-4 plain value whose C or H·W is 1 needs only
    /// a reshape).
    fn as_nhwc(&mut self, a: &Act) -> Result<Act, OnnxError> {
        match (a.layout, a.shape.as_slice()) {
            (Layout::Nchw, _) => Ok(a.clone()),
            (Layout::Plain, &[n, c, h, w]) if c == 1 || h * w == 1 => {
                let shape = vec![n, h, w, c];
                let id = self.uses.len();
                self.uses.push(PINNED);
                self.producer.push(Some(self.ops.len()));
                self.ops.push(IrOp {
                    kind: Kind::Reshape(a.id, shape),
                    out: id,
                });
                Ok(Act {
                    id,
                    shape: a.shape.clone(),
                    layout: Layout::Nchw,
                })
            }
            _ => Err(self.err(format!(
                "expects a 4-D NCHW activation, got shape {:?}",
                a.shape
            ))),
        }
    }

    /// `a` in plain layout (a value stored NHWC whose C or H·W is 1 is the
    /// same bytes).
    fn as_plain(&self, a: &Act) -> Result<Act, OnnxError> {
        match (a.layout, a.shape.as_slice()) {
            (Layout::Plain, _) => Ok(a.clone()),
            (Layout::Nchw, &[_, c, h, w]) if c == 1 || h * w == 1 => Ok(Act {
                layout: Layout::Plain,
                ..a.clone()
            }),
            (Layout::FlatChw { c, h, w }, _) if c == 1 || h * w == 1 => Ok(Act {
                layout: Layout::Plain,
                ..a.clone()
            }),
            _ => Err(self.err(format!(
                "needs the data in ONNX order, but this NCHW activation of shape {:?} is stored \
                 channels-last and edgegrad has no transpose",
                a.shape
            ))),
        }
    }

    /// A constant broadcast against activation `a`, in `a`'s device layout.
    fn const_operand(&self, a: &Act, c: &Const) -> Result<Operand, OnnxError> {
        let data = c.f32s();
        let shape = broadcast(&a.shape, &c.shape)
            .filter(|s| *s == a.shape)
            .map(|_| c.shape.clone())
            .ok_or_else(|| {
                self.err(format!(
                    "constant of shape {:?} does not broadcast to {:?}",
                    c.shape, a.shape
                ))
            })?;
        if data.len() == 1 {
            return Ok(Operand::Const {
                shape: vec![1],
                data,
            });
        }
        match a.layout {
            Layout::Plain => Ok(Operand::Const { shape, data }),
            Layout::Nchw => {
                let mut s4 = vec![1usize; 4 - shape.len()];
                s4.extend_from_slice(&shape);
                let (s, d) = permute(&data, &s4, &[0, 2, 3, 1]);
                Ok(Operand::Const { shape: s, data: d })
            }
            Layout::FlatChw { c, h, w } => {
                if *shape.last().unwrap_or(&1) == 1 {
                    return Ok(Operand::Const { shape, data });
                }
                if data.len() != c * h * w {
                    return Err(self.err("constant does not broadcast along the flattened axis"));
                }
                let d = chw_order(c, h, w).iter().map(|&i| data[i]).collect();
                Ok(Operand::Const { shape, data: d })
            }
        }
    }

    fn lower_node(&mut self, n: &NodeProto) -> Result<(), OnnxError> {
        // Constant folding: a node whose inputs are all constants.
        let all_const = !n.input.is_empty()
            && n.input
                .iter()
                .enumerate()
                .all(|(k, s)| s.is_empty() || matches!(self.input(n, k), Ok(Some(Val::Const(_)))));
        match n.op_type.as_str() {
            "Constant" => {
                let c = if let Some(t) = attr(n, "value").and_then(|a| a.t.as_ref()) {
                    tensor::decode(t)?
                } else if let Some(a) = attr(n, "value_float") {
                    Const::floats(vec![], vec![a.f])
                } else if let Some(a) = attr(n, "value_floats") {
                    Const::floats(vec![a.floats.len()], a.floats.clone())
                } else if let Some(a) = attr(n, "value_int") {
                    Const::ints(vec![], vec![a.i])
                } else if let Some(a) = attr(n, "value_ints") {
                    Const::ints(vec![a.ints.len()], a.ints.clone())
                } else {
                    return Err(
                        self.err("Constant without a value, value_float(s) or value_int(s)")
                    );
                };
                self.set_const(n, c)
            }
            "Identity" | "Dropout" => match self.need(n, 0)? {
                Val::Const(c) => self.set_const(n, c),
                Val::Act(a) => {
                    let o = self.out_name(n)?.to_string();
                    let (s, l) = (a.shape.clone(), a.layout);
                    self.alias(&o, &a, s, l);
                    Ok(())
                }
            },
            "Shape" => {
                let shape = match self.need(n, 0)? {
                    Val::Const(c) => c.shape,
                    Val::Act(a) => a.shape,
                };
                let r = shape.len() as i64;
                let clampr = |v: i64| if v < 0 { (v + r).max(0) } else { v.min(r) } as usize;
                let start = clampr(attr_i(n, "start", 0));
                let end = clampr(attr_i(n, "end", r));
                let v: Vec<i64> = shape
                    .get(start..end.max(start))
                    .unwrap_or(&[])
                    .iter()
                    .map(|&d| d as i64)
                    .collect();
                self.set_const(n, Const::ints(vec![v.len()], v))
            }
            _ if all_const => self.fold_const(n),
            "Conv" => self.conv(n),
            "Gemm" => self.gemm(n),
            "MatMul" => self.matmul(n),
            "BatchNormalization" => self.batch_norm(n),
            "Relu" => self.activation(n, Activation::Relu),
            "Clip" => self.clip(n),
            "LeakyRelu" => {
                let alpha = attr_f(n, "alpha", 0.01);
                self.unary(n, Unary::LeakyRelu(alpha))
            }
            "Sigmoid" => self.unary(n, Unary::Sigmoid),
            "Tanh" => self.unary(n, Unary::Tanh),
            "Softmax" => self.softmax(n),
            "MaxPool" | "AveragePool" => self.pool(n),
            "GlobalAveragePool" => self.global_avg(n, true),
            "ReduceMean" => self.reduce_mean(n),
            "Add" | "Sub" | "Mul" | "Div" => self.binary(n),
            "Concat" => self.concat(n),
            "Flatten" => {
                let a = self.act(n, 0)?;
                let axis = axis_of(attr_i(n, "axis", 1), a.shape.len() + 1)
                    .ok_or_else(|| self.err("axis out of range"))?;
                let lead: usize = a.shape[..axis].iter().product();
                let rest: usize = a.shape[axis..].iter().product();
                self.reshape_to(n, &a, vec![lead, rest])
            }
            "Reshape" => {
                let a = self.act(n, 0)?;
                let target = self.konst(n, 1)?.i64s();
                let allowzero = attr_i(n, "allowzero", 0) != 0;
                let shape = self.infer_reshape(&a.shape, &target, allowzero)?;
                self.reshape_to(n, &a, shape)
            }
            "Squeeze" | "Unsqueeze" => {
                let a = self.act(n, 0)?;
                let axes = self.axes(n)?;
                let shape = squeeze_shape(&n.op_type, &a.shape, axes.as_deref())
                    .ok_or_else(|| self.err("bad axes"))?;
                self.reshape_to(n, &a, shape)
            }
            "Transpose" => self.transpose(n),
            "Slice" => self.slice(n),
            "Gather" => self.gather(n),
            "LSTM" => self.recurrent(n, false),
            "GRU" => self.recurrent(n, true),
            _ => Err(self.unsupported_op(n)),
        }
    }

    /// `axes` from the attribute (older opsets) or the second input.
    fn axes(&self, n: &NodeProto) -> Result<Option<Vec<i64>>, OnnxError> {
        if let Some(a) = attr_ints(n, "axes") {
            return Ok(Some(a));
        }
        match self.input(n, 1)? {
            None => Ok(None),
            Some(Val::Const(c)) => Ok(Some(c.i64s())),
            Some(Val::Act(_)) => Err(self.err("axes computed at run time")),
        }
    }

    fn infer_reshape(
        &self,
        from: &[usize],
        target: &[i64],
        allowzero: bool,
    ) -> Result<Vec<usize>, OnnxError> {
        let count = element_count(from).ok_or_else(|| self.err("too many elements"))?;
        let mut shape = Vec::with_capacity(target.len());
        let mut infer = None;
        for (k, &t) in target.iter().enumerate() {
            match t {
                0 if !allowzero => shape.push(
                    *from
                        .get(k)
                        .ok_or_else(|| self.err("0 in shape past the input's rank"))?,
                ),
                -1 if infer.is_none() => {
                    infer = Some(k);
                    shape.push(1);
                }
                t if t >= 0 => shape.push(t as usize),
                _ => return Err(self.err(format!("bad target shape {target:?}"))),
            }
        }
        let known = element_count(&shape)
            .ok_or_else(|| self.err(format!("cannot reshape {from:?} to {target:?}")))?;
        if let Some(k) = infer {
            if known == 0 || count % known != 0 {
                return Err(self.err(format!("cannot reshape {from:?} to {target:?}")));
            }
            shape[k] = count / known;
        }
        if element_count(&shape) != Some(count) {
            return Err(self.err(format!("cannot reshape {from:?} to {target:?}")));
        }
        Ok(shape)
    }

    /// A reshape of activation `a` to logical `shape`, keeping track of
    /// the layout; emits a device reshape only when the stored shape changes.
    fn reshape_to(&mut self, n: &NodeProto, a: &Act, shape: Vec<usize>) -> Result<(), OnnxError> {
        let out = self.out_name(n)?.to_string();
        if shape.len() > 4 {
            return Err(self.err(format!("rank {} exceeds 4", shape.len())));
        }
        let (src, layout) = match (a.layout, a.shape.as_slice(), shape.as_slice()) {
            (Layout::Nchw, &[1, c, h, w], &[1, f]) if f == c * h * w && c > 1 && h * w > 1 => {
                (a.clone(), Layout::FlatChw { c, h, w })
            }
            (Layout::FlatChw { .. }, _, _) if shape == a.shape => (a.clone(), a.layout),
            (Layout::Nchw, _, _) if shape == a.shape => (a.clone(), a.layout),
            _ => {
                let p = self.as_plain(a)?;
                if shape.len() == 4 && (shape[1] == 1 || shape[2] * shape[3] == 1) {
                    (p, Layout::Nchw)
                } else {
                    (p, Layout::Plain)
                }
            }
        };
        let stored = stored_shape(&shape, layout);
        if stored == src.stored() {
            self.alias(&out, &src, shape, layout);
            return Ok(());
        }
        // A reshape of a reshape read by nothing else: change the first.
        if let Some(Kind::Reshape(_, s) | Kind::RecurrentState(_, s)) = self.sole_producer(&src) {
            *s = stored;
            self.alias(&out, &src, shape, layout);
            return Ok(());
        }
        let b = self.push(&out, Kind::Reshape(src.id, stored), shape, layout);
        if let Some(&s) = self.sequences.get(&src.id) {
            self.sequences.insert(b.id, s);
        }
        Ok(())
    }

    fn transpose(&mut self, n: &NodeProto) -> Result<(), OnnxError> {
        let a = self.act(n, 0)?;
        let r = a.shape.len();
        let perm: Vec<usize> = match attr_ints(n, "perm") {
            Some(p) => p
                .iter()
                .map(|&v| axis_of(v, r))
                .collect::<Option<_>>()
                .ok_or_else(|| self.err("bad perm"))?,
            None => (0..r).rev().collect(),
        };
        let mut seen = perm.clone();
        seen.sort_unstable();
        if seen != (0..r).collect::<Vec<_>>() {
            return Err(self.err(format!("perm {perm:?} is not a permutation of {r} axes")));
        }
        let shape: Vec<usize> = perm.iter().map(|&p| a.shape[p]).collect();
        let out = self.out_name(n)?.to_string();
        // NCHW → NHWC of a value already stored NHWC: nothing to move.
        if a.layout == Layout::Nchw && perm == [0, 2, 3, 1] {
            self.alias(&out, &a, shape, Layout::Plain);
            return Ok(());
        }
        // A permutation that keeps the order of the non-unit axes is a reshape.
        let moved: Vec<usize> = perm.iter().copied().filter(|&p| a.shape[p] != 1).collect();
        if moved.windows(2).all(|w| w[0] < w[1]) {
            return self.reshape_to(n, &a, shape);
        }
        Err(self.err(format!(
            "permutation {perm:?} of shape {:?} moves data (edgegrad has no transpose)",
            a.shape
        )))
    }

    /// Slice of an activation with constant starts, ends, axes and steps
    /// (ONNX's clamping and negative indices): free when it covers every
    /// axis whole, else a strided slice of the stored data (an NCHW value
    /// is sliced in its channels-last storage).
    fn slice(&mut self, n: &NodeProto) -> Result<(), OnnxError> {
        let a = self.act(n, 0)?;
        let r = a.shape.len();
        let starts = self.konst(n, 1)?.i64s();
        let ends = self.konst(n, 2)?.i64s();
        let axes = match self.input(n, 3)? {
            Some(Val::Const(c)) => c.i64s(),
            None => (0..starts.len() as i64).collect(),
            _ => return Err(self.err("axes computed at run time")),
        };
        let steps = match self.input(n, 4)? {
            Some(Val::Const(c)) => c.i64s(),
            None => vec![1; starts.len()],
            _ => return Err(self.err("steps computed at run time")),
        };
        if starts.len() != ends.len() || axes.len() != starts.len() || steps.len() != starts.len() {
            return Err(self.err("starts, ends, axes and steps differ in length"));
        }
        // Per ONNX axis: first index, step, count.
        let mut begin = vec![0usize; r];
        let mut stride = vec![1i32; r];
        let mut count = a.shape.clone();
        for k in 0..starts.len() {
            let ax = axis_of(axes[k], r).ok_or_else(|| self.err("axis out of range"))?;
            let d = a.shape[ax] as i64;
            let step = steps[k];
            if step == 0 || step.unsigned_abs() > i32::MAX as u64 {
                return Err(self.err(format!("step {step}")));
            }
            let wrap = |v: i64| if v < 0 { v.saturating_add(d) } else { v };
            let (lo, hi) = if step > 0 { (0, d) } else { (-1, d - 1) };
            let start = wrap(starts[k]).clamp(lo.max(0), hi);
            let end = wrap(ends[k]).clamp(lo, hi);
            let span = if step > 0 { end - start } else { start - end };
            let c = if span > 0 {
                (span + step.abs() - 1) / step.abs()
            } else {
                0
            };
            if c == 0 {
                return Err(self.err("an empty slice"));
            }
            (begin[ax], stride[ax], count[ax]) = (start as usize, step as i32, c as usize);
        }
        let out = self.out_name(n)?.to_string();
        if count == a.shape && stride.iter().all(|&v| v == 1) {
            let (s, l) = (a.shape.clone(), a.layout);
            self.alias(&out, &a, s, l);
            return Ok(());
        }
        // The stored order of the ONNX axes: NCHW data is kept NHWC.
        let (a, order): (Act, Vec<usize>) = match (a.layout, r) {
            (Layout::Nchw, 4) => (a, vec![0, 2, 3, 1]),
            _ => {
                let a = self.as_plain(&a)?;
                (a, (0..r).collect())
            }
        };
        if r > 4 {
            return Err(self.err(format!("a slice of a rank-{r} activation (at most 4)")));
        }
        let spec = SliceSpec {
            begin: order.iter().map(|&k| begin[k]).collect(),
            stride: order.iter().map(|&k| stride[k]).collect(),
            count: order.iter().map(|&k| count[k]).collect(),
            out_shape: order.iter().map(|&k| count[k]).collect(),
        };
        let layout = a.layout;
        self.push(&out, Kind::Slice(a.id, Box::new(spec)), count, layout);
        Ok(())
    }

    /// Gather of an activation with one constant index: along a unit axis
    /// (a squeeze); the last time step of a recurrent op's output sequence
    /// (its state after the step, no copy); otherwise a strided slice of
    /// the activation in ONNX order (any time step, any axis).
    fn gather(&mut self, n: &NodeProto) -> Result<(), OnnxError> {
        let a = self.act(n, 0)?;
        let idx = self.konst(n, 1)?;
        let axis = axis_of(attr_i(n, "axis", 0), a.shape.len())
            .ok_or_else(|| self.err("axis out of range"))?;
        let ids = idx.i64s();
        let &[i] = ids.as_slice() else {
            return Err(self.err("only a single constant index is supported"));
        };
        let d = a.shape[axis];
        let i = if i < 0 { i + d as i64 } else { i };
        if !(0..d as i64).contains(&i) {
            return Err(self.err(format!("index {i} out of range for dimension {d}")));
        }
        let mut shape = a.shape[..axis].to_vec();
        shape.extend_from_slice(&idx.shape);
        shape.extend_from_slice(&a.shape[axis + 1..]);
        if d == 1 {
            return self.reshape_to(n, &a, shape);
        }
        if let Some(s) = self.sequences.get(&a.id).copied() {
            let last_step = a.shape[..axis].iter().all(|&v| v == 1)
                && d == s.time
                && a.shape[axis + 1..].iter().product::<usize>() == s.hidden
                && i as usize == s.time - 1;
            if last_step {
                let out = self.out_name(n)?.to_string();
                self.push(
                    &out,
                    Kind::RecurrentState(s.op_value, shape.clone()),
                    shape,
                    Layout::Plain,
                );
                return Ok(());
            }
        }
        let a = self.as_plain(&a)?;
        if a.shape.len() > 4 {
            return Err(self.err(format!(
                "Gather from a rank-{} activation (at most 4)",
                a.shape.len()
            )));
        }
        let mut spec = SliceSpec {
            begin: vec![0; a.shape.len()],
            stride: vec![1; a.shape.len()],
            count: a.shape.clone(),
            out_shape: shape.clone(),
        };
        (spec.begin[axis], spec.count[axis]) = (i as usize, 1);
        let out = self.out_name(n)?.to_string();
        self.push(
            &out,
            Kind::Slice(a.id, Box::new(spec)),
            shape,
            Layout::Plain,
        );
        Ok(())
    }

    /// ONNX `LSTM` (`gru` false) or `GRU`: forward, default activations,
    /// zero initial state; `Y` and `Y_h` may be used.
    fn recurrent(&mut self, n: &NodeProto, gru: bool) -> Result<(), OnnxError> {
        let name = if n.name.is_empty() {
            String::new()
        } else {
            format!(" '{}'", n.name)
        };
        let dir = attr_s(n, "direction").unwrap_or_else(|| "forward".into());
        if dir != "forward" {
            return Err(self.err(format!(
                "{}{name}: direction '{dir}' is not supported (forward only)",
                n.op_type
            )));
        }
        let defaults: &[&str] = if gru {
            &["Sigmoid", "Tanh"]
        } else {
            &["Sigmoid", "Tanh", "Tanh"]
        };
        if let Some(a) = attr(n, "activations") {
            let got: Vec<String> = a
                .strings
                .iter()
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect();
            if got.len() != defaults.len()
                || got
                    .iter()
                    .zip(defaults)
                    .any(|(g, d)| !g.eq_ignore_ascii_case(d))
            {
                return Err(self.err(format!(
                    "{}{name}: activations {got:?} (only the defaults {defaults:?} are supported)",
                    n.op_type
                )));
            }
        }
        if attr(n, "clip").is_some() {
            return Err(self.err(format!("{}{name}: clip is not supported", n.op_type)));
        }
        if !gru && attr_i(n, "input_forget", 0) != 0 {
            return Err(self.err(format!(
                "{}{name}: input_forget is not supported",
                n.op_type
            )));
        }
        let lbr = attr_i(n, "linear_before_reset", 0);
        if gru && lbr != 0 && lbr != 1 {
            return Err(self.err(format!("linear_before_reset {lbr}")));
        }
        let layout = attr_i(n, "layout", 0);
        if layout != 0 && layout != 1 {
            return Err(self.err(format!("layout {layout}")));
        }
        let x = self.act(n, 0)?;
        let x = self.as_plain(&x)?;
        let &[d0, d1, f] = x.shape.as_slice() else {
            return Err(self.err(format!("X must be 3-D, got {:?}", x.shape)));
        };
        let (time, batch) = if layout == 0 { (d0, d1) } else { (d1, d0) };
        let g = if gru { 3 } else { 4 };
        let w = self.konst(n, 1)?;
        let r = self.konst(n, 2)?;
        let nd = w.shape.first().copied().unwrap_or(0);
        if nd != 1 {
            return Err(self.err(format!(
                "{}{name}: {nd} directions (only forward is supported)",
                n.op_type
            )));
        }
        let h = match attr(n, "hidden_size") {
            Some(a) => usize::try_from(a.i)
                .ok()
                .filter(|&v| v > 0)
                .ok_or_else(|| self.err("bad hidden_size"))?,
            None => w.shape.get(1).copied().unwrap_or(0) / g,
        };
        if h == 0 || w.shape != [1, g * h, f] || r.shape != [1, g * h, h] {
            return Err(self.err(format!(
                "W {:?} / R {:?} do not match hidden_size {h} and {f} inputs",
                w.shape, r.shape
            )));
        }
        let b = match self.input(n, 3)? {
            None => vec![0f32; 2 * g * h],
            Some(Val::Const(c)) if c.len() == 2 * g * h => c.f32s(),
            _ => return Err(self.err("B must be a constant [1, 2·gates·hidden]")),
        };
        let zero_or_absent = |l: &Self, k: usize, what: &str| -> Result<(), OnnxError> {
            match l.input(n, k)? {
                None => Ok(()),
                Some(Val::Const(c)) if c.f32s().iter().all(|&v| v == 0.0) => Ok(()),
                _ => Err(l.err(format!(
                    "{}{name}: {what} must be absent or a zero constant",
                    n.op_type
                ))),
            }
        };
        match self.input(n, 4)? {
            None => {}
            Some(Val::Const(c)) if c.i64s().iter().all(|&v| v == time as i64) => {}
            _ => {
                return Err(self.err(format!(
                    "{}{name}: sequence_lens must be absent or equal to the sequence length",
                    n.op_type
                )))
            }
        }
        zero_or_absent(self, 5, "initial_h")?;
        if !gru {
            zero_or_absent(self, 6, "initial_c")?;
            zero_or_absent(self, 7, "P (peepholes)")?;
        }
        if !gru
            && n.output.get(2).is_some_and(|o| !o.is_empty())
            && self.name_uses.get(&n.output[2]).copied().unwrap_or(0) > 0
        {
            return Err(self.err(format!(
                "{}{name}: the cell state output Y_c is not supported",
                n.op_type
            )));
        }
        let (mut wv, mut rv) = (w.f32s(), r.f32s());
        let bias = if gru {
            b
        } else {
            // ONNX's gate order i, o, f, c → the kernel's i, f, g(c), o.
            let order = [0, 2, 3, 1];
            let blocks = |v: &[f32], cols: usize| -> Vec<f32> {
                order
                    .iter()
                    .flat_map(|&k| v[k * h * cols..(k + 1) * h * cols].iter().copied())
                    .collect()
            };
            wv = blocks(&wv, f);
            rv = blocks(&rv, h);
            let (wb, rb) = (blocks(&b[..4 * h], 1), blocks(&b[4 * h..], 1));
            wb.iter().zip(&rb).map(|(a, c)| a + c).collect()
        };
        let kind = Kind::Recurrent(Box::new(Recurrent {
            x: x.id,
            gru: gru.then_some(lbr == 1),
            w: wv,
            r: rv,
            bias,
            input: f,
            hidden: h,
            batch,
            time,
            time_major: layout == 0,
            output_used: true,
        }));
        let op_value = self.uses.len();
        self.uses.push(PINNED);
        self.producer.push(Some(self.ops.len()));
        self.ops.push(IrOp {
            kind,
            out: op_value,
        });
        let used = |l: &Self, k: usize| {
            n.output
                .get(k)
                .filter(|o| !o.is_empty())
                .filter(|o| l.name_uses.get(*o).copied().unwrap_or(0) > 0)
                .cloned()
        };
        if let Some(y) = used(self, 0) {
            let shape = if layout == 0 {
                vec![time, 1, batch, h]
            } else {
                vec![batch, time, 1, h]
            };
            let a = self.push(
                &y,
                Kind::Reshape(op_value, shape.clone()),
                shape,
                Layout::Plain,
            );
            if batch == 1 {
                self.sequences.insert(
                    a.id,
                    Sequence {
                        op_value,
                        time,
                        hidden: h,
                    },
                );
            }
        }
        if let Some(yh) = used(self, 1) {
            let shape = if layout == 0 {
                vec![1, batch, h]
            } else {
                vec![batch, 1, h]
            };
            self.push(
                &yh,
                Kind::RecurrentState(op_value, shape.clone()),
                shape,
                Layout::Plain,
            );
        }
        Ok(())
    }

    fn fold_const(&mut self, n: &NodeProto) -> Result<(), OnnxError> {
        let c0 = self.konst(n, 0)?;
        let c = match n.op_type.as_str() {
            "Gather" => {
                let idx = self.konst(n, 1)?;
                let axis = attr_i(n, "axis", 0);
                if c0.shape.len() != 1 || axis != 0 {
                    return Err(self.err("only gathering from a 1-D constant is supported"));
                }
                let len = c0.len() as i64;
                let pick = |i: i64| -> Result<usize, OnnxError> {
                    let j = if i < 0 { i + len } else { i };
                    usize::try_from(j)
                        .ok()
                        .filter(|&j| j < c0.len())
                        .ok_or_else(|| self.err("index out of range"))
                };
                let ids = idx.i64s();
                let data = match &c0.data {
                    Data::I(v) => Data::I(ids.iter().map(|&i| Ok(v[pick(i)?])).collect::<Result<
                        _,
                        OnnxError,
                    >>(
                    )?),
                    Data::F(v) => Data::F(ids.iter().map(|&i| Ok(v[pick(i)?])).collect::<Result<
                        _,
                        OnnxError,
                    >>(
                    )?),
                };
                Const {
                    shape: idx.shape.clone(),
                    data,
                }
            }
            "Unsqueeze" | "Squeeze" | "Flatten" | "Reshape" => {
                let shape = match n.op_type.as_str() {
                    "Reshape" => {
                        let t = self.konst(n, 1)?.i64s();
                        self.infer_reshape(&c0.shape, &t, attr_i(n, "allowzero", 0) != 0)?
                    }
                    "Flatten" => {
                        let axis = axis_of(attr_i(n, "axis", 1), c0.shape.len() + 1)
                            .ok_or_else(|| self.err("axis out of range"))?;
                        vec![
                            c0.shape[..axis].iter().product(),
                            c0.shape[axis..].iter().product(),
                        ]
                    }
                    op => squeeze_shape(op, &c0.shape, self.axes(n)?.as_deref())
                        .ok_or_else(|| self.err("bad axes"))?,
                };
                Const { shape, ..c0 }
            }
            "Concat" => {
                let axis = attr_i(n, "axis", 0);
                let parts: Vec<Const> = (0..n.input.len())
                    .map(|k| self.konst(n, k))
                    .collect::<Result<_, _>>()?;
                if parts.iter().any(|p| p.shape.len() > 1) || axis_of(axis, 1) != Some(0) {
                    return Err(self.err("only concatenation of 1-D constants is supported"));
                }
                if parts.iter().all(|p| matches!(p.data, Data::I(_))) {
                    let v: Vec<i64> = parts.iter().flat_map(|p| p.i64s()).collect();
                    Const::ints(vec![v.len()], v)
                } else {
                    let v: Vec<f32> = parts.iter().flat_map(|p| p.f32s()).collect();
                    Const::floats(vec![v.len()], v)
                }
            }
            "Expand" => {
                let target: Vec<usize> = self
                    .konst(n, 1)?
                    .i64s()
                    .iter()
                    .map(|&d| usize::try_from(d).map_err(|_| self.err("negative dimension")))
                    .collect::<Result<_, _>>()?;
                let shape = broadcast(&c0.shape, &target)
                    .and_then(|s| broadcast(&target, &s))
                    .ok_or_else(|| self.err("shapes do not broadcast"))?;
                let count = element_count(&shape).ok_or_else(|| self.err("too many elements"))?;
                if count > 1 << 24 {
                    return Err(self.err("too many elements"));
                }
                let src = |i: usize| broadcast_index(&shape, &c0.shape, i);
                let data = match &c0.data {
                    Data::I(v) => Data::I((0..count).map(|i| v[src(i)]).collect()),
                    Data::F(v) => Data::F((0..count).map(|i| v[src(i)]).collect()),
                };
                Const { shape, data }
            }
            "Cast" => {
                let to = attr_i(n, "to", 1);
                match to {
                    1 | 10 | 11 => Const::floats(c0.shape.clone(), c0.f32s()),
                    6 | 7 | 9 => Const::ints(c0.shape.clone(), c0.i64s()),
                    _ => return Err(self.err(format!("cast to type {to}"))),
                }
            }
            "Add" | "Sub" | "Mul" | "Div" | "Neg" | "Sqrt" | "Reciprocal" => {
                self.fold_arith(n, &c0)?
            }
            _ => return Err(self.unsupported_op(n)),
        };
        self.set_const(n, c)
    }

    fn fold_arith(&self, n: &NodeProto, a: &Const) -> Result<Const, OnnxError> {
        let unary = |f: fn(f32) -> f32| {
            Const::floats(a.shape.clone(), a.f32s().into_iter().map(f).collect())
        };
        match n.op_type.as_str() {
            "Neg" => {
                return Ok(match &a.data {
                    Data::I(v) => Const::ints(
                        a.shape.clone(),
                        v.iter().map(|x| x.wrapping_neg()).collect(),
                    ),
                    Data::F(_) => unary(|x| -x),
                })
            }
            "Sqrt" => return Ok(unary(f32::sqrt)),
            "Reciprocal" => return Ok(unary(|x| 1.0 / x)),
            _ => {}
        }
        let b = self.konst(n, 1)?;
        let shape = broadcast(&a.shape, &b.shape)
            .ok_or_else(|| self.err("constant operands do not broadcast"))?;
        let count = element_count(&shape).ok_or_else(|| self.err("too many elements"))?;
        let index = |s: &[usize], i: usize| broadcast_index(&shape, s, i);
        let op = n.op_type.as_str();
        if let (Data::I(x), Data::I(y)) = (&a.data, &b.data) {
            let v = (0..count)
                .map(|i| {
                    let (p, q) = (x[index(&a.shape, i)], y[index(&b.shape, i)]);
                    match op {
                        "Add" => p.wrapping_add(q),
                        "Sub" => p.wrapping_sub(q),
                        "Mul" => p.wrapping_mul(q),
                        _ => p.checked_div(q).unwrap_or(0),
                    }
                })
                .collect();
            return Ok(Const::ints(shape, v));
        }
        let (x, y) = (a.f32s(), b.f32s());
        let v = (0..count)
            .map(|i| {
                let (p, q) = (x[index(&a.shape, i)], y[index(&b.shape, i)]);
                match op {
                    "Add" => p + q,
                    "Sub" => p - q,
                    "Mul" => p * q,
                    _ => p / q,
                }
            })
            .collect();
        Ok(Const::floats(shape, v))
    }

    fn conv(&mut self, n: &NodeProto) -> Result<(), OnnxError> {
        let a = self.act(n, 0)?;
        let a = self.as_nhwc(&a)?;
        let wc = self.konst(n, 1)?;
        let &[_, c, h, wd] = a.shape.as_slice() else {
            return Err(self.err("input is not 4-D"));
        };
        let &[o, ig, kh, kw] = wc.shape.as_slice() else {
            return Err(self.err("only 2-D convolution (4-D weights) is supported"));
        };
        if [o, ig, kh, kw].contains(&0) {
            return Err(self.err(format!("empty weights {:?}", wc.shape)));
        }
        let group = attr_i(n, "group", 1);
        let w = wc.f32s();
        let bias = match self.input(n, 2)? {
            None => vec![0.0; o],
            Some(Val::Const(b)) if b.len() == o => b.f32s(),
            _ => return Err(self.err("bias must be a constant of one value per output channel")),
        };
        let pair = |v: Option<Vec<i64>>, what: &str| -> Result<(usize, usize), OnnxError> {
            match v.as_deref() {
                None => Ok((1, 1)),
                Some(&[a, b])
                    if (1..=MAX_GEOMETRY).contains(&a) && (1..=MAX_GEOMETRY).contains(&b) =>
                {
                    Ok((a as usize, b as usize))
                }
                _ => Err(self.err(format!("{what} must be two integers in 1..={MAX_GEOMETRY}"))),
            }
        };
        let stride = pair(attr_ints(n, "strides"), "strides")?;
        let dilation = pair(attr_ints(n, "dilations"), "dilations")?;
        if let Some(ks) = attr_ints(n, "kernel_shape") {
            if ks != [kh as i64, kw as i64] {
                return Err(self.err("kernel_shape differs from the weights' shape"));
            }
        }
        let (a, h, wd, padding) = match self.padding(n, [h, wd], [kh, kw], stride, dilation)? {
            Ok(p) => (a, h, wd, p),
            Err(p) => {
                // Padding TFLite's SAME cannot express (PyTorch pads a
                // strided convolution on both sides): pad, then VALID.
                let (ph, pw) = (h + p[0] + p[1], wd + p[2] + p[3]);
                let id = self.uses.len();
                self.uses.push(1);
                self.producer.push(Some(self.ops.len()));
                self.ops.push(IrOp {
                    kind: Kind::Pad(a.id, p),
                    out: id,
                });
                let padded = Act {
                    id,
                    shape: vec![1, c, ph, pw],
                    layout: Layout::Nchw,
                };
                (padded, ph, pw, Padding::Valid)
            }
        };
        let (wt, wshape, depth_multiplier) = if group == 1 && ig == c {
            // OIHW → OHWI.
            let (_, t) = permute(&w, &[o, ig, kh, kw], &[0, 2, 3, 1]);
            (t, [o, kh, kw, ig], None)
        } else if group as usize == c && ig == 1 && o % c == 0 {
            // Depthwise: output channel o = c·M + m; filter [1, KH, KW, C·M].
            let (_, t) = permute(&w, &[o, kh, kw], &[1, 2, 0]);
            (t, [1, kh, kw, o], Some(o / c))
        } else {
            return Err(self.err(format!(
                "grouped convolution (group {group}, {c} input channels, weights {:?}) that is \
                 neither dense nor depthwise",
                wc.shape
            )));
        };
        let oh = padding.resolve(h, kh, stride.0, dilation.0);
        let ow = padding.resolve(wd, kw, stride.1, dilation.1);
        let (Some((oh, _)), Some((ow, _))) = (oh, ow) else {
            return Err(self.err("the kernel does not fit the input"));
        };
        let out = self.out_name(n)?.to_string();
        self.push(
            &out,
            Kind::Conv {
                x: a.id,
                w: wt,
                wshape,
                bias,
                stride,
                dilation,
                padding,
                depth_multiplier,
                act: Activation::None,
            },
            vec![1, o, oh, ow],
            Layout::Nchw,
        );
        Ok(())
    }

    /// SAME or VALID equivalent to the node's `auto_pad` / `pads`.
    fn padding(
        &self,
        n: &NodeProto,
        input: [usize; 2],
        kernel: [usize; 2],
        stride: (usize, usize),
        dilation: (usize, usize),
    ) -> Result<Result<Padding, [usize; 4]>, OnnxError> {
        let stride = [stride.0, stride.1];
        let dilation = [dilation.0, dilation.1];
        match attr_s(n, "auto_pad").as_deref() {
            Some("SAME_UPPER") => return Ok(Ok(Padding::Same)),
            Some("VALID") => return Ok(Ok(Padding::Valid)),
            Some("SAME_LOWER") => {
                // Equal to SAME_UPPER when the total padding is even.
                let even = (0..2).all(|k| {
                    let eff = (kernel[k] - 1) * dilation[k] + 1;
                    let out = input[k].div_ceil(stride[k]);
                    ((out - 1) * stride[k] + eff).saturating_sub(input[k]) % 2 == 0
                });
                return if even {
                    Ok(Ok(Padding::Same))
                } else {
                    Err(self.err("SAME_LOWER padding with odd total padding"))
                };
            }
            _ => {}
        }
        let pads = attr_ints(n, "pads").unwrap_or_else(|| vec![0; 4]);
        let &[t, l, b, r] = pads.as_slice() else {
            return Err(self.err("pads must have 4 values"));
        };
        if [t, l, b, r]
            .iter()
            .any(|&p| !(0..=MAX_GEOMETRY).contains(&p))
        {
            return Err(self.err(format!("pads {pads:?} out of range")));
        }
        let ceil = attr_i(n, "ceil_mode", 0) != 0;
        let before = [t as usize, l as usize];
        let after = [b as usize, r as usize];
        // The output size and first window position decide the result: pads
        // past the last window are never read.
        let explicit_out = |k: usize| -> Option<usize> {
            let eff = (kernel[k] - 1) * dilation[k] + 1;
            let span = (input[k] + before[k] + after[k]).checked_sub(eff)?;
            Some(
                if ceil {
                    span.div_ceil(stride[k])
                } else {
                    span / stride[k]
                } + 1,
            )
        };
        for cand in [Padding::Valid, Padding::Same] {
            let ok = (0..2).all(|k| {
                cand.resolve(input[k], kernel[k], stride[k], dilation[k])
                    .is_some_and(|(out, pb)| pb == before[k] && Some(out) == explicit_out(k))
            });
            if ok {
                return Ok(Ok(cand));
            }
        }
        // Explicit: the padding the windows actually read (rows after the
        // last window are dropped).
        let mut used = [0usize; 4];
        for k in 0..2 {
            let eff = (kernel[k] - 1) * dilation[k] + 1;
            if let Some(out) = explicit_out(k).filter(|_| !ceil) {
                let end = (out - 1) * stride[k] + eff;
                used[2 * k] = before[k];
                used[2 * k + 1] = end.saturating_sub(input[k] + before[k]);
                continue;
            }
            return Err(self.err(format!(
                "pads {pads:?} (ceil_mode {ceil}) do not fit input {input:?}, kernel {kernel:?}"
            )));
        }
        if used.iter().all(|&p| p <= 64) {
            return Ok(Err(used));
        }
        Err(self.err(format!(
            "pads {pads:?} are neither SAME nor VALID for input {input:?}, kernel {kernel:?}, \
             strides {stride:?}"
        )))
    }

    fn gemm(&mut self, n: &NodeProto) -> Result<(), OnnxError> {
        if attr_i(n, "transA", 0) != 0 {
            return Err(self.err("transA = 1 is not supported"));
        }
        let a = self.act(n, 0)?;
        let b = self.konst(n, 1)?;
        let &[r0, r1] = b.shape.as_slice() else {
            return Err(self.err("B must be 2-D"));
        };
        let alpha = attr_f(n, "alpha", 1.0);
        let beta = attr_f(n, "beta", 1.0);
        let trans_b = attr_i(n, "transB", 0) != 0;
        let (out_n, in_n) = if trans_b { (r0, r1) } else { (r1, r0) };
        let mut w = b.f32s();
        if !trans_b {
            w = permute(&w, &[r0, r1], &[1, 0]).1;
        }
        for v in &mut w {
            *v *= alpha;
        }
        let bias = match self.input(n, 2)? {
            None => vec![0.0; out_n],
            Some(Val::Const(c)) if c.len() == out_n => c.f32s().iter().map(|v| v * beta).collect(),
            Some(Val::Const(c)) if c.len() == 1 => vec![c.f32s()[0] * beta; out_n],
            _ => return Err(self.err("C must be a constant of one value per output")),
        };
        self.dense(n, &a, w, [out_n, in_n], bias)
    }

    fn matmul(&mut self, n: &NodeProto) -> Result<(), OnnxError> {
        let a = self.act(n, 0)?;
        let b = self.konst(n, 1)?;
        let &[k, out_n] = b.shape.as_slice() else {
            return Err(self.err("the right operand must be a 2-D constant"));
        };
        let w = permute(&b.f32s(), &[k, out_n], &[1, 0]).1;
        self.dense(n, &a, w, [out_n, k], vec![0.0; out_n])
    }

    /// A fully connected op over the last axis of `a` (`w` is `[out, in]`
    /// for the logical column order).
    fn dense(
        &mut self,
        n: &NodeProto,
        a: &Act,
        mut w: Vec<f32>,
        [out_n, in_n]: [usize; 2],
        bias: Vec<f32>,
    ) -> Result<(), OnnxError> {
        if out_n == 0 || in_n == 0 {
            return Err(self.err("empty weights"));
        }
        if a.shape.last() != Some(&in_n) {
            return Err(self.err(format!(
                "input of shape {:?} does not match weights for {in_n} inputs",
                a.shape
            )));
        }
        let a = match a.layout {
            Layout::FlatChw { c, h, w: wd } => {
                // Columns from CHW to the stored HWC order.
                let order = chw_order(c, h, wd);
                let mut t = vec![0f32; w.len()];
                for o in 0..out_n {
                    for (i, &j) in order.iter().enumerate() {
                        t[o * in_n + i] = w[o * in_n + j];
                    }
                }
                w = t;
                a.clone()
            }
            _ => self.as_plain(a)?,
        };
        let mut shape = a.shape.clone();
        *shape.last_mut().unwrap_or(&mut 0) = out_n;
        let rows: usize = shape[..shape.len() - 1].iter().product();
        let out = self.out_name(n)?.to_string();
        let kind = Kind::Dense {
            x: a.id,
            w,
            wshape: [out_n, in_n],
            bias,
            act: Activation::None,
        };
        if shape.len() == 2 {
            self.push(&out, kind, shape, Layout::Plain);
        } else {
            let idx = self.ops.len();
            let id = self.uses.len();
            self.uses.push(1);
            self.producer.push(Some(idx));
            self.ops.push(IrOp { kind, out: id });
            let tmp = Act {
                id,
                shape: vec![rows, out_n],
                layout: Layout::Plain,
            };
            self.push(
                &out,
                Kind::Reshape(tmp.id, shape.clone()),
                shape,
                Layout::Plain,
            );
        }
        Ok(())
    }

    fn batch_norm(&mut self, n: &NodeProto) -> Result<(), OnnxError> {
        let a = self.act(n, 0)?;
        let [gamma, beta, mean, var] = [1, 2, 3, 4].map(|k| self.konst(n, k).map(|c| c.f32s()));
        let (gamma, beta, mean, var) = (gamma?, beta?, mean?, var?);
        let eps = attr_f(n, "epsilon", 1e-5);
        let ch = *a
            .shape
            .get(1)
            .ok_or_else(|| self.err("input has no channel axis"))?;
        if [&gamma, &beta, &mean, &var].iter().any(|v| v.len() != ch) {
            return Err(self.err("parameters do not have one value per channel"));
        }
        let factor: Vec<f32> = (0..ch).map(|c| gamma[c] / (var[c] + eps).sqrt()).collect();
        let shift: Vec<f32> = (0..ch).map(|c| beta[c] - mean[c] * factor[c]).collect();
        let out = self.out_name(n)?.to_string();
        let dense_ok = a.shape.len() == 2;
        if let Some(k) = self.sole_producer(&a) {
            match k {
                Kind::Conv {
                    w,
                    bias,
                    wshape,
                    depth_multiplier,
                    act: Activation::None,
                    ..
                } => {
                    let o = bias.len();
                    for (i, v) in w.iter_mut().enumerate() {
                        // Output channel: first axis (OHWI) or last (depthwise).
                        let oc = if depth_multiplier.is_some() {
                            i % o
                        } else {
                            i / (wshape[1] * wshape[2] * wshape[3])
                        };
                        *v *= factor[oc];
                    }
                    for c in 0..o {
                        bias[c] = bias[c] * factor[c] + shift[c];
                    }
                    let (s, l) = (a.shape.clone(), a.layout);
                    self.alias(&out, &a, s, l);
                    return Ok(());
                }
                Kind::Dense {
                    w,
                    bias,
                    wshape,
                    act: Activation::None,
                    ..
                } if dense_ok => {
                    for (i, v) in w.iter_mut().enumerate() {
                        *v *= factor[i / wshape[1]];
                    }
                    for c in 0..bias.len() {
                        bias[c] = bias[c] * factor[c] + shift[c];
                    }
                    let (s, l) = (a.shape.clone(), a.layout);
                    self.alias(&out, &a, s, l);
                    return Ok(());
                }
                _ => {}
            }
        }
        // Standalone: x·factor + shift per channel.
        let mut cshape = vec![1usize; a.shape.len()];
        cshape[1] = ch;
        let f = self.const_operand(&a, &Const::floats(cshape.clone(), factor))?;
        let s = self.const_operand(&a, &Const::floats(cshape, shift))?;
        let tmp_name = format!("{out}#bn_scale");
        let m = self.push(&tmp_name, Kind::Mul(a.id, f), a.shape.clone(), a.layout);
        self.uses[m.id] = PINNED;
        self.push(&out, Kind::Add(m.id, s), a.shape.clone(), a.layout);
        Ok(())
    }

    fn activation(&mut self, n: &NodeProto, act: Activation) -> Result<(), OnnxError> {
        let a = self.act(n, 0)?;
        if let Some(Kind::Conv { act: x, .. } | Kind::Dense { act: x, .. }) = self.sole_producer(&a)
        {
            if *x == Activation::None {
                *x = act;
                let out = self.out_name(n)?.to_string();
                let (s, l) = (a.shape.clone(), a.layout);
                self.alias(&out, &a, s, l);
                return Ok(());
            }
        }
        match act {
            Activation::Relu => self.unary(n, Unary::Relu),
            Activation::Relu6 => self.unary(n, Unary::Relu6),
            _ => Err(self.err("clip range other than (0, 6) or (0, ∞) after a non-convolution")),
        }
    }

    fn clip(&mut self, n: &NodeProto) -> Result<(), OnnxError> {
        let bound = |k: usize, name: &str, default: f32| -> Result<f32, OnnxError> {
            if self.opset < 11 {
                return Ok(attr_f(n, name, default));
            }
            match self.input(n, k)? {
                None => Ok(default),
                Some(Val::Const(c)) if c.len() == 1 => Ok(c.f32s()[0]),
                _ => Err(self.err("Clip bounds must be scalar constants")),
            }
        };
        let lo = bound(1, "min", f32::NEG_INFINITY)?;
        let hi = bound(2, "max", f32::INFINITY)?;
        let act = match (lo, hi) {
            (l, h) if l == 0.0 && h == 6.0 => Activation::Relu6,
            (l, h) if l == 0.0 && h == f32::INFINITY => Activation::Relu,
            (l, h) if l == -1.0 && h == 1.0 => Activation::ReluN1To1,
            _ => {
                return Err(self.err(format!(
                    "Clip({lo}, {hi}): only (0, 6), (0, ∞) and (−1, 1) are supported"
                )))
            }
        };
        self.activation(n, act)
    }

    fn unary(&mut self, n: &NodeProto, u: Unary) -> Result<(), OnnxError> {
        let a = self.act(n, 0)?;
        let out = self.out_name(n)?.to_string();
        self.push(&out, Kind::Unary(a.id, u), a.shape.clone(), a.layout);
        Ok(())
    }

    fn softmax(&mut self, n: &NodeProto) -> Result<(), OnnxError> {
        let a = self.act(n, 0)?;
        let r = a.shape.len();
        let default = if self.opset < 13 { 1 } else { -1 };
        let axis =
            axis_of(attr_i(n, "axis", default), r).ok_or_else(|| self.err("axis out of range"))?;
        // The device normalizes over its stored last axis. (Before opset 13
        // the input is coerced to 2-D at `axis`: the same when it is last.)
        let ok = match a.layout {
            Layout::Plain | Layout::FlatChw { .. } => axis == r - 1,
            Layout::Nchw => axis == 1 && a.shape[2] * a.shape[3] == 1,
        };
        if !ok {
            return Err(self.err(format!(
                "softmax over axis {axis} of shape {:?}: only the last axis is supported",
                a.shape
            )));
        }
        self.unary(n, Unary::Softmax)
    }

    fn pool(&mut self, n: &NodeProto) -> Result<(), OnnxError> {
        let a = self.act(n, 0)?;
        let a = self.as_nhwc(&a)?;
        let &[_, c, h, w] = a.shape.as_slice() else {
            return Err(self.err("input is not 4-D"));
        };
        let kernel = match attr_ints(n, "kernel_shape").as_deref() {
            Some(&[kh, kw])
                if (1..=MAX_GEOMETRY).contains(&kh) && (1..=MAX_GEOMETRY).contains(&kw) =>
            {
                (kh as usize, kw as usize)
            }
            _ => return Err(self.err("kernel_shape must be two positive integers")),
        };
        let stride = match attr_ints(n, "strides").as_deref() {
            None => (1, 1),
            Some(&[a, b]) if (1..=MAX_GEOMETRY).contains(&a) && (1..=MAX_GEOMETRY).contains(&b) => {
                (a as usize, b as usize)
            }
            _ => return Err(self.err("strides must be two positive integers")),
        };
        if attr_ints(n, "dilations").is_some_and(|d| d.iter().any(|&v| v != 1)) {
            return Err(self.err("dilated pooling"));
        }
        let avg = n.op_type == "AveragePool";
        let include_pad = avg && attr_i(n, "count_include_pad", 0) != 0;
        let has_pads = attr_ints(n, "pads").is_some_and(|p| p.iter().any(|&v| v != 0));
        let resolved = match self.padding(n, [h, w], [kernel.0, kernel.1], stride, (1, 1))? {
            // Zeros counted in the average: explicit padding, then VALID.
            Ok(Padding::Same) if include_pad && has_pads => {
                let mut p = [0usize; 4];
                for (k, (inp, ker, st)) in [(h, kernel.0, stride.0), (w, kernel.1, stride.1)]
                    .into_iter()
                    .enumerate()
                {
                    let (out, before) = Padding::Same
                        .resolve(inp, ker, st, 1)
                        .ok_or_else(|| self.err("the window does not fit the input"))?;
                    p[2 * k] = before;
                    p[2 * k + 1] = ((out - 1) * st + ker).saturating_sub(inp + before);
                }
                Err(p)
            }
            r => r,
        };
        let (a, h, w, padding) = match resolved {
            Ok(p) => (a, h, w, p),
            Err(p) if include_pad => {
                let (ph, pw) = (h + p[0] + p[1], w + p[2] + p[3]);
                let id = self.uses.len();
                self.uses.push(1);
                self.producer.push(Some(self.ops.len()));
                self.ops.push(IrOp {
                    kind: Kind::Pad(a.id, p),
                    out: id,
                });
                let padded = Act {
                    id,
                    shape: vec![1, c, ph, pw],
                    layout: Layout::Nchw,
                };
                (padded, ph, pw, Padding::Valid)
            }
            Err(_) => {
                return Err(self.err(format!(
                    "pads {:?} are neither SAME nor VALID (only convolutions and average \
                     pooling counting the padding take other padding)",
                    attr_ints(n, "pads").unwrap_or_default()
                )))
            }
        };
        if n.output.len() > 1 && n.output[1..].iter().any(|o| !o.is_empty()) {
            return Err(self.err("MaxPool indices output"));
        }
        let (Some((oh, _)), Some((ow, _))) = (
            padding.resolve(h, kernel.0, stride.0, 1),
            padding.resolve(w, kernel.1, stride.1, 1),
        ) else {
            return Err(self.err("the window does not fit the input"));
        };
        let opts = PoolOptions {
            kernel,
            stride,
            padding,
            activation: Activation::None,
        };
        let kind = if avg {
            Kind::AvgPool(a.id, opts)
        } else {
            Kind::MaxPool(a.id, opts)
        };
        let out = self.out_name(n)?.to_string();
        self.push(&out, kind, vec![1, c, oh, ow], Layout::Nchw);
        Ok(())
    }

    fn global_avg(&mut self, n: &NodeProto, keep_dims: bool) -> Result<(), OnnxError> {
        let a = self.act(n, 0)?;
        let a = self.as_nhwc(&a)?;
        let c = a.shape[1];
        let out = self.out_name(n)?.to_string();
        if keep_dims {
            self.push(
                &out,
                Kind::GlobalAvg { x: a.id, keep_dims },
                vec![1, c, 1, 1],
                Layout::Nchw,
            );
        } else {
            self.push(
                &out,
                Kind::GlobalAvg { x: a.id, keep_dims },
                vec![1, c],
                Layout::Plain,
            );
        }
        Ok(())
    }

    fn reduce_mean(&mut self, n: &NodeProto) -> Result<(), OnnxError> {
        let a = self.act(n, 0)?;
        let r = a.shape.len();
        let mut axes: Vec<usize> = self
            .axes(n)?
            .ok_or_else(|| self.err("ReduceMean over all axes"))?
            .iter()
            .map(|&x| axis_of(x, r))
            .collect::<Option<_>>()
            .ok_or_else(|| self.err("axis out of range"))?;
        axes.sort_unstable();
        if r != 4 || axes != [2, 3] {
            return Err(
                self.err("ReduceMean is supported over the spatial axes (2, 3) of a 4-D input")
            );
        }
        self.global_avg(n, attr_i(n, "keepdims", 1) != 0)
    }

    fn binary(&mut self, n: &NodeProto) -> Result<(), OnnxError> {
        let out = self.out_name(n)?.to_string();
        let (x, y) = (self.need(n, 0)?, self.need(n, 1)?);
        let op = n.op_type.as_str();
        match (x, y) {
            (Val::Act(a), Val::Const(c)) => {
                let c = match op {
                    "Sub" => Const::floats(c.shape.clone(), c.f32s().iter().map(|v| -v).collect()),
                    "Div" => {
                        Const::floats(c.shape.clone(), c.f32s().iter().map(|v| 1.0 / v).collect())
                    }
                    _ => c,
                };
                let is_add = matches!(op, "Add" | "Sub");
                if is_add && self.fold_bias(&a, &c) {
                    let (s, l) = (a.shape.clone(), a.layout);
                    self.alias(&out, &a, s, l);
                    return Ok(());
                }
                let operand = self.const_operand(&a, &c)?;
                let kind = if is_add {
                    Kind::Add(a.id, operand)
                } else {
                    Kind::Mul(a.id, operand)
                };
                self.push(&out, kind, a.shape.clone(), a.layout);
            }
            (Val::Const(c), Val::Act(a)) => match op {
                "Add" | "Mul" => {
                    let operand = self.const_operand(&a, &c)?;
                    let kind = if op == "Add" {
                        Kind::Add(a.id, operand)
                    } else {
                        Kind::Mul(a.id, operand)
                    };
                    self.push(&out, kind, a.shape.clone(), a.layout);
                }
                "Sub" => {
                    // c − a = (−1)·a + c.
                    let neg = Operand::Const {
                        shape: vec![1],
                        data: vec![-1.0],
                    };
                    let m = self.push(
                        &format!("{out}#neg"),
                        Kind::Mul(a.id, neg),
                        a.shape.clone(),
                        a.layout,
                    );
                    self.uses[m.id] = PINNED;
                    let operand = self.const_operand(&a, &c)?;
                    self.push(&out, Kind::Add(m.id, operand), a.shape.clone(), a.layout);
                }
                _ => return Err(self.err("division by an activation")),
            },
            (Val::Act(a), Val::Act(b)) => {
                if op == "Div" {
                    return Err(self.err("division by an activation"));
                }
                let (a, b) = match (a.layout, b.layout) {
                    (x, y) if x == y => (a, b),
                    (Layout::Nchw, _) => {
                        let b = self.as_nhwc(&b)?;
                        (a, b)
                    }
                    (_, Layout::Nchw) => {
                        let a = self.as_nhwc(&a)?;
                        (a, b)
                    }
                    _ => (self.as_plain(&a)?, self.as_plain(&b)?),
                };
                let shape = broadcast(&a.shape, &b.shape)
                    .ok_or_else(|| self.err("shapes do not broadcast"))?;
                if a.layout == Layout::Nchw && (a.shape.len() != 4 || b.shape.len() != 4) {
                    return Err(self.err("broadcasting a 4-D activation against a lower-rank one"));
                }
                let b_id = if op == "Sub" {
                    let neg = Operand::Const {
                        shape: vec![1],
                        data: vec![-1.0],
                    };
                    let m = self.push(
                        &format!("{out}#neg"),
                        Kind::Mul(b.id, neg),
                        b.shape.clone(),
                        b.layout,
                    );
                    self.uses[m.id] = PINNED;
                    m.id
                } else {
                    b.id
                };
                let kind = if op == "Mul" {
                    Kind::Mul(a.id, Operand::Val(b_id))
                } else {
                    Kind::Add(a.id, Operand::Val(b_id))
                };
                self.push(&out, kind, shape, a.layout);
            }
            (Val::Const(_), Val::Const(_)) => unreachable!("folded as a constant"),
        }
        Ok(())
    }

    /// Adds a per-channel (or scalar) constant into the bias of the
    /// conv / fully connected op defining `a`, if it can.
    fn fold_bias(&mut self, a: &Act, c: &Const) -> bool {
        let v = c.f32s();
        let (layout, shape) = (a.layout, a.shape.clone());
        let Some(kind) = self.sole_producer(a) else {
            return false;
        };
        let (bias, per_channel) = match kind {
            Kind::Conv {
                bias,
                act: Activation::None,
                ..
            } if layout == Layout::Nchw => {
                let ch = bias.len();
                let mut s4 = vec![1usize; 4usize.saturating_sub(c.shape.len())];
                s4.extend_from_slice(&c.shape);
                (bias, s4 == [1, ch, 1, 1])
            }
            Kind::Dense {
                bias,
                act: Activation::None,
                ..
            } if shape.len() == 2 => {
                let ch = bias.len();
                let ok =
                    c.shape.last() == Some(&ch) && c.shape.iter().rev().skip(1).all(|&d| d == 1);
                (bias, ok)
            }
            _ => return false,
        };
        if v.len() == 1 {
            bias.iter_mut().for_each(|b| *b += v[0]);
            true
        } else if per_channel && v.len() == bias.len() {
            bias.iter_mut().zip(&v).for_each(|(b, x)| *b += x);
            true
        } else {
            false
        }
    }

    fn concat(&mut self, n: &NodeProto) -> Result<(), OnnxError> {
        let mut acts = Vec::new();
        for k in 0..n.input.len() {
            acts.push(self.act(n, k)?);
        }
        let first = acts.first().ok_or_else(|| self.err("no inputs"))?.clone();
        let r = first.shape.len();
        let axis = axis_of(attr_i(n, "axis", 0), r).ok_or_else(|| self.err("axis out of range"))?;
        let nchw = acts.iter().any(|a| a.layout == Layout::Nchw);
        let mut ids = Vec::new();
        let mut shape = first.shape.clone();
        shape[axis] = 0;
        for a in &acts {
            let a = if nchw {
                self.as_nhwc(a)?
            } else {
                self.as_plain(a)?
            };
            if a.shape.len() != r || (0..r).any(|k| k != axis && a.shape[k] != first.shape[k]) {
                return Err(self.err("inputs differ in shape off the concatenation axis"));
            }
            shape[axis] += a.shape[axis];
            ids.push(a.id);
        }
        let (stored_axis, layout) = if nchw {
            ([0, 3, 1, 2][axis], Layout::Nchw)
        } else {
            (axis, Layout::Plain)
        };
        let out = self.out_name(n)?.to_string();
        self.push(&out, Kind::Concat(ids, stored_axis), shape, layout);
        Ok(())
    }
}

/// The shape after `Squeeze` / `Unsqueeze` with `axes`.
fn squeeze_shape(op: &str, shape: &[usize], axes: Option<&[i64]>) -> Option<Vec<usize>> {
    if op == "Squeeze" {
        let r = shape.len();
        let axes: Vec<usize> = match axes {
            None => (0..r).filter(|&k| shape[k] == 1).collect(),
            Some(a) => a.iter().map(|&x| axis_of(x, r)).collect::<Option<_>>()?,
        };
        if axes.iter().any(|&k| shape[k] != 1) {
            return None;
        }
        Some(
            (0..r)
                .filter(|k| !axes.contains(k))
                .map(|k| shape[k])
                .collect(),
        )
    } else {
        let axes = axes?;
        let r = shape.len() + axes.len();
        let axes: Vec<usize> = axes.iter().map(|&x| axis_of(x, r)).collect::<Option<_>>()?;
        let mut it = shape.iter();
        (0..r)
            .map(|k| {
                if axes.contains(&k) {
                    Some(1)
                } else {
                    it.next().copied()
                }
            })
            .collect()
    }
}
