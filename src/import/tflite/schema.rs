//! The parts of TensorFlow Lite's public schema (`schema.fbs`) the importer
//! reads, decoded into plain structs. Field ids are the schema's field
//! order (a union field takes two ids: its type, then its value).

use super::flatbuf::{FbError, Result, Table};

/// `BuiltinOperator` codes of the supported ops (and a few for messages).
#[allow(missing_docs)]
pub mod op {
    pub const ADD: i32 = 0;
    pub const AVERAGE_POOL_2D: i32 = 1;
    pub const CONCATENATION: i32 = 2;
    pub const CONV_2D: i32 = 3;
    pub const DEPTHWISE_CONV_2D: i32 = 4;
    pub const DEQUANTIZE: i32 = 6;
    pub const FULLY_CONNECTED: i32 = 9;
    pub const LOGISTIC: i32 = 14;
    pub const MAX_POOL_2D: i32 = 17;
    pub const MUL: i32 = 18;
    pub const RELU: i32 = 19;
    pub const RELU6: i32 = 21;
    pub const RESHAPE: i32 = 22;
    pub const SOFTMAX: i32 = 25;
    pub const TANH: i32 = 28;
    pub const CUSTOM: i32 = 32;
    pub const PAD: i32 = 34;
    pub const MEAN: i32 = 40;
    pub const SQUEEZE: i32 = 43;
    pub const UNIDIRECTIONAL_SEQUENCE_LSTM: i32 = 44;
    pub const STRIDED_SLICE: i32 = 45;
    pub const LEAKY_RELU: i32 = 98;
    pub const QUANTIZE: i32 = 114;

    /// The schema's name of a builtin operator code.
    pub fn name(code: i32) -> String {
        match code {
            ADD => "ADD",
            AVERAGE_POOL_2D => "AVERAGE_POOL_2D",
            CONCATENATION => "CONCATENATION",
            CONV_2D => "CONV_2D",
            DEPTHWISE_CONV_2D => "DEPTHWISE_CONV_2D",
            DEQUANTIZE => "DEQUANTIZE",
            FULLY_CONNECTED => "FULLY_CONNECTED",
            LOGISTIC => "LOGISTIC",
            MAX_POOL_2D => "MAX_POOL_2D",
            MUL => "MUL",
            RELU => "RELU",
            RELU6 => "RELU6",
            RESHAPE => "RESHAPE",
            SOFTMAX => "SOFTMAX",
            TANH => "TANH",
            CUSTOM => "CUSTOM",
            PAD => "PAD",
            MEAN => "MEAN",
            SQUEEZE => "SQUEEZE",
            UNIDIRECTIONAL_SEQUENCE_LSTM => "UNIDIRECTIONAL_SEQUENCE_LSTM",
            STRIDED_SLICE => "STRIDED_SLICE",
            LEAKY_RELU => "LEAKY_RELU",
            QUANTIZE => "QUANTIZE",
            other => return format!("builtin operator {other}"),
        }
        .to_string()
    }
}

/// `TensorType` values.
#[allow(missing_docs)]
pub mod ty {
    pub const FLOAT32: u8 = 0;
    pub const FLOAT16: u8 = 1;
    pub const INT32: u8 = 2;
    pub const UINT8: u8 = 3;
    pub const INT64: u8 = 4;
    pub const INT16: u8 = 7;
    pub const INT8: u8 = 9;

    /// The schema's name of a tensor type.
    pub fn name(t: u8) -> String {
        match t {
            FLOAT32 => "FLOAT32".into(),
            FLOAT16 => "FLOAT16".into(),
            INT32 => "INT32".into(),
            UINT8 => "UINT8".into(),
            INT64 => "INT64".into(),
            INT16 => "INT16".into(),
            INT8 => "INT8".into(),
            other => format!("tensor type {other}"),
        }
    }
}

/// A tensor's quantization parameters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Quantization {
    pub scale: Vec<f32>,
    pub zero_point: Vec<i64>,
    pub quantized_dimension: i32,
}

/// One tensor of the subgraph.
#[derive(Debug, Clone)]
pub struct Tensor {
    pub shape: Vec<i32>,
    pub ty: u8,
    pub buffer: u32,
    pub name: String,
    pub quant: Option<Quantization>,
    pub is_variable: bool,
    pub sparse: bool,
}

/// One operator: its builtin code, tensors and options table.
#[derive(Clone)]
pub struct Operator<'a> {
    pub code: i32,
    #[allow(dead_code)]
    pub version: i32,
    pub inputs: Vec<i32>,
    pub outputs: Vec<i32>,
    #[allow(dead_code)]
    pub intermediates: Vec<i32>,
    pub options_type: u8,
    pub options: Option<Table<'a>>,
}

/// The decoded model (its first subgraph).
pub struct TfliteModel<'a> {
    pub tensors: Vec<Tensor>,
    pub inputs: Vec<i32>,
    pub outputs: Vec<i32>,
    pub operators: Vec<Operator<'a>>,
    /// Each buffer's bytes (empty: no data).
    pub buffers: Vec<&'a [u8]>,
}

fn ctx<T>(r: Result<T>, what: impl Fn() -> String) -> Result<T> {
    r.map_err(|e| FbError(format!("{}: {}", what(), e.0)))
}

