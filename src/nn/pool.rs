//! Pooling layers: MaxPool1d/2d, AvgPool1d/2d, GlobalAvgPool (channels-last).

use std::any::Any;

use super::module::Module;
use super::padding::Padding;
use crate::autograd::{Pool2dParams, Tensor};

macro_rules! pool2d {
    ($name:ident, $op:ident, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone, Debug)]
        pub struct $name {
            /// Window `[kh, kw]`.
            pub kernel: [usize; 2],
            /// Stride `[sh, sw]`.
            pub stride: [usize; 2],
            /// Padding.
            pub padding: Padding,
        }

        impl $name {
            /// A `k×k` window with stride `k`, no padding.
            pub fn new(k: usize) -> Self {
                $name {
                    kernel: [k, k],
                    stride: [k, k],
                    padding: Padding::Valid,
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

            /// The op parameters for an input of spatial size `[h, w]`.
            pub fn params_for(&self, h: usize, w: usize) -> Pool2dParams {
                Pool2dParams {
                    kernel: self.kernel,
                    stride: self.stride,
                    padding: [
                        self.padding
                            .resolve(0, h, self.kernel[0], self.stride[0], 1),
                        self.padding
                            .resolve(1, w, self.kernel[1], self.stride[1], 1),
                    ],
                }
            }
        }

        impl Module for $name {
            fn forward(&self, x: &Tensor) -> Tensor {
                let s = x.shape();
                assert!(
                    s.len() == 4,
                    "{} expects NHWC input, got {s:?}",
                    stringify!($name)
                );
                x.$op(self.params_for(s[1], s[2]))
            }
            fn describe(&self) -> String {
                format!(
                    "{}({}×{}, s{}, {})",
                    stringify!($name),
                    self.kernel[0],
                    self.kernel[1],
                    self.stride[0],
                    self.padding.label()
                )
            }
            fn as_any(&self) -> &dyn Any {
                self
            }
        }
    };
}

pool2d!(MaxPool2d, max_pool2d, "2-D max pooling over NHWC inputs.");
pool2d!(
    AvgPool2d,
    avg_pool2d,
    "2-D average pooling over NHWC inputs (divides by in-bounds elements)."
);

macro_rules! pool1d {
    ($name:ident, $op:ident, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone, Debug)]
        pub struct $name {
            /// Window.
            pub kernel: usize,
            /// Stride.
            pub stride: usize,
            /// Padding.
            pub padding: Padding,
        }

        impl $name {
            /// A window of `k` with stride `k`, no padding.
            pub fn new(k: usize) -> Self {
                $name {
                    kernel: k,
                    stride: k,
                    padding: Padding::Valid,
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
        }

        impl Module for $name {
            fn forward(&self, x: &Tensor) -> Tensor {
                let s = x.shape();
                assert!(
                    s.len() == 3,
                    "{} expects NWC input, got {s:?}",
                    stringify!($name)
                );
                let pad = self.padding.resolve(0, s[1], self.kernel, self.stride, 1);
                x.$op(self.kernel, self.stride, pad)
            }
            fn describe(&self) -> String {
                format!(
                    "{}({}, s{}, {})",
                    stringify!($name),
                    self.kernel,
                    self.stride,
                    self.padding.label()
                )
            }
            fn as_any(&self) -> &dyn Any {
                self
            }
        }
    };
}

pool1d!(MaxPool1d, max_pool1d, "1-D max pooling over NWC inputs.");
pool1d!(
    AvgPool1d,
    avg_pool1d,
    "1-D average pooling over NWC inputs (divides by in-bounds elements)."
);

/// Global average pooling: `[n, spatial.., c] → [n, c]`.
#[derive(Clone, Copy, Debug, Default)]
pub struct GlobalAvgPool;

impl Module for GlobalAvgPool {
    fn forward(&self, x: &Tensor) -> Tensor {
        x.global_avg_pool()
    }
    fn describe(&self) -> String {
        "GlobalAvgPool".into()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
