//! The tensor core: shapes, element types, quantization parameters and
//! views over caller-owned slices. Nothing here allocates.
//!
//! Layout conventions, used by every kernel:
//! - tensors are dense and row-major (the last dimension varies fastest);
//! - images are **NHWC** (batch, height, width, channels);
//! - convolution filters are **OHWI** (output channels, kernel height,
//!   kernel width, input channels), depthwise filters **1HWC** with
//!   `C = input channels × channel multiplier`, fully connected weights
//!   **[out, in]** — the TensorFlow Lite layouts, so imported models need no
//!   transposition.
//!
//! ```
//! use edgegrad::tensor::{Shape, TensorView};
//! let data = [1i8, 2, 3, 4, 5, 6];
//! let t = TensorView::new(Shape::new(&[1, 2, 3])?, &data)?;
//! assert_eq!(t.shape().dims(), &[1, 2, 3]);
//! assert_eq!(t.data()[4], 5);
//! # Ok::<(), edgegrad::Error>(())
//! ```

mod dtype;
mod quant_params;
mod shape;
mod view;

pub use dtype::{DType, Element};
pub use quant_params::QuantParams;
pub use shape::{Shape, MAX_RANK};
pub use view::{TensorMut, TensorView};
