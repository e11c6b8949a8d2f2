//! Shared validation and indexing helpers of the reference kernels.
//!
//! Every kernel validates its arguments through these functions before it
//! touches any data; after that, the loops may index directly.

use crate::kernels::Window2d;
use crate::tensor::{Element, Shape, TensorMut, TensorView};
use crate::Error;

/// The `[n, h, w, c]` of a rank-4 shape, or [`Error::ShapeMismatch`].
pub(crate) fn nhwc(shape: &Shape) -> Result<[usize; 4], Error> {
    shape.nhwc().ok_or(Error::ShapeMismatch)
}

/// A shape left-extended with ones to rank 4 (TFLite's `RuntimeShape::ExtendedShape(4, …)`).
pub(crate) fn extend_to_4d(shape: &Shape) -> [usize; 4] {
    let dims = shape.dims();
    let mut out = [1usize; 4];
    out[4 - dims.len()..].copy_from_slice(dims);
    out
}

/// Row-major strides of a 4-D shape.
pub(crate) fn strides_4d(dims: [usize; 4]) -> [usize; 4] {
    [dims[1] * dims[2] * dims[3], dims[2] * dims[3], dims[3], 1]
}

/// Strides with which an input of (4-D extended) `input` dims is read while
/// iterating over `output` dims: 0 along broadcast dimensions. Each input
/// dimension must equal the output's or be 1, and each output dimension must
/// be the larger of the two inputs' (checked by the caller through
/// [`check_broadcast`]).
pub(crate) fn broadcast_strides(input: [usize; 4], output: [usize; 4]) -> [usize; 4] {
    let s = strides_4d(input);
    let mut out = [0usize; 4];
    for d in 0..4 {
        out[d] = if input[d] == output[d] { s[d] } else { 0 };
    }
    out
}

/// Checks NHWC-style broadcasting of two inputs of rank ≤ 4 into an output:
/// after left-extension to rank 4, every output dimension equals the larger
/// input dimension and each input dimension equals it or is 1.
pub(crate) fn check_broadcast(a: &Shape, b: &Shape, out: &Shape) -> Result<(), Error> {
    let (a, b, o) = (extend_to_4d(a), extend_to_4d(b), extend_to_4d(out));
    for d in 0..4 {
        let fits = |x: usize| x == o[d] || x == 1;
        if !fits(a[d]) || !fits(b[d]) || o[d] != a[d].max(b[d]) {
            return Err(Error::ShapeMismatch);
        }
    }
    Ok(())
}

/// A broadcasting element-wise op: checks that `input1` and `input2`
/// broadcast to `output`, then sets every output element to `f` of its two
/// input elements (the loop `add` and `mul` of every element type share).
pub(crate) fn broadcast_binary<I: Element, O: Element>(
    input1: &TensorView<'_, I>,
    input2: &TensorView<'_, I>,
    output: &mut TensorMut<'_, O>,
    f: impl Fn(I, I) -> O,
) -> Result<(), Error> {
    check_broadcast(input1.shape(), input2.shape(), output.shape())?;
    let (a, b) = (input1.data(), input2.data());
    let out_shape = *output.shape();
    let out = output.data_mut();
    for_each_broadcast(input1.shape(), input2.shape(), &out_shape, |ia, ib, o| {
        out[o] = f(a[ia], b[ib]);
    });
    Ok(())
}

/// Calls `f(a_index, b_index, out_index)` for every output element of a
/// broadcast element-wise op, in row-major output order. The shapes must
/// have passed [`check_broadcast`].
pub(crate) fn for_each_broadcast(
    a: &Shape,
    b: &Shape,
    out: &Shape,
    mut f: impl FnMut(usize, usize, usize),
) {
    let od = extend_to_4d(out);
    let sa = broadcast_strides(extend_to_4d(a), od);
    let sb = broadcast_strides(extend_to_4d(b), od);
    let mut o = 0;
    for i0 in 0..od[0] {
        for i1 in 0..od[1] {
            for i2 in 0..od[2] {
                for i3 in 0..od[3] {
                    let ia = i0 * sa[0] + i1 * sa[1] + i2 * sa[2] + i3 * sa[3];
                    let ib = i0 * sb[0] + i1 * sb[1] + i2 * sb[2] + i3 * sb[3];
                    f(ia, ib, o);
                    o += 1;
                }
            }
        }
    }
}

/// The geometry of a window along one spatial axis, validated so that no
/// index computation can overflow.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Axis {
    pub(crate) in_size: usize,
    pub(crate) stride: usize,
    pub(crate) dilation: usize,
    pub(crate) pad: usize,
}

