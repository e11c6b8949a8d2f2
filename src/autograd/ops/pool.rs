//! Pooling, channels-last: max and average pooling over NHWC (2-D) and NWC
//! (1-D) inputs, and global average pooling.
//!
//! NOTE: average pooling divides by the number of *in-bounds* elements of
//! each window (TensorFlow/TFLite behaviour, PyTorch's
//! `count_include_pad=False`); max pooling ignores padding.

use super::conv::conv_out_len;
use crate::autograd::tensor::Tensor;

/// Geometry of a 2-D pooling window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2dParams {
    /// Window `[kh, kw]`.
    pub kernel: [usize; 2],
    /// Stride `[sh, sw]`.
    pub stride: [usize; 2],
    /// Padding `[[top, bottom], [left, right]]`.
    pub padding: [[usize; 2]; 2],
}

impl Pool2dParams {
    /// A `k×k` window with stride `k` and no padding (the usual pooling).
    pub fn square(k: usize) -> Self {
        Pool2dParams {
            kernel: [k, k],
            stride: [k, k],
            padding: [[0, 0], [0, 0]],
        }
    }
}

/// Calls `f(out_pixel, in_pixel)` for every in-bounds window element.
fn for_each_window(
    h: usize,
    w: usize,
    oh: usize,
    ow: usize,
    p: &Pool2dParams,
    mut f: impl FnMut(usize, Option<usize>),
) {
    let (pt, pl) = (p.padding[0][0] as isize, p.padding[1][0] as isize);
    for oy in 0..oh {
        for ox in 0..ow {
            let op = oy * ow + ox;
            for ky in 0..p.kernel[0] {
                let iy = (oy * p.stride[0] + ky) as isize - pt;
                for kx in 0..p.kernel[1] {
                    let ix = (ox * p.stride[1] + kx) as isize - pl;
                    let inside = iy >= 0 && iy < h as isize && ix >= 0 && ix < w as isize;
                    f(op, inside.then(|| iy as usize * w + ix as usize));
                }
            }
        }
    }
}

fn pool_dims(
    xs: &[usize],
    p: &Pool2dParams,
    what: &str,
) -> (usize, usize, usize, usize, usize, usize) {
    assert!(
        xs.len() == 4,
        "{what}: input must be NHWC (rank 4), got {xs:?}"
    );
    assert!(
        p.kernel.iter().chain(&p.stride).all(|&v| v > 0),
        "{what}: zero kernel or stride in {p:?}"
    );
    let oh = conv_out_len(
        xs[1],
        p.kernel[0],
        p.stride[0],
        p.padding[0][0] + p.padding[0][1],
        1,
    );
    let ow = conv_out_len(
        xs[2],
        p.kernel[1],
        p.stride[1],
        p.padding[1][0] + p.padding[1][1],
        1,
    );
    (xs[0], xs[1], xs[2], xs[3], oh, ow)
}

