//! ADD: element-wise sum with NHWC broadcasting (rank ≤ 4; shapes are
//! left-extended to rank 4 and each dimension of an input equals the
//! output's or is 1).
//!
//! int8 follows TFLite's `reference_integer_ops::Add` (`AddFunc`): both
//! inputs are brought to a common scale at high precision before the sum,
//!
//! ```text
//! a  = (x1 + input1_offset) << left_shift          (left_shift = 20)
//! b  = (x2 + input2_offset) << left_shift
//! a' = MultiplyByQuantizedMultiplierSmallerThanOneExp(a, m1, s1)
//! b' = MultiplyByQuantizedMultiplierSmallerThanOneExp(b, m2, s2)
//! out = clamp(MultiplyByQuantizedMultiplierSmallerThanOneExp(a' + b', m_out, s_out) + output_offset,
//!             act_min, act_max)
//! ```
//!
//! (`…SmallerThanOneExp` with a shift ≤ 0 is exactly
//! [`multiply_by_quantized_multiplier`]), with the multipliers of
//! [`AddS8::new`].

use super::util::{broadcast_binary, check_act_range_s8, check_broadcast, check_quant_s8};
use crate::kernels::{Float, FloatClamp};
use crate::quant::{
    activation_range_s8, multiply_by_quantized_multiplier, quantize_multiplier, Activation,
    MIN_SHIFT,
};
use crate::tensor::{TensorMut, TensorView};
use crate::Error;
use half::f16;

/// Parameters of [`add_s8`] (TFLite's `ArithmeticParams` for int8 ADD).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AddS8 {
    /// `−input1_zero_point`.
    pub input1_offset: i32,
    /// `−input2_zero_point`.
    pub input2_offset: i32,
    /// The output zero point.
    pub output_offset: i32,
    /// Headroom shift applied to both inputs (20 for int8), in `0..=20`.
    pub left_shift: i32,
    /// Q31 multiplier of input 1 (`input1_scale / (2 · max_input_scale)`).
    pub input1_multiplier: i32,
    /// Its shift, in `[-31, 0]`.
    pub input1_shift: i32,
    /// Q31 multiplier of input 2.
    pub input2_multiplier: i32,
    /// Its shift, in `[-31, 0]`.
    pub input2_shift: i32,
    /// Q31 multiplier of the sum (`2 · max_input_scale / (2^left_shift · output_scale)`).
    pub output_multiplier: i32,
    /// Its shift, in `[-31, 0]`.
    pub output_shift: i32,
    /// Lowest output value (fused activation).
    pub act_min: i32,
    /// Highest output value (fused activation).
    pub act_max: i32,
}

/// TFLite's `QuantizeMultiplierSmallerThanOneExp`: a multiplier in `(0, 1)`
/// whose shift is ≤ 0.
pub(crate) fn quantize_multiplier_smaller_than_one(real: f64) -> Result<(i32, i32), Error> {
    if !(real > 0.0 && real < 1.0) {
        return Err(Error::InvalidParameter);
    }
    let (m, s) = quantize_multiplier(real);
    if s > 0 {
        // The mantissa rounded up to 1.0.
        return Err(Error::InvalidParameter);
    }
    Ok((m, s))
}

