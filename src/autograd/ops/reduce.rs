//! Reductions over axes (sum, mean, max, min, with `keepdim`), whole-tensor
//! sums and means, and `argmax`. Axes may be negative (counted from the end).

use super::elementwise::{broadcast_strides, walk2};
use crate::autograd::tensor::Tensor;

/// Sum in 16 interleaved lanes: the additions are independent, so the
/// loop vectorises (a plain fold is one long dependency chain).
pub(crate) fn sum_f32(x: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 16];
    let chunks = x.chunks_exact(16);
    let rest: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for (l, v) in lanes.iter_mut().zip(c) {
            *l += v;
        }
    }
    lanes.iter().sum::<f32>() + rest
}

/// `axis` (possibly negative) as an index into a shape of rank `rank`.
///
/// # Panics
/// If the axis is out of range.
pub fn norm_axis(axis: isize, rank: usize) -> usize {
    let a = if axis < 0 { axis + rank as isize } else { axis };
    assert!(
        a >= 0 && (a as usize) < rank.max(1),
        "axis {axis} out of range for rank {rank}"
    );
    a as usize
}

/// Shapes of a reduction: (same-rank shape with reduced dims set to 1, output shape).
fn reduced_shapes(shape: &[usize], axes: &[isize], keepdim: bool) -> (Vec<usize>, Vec<usize>) {
    let mut red = vec![false; shape.len()];
    for &a in axes {
        red[norm_axis(a, shape.len())] = true;
    }
    let kept: Vec<usize> = shape
        .iter()
        .zip(&red)
        .map(|(&d, &r)| if r { 1 } else { d })
        .collect();
    let out = if keepdim {
        kept.clone()
    } else {
        shape
            .iter()
            .zip(&red)
            .filter(|(_, &r)| !r)
            .map(|(&d, _)| d)
            .collect()
    };
    (kept, out)
}

/// Calls `f(i, o)` for every input element `i` and its output slot `o`.
fn walk_reduce(shape: &[usize], kept: &[usize], f: impl FnMut(usize, usize)) {
    let mut f = f;
    let so = broadcast_strides(kept, shape);
    let zero = vec![0; shape.len()];
    walk2(shape, &so, &zero, |i, o, _| f(i, o));
}

impl Tensor {
    /// Sum over `axes`.
    pub fn sum(&self, axes: &[isize], keepdim: bool) -> Tensor {
        let (kept, out) = reduced_shapes(self.shape(), axes, keepdim);
        let mut data = vec![0.0; kept.iter().product()];
        {
            let x = self.data();
            walk_reduce(self.shape(), &kept, |i, o| data[o] += x[i]);
        }
        let (shape, k) = (self.shape().to_vec(), kept);
        Tensor::from_op("sum", out, data, &[self], move |g, _, _| {
            let mut gx = vec![0.0; shape.iter().product()];
            walk_reduce(&shape, &k, |i, o| gx[i] = g[o]);
            vec![Some(gx)]
        })
    }

    /// Mean over `axes`.
    pub fn mean(&self, axes: &[isize], keepdim: bool) -> Tensor {
        let (kept, _) = reduced_shapes(self.shape(), axes, keepdim);
        let count = self.numel() / kept.iter().product::<usize>().max(1);
        self.sum(axes, keepdim).mul_scalar(1.0 / count as f32)
    }

    /// Sum of all elements (a rank-0 tensor).
    pub fn sum_all(&self) -> Tensor {
        let s = sum_f32(&self.data());
        let n = self.numel();
        Tensor::from_op("sum_all", vec![], vec![s], &[self], move |g, _, _| {
            let mut gx = vec![0.0; n];
            gx.fill(g[0]);
            vec![Some(gx)]
        })
    }

    /// Mean of all elements (a rank-0 tensor).
    pub fn mean_all(&self) -> Tensor {
        let n = self.numel();
        self.sum_all().mul_scalar(1.0 / n as f32)
    }

    fn extreme(
        &self,
        name: &'static str,
        axes: &[isize],
        keepdim: bool,
        better: fn(f32, f32) -> bool,
    ) -> Tensor {
        let (kept, out) = reduced_shapes(self.shape(), axes, keepdim);
        let m: usize = kept.iter().product();
        let mut data = vec![f32::NAN; m];
        let mut arg = vec![usize::MAX; m];
        {
            let x = self.data();
            walk_reduce(self.shape(), &kept, |i, o| {
                if arg[o] == usize::MAX || better(x[i], data[o]) {
                    data[o] = x[i];
                    arg[o] = i;
                }
            });
        }
        let n = self.numel();
        Tensor::from_op(name, out, data, &[self], move |g, _, _| {
            let mut gx = vec![0.0; n];
            for (o, &i) in arg.iter().enumerate() {
                gx[i] += g[o];
            }
            vec![Some(gx)]
        })
    }

    /// Maximum over `axes`; the gradient goes to the first maximal element.
    pub fn max(&self, axes: &[isize], keepdim: bool) -> Tensor {
        self.extreme("max", axes, keepdim, |a, b| a > b)
    }

    /// Minimum over `axes`; the gradient goes to the first minimal element.
    pub fn min(&self, axes: &[isize], keepdim: bool) -> Tensor {
        self.extreme("min", axes, keepdim, |a, b| a < b)
    }

    /// Indices of the maxima along `axis` (first on ties), in the row-major
    /// order of the remaining dimensions. Not differentiable.
    pub fn argmax(&self, axis: isize) -> Vec<usize> {
        let ax = norm_axis(axis, self.ndim());
        let shape = self.shape();
        let dim = shape[ax];
        let inner: usize = shape[ax + 1..].iter().product();
        let outer: usize = shape[..ax].iter().product();
        let x = self.data();
        let mut res = Vec::with_capacity(outer * inner);
        for o in 0..outer {
            for i in 0..inner {
                let base = o * dim * inner + i;
                let mut best = 0;
                for d in 1..dim {
                    if x[base + d * inner] > x[base + best * inner] {
                        best = d;
                    }
                }
                res.push(best);
            }
        }
        res
    }
}
