//! Recycles large f32 buffers between training steps.
//!
//! NOTE: every training step allocates and frees the same large buffers
//! (im2col patches, activations, gradients). The system allocator serves
//! them from freshly mapped or trimmed pages, so each step paid for page
//! faults and zero-fills (about a tenth of a digits-CNN step in `perf`).
//! Buffers of at least [`MIN_LEN`] floats are kept here when their tensor
//! or gradient dies (at most [`MAX_BUFFERS`] buffers, [`MAX_FLOATS`] floats
//! in all) and handed out again. A reused buffer's contents are stale but
//! initialised; [`take_zeroed`] clears them.

use std::sync::Mutex;

/// Smaller buffers go straight back to the allocator.
pub const MIN_LEN: usize = 1 << 14;
/// Most buffers kept.
pub const MAX_BUFFERS: usize = 64;
/// Most floats kept in all (64 MiB).
pub const MAX_FLOATS: usize = 16 << 20;

struct Pool {
    bufs: Vec<Vec<f32>>,
    floats: usize,
}

static POOL: Mutex<Pool> = Mutex::new(Pool {
    bufs: Vec::new(),
    floats: 0,
});

fn lock() -> std::sync::MutexGuard<'static, Pool> {
    POOL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A recycled buffer with capacity in `n..=2n`, if one is kept.
fn reuse(n: usize) -> Option<Vec<f32>> {
    if n < MIN_LEN {
        return None;
    }
    let mut p = lock();
    let i = (0..p.bufs.len())
        .filter(|&i| (n..=2 * n).contains(&p.bufs[i].capacity()))
        .min_by_key(|&i| p.bufs[i].capacity())?;
    let v = p.bufs.swap_remove(i);
    p.floats -= v.capacity();
    Some(v)
}

/// `n` floats with unspecified (but initialised) values: for buffers that
/// are overwritten entirely.
pub fn take(n: usize) -> Vec<f32> {
    match reuse(n) {
        Some(mut v) => {
            if v.len() >= n {
                v.truncate(n);
            } else {
                v.resize(n, 0.0);
            }
            v
        }
        None => vec![0.0; n],
    }
}

/// `n` zeros.
pub fn take_zeroed(n: usize) -> Vec<f32> {
    match reuse(n) {
        Some(mut v) => {
            v.clear();
            v.resize(n, 0.0);
            v
        }
        None => vec![0.0; n],
    }
}

/// `f` of every element of `x`, in a pooled buffer.
#[inline]
pub fn map(x: &[f32], f: impl Fn(f32) -> f32) -> Vec<f32> {
    let mut out = take(x.len());
    out.iter_mut().zip(x).for_each(|(o, &v)| *o = f(v));
    out
}

/// Returns a buffer for reuse (dropped if small or the pool is full).
pub fn give(v: Vec<f32>) {
    let cap = v.capacity();
    if cap < MIN_LEN {
        return;
    }
    let mut p = lock();
    if p.bufs.len() < MAX_BUFFERS && p.floats + cap <= MAX_FLOATS {
        p.floats += cap;
        p.bufs.push(v);
    }
}

/// A buffer that goes back to the pool when dropped (for scratch a
/// backward closure keeps, like im2col patches).
pub struct Recycled(pub Vec<f32>);

impl std::ops::Deref for Recycled {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        &self.0
    }
}

impl Drop for Recycled {
    fn drop(&mut self) {
        give(std::mem::take(&mut self.0));
    }
}
