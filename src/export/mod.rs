//! Host-side model export (feature `std`): the [`ModelBuilder`] that
//! assembles a graph and writes the model file, and the writer under it.

mod builder;
mod writer;

pub use builder::{BuiltModel, ConvOptions, ModelBuilder, PoolOptions, Quant, TensorId};
pub use writer::{write_atomic, PlanReport};
