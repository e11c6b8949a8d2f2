//! `edgegrad inspect`.

use edgegrad::model::{ops::macs, Model, Storage, TensorInfo};
use edgegrad::tensor::QuantParams;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::path::Path;

fn quant_json(q: &QuantParams<'_>) -> Value {
    match q {
        QuantParams::None => Value::Null,
        QuantParams::PerTensor { scale, zero_point } => {
            json!({ "scale": scale, "zero_point": zero_point })
        }
        QuantParams::PerChannel { scales, axis } => json!({ "scales": scales, "axis": axis }),
    }
}

fn quant_text(q: &QuantParams<'_>) -> String {
    match q {
        QuantParams::None => String::new(),
        QuantParams::PerTensor { scale, zero_point } => {
            format!("scale {scale:.6e} zp {zero_point}")
        }
        QuantParams::PerChannel { scales, axis } => {
            format!("per-channel ×{} axis {axis}", scales.len())
        }
    }
}

fn storage(t: &TensorInfo<'_>) -> (&'static str, usize) {
    match t.storage {
        Storage::Constant { offset } => ("const", offset),
        Storage::Arena { offset } if t.persistent => ("state", offset),
        Storage::Arena { offset } => ("arena", offset),
    }
}

pub fn run(path: &Path, as_json: bool) -> anyhow::Result<()> {
    let mut text = String::new();
    let file = crate::load(path)?;
    let model = Model::from_bytes(file.as_bytes())?;
    let mut tensors = Vec::new();
    for t in 0..model.num_tensors() as u16 {
        tensors.push(model.tensor(t)?);
    }
    let mut ops = Vec::new();
    let mut total_macs = 0u64;
    for i in 0..model.num_ops() {
        let op = model.op(i)?;
        let m = macs(&model, &op);
        total_macs += m;
        ops.push((op, m));
    }
    if as_json {
        let out = json!({
            "file_bytes": model.as_bytes().len(),
            "constant_bytes": model.constant_bytes(),
            "arena_bytes": model.arena_size(),
            "arena_lower_bound": model.arena_lower_bound(),
            "macs": total_macs,
            "inputs": model.inputs(),
            "outputs": model.outputs(),
            "tensors": tensors.iter().enumerate().map(|(i, t)| {
                let (kind, offset) = storage(t);
                json!({
                    "index": i, "dtype": t.dtype.name(), "shape": t.shape.dims(),
                    "storage": kind, "offset": offset, "bytes": t.byte_len, "persistent": t.persistent,
                    "quant": quant_json(&t.quant),
                })
            }).collect::<Vec<_>>(),
            "ops": ops.iter().map(|(op, m)| json!({
                "index": op.index, "op": op.code.name(),
                "kernel": model.kernel_type(op).map(|k| k.suffix()),
                "inputs": op.inputs.iter().map(|&t| (t != 0xFFFF).then_some(t)).collect::<Vec<_>>(),
                "outputs": op.outputs, "options": op.options, "macs": m,
            })).collect::<Vec<_>>(),
        });
        writeln!(text, "{}", serde_json::to_string_pretty(&out)?)?;
        return crate::emit(&text);
    }
    writeln!(text, "{}: valid edgegrad model", path.display())?;
    writeln!(
        text,
        "  {} bytes, {} constant bytes, arena {} bytes (lower bound {}), {} MACs",
        model.as_bytes().len(),
        model.constant_bytes(),
        model.arena_size(),
        model.arena_lower_bound(),
        total_macs
    )?;
    writeln!(
        text,
        "  inputs {:?}, outputs {:?}",
        model.inputs(),
        model.outputs()
    )?;
    writeln!(text, "\n  tensors")?;
    writeln!(
        text,
        "  {:>4}  {:<4} {:<18} {:<6} {:>8} {:>8}  quant",
        "#", "type", "shape", "where", "offset", "bytes"
    )?;
    for (i, t) in tensors.iter().enumerate() {
        let (kind, offset) = storage(t);
        writeln!(
            text,
            "  {:>4}  {:<4} {:<18} {:<6} {:>8} {:>8}  {}",
            i,
            t.dtype.name(),
            format!("{:?}", t.shape.dims()),
            kind,
            offset,
            t.byte_len,
            quant_text(&t.quant)
        )?;
    }
    writeln!(text, "\n  operators")?;
    writeln!(
        text,
        "  {:>4}  {:<22} {:<20} {:<10} {:>12}",
        "#", "op", "inputs", "outputs", "MACs"
    )?;
    for (op, m) in &ops {
        let name = format!(
            "{}_{}",
            op.code.name(),
            model.kernel_type(op).map_or("?", |k| k.suffix())
        );
        let ins: Vec<String> = op
            .inputs
            .iter()
            .map(|&t| {
                if t == 0xFFFF {
                    "-".into()
                } else {
                    t.to_string()
                }
            })
            .collect();
        writeln!(
            text,
            "  {:>4}  {:<22} {:<20} {:<10} {:>12}",
            op.index,
            name,
            ins.join(","),
            format!("{:?}", op.outputs),
            m
        )?;
    }
    crate::emit(&text)
}
