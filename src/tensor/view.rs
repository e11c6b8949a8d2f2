//! [`TensorView`] and [`TensorMut`]: a shape over a borrowed slice.

use super::{Element, Shape};
use crate::Error;

/// A read-only tensor: a [`Shape`] over a borrowed slice of elements.
#[derive(Debug, Clone, Copy)]
pub struct TensorView<'a, T> {
    shape: Shape,
    data: &'a [T],
}

impl<'a, T: Element> TensorView<'a, T> {
    /// Views `data` with `shape`; errors when the lengths differ.
    pub fn new(shape: Shape, data: &'a [T]) -> Result<Self, Error> {
        check_len(&shape, data.len())?;
        Ok(TensorView { shape, data })
    }

    /// The shape.
    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    /// The elements, row-major.
    pub fn data(&self) -> &'a [T] {
        self.data
    }
}

/// A mutable tensor: a [`Shape`] over a borrowed mutable slice.
#[derive(Debug)]
pub struct TensorMut<'a, T> {
    shape: Shape,
    data: &'a mut [T],
}

impl<'a, T: Element> TensorMut<'a, T> {
    /// Views `data` with `shape`; errors when the lengths differ.
    pub fn new(shape: Shape, data: &'a mut [T]) -> Result<Self, Error> {
        check_len(&shape, data.len())?;
        Ok(TensorMut { shape, data })
    }

    /// The shape.
    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    /// The elements, row-major.
    pub fn data(&self) -> &[T] {
        self.data
    }

    /// The elements, row-major, mutable.
    pub fn data_mut(&mut self) -> &mut [T] {
        self.data
    }

    /// A read-only view of the same tensor.
    pub fn as_view(&self) -> TensorView<'_, T> {
        TensorView {
            shape: self.shape,
            data: self.data,
        }
    }
}

fn check_len(shape: &Shape, len: usize) -> Result<(), Error> {
    let expected = shape.num_elements();
    if expected == len {
        Ok(())
    } else {
        Err(Error::LengthMismatch { expected, got: len })
    }
}
