//! CONCATENATION: inputs laid side by side along one axis.
//!
//! The kernel copies one input into its slot of the output
//! ([`concat_into`]); [`concatenation`] does all inputs in turn. Values are
//! copied unchanged, for any element type: in TFLite int8 models all inputs
//! of a CONCATENATION share the output's scale and zero point (the
//! converter enforces it), so no requantization is needed.

use crate::tensor::{Element, TensorMut, TensorView};
use crate::Error;

/// `(outer, inner)` element counts around `axis`, after checking that
/// `input` fits into `output` at `offset` along `axis`.
fn check<T: Element>(
    input: &TensorView<'_, T>,
    axis: usize,
    offset: usize,
    output: &TensorMut<'_, T>,
) -> Result<(usize, usize, usize, usize), Error> {
    let (i, o) = (input.shape().dims(), output.shape().dims());
    if i.len() != o.len() || axis >= i.len() {
        return Err(Error::ShapeMismatch);
    }
    for d in 0..i.len() {
        if d != axis && i[d] != o[d] {
            return Err(Error::ShapeMismatch);
        }
    }
    match offset.checked_add(i[axis]) {
        Some(end) if end <= o[axis] => {}
        _ => return Err(Error::ShapeMismatch),
    }
    let outer = i[..axis].iter().product();
    let inner = i[axis + 1..].iter().product();
    Ok((outer, inner, i[axis], o[axis]))
}

/// Copies `input` into `output` starting at index `offset_along_axis` of
/// dimension `axis`: `output[.., offset + k, ..] = input[.., k, ..]`.
///
/// `input` and `output` have the same rank and the same dimensions except
/// along `axis`, where `offset + input_dim ≤ output_dim`. Errors with
/// `ShapeMismatch` otherwise; the rest of the output is left untouched.
pub fn concat_into<T: Element>(
    input: TensorView<'_, T>,
    axis: usize,
    offset_along_axis: usize,
    output: &mut TensorMut<'_, T>,
) -> Result<(), Error> {
    let (outer, inner, in_axis, out_axis) = check(&input, axis, offset_along_axis, output)?;
    let chunk = in_axis * inner;
    let x = input.data();
    let out = output.data_mut();
    for o in 0..outer {
        let dst = (o * out_axis + offset_along_axis) * inner;
        out[dst..dst + chunk].copy_from_slice(&x[o * chunk..(o + 1) * chunk]);
    }
    Ok(())
}

/// Concatenates `inputs` along `axis` into `output` (TFLite
/// `CONCATENATION`): their sizes along `axis` must add up to the output's,
/// all other dimensions must match. Checks everything before writing.
pub fn concatenation<T: Element>(
    inputs: &[TensorView<'_, T>],
    axis: usize,
    output: &mut TensorMut<'_, T>,
) -> Result<(), Error> {
    let mut offset = 0usize;
    for input in inputs {
        check(input, axis, offset, output)?;
        offset += input.shape().dim(axis);
    }
    if offset != output.shape().dim(axis) || axis >= output.shape().rank() {
        return Err(Error::ShapeMismatch);
    }
    let mut offset = 0;
    for input in inputs {
        concat_into(*input, axis, offset, output)?;
        offset += input.shape().dim(axis);
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
    fn concatenates_along_every_axis_like_a_manual_copy() {
        let mut rng = Rng::new(91);
        for _ in 0..300 {
            let rank = rng.usize(1, 4);
            let axis = rng.usize(0, rank - 1);
            let base: Vec<usize> = (0..rank).map(|_| rng.usize(1, 3)).collect();
            let parts: Vec<usize> = (0..rng.usize(1, 3)).map(|_| rng.usize(0, 3)).collect();
            let mut dims_out = base.clone();
            dims_out[axis] = parts.iter().sum();
            let datas: Vec<Vec<i8>> = parts
                .iter()
                .map(|&p| {
                    let mut d = base.clone();
                    d[axis] = p;
                    rng.vec_i8(d.iter().product())
                })
                .collect();
            let dims: Vec<Vec<usize>> = parts
                .iter()
                .map(|&p| {
                    let mut d = base.clone();
                    d[axis] = p;
                    d
                })
                .collect();
            let views: Vec<TensorView<'_, i8>> =
                datas.iter().zip(&dims).map(|(d, s)| view(s, d)).collect();
            let mut out = vec![0i8; dims_out.iter().product()];
            concatenation(&views, axis, &mut view_mut(&dims_out, &mut out)).unwrap();
            // Reference: walk the output multi-index.
            let outer: usize = base[..axis].iter().product();
            let inner: usize = base[axis + 1..].iter().product();
            let mut want = Vec::new();
            for o in 0..outer {
                for (p, d) in parts.iter().zip(&datas) {
                    want.extend_from_slice(&d[o * p * inner..(o + 1) * p * inner]);
                }
            }
            assert_eq!(out, want);
        }
    }

    #[test]
    fn concat_into_fills_only_its_slot() {
        let a = [f16::ONE; 4]; // [2, 1, 2]
        let mut out = [f16::ZERO; 12]; // [2, 3, 2]
        concat_into(
            view(&[2, 1, 2], &a),
            1,
            2,
            &mut view_mut(&[2, 3, 2], &mut out),
        )
        .unwrap();
        let got: Vec<f32> = out.iter().map(|v| v.to_f32()).collect();
        assert_eq!(got, [0., 0., 0., 0., 1., 1., 0., 0., 0., 0., 1., 1.]);
        let f = [1.5f32, 2.5];
        let mut fo = [0f32; 4];
        concat_into(view(&[2], &f), 0, 1, &mut view_mut(&[4], &mut fo)).unwrap();
        assert_eq!(fo, [0.0, 1.5, 2.5, 0.0]);
    }

    #[test]
    fn bad_arguments_are_errors_not_panics() {
        let a = [0i32; 6];
        let mut out = [0i32; 12];
        let mut o = view_mut(&[2, 6], &mut out);
        assert_eq!(concat_into(view(&[2, 3], &a), 1, 3, &mut o), Ok(()));
        assert_eq!(
            concat_into(view(&[2, 3], &a), 1, 4, &mut o),
            Err(Error::ShapeMismatch)
        );
        assert_eq!(
            concat_into(view(&[2, 3], &a), 1, usize::MAX, &mut o),
            Err(Error::ShapeMismatch)
        );
        assert_eq!(
            concat_into(view(&[2, 3], &a), 2, 0, &mut o),
            Err(Error::ShapeMismatch)
        );
        assert_eq!(
            concat_into(view(&[3, 2], &a), 1, 0, &mut o),
            Err(Error::ShapeMismatch)
        );
        assert_eq!(
            concat_into(view(&[6], &a), 0, 0, &mut o),
            Err(Error::ShapeMismatch)
        );
        let (x, y) = (view(&[2, 3], &a), view(&[2, 2], &a[..4]));
        assert_eq!(concatenation(&[x, y], 1, &mut o), Err(Error::ShapeMismatch)); // 5 ≠ 6
        assert_eq!(concatenation(&[x, x], 0, &mut o), Err(Error::ShapeMismatch));
        assert_eq!(concatenation(&[x, x], 1, &mut o), Ok(()));
        assert_eq!(
            concatenation::<i32>(&[], 5, &mut o),
            Err(Error::ShapeMismatch)
        );
    }
}
