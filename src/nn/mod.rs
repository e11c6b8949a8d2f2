//! Layers, losses and initialisers (feature `std`).
//!
//! Every layer implements [`Module`] (forward, named parameters, train/eval
//! mode, freezing). One layer per file, re-exported here:
//!
//! | file | layers |
//! | --- | --- |
//! | [`linear`] | [`Linear`] |
//! | [`conv1d`], [`conv2d`], [`depthwise_conv2d`] | [`Conv1d`], [`Conv2d`], [`DepthwiseConv2d`] |
//! | [`pool`] | [`MaxPool1d`], [`MaxPool2d`], [`AvgPool1d`], [`AvgPool2d`], [`GlobalAvgPool`] |
//! | [`batch_norm`] | [`BatchNorm1d`], [`BatchNorm2d`] |
//! | [`dropout`], [`flatten`], [`embedding`] | [`Dropout`], [`Flatten`], [`Embedding`] |
//! | [`activation`] | [`ReLU`], [`ReLU6`], [`LeakyReLU`], [`PReLU`], [`ELU`], [`Sigmoid`], [`Tanh`], [`Softmax`], [`LogSoftmax`] |
//! | [`rnn`], [`gru`], [`lstm`] | [`Rnn`], [`Gru`], [`Lstm`] (PyTorch's equations, gate order and parameter names) |
//! | [`sequential`] | [`Sequential`] and `summary()` |
//!
//! Layout is channels-last throughout (NHWC images, NWC sequences, OHWI /
//! OWI filters): see [`crate::autograd`] for why.
//!
//! # Walking a trained model (exporters)
//!
//! A [`Sequential`] is a list of typed layers. An exporter visits
//! [`Sequential::layers`] in order and downcasts each with
//! [`Sequential::layer`] (or `layer.as_any().downcast_ref::<T>()`):
//!
//! * [`Conv2d`]: `weight` OHWI `[out, kh, kw, in/groups]` (the device's
//!   filter layout, no transpose), `bias` `[out]`, `stride`, `dilation`,
//!   `groups`; [`Conv2d::params_for`] resolves the padding for an input size
//!   (`Padding::Same` is TensorFlow's SAME, extra pixel after).
//! * [`DepthwiseConv2d`]: the same over `conv`; TFLite's `[1, kh, kw, c·m]`
//!   filter is [`DepthwiseConv2d::weight_1hwc`].
//! * [`Linear`]: `weight` `[out, in]`, `bias` `[out]` (TFLite's FC layout).
//!   After a [`Flatten`] of NHWC features the inputs are in HWC order.
//! * [`BatchNorm`]: `weight`, `bias`, `running_mean`, `running_var`, `eps`
//!   for folding into the preceding convolution.
//! * Activations, pools, [`Flatten`], [`Dropout`] (identity at inference)
//!   carry their options as public fields.
//!
//! ```
//! use edgegrad::nn::{Conv2d, Linear, Module, Padding, ReLU, Sequential};
//! let model = Sequential::new().add(Conv2d::new(1, 16, 3).padding(Padding::Same)).add(ReLU);
//! for (i, layer) in model.layers().iter().enumerate() {
//!     if let Some(conv) = layer.as_any().downcast_ref::<Conv2d>() {
//!         let ohwi: Vec<f32> = conv.weight.to_vec(); // [16, 3, 3, 1]
//!         assert_eq!((i, ohwi.len()), (0, 144));
//!     }
//! }
//! ```

pub mod activation;
pub mod batch_norm;
pub mod conv1d;
pub mod conv2d;
pub mod depthwise_conv2d;
pub mod dropout;
pub mod embedding;
pub mod flatten;
pub mod gru;
pub mod init;
pub mod linear;
pub mod loss;
pub mod lstm;
pub mod module;
pub mod padding;
pub mod pool;
mod recurrent;
pub mod rnn;
pub mod sequential;

pub use activation::{LeakyReLU, LogSoftmax, PReLU, ReLU, ReLU6, Sigmoid, Softmax, Tanh, ELU};
pub use batch_norm::{BatchNorm, BatchNorm1d, BatchNorm2d};
pub use conv1d::Conv1d;
pub use conv2d::{Conv2d, Conv2dOptions};
pub use depthwise_conv2d::DepthwiseConv2d;
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use flatten::Flatten;
pub use gru::Gru;
pub use init::Init;
pub use linear::Linear;
pub use loss::{bce_with_logits, cross_entropy, huber_loss, l1_loss, mse_loss, Loss};
pub use lstm::Lstm;
pub use module::Module;
pub use padding::Padding;
pub use pool::{AvgPool1d, AvgPool2d, GlobalAvgPool, MaxPool1d, MaxPool2d};
pub use rnn::Rnn;
pub use sequential::Sequential;
