//! Float element-wise activations: ReLU, ReLU6, leaky ReLU, logistic
//! sigmoid and tanh, out of place and in place.
//!
//! Each is written once over [`Float`] (values widened to f32, the result
//! rounded once to the storage type) with `_f32` / `_f16` wrappers. The
//! sigmoid and tanh use this module's deterministic `exp` (IEEE basic
//! operations only), accurate to a few f32 ulp and identical on every
//! target. (int8 activations are lookup tables: see [`lut`](super::lut).)
//!
//! - `relu(x) = max(x, 0)`, `relu6(x) = min(max(x, 0), 6)`;
//! - `leaky_relu(x) = x > 0 ? x : alpha · x` (TFLite's definition);
//! - `sigmoid(x) = 1 / (1 + e^−x)`, `tanh(x)`.

use super::math;
use super::util::check_len;
use crate::kernels::Float;
use crate::Error;
use half::f16;

fn map<T: Float>(input: &[T], output: &mut [T], f: impl Fn(f32) -> f32) -> Result<(), Error> {
    check_len(input.len(), output.len())?;
    for (o, &x) in output.iter_mut().zip(input) {
        *o = T::from_f32(f(x.to_f32()));
    }
    Ok(())
}

fn map_inplace<T: Float>(data: &mut [T], f: impl Fn(f32) -> f32) {
    for x in data.iter_mut() {
        *x = T::from_f32(f(x.to_f32()));
    }
}

#[inline(always)]
fn relu(x: f32) -> f32 {
    if x > 0.0 {
        x
    } else {
        0.0
    }
}

#[inline(always)]
fn relu6(x: f32) -> f32 {
    if x > 6.0 {
        6.0
    } else {
        relu(x)
    }
}

#[inline(always)]
fn leaky_relu(x: f32, alpha: f32) -> f32 {
    if x > 0.0 {
        x
    } else {
        alpha * x
    }
}

macro_rules! activation {
    ($t:ty, $name:ident, $inplace:ident, $f:expr, $what:literal) => {
        #[doc = concat!("`output[i] = ", $what, "(input[i])` on `", stringify!($t), "`.")]
        ///
        /// Errors with `LengthMismatch` when the slices differ in length.
        pub fn $name(input: &[$t], output: &mut [$t]) -> Result<(), Error> {
            map(input, output, $f)
        }

        #[doc = concat!("`data[i] = ", $what, "(data[i])` in place on `", stringify!($t), "`.")]
        pub fn $inplace(data: &mut [$t]) {
            map_inplace(data, $f)
        }
    };
}

activation!(f32, relu_f32, relu_f32_inplace, relu, "relu");
activation!(f16, relu_f16, relu_f16_inplace, relu, "relu");
activation!(f32, relu6_f32, relu6_f32_inplace, relu6, "relu6");
activation!(f16, relu6_f16, relu6_f16_inplace, relu6, "relu6");
activation!(
    f32,
    sigmoid_f32,
    sigmoid_f32_inplace,
    math::sigmoid_f32,
    "sigmoid"
);
activation!(
    f16,
    sigmoid_f16,
    sigmoid_f16_inplace,
    math::sigmoid_f32,
    "sigmoid"
);
activation!(f32, tanh_f32, tanh_f32_inplace, math::tanh_f32, "tanh");
activation!(f16, tanh_f16, tanh_f16_inplace, math::tanh_f32, "tanh");

/// `output[i] = input[i] > 0 ? input[i] : alpha · input[i]` on `f32`.
///
/// Errors with `LengthMismatch` when the slices differ in length.
pub fn leaky_relu_f32(input: &[f32], output: &mut [f32], alpha: f32) -> Result<(), Error> {
    map(input, output, |x| leaky_relu(x, alpha))
}

/// Leaky ReLU in place on `f32`.
pub fn leaky_relu_f32_inplace(data: &mut [f32], alpha: f32) {
    map_inplace(data, |x| leaky_relu(x, alpha))
}

/// `output[i] = input[i] > 0 ? input[i] : alpha · input[i]` on `f16`
/// (computed in f32).
///
/// Errors with `LengthMismatch` when the slices differ in length.
pub fn leaky_relu_f16(input: &[f16], output: &mut [f16], alpha: f32) -> Result<(), Error> {
    map(input, output, |x| leaky_relu(x, alpha))
}

