//! `StridedSlice`: a strided window of a tensor (TFLite `STRIDED_SLICE`,
//! ONNX `Slice` and `Gather` of one index; kernel:
//! [`reference::strided_slice`](mod@crate::kernels::reference::strided_slice)).
//!
//! Input `x` (rank ≤ 4), output of the same element type and quantization
//! with any shape holding the selected elements (so dropped axes need no
//! reshape). Option words (12), per dimension of `x`'s shape left-extended
//! to rank 4:
//!
//! ```text
//!  0  begin_0..3   first index taken (0 ≤ begin < dim)
//!  4  stride_0..3  step between indices (≠ 0, negative walks backwards)
//!  8  count_0..3   indices taken (every one inside the dimension)
//! ```

use super::*;
use crate::kernels::reference::strided_slice::{strided_slice, SliceWindow};
use crate::kernels::reference::util::extend_to_4d;

/// The number of option words.
pub const OPTION_WORDS: usize = 12;

fn window(op: &OpInfo<'_>) -> Result<SliceWindow, Error> {
    ensure_options(op, op.options.len() == OPTION_WORDS)?;
    let mut w = SliceWindow {
        begin: [0; 4],
        stride: [1; 4],
        count: [0; 4],
    };
    for d in 0..4 {
        w.begin[d] = size_word(op, d)?;
        w.stride[d] = word(op, 4 + d)?;
        w.count[d] = size_word(op, 8 + d)?;
    }
    Ok(w)
}

pub(crate) fn validate(model: &Model<'_>, op: &OpInfo<'_>) -> Result<(), Error> {
    arity(op, 1, 1)?;
    let x = req_input(model, op, 0)?;
    let out = output_info(model, op)?;
    let w = window(op)?;
    w.check(extend_to_4d(&x.shape))
        .map_err(|_| Error::BadOpOptions { op: op.index })?;
    let count = w
        .count
        .iter()
        .try_fold(1usize, |n, &c| n.checked_mul(c))
        .ok_or(Error::BadOpOptions { op: op.index })?;
    ensure_shapes(op, out.shape.num_elements() == count)?;
    ensure_dtypes(
        op,
        (x.dtype == DType::I8 || is_float(x.dtype)) && x.dtype == out.dtype && x.quant == out.quant,
    )
}

fn eval_t<T: Element>(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    let w = window(op)?;
    let (io, mut out) = Io::split(model, op, arena)?;
    let (_, x) = io.input::<T>(0)?;
    strided_slice(x, out.view::<T>()?.data_mut(), &w)
}

/// Runs an int8 strided slice.
pub fn eval_s8(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_t::<i8>(model, op, arena)
}
/// Runs an f16 strided slice.
pub fn eval_f16(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_t::<half::f16>(model, op, arena)
}
/// Runs an f32 strided slice.
pub fn eval_f32(model: &Model<'_>, op: &OpInfo<'_>, arena: &mut [u8]) -> Result<(), Error> {
    eval_t::<f32>(model, op, arena)
}
