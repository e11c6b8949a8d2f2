//! Convolution, channels-last: `conv2d` on NHWC inputs with OHWI filters
//! (`[out, kh, kw, in/groups]`), `conv1d` on NWC inputs with OWI filters —
//! the device's layouts, so a trained filter exports without a transpose.
//!
//! Method: im2col + GEMM. In NHWC a patch row `(kh, kw, c)` is a run of
//! contiguous channel copies, and an OHWI filter is already the `[out, K]`
//! matrix, so `out[n·oh·ow, O] = cols[n·oh·ow, K] · Wᵀ` lands directly in
//! NHWC. The batch is cut into fixed chunks of images processed in
//! parallel with rayon; the chunking does not depend on the thread count,
//! and partial weight gradients are summed in chunk order, so results are
//! bit-identical whatever the number of threads.
//!
//! Groups: `groups = g` splits input and output channels into `g` blocks;
//! depthwise is `groups = in_channels` (with `out = in × multiplier`).

use rayon::prelude::*;

use super::matmul::gemm;
use crate::autograd::tensor::Tensor;

/// Images per parallel chunk (fixed so results never depend on threads).
const CHUNK_IMAGES: usize = 8;
/// Below this many MACs a convolution runs on the calling thread.
const PARALLEL_MIN_MACS: usize = 1 << 20;

/// Geometry of a 2-D convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dParams {
    /// Stride `[sh, sw]`.
    pub stride: [usize; 2],
    /// Zero padding `[[top, bottom], [left, right]]`.
    pub padding: [[usize; 2]; 2],
    /// Dilation `[dh, dw]`.
    pub dilation: [usize; 2],
    /// Channel groups (depthwise: `groups = in_channels`).
    pub groups: usize,
}

impl Default for Conv2dParams {
    fn default() -> Self {
        Conv2dParams {
            stride: [1, 1],
            padding: [[0, 0], [0, 0]],
            dilation: [1, 1],
            groups: 1,
        }
    }
}

/// Output length of a convolution or pooling window along one axis.
pub fn conv_out_len(
    input: usize,
    kernel: usize,
    stride: usize,
    pad_total: usize,
    dilation: usize,
) -> usize {
    let span = dilation * (kernel - 1) + 1;
    assert!(
        input + pad_total >= span,
        "window of {span} (kernel {kernel}, dilation {dilation}) is larger than the padded input {}",
        input + pad_total
    );
    (input + pad_total - span) / stride + 1
}

/// TensorFlow's "SAME" padding `(before, after)` along one axis: the output
/// has `ceil(input / stride)` elements, extra padding goes after.
pub fn same_padding(input: usize, kernel: usize, stride: usize, dilation: usize) -> [usize; 2] {
    let out = input.div_ceil(stride);
    let span = dilation * (kernel - 1) + 1;
    let total = ((out - 1) * stride + span).saturating_sub(input);
    [total / 2, total - total / 2]
}

#[derive(Clone, Copy)]
struct Geo {
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    o: usize,
    kh: usize,
    kw: usize,
    g: usize,
    cg: usize,
    og: usize,
    oh: usize,
    ow: usize,
    p: Conv2dParams,
}

impl Geo {
    /// Patch length `kh·kw·cg`.
    fn k(&self) -> usize {
        self.kh * self.kw * self.cg
    }
    /// Output pixels per image.
    fn pix(&self) -> usize {
        self.oh * self.ow
    }
    /// 1×1, stride 1, no padding, one group: the input is its own im2col.
    fn pointwise(&self) -> bool {
        self.kh == 1
            && self.kw == 1
            && self.p.stride == [1, 1]
            && self.p.padding == [[0, 0], [0, 0]]
            && self.g == 1
    }

    /// Calls `f(row, col_offset, input_offset)` for every in-bounds
    /// `cg`-long run of one image and group.
    #[inline]
    fn for_each_patch_run(&self, group: usize, mut f: impl FnMut(usize, usize, usize)) {
        let [sh, sw] = self.p.stride;
        let [dh, dw] = self.p.dilation;
        let (pt, pl) = (self.p.padding[0][0] as isize, self.p.padding[1][0] as isize);
        for oy in 0..self.oh {
            for ox in 0..self.ow {
                let row = oy * self.ow + ox;
                for ky in 0..self.kh {
                    let iy = (oy * sh + ky * dh) as isize - pt;
                    if iy < 0 || iy >= self.h as isize {
                        continue;
                    }
                    for kx in 0..self.kw {
                        let ix = (ox * sw + kx * dw) as isize - pl;
                        if ix < 0 || ix >= self.w as isize {
                            continue;
                        }
                        let src = (iy as usize * self.w + ix as usize) * self.c + group * self.cg;
                        f(row, (ky * self.kw + kx) * self.cg, src);
                    }
                }
            }
        }
    }

