//! Depthwise 2-D convolution: one filter (or `multiplier` filters) per channel.

use std::any::Any;

use super::conv2d::{Conv2d, Conv2dOptions};
use super::module::Module;
use super::padding::Padding;
use crate::autograd::Tensor;

/// Depthwise convolution: a [`Conv2d`] with `groups = channels`.
///
/// Its weight is OHWI `[channels·multiplier, kh, kw, 1]`; TFLite's
/// depthwise filter layout is `[1, kh, kw, channels·multiplier]`: an
/// exporter writes `weight.permute(&[3, 1, 2, 0])` (see
/// [`weight_1hwc`](Self::weight_1hwc)).
pub struct DepthwiseConv2d {
    /// The underlying grouped convolution.
    pub conv: Conv2d,
}

impl DepthwiseConv2d {
    /// `channels` in, `channels` out, square `kernel`, stride 1, no padding.
    pub fn new(channels: usize, kernel: usize) -> Self {
        Self::with_multiplier(channels, kernel, 1)
    }

    /// `channels·multiplier` outputs.
    pub fn with_multiplier(channels: usize, kernel: usize, multiplier: usize) -> Self {
        let o = Conv2dOptions {
            groups: channels,
            ..Default::default()
        };
        DepthwiseConv2d {
            conv: Conv2d::with_options(channels, channels * multiplier, [kernel, kernel], o),
        }
    }

    /// Sets the stride.
    pub fn stride(mut self, s: usize) -> Self {
        self.conv = self.conv.stride(s);
        self
    }

    /// Sets the padding.
    pub fn padding(mut self, p: Padding) -> Self {
        self.conv = self.conv.padding(p);
        self
    }

    /// The weight in TFLite's depthwise layout `[1, kh, kw, channels·multiplier]`.
    pub fn weight_1hwc(&self) -> Tensor {
        crate::autograd::no_grad(|| self.conv.weight.permute(&[3, 1, 2, 0]))
    }

    /// The weight, OHWI `[channels·multiplier, kh, kw, 1]`.
    pub fn weight(&self) -> &Tensor {
        &self.conv.weight
    }
}

impl Module for DepthwiseConv2d {
    fn forward(&self, x: &Tensor) -> Tensor {
        self.conv.forward(x)
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        self.conv.named_parameters()
    }
    fn describe(&self) -> String {
        let k = self.conv.kernel();
        format!(
            "DepthwiseConv2d({}→{}, {}×{}, s{}, {})",
            self.conv.in_channels(),
            self.conv.out_channels(),
            k[0],
            k[1],
            self.conv.stride[0],
            self.conv.padding.label()
        )
    }
    fn macs(&self, input: &[usize], output: &[usize]) -> u64 {
        self.conv.macs(input, output)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
