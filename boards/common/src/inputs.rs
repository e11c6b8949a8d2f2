//! The inputs file (`.egi`): the samples a board feeds its model, and
//! optionally their labels.
//!
//! Everything is little-endian; the samples start at byte 16, so a file
//! embedded 16-byte aligned has 16-byte aligned samples.
//!
//! ```text
//! header (16 bytes)
//!   0  magic        "EGI\x01"
//!   4  version      u16 = 1
//!   6  flags        u16   bit 0: labels present; other bits 0
//!   8  count        u32   number of samples (≥ 1)
//!  12  sample_len   u32   bytes per sample (≥ 1)
//! samples (count × sample_len bytes)
//!   each sample is the bytes of every model input, in model-input order,
//!   exactly as the arena holds them (int8 as is, f16/f32 little-endian)
//! labels (count × u16, only with flag bit 0)
//!   the expected class of each sample: the index of the largest element
//!   of model output 0
//! ```
//!
//! The file is exactly `16 + count × sample_len (+ 2 × count)` bytes.
//! [`Inputs::parse`] reads it without copying (no_std); [`encode`] writes it
//! into anything that can [`Extend`] bytes (a `Vec<u8>` on the host).
//!
//! This one file is shared by the firmware, the boards' build scripts and
//! the host fixture generator (`examples/qemu_fixtures.rs`), so the three
//! cannot disagree on the layout.

use core::fmt;

/// The magic bytes that open every inputs file.
pub const MAGIC: [u8; 4] = *b"EGI\x01";
/// The format version this code reads and writes.
pub const VERSION: u16 = 1;
/// Header length in bytes (also where the samples start).
pub const HEADER_LEN: usize = 16;
/// Flag bit: labels follow the samples.
pub const FLAG_LABELS: u16 = 1;

/// What is wrong with an inputs file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputsError {
    /// Does not start with [`MAGIC`].
    BadMagic,
    /// A version other than [`VERSION`].
    UnsupportedVersion(u16),
    /// Flag bits this version does not define.
    UnknownFlags(u16),
    /// No samples, or samples of zero bytes.
    Empty,
    /// The file's length does not match its header.
    LengthMismatch {
        /// Bytes the header implies.
        expected: usize,
        /// Bytes present.
        got: usize,
    },
    /// The label list's length is not the sample count (writing only).
    LabelCount,
}

impl InputsError {
    /// A fixed description (for firmware without `core::fmt`).
    pub fn message(&self) -> &'static str {
        match self {
            InputsError::BadMagic => "not an inputs file (bad magic)",
            InputsError::UnsupportedVersion(_) => "inputs file version unsupported",
            InputsError::UnknownFlags(_) => "inputs file has unknown flags",
            InputsError::Empty => "inputs file holds no sample bytes",
            InputsError::LengthMismatch { .. } => "inputs file length differs from its header's",
            InputsError::LabelCount => "one label per sample is needed",
        }
    }
}

impl fmt::Display for InputsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            InputsError::BadMagic => write!(f, "not an inputs file (bad magic)"),
            InputsError::UnsupportedVersion(v) => write!(f, "inputs file version {v} unsupported"),
            InputsError::UnknownFlags(x) => write!(f, "inputs file has unknown flags {x:#x}"),
            InputsError::Empty => write!(f, "inputs file holds no sample bytes"),
            InputsError::LengthMismatch { expected, got } => {
                write!(f, "inputs file is {got} bytes, its header says {expected}")
            }
            InputsError::LabelCount => write!(f, "one label per sample is needed"),
        }
    }
}

/// A parsed inputs file, borrowing its bytes.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    count: usize,
    sample_len: usize,
    samples: &'a [u8],
    labels: Option<&'a [u8]>,
}

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}

fn u32_at(b: &[u8], o: usize) -> usize {
    u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]) as usize
}

impl<'a> Inputs<'a> {
    /// Checks the header and the file's length.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, InputsError> {
        if bytes.len() < HEADER_LEN || bytes[..4] != MAGIC {
            return Err(InputsError::BadMagic);
        }
        let version = u16_at(bytes, 4);
        if version != VERSION {
            return Err(InputsError::UnsupportedVersion(version));
        }
        let flags = u16_at(bytes, 6);
        if flags & !FLAG_LABELS != 0 {
            return Err(InputsError::UnknownFlags(flags));
        }
        let (count, sample_len) = (u32_at(bytes, 8), u32_at(bytes, 12));
        if count == 0 || sample_len == 0 {
            return Err(InputsError::Empty);
        }
        let has_labels = flags & FLAG_LABELS != 0;
        let expected = count
            .checked_mul(sample_len)
            .and_then(|s| s.checked_add(HEADER_LEN))
            .and_then(|s| s.checked_add(if has_labels { 2 * count } else { 0 }))
            .unwrap_or(usize::MAX);
        if bytes.len() != expected {
            return Err(InputsError::LengthMismatch {
                expected,
                got: bytes.len(),
            });
        }
        let end = HEADER_LEN + count * sample_len;
        Ok(Inputs {
            count,
            sample_len,
            samples: &bytes[HEADER_LEN..end],
            labels: has_labels.then(|| &bytes[end..]),
        })
    }

    /// Number of samples.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Bytes per sample.
    pub fn sample_len(&self) -> usize {
        self.sample_len
    }

    /// True when the file carries labels.
    pub fn has_labels(&self) -> bool {
        self.labels.is_some()
    }

    /// Sample `i`'s bytes, or `None` past the end.
    pub fn sample(&self, i: usize) -> Option<&'a [u8]> {
        let start = i.checked_mul(self.sample_len)?;
        self.samples.get(start..start.checked_add(self.sample_len)?)
    }

    /// Sample `i`'s label, when the file has labels and `i` is in range.
    pub fn label(&self, i: usize) -> Option<u16> {
        let l = self.labels?.get(2 * i..2 * i + 2)?;
        Some(u16::from_le_bytes([l[0], l[1]]))
    }
}

/// Appends an inputs file to `out`: `samples` holds the samples back to
/// back, `sample_len` bytes each; `labels`, when given, one per sample.
pub fn encode<E: Extend<u8>>(
    out: &mut E,
    sample_len: usize,
    samples: &[u8],
    labels: Option<&[u16]>,
) -> Result<(), InputsError> {
    if sample_len == 0 || samples.is_empty() {
        return Err(InputsError::Empty);
    }
    let count = samples.len() / sample_len;
    if count * sample_len != samples.len() {
        return Err(InputsError::LengthMismatch {
            expected: (count + 1) * sample_len,
            got: samples.len(),
        });
    }
    if labels.is_some_and(|l| l.len() != count) {
        return Err(InputsError::LabelCount);
    }
    let too_big = |v: usize| {
        u32::try_from(v).map_err(|_| InputsError::LengthMismatch {
            expected: u32::MAX as usize,
            got: v,
        })
    };
    let flags = if labels.is_some() { FLAG_LABELS } else { 0 };
    out.extend(MAGIC);
    out.extend(VERSION.to_le_bytes());
    out.extend(flags.to_le_bytes());
    out.extend(too_big(count)?.to_le_bytes());
    out.extend(too_big(sample_len)?.to_le_bytes());
    out.extend(samples.iter().copied());
    if let Some(labels) = labels {
        out.extend(labels.iter().flat_map(|l| l.to_le_bytes()));
    }
    Ok(())
}
