//! FULLY_CONNECTED: `out[b, o] = bias[o] + Σ_i in[b, i] · w[o, i]`.
//!
//! The input may have any shape whose element count is `batch × in`
//! (TFLite flattens it); weights are `[out, in]`, the output `[batch, out]`.
//!
//! int8 follows TFLite Micro's `reference_integer_ops::FullyConnected`
//! (per-tensor) and `FullyConnectedPerChannel`: `acc = Σ (x − input_zp) · w`
//! (weights are symmetric, zero point 0), `acc += bias[o]`, then
//! `requantize(acc, multiplier[o], shift[o], output_zp, act_min, act_max)`
//! with TFLite's double rounding.

use super::util::check_len;
use crate::kernels::{Float, FloatClamp, RequantS8};
use crate::quant::requantize;
use crate::tensor::{Element, TensorMut, TensorView};
use crate::Error;
use half::f16;

/// `(batch, in, out)` after checking the shapes.
pub(crate) fn check<T: Element, B>(
    input: &TensorView<'_, T>,
    weights: &TensorView<'_, T>,
    bias: Option<&[B]>,
    output: &TensorMut<'_, T>,
) -> Result<(usize, usize, usize), Error> {
    let (wd, od) = (weights.shape().dims(), output.shape().dims());
    let (&[n_out, n_in], &[batch, o]) = (wd, od) else {
        return Err(Error::ShapeMismatch);
    };
    if o != n_out || batch.checked_mul(n_in) != Some(input.data().len()) {
        return Err(Error::ShapeMismatch);
    }
    if let Some(b) = bias {
        check_len(n_out, b.len())?;
    }
    Ok((batch, n_in, n_out))
}

/// int8 fully connected layer (TFLite `FULLY_CONNECTED`, per-tensor or
/// per-channel requantization).
///
/// - `input`: any shape with `batch × in` elements; `weights`: `[out, in]`;
///   `output`: `[batch, out]`; `bias`: `out` values or none.
///
/// Errors: `ShapeMismatch` for inconsistent shapes, `LengthMismatch` for a
/// bias of the wrong length, `InvalidParameter` for bad requantization
/// parameters.
pub fn fully_connected_s8(
    input: TensorView<'_, i8>,
    weights: TensorView<'_, i8>,
    bias: Option<&[i32]>,
    output: &mut TensorMut<'_, i8>,
    q: &RequantS8<'_>,
) -> Result<(), Error> {
    let (batch, n_in, n_out) = check(&input, &weights, bias, output)?;
    q.validate(n_out)?;
    let (x, w) = (input.data(), weights.data());
    let out = output.data_mut();
    for b in 0..batch {
        let xs = &x[b * n_in..][..n_in];
        for o in 0..n_out {
            let ws = &w[o * n_in..][..n_in];
            let mut acc: i32 = 0;
            for (&xv, &wv) in xs.iter().zip(ws) {
                acc = acc.wrapping_add((xv as i32 - q.input_zero_point) * wv as i32);
            }
            if let Some(bias) = bias {
                acc = acc.wrapping_add(bias[o]);
            }
            let (m, s) = q.channel(o);
            out[b * n_out + o] = requantize(acc, m, s, q.output_zero_point, q.act_min, q.act_max);
        }
    }
    Ok(())
}

fn fully_connected_float<T: Float>(
    input: TensorView<'_, T>,
    weights: TensorView<'_, T>,
    bias: Option<&[T]>,
    output: &mut TensorMut<'_, T>,
    clamp: FloatClamp,
) -> Result<(), Error> {
    let (batch, n_in, n_out) = check(&input, &weights, bias, output)?;
    let (x, w) = (input.data(), weights.data());
    let out = output.data_mut();
    for b in 0..batch {
        let xs = &x[b * n_in..][..n_in];
        for o in 0..n_out {
            let ws = &w[o * n_in..][..n_in];
            let mut acc = 0.0f32;
            for (&xv, &wv) in xs.iter().zip(ws) {
                acc += xv.to_f32() * wv.to_f32();
            }
            if let Some(bias) = bias {
                acc += bias[o].to_f32();
            }
            out[b * n_out + o] = T::from_f32(clamp.apply(acc));
        }
    }
    Ok(())
}

/// f32 fully connected layer: `Σ x·w + bias` in f32, clamped by `clamp`.
pub fn fully_connected_f32(
    input: TensorView<'_, f32>,
    weights: TensorView<'_, f32>,
    bias: Option<&[f32]>,
    output: &mut TensorMut<'_, f32>,
    clamp: FloatClamp,
) -> Result<(), Error> {
    fully_connected_float(input, weights, bias, output, clamp)
}

