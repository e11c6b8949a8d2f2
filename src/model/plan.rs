//! The memory planner: arena offsets for every buffer from its lifetime.
//!
//! Each activation tensor (and each operator's scratch buffer) is a
//! [`Buffer`]: a size and a live interval `[first, last]` of execution
//! steps. Two buffers may share bytes only when their intervals are
//! disjoint. Finding the smallest arena is NP-complete (it is a dynamic
//! storage allocation problem), so [`plan_greedy`] uses the classic
//! heuristic that does well on feed-forward networks:
//!
//! 1. sort the buffers by size, largest first (ties: earliest first);
//! 2. place each at the lowest offset where it overlaps no already-placed
//!    buffer whose lifetime intersects its own. Scanning upward, whenever the
//!    candidate range `[off, off + size)` hits such a buffer, `off` jumps to
//!    that buffer's end: every offset in between would hit it too, so the
//!    first offset without a hit is the lowest possible one.
//!
//! The arena size is the highest end; [`lower_bound`] is the most bytes
//! alive at any one step, which no plan can beat, and [`plan_linear`] (every
//! buffer its own bytes) is the baseline the tests compare with. In-place
//! operators are handled before planning by giving an op's output the same
//! buffer as its dying input (see the model writer).
//!
//! The planner runs in `no_std` with caller-provided scratch (`order`), so
//! a device could re-plan too; the exporter runs it once and stores the
//! offsets in the model file.

use crate::Error;

/// A block of arena memory to place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Buffer {
    /// Size in bytes.
    pub size: usize,
    /// First step at which it is alive.
    pub first: u32,
    /// Last step at which it is alive (inclusive).
    pub last: u32,
}

impl Buffer {
    /// True when the two buffers are alive at some common step.
    pub fn lives_with(&self, other: &Buffer) -> bool {
        self.first <= other.last && other.first <= self.last
    }
}

fn align_up(x: usize, align: usize) -> Option<usize> {
    x.checked_add(align - 1).map(|v| v / align * align)
}

/// Places `buffers`, writing each one's offset (a multiple of `align`) to
/// `offsets`, and returns the arena size. `order` is scratch of the same
/// length. Errors with [`Error::LengthMismatch`] when the slices differ in
/// length and [`Error::ShapeOverflow`] if the arena exceeds `usize`.
pub fn plan_greedy(
    buffers: &[Buffer],
    align: usize,
    order: &mut [usize],
    offsets: &mut [usize],
) -> Result<usize, Error> {
    let n = buffers.len();
    if order.len() != n || offsets.len() != n {
        return Err(Error::LengthMismatch {
            expected: n,
            got: order.len().min(offsets.len()),
        });
    }
    let align = align.max(1);
    for (i, o) in order.iter_mut().enumerate() {
        *o = i;
    }
    // Insertion sort, largest first: no allocation, n is small.
    let key = |i: usize| (core::cmp::Reverse(buffers[i].size), buffers[i].first, i);
    for i in 1..n {
        let mut j = i;
        while j > 0 && key(order[j]) < key(order[j - 1]) {
            order.swap(j, j - 1);
            j -= 1;
        }
    }
    let mut arena = 0usize;
    for (placed, &b) in order.iter().enumerate() {
        let buf = &buffers[b];
        let mut off = 0usize;
        'scan: loop {
            let end = off.checked_add(buf.size).ok_or(Error::ShapeOverflow)?;
            for &p in &order[..placed] {
                let other = &buffers[p];
                let (po, pe) = (offsets[p], offsets[p] + other.size);
                if buf.size > 0 && other.size > 0 && buf.lives_with(other) && off < pe && po < end {
                    off = align_up(pe, align).ok_or(Error::ShapeOverflow)?;
                    continue 'scan;
                }
            }
            break;
        }
        offsets[b] = off;
        arena = arena.max(off + buf.size);
    }
    Ok(arena)
}

