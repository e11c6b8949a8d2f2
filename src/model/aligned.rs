//! Aligned byte buffers: for model files (read in place) and arenas.

/// Bytes aligned to 16, the alignment a model file needs. Used by
/// [`include_model!`](crate::include_model) for a model embedded in flash.
#[repr(C, align(16))]
pub struct AlignedBytes<const N: usize>(pub [u8; N]);

/// A caller-owned arena for the [`Interpreter`](super::Interpreter),
/// aligned so that no byte is lost to alignment.
///
/// ```
/// use edgegrad::model::Arena;
/// static mut ARENA: Arena<4096> = Arena::new();
/// let mut local = Arena::<256>::new();
/// assert_eq!(local.as_mut_slice().len(), 256);
/// ```
#[repr(C, align(16))]
pub struct Arena<const N: usize>([u8; N]);

impl<const N: usize> Arena<N> {
    /// A zeroed arena.
    pub const fn new() -> Self {
        Arena([0; N])
    }

    /// The arena's bytes.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.0
    }
}

impl<const N: usize> Default for Arena<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// Embeds a model file in the program, 16-byte aligned, as a
/// `&'static [u8]` ready for [`Model::from_bytes`](crate::model::Model::from_bytes).
///
/// ```ignore
/// static MODEL: &[u8] = edgegrad::include_model!("../models/digits.egm");
/// const ARENA_SIZE: usize = edgegrad::model::arena_size(MODEL);
/// ```
#[macro_export]
macro_rules! include_model {
    ($path:expr) => {{
        const LEN: usize = include_bytes!($path).len();
        static ALIGNED: $crate::model::AlignedBytes<LEN> =
            $crate::model::AlignedBytes(*include_bytes!($path));
        &ALIGNED.0 as &'static [u8]
    }};
}

/// A model file read into host memory at a 16-byte aligned address.
#[cfg(feature = "std")]
#[derive(Clone)]
pub struct AlignedModel {
    words: std::vec::Vec<u128>,
    len: usize,
}

#[cfg(feature = "std")]
impl AlignedModel {
    /// Copies `bytes` into aligned memory.
    pub fn new(bytes: &[u8]) -> Self {
        let mut words = std::vec![0u128; bytes.len().div_ceil(16)];
        bytemuck::cast_slice_mut::<u128, u8>(&mut words)[..bytes.len()].copy_from_slice(bytes);
        AlignedModel {
            words,
            len: bytes.len(),
        }
    }

    /// Reads a model file from disk (not validated: call
    /// [`Model::from_bytes`](super::Model::from_bytes) on
    /// [`as_bytes`](Self::as_bytes)).
    pub fn read(path: impl AsRef<std::path::Path>) -> std::io::Result<Self> {
        Ok(Self::new(&std::fs::read(path)?))
    }

    /// The bytes, 16-byte aligned.
    pub fn as_bytes(&self) -> &[u8] {
        &bytemuck::cast_slice::<u128, u8>(&self.words)[..self.len]
    }
}
