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
//! ```
//! use edgegrad::kernels::{reference::*, RequantS8};
//! use edgegrad::quant::quantize_multiplier;
//! use edgegrad::tensor::{Shape, TensorMut, TensorView};
//!
//! // A 1×3 int8 input (zero point 1) through a 2×3 fully connected layer.
//! let x = [11i8, 21, -9];
//! let w = [1i8, 0, -1, 2, 2, 2];
//! let (m, s) = quantize_multiplier(0.5); // input_scale × weight_scale / output_scale
//! let q = RequantS8 {
//!     input_zero_point: 1,
//!     output_zero_point: 0,
//!     multipliers: &[m],
//!     shifts: &[s],
//!     act_min: -128,
//!     act_max: 127,
//! };
//! let mut y = [0i8; 2];
//! fully_connected_s8(
//!     TensorView::new(Shape::new(&[1, 3])?, &x)?,
//!     TensorView::new(Shape::new(&[2, 3])?, &w)?,
//!     Some(&[0, 10]),
//!     &mut TensorMut::new(Shape::new(&[1, 2])?, &mut y)?,
//!     &q,
//! )?;
//! // (10 − (−10)) · 0.5 = 10;  (2·(10 + 20 − 10) + 10) · 0.5 = 25
//! assert_eq!(y, [10, 25]);
//!
//! // Then a softmax over the two logits (input scale 0.1).
//! let mut p = [0i8; 2];
//! softmax_s8(
//!     TensorView::new(Shape::new(&[1, 2])?, &y)?,
//!     &mut TensorMut::new(Shape::new(&[1, 2])?, &mut p)?,
//!     &SoftmaxS8::new(0.1, 1.0)?,
//! )?;
//! // 1/(1 + e^1.5) = 0.182 → 46.7 − 128 ≈ −81;  e^1.5/(1 + e^1.5) = 0.818 → 209.3 − 128 ≈ 81
//! assert_eq!(p, [-81, 81]);
//! # Ok::<(), edgegrad::Error>(())
//! ```
//!
//! [`TensorView`]: crate::tensor::TensorView
//! [`TensorMut`]: crate::tensor::TensorMut

mod gemmlowp;
mod math;
pub(crate) mod util;

