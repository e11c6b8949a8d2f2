//! # edgegrad
//!
//! Machine learning on microcontrollers, in one crate: a `no_std`,
//! allocation-free inference core (int8, f16 and f32 kernels driven by an
//! interpreter over a validated model file and a caller-owned arena), and —
//! behind the `std` feature — the host side that builds, trains, quantizes
//! and exports the models the device runs.
//!
//! Features add, never change results:
//! - *(none)*: the `no_std` core, no allocator.
//! - `std`: the model writer and builder, file I/O, the `edgegrad` CLI.
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
