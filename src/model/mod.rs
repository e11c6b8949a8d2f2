//! Models: the file format, its validation, the memory plan and the
//! interpreter.
//!
//! The stages of a model on the device:
//! 1. **bytes** — a model file (`.egm`, layout in [`format`](mod@format)), embedded with
//!    [`include_model!`](crate::include_model) or read into an
//!    [`AlignedModel`] on the host;
//! 2. **[`Model`]** — the bytes after [`Model::from_bytes`] has validated
//!    every header field, tensor, operator and the memory plan; from here on
//!    nothing can panic or go out of bounds;
//! 3. **[`Interpreter`]** — a model bound to an [`OpResolver`] (the kernels
//!    the firmware links) and a caller-owned arena; `invoke` runs it.
//!
//! ```
//! # #[cfg(feature = "std")] {
//! use edgegrad::export::ModelBuilder;
//! use edgegrad::model::{AlignedModel, Interpreter, Model, OpResolver};
//! use edgegrad::tensor::DType;
//!
//! // A one-op model: y = relu(x), f32.
//! let mut b = ModelBuilder::new();
//! let x = b.input(DType::F32, &[1, 4], None)?;
//! let y = b.relu(x)?;
//! b.output(y);
//! let file = AlignedModel::new(&b.build()?.bytes);
//!
//! let model = Model::from_bytes(file.as_bytes())?;
//! let resolver = OpResolver::new().add_relu_f32();
//! let mut arena = vec![0u8; model.arena_size()];
//! let mut interp = Interpreter::new(&model, &resolver, &mut arena)?;
//! interp.input_mut::<f32>(0)?.copy_from_slice(&[-1.0, 2.0, -3.0, 4.0]);
//! interp.invoke()?;
//! assert_eq!(interp.output::<f32>(0)?, &[0.0, 2.0, 0.0, 4.0]);
//! # }
//! # Ok::<(), edgegrad::Error>(())
//! ```

mod aligned;
mod file;
pub mod format;
mod interpreter;
mod opcode;
pub mod ops;
pub mod plan;
mod resolver;

#[cfg(feature = "std")]
pub use aligned::AlignedModel;
pub use aligned::{AlignedBytes, Arena};
pub use file::{required_ops, Model, OpInfo, Storage, TensorInfo, MAX_OPS, MAX_TENSORS};
pub use format::arena_size;
pub use interpreter::Interpreter;
pub use opcode::{KernelType, OpCode, OpSet, KERNEL_TYPE_COUNT, OPCODE_COUNT};
pub use resolver::{EvalFn, OpResolver};
