//! STRIDED_SLICE (and ONNX `Slice`, `Gather` of one index): every
//! `stride`-th element of a window of a tensor.
//!
//! Shapes of rank ≤ 4 are left-extended to rank 4 (as for [`pad`]). For
//! each dimension `d` of that 4-D shape the slice takes `count[d]` indices
//! `begin[d], begin[d] + stride[d], …` (a negative stride walks backwards),
//! and the output holds the selected elements in row-major order. The
//! output's shape is free (any shape with `count[0]·…·count[3]` elements),
//! so TFLite's `shrink_axis_mask` and ONNX's `Gather` of a scalar index,
//! which drop the sliced axis, need no extra op.
//!
//! All index arithmetic (TFLite's begin/end masks, negative indices,
//! clamping) is resolved on the host into `begin`, `stride` and `count`;
//! the kernel checks that every selected index is inside the input.
//!
//! [`pad`]: mod@super::pad

use super::util::extend_to_4d;
use crate::tensor::{Element, TensorView};
use crate::Error;

/// Where a strided slice reads, per dimension of the input extended to
/// rank 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SliceWindow {
    /// The first index taken.
    pub begin: [usize; 4],
    /// The step between taken indices (never 0).
    pub stride: [i32; 4],
    /// How many indices are taken.
    pub count: [usize; 4],
}

impl SliceWindow {
    /// The number of elements the slice selects.
    pub fn len(&self) -> usize {
        self.count.iter().product()
    }

    /// True when the slice selects nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks that every selected index of an input of (4-D) `dims` is in
    /// bounds: `InvalidParameter` for a zero stride, `ShapeMismatch` for an
    /// index outside the input.
    pub fn check(&self, dims: [usize; 4]) -> Result<(), Error> {
        for (d, &dim) in dims.iter().enumerate() {
            if self.stride[d] == 0 {
                return Err(Error::InvalidParameter);
            }
            // Distinct indices: never more than the dimension holds (which
            // also keeps the arithmetic below and `len` from overflowing).
            if self.count[d] > dim {
                return Err(Error::ShapeMismatch);
            }
            if self.count[d] == 0 {
                continue;
            }
            let last = (self.count[d] as i64 - 1)
                .checked_mul(self.stride[d] as i64)
                .and_then(|span| span.checked_add(self.begin[d] as i64));
            let inside = |i: i64| (0..dim as i64).contains(&i);
            if !inside(self.begin[d] as i64) || !last.is_some_and(inside) {
                return Err(Error::ShapeMismatch);
            }
        }
        Ok(())
    }
}

