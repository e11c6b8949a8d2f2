//! Define-by-run reverse-mode automatic differentiation (feature `std`), in
//! the spirit of micrograd and teenygrad: readable in one sitting.
//!
//! * [`tensor`]: the host [`Tensor`] (f32, any rank, contiguous row-major).
//! * [`tape`]: [`backward`](Tensor::backward), [`no_grad`].
//! * [`ops`]: every differentiable op, forward above backward, by family.
//! * [`mod@gradcheck`]: central finite differences, used by every op test.
//! * [`rng`]: the seedable generator behind every random draw.
//!
//! ```
//! use edgegrad::autograd::{no_grad, Tensor};
//! let w = Tensor::from_vec(vec![0.5, -1.0], &[1, 2]).requires_grad_(true);
//! let x = Tensor::from_vec(vec![2.0, 3.0], &[1, 2]);
//! let loss = x.mul(&w).sum_all().pow(2.0); // (Σ x⊙w)² = (1 − 3)² = 4
//! loss.backward();
//! assert_eq!(w.grad().unwrap(), vec![-8.0, -12.0]); // 2·(−2)·x
//! let y = no_grad(|| x.mul(&w)); // not recorded
//! assert!(!y.requires_grad());
//! ```
//!
//! # Layout: channels-last (NHWC)
//!
//! Images are `[batch, height, width, channels]`, sequences
//! `[batch, length, channels]`, and convolution filters are OHWI
//! (`[out, kh, kw, in/groups]`) / OWI — exactly the device's layouts, so the
//! exporter copies weights as they are. Channels-last also suits im2col
//! (a patch is a few contiguous channel runs and the product lands in NHWC
//! without a transpose), and it lets one BatchNorm normalise "the last axis"
//! for 1-D and 2-D alike. Fully-connected weights are `[out, in]` as in
//! PyTorch and TFLite. A PyTorch `Conv2d` weight (OIHW) maps to ours by
//! `permute([0, 2, 3, 1])`.
//!
//! # Errors: panics for shapes, `Result` for the outside world
//!
//! Like PyTorch raising, a shape mismatch in a tensor op is a programmer
//! error and panics with a message naming the op and both shapes; the
//! entry points that touch data from outside (files, checkpoints, `fit`)
//! return `Result<_, TrainError>` instead.
//!
//! # Semantics worth knowing
//!
//! Gradients accumulate in leaves across `backward` calls until
//! [`Tensor::zero_grad`]; only leaves keep a gradient. `detach` copies.
//! Backward functions work on plain slices, so there are no
//! gradients of gradients.

pub mod gradcheck;
pub mod ops;
pub mod rng;
pub mod tape;
pub mod tensor;

pub use gradcheck::{gradcheck, gradcheck_with, GradCheckConfig};
pub use ops::{conv_out_len, same_padding, Conv2dParams, Pool2dParams};
pub use rng::{manual_seed, with_rng, Rng};
pub use tape::{is_grad_enabled, no_grad, NoGradGuard};
pub use tensor::Tensor;
