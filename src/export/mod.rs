//! Host-side model export (feature `std`): the [`ModelBuilder`] that
//! assembles a graph and writes the model file, calibration and
//! post-training quantization, quantization-aware training ([`qat`]), and
//! [`export_sequential`], which turns a
//! trained [`Sequential`](crate::nn::Sequential) into an int8, f16 or f32
//! model file.

mod builder;
pub mod calibrate;
pub mod qat;
mod sequential;
mod writer;

pub use builder::{
    BuiltModel, ConvOptions, LstmOptions, ModelBuilder, PoolOptions, Quant, RecurrentOutput,
    TensorId,
};
pub use calibrate::Calibration;
pub use qat::prepare_qat;
pub use sequential::{
    export_sequential, ExportDtype, ExportError, ExportOptions, ExportedModel, LayerReport,
};
pub use writer::{write_atomic, PlanReport};
