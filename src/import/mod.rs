//! Host-side model import (feature `std`): readers of other frameworks'
//! model files that produce the same model file the exporter writes.
//!
//! - [`tflite`]: fully int8-quantized TensorFlow Lite flatbuffers, byte
//!   exact with TensorFlow Lite Micro's integer reference kernels.
//! - [`onnx`]: float ONNX models as `torch.onnx.export` writes them,
//!   converted to f32/f16 or quantized to int8 with edgegrad's own
//!   post-training quantization.

pub mod onnx;
pub mod tflite;
