//! Writes model files: lays out the sections, plans the arena and seals
//! the file with its CRC. The layout is documented in
//! [`model::format`](crate::model::format).

use super::builder::{OpDef, Quant, TensorDef};
use crate::model::format::{self, hdr};
use crate::model::plan::{self, Buffer};
use crate::Error;
use std::vec::Vec;

/// What the planner made of a model's arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanReport {
    /// The arena bytes the plan needs.
    pub arena_size: usize,
    /// The most bytes alive at once: no plan can do better.
    pub lower_bound: usize,
    /// The bytes a plan without reuse would need (every buffer its own).
    pub linear_size: usize,
}

fn align_to(v: &mut Vec<u8>, align: usize) {
    while v.len() % align != 0 {
        v.push(0);
    }
}

fn put_u16(v: &mut [u8], off: usize, x: u16) {
    v[off..off + 2].copy_from_slice(&x.to_le_bytes());
}

fn put_u32(v: &mut [u8], off: usize, x: u32) {
    v[off..off + 4].copy_from_slice(&x.to_le_bytes());
}

fn to_u32(x: usize) -> Result<u32, Error> {
    u32::try_from(x).map_err(|_| Error::ShapeOverflow)
}

/// Assigns arena offsets: every arena tensor and every op's scratch buffer
/// becomes a [`Buffer`] over its lifetime; an in-place op's output shares
/// its dying input's buffer. Returns tensor offsets, scratch offsets and
/// the report.
pub(crate) fn plan_arena(
    tensors: &[TensorDef],
    ops: &[OpDef],
    inputs: &[u16],
    outputs: &[u16],
) -> Result<(Vec<usize>, Vec<usize>, PlanReport), Error> {
    let n = tensors.len();
    let end = ops.len() as u32 + 1;
    let mut first = vec![u32::MAX; n];
    let mut last = vec![0u32; n];
    for &t in inputs {
        first[t as usize] = 0;
    }
    // Persistent state lives for the whole model: no other buffer shares it.
    for (t, def) in tensors.iter().enumerate() {
        if def.persistent {
            (first[t], last[t]) = (0, end);
        }
    }
    for (i, op) in ops.iter().enumerate() {
        let time = i as u32 + 1;
        for &t in op.inputs.iter().filter(|&&t| t != format::ABSENT) {
            last[t as usize] = last[t as usize].max(time);
        }
        for &t in &op.outputs {
            first[t as usize] = first[t as usize].min(time);
            last[t as usize] = last[t as usize].max(time);
        }
    }
    for &t in outputs {
        last[t as usize] = end;
    }
    // Groups: a tensor's buffer is its own, or its in-place input's.
    let mut group: Vec<usize> = (0..n).collect();
    for (i, op) in ops.iter().enumerate() {
        let time = i as u32 + 1;
        let (Some(&x), Some(&y)) = (op.inputs.first(), op.outputs.first()) else {
            continue;
        };
        let (xd, yd) = (&tensors[x as usize], &tensors[y as usize]);
        if op.code.can_run_in_place()
            && xd.is_arena()
            && !xd.persistent
            && !yd.persistent
            && !inputs.contains(&x)
            && !outputs.contains(&x)
            && last[x as usize] == time
            && xd.byte_len() == yd.byte_len()
        {
            group[y as usize] = group[x as usize];
        }
    }
    let mut buffers: Vec<Buffer> = Vec::new();
    let mut buffer_of = vec![usize::MAX; n];
    for t in 0..n {
        if !tensors[t].is_arena() || first[t] == u32::MAX {
            continue;
        }
        let g = group[t];
        if buffer_of[g] == usize::MAX {
            buffer_of[g] = buffers.len();
            buffers.push(Buffer {
                size: tensors[t].byte_len(),
                first: first[t],
                last: last[t],
            });
        } else {
            let b = &mut buffers[buffer_of[g]];
            b.size = b.size.max(tensors[t].byte_len());
            b.first = b.first.min(first[t]);
            b.last = b.last.max(last[t]);
        }
        buffer_of[t] = buffer_of[g];
    }
    let mut scratch_buffer = vec![usize::MAX; ops.len()];
    for (i, op) in ops.iter().enumerate() {
        if op.scratch > 0 {
            scratch_buffer[i] = buffers.len();
            buffers.push(Buffer {
                size: op.scratch,
                first: i as u32 + 1,
                last: i as u32 + 1,
            });
        }
    }
    let mut order = vec![0; buffers.len()];
    let mut offsets = vec![0; buffers.len()];
    let arena_size = plan::plan_greedy(&buffers, format::ARENA_ALIGN, &mut order, &mut offsets)?;
    let mut linear = vec![0; buffers.len()];
    let linear_size = plan::plan_linear(&buffers, format::ARENA_ALIGN, &mut linear)?;
    let report = PlanReport {
        arena_size,
        lower_bound: plan::lower_bound(&buffers),
        linear_size,
    };
    let tensor_offsets = (0..n)
        .map(|t| {
            if buffer_of[t] == usize::MAX {
                0
            } else {
                offsets[buffer_of[t]]
            }
        })
        .collect();
    let scratch_offsets = scratch_buffer
        .iter()
        .map(|&b| if b == usize::MAX { 0 } else { offsets[b] })
        .collect();
    Ok((tensor_offsets, scratch_offsets, report))
}

