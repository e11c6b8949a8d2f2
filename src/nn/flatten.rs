//! Flatten everything but the batch axis.

use std::any::Any;

use super::module::Module;
use crate::autograd::Tensor;

/// `[n, ..] → [n, Π ..]`. On NHWC inputs the features come out in HWC
/// order, the same order the device's reshape produces.
#[derive(Clone, Copy, Debug, Default)]
pub struct Flatten;

impl Module for Flatten {
    fn forward(&self, x: &Tensor) -> Tensor {
        x.flatten(1)
    }
    fn describe(&self) -> String {
        "Flatten".into()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
