//! Checkpoints in safetensors (so PyTorch users can open them with
//! `safetensors.torch.load_file`): every parameter and buffer under its
//! `named_parameters` name, and the optimizer state under `optim.<name>`.
//! Files are written atomically: to a temporary file in the same directory,
//! synced, then renamed over the target.
//!
//! NOTE: tensors keep edgegrad's channels-last layouts (conv weights OHWI);
//! the metadata says so (`"layout"`). To run the digits CNN's checkpoint in
//! PyTorch (NCHW), permute the conv weights and reorder the inputs of the
//! Linear that follows the Flatten (edgegrad flattens HWC, PyTorch CHW);
//! the PyTorch model then makes exactly edgegrad's predictions:
//!
//! ```text
//! from safetensors.torch import load_file
//! sd = load_file("digits.safetensors")
//! sd = {k: v.permute(0, 3, 1, 2) if v.ndim == 4 else v for k, v in sd.items()}  # OHWI → OIHW
//! sd["6.weight"] = sd["6.weight"].reshape(10, 4, 4, 32).permute(0, 3, 1, 2).reshape(10, 512)
//! model.load_state_dict(sd)   # nn.Sequential(Conv2d, ReLU, Conv2d, ReLU, MaxPool2d, Flatten, Linear)
//! ```

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use super::error::TrainError;
use crate::nn::Module;
use crate::optim::Optimizer;

const OPTIM_PREFIX: &str = "optim.";

/// Writes `bytes` to `path` atomically (temp file + fsync + rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let res = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    res.map_err(|e| TrainError::io(path, e))
}

/// Saves the model's parameters and buffers, and the optimizer's state if given.
pub fn save_checkpoint(
    path: impl AsRef<Path>,
    model: &dyn Module,
    optimizer: Option<&dyn Optimizer>,
) -> Result<(), TrainError> {
    let path = path.as_ref();
    let mut entries: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (n, t) in model
        .named_parameters()
        .into_iter()
        .chain(model.named_buffers())
    {
        entries.push((
            n,
            t.shape().to_vec(),
            bytemuck::cast_slice(&t.data()[..]).to_vec(),
        ));
    }
    if let Some(o) = optimizer {
        for (n, shape, d) in o.state() {
            entries.push((
                format!("{OPTIM_PREFIX}{n}"),
                shape,
                bytemuck::cast_slice(&d[..]).to_vec(),
            ));
        }
    }
    let mut views = Vec::with_capacity(entries.len());
    for (n, shape, bytes) in &entries {
        let v = TensorView::new(Dtype::F32, shape.clone(), bytes).map_err(|e| {
            TrainError::Checkpoint {
                path: path.to_path_buf(),
                message: format!("{n}: {e}"),
            }
        })?;
        views.push((n.clone(), v));
    }
    let meta = HashMap::from([
        ("format".to_string(), "edgegrad".to_string()),
        (
            "layout".to_string(),
            "channels-last: activations NHWC/NWC, conv weights OHWI/OWI, linear weights [out, in]"
                .to_string(),
        ),
    ]);
    let bytes = safetensors::serialize(views, Some(meta)).map_err(|e| TrainError::Checkpoint {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    write_atomic(path, &bytes)
}

/// Loads a checkpoint into `model` (and `optimizer`, if given). Every name
/// the model has must be in the file with the same shape and no others
/// (optimizer entries aside); otherwise nothing is changed and the error
/// names the missing, unexpected and mis-shaped tensors.
pub fn load_checkpoint(
    path: impl AsRef<Path>,
    model: &dyn Module,
    optimizer: Option<&mut dyn Optimizer>,
) -> Result<(), TrainError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| TrainError::io(path, e))?;
    let st = SafeTensors::deserialize(&bytes).map_err(|e| TrainError::Checkpoint {
        path: path.to_path_buf(),
        message: format!("not a safetensors file: {e}"),
    })?;
    let mut file: HashMap<String, (Vec<usize>, Vec<f32>)> = HashMap::new();
    for (n, v) in st.tensors() {
        if v.dtype() != Dtype::F32 {
            return Err(TrainError::Checkpoint {
                path: path.to_path_buf(),
                message: format!("tensor `{n}` has dtype {:?}, expected F32", v.dtype()),
            });
        }
        let vals: Vec<f32> = v
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        file.insert(n, (v.shape().to_vec(), vals));
    }
    let ours: Vec<(String, crate::autograd::Tensor)> = model
        .named_parameters()
        .into_iter()
        .chain(model.named_buffers())
        .collect();
    let (mut missing, mut wrong_shape) = (Vec::new(), Vec::new());
    for (n, t) in &ours {
        match file.get(n) {
            None => missing.push(n.clone()),
            Some((s, _)) if s != t.shape() => {
                wrong_shape.push((n.clone(), t.shape().to_vec(), s.clone()))
            }
            _ => {}
        }
    }
    let mut unexpected: Vec<String> = file
        .keys()
        .filter(|k| !k.starts_with(OPTIM_PREFIX) && !ours.iter().any(|(n, _)| n == *k))
        .cloned()
        .collect();
    unexpected.sort();
    if !missing.is_empty() || !unexpected.is_empty() || !wrong_shape.is_empty() {
        return Err(TrainError::CheckpointMismatch {
            missing,
            unexpected,
            wrong_shape,
        });
    }
    if let Some(o) = optimizer {
        let state: HashMap<String, (Vec<usize>, Vec<f32>)> = file
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix(OPTIM_PREFIX)
                    .map(|n| (n.to_string(), v.clone()))
            })
            .collect();
        o.load_state(&state)?;
    }
    for (n, t) in &ours {
        t.data_mut().clone_from(&file[n].1);
    }
    Ok(())
}
