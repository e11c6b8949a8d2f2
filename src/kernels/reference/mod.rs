//! Portable reference kernels: the oracle for every optimized kernel.
//!
//! One op family per module, named after the op. Every kernel
//!
//! - checks all shapes, lengths and parameters first and returns
//!   [`Error`](crate::Error) (`ShapeMismatch`, `LengthMismatch`,
//!   `InvalidParameter`) instead of panicking; it writes nothing on error;
//! - never allocates and uses no `unsafe`;
//! - in int8, follows TensorFlow Lite's integer reference definition of the
//!   op (quoted at the code), so that imported models match TensorFlow Lite
//!   Micro bit for bit; accumulators are `i32` with wrapping addition (where
//!   TFLite's C++ would overflow, which no valid model does);
//! - in float, is written once, generic over [`Float`](crate::kernels::Float)
//!   (storage `f32` or `half::f16`, arithmetic in `f32`), with thin public
//!   `_f32` / `_f16` wrappers. Transcendental functions use this module's
//!   own deterministic implementations (IEEE basic operations only), so the
//!   host and every Cortex-M compute identical floats.
//!
//! Conventions: shaped ops take their inputs as [`TensorView`] by value (it
//! is `Copy`) and their output as `&mut` [`TensorMut`]; element-wise ops
//! (activations, lookup tables, quantize/dequantize) take plain slices.
//! Activations are NHWC, convolution filters OHWI, depthwise filters
//! `[1, KH, KW, C·M]`, fully connected weights `[out, in]`.
//!
//! [`TensorView`]: crate::tensor::TensorView
//! [`TensorMut`]: crate::tensor::TensorMut

mod gemmlowp;
mod math;
mod util;

pub mod activation;
pub mod add;
pub mod concatenation;
pub mod conv2d;
pub mod copy;
pub mod depthwise_conv2d;
pub mod fully_connected;
pub mod lut;
pub mod mul;
pub mod pad;
pub mod pooling;
pub mod quantize;
pub mod softmax;

pub use activation::{
    leaky_relu_f16, leaky_relu_f16_inplace, leaky_relu_f32, leaky_relu_f32_inplace, relu6_f16,
    relu6_f16_inplace, relu6_f32, relu6_f32_inplace, relu_f16, relu_f16_inplace, relu_f32,
    relu_f32_inplace, sigmoid_f16, sigmoid_f16_inplace, sigmoid_f32, sigmoid_f32_inplace, tanh_f16,
    tanh_f16_inplace, tanh_f32, tanh_f32_inplace,
};
pub use add::{add_f16, add_f32, add_s8, AddS8};
pub use concatenation::{concat_into, concatenation};
pub use conv2d::{conv2d_f16, conv2d_f32, conv2d_s8};
pub use copy::reshape;
pub use depthwise_conv2d::{depthwise_conv2d_f16, depthwise_conv2d_f32, depthwise_conv2d_s8};
pub use fully_connected::{fully_connected_f16, fully_connected_f32, fully_connected_s8};
pub use lut::{
    float_table_s8, leaky_relu_table_s8, lut_index, lut_s8, lut_s8_inplace, relu_table_s8,
    sigmoid_table_s8, tanh_table_s8,
};
pub use mul::{mul_f16, mul_f32, mul_s8, MulS8};
pub use pad::pad;
pub use pooling::{
    avg_pool2d_f16, avg_pool2d_f32, avg_pool2d_s8, global_avg_pool_f16, global_avg_pool_f32,
    global_avg_pool_s8, max_pool2d_f16, max_pool2d_f32, max_pool2d_s8, GlobalAvgPoolS8,
};
pub use quantize::{
    dequantize_s8_f16, dequantize_s8_f32, quantize_f16_s8, quantize_f32_s8, requantize_s8,
    RequantizeS8,
};
pub use softmax::{softmax_f16, softmax_f32, softmax_s8, SoftmaxS8};
