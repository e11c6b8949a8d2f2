//! Augmentations for channels-last images `[h, w, c]` and sequences
//! `[len, c]`: random shift, random flip, Gaussian noise. Each is a
//! [`Transform`] for [`DataLoader::map`](super::DataLoader::map).

use super::loader::Transform;
use crate::autograd::Rng;

/// Shifts by a random whole number of pixels (time steps) in
/// `−max..=max` along each spatial axis, filling with zeros.
#[derive(Clone, Copy, Debug)]
pub struct RandomShift {
    /// Largest shift.
    pub max: usize,
}

impl Transform for RandomShift {
    fn apply(&self, x: &mut [f32], shape: &[usize], rng: &mut Rng) {
        let m = self.max as i64;
        let (h, w, c, dy, dx) = match shape {
            [l, c] => (1, *l, *c, 0, rng.range_inclusive(-m, m)),
            [h, w, c] => (
                *h,
                *w,
                *c,
                rng.range_inclusive(-m, m),
                rng.range_inclusive(-m, m),
            ),
            _ => panic!("RandomShift expects [h, w, c] or [len, c], got {shape:?}"),
        };
        let src = x.to_vec();
        for y in 0..h as i64 {
            for xx in 0..w as i64 {
                let (sy, sx) = (y - dy, xx - dx);
                let dst = ((y * w as i64 + xx) as usize) * c;
                if sy >= 0 && sy < h as i64 && sx >= 0 && sx < w as i64 {
                    let s = ((sy * w as i64 + sx) as usize) * c;
                    x[dst..dst + c].copy_from_slice(&src[s..s + c]);
                } else {
                    x[dst..dst + c].iter_mut().for_each(|v| *v = 0.0);
                }
            }
        }
    }
}

/// With probability `p`, mirrors an image left–right (`[h, w, c]`) or
/// reverses a sequence in time (`[len, c]`).
#[derive(Clone, Copy, Debug)]
pub struct RandomFlip {
    /// Probability of flipping.
    pub p: f32,
}

impl Transform for RandomFlip {
    fn apply(&self, x: &mut [f32], shape: &[usize], rng: &mut Rng) {
        if rng.uniform() >= self.p {
            return;
        }
        let (h, w, c) = match shape {
            [l, c] => (1, *l, *c),
            [h, w, c] => (*h, *w, *c),
            _ => panic!("RandomFlip expects [h, w, c] or [len, c], got {shape:?}"),
        };
        for y in 0..h {
            for xx in 0..w / 2 {
                for ch in 0..c {
                    x.swap((y * w + xx) * c + ch, (y * w + w - 1 - xx) * c + ch);
                }
            }
        }
    }
}

/// Adds `N(0, std²)` noise to every value.
#[derive(Clone, Copy, Debug)]
pub struct GaussianNoise {
    /// Standard deviation.
    pub std: f32,
}

impl Transform for GaussianNoise {
    fn apply(&self, x: &mut [f32], _shape: &[usize], rng: &mut Rng) {
        x.iter_mut().for_each(|v| *v += self.std * rng.normal());
    }
}