impl AddS8 {
    /// The parameters TFLite's Prepare computes for an int8 ADD of inputs
    /// with `(scale, zero_point)` `input1` and `input2` into `output`, with
    /// a fused `activation`:
    ///
    /// - `left_shift = 20`;
    /// - `twice_max_input_scale = 2 · max(s1, s2)` (in f64);
    /// - `real_input_i = s_i / twice_max_input_scale`;
    /// - `real_output = twice_max_input_scale / (2^20 · s_out)`;
    ///
    /// each quantized with `QuantizeMultiplierSmallerThanOneExp`; the clamp
    /// range is [`activation_range_s8`].
    ///
    /// Errors with `InvalidParameter` for a non-finite or non-positive
    /// scale, a zero point outside `[-128, 127]`, or an output scale so
    /// small that `real_output ≥ 1` (`s_out ≤ 2·max(s1, s2) / 2^20`).
    pub fn new(
        input1: (f32, i32),
        input2: (f32, i32),
        output: (f32, i32),
        activation: Activation,
    ) -> Result<Self, Error> {
        check_quant_s8(input1.0, input1.1)?;
        check_quant_s8(input2.0, input2.1)?;
        check_quant_s8(output.0, output.1)?;
        let left_shift = 20;
        let twice_max_input_scale = 2.0 * input1.0.max(input2.0) as f64;
        let (m1, s1) =
            quantize_multiplier_smaller_than_one(input1.0 as f64 / twice_max_input_scale)?;
        let (m2, s2) =
            quantize_multiplier_smaller_than_one(input2.0 as f64 / twice_max_input_scale)?;
        let (mo, so) = quantize_multiplier_smaller_than_one(
            twice_max_input_scale / ((1 << left_shift) as f64 * output.0 as f64),
        )?;
        let (act_min, act_max) = activation_range_s8(activation, output.0, output.1);
        Ok(AddS8 {
            input1_offset: -input1.1,
            input2_offset: -input2.1,
            output_offset: output.1,
            left_shift,
            input1_multiplier: m1,
            input1_shift: s1,
            input2_multiplier: m2,
            input2_shift: s2,
            output_multiplier: mo,
            output_shift: so,
            act_min,
            act_max,
        })
    }

    fn validate(&self) -> Result<(), Error> {
        let offset_ok = |o: i32| (-127..=128).contains(&o);
        let shift_ok = |s: i32| (MIN_SHIFT..=0).contains(&s);
        if !offset_ok(self.input1_offset)
            || !offset_ok(self.input2_offset)
            || !(-128..=127).contains(&self.output_offset)
            || !(0..=20).contains(&self.left_shift)
            || !shift_ok(self.input1_shift)
            || !shift_ok(self.input2_shift)
            || !shift_ok(self.output_shift)
        {
            return Err(Error::InvalidParameter);
        }
        check_act_range_s8(self.act_min, self.act_max)
    }

    /// TFLite's `AddFunc` on one pair of values.
    #[inline(always)]
    fn apply(&self, x1: i8, x2: i8) -> i8 {
        let shifted1 = (x1 as i32 + self.input1_offset) * (1 << self.left_shift);
        let shifted2 = (x2 as i32 + self.input2_offset) * (1 << self.left_shift);
        let scaled1 =
            multiply_by_quantized_multiplier(shifted1, self.input1_multiplier, self.input1_shift);
        let scaled2 =
            multiply_by_quantized_multiplier(shifted2, self.input2_multiplier, self.input2_shift);
        let raw_sum = scaled1.wrapping_add(scaled2);
        let raw_output =
            multiply_by_quantized_multiplier(raw_sum, self.output_multiplier, self.output_shift)
                .wrapping_add(self.output_offset);
        raw_output.clamp(self.act_min, self.act_max) as i8
    }
}

/// int8 element-wise addition with broadcasting (TFLite `ADD`).
///
/// `input1`, `input2` and `output` have rank ≤ 4; after left-extension to
/// rank 4 each output dimension is the larger of the inputs' and each input
/// dimension equals it or is 1.
///
/// Errors: `ShapeMismatch` for shapes that do not broadcast to the output,
/// `InvalidParameter` for parameters out of range.
pub fn add_s8(
    input1: TensorView<'_, i8>,
    input2: TensorView<'_, i8>,
    output: &mut TensorMut<'_, i8>,
    params: &AddS8,
) -> Result<(), Error> {
    check_broadcast(input1.shape(), input2.shape(), output.shape())?;
    params.validate()?;
    broadcast_binary(&input1, &input2, output, |x, y| params.apply(x, y))
}

fn add_float<T: Float>(
    input1: TensorView<'_, T>,
    input2: TensorView<'_, T>,
    output: &mut TensorMut<'_, T>,
    clamp: FloatClamp,
) -> Result<(), Error> {
    broadcast_binary(&input1, &input2, output, |x, y| {
        T::from_f32(clamp.apply(x.to_f32() + y.to_f32()))
    })
}

/// f32 element-wise addition with broadcasting, clamped by `clamp`.
/// Shapes and errors as [`add_s8`].
pub fn add_f32(
    input1: TensorView<'_, f32>,
    input2: TensorView<'_, f32>,
    output: &mut TensorMut<'_, f32>,
    clamp: FloatClamp,
) -> Result<(), Error> {
    add_float(input1, input2, output, clamp)
}

