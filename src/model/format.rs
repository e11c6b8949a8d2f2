//! The byte layout of an edgegrad model file (`.egm`), version 1.
//!
//! Everything is little-endian. Offsets are from the start of the file
//! unless said otherwise; the file itself must be loaded at a 16-byte
//! aligned address (see [`AlignedModel`](super::AlignedModel) and
//! [`include_model!`](crate::include_model)) so that constants are read in
//! place, straight from flash.
//!
//! ```text
//! header (64 bytes)
//!   0  magic         "EGM\x01"
//!   4  version       u16 = 1
//!   6  header_len    u16 = 64
//!   8  file_len      u32   total bytes, header included
//!  12  crc32         u32   CRC-32 (ISO-HDLC) of the whole file with this field as zero
//!  16  arena_size    u32   bytes of arena the memory plan needs (scratch included)
//!  20  n_tensors     u16
//!  22  n_ops         u16
//!  24  n_inputs      u16   model inputs: the first n_inputs entries of the index list
//!  26  n_outputs     u16   model outputs: the next n_outputs entries
//!  28  tensors_off   u32   tensor table, n_tensors × 48 bytes, 4-aligned
//!  32  ops_off       u32   operator list, n_ops × 24 bytes, 4-aligned
//!  36  index_off     u32   index list: u16 tensor indices, 4-aligned
//!  40  index_len     u32   entries in the index list
//!  44  const_off     u32   constant pool, 16-aligned
//!  48  const_len     u32   bytes in the constant pool
//!  52  lower_bound   u32   the largest live set of the plan (informative)
//!  56  reserved      [u8; 8] = 0
//!
//! tensor entry (48 bytes)
//!   0  dtype         u8    0 i8, 1 i16, 2 i32, 3 f16, 4 f32
//!   1  rank          u8    0..=4
//!   2  storage       u8    0 constant (offset into the constant pool), 1 arena
//!   3  quant         u8    0 none, 1 per-tensor, 2 per-channel (zero point 0)
//!   4  quant_axis    u8    channel axis of a per-channel tensor
//!   5  flags         u8    bit 0: persistent (an arena tensor holding state,
//!                          e.g. an LSTM's hidden and cell state: alive for the
//!                          whole model, so no other tensor or scratch buffer
//!                          shares its bytes, and kept across invokes; its op
//!                          reads and updates it in place through an input slot,
//!                          no op has it as an output; reset to real zero by
//!                          `Interpreter::new` and `Interpreter::reset_state`).
//!                          Other bits 0.
//!   6  reserved      [u8; 2] = 0
//!   8  dims          [u32; 4]   unused dims are 1
//!  24  offset        u32   into the constant pool or the arena
//!  28  byte_len      u32   = element count × element size
//!  32  scale         f32   per-tensor scale
//!  36  zero_point    i32   per-tensor zero point
//!  40  scales_off    u32   per-channel: constant-pool offset of dims[axis] f32 scales
//!  44  reserved      u32 = 0
//!
//! operator entry (24 bytes)
//!   0  opcode        u8    see OpCode
//!   1  n_inputs      u8
//!   2  n_outputs     u8
//!   3  reserved      u8 = 0
//!   4  io_start      u32   first index-list entry: inputs, then outputs
//!   8  options_off   u32   constant-pool offset of the options, 4-aligned
//!  12  options_len   u32   in 32-bit words
//!  16  scratch_off   u32   arena offset of the op's scratch buffer
//!  20  scratch_len   u32   bytes (0: none)
//! ```
//!
//! An absent optional input (a convolution without bias) is the index
//! `0xFFFF`. Operators are stored in execution order. Options are a list of
//! 32-bit words whose meaning each op documents in `model/ops/<op>.rs`.