    /// Like [`for_each_patch_run`](Self::for_each_patch_run), but with one
    /// group and unit horizontal dilation the in-bounds taps of a kernel row
    /// are adjacent pixels, contiguous in both the input and the patch:
    /// `f(row, col_offset, input_offset, len)` gets them as one run of
    /// `len = taps·c` values (3× longer copies for a 3×3 kernel).
    #[inline]
    fn for_each_row_run(&self, group: usize, mut f: impl FnMut(usize, usize, usize, usize)) {
        if self.g != 1 || self.p.dilation[1] != 1 {
            let cg = self.cg;
            return self.for_each_patch_run(group, |row, col, src| f(row, col, src, cg));
        }
        let [sh, sw] = self.p.stride;
        let dh = self.p.dilation[0];
        let (pt, pl) = (self.p.padding[0][0] as isize, self.p.padding[1][0] as isize);
        let c = self.c;
        for oy in 0..self.oh {
            for ox in 0..self.ow {
                let row = oy * self.ow + ox;
                let x0 = (ox * sw) as isize - pl;
                let kx0 = (-x0).max(0) as usize;
                let kx1 = ((self.w as isize - x0).min(self.kw as isize)).max(0) as usize;
                if kx0 >= kx1 {
                    continue;
                }
                for ky in 0..self.kh {
                    let iy = (oy * sh + ky * dh) as isize - pt;
                    if iy < 0 || iy >= self.h as isize {
                        continue;
                    }
                    let src = (iy as usize * self.w + (x0 + kx0 as isize) as usize) * c;
                    f(row, (ky * self.kw + kx0) * c, src, (kx1 - kx0) * c);
                }
            }
        }
    }

    /// Whether [`im2col_dense`](Self::im2col_dense) applies.
    fn dense_im2col(&self) -> bool {
        self.g == 1 && self.p.dilation[1] == 1
    }

    /// im2col of one image into `cols` (`pix × k`) writing every value,
    /// zeros included, so `cols` need not be cleared first (one group,
    /// unit horizontal dilation).
    fn im2col_dense(&self, x: &[f32], cols: &mut [f32]) {
        let [sh, sw] = self.p.stride;
        let dh = self.p.dilation[0];
        let (pt, pl) = (self.p.padding[0][0] as isize, self.p.padding[1][0] as isize);
        let (c, k, run) = (self.c, self.k(), self.kw * self.c);
        for oy in 0..self.oh {
            for ox in 0..self.ow {
                let row = &mut cols[(oy * self.ow + ox) * k..][..k];
                let x0 = (ox * sw) as isize - pl;
                let kx0 = ((-x0).max(0) as usize).min(self.kw);
                let kx1 = ((self.w as isize - x0).min(self.kw as isize)).max(kx0 as isize) as usize;
                for ky in 0..self.kh {
                    let dst = &mut row[ky * run..][..run];
                    let iy = (oy * sh + ky * dh) as isize - pt;
                    if iy < 0 || iy >= self.h as isize || kx0 == kx1 {
                        dst.fill(0.0);
                        continue;
                    }
                    let src = (iy as usize * self.w + (x0 + kx0 as isize) as usize) * c;
                    dst[..kx0 * c].fill(0.0);
                    dst[kx0 * c..kx1 * c].copy_from_slice(&x[src..][..(kx1 - kx0) * c]);
                    dst[kx1 * c..].fill(0.0);
                }
            }
        }
    }

    /// im2col of one image and group into `cols` (`pix × k`, pre-zeroed).
    fn im2col(&self, x: &[f32], group: usize, cols: &mut [f32]) {
        let k = self.k();
        self.for_each_row_run(group, |row, col, src, len| {
            let (d, s) = (&mut cols[row * k + col..][..len], &x[src..][..len]);
            if len == 1 {
                d[0] = s[0]; // a call to memcpy would cost more than the copy
            } else {
                d.copy_from_slice(s);
            }
        });
    }

