//! Element types: [`DType`] and the [`Element`] trait tying it to Rust types.

use half::f16;

/// The element type of a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum DType {
    /// Signed 8-bit integer: quantized activations and weights.
    I8 = 0,
    /// Signed 16-bit integer: LSTM cell state.
    I16 = 1,
    /// Signed 32-bit integer: quantized biases, requantization multipliers.
    I32 = 2,
    /// IEEE half precision: storage of f16 models (arithmetic in f32).
    F16 = 3,
    /// IEEE single precision.
    F32 = 4,
}

impl DType {
    /// The type with file code `code`, if any.
    pub const fn from_code(code: u8) -> Option<DType> {
        Some(match code {
            0 => DType::I8,
            1 => DType::I16,
            2 => DType::I32,
            3 => DType::F16,
            4 => DType::F32,
            _ => return None,
        })
    }

    /// Bytes per element.
    pub const fn size(self) -> usize {
        match self {
            DType::I8 => 1,
            DType::I16 | DType::F16 => 2,
            DType::I32 | DType::F32 => 4,
        }
    }

    /// A short lower-case name (`"i8"`, `"f16"`, …).
    pub const fn name(self) -> &'static str {
        match self {
            DType::I8 => "i8",
            DType::I16 => "i16",
            DType::I32 => "i32",
            DType::F16 => "f16",
            DType::F32 => "f32",
        }
    }
}

/// A Rust type that can be a tensor element.
///
/// Implemented for `i8`, `i16`, `i32`, [`half::f16`] and `f32`; sealed.
pub trait Element: bytemuck::Pod + Default + PartialEq + core::fmt::Debug + sealed::Sealed {
    /// The matching [`DType`].
    const DTYPE: DType;
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! element {
    ($($t:ty => $d:ident),*) => {$(
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const DTYPE: DType = DType::$d;
        }
    )*};
}
element!(i8 => I8, i16 => I16, i32 => I32, f16 => F16, f32 => F32);
