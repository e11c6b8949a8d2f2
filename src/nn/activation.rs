//! Activations as layers: ReLU, ReLU6, LeakyReLU, PReLU, ELU, Sigmoid,
//! Tanh, Softmax, LogSoftmax.

use std::any::Any;

use super::module::{param, Module};
use crate::autograd::Tensor;

macro_rules! activation {
    ($name:ident, $doc:literal, |$x:ident| $body:expr) => {
        #[doc = $doc]
        #[derive(Clone, Copy, Debug, Default)]
        pub struct $name;

        impl Module for $name {
            fn forward(&self, $x: &Tensor) -> Tensor {
                $body
            }
            fn describe(&self) -> String {
                stringify!($name).into()
            }
            fn as_any(&self) -> &dyn Any {
                self
            }
        }
    };
}

activation!(ReLU, "`max(x, 0)`.", |x| x.relu());
activation!(ReLU6, "`min(max(x, 0), 6)`.", |x| x.relu6());
activation!(Sigmoid, "Logistic sigmoid.", |x| x.sigmoid());
activation!(Tanh, "Hyperbolic tangent.", |x| x.tanh());

/// `x` if positive, else `slope·x` (PyTorch default slope 0.01).
#[derive(Clone, Copy, Debug)]
pub struct LeakyReLU(pub f32);

impl Default for LeakyReLU {
    fn default() -> Self {
        LeakyReLU(0.01)
    }
}

impl Module for LeakyReLU {
    fn forward(&self, x: &Tensor) -> Tensor {
        x.leaky_relu(self.0)
    }
    fn describe(&self) -> String {
        format!("LeakyReLU({})", self.0)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `x` if positive, else `alpha·(e^x − 1)` (PyTorch default alpha 1).
#[derive(Clone, Copy, Debug)]
pub struct ELU(pub f32);

impl Default for ELU {
    fn default() -> Self {
        ELU(1.0)
    }
}

impl Module for ELU {
    fn forward(&self, x: &Tensor) -> Tensor {
        x.elu(self.0)
    }
    fn describe(&self) -> String {
        format!("ELU({})", self.0)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Parametric ReLU with a learnable slope per channel (last axis) or one
/// shared slope; initialised to 0.25 as in PyTorch.
pub struct PReLU {
    /// The slopes, `[channels]` or `[1]`.
    pub weight: Tensor,
}

impl PReLU {
    /// `num_parameters` slopes (1 for a shared slope).
    pub fn new(num_parameters: usize) -> Self {
        PReLU {
            weight: param(Tensor::full(&[num_parameters], 0.25)),
        }
    }
}

impl Module for PReLU {
    fn forward(&self, x: &Tensor) -> Tensor {
        x.prelu(&self.weight)
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        vec![("weight".into(), self.weight.clone())]
    }
    fn describe(&self) -> String {
        format!("PReLU({})", self.weight.numel())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Softmax along an axis (default: last).
#[derive(Clone, Copy, Debug)]
pub struct Softmax(pub isize);

impl Default for Softmax {
    fn default() -> Self {
        Softmax(-1)
    }
}

impl Module for Softmax {
    fn forward(&self, x: &Tensor) -> Tensor {
        x.softmax(self.0)
    }
    fn describe(&self) -> String {
        "Softmax".into()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Log-softmax along an axis (default: last).
#[derive(Clone, Copy, Debug)]
pub struct LogSoftmax(pub isize);

impl Default for LogSoftmax {
    fn default() -> Self {
        LogSoftmax(-1)
    }
}

impl Module for LogSoftmax {
    fn forward(&self, x: &Tensor) -> Tensor {
        x.log_softmax(self.0)
    }
    fn describe(&self) -> String {
        "LogSoftmax".into()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