    /// Adds the patch gradients `dcols` back into the image gradient `dx`.
    fn col2im(&self, dcols: &[f32], group: usize, dx: &mut [f32]) {
        let k = self.k();
        self.for_each_row_run(group, |row, col, src, len| {
            dx[src..][..len]
                .iter_mut()
                .zip(&dcols[row * k + col..][..len])
                .for_each(|(a, b)| *a += b)
        });
    }
}

/// Runs `f` over `items`, in parallel when `par`.
fn run<T: Send>(par: bool, items: Vec<T>, f: impl Fn(T) + Send + Sync) {
    if par {
        items.into_par_iter().for_each(f)
    } else {
        items.into_iter().for_each(f)
    }
}

/// Maps `f` over `items` keeping order, in parallel when `par`.
fn run_map<T: Send, R: Send>(par: bool, items: Vec<T>, f: impl Fn(T) -> R + Send + Sync) -> Vec<R> {
    if par {
        items.into_par_iter().map(f).collect()
    } else {
        items.into_iter().map(f).collect()
    }
}

impl Tensor {
    /// 2-D convolution of an NHWC input with an OHWI filter
    /// `[out, kh, kw, in/groups]` and an optional bias `[out]`.
    pub fn conv2d(&self, weight: &Tensor, bias: Option<&Tensor>, p: Conv2dParams) -> Tensor {
        let (xs, ws) = (self.shape(), weight.shape());
        assert!(
            xs.len() == 4,
            "conv2d: input must be NHWC (rank 4), got {xs:?}"
        );
        assert!(
            ws.len() == 4,
            "conv2d: weight must be OHWI (rank 4), got {ws:?}"
        );
        assert!(
            p.groups >= 1 && p.stride.iter().all(|&s| s > 0) && p.dilation.iter().all(|&d| d > 0),
            "conv2d: zero stride, dilation or groups in {p:?}"
        );
        let (n, h, w, c) = (xs[0], xs[1], xs[2], xs[3]);
        let (o, kh, kw, cg) = (ws[0], ws[1], ws[2], ws[3]);
        let g = p.groups;
        assert!(c % g == 0 && o % g == 0 && c / g == cg, "conv2d: input channels {c}, output channels {o}, groups {g} and weight {ws:?} disagree (weight's last dimension must be in/groups)");
        if let Some(b) = bias {
            assert_eq!(
                b.shape(),
                [o],
                "conv2d: bias shape {:?}, expected [{o}]",
                b.shape()
            );
        }
        let oh = conv_out_len(
            h,
            kh,
            p.stride[0],
            p.padding[0][0] + p.padding[0][1],
            p.dilation[0],
        );
        let ow = conv_out_len(
            w,
            kw,
            p.stride[1],
            p.padding[1][0] + p.padding[1][1],
            p.dilation[1],
        );
        let geo = Geo {
            n,
            h,
            w,
            c,
            o,
            kh,
            kw,
            g,
            cg,
            og: o / g,
            oh,
            ow,
            p,
        };
        let (k, pix) = (geo.k(), geo.pix());
        let par = n * pix * k * o >= PARALLEL_MIN_MACS && n > CHUNK_IMAGES;
        if g > 1 && cg == 1 {
            return self.conv2d_depthwise(weight, bias, geo, par);
        }

        let mut out = vec![0.0; n * pix * o];
        let beta = if let Some(b) = bias {
            let bd = b.data();
            out.chunks_exact_mut(o).for_each(|r| r.copy_from_slice(&bd));
            1.0
        } else {
            0.0
        };
        let pointwise = geo.pointwise();
        let mut cols = if pointwise {
            Vec::new()
        } else {
            vec![0.0; n * g * pix * k]
        };
        {
            let xd = self.data();
            let wd = weight.data();
            let (xd, wd): (&[f32], &[f32]) = (&xd, &wd);
            let img = h * w * c;
            let chunks: Vec<(usize, &mut [f32], &mut [f32])> = if pointwise {
                out.chunks_mut(CHUNK_IMAGES * pix * o)
                    .enumerate()
                    .map(|(i, oc)| (i, oc, &mut [][..]))
                    .collect()
            } else {
                out.chunks_mut(CHUNK_IMAGES * pix * o)
                    .zip(cols.chunks_mut(CHUNK_IMAGES * g * pix * k))
                    .enumerate()
                    .map(|(i, (oc, cc))| (i, oc, cc))
                    .collect()
            };
            run(par, chunks, |(ci, out_c, cols_c)| {
                let first = ci * CHUNK_IMAGES;
                let nc = out_c.len() / (pix * o);
                if pointwise {
                    let xc = &xd[first * img..][..nc * img];
                    gemm(nc * pix, k, o, (xc, k, 1), (wd, 1, k), beta, out_c, o, 1);
                    return;
                }
                for i in 0..nc {
                    let xi = &xd[(first + i) * img..][..img];
                    for gi in 0..g {
                        let dst = &mut cols_c[(i * g + gi) * pix * k..][..pix * k];
                        if geo.dense_im2col() {
                            geo.im2col_dense(xi, dst);
                        } else {
                            geo.im2col(xi, gi, dst);
                        }
                    }
                }
                if g == 1 {
                    gemm(
                        nc * pix,
                        k,
                        o,
                        (cols_c, k, 1),
                        (wd, 1, k),
                        beta,
                        out_c,
                        o,
                        1,
                    );
                } else {
                    let og = geo.og;
                    for i in 0..nc {
                        for gi in 0..g {
                            let a = &cols_c[(i * g + gi) * pix * k..][..pix * k];
                            let b = &wd[gi * og * k..][..og * k];
                            gemm(
                                pix,
                                k,
                                og,
                                (a, k, 1),
                                (b, 1, k),
                                beta,
                                &mut out_c[i * pix * o + gi * og..],
                                o,
                                1,
                            );
                        }
                    }
                }
            });
        }
        if pointwise {
            cols = self.to_vec();
        }

        let w = weight.clone();
        let parents: Vec<&Tensor> = match bias {
            Some(b) => vec![self, weight, b],
            None => vec![self, weight],
        };
        Tensor::from_op(
            "conv2d",
            vec![n, oh, ow, o],
            out,
            &parents,
            move |gout, _, needs| {
                let geo = geo;
                let (k, pix, og) = (geo.k(), geo.pix(), geo.og);
                let img = geo.h * geo.w * geo.c;
                let wd = w.data();
                let wd: &[f32] = &wd;
                let nchunks = geo.n.div_ceil(CHUNK_IMAGES);
                let need_x = needs[0];
                let need_w = needs[1];
                let mut gx = if need_x {
                    vec![0.0; geo.n * img]
                } else {
                    Vec::new()
                };
                let chunk_x = CHUNK_IMAGES * img;
                let gx_chunks: Vec<Option<&mut [f32]>> = if need_x {
                    gx.chunks_mut(chunk_x).map(Some).collect()
                } else {
                    (0..nchunks).map(|_| None).collect()
                };
                let items: Vec<(usize, Option<&mut [f32]>)> =
                    gx_chunks.into_iter().enumerate().collect();
                let cols: &[f32] = &cols;
                let partial_gw = run_map(par, items, |(ci, gx_c)| {
                    let first = ci * CHUNK_IMAGES;
                    let nc = (geo.n - first).min(CHUNK_IMAGES);
                    let g_c = &gout[first * pix * geo.o..][..nc * pix * geo.o];
                    let cols_c = if pointwise {
                        &cols[first * img..][..nc * img]
                    } else {
                        &cols[first * geo.g * pix * k..][..nc * geo.g * pix * k]
                    };
                    let mut gw = Vec::new();
                    if need_w {
                        gw = vec![0.0; geo.o * k];
                        if geo.g == 1 {
                            gemm(
                                geo.o,
                                nc * pix,
                                k,
                                (g_c, 1, geo.o),
                                (cols_c, k, 1),
                                0.0,
                                &mut gw,
                                k,
                                1,
                            );
                        } else {
                            for i in 0..nc {
                                for gi in 0..geo.g {
                                    let a = &g_c[i * pix * geo.o + gi * og..];
                                    let b = &cols_c[(i * geo.g + gi) * pix * k..][..pix * k];
                                    gemm(
                                        og,
                                        pix,
                                        k,
                                        (a, 1, geo.o),
                                        (b, k, 1),
                                        1.0,
                                        &mut gw[gi * og * k..][..og * k],
                                        k,
                                        1,
                                    );
                                }
                            }
                        }
                    }
                    if let Some(gx_c) = gx_c {
                        if pointwise {
                            gemm(
                                nc * pix,
                                geo.o,
                                k,
                                (g_c, geo.o, 1),
                                (wd, k, 1),
                                0.0,
                                gx_c,
                                k,
                                1,
                            );
                        } else if geo.g == 1 {
                            // One GEMM for the whole chunk, then col2im per image.
                            let mut dcols = vec![0.0; nc * pix * k];
                            gemm(
                                nc * pix,
                                geo.o,
                                k,
                                (g_c, geo.o, 1),
                                (wd, k, 1),
                                0.0,
                                &mut dcols,
                                k,
                                1,
                            );
                            for i in 0..nc {
                                geo.col2im(
                                    &dcols[i * pix * k..][..pix * k],
                                    0,
                                    &mut gx_c[i * img..][..img],
                                );
                            }
                        } else {
                            let mut dcols = vec![0.0; pix * k];
                            for i in 0..nc {
                                let dx = &mut gx_c[i * img..][..img];
                                for gi in 0..geo.g {
                                    let a = &g_c[i * pix * geo.o + gi * og..];
                                    let b = &wd[gi * og * k..][..og * k];
                                    gemm(
                                        pix,
                                        og,
                                        k,
                                        (a, geo.o, 1),
                                        (b, k, 1),
                                        0.0,
                                        &mut dcols,
                                        k,
                                        1,
                                    );
                                    geo.col2im(&dcols, gi, dx);
                                }
                            }
                        }
                    }
                    gw
                });
                let gw = need_w.then(|| {
                    let mut acc = vec![0.0; geo.o * k];
                    for p in partial_gw {
                        acc.iter_mut().zip(&p).for_each(|(a, b)| *a += b);
                    }
                    acc
                });
                let mut res = vec![need_x.then_some(gx), gw];
                if needs.len() == 3 {
                    res.push(needs[2].then(|| {
                        let mut gb = vec![0.0; geo.o];
                        gout.chunks_exact(geo.o)
                            .for_each(|r| gb.iter_mut().zip(r).for_each(|(a, b)| *a += b));
                        gb
                    }));
                }
                res
            },
        )
    }

