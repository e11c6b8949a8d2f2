//! Compute kernels: plain functions over tensor views.
//!
//! [`optimized`](mod@optimized) holds the fast int8 kernels the interpreter
//! runs; [`reference`](mod@reference) holds the portable, obviously-correct kernels — the oracle
//! every optimized kernel is tested against, bit for bit in int8. Names say
//! the element type: `conv2d_s8` (int8 activations and weights, int32 bias),
//! `conv2d_f16` (half storage, f32 arithmetic), `conv2d_f32`.
//!
//! Every kernel checks the shapes and lengths it is given and returns
//! [`Error`] rather than panicking; the interpreter has
//! validated them already, so on that path the checks never fail. Kernels
//! never allocate: a kernel that needs scratch memory takes it as a slice
//! and documents its size.
//!
//! The parameter types below are shared by the kernels of every element
//! type.

pub mod optimized;
pub mod reference;

use crate::Error;

/// How a 2-D window (convolution kernel or pooling window) slides over an
/// NHWC input: kernel size, stride, dilation and the zero padding before
/// the first row and column. Padding after the last row and column is
/// implied by the output size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Window2d {
    /// Kernel (or pooling window) height.
    pub kernel_h: usize,
    /// Kernel (or pooling window) width.
    pub kernel_w: usize,
    /// Vertical stride.
    pub stride_h: usize,
    /// Horizontal stride.
    pub stride_w: usize,
    /// Vertical dilation (1 = dense).
    pub dilation_h: usize,
    /// Horizontal dilation (1 = dense).
    pub dilation_w: usize,
    /// Rows of padding above the input.
    pub pad_top: usize,
    /// Columns of padding left of the input.
    pub pad_left: usize,
}

impl Window2d {
    /// A dense window of `kh × kw` with the given stride and no padding.
    pub const fn new(kernel_h: usize, kernel_w: usize, stride_h: usize, stride_w: usize) -> Self {
        Window2d {
            kernel_h,
            kernel_w,
            stride_h,
            stride_w,
            dilation_h: 1,
            dilation_w: 1,
            pad_top: 0,
            pad_left: 0,
        }
    }

    /// Checks that strides, dilations and kernel sizes are non-zero.
    pub fn validate(&self) -> Result<(), Error> {
        if self.kernel_h == 0
            || self.kernel_w == 0
            || self.stride_h == 0
            || self.stride_w == 0
            || self.dilation_h == 0
            || self.dilation_w == 0
        {
            return Err(Error::InvalidParameter);
        }
        Ok(())
    }

    /// The output height and width for an `in_h × in_w` input with the given
    /// total padding, or `None` when the window does not fit.
    pub fn output_size(
        &self,
        in_h: usize,
        in_w: usize,
        pad_h: usize,
        pad_w: usize,
    ) -> Option<(usize, usize)> {
        let eff_h = (self.kernel_h - 1).checked_mul(self.dilation_h)? + 1;
        let eff_w = (self.kernel_w - 1).checked_mul(self.dilation_w)? + 1;
        let h = (in_h + pad_h).checked_sub(eff_h)? / self.stride_h + 1;
        let w = (in_w + pad_w).checked_sub(eff_w)? / self.stride_w + 1;
        Some((h, w))
    }
}

/// TensorFlow-style padding, resolved into explicit pads by [`Padding::resolve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Padding {
    /// Output size `ceil(in / stride)`; the padding is split with the odd
    /// row or column after (TensorFlow's SAME).
    Same,
    /// No padding; output size `ceil((in − effective_kernel + 1) / stride)`.
    Valid,
}

impl Padding {
    /// `(output_size, pad_before)` along one axis, or `None` when a VALID
    /// window does not fit.
    pub fn resolve(
        self,
        input: usize,
        kernel: usize,
        stride: usize,
        dilation: usize,
    ) -> Option<(usize, usize)> {
        if stride == 0 || kernel == 0 || dilation == 0 {
            return None;
        }
        let eff = (kernel - 1) * dilation + 1;
        match self {
            Padding::Same => {
                let out = input.div_ceil(stride);
                let needed = ((out - 1) * stride + eff).saturating_sub(input);
                Some((out, needed / 2))
            }
            Padding::Valid => {
                let span = input.checked_sub(eff)?;
                Some((span / stride + 1, 0))
            }
        }
    }
}

