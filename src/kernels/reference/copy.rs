//! Copies: RESHAPE (and SQUEEZE, EXPAND_DIMS), which change a tensor's shape
//! but not its row-major data.
//!
//! The interpreter runs these in place when the planner lets input and
//! output share memory; this kernel is the copy for when it cannot.

use crate::tensor::{Element, TensorMut, TensorView};
use crate::Error;

/// Copies `input` into `output`, which may have any shape with the same
/// number of elements (TFLite `RESHAPE`).
///
/// Errors with `ShapeMismatch` when the element counts differ.
pub fn reshape<T: Element>(
    input: TensorView<'_, T>,
    output: &mut TensorMut<'_, T>,
) -> Result<(), Error> {
    if input.data().len() != output.data().len() {
        return Err(Error::ShapeMismatch);
    }
    output.data_mut().copy_from_slice(input.data());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::reference::util::testing::*;

    #[test]
    fn reshape_copies_row_major_data() {
        let x = [1i8, 2, 3, 4, 5, 6];
        let mut out = [0i8; 6];
        reshape(view(&[2, 3], &x), &mut view_mut(&[3, 1, 2], &mut out)).unwrap();
        assert_eq!(out, x);
        let mut small = [0i8; 4];
        assert_eq!(
            reshape(view(&[2, 3], &x), &mut view_mut(&[4], &mut small)),
            Err(Error::ShapeMismatch)
        );
    }
}
