//! Inverted dropout.

use std::any::Any;

use super::module::Module;
use crate::autograd::Tensor;

/// Inverted dropout: in training zeroes each element with probability `p`
/// and scales the survivors by `1/(1−p)`; the identity in evaluation.
pub struct Dropout {
    /// Drop probability.
    pub p: f32,
    training: bool,
}

impl Dropout {
    /// Drop probability `p` in `[0, 1)`.
    pub fn new(p: f32) -> Self {
        assert!(
            (0.0..1.0).contains(&p),
            "Dropout probability {p} not in [0, 1)"
        );
        Dropout { p, training: true }
    }
}

impl Module for Dropout {
    fn forward(&self, x: &Tensor) -> Tensor {
        x.dropout(self.p, self.training)
    }
    fn set_training(&mut self, training: bool) {
        self.training = training;
    }
    fn is_training(&self) -> bool {
        self.training
    }
    fn describe(&self) -> String {
        format!("Dropout({})", self.p)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
