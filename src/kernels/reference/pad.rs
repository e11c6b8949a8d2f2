//! PAD / PADV2: a tensor surrounded by a constant.
//!
//! `output[i] = input[i − pads_before]` where that index is inside the
//! input, `pad_value` elsewhere. Shapes of rank ≤ 4 are left-extended to
//! rank 4 (TFLite does the same), and `pads_before[d]` is the padding
//! before dimension `d` of that 4-D shape; the padding after each dimension
//! is implied by the output size. TFLite PAD pads with zero (for int8: the
//! output zero point), PADV2 with a given constant: both are `pad_value`
//! here.

use super::util::extend_to_4d;
use crate::tensor::{Element, TensorMut, TensorView};
use crate::Error;

/// Pads `input` into `output` (TFLite `PAD` / `PADV2`), any element type.
///
/// `input` and `output` have the same rank (≤ 4); for every dimension `d`
/// of the shapes extended to rank 4, `pads_before[d] + input_dim ≤
/// output_dim`. Errors with `ShapeMismatch` otherwise.
pub fn pad<T: Element>(
    input: TensorView<'_, T>,
    output: &mut TensorMut<'_, T>,
    pads_before: [usize; 4],
    pad_value: T,
) -> Result<(), Error> {
    if input.shape().rank() != output.shape().rank() {
        return Err(Error::ShapeMismatch);
    }
    let (i, o) = (extend_to_4d(input.shape()), extend_to_4d(output.shape()));
    for d in 0..4 {
        match pads_before[d].checked_add(i[d]) {
            Some(end) if end <= o[d] => {}
            _ => return Err(Error::ShapeMismatch),
        }
    }
    let x = input.data();
    let out = output.data_mut();
    out.fill(pad_value);
    let row = i[3];
    for a in 0..i[0] {
        for b in 0..i[1] {
            for c in 0..i[2] {
                let src = ((a * i[1] + b) * i[2] + c) * row;
                let dst = (((a + pads_before[0]) * o[1] + b + pads_before[1]) * o[2]
                    + c
                    + pads_before[2])
                    * o[3]
                    + pads_before[3];
                out[dst..dst + row].copy_from_slice(&x[src..src + row]);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::kernels::reference::util::testing::*;
    use half::f16;

    #[test]
    fn pads_every_side_like_an_index_by_index_reference() {
        let mut rng = Rng::new(111);
        for _ in 0..300 {
            let rank = rng.usize(1, 4);
            let dims: Vec<usize> = (0..rank).map(|_| rng.usize(1, 3)).collect();
            let mut before = [0usize; 4];
            let mut out_dims = dims.clone();
            for k in 0..rank {
                let d = 4 - rank + k;
                before[d] = rng.usize(0, 2);
                out_dims[k] = dims[k] + before[d] + rng.usize(0, 2);
            }
            let x = rng.vec_i8(dims.iter().product());
            let mut out = vec![0i8; out_dims.iter().product()];
            pad(
                view(&dims, &x),
                &mut view_mut(&out_dims, &mut out),
                before,
                -7,
            )
            .unwrap();
            let (ei, eo) = (extend(&dims), extend(&out_dims));
            let want: Vec<i8> = indices(eo)
                .iter()
                .map(|at| {
                    let mut src = [0; 4];
                    for d in 0..4 {
                        if at[d] < before[d] || at[d] >= before[d] + ei[d] {
                            return -7;
                        }
                        src[d] = at[d] - before[d];
                    }
                    x[((src[0] * ei[1] + src[1]) * ei[2] + src[2]) * ei[3] + src[3]]
                })
                .collect();
            assert_eq!(out, want, "{dims:?} → {out_dims:?} before {before:?}");
        }
    }

    #[test]
    fn pads_floats_with_the_given_value() {
        let x = [f16::ONE, f16::from_f32(2.0)];
        let mut out = [f16::ZERO; 5];
        pad(
            view(&[2], &x),
            &mut view_mut(&[5], &mut out),
            [0, 0, 0, 2],
            f16::from_f32(-1.0),
        )
        .unwrap();
        assert_eq!(out.map(|v| v.to_f32()), [-1.0, -1.0, 1.0, 2.0, -1.0]);
        let mut o32 = [9f32; 4];
        pad(
            view(&[1, 1], &[3.0f32]),
            &mut view_mut(&[2, 2], &mut o32),
            [0, 0, 1, 1],
            0.0,
        )
        .unwrap();
        assert_eq!(o32, [0.0, 0.0, 0.0, 3.0]);
    }

    #[test]
    fn bad_arguments_are_errors_not_panics() {
        let x = [0i8; 4];
        let mut out = [0i8; 9];
        let mut run = |is: &[usize], os: &[usize], before: [usize; 4]| {
            pad(
                view(is, &x[..is.iter().product::<usize>()]),
                &mut view_mut(os, &mut out[..os.iter().product::<usize>()]),
                before,
                0,
            )
        };
        assert_eq!(run(&[2, 2], &[3, 3], [0, 0, 1, 1]), Ok(()));
        assert_eq!(
            run(&[2, 2], &[3, 3], [0, 0, 2, 0]),
            Err(Error::ShapeMismatch)
        );
        assert_eq!(
            run(&[2, 2], &[3, 3], [1, 0, 0, 0]),
            Err(Error::ShapeMismatch)
        );
        assert_eq!(run(&[2, 2], &[9], [0, 0, 0, 0]), Err(Error::ShapeMismatch));
        assert_eq!(
            run(&[2, 2], &[3, 3], [0, 0, usize::MAX, 0]),
            Err(Error::ShapeMismatch)
        );
        assert_eq!(
            run(&[2, 2], &[2, 1], [0, 0, 0, 0]),
            Err(Error::ShapeMismatch)
        );
    }
}
