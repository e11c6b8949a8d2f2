//! Random problems for the optimized-vs-reference tests: the reference
//! tests' generators, with channel counts that exercise every remainder
//! of the 4-wide loops and runs long enough for the word loops.

pub(crate) use crate::kernels::reference::util::testing::*;
use crate::kernels::Window2d;

/// A random convolution-like problem (NHWC input, filter, output).
#[derive(Debug)]
pub(crate) struct Case {
    pub(crate) window: Window2d,
    pub(crate) input: [usize; 4],
    pub(crate) filter: [usize; 4],
    pub(crate) output: [usize; 4],
    /// Depthwise channel multiplier (1 for a convolution).
    pub(crate) mult: usize,
}

/// Channel counts 1–9 mostly (every remainder mod 4), sometimes up to 70
/// (past the 64-channel accumulator block).
fn channels(rng: &mut Rng) -> usize {
    if rng.usize(0, 9) == 0 {
        rng.usize(10, 70)
    } else {
        rng.usize(1, 9)
    }
}

/// A convolution (`depthwise == false`: filter `[OC, KH, KW, IC]`) or a
/// depthwise convolution (filter `[1, KH, KW, IC·M]`, M 1–3).
pub(crate) fn conv_case(rng: &mut Rng, depthwise: bool) -> Case {
    let (window, [ih, iw], [oh, ow]) = random_window(rng, true);
    let n = rng.usize(1, 2);
    let ic = channels(rng);
    if depthwise {
        let mult = if rng.bool() { 1 } else { rng.usize(2, 3) };
        let oc = ic * mult;
        Case {
            window,
            input: [n, ih, iw, ic],
            filter: [1, window.kernel_h, window.kernel_w, oc],
            output: [n, oh, ow, oc],
            mult,
        }
    } else {
        let oc = channels(rng);
        Case {
            window,
            input: [n, ih, iw, ic],
            filter: [oc, window.kernel_h, window.kernel_w, ic],
            output: [n, oh, ow, oc],
            mult: 1,
        }
    }
}
