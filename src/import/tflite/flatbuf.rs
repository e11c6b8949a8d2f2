//! A bounds-checked reader of FlatBuffers tables, enough for the TensorFlow
//! Lite schema: tables with vtables, scalars, sub-tables, strings and
//! vectors of scalars or tables.
//!
//! Every offset read from the file is checked (checked arithmetic, slice
//! `get`) before it is followed, so hostile bytes give an error, never a
//! panic or an out-of-bounds read. Depth is bounded by the schema (the
//! accessors in `schema.rs` follow a fixed path), so no recursion
//! limit is needed.
//!
//! Layout (FlatBuffers' binary format): the file starts with a `u32`
//! offset to the root table. A table starts with an `i32` *backwards*
//! offset to its vtable (`vtable = table − soffset`); the vtable holds
//! `u16 vtable_len, u16 table_len` then one `u16` per field: the field's
//! offset inside the table, 0 when absent (the schema default applies).
//! A reference field (table, vector, string) holds a `u32` offset relative
//! to the field's own position; a vector is a `u32` length then its
//! elements, a vector of tables holds one such relative `u32` per element.

/// A FlatBuffers decoding failure: what was being read, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FbError(pub String);

pub type Result<T> = core::result::Result<T, FbError>;

fn err<T>(msg: impl Into<String>) -> Result<T> {
    Err(FbError(msg.into()))
}

fn read<const N: usize>(buf: &[u8], pos: usize, what: &str) -> Result<[u8; N]> {
    pos.checked_add(N)
        .and_then(|end| buf.get(pos..end))
        .map(|s| s.try_into().expect("slice of length N"))
        .ok_or_else(|| FbError(format!("{what}: offset {pos} past the end of the file")))
}

fn u32_at(buf: &[u8], pos: usize, what: &str) -> Result<u32> {
    read::<4>(buf, pos, what).map(u32::from_le_bytes)
}

/// A table inside `buf`.
#[derive(Clone, Copy)]
pub struct Table<'a> {
    buf: &'a [u8],
    pos: usize,
    vtable: usize,
    vt_len: usize,
}

impl<'a> Table<'a> {
    /// The root table of a FlatBuffers file.
    pub fn root(buf: &'a [u8]) -> Result<Table<'a>> {
        let off = u32_at(buf, 0, "root offset")? as usize;
        Table::at(buf, off)
    }

    fn at(buf: &'a [u8], pos: usize) -> Result<Table<'a>> {
        let soff = i32::from_le_bytes(read::<4>(buf, pos, "table")?) as i64;
        let vtable = pos as i64 - soff;
        if vtable < 0 || vtable as u64 > buf.len() as u64 {
            return err(format!("table at {pos}: vtable offset out of range"));
        }
        let vtable = vtable as usize;
        let vt_len = u16::from_le_bytes(read::<2>(buf, vtable, "vtable")?) as usize;
        if vt_len < 4 || vt_len % 2 != 0 || vtable.checked_add(vt_len).is_none_or(|e| e > buf.len())
        {
            return err(format!("table at {pos}: bad vtable length {vt_len}"));
        }
        Ok(Table {
            buf,
            pos,
            vtable,
            vt_len,
        })
    }

    /// The position of field `id` inside the file, `None` when absent.
    fn field(&self, id: usize) -> Result<Option<usize>> {
        let entry = 4 + 2 * id;
        if entry + 2 > self.vt_len {
            return Ok(None);
        }
        let off = u16::from_le_bytes(read::<2>(self.buf, self.vtable + entry, "vtable entry")?);
        if off == 0 {
            return Ok(None);
        }
        self.pos
            .checked_add(off as usize)
            .map(Some)
            .ok_or_else(|| FbError("field offset overflows".into()))
    }

    fn scalar<const N: usize>(&self, id: usize) -> Result<Option<[u8; N]>> {
        match self.field(id)? {
            Some(p) => Ok(Some(read::<N>(self.buf, p, "scalar field")?)),
            None => Ok(None),
        }
    }

    /// A `u8`/`byte`/`bool` field, or `default`.
    pub fn u8(&self, id: usize, default: u8) -> Result<u8> {
        Ok(self.scalar::<1>(id)?.map_or(default, |b| b[0]))
    }

    /// An `int`/`uint` field (as i64, so both fit), or `default`.
    pub fn i32(&self, id: usize, default: i32) -> Result<i32> {
        Ok(self.scalar::<4>(id)?.map_or(default, i32::from_le_bytes))
    }

    /// A `uint` field, or `default`.
    pub fn u32(&self, id: usize, default: u32) -> Result<u32> {
        Ok(self.scalar::<4>(id)?.map_or(default, u32::from_le_bytes))
    }

    /// A `ulong` field, or `default`.
    pub fn u64(&self, id: usize, default: u64) -> Result<u64> {
        Ok(self.scalar::<8>(id)?.map_or(default, u64::from_le_bytes))
    }

    /// A `float` field, or `default`.
    pub fn f32(&self, id: usize, default: f32) -> Result<f32> {
        Ok(self.scalar::<4>(id)?.map_or(default, f32::from_le_bytes))
    }

    /// The target of the reference field `id`.
    fn reference(&self, id: usize) -> Result<Option<usize>> {
        match self.field(id)? {
            Some(p) => {
                let off = u32_at(self.buf, p, "reference field")? as usize;
                p.checked_add(off)
                    .filter(|&t| t < self.buf.len())
                    .map(Some)
                    .ok_or_else(|| FbError(format!("reference at {p} points past the end")))
            }
            None => Ok(None),
        }
    }

    /// A sub-table field.
    pub fn table(&self, id: usize) -> Result<Option<Table<'a>>> {
        match self.reference(id)? {
            Some(t) => Table::at(self.buf, t).map(Some),
            None => Ok(None),
        }
    }

    /// A vector field: `(first element position, length)`, checked to lie
    /// in the file for elements of `elem` bytes.
    fn vector(&self, id: usize, elem: usize) -> Result<Option<(usize, usize)>> {
        let Some(t) = self.reference(id)? else {
            return Ok(None);
        };
        let len = u32_at(self.buf, t, "vector length")? as usize;
        let start = t + 4;
        let end = len
            .checked_mul(elem)
            .and_then(|b| start.checked_add(b))
            .filter(|&e| e <= self.buf.len());
        if end.is_none() {
            return err(format!("vector at {t} of {len} elements runs past the end"));
        }
        Ok(Some((start, len)))
    }

    /// A vector of bytes (`[ubyte]`), empty when absent.
    pub fn bytes(&self, id: usize) -> Result<&'a [u8]> {
        Ok(match self.vector(id, 1)? {
            Some((s, n)) => &self.buf[s..s + n],
            None => &[],
        })
    }

