//! Padding of convolution and pooling layers.

use crate::autograd::same_padding;

/// How a convolution or pooling layer pads its input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Padding {
    /// No padding.
    Valid,
    /// TensorFlow's "SAME": output length `ceil(input / stride)`, the odd
    /// extra pixel after (what the device's and TFLite's SAME mean).
    Same,
    /// `(before, after)` per spatial axis (one pair for 1-D, two for 2-D).
    Explicit(Vec<[usize; 2]>),
}

impl Padding {
    /// `(before, after)` for spatial axis `axis` of length `input`.
    pub fn resolve(
        &self,
        axis: usize,
        input: usize,
        kernel: usize,
        stride: usize,
        dilation: usize,
    ) -> [usize; 2] {
        match self {
            Padding::Valid => [0, 0],
            Padding::Same => same_padding(input, kernel, stride, dilation),
            Padding::Explicit(p) => p[axis],
        }
    }

    /// Short text for `summary()`.
    pub fn label(&self) -> String {
        match self {
            Padding::Valid => "valid".into(),
            Padding::Same => "same".into(),
            Padding::Explicit(p) => format!("pad {p:?}"),
        }
    }
}
