//! Host-side model import (feature `std`): readers of other frameworks' model files.

pub mod onnx;
