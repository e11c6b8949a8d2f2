//! Optimizers (feature `std`), in order of increasing complexity, each with
//! PyTorch's update rule and defaults cited in its file so trajectories can
//! be compared step by step:
//!
//! 1. [`Sgd`] — SGD, momentum, Nesterov momentum (`torch.optim.SGD`)
//! 2. [`Adagrad`] — per-coordinate rates from the sum of squares (`torch.optim.Adagrad`)
//! 3. [`RmsProp`] — moving average of squares, optional momentum/centering (`torch.optim.RMSprop`)
//! 4. [`Adadelta`] — RMSProp with unit-corrected steps (`torch.optim.Adadelta`)
//! 5. [`Adam`] / [`AdamW`] — moments with bias correction; L2 or decoupled decay
//!    (`torch.optim.Adam`, `torch.optim.AdamW`)
//!
//! All take L2 weight decay, skip parameters that are frozen or have no
//! gradient, and allocate their state once at construction. Also here:
//! [`clip_grad_value`], [`clip_grad_norm`] and the learning-rate
//! [`schedule`]s.

/// The accessors every optimizer implements the same way, over its
/// `params`, `lr` and `state` fields.
macro_rules! optimizer_accessors {
    () => {
        fn params(&self) -> &NamedParams {
            &self.params
        }
        fn lr(&self) -> f32 {
            self.lr
        }
        fn set_lr(&mut self, lr: f32) {
            self.lr = lr;
        }
        fn state(&self) -> Vec<StateEntry> {
            self.state.export(&self.params)
        }
        fn load_state(
            &mut self,
            s: &HashMap<String, (Vec<usize>, Vec<f32>)>,
        ) -> Result<(), TrainError> {
            self.state.import(&self.params, s)
        }
    };
}

pub mod adadelta;
pub mod adagrad;
pub mod adam;
pub mod clip;
pub mod rmsprop;
pub mod schedule;
pub mod sgd;
pub mod state;

use std::collections::HashMap;

pub use adadelta::Adadelta;
pub use adagrad::Adagrad;
pub use adam::{Adam, AdamW};
pub use clip::{clip_grad_norm, clip_grad_value, global_grad_norm};
pub use rmsprop::RmsProp;
pub use schedule::{Constant, CosineLr, ExponentialLr, LrSchedule, StepLr, WarmUp};
pub use sgd::Sgd;
pub use state::{NamedParams, StateEntry};

use crate::train::TrainError;

/// An optimizer over named parameters.
pub trait Optimizer: Send {
    /// One update from the accumulated gradients.
    fn step(&mut self);
    /// The parameters, with their names.
    fn params(&self) -> &NamedParams;
    /// Current learning rate.
    fn lr(&self) -> f32;
    /// Sets the learning rate (schedules call this).
    fn set_lr(&mut self, lr: f32);
    /// The state, for checkpoints: `(name, shape, values)`.
    fn state(&self) -> Vec<StateEntry>;
    /// Restores [`state`](Self::state).
    fn load_state(
        &mut self,
        state: &HashMap<String, (Vec<usize>, Vec<f32>)>,
    ) -> Result<(), TrainError>;
    /// Forgets every parameter's gradient.
    fn zero_grad(&self) {
        self.params().iter().for_each(|(_, p)| p.zero_grad());
    }
}
