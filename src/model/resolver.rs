//! [`OpResolver`]: the kernels a firmware links.
//!
//! Like TensorFlow Lite Micro's `MicroMutableOpResolver`, a firmware names
//! the kernels it needs and only those are linked; unlike it, the resolver
//! is built in a `const` and checked against an embedded model **at compile
//! time**:
//!
//! ```ignore
//! use edgegrad::model::{OpResolver, required_ops};
//! static MODEL: &[u8] = edgegrad::include_model!("digits.egm");
//! const OPS: OpResolver = OpResolver::new()
//!     .add_conv2d_s8()
//!     .add_max_pool2d_s8()
//!     .add_reshape_s8()
//!     .add_fully_connected_s8()
//!     .add_softmax_s8();
//! // Fails to compile if the model needs a kernel OPS lacks.
//! const _: () = assert!(OPS.covers(required_ops(MODEL)));
//! ```
//!
//! On the host, [`OpResolver::all`] registers every kernel.

use super::file::{Model, OpInfo};
use super::opcode::{KernelType, OpCode, OpSet, KERNEL_TYPE_COUNT, OPCODE_COUNT};
use super::ops;
use crate::Error;

/// A kernel entry point: runs `op` of `model` on `arena`.
pub type EvalFn = fn(&Model<'_>, &OpInfo<'_>, &mut [u8]) -> Result<(), Error>;

/// A fixed table of kernels, one slot per (op, kernel type), and the
/// validation of each registered op.
#[derive(Clone, Copy)]
pub struct OpResolver {
    table: [[Option<EvalFn>; KERNEL_TYPE_COUNT]; OPCODE_COUNT],
    validators: [Option<ops::ValidateFn>; OPCODE_COUNT],
}

impl core::fmt::Debug for OpResolver {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OpResolver")
            .field("provides", &self.provides())
            .finish()
    }
}

impl Default for OpResolver {
    fn default() -> Self {
        Self::new()
    }
}

macro_rules! resolver_methods {
    ($($op:ident { $($method:ident => $kt:ident, $f:path;)* })*) => {
        impl OpResolver {
            $($(
                #[doc = concat!("Registers `", stringify!($f), "`.")]
                pub const fn $method(mut self) -> Self {
                    self.table[OpCode::$op as usize][KernelType::$kt as usize] = Some($f);
                    self.validators[OpCode::$op as usize] = Some(ops::validator(OpCode::$op));
                    self
                }
            )*)*

            /// Registers every kernel (host use; links everything).
            pub const fn all() -> Self {
                Self::new()$($(.$method())*)*
            }
        }
    };
}

