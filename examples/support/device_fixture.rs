//! Device fixtures shared by the examples that feed the board firmware
//! (`qemu_fixtures`, `digits_demo`): the inputs file (`.egi`, format in
//! `boards/common/src/inputs.rs`) and the `.expected` text the firmware's
//! output is compared with (see `xtask/src/qemu.rs`).

#[path = "../../boards/common/src/inputs.rs"]
#[allow(dead_code)]
pub mod inputs;

use edgegrad::model::{Interpreter, Model, OpResolver};
use edgegrad::tensor::DType;
use half::f16;
use std::error::Error;
use std::fmt::Write as _;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// Index of the largest value (first on ties), as the firmware computes it.
pub fn argmax<T: PartialOrd + Copy>(v: &[T]) -> usize {
    (0..v.len()).fold(0, |best, i| if v[i] > v[best] { i } else { best })
}

/// The inputs file for `model`: `samples` back to back (every model
/// input's bytes, in order), with optional labels.
pub fn inputs_file(model: &Model<'_>, samples: &[u8], labels: Option<&[u16]>) -> Result<Vec<u8>> {
    let mut sample_len = 0;
    for &t in model.inputs() {
        sample_len += model.tensor(t)?.byte_len;
    }
    let mut file = Vec::new();
    inputs::encode(&mut file, sample_len, samples, labels).map_err(|e| e.to_string())?;
    Ok(file)
}

/// Runs every sample through the host interpreter: the `.expected` text
/// (`# model=NAME outputs=… samples=N correct=K|-`, then `y <i> <hex>…`).
pub fn expected(name: &str, model: &Model<'_>, inputs_bytes: &[u8]) -> Result<String> {
    let inputs = inputs::Inputs::parse(inputs_bytes).map_err(|e| e.to_string())?;
    let resolver = OpResolver::all();
    let mut arena = vec![0u8; model.arena_size()];
    let mut interp = Interpreter::new(model, &resolver, &mut arena)?;
    let n_out = model.outputs().len();
    let dtypes: Vec<&str> = (0..n_out)
        .map(|k| interp.output_info(k).map(|t| t.dtype.name()))
        .collect::<std::result::Result<_, _>>()?;
    let mut lines = String::new();
    let mut correct = 0;
    for i in 0..inputs.count() {
        let mut sample = inputs.sample(i).ok_or("sample out of range")?;
        for k in 0..model.inputs().len() {
            let dst = interp.input_bytes_mut(k)?;
            let (head, rest) = sample.split_at(dst.len());
            dst.copy_from_slice(head);
            sample = rest;
        }
        // Each sample is its own sequence (recurrent state from zero).
        interp.reset_state()?;
        interp.invoke()?;
        let _ = write!(lines, "y {i}");
        for k in 0..n_out {
            lines.push(' ');
            for b in interp.output_bytes(k)? {
                let _ = write!(lines, "{b:02x}");
            }
        }
        lines.push('\n');
        if let Some(label) = inputs.label(i) {
            let predicted = match interp.output_info(0)?.dtype {
                DType::I8 => argmax(interp.output::<i8>(0)?),
                DType::F16 => argmax(
                    &interp
                        .output::<f16>(0)?
                        .iter()
                        .map(|h| h.to_f32())
                        .collect::<Vec<_>>(),
                ),
                _ => argmax(interp.output::<f32>(0)?),
            };
            correct += (predicted == label as usize) as usize;
        }
    }
    let correct = if inputs.has_labels() {
        correct.to_string()
    } else {
        "-".into()
    };
    Ok(format!(
        "# model={name} outputs={} samples={} correct={correct}\n{lines}",
        dtypes.join(","),
        inputs.count()
    ))
}
