//! # edgegrad
//!
//! Machine learning on microcontrollers, in one crate: a `no_std`,
//! allocation-free inference core (int8, f16 and f32 kernels driven by an
//! interpreter over a validated model file and a caller-owned arena), and —
//! behind the `std` feature — the host side that builds, trains, quantizes
//! and exports the models the device runs.
//!
//! The whole life of a model, host to device, in a dozen lines (the device
//! half is the same code a firmware runs):
//!
//! ```
//! # #[cfg(feature = "std")] {
//! use edgegrad::autograd::{manual_seed, Tensor};
//! use edgegrad::export::{export_sequential, ExportOptions};
//! use edgegrad::model::{AlignedModel, Interpreter, Model, OpResolver};
//! use edgegrad::nn::{Linear, Module, ReLU, Sequential};
//!
//! // Host: a (here untrained) model, quantized to int8 and exported.
//! manual_seed(0);
//! let mut net = Sequential::new().add(Linear::new(4, 8)).add(ReLU).add(Linear::new(8, 3));
//! let calibration = Tensor::randn(&[32, 4]).to_vec();
//! let exported = export_sequential(&mut net, &[4], Some(&calibration), &ExportOptions::int8())?;
//!
//! // Device: validate once, run in a caller-owned arena with only the kernels needed.
//! let file = AlignedModel::new(&exported.bytes); // on a device: include_model!
//! let model = Model::from_bytes(file.as_bytes())?;
//! let ops = OpResolver::new().add_fully_connected_s8();
//! let mut arena = vec![0u8; model.arena_size()];
//! let mut interp = Interpreter::new(&model, &ops, &mut arena)?;
//! interp.input_mut::<i8>(0)?.copy_from_slice(&[10, -20, 30, -40]);
//! interp.invoke()?;
//! assert_eq!(interp.output::<i8>(0)?.len(), 3);
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Where things are: [`tensor`] (shapes, views, quantization parameters),
//! [`quant`] (TFLite's fixed-point arithmetic), [`kernels`] (int8/f16/f32
//! kernels), [`model`] (file format, validation, memory plan, interpreter);
//! with `std`: `autograd`, `nn`, `optim`, `data`, `train` (training) and
//! `export` (calibration, quantization, the model writer).
//!
//! Features add, never change results:
//! - *(none)*: the `no_std` core, no allocator.
//! - `std`: training, export, file I/O, the `edgegrad` CLI.
//! - `defmt`: `defmt::Format` for the public types.
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]
#![deny(unsafe_code)]

#[cfg(all(test, not(feature = "std")))]
extern crate std;

pub mod error;
#[cfg(feature = "std")]
pub mod export;
#[cfg(feature = "std")]
pub mod import;
pub mod kernels;
pub mod model;
pub mod quant;
pub mod tensor;

#[cfg(feature = "std")]
pub mod autograd;
#[cfg(feature = "std")]
pub mod data;
#[cfg(feature = "std")]
pub mod nn;
#[cfg(feature = "std")]
pub mod optim;
#[cfg(feature = "std")]
pub mod train;

pub use error::Error;