resolver_methods! {
    Conv2d {
        add_conv2d_s8 => S8, ops::conv2d::eval_s8;
        add_conv2d_f16 => F16, ops::conv2d::eval_f16;
        add_conv2d_f32 => F32, ops::conv2d::eval_f32;
    }
    DepthwiseConv2d {
        add_depthwise_conv2d_s8 => S8, ops::depthwise_conv2d::eval_s8;
        add_depthwise_conv2d_f16 => F16, ops::depthwise_conv2d::eval_f16;
        add_depthwise_conv2d_f32 => F32, ops::depthwise_conv2d::eval_f32;
    }
    FullyConnected {
        add_fully_connected_s8 => S8, ops::fully_connected::eval_s8;
        add_fully_connected_f16 => F16, ops::fully_connected::eval_f16;
        add_fully_connected_f32 => F32, ops::fully_connected::eval_f32;
    }
    MaxPool2d {
        add_max_pool2d_s8 => S8, ops::pooling::eval_max_s8;
        add_max_pool2d_f16 => F16, ops::pooling::eval_max_f16;
        add_max_pool2d_f32 => F32, ops::pooling::eval_max_f32;
    }
    AvgPool2d {
        add_avg_pool2d_s8 => S8, ops::pooling::eval_avg_s8;
        add_avg_pool2d_f16 => F16, ops::pooling::eval_avg_f16;
        add_avg_pool2d_f32 => F32, ops::pooling::eval_avg_f32;
    }
    GlobalAvgPool {
        add_global_avg_pool_s8 => S8, ops::pooling::eval_global_s8;
        add_global_avg_pool_f16 => F16, ops::pooling::eval_global_f16;
        add_global_avg_pool_f32 => F32, ops::pooling::eval_global_f32;
    }
    Add {
        add_add_s8 => S8, ops::add::eval_s8;
        add_add_f16 => F16, ops::add::eval_f16;
        add_add_f32 => F32, ops::add::eval_f32;
    }
    Mul {
        add_mul_s8 => S8, ops::mul::eval_s8;
        add_mul_f16 => F16, ops::mul::eval_f16;
        add_mul_f32 => F32, ops::mul::eval_f32;
    }
    Relu {
        add_relu_s8 => S8, ops::activation::eval_lut_s8;
        add_relu_f16 => F16, ops::activation::eval_relu_f16;
        add_relu_f32 => F32, ops::activation::eval_relu_f32;
    }
    Relu6 {
        add_relu6_s8 => S8, ops::activation::eval_lut_s8;
        add_relu6_f16 => F16, ops::activation::eval_relu6_f16;
        add_relu6_f32 => F32, ops::activation::eval_relu6_f32;
    }
    LeakyRelu {
        add_leaky_relu_s8 => S8, ops::activation::eval_lut_s8;
        add_leaky_relu_f16 => F16, ops::activation::eval_leaky_relu_f16;
        add_leaky_relu_f32 => F32, ops::activation::eval_leaky_relu_f32;
    }
    Sigmoid {
        add_sigmoid_s8 => S8, ops::activation::eval_lut_s8;
        add_sigmoid_f16 => F16, ops::activation::eval_sigmoid_f16;
        add_sigmoid_f32 => F32, ops::activation::eval_sigmoid_f32;
    }
    Tanh {
        add_tanh_s8 => S8, ops::activation::eval_lut_s8;
        add_tanh_f16 => F16, ops::activation::eval_tanh_f16;
        add_tanh_f32 => F32, ops::activation::eval_tanh_f32;
    }
    Softmax {
        add_softmax_s8 => S8, ops::softmax::eval_s8;
        add_softmax_f16 => F16, ops::softmax::eval_f16;
        add_softmax_f32 => F32, ops::softmax::eval_f32;
    }
    Reshape {
        add_reshape_s8 => S8, ops::reshape::eval;
        add_reshape_f16 => F16, ops::reshape::eval;
        add_reshape_f32 => F32, ops::reshape::eval;
    }
    Concatenation {
        add_concatenation_s8 => S8, ops::concatenation::eval_s8;
        add_concatenation_f16 => F16, ops::concatenation::eval_f16;
        add_concatenation_f32 => F32, ops::concatenation::eval_f32;
    }
    Quantize {
        add_quantize_s8 => S8, ops::quantize::eval_requantize_s8;
        add_quantize_f16 => F16, ops::quantize::eval_quantize_f16;
        add_quantize_f32 => F32, ops::quantize::eval_quantize_f32;
    }
    Dequantize {
        add_dequantize_f16 => F16, ops::quantize::eval_dequantize_f16;
        add_dequantize_f32 => F32, ops::quantize::eval_dequantize_f32;
    }
    Pad {
        add_pad_s8 => S8, ops::pad::eval_s8;
        add_pad_f16 => F16, ops::pad::eval_f16;
        add_pad_f32 => F32, ops::pad::eval_f32;
    }
    Lstm {
        add_lstm_s8 => S8, ops::lstm::eval_s8;
        add_lstm_f16 => F16, ops::lstm::eval_f16;
        add_lstm_f32 => F32, ops::lstm::eval_f32;
    }
    Gru {
        add_gru_f16 => F16, ops::gru::eval_f16;
        add_gru_f32 => F32, ops::gru::eval_f32;
    }
    StridedSlice {
        add_strided_slice_s8 => S8, ops::strided_slice::eval_s8;
        add_strided_slice_f16 => F16, ops::strided_slice::eval_f16;
        add_strided_slice_f32 => F32, ops::strided_slice::eval_f32;
    }
}

impl OpResolver {
    /// An empty resolver.
    pub const fn new() -> Self {
        OpResolver {
            table: [[None; KERNEL_TYPE_COUNT]; OPCODE_COUNT],
            validators: [None; OPCODE_COUNT],
        }
    }

    /// Every (op, kernel type) pair registered.
    pub const fn provides(&self) -> OpSet {
        let mut set = OpSet::EMPTY;
        let mut o = 0;
        while o < OPCODE_COUNT {
            let mut k = 0;
            while k < KERNEL_TYPE_COUNT {
                if self.table[o][k].is_some() {
                    let kt = match k {
                        0 => KernelType::S8,
                        1 => KernelType::F16,
                        _ => KernelType::F32,
                    };
                    set = set.with(OpCode::ALL[o], kt);
                }
                k += 1;
            }
            o += 1;
        }
        set
    }

    /// True when every pair in `needed` is registered. Use in a `const`
    /// assertion with [`required_ops`](super::required_ops) for a
    /// compile-time check.
    pub const fn covers(&self, needed: OpSet) -> bool {
        self.provides().covers(needed)
    }

    /// The validation of `op`, if any kernel of it is registered.
    pub fn validator(&self, op: OpCode) -> Option<ops::ValidateFn> {
        self.validators[op as usize]
    }

    /// The kernel for `(op, kt)`, if registered.
    pub fn get(&self, op: OpCode, kt: KernelType) -> Option<EvalFn> {
        self.table[op as usize][kt as usize]
    }
}
