//! Movement ops: reshape/view, permute/transpose, squeeze/unsqueeze,
//! expand/broadcast_to, concat/stack/split, slice, index_select, gather, pad.
//! Each copies into a new contiguous tensor (see the [`Tensor`] doc).

use super::elementwise::{broadcast_shapes, sum_to_shape};
use super::reduce::norm_axis;
use crate::autograd::tensor::{contiguous_strides, Tensor};

/// `(outer, dim, inner)` sizes of `shape` around `axis`.
fn split_at_axis(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    (
        shape[..axis].iter().product(),
        shape[axis],
        shape[axis + 1..].iter().product(),
    )
}

impl Tensor {
    /// The same data with a new shape of equal size; one dimension may be
    /// `usize::MAX` to be inferred (PyTorch's `-1`).
    pub fn reshape(&self, shape: &[usize]) -> Tensor {
        let mut shape = shape.to_vec();
        if let Some(p) = shape.iter().position(|&d| d == usize::MAX) {
            let known: usize = shape.iter().filter(|&&d| d != usize::MAX).product();
            assert!(
                known > 0 && self.numel() % known == 0,
                "reshape: cannot infer a dimension of {shape:?} for {} elements",
                self.numel()
            );
            shape[p] = self.numel() / known;
        }
        assert_eq!(
            shape.iter().product::<usize>(),
            self.numel(),
            "reshape: shape {:?} does not hold the {} elements of {:?}",
            shape,
            self.numel(),
            self.shape()
        );
        if shape == self.shape() {
            return self.clone();
        }
        Tensor::from_op("reshape", shape, self.to_vec(), &[self], |g, _, _| {
            vec![Some(g.to_vec())]
        })
    }

    /// Alias of [`reshape`](Self::reshape) (storage is always contiguous).
    pub fn view(&self, shape: &[usize]) -> Tensor {
        self.reshape(shape)
    }

    /// Flattens dimensions `start..` into one.
    pub fn flatten(&self, start: usize) -> Tensor {
        let mut s = self.shape()[..start].to_vec();
        s.push(self.shape()[start..].iter().product());
        self.reshape(&s)
    }

    /// Inserts a dimension of size 1 at `axis` (which may be `ndim`).
    pub fn unsqueeze(&self, axis: usize) -> Tensor {
        assert!(
            axis <= self.ndim(),
            "unsqueeze: axis {axis} out of range for rank {}",
            self.ndim()
        );
        let mut s = self.shape().to_vec();
        s.insert(axis, 1);
        self.reshape(&s)
    }

    /// Removes dimension `axis`, which must have size 1.
    pub fn squeeze(&self, axis: isize) -> Tensor {
        let a = norm_axis(axis, self.ndim());
        assert_eq!(
            self.shape()[a],
            1,
            "squeeze: dimension {a} of {:?} is not 1",
            self.shape()
        );
        let mut s = self.shape().to_vec();
        s.remove(a);
        self.reshape(&s)
    }

    /// Reorders the dimensions: output dimension `i` is input dimension `perm[i]`.
    pub fn permute(&self, perm: &[usize]) -> Tensor {
        let r = self.ndim();
        assert_eq!(
            perm.len(),
            r,
            "permute: {perm:?} is not a permutation of rank {r}"
        );
        let mut seen = vec![false; r];
        for &p in perm {
            assert!(
                p < r && !seen[p],
                "permute: {perm:?} is not a permutation of rank {r}"
            );
            seen[p] = true;
        }
        let shape: Vec<usize> = perm.iter().map(|&p| self.shape()[p]).collect();
        let data = permute_data(&self.data(), self.shape(), perm);
        let mut inv = vec![0; r];
        for (i, &p) in perm.iter().enumerate() {
            inv[p] = i;
        }
        let oshape = shape.clone();
        Tensor::from_op("permute", shape, data, &[self], move |g, _, _| {
            vec![Some(permute_data(g, &oshape, &inv))]
        })
    }

    /// Swaps two dimensions.
    pub fn transpose(&self, a: isize, b: isize) -> Tensor {
        let (a, b) = (norm_axis(a, self.ndim()), norm_axis(b, self.ndim()));
        let mut perm: Vec<usize> = (0..self.ndim()).collect();
        perm.swap(a, b);
        self.permute(&perm)
    }

    /// Broadcasts to `shape` (PyTorch's `expand`, NumPy's `broadcast_to`);
    /// the gradient is summed back.
    pub fn expand(&self, shape: &[usize]) -> Tensor {
        let b = broadcast_shapes(self.shape(), shape);
        assert_eq!(
            b,
            shape,
            "expand: {:?} cannot be broadcast to {:?}",
            self.shape(),
            shape
        );
        let data = self.expand_data(shape);
        let (from, to) = (shape.to_vec(), self.shape().to_vec());
        Tensor::from_op("expand", shape.to_vec(), data, &[self], move |g, _, _| {
            vec![Some(sum_to_shape(g.to_vec(), &from, &to))]
        })
    }