/// Requantization of an int8 kernel whose accumulator is
/// `Σ (x − input_zero_point) × w + bias` (convolution, fully connected).
///
/// `multipliers` and `shifts` hold one entry (per-tensor weights) or one per
/// output channel (per-channel weights); see
/// [`quantize_multiplier`](crate::quant::quantize_multiplier).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequantS8<'a> {
    /// The input tensor's zero point.
    pub input_zero_point: i32,
    /// The output tensor's zero point.
    pub output_zero_point: i32,
    /// Q31 multipliers: one, or one per output channel.
    pub multipliers: &'a [i32],
    /// Shifts matching `multipliers`, each in `[-31, 30]`.
    pub shifts: &'a [i32],
    /// Lowest output value (fused activation), ≥ −128.
    pub act_min: i32,
    /// Highest output value (fused activation), ≤ 127.
    pub act_max: i32,
}

impl RequantS8<'_> {
    /// Checks that there is one multiplier or `channels` of them, that
    /// shifts are in range and the clamp range is a valid int8 range.
    pub fn validate(&self, channels: usize) -> Result<(), Error> {
        let n = self.multipliers.len();
        if n != self.shifts.len() || (n != 1 && n != channels) {
            return Err(Error::InvalidParameter);
        }
        if self
            .shifts
            .iter()
            .any(|s| !(crate::quant::MIN_SHIFT..=crate::quant::MAX_SHIFT).contains(s))
        {
            return Err(Error::InvalidParameter);
        }
        if self.act_min < -128 || self.act_max > 127 || self.act_min > self.act_max {
            return Err(Error::InvalidParameter);
        }
        if !(-128..=127).contains(&self.input_zero_point)
            || !(-128..=127).contains(&self.output_zero_point)
        {
            return Err(Error::InvalidParameter);
        }
        Ok(())
    }

    /// The `(multiplier, shift)` of output channel `c`.
    #[inline(always)]
    pub fn channel(&self, c: usize) -> (i32, i32) {
        if self.multipliers.len() == 1 {
            (self.multipliers[0], self.shifts[0])
        } else {
            (self.multipliers[c], self.shifts[c])
        }
    }
}

/// The output clamp of a float kernel (its fused activation).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FloatClamp {
    /// Lowest output value.
    pub min: f32,
    /// Highest output value.
    pub max: f32,
}

impl FloatClamp {
    /// No clamp.
    pub const NONE: FloatClamp = FloatClamp {
        min: f32::NEG_INFINITY,
        max: f32::INFINITY,
    };

    /// The clamp of a fused activation.
    pub fn from_activation(act: crate::quant::Activation) -> Self {
        let (min, max) = act.float_range();
        FloatClamp { min, max }
    }

    /// Applies the clamp (NaN passes through unchanged).
    #[inline(always)]
    pub fn apply(&self, x: f32) -> f32 {
        if x < self.min {
            self.min
        } else if x > self.max {
            self.max
        } else {
            x
        }
    }
}

/// A float element type the `_f32` and `_f16` kernels are generic over:
/// storage type `Self`, arithmetic in `f32`.
pub trait Float: crate::tensor::Element + Copy {
    /// Widens to f32.
    fn to_f32(self) -> f32;
    /// Narrows from f32 (round to nearest even for f16).
    fn from_f32(x: f32) -> Self;
}

impl Float for f32 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self
    }
    #[inline(always)]
    fn from_f32(x: f32) -> Self {
        x
    }
}

impl Float for half::f16 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        half::f16::to_f32(self)
    }
    #[inline(always)]
    fn from_f32(x: f32) -> Self {
        half::f16::from_f32(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_padding_splits_odd_padding_after() {
        // in 5, k 3, s 2 → out 3, total pad 2 → 1 before.
        assert_eq!(Padding::Same.resolve(5, 3, 2, 1), Some((3, 1)));
        // in 4, k 2, s 2 → out 2, no padding.
        assert_eq!(Padding::Same.resolve(4, 2, 2, 1), Some((2, 0)));
        // in 8, k 3, s 1, dilation 2 → eff 5, pad 4 → 2 before.
        assert_eq!(Padding::Same.resolve(8, 3, 1, 2), Some((8, 2)));
    }

    #[test]
    fn valid_padding_needs_the_window_to_fit() {
        assert_eq!(Padding::Valid.resolve(5, 3, 2, 1), Some((2, 0)));
        assert_eq!(Padding::Valid.resolve(2, 3, 1, 1), None);
    }
}