impl Axis {
    /// Validates one axis: `out` windows of `kernel` taps (spaced by
    /// `dilation`) placed every `stride` elements, starting `pad` elements
    /// before the input. The output size implies the padding after the
    /// input. Every window must overlap the input's extent: the first one
    /// ends after the input starts (`pad < effective kernel`) and the last
    /// starts before the input ends.
    pub(crate) fn new(
        in_size: usize,
        out_size: usize,
        kernel: usize,
        stride: usize,
        dilation: usize,
        pad: usize,
    ) -> Result<Self, Error> {
        let eff = kernel
            .checked_sub(1)
            .and_then(|k| k.checked_mul(dilation))
            .and_then(|k| k.checked_add(1))
            .ok_or(Error::InvalidParameter)?;
        if stride == 0 || dilation == 0 {
            return Err(Error::InvalidParameter);
        }
        if out_size > 0 {
            // Largest padded coordinate any tap reads: must not overflow.
            let last_start = (out_size - 1)
                .checked_mul(stride)
                .ok_or(Error::InvalidParameter)?;
            last_start.checked_add(eff).ok_or(Error::InvalidParameter)?;
            let in_end = in_size.checked_add(pad).ok_or(Error::InvalidParameter)?;
            if pad >= eff || last_start >= in_end {
                return Err(Error::InvalidParameter);
            }
        }
        Ok(Axis {
            in_size,
            stride,
            dilation,
            pad,
        })
    }

    /// The taps `k` of output `o`'s window (of `kernel` taps) that fall
    /// inside the input; the others read padding. Lets a kernel skip the
    /// padding instead of testing every tap, so its cost is bounded by the
    /// input's size whatever the window's.
    #[inline(always)]
    pub(crate) fn taps(&self, o: usize, kernel: usize) -> core::ops::Range<usize> {
        let p0 = o * self.stride;
        let lo = self.pad.saturating_sub(p0).div_ceil(self.dilation);
        let hi = (self.pad + self.in_size)
            .saturating_sub(p0)
            .div_ceil(self.dilation);
        lo.min(kernel)..hi.min(kernel)
    }

    /// The input index that tap `k` of output `o` reads, or `None` when the
    /// tap falls into the padding.
    #[inline(always)]
    pub(crate) fn input_index(&self, o: usize, k: usize) -> Option<usize> {
        let p = o * self.stride + k * self.dilation;
        match p.checked_sub(self.pad) {
            Some(i) if i < self.in_size => Some(i),
            _ => None,
        }
    }
}

/// Validates a window over an `[.., in_h, in_w, ..]` input producing an
/// `[.., out_h, out_w, ..]` output; returns the two axes.
pub(crate) fn window_axes(
    window: &Window2d,
    in_h: usize,
    in_w: usize,
    out_h: usize,
    out_w: usize,
) -> Result<(Axis, Axis), Error> {
    window.validate()?;
    let h = Axis::new(
        in_h,
        out_h,
        window.kernel_h,
        window.stride_h,
        window.dilation_h,
        window.pad_top,
    )?;
    let w = Axis::new(
        in_w,
        out_w,
        window.kernel_w,
        window.stride_w,
        window.dilation_w,
        window.pad_left,
    )?;
    Ok((h, w))
}

/// Checks an int8 clamp range.
pub(crate) fn check_act_range_s8(act_min: i32, act_max: i32) -> Result<(), Error> {
    if act_min < -128 || act_max > 127 || act_min > act_max {
        return Err(Error::InvalidParameter);
    }
    Ok(())
}

/// Checks a per-tensor `(scale, zero_point)` of an int8 tensor: a finite,
/// positive scale and a zero point in `[-128, 127]`.
pub(crate) fn check_quant_s8(scale: f32, zero_point: i32) -> Result<(), Error> {
    if !(scale.is_finite() && scale > 0.0 && (-128..=127).contains(&zero_point)) {
        return Err(Error::InvalidParameter);
    }
    Ok(())
}

/// Checks a `(multiplier, shift)` pair produced by
/// [`quantize_multiplier`](crate::quant::quantize_multiplier).
pub(crate) fn check_shift(shift: i32) -> Result<(), Error> {
    if !(crate::quant::MIN_SHIFT..=crate::quant::MAX_SHIFT).contains(&shift) {
        return Err(Error::InvalidParameter);
    }
    Ok(())
}

