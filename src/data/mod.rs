//! Data (feature `std`): the [`Dataset`] trait, [`DataLoader`] (seeded
//! shuffling, batching, drop-last, transforms), augmentations, readers for
//! CSV / IDX / NPY, train/validation and k-fold splits, standardisation.
//!
//! ```
//! use edgegrad::data::{DataLoader, RandomShift, VecDataset};
//! let ds = VecDataset::classification((0..40).map(|v| v as f32).collect(), &[2, 2, 1], &[0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
//! let mut loader = DataLoader::new(&ds, 4).shuffle(true).seed(7).drop_last(true).map(RandomShift { max: 1 });
//! let batches: Vec<_> = loader.iter().collect();
//! assert_eq!(batches.len(), 2);
//! assert_eq!(batches[0].inputs.shape(), [4, 2, 2, 1]);
//! ```

pub mod augment;
pub mod dataset;
pub mod loader;
pub mod readers;
pub mod split;
pub mod standardize;

pub use augment::{GaussianNoise, RandomFlip, RandomShift};
pub use dataset::{Dataset, Subset, Target, Targets, VecDataset};
pub use loader::{Batch, BatchIter, DataLoader, Transform};
pub use readers::{read_csv, read_idx, read_idx_array, read_npy, read_npy_array};
pub use split::{kfold, train_val_split};
pub use standardize::Standardizer;