    /// A string field (lossy UTF-8), empty when absent.
    pub fn string(&self, id: usize) -> Result<String> {
        Ok(String::from_utf8_lossy(self.bytes(id)?).into_owned())
    }

    /// A vector of `int` (`[int]`), empty when absent.
    pub fn i32s(&self, id: usize) -> Result<Vec<i32>> {
        Ok(match self.vector(id, 4)? {
            Some((s, n)) => self.buf[s..s + 4 * n]
                .chunks_exact(4)
                .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            None => Vec::new(),
        })
    }

    /// A vector of `float`, empty when absent.
    pub fn f32s(&self, id: usize) -> Result<Vec<f32>> {
        Ok(self
            .i32s(id)?
            .into_iter()
            .map(|v| f32::from_bits(v as u32))
            .collect())
    }

    /// A vector of `long`, empty when absent.
    pub fn i64s(&self, id: usize) -> Result<Vec<i64>> {
        Ok(match self.vector(id, 8)? {
            Some((s, n)) => self.buf[s..s + 8 * n]
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect(),
            None => Vec::new(),
        })
    }

    /// The number of elements of a vector-of-tables field (0 when absent).
    pub fn len(&self, id: usize) -> Result<usize> {
        Ok(self.vector(id, 4)?.map_or(0, |(_, n)| n))
    }

    /// Element `i` of a vector-of-tables field.
    pub fn table_at(&self, id: usize, i: usize) -> Result<Table<'a>> {
        let Some((s, n)) = self.vector(id, 4)? else {
            return err(format!("element {i} of an absent vector"));
        };
        if i >= n {
            return err(format!("element {i} of a vector of {n}"));
        }
        let p = s + 4 * i;
        let off = u32_at(self.buf, p, "vector element")? as usize;
        let t = p
            .checked_add(off)
            .filter(|&t| t < self.buf.len())
            .ok_or_else(|| FbError(format!("vector element at {p} points past the end")))?;
        Table::at(self.buf, t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_bytes_are_errors() {
        assert!(Table::root(&[]).is_err());
        assert!(Table::root(&[0xff, 0xff, 0xff, 0xff]).is_err());
        // Root at 4, soffset pointing before the start.
        let b = [4, 0, 0, 0, 100, 0, 0, 0];
        assert!(Table::root(&b).is_err());
        // A vtable claiming a field past the end.
        let b = [8, 0, 0, 0, 6, 0, 8, 0, 8, 0, 0, 0, 200, 0];
        let t = Table::root(&b);
        if let Ok(t) = t {
            assert!(t.i32s(0).is_err() || t.i32s(0).unwrap().is_empty());
        }
    }
}
