//! The one seedable random number generator every random draw comes from
//! (initialisation, dropout, shuffling, augmentation), like
//! `torch.manual_seed`: seeding it makes a run reproducible bit for bit.
//!
//! The generator is ChaCha8 (`rand_chacha`); the conversions to floats are
//! written out here (24-bit uniform, Box–Muller normal in f64) so that they
//! cannot change under a dependency upgrade. The default seed is 0; the default generator is per thread (see
//! [`with_rng`]).

use std::cell::RefCell;

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng as _, SeedableRng};

/// A seedable random number generator with the draws edgegrad needs.
#[derive(Clone, Debug)]
pub struct Rng(ChaCha8Rng);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn seed_from(seed: u64) -> Self {
        Rng(ChaCha8Rng::seed_from_u64(seed))
    }

    /// 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }

    /// 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `[0, 1)` with 24 bits of resolution.
    pub fn uniform(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 * (1.0 / (1u32 << 24) as f32)
    }

    /// Uniform in `[0, 1)` as f64 (53 bits).
    pub fn uniform_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f32 {
        let u1 = 1.0 - self.uniform_f64(); // (0, 1]
        let u2 = self.uniform_f64();
        ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
    }

    /// Uniform integer in `0..n` (`n > 0`), by rejection (no modulo bias).
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "Rng::below(0)");
        let n = n as u64;
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let v = self.next_u64();
            if v < zone {
                return (v % n) as usize;
            }
        }
    }

    /// Uniform integer in `lo..=hi`.
    pub fn range_inclusive(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as usize) as i64
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }

    /// A new generator seeded from this one's next draw.
    pub fn fork(&mut self) -> Rng {
        Rng::seed_from(self.next_u64())
    }
}

thread_local! {
    static GLOBAL: RefCell<Option<Rng>> = const { RefCell::new(None) };
}

/// Reseeds the default generator of this thread.
pub fn manual_seed(seed: u64) {
    GLOBAL.with(|g| *g.borrow_mut() = Some(Rng::seed_from(seed)));
}

/// Runs `f` with this thread's default generator (seeded with 0 until
/// [`manual_seed`]).
///
/// The generator is per thread so that two trainings on two threads (or two
/// tests) cannot perturb each other's streams; edgegrad draws only on the
/// thread that calls it, never inside its rayon workers.
pub fn with_rng<R>(f: impl FnOnce(&mut Rng) -> R) -> R {
    GLOBAL.with(|g| f(g.borrow_mut().get_or_insert_with(|| Rng::seed_from(0))))
}