/// Leaky ReLU in place on `f16`.
pub fn leaky_relu_f16_inplace(data: &mut [f16], alpha: f32) {
    map_inplace(data, |x| leaky_relu(x, alpha))
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::kernels::reference::util::testing::*;

    type OutOfPlace<T> = fn(&[T], &mut [T]) -> Result<(), Error>;
    type InPlace<T> = fn(&mut [T]);

    /// Checks one activation against its f64 definition on random inputs
    /// in `[-12, 12]` plus special values: `|got − want| ≤ rel·|want| + abs`,
    /// and the in-place variant gives the same bits.
    fn check<T: Float>(
        f: OutOfPlace<T>,
        g: InPlace<T>,
        reference: fn(f64) -> f64,
        rel: f64,
        abs: f64,
        seed: u64,
    ) {
        let mut rng = Rng::new(seed);
        let mut x: Vec<T> = vec_float(&mut rng, 2000, -12.0, 12.0);
        for v in [0.0f32, -0.0, 6.0, 1e-6, -1e-6, 100.0, -100.0] {
            x.push(T::from_f32(v));
        }
        let mut out = vec![T::from_f32(0.0); x.len()];
        f(&x, &mut out).unwrap();
        let want: Vec<f64> = widen(&x).iter().map(|&v| reference(v)).collect();
        let tols: Vec<f64> = want.iter().map(|w| rel * w.abs() + abs).collect();
        assert_close_f(&widen(&out), &want, &tols, "activation");
        let mut data = x.clone();
        g(&mut data);
        assert_eq!(data, out);
        assert_eq!(
            f(&x, &mut out[1..]),
            Err(Error::LengthMismatch {
                expected: x.len(),
                got: x.len() - 1
            })
        );
    }

    fn sigmoid64(x: f64) -> f64 {
        1.0 / (1.0 + (-x).exp())
    }

    // Tolerances: relu/relu6 are exact; f32 sigmoid 1e-6 relative, tanh
    // 2e-6 relative (+1e-9 absolute); f16 adds the final rounding to f16,
    // 2⁻¹¹ relative (we allow 1e-3) and 1e-7 absolute (subnormals).
    #[test]
    fn f32_activations_match_f64_definitions() {
        check::<f32>(relu_f32, relu_f32_inplace, |x| x.max(0.0), 0.0, 0.0, 71);
        check::<f32>(
            relu6_f32,
            relu6_f32_inplace,
            |x| x.clamp(0.0, 6.0),
            0.0,
            0.0,
            72,
        );
        check::<f32>(sigmoid_f32, sigmoid_f32_inplace, sigmoid64, 1e-6, 1e-30, 73);
        check::<f32>(tanh_f32, tanh_f32_inplace, f64::tanh, 2e-6, 1e-9, 74);
    }

    #[test]
    fn f16_activations_match_f64_definitions() {
        check::<f16>(relu_f16, relu_f16_inplace, |x| x.max(0.0), 0.0, 0.0, 75);
        check::<f16>(
            relu6_f16,
            relu6_f16_inplace,
            |x| x.clamp(0.0, 6.0),
            0.0,
            0.0,
            76,
        );
        check::<f16>(sigmoid_f16, sigmoid_f16_inplace, sigmoid64, 1e-3, 1e-7, 77);
        check::<f16>(tanh_f16, tanh_f16_inplace, f64::tanh, 1e-3, 1e-7, 78);
    }

    #[test]
    fn leaky_relu_scales_only_negative_values() {
        let x = [-2.0f32, -0.5, 0.0, 3.0];
        let mut out = [0f32; 4];
        leaky_relu_f32(&x, &mut out, 0.1).unwrap();
        assert_eq!(out, [-0.2, -0.05, 0.0, 3.0]);
        let mut d = x;
        leaky_relu_f32_inplace(&mut d, 0.1);
        assert_eq!(d, out);
        let xh = x.map(f16::from_f32);
        let mut oh = [f16::ZERO; 4];
        leaky_relu_f16(&xh, &mut oh, 0.5).unwrap();
        assert_eq!(oh.map(|v| v.to_f32()), [-1.0, -0.25, 0.0, 3.0]);
        let mut dh = xh;
        leaky_relu_f16_inplace(&mut dh, 0.5);
        assert_eq!(dh, oh);
        assert!(leaky_relu_f16(&xh, &mut oh[..3], 0.5).is_err());
        assert!(leaky_relu_f32(&x, &mut out[..1], 0.5).is_err());
    }
}
