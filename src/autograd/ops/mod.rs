//! The differentiable ops, grouped by family. Each file puts every forward
//! right above its backward; all are methods of [`Tensor`](super::Tensor).
//!
//! | family | ops |
//! | --- | --- |
//! | [`elementwise`] | add, sub, mul, div (broadcasting), minimum, maximum, where_, masked_fill, neg, pow, exp, log, sqrt, abs, clamp, scalar ops |
//! | [`matmul`] | matmul (batched), linear (fused `x Wᵀ + b`) |
//! | [`conv`] | conv2d (NHWC × OHWI), conv1d (NWC × OWI): stride, padding, dilation, groups |
//! | [`pool`] | max/avg pool 1d/2d, global average pool |
//! | [`reduce`] | sum, mean, max, min over axes (keepdim), sum_all, mean_all, argmax |
//! | [`movement`] | reshape/view, flatten, permute/transpose, squeeze/unsqueeze, expand, concat/stack/split, slice, index_select, gather, pad |
//! | [`activation`] | sigmoid, tanh, relu, relu6, leaky_relu, prelu, elu, softmax, log_softmax, dropout |

pub mod activation;
pub mod conv;
pub mod elementwise;
pub mod matmul;
pub mod movement;
pub mod pool;
pub mod reduce;

pub use conv::{conv_out_len, same_padding, Conv2dParams};
pub use pool::Pool2dParams;