/// Checks that two slice lengths match.
pub(crate) fn check_len(expected: usize, got: usize) -> Result<(), Error> {
    if expected != got {
        return Err(Error::LengthMismatch { expected, got });
    }
    Ok(())
}

/// Test helpers: a seeded PRNG and float references shared by the kernel
/// tests.
#[cfg(test)]
pub(crate) mod testing {
    extern crate std;
    use crate::tensor::{Shape, TensorMut, TensorView};
    pub(crate) use std::vec;
    pub(crate) use std::vec::Vec;

    /// SplitMix64: small, seeded, good enough for test data.
    pub(crate) struct Rng(u64);

    impl Rng {
        pub(crate) fn new(seed: u64) -> Self {
            Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
        }

        pub(crate) fn next_u64(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        /// Uniform in `lo..=hi`.
        pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
            lo + (self.next_u64() % ((hi - lo + 1) as u64)) as i64
        }

        /// Uniform in `lo..=hi`.
        pub(crate) fn usize(&mut self, lo: usize, hi: usize) -> usize {
            self.range(lo as i64, hi as i64) as usize
        }

        pub(crate) fn i8(&mut self) -> i8 {
            self.next_u64() as i8
        }

        /// Uniform in `[0, 1)`.
        pub(crate) fn unit(&mut self) -> f64 {
            (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
        }

        /// Uniform in `[lo, hi)`.
        pub(crate) fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
            lo + (hi - lo) * self.unit()
        }

        /// Log-uniform in `[lo, hi)`: a random quantization scale.
        pub(crate) fn scale(&mut self, lo: f64, hi: f64) -> f32 {
            (lo.ln() + (hi.ln() - lo.ln()) * self.unit()).exp() as f32
        }

        pub(crate) fn vec_i8(&mut self, n: usize) -> Vec<i8> {
            (0..n).map(|_| self.i8()).collect()
        }

        /// Weights in `[-127, 127]` (TFLite's symmetric int8 weights).
        pub(crate) fn vec_weights(&mut self, n: usize) -> Vec<i8> {
            (0..n).map(|_| self.range(-127, 127) as i8).collect()
        }

        pub(crate) fn bool(&mut self) -> bool {
            self.next_u64() & 1 == 1
        }
    }

    /// A random window geometry: kernel 1–3, stride 1–2, dilation 1–2
    /// (when `dilate`), padding 0..effective kernel on every side, input
    /// 1–7. Returns `(window, [in_h, in_w], [out_h, out_w])`.
    pub(crate) fn random_window(
        rng: &mut Rng,
        dilate: bool,
    ) -> (crate::kernels::Window2d, [usize; 2], [usize; 2]) {
        loop {
            let kh = rng.usize(1, 3);
            let kw = rng.usize(1, 3);
            let mut w = crate::kernels::Window2d::new(kh, kw, rng.usize(1, 2), rng.usize(1, 2));
            if dilate {
                w.dilation_h = rng.usize(1, 2);
                w.dilation_w = rng.usize(1, 2);
            }
            let eff_h = (kh - 1) * w.dilation_h + 1;
            let eff_w = (kw - 1) * w.dilation_w + 1;
            w.pad_top = rng.usize(0, eff_h - 1);
            w.pad_left = rng.usize(0, eff_w - 1);
            let pad_bottom = rng.usize(0, eff_h - 1);
            let pad_right = rng.usize(0, eff_w - 1);
            let in_h = rng.usize(1, 7);
            let in_w = rng.usize(1, 7);
            let (Some(sh), Some(sw)) = (
                (in_h + w.pad_top + pad_bottom).checked_sub(eff_h),
                (in_w + w.pad_left + pad_right).checked_sub(eff_w),
            ) else {
                continue;
            };
            return (w, [in_h, in_w], [sh / w.stride_h + 1, sw / w.stride_w + 1]);
        }
    }

    /// Random requantization setting of an int8 kernel with `channels`
    /// output channels: zero points, weight scales (one or per channel),
    /// clamp range.
    pub(crate) struct RandomQuant {
        pub(crate) in_scale: f32,
        pub(crate) in_zp: i32,
        pub(crate) w_scales: Vec<f32>,
        pub(crate) out_scale: f32,
        pub(crate) out_zp: i32,
        pub(crate) act_min: i32,
        pub(crate) act_max: i32,
        pub(crate) multipliers: Vec<i32>,
        pub(crate) shifts: Vec<i32>,
    }