impl Tensor {
    /// 2-D max pooling of an NHWC input; the gradient goes to the first
    /// maximal element of each window.
    pub fn max_pool2d(&self, p: Pool2dParams) -> Tensor {
        let (n, h, w, c, oh, ow) = pool_dims(self.shape(), &p, "max_pool2d");
        let mut out = vec![0.0; n * oh * ow * c];
        out.fill(f32::NEG_INFINITY);
        assert!(
            self.numel() < u32::MAX as usize,
            "max_pool2d: tensor too large for u32 indices"
        );
        let mut arg = vec![u32::MAX; out.len()];
        {
            let x = self.data();
            // Per output pixel: the in-bounds window rows and columns, then a
            // channel-contiguous running max over slices (no per-element checks).
            let (pt, pl) = (p.padding[0][0] as isize, p.padding[1][0] as isize);
            let clip = |start: isize, k: usize, len: usize| {
                start.max(0) as usize..(start + k as isize).clamp(0, len as isize) as usize
            };
            for b in 0..n {
                for oy in 0..oh {
                    let ys = clip((oy * p.stride[0]) as isize - pt, p.kernel[0], h);
                    for ox in 0..ow {
                        let xs = clip((ox * p.stride[1]) as isize - pl, p.kernel[1], w);
                        let o = ((b * oh + oy) * ow + ox) * c;
                        let (out_px, arg_px) = (&mut out[o..o + c], &mut arg[o..o + c]);
                        let mut first = true;
                        for iy in ys.clone() {
                            for ix in xs.clone() {
                                let i = ((b * h + iy) * w + ix) * c;
                                let win = out_px
                                    .iter_mut()
                                    .zip(arg_px.iter_mut())
                                    .zip(&x[i..i + c])
                                    .enumerate();
                                if first {
                                    for (k, ((m, a), &v)) in win {
                                        (*m, *a) = (v, (i + k) as u32);
                                    }
                                    first = false;
                                    continue;
                                }
                                // Branch-free update (the comparison is data
                                // dependent and would mispredict half the time).
                                for (k, ((m, a), &v)) in win {
                                    let better = (v > *m) as u32;
                                    *m = if v > *m { v } else { *m };
                                    *a = a.wrapping_add(
                                        better.wrapping_mul(((i + k) as u32).wrapping_sub(*a)),
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
        let total = self.numel();
        Tensor::from_op(
            "max_pool2d",
            vec![n, oh, ow, c],
            out,
            &[self],
            move |g, _, _| {
                let mut gx = vec![0.0; total];
                for (o, &i) in arg.iter().enumerate() {
                    if i != u32::MAX {
                        gx[i as usize] += g[o];
                    }
                }
                vec![Some(gx)]
            },
        )
    }

    /// 2-D average pooling of an NHWC input (see the module NOTE on padding).
    pub fn avg_pool2d(&self, p: Pool2dParams) -> Tensor {
        let (n, h, w, c, oh, ow) = pool_dims(self.shape(), &p, "avg_pool2d");
        let mut count = vec![0u32; oh * ow];
        for_each_window(h, w, oh, ow, &p, |op, ip| count[op] += ip.is_some() as u32);
        let mut out = vec![0.0; n * oh * ow * c];
        {
            let x = self.data();
            for b in 0..n {
                let (xo, oo) = (b * h * w * c, b * oh * ow * c);
                for_each_window(h, w, oh, ow, &p, |op, ip| {
                    let Some(ip) = ip else { return };
                    let s = 1.0 / count[op] as f32;
                    for ch in 0..c {
                        out[oo + op * c + ch] += x[xo + ip * c + ch] * s;
                    }
                });
            }
        }
        let total = self.numel();
        Tensor::from_op(
            "avg_pool2d",
            vec![n, oh, ow, c],
            out,
            &[self],
            move |g, _, _| {
                let mut gx = vec![0.0; total];
                for b in 0..n {
                    let (xo, oo) = (b * h * w * c, b * oh * ow * c);
                    for_each_window(h, w, oh, ow, &p, |op, ip| {
                        let Some(ip) = ip else { return };
                        let s = 1.0 / count[op] as f32;
                        for ch in 0..c {
                            gx[xo + ip * c + ch] += g[oo + op * c + ch] * s;
                        }
                    });
                }
                vec![Some(gx)]
            },
        )
    }

    /// 1-D max pooling of an NWC input `[n, len, c]`; `padding = [left, right]`.
    pub fn max_pool1d(&self, kernel: usize, stride: usize, padding: [usize; 2]) -> Tensor {
        self.pool1d(kernel, stride, padding, true)
    }

    /// 1-D average pooling of an NWC input `[n, len, c]`.
    pub fn avg_pool1d(&self, kernel: usize, stride: usize, padding: [usize; 2]) -> Tensor {
        self.pool1d(kernel, stride, padding, false)
    }

    fn pool1d(&self, kernel: usize, stride: usize, padding: [usize; 2], max: bool) -> Tensor {
        let s = self.shape();
        assert!(
            s.len() == 3,
            "pool1d: input must be NWC (rank 3), got {s:?}"
        );
        let x4 = self.reshape(&[s[0], 1, s[1], s[2]]);
        let p = Pool2dParams {
            kernel: [1, kernel],
            stride: [1, stride],
            padding: [[0, 0], padding],
        };
        let y = if max {
            x4.max_pool2d(p)
        } else {
            x4.avg_pool2d(p)
        };
        let ys = y.shape().to_vec();
        y.reshape(&[ys[0], ys[2], ys[3]])
    }

    /// Mean over every axis between the batch and the channels
    /// (`[n, .., c] → [n, c]`): global average pooling, channels-last.
    pub fn global_avg_pool(&self) -> Tensor {
        let r = self.ndim();
        assert!(
            r >= 3,
            "global_avg_pool: needs [n, spatial.., c], got {:?}",
            self.shape()
        );
        let axes: Vec<isize> = (1..r as isize - 1).collect();
        self.mean(&axes, false)
    }
}