/// f16 fully connected layer: f16 storage, f32 arithmetic, the clamped
/// result rounded once to f16.
pub fn fully_connected_f16(
    input: TensorView<'_, f16>,
    weights: TensorView<'_, f16>,
    bias: Option<&[f16]>,
    output: &mut TensorMut<'_, f16>,
    clamp: FloatClamp,
) -> Result<(), Error> {
    fully_connected_float(input, weights, bias, output, clamp)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::kernels::reference::util::testing::*;

    /// `(Σ x·w + bias, Σ |x·w| + |bias|)` for every `[b, o]`.
    fn fc_f64(
        batch: usize,
        n_in: usize,
        n_out: usize,
        x: &[f64],
        w: &[f64],
        bias: Option<&[f64]>,
    ) -> (Vec<f64>, Vec<f64>) {
        let (mut s, mut m) = (Vec::new(), Vec::new());
        for b in 0..batch {
            for o in 0..n_out {
                let (mut acc, mut mag) = (0.0, 0.0);
                for i in 0..n_in {
                    let p = x[b * n_in + i] * w[o * n_in + i];
                    acc += p;
                    mag += p.abs();
                }
                if let Some(bias) = bias {
                    acc += bias[o];
                    mag += bias[o].abs();
                }
                s.push(acc);
                m.push(mag);
            }
        }
        (s, m)
    }

    /// An input shape with `batch × n_in` elements: `[batch, n_in]` or a
    /// 4-D `[batch, 1, n_in, 1]` (flattened by the kernel).
    fn input_dims(rng: &mut Rng, batch: usize, n_in: usize) -> Vec<usize> {
        if rng.bool() {
            vec![batch, n_in]
        } else {
            vec![batch, 1, n_in, 1]
        }
    }

    #[test]
    fn s8_matches_float_on_dequantized_values_within_one_quantum() {
        let mut rng = Rng::new(21);
        for iter in 0..2000 {
            let (batch, n_in, n_out) = (rng.usize(1, 3), rng.usize(1, 40), rng.usize(1, 9));
            let q = RandomQuant::new(&mut rng, n_out, n_in);
            let x = rng.vec_i8(batch * n_in);
            let w = rng.vec_weights(n_out * n_in);
            let bias: Vec<i32> = (0..n_out)
                .map(|_| rng.range(-20000, 20000) as i32)
                .collect();
            let use_bias = rng.bool();
            let mut out = vec![0i8; batch * n_out];
            fully_connected_s8(
                view(&input_dims(&mut rng, batch, n_in), &x),
                view(&[n_out, n_in], &w),
                use_bias.then_some(&bias[..]),
                &mut view_mut(&[batch, n_out], &mut out),
                &q.requant(),
            )
            .unwrap();
            let xr: Vec<f64> = x.iter().map(|&v| deq(v, q.in_scale, q.in_zp)).collect();
            let wr: Vec<f64> = w
                .iter()
                .enumerate()
                .map(|(i, &v)| v as f64 * q.w_scale(i / n_in) as f64)
                .collect();
            let br: Vec<f64> = (0..n_out)
                .map(|o| bias[o] as f64 * q.in_scale as f64 * q.w_scale(o) as f64)
                .collect();
            let (real, _) = fc_f64(batch, n_in, n_out, &xr, &wr, use_bias.then_some(&br[..]));
            let want: Vec<i32> = real.iter().map(|&r| q.quantize(r)).collect();
            assert_close_s8(
                &out,
                &want,
                1,
                &std::format!("case {iter}: {batch}×{n_in}→{n_out}"),
            );
            // Bit-exact with TFLite's integer definition.
            let xi: Vec<f64> = x.iter().map(|&v| (v as i32 - q.in_zp) as f64).collect();
            let wi: Vec<f64> = w.iter().map(|&v| v as f64).collect();
            let bi: Vec<f64> = bias.iter().map(|&v| v as f64).collect();
            let (acc, _) = fc_f64(batch, n_in, n_out, &xi, &wi, use_bias.then_some(&bi[..]));
            assert_close_s8(
                &out,
                &q.requantize_all(&acc, n_out),
                0,
                "integer definition",
            );
        }
    }

    fn float_matches_f64<T: Float>(seed: u64) {
        let mut rng = Rng::new(seed);
        let tol = tol_for::<T>();
        for iter in 0..1000 {
            let (batch, n_in, n_out) = (rng.usize(1, 3), rng.usize(1, 64), rng.usize(1, 9));
            let x: Vec<T> = vec_float(&mut rng, batch * n_in, -1.0, 1.0);
            let w: Vec<T> = vec_float(&mut rng, n_out * n_in, -1.0, 1.0);
            let bias: Vec<T> = vec_float(&mut rng, n_out, -1.0, 1.0);
            let use_bias = rng.bool();
            let clamp = if rng.bool() {
                FloatClamp::NONE
            } else {
                FloatClamp { min: 0.0, max: 2.0 }
            };
            let mut out = vec![T::from_f32(0.0); batch * n_out];
            fully_connected_float(
                view(&input_dims(&mut rng, batch, n_in), &x),
                view(&[n_out, n_in], &w),
                use_bias.then_some(&bias[..]),
                &mut view_mut(&[batch, n_out], &mut out),
                clamp,
            )
            .unwrap();
            let b64 = widen(&bias);
            let (sums, mags) = fc_f64(
                batch,
                n_in,
                n_out,
                &widen(&x),
                &widen(&w),
                use_bias.then_some(&b64[..]),
            );
            let want: Vec<f64> = sums
                .iter()
                .map(|&s| s.clamp(clamp.min as f64, clamp.max as f64))
                .collect();
            let tols: Vec<f64> = want.iter().zip(&mags).map(|(&r, &m)| tol(m, r)).collect();
            assert_close_f(&widen(&out), &want, &tols, &std::format!("case {iter}"));
        }
    }

    #[test]
    fn f32_matches_f64_reference() {
        float_matches_f64::<f32>(22);
    }

    #[test]
    fn f16_matches_f64_reference() {
        float_matches_f64::<f16>(23);
    }

    #[test]
    fn public_wrappers_compute_a_hand_checked_case() {
        let x = [1.0f32, 2.0, 3.0];
        let w = [1.0f32, 0.0, -1.0, 0.5, 0.5, 0.5];
        let mut out = [0f32; 2];
        fully_connected_f32(
            view(&[1, 3], &x),
            view(&[2, 3], &w),
            Some(&[1.0, -1.0]),
            &mut view_mut(&[1, 2], &mut out),
            FloatClamp::NONE,
        )
        .unwrap();
        assert_eq!(out, [-1.0, 2.0]);
        let xh = x.map(f16::from_f32);
        let wh = w.map(f16::from_f32);
        let mut oh = [f16::ZERO; 2];
        fully_connected_f16(
            view(&[3], &xh),
            view(&[2, 3], &wh),
            None,
            &mut view_mut(&[1, 2], &mut oh),
            FloatClamp { min: 0.0, max: 6.0 },
        )
        .unwrap();
        assert_eq!(oh.map(|v| v.to_f32()), [0.0, 3.0]);
    }

    #[test]
    fn bad_arguments_are_errors_not_panics() {
        let x = [1i8; 6];
        let w = [1i8; 12];
        let mut o = [0i8; 8];
        let q = RequantS8 {
            input_zero_point: 0,
            output_zero_point: 0,
            multipliers: &[1 << 30],
            shifts: &[0],
            act_min: -128,
            act_max: 127,
        };
        let mut run =
            |xs: &[usize], ws: &[usize], os: &[usize], b: Option<&[i32]>, q: &RequantS8| {
                fully_connected_s8(
                    view(xs, &x[..xs.iter().product::<usize>()]),
                    view(ws, &w[..ws.iter().product::<usize>()]),
                    b,
                    &mut view_mut(os, &mut o[..os.iter().product::<usize>()]),
                    q,
                )
            };
        assert_eq!(run(&[2, 3], &[4, 3], &[2, 4], None, &q), Ok(()));
        assert_eq!(run(&[6], &[4, 3], &[2, 4], Some(&[0; 4]), &q), Ok(()));
        assert_eq!(
            run(&[5], &[4, 3], &[2, 4], None, &q),
            Err(Error::ShapeMismatch)
        );
        assert_eq!(
            run(&[2, 3], &[4, 3], &[2, 3], None, &q),
            Err(Error::ShapeMismatch)
        );
        assert_eq!(
            run(&[2, 3], &[12], &[2, 4], None, &q),
            Err(Error::ShapeMismatch)
        );
        assert_eq!(
            run(&[2, 3], &[4, 3], &[8], None, &q),
            Err(Error::ShapeMismatch)
        );
        assert_eq!(
            run(&[2, 3], &[4, 3], &[2, 4], Some(&[0; 5]), &q),
            Err(Error::LengthMismatch {
                expected: 4,
                got: 5
            })
        );
        let q2 = RequantS8 {
            multipliers: &[1, 1],
            shifts: &[0, 0],
            ..q
        };
        assert_eq!(
            run(&[2, 3], &[4, 3], &[2, 4], None, &q2),
            Err(Error::InvalidParameter)
        );
    }
}