    /// Depthwise convolution (`groups = in_channels`, `out = in × m`) by
    /// direct loops: per output pixel and filter tap, one multiply-add over
    /// the contiguous channels. A GEMM per channel would have one output
    /// column and waste the kernel.
    fn conv2d_depthwise(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        geo: Geo,
        par: bool,
    ) -> Tensor {
        let Geo {
            n,
            h,
            w,
            c,
            o,
            kh,
            kw,
            oh,
            ow,
            og: m,
            ..
        } = geo;
        let taps = kh * kw;
        let (img_in, img_out) = (h * w * c, oh * ow * o);
        // The filter as [tap][out channel]: each tap one contiguous row.
        let wt: Vec<f32> = {
            let wd = weight.data();
            let mut t = vec![0.0; taps * o];
            for oc in 0..o {
                for tap in 0..taps {
                    t[tap * o + oc] = wd[oc * taps + tap];
                }
            }
            t
        };
        let mut out = vec![0.0; n * img_out];
        if let Some(b) = bias {
            let bd = b.data();
            out.chunks_exact_mut(o).for_each(|r| r.copy_from_slice(&bd));
        }
        {
            let xd = self.data();
            let xd: &[f32] = &xd;
            let wt: &[f32] = &wt;
            let chunks: Vec<(usize, &mut [f32])> =
                out.chunks_mut(CHUNK_IMAGES * img_out).enumerate().collect();
            run(par, chunks, |(ci, out_c)| {
                for (i, oi) in out_c.chunks_mut(img_out).enumerate() {
                    let xi = &xd[(ci * CHUNK_IMAGES + i) * img_in..][..img_in];
                    geo.for_each_patch_run(0, |op, tap, src| {
                        let (dst, x_px, w_row) =
                            (&mut oi[op * o..][..o], &xi[src..][..c], &wt[tap * o..][..o]);
                        if m == 1 {
                            for ((d, &xv), &wv) in dst.iter_mut().zip(x_px).zip(w_row) {
                                *d += xv * wv;
                            }
                        } else {
                            for (ch, &xv) in x_px.iter().enumerate() {
                                for (d, &wv) in
                                    dst[ch * m..][..m].iter_mut().zip(&w_row[ch * m..][..m])
                                {
                                    *d += xv * wv;
                                }
                            }
                        }
                    });
                }
            });
        }
        let x = self.clone();
        let parents: Vec<&Tensor> = match bias {
            Some(b) => vec![self, weight, b],
            None => vec![self, weight],
        };
        Tensor::from_op(
            "conv2d_depthwise",
            vec![n, oh, ow, o],
            out,
            &parents,
            move |gout, _, needs| {
                let xd = x.data();
                let xd: &[f32] = &xd;
                let (need_x, need_w) = (needs[0], needs[1]);
                let mut gx = if need_x {
                    vec![0.0; n * img_in]
                } else {
                    Vec::new()
                };
                let nchunks = n.div_ceil(CHUNK_IMAGES);
                let gx_chunks: Vec<Option<&mut [f32]>> = if need_x {
                    gx.chunks_mut(CHUNK_IMAGES * img_in).map(Some).collect()
                } else {
                    (0..nchunks).map(|_| None).collect()
                };
                let items: Vec<(usize, Option<&mut [f32]>)> =
                    gx_chunks.into_iter().enumerate().collect();
                let wt: &[f32] = &wt;
                let partial = run_map(par, items, |(ci, mut gx_c)| {
                    let first = ci * CHUNK_IMAGES;
                    let nc = (n - first).min(CHUNK_IMAGES);
                    let mut dwt = if need_w {
                        vec![0.0; taps * o]
                    } else {
                        Vec::new()
                    };
                    for i in 0..nc {
                        let gi = &gout[(first + i) * img_out..][..img_out];
                        let xi = &xd[(first + i) * img_in..][..img_in];
                        let mut dxi = gx_c.as_mut().map(|g| &mut g[i * img_in..][..img_in]);
                        geo.for_each_patch_run(0, |op, tap, src| {
                            let (g_px, w_row) = (&gi[op * o..][..o], &wt[tap * o..][..o]);
                            if let Some(dx) = dxi.as_mut() {
                                let dx = &mut dx[src..][..c];
                                if m == 1 {
                                    for ((d, &gv), &wv) in dx.iter_mut().zip(g_px).zip(w_row) {
                                        *d += gv * wv;
                                    }
                                } else {
                                    for (ch, d) in dx.iter_mut().enumerate() {
                                        *d += g_px[ch * m..][..m]
                                            .iter()
                                            .zip(&w_row[ch * m..][..m])
                                            .map(|(g, w)| g * w)
                                            .sum::<f32>();
                                    }
                                }
                            }
                            if need_w {
                                let (dw, x_px) = (&mut dwt[tap * o..][..o], &xi[src..][..c]);
                                if m == 1 {
                                    for ((d, &gv), &xv) in dw.iter_mut().zip(g_px).zip(x_px) {
                                        *d += gv * xv;
                                    }
                                } else {
                                    for (oc, d) in dw.iter_mut().enumerate() {
                                        *d += g_px[oc] * x_px[oc / m];
                                    }
                                }
                            }
                        });
                    }
                    dwt
                });
                let gw = need_w.then(|| {
                    let mut acc = vec![0.0; taps * o];
                    for p in &partial {
                        acc.iter_mut().zip(p).for_each(|(a, b)| *a += b);
                    }
                    let mut gw = vec![0.0; o * taps];
                    for oc in 0..o {
                        for tap in 0..taps {
                            gw[oc * taps + tap] = acc[tap * o + oc];
                        }
                    }
                    gw
                });
                let mut res = vec![need_x.then_some(gx), gw];
                if needs.len() == 3 {
                    res.push(needs[2].then(|| {
                        let mut gb = vec![0.0; o];
                        gout.chunks_exact(o)
                            .for_each(|r| gb.iter_mut().zip(r).for_each(|(a, b)| *a += b));
                        gb
                    }));
                }
                res
            },
        )
    }

    /// 1-D convolution of an NWC input `[n, len, c]` with an OWI filter
    /// `[out, k, in/groups]`; `padding = [left, right]`.
    pub fn conv1d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        stride: usize,
        padding: [usize; 2],
        dilation: usize,
        groups: usize,
    ) -> Tensor {
        let (xs, ws) = (self.shape(), weight.shape());
        assert!(
            xs.len() == 3,
            "conv1d: input must be NWC (rank 3), got {xs:?}"
        );
        assert!(
            ws.len() == 3,
            "conv1d: weight must be OWI (rank 3), got {ws:?}"
        );
        let x4 = self.reshape(&[xs[0], 1, xs[1], xs[2]]);
        let w4 = weight.reshape(&[ws[0], 1, ws[1], ws[2]]);
        let p = Conv2dParams {
            stride: [1, stride],
            padding: [[0, 0], padding],
            dilation: [1, dilation],
            groups,
        };
        let y = x4.conv2d(&w4, bias, p);
        let s = y.shape().to_vec();
        y.reshape(&[s[0], s[2], s[3]])
    }
}