/// f16 element-wise addition with broadcasting: the sum in f32, clamped,
/// rounded once to f16. Shapes and errors as [`add_s8`].
pub fn add_f16(
    input1: TensorView<'_, f16>,
    input2: TensorView<'_, f16>,
    output: &mut TensorMut<'_, f16>,
    clamp: FloatClamp,
) -> Result<(), Error> {
    add_float(input1, input2, output, clamp)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::kernels::reference::util::testing::*;

    fn random_act(rng: &mut Rng) -> Activation {
        [
            Activation::None,
            Activation::Relu,
            Activation::Relu6,
            Activation::ReluN1To1,
        ][rng.usize(0, 3)]
    }

    #[test]
    fn s8_matches_float_on_dequantized_values_within_one_quantum() {
        let mut rng = Rng::new(41);
        for iter in 0..2000 {
            let (da, db, dout) = random_broadcast(&mut rng);
            let s1 = rng.scale(0.005, 0.5);
            let s2 = if rng.bool() {
                s1
            } else {
                rng.scale(0.005, 0.5)
            };
            let so = (s1.max(s2) as f64 * rng.uniform(0.5, 4.0)) as f32;
            let (z1, z2, zo) = (
                rng.range(-128, 127) as i32,
                rng.range(-128, 127) as i32,
                rng.range(-128, 127) as i32,
            );
            let act = random_act(&mut rng);
            let p = AddS8::new((s1, z1), (s2, z2), (so, zo), act).unwrap();
            let a = rng.vec_i8(da.iter().product());
            let b = rng.vec_i8(db.iter().product());
            let mut out = vec![0i8; dout.iter().product()];
            add_s8(
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
                        + deq(b[broadcast_index(eb, at)], s2, z2);
                    quantize_ref(real, so as f64, zo, p.act_min, p.act_max)
                })
                .collect();
            assert_close_s8(
                &out,
                &want,
                1,
                &std::format!("case {iter}: {da:?} + {db:?} → {dout:?}"),
            );
        }
    }

    #[test]
    fn constructor_computes_tflite_prepare_multipliers() {
        // s1 = 0.5, s2 = 0.25 → twice_max = 1.0: real1 = 0.5, real2 = 0.25,
        // real_out = 1 / (2^20 · 0.125) = 2^-17.
        let p = AddS8::new((0.5, 1), (0.25, -2), (0.125, 3), Activation::None).unwrap();
        assert_eq!((p.input1_multiplier, p.input1_shift), (1 << 30, 0));
        assert_eq!((p.input2_multiplier, p.input2_shift), (1 << 30, -1));
        assert_eq!((p.output_multiplier, p.output_shift), (1 << 30, -16));
        assert_eq!(
            (p.input1_offset, p.input2_offset, p.output_offset),
            (-1, 2, 3)
        );
        assert_eq!((p.left_shift, p.act_min, p.act_max), (20, -128, 127));
        // (3 − 1)·0.5 + (6 + 2)·0.25 = 3.0 → 3 / 0.125 + 3 = 27.
        let mut out = [0i8];
        add_s8(
            view(&[1], &[3]),
            view(&[1], &[6]),
            &mut view_mut(&[1], &mut out),
            &p,
        )
        .unwrap();
        assert_eq!(out, [27]);
        let relu = AddS8::new((0.5, 1), (0.25, -2), (0.125, 3), Activation::Relu).unwrap();
        assert_eq!((relu.act_min, relu.act_max), (3, 127));
        // An output scale too small for the 2^20 headroom.
        assert_eq!(
            AddS8::new((1.0, 0), (1.0, 0), (1e-6, 0), Activation::None),
            Err(Error::InvalidParameter)
        );
        assert_eq!(
            AddS8::new((1.0, 0), (-1.0, 0), (1.0, 0), Activation::None),
            Err(Error::InvalidParameter)
        );
        assert_eq!(
            AddS8::new((1.0, 0), (1.0, 128), (1.0, 0), Activation::None),
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
                FloatClamp { min: 0.0, max: 6.0 }
            };
            let mut out = vec![T::from_f32(0.0); dout.iter().product()];
            add_float(
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
                let (x, y) = (aw[broadcast_index(ea, at)], bw[broadcast_index(eb, at)]);
                let r = (x + y).clamp(clamp.min as f64, clamp.max as f64);
                want.push(r);
                tols.push(tol(x.abs() + y.abs(), r));
            }
            assert_close_f(&widen(&out), &want, &tols, &std::format!("case {iter}"));
        }
    }

    #[test]
    fn f32_matches_f64_reference() {
        float_matches_f64::<f32>(42);
    }

    #[test]
    fn f16_matches_f64_reference() {
        float_matches_f64::<f16>(43);
    }

    #[test]
    fn broadcasting_adds_a_per_channel_vector() {
        let x = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        let v = [10.0f32, 20.0, 30.0];
        let mut out = [0f32; 6];
        add_f32(
            view(&[1, 2, 3], &x),
            view(&[3], &v),
            &mut view_mut(&[1, 2, 3], &mut out),
            FloatClamp::NONE,
        )
        .unwrap();
        assert_eq!(out, [11.0, 22.0, 33.0, 14.0, 25.0, 36.0]);
        let xh = x.map(f16::from_f32);
        let vh = [f16::from_f32(-1.0)];
        let mut oh = [f16::ZERO; 6];
        add_f16(
            view(&[2, 3], &xh),
            view(&[1, 1], &vh),
            &mut view_mut(&[2, 3], &mut oh),
            FloatClamp { min: 0.0, max: 4.0 },
        )
        .unwrap();
        assert_eq!(oh.map(|v| v.to_f32()), [0.0, 1.0, 2.0, 3.0, 4.0, 4.0]);
    }

    #[test]
    fn bad_arguments_are_errors_not_panics() {
        let p = AddS8::new((0.5, 0), (0.5, 0), (1.0, 0), Activation::None).unwrap();
        let a = [0i8; 6];
        let mut o = [0i8; 12];
        let mut run = |da: &[usize], db: &[usize], dout: &[usize], p: &AddS8| {
            add_s8(
                view(da, &a[..da.iter().product::<usize>()]),
                view(db, &a[..db.iter().product::<usize>()]),
                &mut view_mut(dout, &mut o[..dout.iter().product::<usize>()]),
                p,
            )
        };
        assert_eq!(run(&[2, 3], &[3], &[2, 3], &p), Ok(()));
        assert_eq!(run(&[2, 3], &[2], &[2, 3], &p), Err(Error::ShapeMismatch));
        assert_eq!(run(&[2, 3], &[3], &[3, 2], &p), Err(Error::ShapeMismatch));
        assert_eq!(
            run(&[2, 3], &[3], &[2, 2, 3], &p),
            Err(Error::ShapeMismatch)
        );
        assert_eq!(run(&[2, 1], &[1, 3], &[2, 3], &p), Ok(()));
        assert_eq!(
            run(&[2, 1], &[1, 3], &[2, 1], &p),
            Err(Error::ShapeMismatch)
        );
        assert_eq!(
            run(
                &[2, 3],
                &[3],
                &[2, 3],
                &AddS8 {
                    left_shift: 21,
                    ..p
                }
            ),
            Err(Error::InvalidParameter)
        );
        assert_eq!(
            run(
                &[2, 3],
                &[3],
                &[2, 3],
                &AddS8 {
                    output_shift: 1,
                    ..p
                }
            ),
            Err(Error::InvalidParameter)
        );
        assert_eq!(
            run(
                &[2, 3],
                &[3],
                &[2, 3],
                &AddS8 {
                    input1_offset: -128,
                    ..p
                }
            ),
            Err(Error::InvalidParameter)
        );
        assert_eq!(
            run(&[2, 3], &[3], &[2, 3], &AddS8 { act_max: 128, ..p }),
            Err(Error::InvalidParameter)
        );
        let f = [0f32; 6];
        let mut fo = [0f32; 6];
        assert_eq!(
            add_f32(
                view(&[2, 3], &f),
                view(&[6], &f),
                &mut view_mut(&[2, 3], &mut fo),
                FloatClamp::NONE
            ),
            Err(Error::ShapeMismatch)
        );
    }
}