/// The magic bytes that open every model file.
pub const MAGIC: [u8; 4] = *b"EGM\x01";
/// The format version this build reads and writes.
pub const VERSION: u16 = 1;
/// Header length in bytes.
pub const HEADER_LEN: usize = 64;
/// Tensor table entry length in bytes.
pub const TENSOR_ENTRY_LEN: usize = 48;
/// Operator entry length in bytes.
pub const OP_ENTRY_LEN: usize = 24;
/// Alignment of the constant pool (and of the model bytes themselves).
pub const CONST_ALIGN: usize = 16;
/// Alignment of every arena buffer offset.
pub const ARENA_ALIGN: usize = 4;
/// Tensor entry flag (byte 5): persistent state, see the layout above.
pub const FLAG_PERSISTENT: u8 = 1;
/// The index that marks an absent optional input.
pub const ABSENT: u16 = 0xFFFF;

/// Byte offsets of the header fields (see the layout above).
#[allow(missing_docs)]
pub mod hdr {
    pub const VERSION: usize = 4;
    pub const HEADER_LEN: usize = 6;
    pub const FILE_LEN: usize = 8;
    pub const CRC: usize = 12;
    pub const ARENA_SIZE: usize = 16;
    pub const N_TENSORS: usize = 20;
    pub const N_OPS: usize = 22;
    pub const N_INPUTS: usize = 24;
    pub const N_OUTPUTS: usize = 26;
    pub const TENSORS_OFF: usize = 28;
    pub const OPS_OFF: usize = 32;
    pub const INDEX_OFF: usize = 36;
    pub const INDEX_LEN: usize = 40;
    pub const CONST_OFF: usize = 44;
    pub const CONST_LEN: usize = 48;
    pub const LOWER_BOUND: usize = 52;
}

/// The CRC used by the format (CRC-32/ISO-HDLC, as zlib and PNG).
pub(crate) const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// The CRC of a model file, computed with the CRC field read as zero.
/// `bytes` must hold at least the header.
pub fn file_crc(bytes: &[u8]) -> u32 {
    let mut d = CRC32.digest();
    d.update(&bytes[..hdr::CRC]);
    d.update(&[0; 4]);
    d.update(&bytes[hdr::CRC + 4..]);
    d.finalize()
}

/// Reads a little-endian u16 at `off`, or `None` past the end.
#[inline]
pub(crate) fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    let s = b.get(off..off.checked_add(2)?)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

/// Reads a little-endian u32 at `off`, or `None` past the end.
#[inline]
pub(crate) fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// The arena size, in bytes, that the model file `bytes` needs, read from
/// its header in a `const` context, so that firmware can size a static
/// arena from an embedded model:
///
/// ```ignore
/// static MODEL: &edgegrad::model::AlignedBytes<{ MODEL_LEN }> = edgegrad::include_model!("digits.egm");
/// const ARENA_SIZE: usize = edgegrad::model::arena_size(&MODEL.0);
/// static mut ARENA: edgegrad::model::Arena<ARENA_SIZE> = edgegrad::model::Arena::new();
/// ```
///
/// # Panics
/// When `bytes` does not start with a model header. In a `const` item that
/// is a compile error, which is the point; at run time use
/// [`Model::arena_size`](super::Model::arena_size) on a validated model.
pub const fn arena_size(bytes: &[u8]) -> usize {
    assert!(
        bytes.len() >= HEADER_LEN
            && bytes[0] == MAGIC[0]
            && bytes[1] == MAGIC[1]
            && bytes[2] == MAGIC[2]
            && bytes[3] == MAGIC[3],
        "not an edgegrad model file"
    );
    let o = hdr::ARENA_SIZE;
    u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]) as usize
}

/// Recomputes and stores the CRC of a model file after its bytes were
/// edited (tools, tests, fuzzing). Does nothing to a buffer shorter than
/// the header.
pub fn reseal(bytes: &mut [u8]) {
    if bytes.len() >= HEADER_LEN {
        let crc = file_crc(bytes);
        bytes[hdr::CRC..hdr::CRC + 4].copy_from_slice(&crc.to_le_bytes());
    }
}