pub mod activation;
pub mod add;
pub mod concatenation;
pub mod conv2d;
pub mod copy;
pub mod depthwise_conv2d;
pub mod fully_connected;
pub mod gru;
pub mod lstm;
pub mod lut;
pub mod mul;
pub mod pad;
pub mod pooling;
pub mod quantize;
pub mod softmax;
pub mod strided_slice;

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
pub use gru::{gru_f16, gru_f32, GruWeights};
pub use lstm::{lstm_f16, lstm_f32, lstm_s8, LstmS8, LstmWeights, LstmWeightsS8, RecurrentDims};
pub use lut::{
    float_table_s8, leaky_relu_table_s8, lut_index, lut_s8, lut_s8_inplace, relu_table_s8,
    sigmoid_table_s8, tanh_table_s8, tflm_relu6_table_s8, tflm_sigmoid_table_s8,
    tflm_tanh_table_s8,
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
pub use strided_slice::{strided_slice, SliceWindow};

/// Arbitrary shapes and parameters never make a kernel panic: each call
/// returns `Ok` or `Err`.
#[cfg(test)]
mod robustness {
    extern crate std;
    use super::util::testing::*;
    use super::*;
    use crate::kernels::{FloatClamp, RequantS8, Window2d};
    use crate::tensor::{Shape, TensorMut, TensorView};

    /// Random dims of rank 0–4 with sizes 0–4 and the data to go with them.
    fn random_dims(rng: &mut Rng) -> Vec<usize> {
        let rank = rng.usize(0, 4);
        (0..rank).map(|_| rng.usize(0, 4)).collect()
    }

    fn any_usize(rng: &mut Rng) -> usize {
        match rng.usize(0, 5) {
            0 => 0,
            1 => usize::MAX,
            2 => usize::MAX / 3,
            _ => rng.usize(1, 4),
        }
    }

    fn random_window(rng: &mut Rng) -> Window2d {
        Window2d {
            kernel_h: any_usize(rng),
            kernel_w: any_usize(rng),
            stride_h: any_usize(rng),
            stride_w: any_usize(rng),
            dilation_h: any_usize(rng),
            dilation_w: any_usize(rng),
            pad_top: any_usize(rng),
            pad_left: any_usize(rng),
        }
    }

    #[test]
    fn shaped_kernels_never_panic_on_arbitrary_arguments() {
        let mut rng = Rng::new(0xBAD);
        let buf = [1i8; 256];
        let fbuf = [0.5f32; 256];
        let mut out = [0i8; 256];
        let mut fout = [0f32; 256];
        for _ in 0..3000 {
            let (di, df, d_o) = (
                random_dims(&mut rng),
                random_dims(&mut rng),
                random_dims(&mut rng),
            );
            let n = |d: &[usize]| d.iter().product::<usize>();
            let x = TensorView::new(Shape::new(&di).unwrap(), &buf[..n(&di)]).unwrap();
            let f = TensorView::new(Shape::new(&df).unwrap(), &buf[..n(&df)]).unwrap();
            let xf = TensorView::new(Shape::new(&di).unwrap(), &fbuf[..n(&di)]).unwrap();
            let ff = TensorView::new(Shape::new(&df).unwrap(), &fbuf[..n(&df)]).unwrap();
            let mut o = TensorMut::new(Shape::new(&d_o).unwrap(), &mut out[..n(&d_o)]).unwrap();
            let mut of = TensorMut::new(Shape::new(&d_o).unwrap(), &mut fout[..n(&d_o)]).unwrap();
            let w = random_window(&mut rng);
            let channels = rng.usize(1, 4);
            let mults = [1 << 30, 1 << 30, 1 << 30, 1 << 30];
            let shifts = [rng.range(-31, 30) as i32; 4];
            let q = RequantS8 {
                input_zero_point: rng.range(-128, 127) as i32,
                output_zero_point: rng.range(-128, 127) as i32,
                multipliers: &mults[..channels],
                shifts: &shifts[..channels],
                act_min: -128,
                act_max: 127,
            };
            let bias = [7i32; 4];
            let fb = [0.25f32; 4];
            let b = (rng.bool()).then_some(&bias[..rng.usize(0, 4)]);
            let bf = (rng.bool()).then_some(&fb[..rng.usize(0, 4)]);
            let mult = any_usize(&mut rng);
            let _ = conv2d_s8(x, f, b, &mut o, &w, &q);
            let _ = conv2d_f32(xf, ff, bf, &mut of, &w, FloatClamp::NONE);
            let _ = depthwise_conv2d_s8(x, f, b, &mut o, &w, mult, &q);
            let _ = depthwise_conv2d_f32(xf, ff, bf, &mut of, &w, mult, FloatClamp::NONE);
            let _ = fully_connected_s8(x, f, b, &mut o, &q);
            let _ = fully_connected_f32(xf, ff, bf, &mut of, FloatClamp::NONE);
            let _ = max_pool2d_s8(x, &mut o, &w, -128, 127);
            let _ = avg_pool2d_s8(x, &mut o, &w, -128, 127);
            let _ = avg_pool2d_f32(xf, &mut of, &w, FloatClamp::NONE);
            let gp = GlobalAvgPoolS8 {
                input_zero_point: 0,
                output_zero_point: 0,
                multiplier: i32::MAX,
                shift: 30,
            };
            let _ = global_avg_pool_s8(x, &mut o, &gp);
            let _ = global_avg_pool_f32(xf, &mut of);
            let ap = AddS8::new(
                (0.1, 0),
                (0.2, 3),
                (0.3, -1),
                crate::quant::Activation::None,
            )
            .unwrap();
            let _ = add_s8(x, f, &mut o, &ap);
            let _ = add_f32(xf, ff, &mut of, FloatClamp::NONE);
            let mp = MulS8 {
                input1_offset: 128,
                input2_offset: 128,
                output_offset: 0,
                output_multiplier: i32::MAX,
                output_shift: 30,
                act_min: -128,
                act_max: 127,
            };
            let _ = mul_s8(x, f, &mut o, &mp);
            let _ = mul_f32(xf, ff, &mut of, FloatClamp::NONE);
            let sp = SoftmaxS8::new(rng.scale(0.001, 10.0), 1.0).unwrap_or(SoftmaxS8 {
                input_beta_multiplier: i32::MAX,
                input_beta_left_shift: 30,
                diff_min: i32::MIN,
            });
            let _ = softmax_s8(x, &mut o, &sp);
            let _ = softmax_f32(xf, &mut of, 1.0);
            let axis = any_usize(&mut rng);
            let _ = concat_into(x, axis, any_usize(&mut rng), &mut o);
            let _ = concatenation(&[x, f], axis, &mut o);
            let sw = SliceWindow {
                begin: [0; 4].map(|_| any_usize(&mut rng)),
                stride: [0; 4].map(|_| [-2, -1, 0, 1, 2, i32::MIN, i32::MAX][rng.usize(0, 6)]),
                count: [0; 4].map(|_| any_usize(&mut rng)),
            };
            let _ = strided_slice(x, o.data_mut(), &sw);
            let pads = [
                any_usize(&mut rng),
                any_usize(&mut rng),
                any_usize(&mut rng),
                any_usize(&mut rng),
            ];
            let _ = pad(x, &mut o, pads, 0);
            let _ = reshape(x, &mut o);
        }
    }
}