/// Copies the elements of `input` that `window` selects into `output`, in
/// row-major order; any element type.
///
/// Errors (nothing written) when a selected index is outside `input`
/// (`ShapeMismatch`), a stride is 0 (`InvalidParameter`) or `output` does
/// not hold exactly the selected count (`LengthMismatch`).
pub fn strided_slice<T: Element>(
    input: TensorView<'_, T>,
    output: &mut [T],
    window: &SliceWindow,
) -> Result<(), Error> {
    let dims = extend_to_4d(input.shape());
    window.check(dims)?;
    if output.len() != window.len() {
        return Err(Error::LengthMismatch {
            expected: window.len(),
            got: output.len(),
        });
    }
    let x = input.data();
    let strides = [dims[1] * dims[2] * dims[3], dims[2] * dims[3], dims[3], 1];
    // Index of the k-th taken position along dimension d (in bounds: checked).
    let at = |d: usize, k: usize| -> usize {
        (window.begin[d] as isize + k as isize * window.stride[d] as isize) as usize * strides[d]
    };
    let [c0, c1, c2, c3] = window.count;
    let mut out = output.iter_mut();
    for a in 0..c0 {
        for b in 0..c1 {
            for c in 0..c2 {
                let base = at(0, a) + at(1, b) + at(2, c);
                if window.stride[3] == 1 {
                    let row = &x[base + window.begin[3]..base + window.begin[3] + c3];
                    for (v, o) in row.iter().zip(&mut out) {
                        *o = *v;
                    }
                } else {
                    for e in 0..c3 {
                        if let Some(o) = out.next() {
                            *o = x[base + at(3, e)];
                        }
                    }
                }
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
    use std::vec::Vec;

    #[test]
    fn takes_the_same_elements_as_an_index_by_index_reference() {
        let mut rng = Rng::new(2024);
        for _ in 0..500 {
            let rank = rng.usize(1, 4);
            let dims: Vec<usize> = (0..rank).map(|_| rng.usize(1, 5)).collect();
            let e = extend(&dims);
            let mut w = SliceWindow {
                begin: [0; 4],
                stride: [1; 4],
                count: [1; 4],
            };
            for (d, &dim) in e.iter().enumerate() {
                let stride = [-2, -1, 1, 1, 2, 3][rng.usize(0, 5)];
                let begin = rng.usize(0, dim - 1);
                // How many steps fit from `begin` in the stride's direction.
                let room = if stride > 0 {
                    (dim - 1 - begin) / stride as usize + 1
                } else {
                    begin / (-stride) as usize + 1
                };
                w.begin[d] = begin;
                w.stride[d] = stride;
                w.count[d] = rng.usize(0, room);
            }
            let x = rng.vec_i8(e.iter().product());
            let mut out = vec![0i8; w.len()];
            strided_slice(view(&dims, &x), &mut out, &w).unwrap();
            let mut want = Vec::new();
            for a in 0..w.count[0] {
                for b in 0..w.count[1] {
                    for c in 0..w.count[2] {
                        for f in 0..w.count[3] {
                            let idx = |d: usize, k: usize| {
                                (w.begin[d] as i64 + k as i64 * w.stride[d] as i64) as usize
                            };
                            let (i0, i1, i2, i3) = (idx(0, a), idx(1, b), idx(2, c), idx(3, f));
                            want.push(x[((i0 * e[1] + i1) * e[2] + i2) * e[3] + i3]);
                        }
                    }
                }
            }
            assert_eq!(out, want, "{dims:?} {w:?}");
        }
    }

    #[test]
    fn the_last_time_step_of_a_sequence() {
        // [batch 2, time 3, features 2]: x[:, -1, :]
        let x: Vec<f32> = (0..12).map(|v| v as f32).collect();
        let w = SliceWindow {
            begin: [0, 0, 2, 0],
            stride: [1; 4],
            count: [1, 2, 1, 2],
        };
        let mut out = [0f32; 4];
        strided_slice(view(&[2, 3, 2], &x), &mut out, &w).unwrap();
        assert_eq!(out, [4.0, 5.0, 10.0, 11.0]);
    }

    #[test]
    fn out_of_bounds_windows_are_errors_not_panics() {
        let x = [0i8; 6];
        let ok = SliceWindow {
            begin: [0, 0, 1, 0],
            stride: [1, 1, 1, 2],
            count: [1, 1, 1, 2],
        };
        let run = |w: SliceWindow, n: usize| {
            let mut out = vec![0i8; n];
            strided_slice(view(&[2, 3], &x), &mut out, &w)
        };
        assert_eq!(run(ok, 2), Ok(()));
        assert_eq!(
            run(ok, 3),
            Err(Error::LengthMismatch {
                expected: 2,
                got: 3
            })
        );
        let mut w = ok;
        w.count[3] = 3;
        assert_eq!(run(w, 3), Err(Error::ShapeMismatch));
        let mut w = ok;
        w.stride[2] = 0;
        assert_eq!(run(w, 2), Err(Error::InvalidParameter));
        let mut w = ok;
        w.begin[2] = 2;
        assert_eq!(run(w, 2), Err(Error::ShapeMismatch));
        let mut w = ok;
        w.stride[3] = -1;
        assert_eq!(run(w, 2), Err(Error::ShapeMismatch));
        let mut w = ok;
        w.count = [1, 1, 0, 1];
        assert_eq!(run(w, 0), Ok(()));
        let mut w = ok;
        w.count[3] = usize::MAX;
        w.stride[3] = -1;
        assert_eq!(run(w, 2), Err(Error::ShapeMismatch));
        let mut w = ok;
        w.stride[3] = i32::MIN;
        assert_eq!(run(w, 2), Err(Error::ShapeMismatch));
    }
}
