//! `edgegrad run`.

use crate::npy::{self, Array};
use anyhow::{bail, Context};
use edgegrad::model::{Interpreter, Model, OpResolver};
use edgegrad::quant::quantize_value;
use edgegrad::tensor::DType;
use half::f16;
use std::path::{Path, PathBuf};

pub fn run(path: &Path, inputs: &[PathBuf], outputs: &[PathBuf]) -> anyhow::Result<()> {
    let file = crate::load(path)?;
    let model = Model::from_bytes(file.as_bytes())?;
    if inputs.len() != model.inputs().len() {
        bail!(
            "the model has {} inputs, {} given",
            model.inputs().len(),
            inputs.len()
        );
    }
    if outputs.len() != model.outputs().len() {
        bail!(
            "the model has {} outputs, {} given",
            model.outputs().len(),
            outputs.len()
        );
    }
    let resolver = OpResolver::all();
    let mut arena = vec![0u8; model.arena_size() + 16];
    let mut interp = Interpreter::new(&model, &resolver, &mut arena)?;

    // Read every input; check shapes against the model's (batch first).
    let mut batch = None;
    let mut data = Vec::new();
    for (i, p) in inputs.iter().enumerate() {
        let info = interp.input_info(i)?;
        let (shape, array) = npy::read(p)?;
        let per_sample = info.shape.num_elements();
        let sample_dims = info.shape.dims();
        // [batch, dims…], or [batch, dims[1..]…] when the model's own
        // first dimension is a batch of 1.
        let dims_ok = shape.split_first().is_some_and(|(_, rest)| {
            rest == sample_dims || (sample_dims.first() == Some(&1) && rest == &sample_dims[1..])
        });
        if !dims_ok {
            bail!(
                "{}: shape {:?} does not match input {i} of the model: expected [batch, {}]",
                p.display(),
                shape,
                sample_dims
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let n = shape[0];
        match batch {
            None => batch = Some(n),
            Some(b) if b != n => bail!(
                "{}: batch {n} differs from the first input's {b}",
                p.display()
            ),
            _ => {}
        }
        let ok = matches!(
            (&array, info.dtype),
            (Array::F32(_), DType::I8 | DType::F16 | DType::F32)
                | (Array::I8(_), DType::I8)
                | (Array::F16(_), DType::F16)
        );
        if !ok {
            bail!(
                "{}: element type does not suit model input {i} ({})",
                p.display(),
                info.dtype.name()
            );
        }
        data.push((array, per_sample));
    }
    let batch = batch.unwrap_or(0);

    let mut results: Vec<Vec<u8>> = vec![Vec::new(); outputs.len()];
    for s in 0..batch {
        for (i, (array, per)) in data.iter().enumerate() {
            let info = interp.input_info(i)?;
            let range = s * per..(s + 1) * per;
            match (array, info.dtype) {
                (Array::F32(v), DType::I8) => {
                    let (scale, zp) = info.scale_zp();
                    for (d, &x) in interp.input_mut::<i8>(i)?.iter_mut().zip(&v[range]) {
                        *d = quantize_value(x, scale, zp);
                    }
                }
                (Array::F32(v), DType::F16) => {
                    for (d, &x) in interp.input_mut::<f16>(i)?.iter_mut().zip(&v[range]) {
                        *d = f16::from_f32(x);
                    }
                }
                (Array::F32(v), _) => interp.input_mut::<f32>(i)?.copy_from_slice(&v[range]),
                (Array::I8(v), _) => interp.input_mut::<i8>(i)?.copy_from_slice(&v[range]),
                (Array::F16(v), _) => interp.input_mut::<f16>(i)?.copy_from_slice(&v[range]),
            }
        }
        // Each sample is its own sequence: recurrent state starts at zero.
        interp.reset_state()?;
        interp.invoke().with_context(|| format!("sample {s}"))?;
        for (o, r) in results.iter_mut().enumerate() {
            r.extend_from_slice(interp.output_bytes(o)?);
        }
    }
    for (o, p) in outputs.iter().enumerate() {
        let info = interp.output_info(o)?;
        let mut shape = vec![batch];
        shape.extend_from_slice(info.shape.dims());
        let bytes = &results[o];
        match info.dtype {
            DType::I8 => npy::write::<i8>(p, &shape, bytemuck::cast_slice(bytes))?,
            DType::F16 => npy::write::<f16>(
                p,
                &shape,
                &bytes
                    .chunks_exact(2)
                    .map(|c| f16::from_le_bytes([c[0], c[1]]))
                    .collect::<Vec<_>>(),
            )?,
            DType::F32 => npy::write::<f32>(
                p,
                &shape,
                &bytes
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect::<Vec<_>>(),
            )?,
            other => bail!("output {o} has unsupported type {}", other.name()),
        }
    }
    eprintln!("ran {batch} samples");
    Ok(())
}