/// Serialises a model: header, tensor table, operator list, index list and
/// the 16-aligned constant pool (tensor data, per-channel scales, options).
pub(crate) fn write(
    tensors: &[TensorDef],
    ops: &[OpDef],
    inputs: &[u16],
    outputs: &[u16],
) -> Result<(Vec<u8>, PlanReport), Error> {
    if tensors.len() > crate::model::MAX_TENSORS || ops.len() > crate::model::MAX_OPS {
        return Err(Error::TooManyEntries);
    }
    let (tensor_offsets, scratch_offsets, report) = plan_arena(tensors, ops, inputs, outputs)?;

    // Constant pool: tensor data (16-aligned each), scales, options.
    let mut pool: Vec<u8> = Vec::new();
    let mut const_off = vec![0usize; tensors.len()];
    let mut scales_off = vec![0usize; tensors.len()];
    for (t, def) in tensors.iter().enumerate() {
        if let Some(data) = &def.data {
            align_to(&mut pool, format::CONST_ALIGN);
            const_off[t] = pool.len();
            pool.extend_from_slice(data);
        }
        if let Quant::PerChannel { scales, .. } = &def.quant {
            align_to(&mut pool, 4);
            scales_off[t] = pool.len();
            for s in scales {
                pool.extend_from_slice(&s.to_le_bytes());
            }
        }
    }
    let mut options_off = vec![0usize; ops.len()];
    for (i, op) in ops.iter().enumerate() {
        align_to(&mut pool, 4);
        options_off[i] = pool.len();
        for w in &op.options {
            pool.extend_from_slice(&w.to_le_bytes());
        }
    }

    // Index list: model inputs, model outputs, then each op's inputs and outputs.
    let mut index: Vec<u16> = Vec::new();
    index.extend_from_slice(inputs);
    index.extend_from_slice(outputs);
    let mut io_start = Vec::with_capacity(ops.len());
    for op in ops {
        io_start.push(index.len());
        index.extend_from_slice(&op.inputs);
        index.extend_from_slice(&op.outputs);
    }

    let mut f = vec![0u8; format::HEADER_LEN];
    let tensors_off = f.len();
    for (t, def) in tensors.iter().enumerate() {
        let mut e = [0u8; format::TENSOR_ENTRY_LEN];
        e[0] = def.dtype as u8;
        e[1] = def.shape.len() as u8;
        e[2] = if def.is_arena() { 1 } else { 0 };
        if def.persistent {
            e[5] = format::FLAG_PERSISTENT;
        }
        let mut dims = [1u32; 4];
        for (d, &s) in dims.iter_mut().zip(&def.shape) {
            *d = to_u32(s)?;
        }
        for (k, d) in dims.iter().enumerate() {
            put_u32(&mut e, 8 + 4 * k, *d);
        }
        let offset = if def.is_arena() {
            tensor_offsets[t]
        } else {
            const_off[t]
        };
        put_u32(&mut e, 24, to_u32(offset)?);
        put_u32(&mut e, 28, to_u32(def.byte_len())?);
        match &def.quant {
            Quant::None => {}
            Quant::PerTensor { scale, zero_point } => {
                e[3] = 1;
                put_u32(&mut e, 32, scale.to_bits());
                put_u32(&mut e, 36, *zero_point as u32);
            }
            Quant::PerChannel { axis, .. } => {
                e[3] = 2;
                e[4] = *axis as u8;
                put_u32(&mut e, 40, to_u32(scales_off[t])?);
            }
        }
        f.extend_from_slice(&e);
    }
    let ops_off = f.len();
    for (i, op) in ops.iter().enumerate() {
        let mut e = [0u8; format::OP_ENTRY_LEN];
        e[0] = op.code as u8;
        e[1] = u8::try_from(op.inputs.len()).map_err(|_| Error::TooManyEntries)?;
        e[2] = u8::try_from(op.outputs.len()).map_err(|_| Error::TooManyEntries)?;
        put_u32(&mut e, 4, to_u32(io_start[i])?);
        put_u32(&mut e, 8, to_u32(options_off[i])?);
        put_u32(&mut e, 12, to_u32(op.options.len())?);
        put_u32(&mut e, 16, to_u32(scratch_offsets[i])?);
        put_u32(&mut e, 20, to_u32(op.scratch)?);
        f.extend_from_slice(&e);
    }
    let index_off = f.len();
    for x in &index {
        f.extend_from_slice(&x.to_le_bytes());
    }
    align_to(&mut f, format::CONST_ALIGN);
    let pool_off = f.len();
    f.extend_from_slice(&pool);
    align_to(&mut f, format::CONST_ALIGN);

    let file_len = f.len();
    f[..4].copy_from_slice(&format::MAGIC);
    put_u16(&mut f, hdr::VERSION, format::VERSION);
    put_u16(&mut f, hdr::HEADER_LEN, format::HEADER_LEN as u16);
    put_u32(&mut f, hdr::FILE_LEN, to_u32(file_len)?);
    put_u32(&mut f, hdr::ARENA_SIZE, to_u32(report.arena_size)?);
    put_u16(&mut f, hdr::N_TENSORS, tensors.len() as u16);
    put_u16(&mut f, hdr::N_OPS, ops.len() as u16);
    put_u16(&mut f, hdr::N_INPUTS, inputs.len() as u16);
    put_u16(&mut f, hdr::N_OUTPUTS, outputs.len() as u16);
    put_u32(&mut f, hdr::TENSORS_OFF, to_u32(tensors_off)?);
    put_u32(&mut f, hdr::OPS_OFF, to_u32(ops_off)?);
    put_u32(&mut f, hdr::INDEX_OFF, to_u32(index_off)?);
    put_u32(&mut f, hdr::INDEX_LEN, to_u32(index.len())?);
    put_u32(&mut f, hdr::CONST_OFF, to_u32(pool_off)?);
    put_u32(&mut f, hdr::CONST_LEN, to_u32(file_len - pool_off)?);
    put_u32(&mut f, hdr::LOWER_BOUND, to_u32(report.lower_bound)?);
    let crc = format::file_crc(&f);
    put_u32(&mut f, hdr::CRC, crc);
    Ok((f, report))
}

/// Writes `bytes` to `path` atomically: to a temporary file beside it,
/// flushed to disk, then renamed over `path`, so a crash leaves either the
/// old file or the new one, never a torn one.
pub fn write_atomic(path: impl AsRef<std::path::Path>, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let path = path.as_ref();
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("path has no file name"))?;
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
