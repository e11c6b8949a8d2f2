//! Readers for CSV (with `#` comment lines), IDX (the MNIST format) and NPY.
//! Malformed files are errors naming the file and the line, never panics.

use std::path::Path;

use super::dataset::{Target, VecDataset};
use crate::train::TrainError;

fn parse_err(path: &Path, line: usize, message: impl Into<String>) -> TrainError {
    TrainError::Parse {
        path: path.to_path_buf(),
        line,
        message: message.into(),
    }
}

/// Reads a CSV file with a header row into a classification dataset: every
/// column but `label_column` is an input feature (input shape
/// `[features]`), `label_column` holds class indices. Lines starting with
/// `#` (licence and provenance notes) are skipped.
pub fn read_csv(path: impl AsRef<Path>, label_column: &str) -> Result<VecDataset, TrainError> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|e| TrainError::io(path, e))?;
    let mut rdr = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(std::io::BufReader::new(file));
    let headers = rdr
        .headers()
        .map_err(|e| parse_err(path, 0, e.to_string()))?
        .clone();
    let label_idx = headers
        .iter()
        .position(|h| h == label_column)
        .ok_or_else(|| {
            parse_err(
                path,
                0,
                format!(
                    "no column named `{label_column}` (columns: {})",
                    headers.iter().collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
    let features = headers.len() - 1;
    let mut inputs = Vec::new();
    let mut targets = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            parse_err(
                path,
                e.position().map_or(0, |p| p.line() as usize),
                e.to_string(),
            )
        })?;
        let line = rec.position().map_or(0, |p| p.line() as usize);
        if rec.len() != headers.len() {
            return Err(parse_err(
                path,
                line,
                format!("{} fields, header has {}", rec.len(), headers.len()),
            ));
        }
        for (j, field) in rec.iter().enumerate() {
            if j == label_idx {
                let c: usize = field.parse().map_err(|_| {
                    parse_err(path, line, format!("label `{field}` is not a class index"))
                })?;
                targets.push(Target::Class(c));
            } else {
                let v: f32 = field.parse().map_err(|_| {
                    parse_err(
                        path,
                        line,
                        format!("`{field}` in column `{}` is not a number", &headers[j]),
                    )
                })?;
                inputs.push(v);
            }
        }
    }
    Ok(VecDataset::new(inputs, &[features], targets))
}

/// One IDX file: `(shape, values)`.
pub fn read_idx_array(path: impl AsRef<Path>) -> Result<(Vec<usize>, Vec<f32>), TrainError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| TrainError::io(path, e))?;
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(parse_err(path, 0, "not an IDX file (bad magic)"));
    }
    let (ty, rank) = (bytes[2], bytes[3] as usize);
    let size = match ty {
        0x08 | 0x09 => 1,
        0x0B => 2,
        0x0C | 0x0D => 4,
        0x0E => 8,
        _ => {
            return Err(parse_err(
                path,
                0,
                format!("unknown IDX element type 0x{ty:02x}"),
            ))
        }
    };
    let header = 4 + 4 * rank;
    if bytes.len() < header {
        return Err(parse_err(path, 0, "IDX header truncated"));
    }
    let shape: Vec<usize> = (0..rank)
        .map(|i| u32::from_be_bytes(bytes[4 + 4 * i..8 + 4 * i].try_into().unwrap()) as usize)
        .collect();
    let n = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| parse_err(path, 0, "IDX shape overflows"))?;
    let body = &bytes[header..];
    if body.len() != n * size {
        return Err(parse_err(
            path,
            0,
            format!(
                "IDX shape {shape:?} needs {} bytes of data, file has {}",
                n * size,
                body.len()
            ),
        ));
    }
    let vals = body
        .chunks_exact(size)
        .map(|c| match ty {
            0x08 => c[0] as f32,
            0x09 => c[0] as i8 as f32,
            0x0B => i16::from_be_bytes([c[0], c[1]]) as f32,
            0x0C => i32::from_be_bytes(c.try_into().unwrap()) as f32,
            0x0D => f32::from_be_bytes(c.try_into().unwrap()),
            _ => f64::from_be_bytes(c.try_into().unwrap()) as f32,
        })
        .collect();
    Ok((shape, vals))
}

