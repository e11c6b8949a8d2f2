//! Host-side model import (feature `std`): readers of other frameworks'
//! model files that produce the same model file the exporter writes.
//!
//! - [`tflite`]: fully int8-quantized TensorFlow Lite flatbuffers, byte
//!   exact with TensorFlow Lite Micro's integer reference kernels.

pub mod tflite;