    /// Alias of [`expand`](Self::expand).
    pub fn broadcast_to(&self, shape: &[usize]) -> Tensor {
        self.expand(shape)
    }

    /// Concatenates tensors along `axis`; all other dimensions must match.
    pub fn concat(tensors: &[&Tensor], axis: isize) -> Tensor {
        assert!(!tensors.is_empty(), "concat of no tensors");
        let r = tensors[0].ndim();
        let ax = norm_axis(axis, r);
        let mut shape = tensors[0].shape().to_vec();
        shape[ax] = 0;
        for t in tensors {
            let s = t.shape();
            assert!(
                s.len() == r
                    && s.iter()
                        .enumerate()
                        .all(|(i, &d)| i == ax || d == tensors[0].shape()[i]),
                "concat along {ax}: shape {s:?} does not match {:?}",
                tensors[0].shape()
            );
            shape[ax] += s[ax];
        }
        let (outer, total, inner) = split_at_axis(&shape, ax);
        let mut data = vec![0.0; shape.iter().product()];
        let mut offs = Vec::with_capacity(tensors.len());
        let mut start = 0;
        for t in tensors {
            let d = t.data();
            let len = t.shape()[ax] * inner;
            for o in 0..outer {
                data[(o * total) * inner + start * inner..][..len]
                    .copy_from_slice(&d[o * len..][..len]);
            }
            offs.push((start, t.shape()[ax]));
            start += t.shape()[ax];
        }
        Tensor::from_op("concat", shape, data, tensors, move |g, _, needs| {
            offs.iter()
                .zip(needs)
                .map(|(&(s, n), &need)| {
                    need.then(|| {
                        let len = n * inner;
                        let mut gx = vec![0.0; outer * len];
                        for o in 0..outer {
                            gx[o * len..][..len]
                                .copy_from_slice(&g[(o * total + s) * inner..][..len]);
                        }
                        gx
                    })
                })
                .collect()
        })
    }

    /// Stacks equal-shaped tensors along a new dimension `axis`.
    pub fn stack(tensors: &[&Tensor], axis: usize) -> Tensor {
        let u: Vec<Tensor> = tensors.iter().map(|t| t.unsqueeze(axis)).collect();
        let refs: Vec<&Tensor> = u.iter().collect();
        Tensor::concat(&refs, axis as isize)
    }

    /// Splits along `axis` into pieces of the given sizes (which must add up
    /// to the dimension).
    pub fn split(&self, sizes: &[usize], axis: isize) -> Vec<Tensor> {
        let ax = norm_axis(axis, self.ndim());
        assert_eq!(
            sizes.iter().sum::<usize>(),
            self.shape()[ax],
            "split: sizes {sizes:?} do not add up to dimension {ax} of {:?}",
            self.shape()
        );
        let mut start = 0;
        sizes
            .iter()
            .map(|&n| {
                let t = self.slice(ax as isize, start, start + n);
                start += n;
                t
            })
            .collect()
    }

    /// Elements `start..end` along `axis`.
    pub fn slice(&self, axis: isize, start: usize, end: usize) -> Tensor {
        let ax = norm_axis(axis, self.ndim());
        let (outer, dim, inner) = split_at_axis(self.shape(), ax);
        assert!(
            start <= end && end <= dim,
            "slice {start}..{end} out of range for dimension {ax} of {:?}",
            self.shape()
        );
        let n = end - start;
        let mut shape = self.shape().to_vec();
        shape[ax] = n;
        let len = n * inner;
        let mut data = Vec::with_capacity(outer * len);
        {
            let x = self.data();
            for o in 0..outer {
                data.extend_from_slice(&x[(o * dim + start) * inner..][..len]);
            }
        }
        let total = self.numel();
        Tensor::from_op("slice", shape, data, &[self], move |g, _, _| {
            let mut gx = vec![0.0; total];
            for o in 0..outer {
                gx[(o * dim + start) * inner..][..len].copy_from_slice(&g[o * len..][..len]);
            }
            vec![Some(gx)]
        })
    }

