//! MUL: element-wise product with NHWC broadcasting (rank ≤ 4, as
//! [`add`](super::add)).
//!
//! int8 follows TFLite's `reference_integer_ops::Mul` (`MulElementwise`):
//!
//! ```text
//! out = clamp(MultiplyByQuantizedMultiplier((x1 + input1_offset) · (x2 + input2_offset), m, s)
//!             + output_offset, act_min, act_max)
//! ```
//!
//! with `m, s` from `input1_scale · input2_scale / output_scale`
//! ([`MulS8::new`]).

use super::util::{
    broadcast_binary, check_act_range_s8, check_broadcast, check_quant_s8, check_shift,
};
use crate::kernels::{Float, FloatClamp};
use crate::quant::{
    activation_range_s8, multiply_by_quantized_multiplier, quantize_multiplier, Activation,
};
use crate::tensor::{TensorMut, TensorView};
use crate::Error;
use half::f16;

/// Parameters of [`mul_s8`] (TFLite's `ArithmeticParams` for int8 MUL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MulS8 {
    /// `−input1_zero_point`.
    pub input1_offset: i32,
    /// `−input2_zero_point`.
    pub input2_offset: i32,
    /// The output zero point.
    pub output_offset: i32,
    /// Q31 multiplier of `input1_scale · input2_scale / output_scale`.
    pub output_multiplier: i32,
    /// Its shift, in `[-31, 30]`.
    pub output_shift: i32,
    /// Lowest output value (fused activation).
    pub act_min: i32,
    /// Highest output value (fused activation).
    pub act_max: i32,
}

impl MulS8 {
    /// The parameters TFLite's Prepare computes for an int8 MUL of inputs
    /// with `(scale, zero_point)` `input1` and `input2` into `output` with a
    /// fused `activation`: `real = s1 · s2 / s_out` in f64, quantized with
    /// [`quantize_multiplier`]; the clamp range is [`activation_range_s8`].
    ///
    /// Errors with `InvalidParameter` for a non-finite or non-positive scale
    /// or a zero point outside `[-128, 127]`.
    pub fn new(
        input1: (f32, i32),
        input2: (f32, i32),
        output: (f32, i32),
        activation: Activation,
    ) -> Result<Self, Error> {
        check_quant_s8(input1.0, input1.1)?;
        check_quant_s8(input2.0, input2.1)?;
        check_quant_s8(output.0, output.1)?;
        let real = input1.0 as f64 * input2.0 as f64 / output.0 as f64;
        let (output_multiplier, output_shift) = quantize_multiplier(real);
        let (act_min, act_max) = activation_range_s8(activation, output.0, output.1);
        Ok(MulS8 {
            input1_offset: -input1.1,
            input2_offset: -input2.1,
            output_offset: output.1,
            output_multiplier,
            output_shift,
            act_min,
            act_max,
        })
    }

    fn validate(&self) -> Result<(), Error> {
        let offset_ok = |o: i32| (-127..=128).contains(&o);
        if !offset_ok(self.input1_offset)
            || !offset_ok(self.input2_offset)
            || !(-128..=127).contains(&self.output_offset)
        {
            return Err(Error::InvalidParameter);
        }
        check_shift(self.output_shift)?;
        check_act_range_s8(self.act_min, self.act_max)
    }

    /// TFLite's `MulElementwise` on one pair of values.
    #[inline(always)]
    fn apply(&self, x1: i8, x2: i8) -> i8 {
        let product = (x1 as i32 + self.input1_offset) * (x2 as i32 + self.input2_offset);
        let v =
            multiply_by_quantized_multiplier(product, self.output_multiplier, self.output_shift)
                .wrapping_add(self.output_offset);
        v.clamp(self.act_min, self.act_max) as i8
    }
}

/// int8 element-wise multiplication with broadcasting (TFLite `MUL`).
/// Shapes as [`add_s8`](super::add_s8).
///
/// Errors: `ShapeMismatch` for shapes that do not broadcast to the output,
/// `InvalidParameter` for parameters out of range.
pub fn mul_s8(
    input1: TensorView<'_, i8>,
    input2: TensorView<'_, i8>,
    output: &mut TensorMut<'_, i8>,
    params: &MulS8,
) -> Result<(), Error> {
    check_broadcast(input1.shape(), input2.shape(), output.shape())?;
    params.validate()?;
    broadcast_binary(&input1, &input2, output, |x, y| params.apply(x, y))
}

