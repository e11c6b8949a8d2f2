//! 1-D convolution layer (NWC input, OWI weight).

use std::any::Any;

use super::init::Init;
use super::module::{param, Module};
use super::padding::Padding;
use crate::autograd::Tensor;

/// 1-D convolution over sequences `[n, len, in]` → `[n, out_len, out]`;
/// `weight` is OWI `[out, k, in/groups]`.
pub struct Conv1d {
    /// OWI `[out, k, in/groups]`.
    pub weight: Tensor,
    /// `[out]`, if any.
    pub bias: Option<Tensor>,
    /// Stride.
    pub stride: usize,
    /// Padding (one `(before, after)` pair when explicit).
    pub padding: Padding,
    /// Dilation.
    pub dilation: usize,
    /// Groups.
    pub groups: usize,
}

impl Conv1d {
    /// `in → out` channels, kernel `k`, stride 1, no padding, bias, PyTorch init.
    pub fn new(in_channels: usize, out_channels: usize, kernel: usize) -> Self {
        Self::with_groups(in_channels, out_channels, kernel, 1)
    }

    /// With channel groups (`groups = in_channels` is depthwise).
    pub fn with_groups(
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        groups: usize,
    ) -> Self {
        assert!(
            groups > 0 && in_channels % groups == 0 && out_channels % groups == 0,
            "Conv1d: channels not divisible by groups"
        );
        let shape = [out_channels, kernel, in_channels / groups];
        let d = Init::TorchDefault {
            fan_in: kernel * in_channels / groups,
        };
        Conv1d {
            weight: param(d.tensor(&shape)),
            bias: Some(param(d.tensor(&[out_channels]))),
            stride: 1,
            padding: Padding::Valid,
            dilation: 1,
            groups,
        }
    }

    /// Sets the stride.
    pub fn stride(mut self, s: usize) -> Self {
        self.stride = s;
        self
    }

    /// Sets the padding.
    pub fn padding(mut self, p: Padding) -> Self {
        self.padding = p;
        self
    }

    /// Sets the dilation.
    pub fn dilation(mut self, d: usize) -> Self {
        self.dilation = d;
        self
    }
}

impl Module for Conv1d {
    fn forward(&self, x: &Tensor) -> Tensor {
        let s = x.shape();
        assert!(s.len() == 3, "Conv1d expects NWC input, got {s:?}");
        let pad = self
            .padding
            .resolve(0, s[1], self.weight.shape()[1], self.stride, self.dilation);
        x.conv1d(
            &self.weight,
            self.bias.as_ref(),
            self.stride,
            pad,
            self.dilation,
            self.groups,
        )
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut v = vec![("weight".to_string(), self.weight.clone())];
        v.extend(self.bias.iter().map(|b| ("bias".to_string(), b.clone())));
        v
    }
    fn describe(&self) -> String {
        let w = self.weight.shape();
        format!(
            "Conv1d({}→{}, k{}, s{}, {})",
            w[2] * self.groups,
            w[0],
            w[1],
            self.stride,
            self.padding.label()
        )
    }
    fn macs(&self, _input: &[usize], output: &[usize]) -> u64 {
        let w = self.weight.shape();
        (output.iter().product::<usize>() * w[1] * w[2]) as u64
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