/// The baseline plan: buffers laid end to end, none shared. Returns the
/// arena size.
pub fn plan_linear(
    buffers: &[Buffer],
    align: usize,
    offsets: &mut [usize],
) -> Result<usize, Error> {
    if offsets.len() != buffers.len() {
        return Err(Error::LengthMismatch {
            expected: buffers.len(),
            got: offsets.len(),
        });
    }
    let mut off = 0usize;
    for (b, o) in buffers.iter().zip(offsets.iter_mut()) {
        off = align_up(off, align.max(1)).ok_or(Error::ShapeOverflow)?;
        *o = off;
        off = off.checked_add(b.size).ok_or(Error::ShapeOverflow)?;
    }
    Ok(off)
}

/// The most bytes alive at any one step: no plan can use less arena.
pub fn lower_bound(buffers: &[Buffer]) -> usize {
    buffers
        .iter()
        .map(|b| {
            // The live set is largest at some buffer's first step.
            buffers
                .iter()
                .filter(|o| o.first <= b.first && b.first <= o.last)
                .map(|o| o.size)
                .sum::<usize>()
        })
        .max()
        .unwrap_or(0)
}

/// Checks a plan: every pair of buffers alive together is disjoint in
/// memory and inside `arena`. Returns the first offending pair.
pub fn check_plan(
    buffers: &[Buffer],
    offsets: &[usize],
    arena: usize,
) -> Result<(), (usize, usize)> {
    for (i, a) in buffers.iter().enumerate() {
        if offsets[i] + a.size > arena {
            return Err((i, i));
        }
        for (j, b) in buffers.iter().enumerate().skip(i + 1) {
            let disjoint = offsets[i] + a.size <= offsets[j] || offsets[j] + b.size <= offsets[i];
            if a.size > 0 && b.size > 0 && a.lives_with(b) && !disjoint {
                return Err((i, j));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{vec, vec::Vec};

    /// A small deterministic generator for the random graphs.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u32 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) as u32
        }
        fn below(&mut self, n: u32) -> u32 {
            self.next() % n
        }
    }

    #[test]
    fn chain_reuses_memory_of_dead_buffers() {
        // a → b → c → d: at most two alive at once.
        let bufs = [
            Buffer {
                size: 100,
                first: 0,
                last: 1,
            },
            Buffer {
                size: 60,
                first: 1,
                last: 2,
            },
            Buffer {
                size: 100,
                first: 2,
                last: 3,
            },
            Buffer {
                size: 10,
                first: 3,
                last: 4,
            },
        ];
        let mut order = [0; 4];
        let mut off = [0; 4];
        let size = plan_greedy(&bufs, 4, &mut order, &mut off).unwrap();
        assert_eq!(lower_bound(&bufs), 160);
        assert_eq!(size, 160);
        check_plan(&bufs, &off, size).unwrap();
    }

    #[test]
    fn random_graphs_never_overlap_live_buffers_and_beat_linear() {
        let mut rng = Lcg(7);
        for case in 0..2000 {
            let n = 1 + rng.below(40) as usize;
            let steps = 1 + rng.below(30);
            let bufs: Vec<Buffer> = (0..n)
                .map(|_| {
                    let first = rng.below(steps);
                    let last = first + rng.below(steps - first + 1);
                    Buffer {
                        size: rng.below(5000) as usize,
                        first,
                        last,
                    }
                })
                .collect();
            let mut order = vec![0; n];
            let mut off = vec![0; n];
            let size = plan_greedy(&bufs, 4, &mut order, &mut off).unwrap();
            assert!(check_plan(&bufs, &off, size).is_ok(), "case {case}");
            assert!(off.iter().all(|o| o % 4 == 0));
            assert!(size >= lower_bound(&bufs), "case {case}");
            let mut lin = vec![0; n];
            let linear = plan_linear(&bufs, 4, &mut lin).unwrap();
            assert!(check_plan(&bufs, &lin, linear).is_ok());
            // Greedy never needs more than every buffer padded and laid end to end.
            let padded: usize = bufs.iter().map(|b| b.size.div_ceil(4) * 4).sum();
            assert!(
                size <= padded.max(linear),
                "case {case}: greedy {size} > linear {linear}"
            );
        }
    }

    #[test]
    fn mismatched_scratch_is_an_error() {
        let bufs = [Buffer {
            size: 1,
            first: 0,
            last: 0,
        }];
        assert!(plan_greedy(&bufs, 4, &mut [0; 2], &mut [0; 1]).is_err());
    }
}