fn mul_float<T: Float>(
    input1: TensorView<'_, T>,
    input2: TensorView<'_, T>,
    output: &mut TensorMut<'_, T>,
    clamp: FloatClamp,
) -> Result<(), Error> {
    broadcast_binary(&input1, &input2, output, |x, y| {
        T::from_f32(clamp.apply(x.to_f32() * y.to_f32()))
    })
}

/// f32 element-wise multiplication with broadcasting, clamped by `clamp`.
/// Shapes and errors as [`mul_s8`].
pub fn mul_f32(
    input1: TensorView<'_, f32>,
    input2: TensorView<'_, f32>,
    output: &mut TensorMut<'_, f32>,
    clamp: FloatClamp,
) -> Result<(), Error> {
    mul_float(input1, input2, output, clamp)
}

/// f16 element-wise multiplication with broadcasting: the product in f32,
/// clamped, rounded once to f16. Shapes and errors as [`mul_s8`].
pub fn mul_f16(
    input1: TensorView<'_, f16>,
    input2: TensorView<'_, f16>,
    output: &mut TensorMut<'_, f16>,
    clamp: FloatClamp,
) -> Result<(), Error> {
    mul_float(input1, input2, output, clamp)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::kernels::reference::util::testing::*;

    #[test]
    fn s8_matches_float_on_dequantized_values_within_one_quantum() {
        let mut rng = Rng::new(51);
        for iter in 0..2000 {
            let (da, db, dout) = random_broadcast(&mut rng);
            let (s1, s2) = (rng.scale(0.005, 0.5), rng.scale(0.005, 0.5));
            let so = (s1 as f64 * s2 as f64 * 128.0 * rng.uniform(0.3, 3.0)) as f32;
            let (z1, z2, zo) = (
                rng.range(-128, 127) as i32,
                rng.range(-128, 127) as i32,
                rng.range(-128, 127) as i32,
            );
            let act = [Activation::None, Activation::Relu, Activation::Relu6][rng.usize(0, 2)];
            let p = MulS8::new((s1, z1), (s2, z2), (so, zo), act).unwrap();
            let a = rng.vec_i8(da.iter().product());
            let b = rng.vec_i8(db.iter().product());
            let mut out = vec![0i8; dout.iter().product()];
            mul_s8(
                view(&da, &a),
                view(&db, &b),
                &mut view_mut(&dout, &mut out),
                &p,
            )
            .unwrap();
            let (ea, eb, eo) = (extend(&da), extend(&db), extend(&dout));
            let want: Vec<i32> = indices(eo)
                .iter()
                .map(|&at| {
                    let real = deq(a[broadcast_index(ea, at)], s1, z1)
                        * deq(b[broadcast_index(eb, at)], s2, z2);
                    quantize_ref(real, so as f64, zo, p.act_min, p.act_max)
                })
                .collect();
            assert_close_s8(
                &out,
                &want,
                1,
                &std::format!("case {iter}: {da:?} * {db:?} → {dout:?}"),
            );
        }
    }

    #[test]
    fn hand_checked_case_and_constructor() {
        // (5 − 1)·(−3 + 2) · (0.5 · 0.25 / 0.125 = 1.0) + 7 = 3.
        let p = MulS8::new((0.5, 1), (0.25, -2), (0.125, 7), Activation::None).unwrap();
        assert_eq!(
            (p.output_multiplier, p.output_shift),
            quantize_multiplier(1.0)
        );
        let mut out = [0i8; 2];
        mul_s8(
            view(&[2], &[5, 1]),
            view(&[1], &[-3]),
            &mut view_mut(&[2], &mut out),
            &p,
        )
        .unwrap();
        assert_eq!(out, [3, 7]);
        assert_eq!(
            MulS8::new((0.5, 1), (0.0, 0), (1.0, 0), Activation::None),
            Err(Error::InvalidParameter)
        );
    }

    fn float_matches_f64<T: Float>(seed: u64) {
        let mut rng = Rng::new(seed);
        let tol = tol_for::<T>();
        for iter in 0..300 {
            let (da, db, dout) = random_broadcast(&mut rng);
            let a: Vec<T> = vec_float(&mut rng, da.iter().product(), -4.0, 4.0);
            let b: Vec<T> = vec_float(&mut rng, db.iter().product(), -4.0, 4.0);
            let clamp = if rng.bool() {
                FloatClamp::NONE
            } else {
                FloatClamp {
                    min: -1.0,
                    max: 1.0,
                }
            };
            let mut out = vec![T::from_f32(0.0); dout.iter().product()];
            mul_float(
                view(&da, &a),
                view(&db, &b),
                &mut view_mut(&dout, &mut out),
                clamp,
            )
            .unwrap();
            let (ea, eb, eo) = (extend(&da), extend(&db), extend(&dout));
            let (aw, bw) = (widen(&a), widen(&b));
            let mut want = Vec::new();
            let mut tols = Vec::new();
            for at in indices(eo) {
                let r = (aw[broadcast_index(ea, at)] * bw[broadcast_index(eb, at)])
                    .clamp(clamp.min as f64, clamp.max as f64);
                want.push(r);
                tols.push(tol(r.abs(), r));
            }
            assert_close_f(&widen(&out), &want, &tols, &std::format!("case {iter}"));
        }
    }

    #[test]
    fn f32_matches_f64_reference() {
        float_matches_f64::<f32>(52);
    }

    #[test]
    fn f16_matches_f64_reference() {
        float_matches_f64::<f16>(53);
    }

    #[test]
    fn public_float_wrappers_broadcast() {
        let x = [1.0f32, 2.0, 3.0, 4.0];
        let mut out = [0f32; 4];
        mul_f32(
            view(&[2, 2], &x),
            view(&[2, 1], &[10.0, -1.0]),
            &mut view_mut(&[2, 2], &mut out),
            FloatClamp::NONE,
        )
        .unwrap();
        assert_eq!(out, [10.0, 20.0, -3.0, -4.0]);
        let xh = x.map(f16::from_f32);
        let mut oh = [f16::ZERO; 4];
        mul_f16(
            view(&[2, 2], &xh),
            view(&[1], &[f16::from_f32(2.0)]),
            &mut view_mut(&[2, 2], &mut oh),
            FloatClamp { min: 0.0, max: 6.0 },
        )
        .unwrap();
        assert_eq!(oh.map(|v| v.to_f32()), [2.0, 4.0, 6.0, 6.0]);
    }

    #[test]
    fn bad_arguments_are_errors_not_panics() {
        let p = MulS8::new((0.5, 0), (0.5, 0), (1.0, 0), Activation::None).unwrap();
        let a = [0i8; 6];
        let mut o = [0i8; 6];
        let mut run = |da: &[usize], db: &[usize], p: &MulS8| {
            mul_s8(
                view(da, &a[..da.iter().product::<usize>()]),
                view(db, &a[..db.iter().product::<usize>()]),
                &mut view_mut(&[2, 3], &mut o),
                p,
            )
        };
        assert_eq!(run(&[2, 3], &[2, 1], &p), Ok(()));
        assert_eq!(run(&[2, 3], &[2], &p), Err(Error::ShapeMismatch));
        assert_eq!(run(&[3, 2], &[1], &p), Err(Error::ShapeMismatch));
        assert_eq!(
            run(
                &[2, 3],
                &[1],
                &MulS8 {
                    output_shift: -32,
                    ..p
                }
            ),
            Err(Error::InvalidParameter)
        );
        assert_eq!(
            run(
                &[2, 3],
                &[1],
                &MulS8 {
                    input2_offset: 129,
                    ..p
                }
            ),
            Err(Error::InvalidParameter)
        );
        assert_eq!(
            run(
                &[2, 3],
                &[1],
                &MulS8 {
                    act_min: 1,
                    act_max: 0,
                    ..p
                }
            ),
            Err(Error::InvalidParameter)
        );
    }
}
