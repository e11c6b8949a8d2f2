//! [`Shape`]: up to four dimensions, stored inline.

use crate::Error;

/// The largest rank a tensor can have.
pub const MAX_RANK: usize = 4;

/// A tensor shape of rank 0 to [`MAX_RANK`], stored inline (no allocation).
///
/// A shape's element count always fits in `u32`, so that the model file and
/// every index computation on a 32-bit microcontroller are safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Shape {
    dims: [usize; MAX_RANK],
    rank: u8,
}

impl Shape {
    /// A shape with the given dimensions.
    ///
    /// Errors with [`Error::RankTooLarge`] above rank 4 and
    /// [`Error::ShapeOverflow`] when the element count exceeds `u32::MAX`.
    ///
    /// ```
    /// # use edgegrad::tensor::Shape;
    /// let s = Shape::new(&[1, 8, 8, 3])?;
    /// assert_eq!(s.num_elements(), 192);
    /// assert!(Shape::new(&[1, 2, 3, 4, 5]).is_err());
    /// # Ok::<(), edgegrad::Error>(())
    /// ```
    pub fn new(dims: &[usize]) -> Result<Self, Error> {
        if dims.len() > MAX_RANK {
            return Err(Error::RankTooLarge { rank: dims.len() });
        }
        let mut d = [1usize; MAX_RANK];
        let mut count: u64 = 1;
        for (slot, &x) in d.iter_mut().zip(dims) {
            *slot = x;
            count = count.saturating_mul(x as u64);
        }
        if count > u32::MAX as u64 {
            return Err(Error::ShapeOverflow);
        }
        Ok(Shape {
            dims: d,
            rank: dims.len() as u8,
        })
    }

    /// The scalar shape (rank 0, one element).
    pub const fn scalar() -> Self {
        Shape {
            dims: [1; MAX_RANK],
            rank: 0,
        }
    }

    /// The number of dimensions.
    pub const fn rank(&self) -> usize {
        self.rank as usize
    }

    /// The dimensions, outermost first.
    pub fn dims(&self) -> &[usize] {
        &self.dims[..self.rank as usize]
    }

    /// Dimension `i`, or 1 past the rank.
    pub fn dim(&self, i: usize) -> usize {
        if i < self.rank as usize {
            self.dims[i]
        } else {
            1
        }
    }

    /// The last dimension (1 for a scalar).
    pub fn last(&self) -> usize {
        if self.rank == 0 {
            1
        } else {
            self.dims[self.rank as usize - 1]
        }
    }

    /// The number of elements (the product of the dimensions).
    pub fn num_elements(&self) -> usize {
        self.dims().iter().product()
    }

    /// The four dimensions of a rank-4 NHWC shape as `[n, h, w, c]`,
    /// or `None` for another rank.
    pub fn nhwc(&self) -> Option<[usize; 4]> {
        if self.rank == 4 {
            Some(self.dims)
        } else {
            None
        }
    }

    /// True when both shapes hold the same number of elements.
    pub fn same_count(&self, other: &Shape) -> bool {
        self.num_elements() == other.num_elements()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_count_overflowing_u32_is_rejected() {
        assert_eq!(Shape::new(&[65536, 65536, 2]), Err(Error::ShapeOverflow));
    }

    #[test]
    fn dims_past_rank_read_as_one() {
        let s = Shape::new(&[3, 5]).unwrap();
        assert_eq!(s.dim(1), 5);
        assert_eq!(s.dim(3), 1);
        assert_eq!(s.last(), 5);
        assert_eq!(Shape::scalar().num_elements(), 1);
    }
}
