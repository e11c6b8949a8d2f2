//! Matrix products through `matrixmultiply`'s SGEMM (any strides, so
//! transposes cost nothing): `matmul` (batched) and the fused `linear`
//! (`x Wᵀ + b`, PyTorch's layout: `W` is `[out, in]`, which is also TFLite's
//! fully-connected weight layout).

use crate::autograd::tensor::Tensor;

/// A strided matrix operand: `(data, row stride, column stride)`.
pub(crate) type Mat<'a> = (&'a [f32], usize, usize);

/// `C = A·B + beta·C` with `A: m×k`, `B: k×n`, `C: m×n`, all strided.
///
/// # Panics
/// If a slice is too short for its shape and strides.
#[allow(clippy::too_many_arguments)] // BLAS's own signature
#[allow(unsafe_code)] // the one unsafe call of the training stack, bounds-checked below
pub(crate) fn gemm(
    m: usize,
    k: usize,
    n: usize,
    a: Mat<'_>,
    b: Mat<'_>,
    beta: f32,
    c: &mut [f32],
    rsc: usize,
    csc: usize,
) {
    if m == 0 || n == 0 {
        return;
    }
    let last = |rows: usize, cols: usize, rs: usize, cs: usize| (rows - 1) * rs + (cols - 1) * cs;
    assert!(last(m, n, rsc, csc) < c.len(), "gemm: C too short");
    if k == 0 {
        for i in 0..m {
            for j in 0..n {
                c[i * rsc + j * csc] *= beta;
            }
        }
        return;
    }
    assert!(last(m, k, a.1, a.2) < a.0.len(), "gemm: A too short");
    assert!(last(k, n, b.1, b.2) < b.0.len(), "gemm: B too short");
    // SAFETY: every index the kernel touches, (i·rs + j·cs) for i < rows and
    // j < cols, is at most the `last` offset checked above, so all reads and
    // writes stay inside the slices; `c` is borrowed mutably and cannot alias
    // `a` or `b`.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.0.as_ptr(),
            a.1 as isize,
            a.2 as isize,
            b.0.as_ptr(),
            b.1 as isize,
            b.2 as isize,
            beta,
            c.as_mut_ptr(),
            rsc as isize,
            csc as isize,
        );
    }
}

impl Tensor {
    /// Matrix product. `[.., m, k] × [.., k, n] → [.., m, n]`: both 2-D, or
    /// batched with equal leading dimensions, or either side 2-D (shared
    /// across the other's batch).
    pub fn matmul(&self, other: &Tensor) -> Tensor {
        let (sa, sb) = (self.shape(), other.shape());
        assert!(
            sa.len() >= 2 && sb.len() >= 2,
            "matmul needs rank ≥ 2, got {sa:?} × {sb:?}"
        );
        let (m, k) = (sa[sa.len() - 2], sa[sa.len() - 1]);
        let (k2, n) = (sb[sb.len() - 2], sb[sb.len() - 1]);
        assert_eq!(k, k2, "matmul: inner dimensions differ in {sa:?} × {sb:?}");
        let (ba, bb) = (&sa[..sa.len() - 2], &sb[..sb.len() - 2]);
        let batch_shape: Vec<usize> = if ba.is_empty() {
            bb.to_vec()
        } else if bb.is_empty() || ba == bb {
            ba.to_vec()
        } else {
            panic!(
                "matmul: batch dimensions {ba:?} and {bb:?} differ (broadcast one side explicitly)"
            )
        };
        let batch: usize = batch_shape.iter().product();
        let (a_batched, b_batched) = (!ba.is_empty(), !bb.is_empty());
        let mut data = vec![0.0; batch * m * n];
        {
            let (ad, bd) = (self.data(), other.data());
            if a_batched && !b_batched {
                // One GEMM: rows of all batches at once.
                gemm(
                    batch * m,
                    k,
                    n,
                    (&ad, k, 1),
                    (&bd, n, 1),
                    0.0,
                    &mut data,
                    n,
                    1,
                );
            } else {
                for i in 0..batch {
                    let a = if a_batched {
                        &ad[i * m * k..][..m * k]
                    } else {
                        &ad[..]
                    };
                    let b = if b_batched {
                        &bd[i * k * n..][..k * n]
                    } else {
                        &bd[..]
                    };
                    gemm(
                        m,
                        k,
                        n,
                        (a, k, 1),
                        (b, n, 1),
                        0.0,
                        &mut data[i * m * n..][..m * n],
                        n,
                        1,
                    );
                }
            }
        }
        let mut shape = batch_shape;
        shape.extend([m, n]);
        let (a, b) = (self.clone(), other.clone());
        Tensor::from_op("matmul", shape, data, &[self, other], move |g, _, needs| {
            let (ad, bd) = (a.data(), b.data());
            // dA = dC·Bᵀ, dB = Aᵀ·dC (summed over the batch for a shared side).
            let ga = needs[0].then(|| {
                let mut ga = vec![0.0; ad.len()];
                if a_batched && !b_batched {
                    gemm(batch * m, n, k, (g, n, 1), (&bd, 1, n), 0.0, &mut ga, k, 1);
                } else {
                    for i in 0..batch {
                        let b = if b_batched {
                            &bd[i * k * n..][..k * n]
                        } else {
                            &bd[..]
                        };
                        let (dst, beta) = if a_batched {
                            (&mut ga[i * m * k..][..m * k], 0.0)
                        } else {
                            (&mut ga[..], 1.0)
                        };
                        gemm(m, n, k, (&g[i * m * n..], n, 1), (b, 1, n), beta, dst, k, 1);
                    }
                }
                ga
            });
            let gb = needs[1].then(|| {
                let mut gb = vec![0.0; bd.len()];
                if a_batched && !b_batched {
                    gemm(k, batch * m, n, (&ad, 1, k), (g, n, 1), 0.0, &mut gb, n, 1);
                } else {
                    for i in 0..batch {
                        let a = if a_batched {
                            &ad[i * m * k..][..m * k]
                        } else {
                            &ad[..]
                        };
                        let (dst, beta) = if b_batched {
                            (&mut gb[i * k * n..][..k * n], 0.0)
                        } else {
                            (&mut gb[..], 1.0)
                        };
                        gemm(k, m, n, (a, 1, k), (&g[i * m * n..], n, 1), beta, dst, n, 1);
                    }
                }
                gb
            });
            vec![ga, gb]
        })
    }

