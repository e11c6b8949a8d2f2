//! 2-D convolution layer (NHWC input, OHWI weight).

use std::any::Any;

use super::init::Init;
use super::module::{param, Module};
use super::padding::Padding;
use crate::autograd::{Conv2dParams, Tensor};

/// Options of [`Conv2d::with_options`].
#[derive(Clone, Debug)]
pub struct Conv2dOptions {
    /// Stride `[sh, sw]`.
    pub stride: [usize; 2],
    /// Padding.
    pub padding: Padding,
    /// Dilation `[dh, dw]`.
    pub dilation: [usize; 2],
    /// Groups (`in_channels` for depthwise).
    pub groups: usize,
    /// Whether there is a bias.
    pub bias: bool,
    /// Weight initialiser (`None`: PyTorch's default).
    pub weight_init: Option<Init>,
    /// Bias initialiser (`None`: PyTorch's default).
    pub bias_init: Option<Init>,
}

impl Default for Conv2dOptions {
    fn default() -> Self {
        Conv2dOptions {
            stride: [1, 1],
            padding: Padding::Valid,
            dilation: [1, 1],
            groups: 1,
            bias: true,
            weight_init: None,
            bias_init: None,
        }
    }
}

/// 2-D convolution. Input NHWC `[n, h, w, in]`, output `[n, oh, ow, out]`.
///
/// `weight` is OHWI `[out, kh, kw, in/groups]` — the device's filter
/// layout, so an exporter copies it as is (PyTorch's OIHW is
/// `weight.permute([0, 3, 1, 2])` of ours).
pub struct Conv2d {
    /// OHWI `[out, kh, kw, in/groups]`.
    pub weight: Tensor,
    /// `[out]`, if any.
    pub bias: Option<Tensor>,
    /// Stride `[sh, sw]`.
    pub stride: [usize; 2],
    /// Padding.
    pub padding: Padding,
    /// Dilation `[dh, dw]`.
    pub dilation: [usize; 2],
    /// Groups.
    pub groups: usize,
}

impl Conv2d {
    /// `in → out` channels with a square `kernel`, stride 1, no padding, a
    /// bias and PyTorch's default initialisation.
    pub fn new(in_channels: usize, out_channels: usize, kernel: usize) -> Self {
        Self::with_options(
            in_channels,
            out_channels,
            [kernel, kernel],
            Conv2dOptions::default(),
        )
    }

    /// Full control.
    pub fn with_options(
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 2],
        o: Conv2dOptions,
    ) -> Self {
        assert!(
            o.groups > 0 && in_channels % o.groups == 0 && out_channels % o.groups == 0,
            "Conv2d: {in_channels} in and {out_channels} out channels are not divisible by {} groups",
            o.groups
        );
        let shape = [out_channels, kernel[0], kernel[1], in_channels / o.groups];
        let fan_in = shape[1] * shape[2] * shape[3];
        let d = Init::TorchDefault { fan_in };
        Conv2d {
            weight: param(o.weight_init.unwrap_or(d).tensor(&shape)),
            bias: o
                .bias
                .then(|| param(o.bias_init.unwrap_or(d).tensor(&[out_channels]))),
            stride: o.stride,
            padding: o.padding,
            dilation: o.dilation,
            groups: o.groups,
        }
    }

    /// Sets the stride.
    pub fn stride(mut self, s: usize) -> Self {
        self.stride = [s, s];
        self
    }

    /// Sets the padding.
    pub fn padding(mut self, p: Padding) -> Self {
        self.padding = p;
        self
    }

    /// Sets the dilation.
    pub fn dilation(mut self, d: usize) -> Self {
        self.dilation = [d, d];
        self
    }

    /// Input channels.
    pub fn in_channels(&self) -> usize {
        self.weight.shape()[3] * self.groups
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.weight.shape()[0]
    }

    /// Kernel `[kh, kw]`.
    pub fn kernel(&self) -> [usize; 2] {
        [self.weight.shape()[1], self.weight.shape()[2]]
    }

    /// The op parameters for an input of spatial size `[h, w]` (padding resolved).
    pub fn params_for(&self, h: usize, w: usize) -> Conv2dParams {
        let k = self.kernel();
        Conv2dParams {
            stride: self.stride,
            padding: [
                self.padding
                    .resolve(0, h, k[0], self.stride[0], self.dilation[0]),
                self.padding
                    .resolve(1, w, k[1], self.stride[1], self.dilation[1]),
            ],
            dilation: self.dilation,
            groups: self.groups,
        }
    }
}

impl Module for Conv2d {
    fn forward(&self, x: &Tensor) -> Tensor {
        let s = x.shape();
        assert!(s.len() == 4, "Conv2d expects NHWC input, got {s:?}");
        x.conv2d(
            &self.weight,
            self.bias.as_ref(),
            self.params_for(s[1], s[2]),
        )
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut v = vec![("weight".to_string(), self.weight.clone())];
        v.extend(self.bias.iter().map(|b| ("bias".to_string(), b.clone())));
        v
    }
    fn describe(&self) -> String {
        let k = self.kernel();
        let g = if self.groups > 1 {
            format!(", groups {}", self.groups)
        } else {
            String::new()
        };
        format!(
            "Conv2d({}→{}, {}×{}, s{}, {}{g})",
            self.in_channels(),
            self.out_channels(),
            k[0],
            k[1],
            self.stride[0],
            self.padding.label()
        )
    }
    fn macs(&self, _input: &[usize], output: &[usize]) -> u64 {
        let w = self.weight.shape();
        (output.iter().product::<usize>() * w[1] * w[2] * w[3]) as u64
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