    impl RandomQuant {
        /// `terms` is the number of products per accumulator (sets the
        /// output scale so that outputs spread over the int8 range).
        pub(crate) fn new(rng: &mut Rng, channels: usize, terms: usize) -> Self {
            let in_scale = rng.scale(0.002, 0.2);
            let in_zp = rng.range(-128, 127) as i32;
            let per_channel = rng.bool();
            let n = if per_channel { channels } else { 1 };
            let w_scales: Vec<f32> = (0..n).map(|_| rng.scale(0.001, 0.05)).collect();
            let w_max = w_scales.iter().cloned().fold(0.0f32, f32::max) as f64;
            let spread = (terms.max(1) as f64).sqrt() * 200.0;
            let out_scale = (in_scale as f64 * w_max * spread * rng.uniform(0.3, 3.0)) as f32;
            let out_zp = rng.range(-128, 127) as i32;
            let (act_min, act_max) = match rng.usize(0, 2) {
                0 => (-128, 127),
                1 => (out_zp, 127),
                _ => {
                    let a = rng.range(-128, 127) as i32;
                    let b = rng.range(-128, 127) as i32;
                    (a.min(b), a.max(b))
                }
            };
            let mut multipliers = Vec::new();
            let mut shifts = Vec::new();
            for &ws in &w_scales {
                let (m, s) = crate::quant::quantize_multiplier(
                    in_scale as f64 * ws as f64 / out_scale as f64,
                );
                multipliers.push(m);
                shifts.push(s);
            }
            RandomQuant {
                in_scale,
                in_zp,
                w_scales,
                out_scale,
                out_zp,
                act_min,
                act_max,
                multipliers,
                shifts,
            }
        }

        pub(crate) fn requant(&self) -> crate::kernels::RequantS8<'_> {
            crate::kernels::RequantS8 {
                input_zero_point: self.in_zp,
                output_zero_point: self.out_zp,
                multipliers: &self.multipliers,
                shifts: &self.shifts,
                act_min: self.act_min,
                act_max: self.act_max,
            }
        }

        /// The weight scale of output channel `c`.
        pub(crate) fn w_scale(&self, c: usize) -> f32 {
            if self.w_scales.len() == 1 {
                self.w_scales[0]
            } else {
                self.w_scales[c]
            }
        }

        /// TFLite's integer requantization of exact accumulators (f64
        /// holding integers) laid out with `channels` innermost.
        pub(crate) fn requantize_all(&self, acc: &[f64], channels: usize) -> Vec<i32> {
            let q = self.requant();
            acc.iter()
                .enumerate()
                .map(|(i, &a)| {
                    let (m, s) = q.channel(i % channels);
                    crate::quant::requantize(
                        a as i32,
                        m,
                        s,
                        self.out_zp,
                        self.act_min,
                        self.act_max,
                    ) as i32
                })
                .collect()
        }

