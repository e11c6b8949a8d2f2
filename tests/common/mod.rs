//! Helpers shared by the integration tests.
#![allow(dead_code)]

/// A small seeded generator (a 64-bit LCG): the same values on every run.
pub struct Lcg(pub u64);

impl Lcg {
    /// The next 31 bits.
    pub fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as u32
    }

    /// Any int8.
    pub fn i8(&mut self) -> i8 {
        self.next() as i8
    }

    /// `n` int8 weights in `[-127, 127]`.
    pub fn i8s(&mut self, n: usize) -> Vec<i8> {
        (0..n).map(|_| (self.next() as i8).max(-127)).collect()
    }

    /// `n` values in `[-1, 1]` on a grid of 1/1000.
    pub fn f32s(&mut self, n: usize) -> Vec<f32> {
        (0..n)
            .map(|_| (self.next() % 2001) as f32 / 1000.0 - 1.0)
            .collect()
    }
}
