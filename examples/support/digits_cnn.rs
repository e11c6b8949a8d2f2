//! The digits CNN the demo trains and the QEMU fixtures reuse:
//! conv 16@3×3 same + ReLU → conv 32@3×3 same + ReLU → maxpool 2 →
//! flatten → FC 10 on 8×8×1 images (pixels / 16), trained with Adam on
//! the fixed digits train split.

use edgegrad::autograd::manual_seed;
use edgegrad::data::{read_csv, VecDataset};
use edgegrad::nn::{Conv2d, Flatten, Linear, Loss, MaxPool2d, Module, Padding, ReLU, Sequential};
use edgegrad::optim::Adam;
use edgegrad::train::{fit, FitConfig, TrainError};

/// One split of the digits (`"train"` or `"test"`), pixels scaled to [0, 1].
pub fn load(split: &str) -> Result<VecDataset, TrainError> {
    let path = format!("{}/data/digits8x8_{split}.csv", env!("CARGO_MANIFEST_DIR"));
    Ok(read_csv(&path, "label")?
        .with_input_shape(&[8, 8, 1])
        .map_inputs(|p| p / 16.0))
}

/// The network, freshly initialised from seed 0.
pub fn network() -> Sequential {
    manual_seed(0);
    Sequential::new()
        .add(Conv2d::new(1, 16, 3).padding(Padding::Same))
        .add(ReLU)
        .add(Conv2d::new(16, 32, 3).padding(Padding::Same))
        .add(ReLU)
        .add(MaxPool2d::new(2))
        .add(Flatten)
        .add(Linear::new(4 * 4 * 32, 10))
}

/// The network trained for `epochs` on `train` (batch 32, Adam 2e-3,
/// seeded: the same weights bit for bit on every run).
pub fn trained(train: &VecDataset, epochs: usize) -> Result<Sequential, TrainError> {
    let mut model = network();
    let mut opt = Adam::new(model.named_parameters(), 2e-3);
    fit(
        &mut model,
        &mut opt,
        Loss::CROSS_ENTROPY,
        train,
        None,
        &FitConfig::new(epochs, 32).seed(0).progress(false),
    )?;
    Ok(model)
}