        /// The float oracle's int8 output for a real accumulator.
        pub(crate) fn quantize(&self, real: f64) -> i32 {
            quantize_ref(
                real,
                self.out_scale as f64,
                self.out_zp,
                self.act_min,
                self.act_max,
            )
        }
    }

    /// Tolerance of an f32 kernel against its f64 reference: `1e-5` of the
    /// sum of the magnitudes of the terms (accumulation error) plus `1e-30`.
    pub(crate) fn tol_f32(abs_terms: f64, _reference: f64) -> f64 {
        1e-5 * abs_terms + 1e-30
    }

    /// Tolerance of an f16 kernel against its f64 reference (computed from
    /// the same f16 inputs): the f32 accumulation tolerance plus the final
    /// rounding to f16 (`2⁻¹¹` relative, `2⁻²⁵` absolute in the subnormal
    /// range).
    pub(crate) fn tol_f16(abs_terms: f64, reference: f64) -> f64 {
        1e-5 * abs_terms + reference.abs() / 2048.0 + 3e-8
    }

    /// The tolerance function of a float element type.
    pub(crate) fn tol_for<T: crate::kernels::Float>() -> fn(f64, f64) -> f64 {
        if core::mem::size_of::<T>() == 2 {
            tol_f16
        } else {
            tol_f32
        }
    }

    /// Random float data in `[lo, hi)`, stored as `T`.
    pub(crate) fn vec_float<T: crate::kernels::Float>(
        rng: &mut Rng,
        n: usize,
        lo: f64,
        hi: f64,
    ) -> Vec<T> {
        (0..n)
            .map(|_| T::from_f32(rng.uniform(lo, hi) as f32))
            .collect()
    }

    /// Widens float storage to f64.
    pub(crate) fn widen<T: crate::kernels::Float>(x: &[T]) -> Vec<f64> {
        x.iter().map(|v| v.to_f32() as f64).collect()
    }

    /// Random broadcast-compatible shapes `(a, b, out)` of rank 1–4, dims
    /// 1–4; each input dimension is the output's or 1, and inputs may have
    /// a lower rank.
    pub(crate) fn random_broadcast(rng: &mut Rng) -> (Vec<usize>, Vec<usize>, Vec<usize>) {
        let rank = rng.usize(1, 4);
        let out: Vec<usize> = (0..rank).map(|_| rng.usize(1, 4)).collect();
        let pick = |rng: &mut Rng| -> Vec<usize> {
            let r = rng.usize(1, rank);
            out[rank - r..]
                .iter()
                .map(|&d| if rng.usize(0, 2) == 0 { 1 } else { d })
                .collect()
        };
        let mut a = pick(rng);
        let b = pick(rng);
        // Make sure every output dimension is reached by one input.
        let (ea, eb) = (extend(&a), extend(&b));
        let eo = extend(&out);
        if (0..4).any(|d| ea[d].max(eb[d]) != eo[d]) {
            a = out.clone();
        }
        (a, b, out)
    }

    /// Left-extends dims to rank 4.
    pub(crate) fn extend(d: &[usize]) -> [usize; 4] {
        let mut e = [1; 4];
        e[4 - d.len()..].copy_from_slice(d);
        e
    }

    /// The flat index into an input of (extended) dims `d` of output
    /// element at multi-index `at`.
    pub(crate) fn broadcast_index(d: [usize; 4], at: [usize; 4]) -> usize {
        let mut i = 0;
        for k in 0..4 {
            i = i * d[k] + if d[k] == 1 { 0 } else { at[k] };
        }
        i
    }

    /// All multi-indices of a 4-D shape in row-major order.
    pub(crate) fn indices(d: [usize; 4]) -> Vec<[usize; 4]> {
        let mut v = Vec::new();
        for a in 0..d[0] {
            for b in 0..d[1] {
                for c in 0..d[2] {
                    for e in 0..d[3] {
                        v.push([a, b, c, e]);
                    }
                }
            }
        }
        v
    }

    /// Rounds half away from zero in f64.
    pub(crate) fn round_away(x: f64) -> f64 {
        x.round()
    }

    /// Quantizes a real value with round-half-away and clamps it to
    /// `[lo, hi]`: the float oracle of every int8 kernel.
    pub(crate) fn quantize_ref(real: f64, scale: f64, zp: i32, lo: i32, hi: i32) -> i32 {
        let q = round_away(real / scale) + zp as f64;
        q.clamp(lo as f64, hi as f64) as i32
    }

    /// Real value of an int8 `q`.
    pub(crate) fn deq(q: i8, scale: f32, zp: i32) -> f64 {
        scale as f64 * (q as i32 - zp) as f64
    }

    pub(crate) fn shape(dims: &[usize]) -> Shape {
        Shape::new(dims).unwrap()
    }

    pub(crate) fn view<'a, T: crate::tensor::Element>(
        dims: &[usize],
        data: &'a [T],
    ) -> TensorView<'a, T> {
        TensorView::new(shape(dims), data).unwrap()
    }

    pub(crate) fn view_mut<'a, T: crate::tensor::Element>(
        dims: &[usize],
        data: &'a mut [T],
    ) -> TensorMut<'a, T> {
        TensorMut::new(shape(dims), data).unwrap()
    }

    /// Asserts two int8 results differ by at most `tol` everywhere, with a
    /// useful message.
    pub(crate) fn assert_close_s8(got: &[i8], want: &[i32], tol: i32, what: &str) {
        assert_eq!(got.len(), want.len());
        for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g as i32 - w).abs() <= tol,
                "{what}: element {i}: got {g}, want {w} (±{tol})"
            );
        }
    }

    /// Asserts `|got − want| ≤ abs + rel × scale` element-wise, where
    /// `scale[i]` is the magnitude the error is measured against.
    pub(crate) fn assert_close_f(got: &[f64], want: &[f64], tol: &[f64], what: &str) {
        assert_eq!(got.len(), want.len());
        for i in 0..got.len() {
            let ok = (got[i] - want[i]).abs() <= tol[i]
                || (got[i].is_nan() && want[i].is_nan())
                || got[i] == want[i];
            assert!(
                ok,
                "{what}: element {i}: got {}, want {} (±{})",
                got[i], want[i], tol[i]
            );
        }
    }
}
