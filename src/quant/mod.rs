//! Fixed-point quantization math: the TensorFlow Lite int8 scheme.
//!
//! `real = scale × (q − zero_point)`. A kernel that multiplies int8 values
//! accumulates in int32, and brings the accumulator back to int8 with a
//! *real multiplier* (`input_scale × weight_scale / output_scale`) held as a
//! Q31 integer and a power-of-two shift ([`quantize_multiplier`]). Applying
//! it ([`multiply_by_quantized_multiplier`]) uses TensorFlow Lite's default
//! "double rounding": a saturating rounding doubling high multiply
//! ([`saturating_rounding_doubling_high_mul`]) followed by a rounding right
//! shift ([`rounding_divide_by_pot`]). TensorFlow Lite Micro and CMSIS-NN
//! compute exactly this; every int8 kernel in edgegrad, reference or
//! optimized, host or device, goes through these functions, which is what
//! makes imported models byte-identical and the device bit-identical to
//! the host.
//!
//! ```
//! use edgegrad::quant::{quantize_multiplier, multiply_by_quantized_multiplier};
//! let (m, shift) = quantize_multiplier(0.25);
//! assert_eq!(multiply_by_quantized_multiplier(100, m, shift), 25);
//! assert_eq!(multiply_by_quantized_multiplier(-6, m, shift), -2); // -1.5 rounds away from zero
//! ```

mod affine;
mod fixed_point;
mod multiplier;

pub use affine::{
    activation_range_s8, dequantize_value, quantize_value, round_half_away, Activation,
};
pub use fixed_point::{
    multiply_by_quantized_multiplier, requantize, rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
};
pub use multiplier::{frexp, quantize_multiplier, MAX_SHIFT, MIN_SHIFT};
