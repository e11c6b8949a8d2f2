//! Constant tensors: initializers, `Constant` nodes and the small integer
//! shape computations exporters leave in a graph.

use super::proto::{data_type, TensorProto};
use super::OnnxError;
use half::f16;
use std::string::{String, ToString};
use std::vec::Vec;

/// The most elements one constant may have (a guard against a hostile
/// header claiming a huge tensor).
const MAX_ELEMENTS: usize = 1 << 26;

/// The elements of a constant.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Data {
    /// Floating point (float32, float16 and float64 are all read as f32).
    F(Vec<f32>),
    /// Integer (int32 and int64 are read as i64).
    I(Vec<i64>),
}

/// A constant tensor with its logical (ONNX) shape.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Const {
    pub shape: Vec<usize>,
    pub data: Data,
}

impl Const {
    pub fn floats(shape: Vec<usize>, v: Vec<f32>) -> Self {
        Const {
            shape,
            data: Data::F(v),
        }
    }

    pub fn ints(shape: Vec<usize>, v: Vec<i64>) -> Self {
        Const {
            shape,
            data: Data::I(v),
        }
    }

    pub fn len(&self) -> usize {
        match &self.data {
            Data::F(v) => v.len(),
            Data::I(v) => v.len(),
        }
    }

    /// The elements as f32.
    pub fn f32s(&self) -> Vec<f32> {
        match &self.data {
            Data::F(v) => v.clone(),
            Data::I(v) => v.iter().map(|&x| x as f32).collect(),
        }
    }

    /// The elements as i64 (floats truncated).
    pub fn i64s(&self) -> Vec<i64> {
        match &self.data {
            Data::F(v) => v.iter().map(|&x| x as i64).collect(),
            Data::I(v) => v.clone(),
        }
    }
}

/// The shape of `dims`, checked: no negative sizes, a bounded count.
/// The element count of `shape`, or `None` past `MAX_ELEMENTS` (hostile
/// shapes must not overflow).
pub(super) fn element_count(shape: &[usize]) -> Option<usize> {
    shape
        .iter()
        .try_fold(1usize, |c, &d| c.checked_mul(d))
        .filter(|&c| c <= MAX_ELEMENTS)
}

pub(super) fn checked_shape(dims: &[i64], what: &str) -> Result<Vec<usize>, OnnxError> {
    let mut count = 1usize;
    let mut shape = Vec::with_capacity(dims.len());
    for &d in dims {
        let d = usize::try_from(d)
            .map_err(|_| OnnxError::Malformed(format!("{what}: negative dimension {d}")))?;
        count = count
            .checked_mul(d)
            .filter(|&c| c <= MAX_ELEMENTS)
            .ok_or_else(|| OnnxError::Malformed(format!("{what}: too many elements")))?;
        shape.push(d);
    }
    Ok(shape)
}

fn from_raw<const N: usize, T>(
    raw: &[u8],
    count: usize,
    what: &str,
    f: impl Fn([u8; N]) -> T,
) -> Result<Vec<T>, OnnxError> {
    if raw.len() != count * N {
        return Err(OnnxError::Malformed(format!(
            "{what}: raw_data has {} bytes, {} expected",
            raw.len(),
            count * N
        )));
    }
    Ok(raw
        .chunks_exact(N)
        .map(|c| {
            let mut b = [0u8; N];
            b.copy_from_slice(c);
            f(b)
        })
        .collect())
}

fn check_len<T>(v: Vec<T>, count: usize, what: &str) -> Result<Vec<T>, OnnxError> {
    if v.len() != count {
        return Err(OnnxError::Malformed(format!(
            "{what}: {} elements, shape needs {count}",
            v.len()
        )));
    }
    Ok(v)
}

/// Decodes a `TensorProto` (float32/16/64, int32/64; inline or raw data).
pub(super) fn decode(t: &TensorProto) -> Result<Const, OnnxError> {
    let what: String = if t.name.is_empty() {
        "constant".to_string()
    } else {
        format!("tensor '{}'", t.name)
    };
    if t.data_location == 1 {
        return Err(OnnxError::Malformed(format!(
            "{what}: external data is not supported (save the model with its weights inside)"
        )));
    }
    let shape = checked_shape(&t.dims, &what)?;
    let count: usize = shape.iter().product();
    let raw = !t.raw_data.is_empty() || count == 0;
    let data = match t.data_type {
        data_type::FLOAT if raw => {
            Data::F(from_raw(&t.raw_data, count, &what, f32::from_le_bytes)?)
        }
        data_type::FLOAT => Data::F(check_len(t.float_data.clone(), count, &what)?),
        data_type::DOUBLE if raw => Data::F(from_raw(&t.raw_data, count, &what, |b| {
            f64::from_le_bytes(b) as f32
        })?),
        data_type::DOUBLE => Data::F(check_len(
            t.double_data.iter().map(|&x| x as f32).collect(),
            count,
            &what,
        )?),
        data_type::FLOAT16 if raw => Data::F(from_raw(&t.raw_data, count, &what, |b| {
            f16::from_le_bytes(b).to_f32()
        })?),
        data_type::FLOAT16 => Data::F(check_len(
            t.int32_data
                .iter()
                .map(|&x| f16::from_bits(x as u16).to_f32())
                .collect(),
            count,
            &what,
        )?),
        data_type::INT64 if raw => {
            Data::I(from_raw(&t.raw_data, count, &what, i64::from_le_bytes)?)
        }
        data_type::INT64 => Data::I(check_len(t.int64_data.clone(), count, &what)?),
        data_type::INT32 if raw => Data::I(from_raw(&t.raw_data, count, &what, |b| {
            i32::from_le_bytes(b) as i64
        })?),
        data_type::INT32 | data_type::BOOL => Data::I(check_len(
            t.int32_data.iter().map(|&x| x as i64).collect(),
            count,
            &what,
        )?),
        other => {
            return Err(OnnxError::Malformed(format!(
                "{what}: element type {other} is not supported"
            )))
        }
    };
    Ok(Const { shape, data })
}