impl<'a> TfliteModel<'a> {
    /// Decodes a `.tflite` file. Checks the file identifier `TFL3`.
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        if bytes.len() < 8 {
            return Err(FbError(format!(
                "{} bytes is too short for a TFLite file",
                bytes.len()
            )));
        }
        if &bytes[4..8] != b"TFL3" {
            return Err(FbError("not a TFLite file (no TFL3 identifier)".into()));
        }
        let model = Table::root(bytes)?;
        // Model: version 0, operator_codes 1, subgraphs 2, description 3, buffers 4.
        let n_codes = ctx(model.len(1), || "operator codes".into())?;
        let mut codes = Vec::with_capacity(n_codes.min(1024));
        for i in 0..n_codes {
            let c = ctx(model.table_at(1, i), || format!("operator code {i}"))?;
            // OperatorCode: deprecated_builtin_code 0 (byte), custom_code 1,
            // version 2 (default 1), builtin_code 3 (int): the effective
            // code is the larger of the two.
            let deprecated = c.u8(0, 0)? as i8 as i32;
            let builtin = c.i32(3, 0)?;
            codes.push((deprecated.max(builtin), c.i32(2, 1)?));
        }
        let n_buffers = ctx(model.len(4), || "buffers".into())?;
        let mut buffers = Vec::with_capacity(n_buffers.min(1 << 16));
        for i in 0..n_buffers {
            let b = ctx(model.table_at(4, i), || format!("buffer {i}"))?;
            // Buffer: data 0, offset 1, size 2 (data outside the flatbuffer
            // when offset > 1).
            let data = ctx(b.bytes(0), || format!("buffer {i}"))?;
            let off = b.u64(1, 0)?;
            let data = if off > 1 {
                let size = b.u64(2, 0)?;
                let range = usize::try_from(off).ok().and_then(|o| {
                    usize::try_from(size)
                        .ok()
                        .and_then(|s| o.checked_add(s))
                        .map(|e| (o, e))
                });
                match range {
                    Some((o, e)) if e <= bytes.len() => &bytes[o..e],
                    _ => {
                        return Err(FbError(format!(
                            "buffer {i}: offset {off} + size {size} past the end of the file"
                        )))
                    }
                }
            } else {
                data
            };
            buffers.push(data);
        }
        let n_sub = ctx(model.len(2), || "subgraphs".into())?;
        if n_sub == 0 {
            return Err(FbError("the model has no subgraph".into()));
        }
        let sg = ctx(model.table_at(2, 0), || "subgraph 0".into())?;
        // SubGraph: tensors 0, inputs 1, outputs 2, operators 3.
        let n_tensors = ctx(sg.len(0), || "tensors".into())?;
        let mut tensors = Vec::with_capacity(n_tensors.min(1 << 16));
        for i in 0..n_tensors {
            let t = ctx(sg.table_at(0, i), || format!("tensor {i}"))?;
            let r = (|| -> Result<Tensor> {
                // Tensor: shape 0, type 1, buffer 2, name 3, quantization 4,
                // is_variable 5, sparsity 6.
                let quant = match t.table(4)? {
                    Some(q) => {
                        // QuantizationParameters: min 0, max 1, scale 2,
                        // zero_point 3, details 4/5, quantized_dimension 6.
                        let scale = q.f32s(2)?;
                        if scale.is_empty() {
                            None
                        } else {
                            Some(Quantization {
                                scale,
                                zero_point: q.i64s(3)?,
                                quantized_dimension: q.i32(6, 0)?,
                            })
                        }
                    }
                    None => None,
                };
                Ok(Tensor {
                    shape: t.i32s(0)?,
                    ty: t.u8(1, 0)?,
                    buffer: t.u32(2, 0)?,
                    name: t.string(3)?,
                    quant,
                    is_variable: t.u8(5, 0)? != 0,
                    sparse: t.table(6)?.is_some(),
                })
            })();
            tensors.push(ctx(r, || format!("tensor {i}"))?);
        }
        let inputs = ctx(sg.i32s(1), || "subgraph inputs".into())?;
        let outputs = ctx(sg.i32s(2), || "subgraph outputs".into())?;
        let n_ops = ctx(sg.len(3), || "operators".into())?;
        let mut operators = Vec::with_capacity(n_ops.min(1 << 16));
        for i in 0..n_ops {
            let o = ctx(sg.table_at(3, i), || format!("operator {i}"))?;
            let r = (|| -> Result<Operator<'a>> {
                // Operator: opcode_index 0, inputs 1, outputs 2,
                // builtin_options_type 3, builtin_options 4, ...,
                // intermediates 8.
                let idx = o.u32(0, 0)? as usize;
                let &(code, version) = codes.get(idx).ok_or_else(|| {
                    FbError(format!(
                        "opcode index {idx} out of range ({} codes)",
                        codes.len()
                    ))
                })?;
                Ok(Operator {
                    code,
                    version,
                    inputs: o.i32s(1)?,
                    outputs: o.i32s(2)?,
                    intermediates: o.i32s(8)?,
                    options_type: o.u8(3, 0)?,
                    options: o.table(4)?,
                })
            })();
            operators.push(ctx(r, || format!("operator {i}"))?);
        }
        Ok(TfliteModel {
            tensors,
            inputs,
            outputs,
            operators,
            buffers,
        })
    }
}
