//! NPY arrays in and out (through `npyz`), with the element types the CLI
//! handles.

use anyhow::{bail, Context};
use half::f16;
use npyz::WriterBuilder;
use std::path::Path;

/// A whole NPY array.
pub enum Array {
    /// float32 data.
    F32(Vec<f32>),
    /// float16 data.
    F16(Vec<f16>),
    /// int8 data.
    I8(Vec<i8>),
}

/// Reads `path`: its shape and data.
pub fn read(path: &Path) -> anyhow::Result<(Vec<usize>, Array)> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let npy = npyz::NpyFile::new(&bytes[..])
        .with_context(|| format!("{}: not an NPY file", path.display()))?;
    if npy.order() != npyz::Order::C {
        bail!("{}: Fortran-order arrays are not supported", path.display());
    }
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let descr = npy.dtype().descr();
    let data = match descr.as_str() {
        "'<f4'" => Array::F32(
            npy.into_vec()
                .with_context(|| format!("{}: bad float32 data", path.display()))?,
        ),
        "'<f2'" => Array::F16(
            npy.into_vec()
                .with_context(|| format!("{}: bad float16 data", path.display()))?,
        ),
        "'|i1'" => Array::I8(
            npy.into_vec()
                .with_context(|| format!("{}: bad int8 data", path.display()))?,
        ),
        other => bail!(
            "{}: element type {other} not supported (use float32, float16 or int8)",
            path.display()
        ),
    };
    Ok((shape, data))
}

/// Writes `data` with `shape` to `path` atomically.
pub fn write<T: npyz::Serialize + npyz::AutoSerialize + Copy>(
    path: &Path,
    shape: &[usize],
    data: &[T],
) -> anyhow::Result<()> {
    let mut buf = Vec::new();
    {
        let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
        let mut w = npyz::WriteOptions::<T>::new()
            .default_dtype()
            .shape(&shape)
            .writer(&mut buf)
            .begin_nd()?;
        w.extend(data.iter().copied())?;
        w.finish()?;
    }
    edgegrad::export::write_atomic(path, &buf)
        .with_context(|| format!("cannot write {}", path.display()))
}
