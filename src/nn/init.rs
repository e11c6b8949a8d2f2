//! Weight initialisation: Xavier/Glorot and He/Kaiming (uniform and normal),
//! zeros, constants, and PyTorch's default; every draw comes from the
//! global seeded generator ([`crate::autograd::manual_seed`]).
//!
//! Fans are computed for edgegrad's channels-last weight layouts
//! (`[out, in]`, OWI, OHWI — "out first, in last"):
//! `fan_in = Π shape[1..]`, `fan_out = shape[0] · Π shape[1..rank−1]`
//! (the receptive field times the output channels), as PyTorch computes them
//! for its own layouts.

use crate::autograd::{with_rng, Tensor};

/// How to fill a tensor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// All zeros.
    Zeros,
    /// All `c`.
    Constant(f32),
    /// Uniform in `[lo, hi)`.
    Uniform(f32, f32),
    /// Normal with `(mean, std)`.
    Normal(f32, f32),
    /// Glorot uniform: `U(±√(6 / (fan_in + fan_out)))`.
    XavierUniform,
    /// Glorot normal: `N(0, 2 / (fan_in + fan_out))`.
    XavierNormal,
    /// He uniform for ReLU: `U(±√(6 / fan_in))`.
    KaimingUniform,
    /// He normal for ReLU: `N(0, 2 / fan_in)`.
    KaimingNormal,
    /// PyTorch's default for Linear and Conv weights and biases
    /// (`kaiming_uniform_(a=√5)`): `U(±1/√fan_in)`, with the fan of the
    /// layer's weight.
    TorchDefault {
        /// The fan-in of the layer's weight.
        fan_in: usize,
    },
}

/// `(fan_in, fan_out)` of a weight of `shape` (see the module doc).
pub fn fans(shape: &[usize]) -> (usize, usize) {
    match shape.len() {
        0 => (1, 1),
        1 => (shape[0], shape[0]),
        r => {
            let fan_in = shape[1..].iter().product();
            let fan_out = shape[0] * shape[1..r - 1].iter().product::<usize>();
            (fan_in, fan_out)
        }
    }
}

impl Init {
    /// A new tensor of `shape` filled by this rule (not requiring a gradient).
    pub fn tensor(&self, shape: &[usize]) -> Tensor {
        let (fi, fo) = fans(shape);
        let n: usize = shape.iter().product();
        let uniform = |b: f32| {
            with_rng(|r| {
                (0..n)
                    .map(|_| (2.0 * r.uniform() - 1.0) * b)
                    .collect::<Vec<_>>()
            })
        };
        let normal =
            |m: f32, s: f32| with_rng(|r| (0..n).map(|_| m + s * r.normal()).collect::<Vec<_>>());
        let data = match *self {
            Init::Zeros => vec![0.0; n],
            Init::Constant(c) => vec![c; n],
            Init::Uniform(lo, hi) => {
                with_rng(|r| (0..n).map(|_| lo + (hi - lo) * r.uniform()).collect())
            }
            Init::Normal(m, s) => normal(m, s),
            Init::XavierUniform => uniform((6.0 / (fi + fo) as f32).sqrt()),
            Init::XavierNormal => normal(0.0, (2.0 / (fi + fo) as f32).sqrt()),
            Init::KaimingUniform => uniform((6.0 / fi as f32).sqrt()),
            Init::KaimingNormal => normal(0.0, (2.0 / fi as f32).sqrt()),
            Init::TorchDefault { fan_in } => uniform(1.0 / (fan_in.max(1) as f32).sqrt()),
        };
        Tensor::from_vec(data, shape)
    }
}