    /// Fused fully-connected layer: `x Wᵀ + b` for `x: [.., in]`,
    /// `W: [out, in]`, `b: [out]`.
    pub fn linear(&self, weight: &Tensor, bias: Option<&Tensor>) -> Tensor {
        let xs = self.shape();
        let ws = weight.shape();
        assert!(
            ws.len() == 2 && !xs.is_empty() && xs[xs.len() - 1] == ws[1],
            "linear: input {xs:?} does not match weight {ws:?} ([out, in])"
        );
        let (out_f, in_f) = (ws[0], ws[1]);
        if let Some(b) = bias {
            assert_eq!(
                b.shape(),
                [out_f],
                "linear: bias shape {:?}, expected [{out_f}]",
                b.shape()
            );
        }
        let rows = self.numel() / in_f;
        let mut data = vec![0.0; rows * out_f];
        let beta = if let Some(b) = bias {
            let bd = b.data();
            data.chunks_exact_mut(out_f)
                .for_each(|r| r.copy_from_slice(&bd));
            1.0
        } else {
            0.0
        };
        gemm(
            rows,
            in_f,
            out_f,
            (&self.data(), in_f, 1),
            (&weight.data(), 1, in_f),
            beta,
            &mut data,
            out_f,
            1,
        );
        let mut shape = xs.to_vec();
        *shape.last_mut().unwrap() = out_f;
        let (x, w) = (self.clone(), weight.clone());
        let parents: Vec<&Tensor> = match bias {
            Some(b) => vec![self, weight, b],
            None => vec![self, weight],
        };
        Tensor::from_op("linear", shape, data, &parents, move |g, _, needs| {
            let gx = needs[0].then(|| {
                let mut gx = vec![0.0; rows * in_f];
                gemm(
                    rows,
                    out_f,
                    in_f,
                    (g, out_f, 1),
                    (&w.data(), in_f, 1),
                    0.0,
                    &mut gx,
                    in_f,
                    1,
                );
                gx
            });
            let gw = needs[1].then(|| {
                let mut gw = vec![0.0; out_f * in_f];
                gemm(
                    out_f,
                    rows,
                    in_f,
                    (g, 1, out_f),
                    (&x.data(), in_f, 1),
                    0.0,
                    &mut gw,
                    in_f,
                    1,
                );
                gw
            });
            let mut res = vec![gx, gw];
            if needs.len() == 3 {
                res.push(needs[2].then(|| {
                    let mut gb = vec![0.0; out_f];
                    g.chunks_exact(out_f)
                        .for_each(|r| gb.iter_mut().zip(r).for_each(|(a, b)| *a += b));
                    gb
                }));
            }
            res
        })
    }
}
