//! Training (feature `std`): `fit`, metrics, checkpoints, plots, errors.

pub mod error;

pub use error::TrainError;
