//! Training (feature `std`): [`fit`](fn@fit) (Keras-style loop with progress bar,
//! validation, early stopping, schedules, clipping, NaN detection),
//! [`evaluate`], [`predict`], metrics, safetensors checkpoints written
//! atomically, PNG plots of the history, and [`TrainError`].
//!
//! ```no_run
//! use edgegrad::data::{read_csv, VecDataset};
//! use edgegrad::nn::{Conv2d, Flatten, Linear, Loss, MaxPool2d, Module, Padding, ReLU, Sequential};
//! use edgegrad::optim::Adam;
//! use edgegrad::train::{fit, FitConfig};
//! # fn main() -> Result<(), edgegrad::train::TrainError> {
//! let load = |p| -> Result<VecDataset, _> { Ok(read_csv(p, "label")?.with_input_shape(&[8, 8, 1]).map_inputs(|v| v / 16.0)) };
//! let (train, test) = (load("data/digits8x8_train.csv")?, load("data/digits8x8_test.csv")?);
//! let mut model = Sequential::new()
//!     .add(Conv2d::new(1, 16, 3).padding(Padding::Same)).add(ReLU)
//!     .add(Conv2d::new(16, 32, 3).padding(Padding::Same)).add(ReLU)
//!     .add(MaxPool2d::new(2)).add(Flatten).add(Linear::new(4 * 4 * 32, 10));
//! println!("{}", model.summary(&[8, 8, 1]));
//! let mut opt = Adam::new(model.named_parameters(), 1e-3);
//! let history = fit(&mut model, &mut opt, Loss::CROSS_ENTROPY, &train, Some(&test), &FitConfig::new(15, 32))?;
//! history.plot("digits.png")?;
//! # Ok(()) }
//! ```

pub mod checkpoint;
pub mod error;
pub mod fit;
pub mod metrics;
mod plot;

pub use checkpoint::{load_checkpoint, save_checkpoint, write_atomic};
pub use error::TrainError;
pub use fit::{
    compute_loss, evaluate, fit, fit_loader, predict, EarlyStopping, EpochLog, FitConfig, History,
    Metric, Monitor,
};
pub use metrics::{accuracy, top_k_accuracy, ConfusionMatrix, Mean};