    /// Picks `indices` along `axis` (repeats allowed; gradients of repeats add).
    pub fn index_select(&self, axis: isize, indices: &[usize]) -> Tensor {
        let ax = norm_axis(axis, self.ndim());
        let (outer, dim, inner) = split_at_axis(self.shape(), ax);
        for &i in indices {
            assert!(
                i < dim,
                "index_select: index {i} out of range for dimension {ax} of {:?}",
                self.shape()
            );
        }
        let mut shape = self.shape().to_vec();
        shape[ax] = indices.len();
        let mut data = Vec::with_capacity(outer * indices.len() * inner);
        {
            let x = self.data();
            for o in 0..outer {
                for &i in indices {
                    data.extend_from_slice(&x[(o * dim + i) * inner..][..inner]);
                }
            }
        }
        let idx = indices.to_vec();
        let total = self.numel();
        Tensor::from_op("index_select", shape, data, &[self], move |g, _, _| {
            let mut gx = vec![0.0; total];
            let mut k = 0;
            for o in 0..outer {
                for &i in &idx {
                    let dst = &mut gx[(o * dim + i) * inner..][..inner];
                    dst.iter_mut()
                        .zip(&g[k * inner..][..inner])
                        .for_each(|(a, b)| *a += b);
                    k += 1;
                }
            }
            vec![Some(gx)]
        })
    }

    /// PyTorch's `gather`: `out[.., j, ..] = self[.., index[.., j, ..], ..]`
    /// along `axis`; `index` has the output's shape, which equals this shape
    /// except along `axis`.
    pub fn gather(&self, axis: isize, index: &[usize], index_shape: &[usize]) -> Tensor {
        let ax = norm_axis(axis, self.ndim());
        assert_eq!(
            index.len(),
            index_shape.iter().product::<usize>(),
            "gather: index does not fill {index_shape:?}"
        );
        assert!(
            index_shape.len() == self.ndim()
                && index_shape
                    .iter()
                    .zip(self.shape())
                    .enumerate()
                    .all(|(i, (a, b))| i == ax || a == b),
            "gather along {ax}: index shape {index_shape:?} does not match {:?}",
            self.shape()
        );
        let (outer, dim, inner) = split_at_axis(self.shape(), ax);
        let m = index_shape[ax];
        let mut src = Vec::with_capacity(index.len());
        for o in 0..outer {
            for j in 0..m {
                for i in 0..inner {
                    let k = index[(o * m + j) * inner + i];
                    assert!(
                        k < dim,
                        "gather: index {k} out of range for dimension {ax} of {:?}",
                        self.shape()
                    );
                    src.push((o * dim + k) * inner + i);
                }
            }
        }
        let data = {
            let x = self.data();
            src.iter().map(|&s| x[s]).collect()
        };
        let total = self.numel();
        Tensor::from_op(
            "gather",
            index_shape.to_vec(),
            data,
            &[self],
            move |g, _, _| {
                let mut gx = vec![0.0; total];
                for (k, &s) in src.iter().enumerate() {
                    gx[s] += g[k];
                }
                vec![Some(gx)]
            },
        )
    }

    /// Pads with a constant: `pads[d] = (before, after)` for every dimension.
    pub fn pad(&self, pads: &[(usize, usize)], value: f32) -> Tensor {
        assert_eq!(
            pads.len(),
            self.ndim(),
            "pad: {} (before, after) pairs for rank {}",
            pads.len(),
            self.ndim()
        );
        let shape: Vec<usize> = self
            .shape()
            .iter()
            .zip(pads)
            .map(|(&d, &(a, b))| d + a + b)
            .collect();
        let out_strides = contiguous_strides(&shape);
        // Offset in the output of every input element.
        let offset: usize = pads
            .iter()
            .zip(&out_strides)
            .map(|(&(a, _), &s)| a * s)
            .sum();
        let zero = vec![0; shape.len()];
        let mut dst = Vec::with_capacity(self.numel());
        super::elementwise::walk2(self.shape(), &out_strides, &zero, |_, o, _| {
            dst.push(offset + o)
        });
        let mut data = vec![value; shape.iter().product()];
        {
            let x = self.data();
            for (i, &o) in dst.iter().enumerate() {
                data[o] = x[i];
            }
        }
        Tensor::from_op("pad", shape, data, &[self], move |g, _, _| {
            vec![Some(dst.iter().map(|&o| g[o]).collect())]
        })
    }
}

/// Copies `x` of `shape` into the layout permuted by `perm`.
fn permute_data(x: &[f32], shape: &[usize], perm: &[usize]) -> Vec<f32> {
    let in_strides = contiguous_strides(shape);
    let out_shape: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
    let src_strides: Vec<usize> = perm.iter().map(|&p| in_strides[p]).collect();
    let zero = vec![0; shape.len()];
    let mut out = vec![0.0; x.len()];
    super::elementwise::walk2(&out_shape, &src_strides, &zero, |i, s, _| out[i] = x[s]);
    out
}