/// MNIST-style IDX images (`[n, rows, cols]`, values as stored: 0–255) and
/// labels (`[n]`) into a classification dataset of `[rows, cols, 1]` inputs.
pub fn read_idx(
    images: impl AsRef<Path>,
    labels: impl AsRef<Path>,
) -> Result<VecDataset, TrainError> {
    let (ishape, x) = read_idx_array(images.as_ref())?;
    let (lshape, y) = read_idx_array(labels.as_ref())?;
    if ishape.is_empty() || lshape.len() != 1 || ishape[0] != lshape[0] {
        return Err(parse_err(
            labels.as_ref(),
            0,
            format!("labels of shape {lshape:?} do not match images of shape {ishape:?}"),
        ));
    }
    let mut shape = ishape[1..].to_vec();
    if shape.len() == 2 {
        shape.push(1);
    }
    let targets = y.iter().map(|&v| Target::Class(v as usize)).collect();
    Ok(VecDataset::new(x, &shape, targets))
}

/// One NPY array (f32/f64/int/uint dtypes) as `(shape, f32 values)`.
pub fn read_npy_array(path: impl AsRef<Path>) -> Result<(Vec<usize>, Vec<f32>), TrainError> {
    use npyz::{DType, TypeChar};
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| TrainError::io(path, e))?;
    let npy = npyz::NpyFile::new(&bytes[..])
        .map_err(|e| parse_err(path, 0, format!("not an NPY file: {e}")))?;
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let DType::Plain(ts) = npy.dtype() else {
        return Err(parse_err(
            path,
            0,
            "structured NPY dtypes are not supported",
        ));
    };
    let bad = |e: std::io::Error| parse_err(path, 0, e.to_string());
    let vals: Vec<f32> = match (ts.type_char(), ts.size_field()) {
        (TypeChar::Float, 4) => npy.into_vec::<f32>().map_err(bad)?,
        (TypeChar::Float, 8) => npy
            .into_vec::<f64>()
            .map_err(bad)?
            .into_iter()
            .map(|v| v as f32)
            .collect(),
        (TypeChar::Int, 1) => npy
            .into_vec::<i8>()
            .map_err(bad)?
            .into_iter()
            .map(|v| v as f32)
            .collect(),
        (TypeChar::Int, 2) => npy
            .into_vec::<i16>()
            .map_err(bad)?
            .into_iter()
            .map(|v| v as f32)
            .collect(),
        (TypeChar::Int, 4) => npy
            .into_vec::<i32>()
            .map_err(bad)?
            .into_iter()
            .map(|v| v as f32)
            .collect(),
        (TypeChar::Int, 8) => npy
            .into_vec::<i64>()
            .map_err(bad)?
            .into_iter()
            .map(|v| v as f32)
            .collect(),
        (TypeChar::Uint, 1) => npy
            .into_vec::<u8>()
            .map_err(bad)?
            .into_iter()
            .map(|v| v as f32)
            .collect(),
        (TypeChar::Uint, 2) => npy
            .into_vec::<u16>()
            .map_err(bad)?
            .into_iter()
            .map(|v| v as f32)
            .collect(),
        (TypeChar::Uint, 4) => npy
            .into_vec::<u32>()
            .map_err(bad)?
            .into_iter()
            .map(|v| v as f32)
            .collect(),
        (TypeChar::Uint, 8) => npy
            .into_vec::<u64>()
            .map_err(bad)?
            .into_iter()
            .map(|v| v as f32)
            .collect(),
        _ => return Err(parse_err(path, 0, format!("unsupported NPY dtype {ts}"))),
    };
    Ok((shape, vals))
}

/// Inputs `x.npy` (`[n, ..]`) and targets `y.npy`: integer `[n]` targets
/// become classes, anything else becomes value targets.
pub fn read_npy(x: impl AsRef<Path>, y: impl AsRef<Path>) -> Result<VecDataset, TrainError> {
    let (xs, xv) = read_npy_array(x.as_ref())?;
    let (ys, yv) = read_npy_array(y.as_ref())?;
    if xs.is_empty() || ys.is_empty() || xs[0] != ys[0] {
        return Err(parse_err(
            y.as_ref(),
            0,
            format!("targets of shape {ys:?} do not match inputs of shape {xs:?}"),
        ));
    }
    let n = xs[0];
    let integral = ys.len() == 1 && yv.iter().all(|v| *v >= 0.0 && v.fract() == 0.0);
    let targets = if integral {
        yv.iter().map(|&v| Target::Class(v as usize)).collect()
    } else {
        let per = yv.len() / n.max(1);
        yv.chunks(per.max(1))
            .map(|c| Target::Values(c.to_vec()))
            .collect()
    };
    Ok(VecDataset::new(xv, &xs[1..], targets))
}
