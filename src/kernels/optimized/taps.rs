//! [`TapList`]: the in-bounds kernel taps of one output pixel of a
//! depthwise convolution, as `(input offset, filter offset)` pairs, with
//! the largest offsets kept alongside so that a reader can check once
//! that a whole run of channels at every tap is inside both buffers.

/// At most `N` `(input offset, filter offset)` pairs and their maxima.
///
/// The fields are private: the maxima are always the true maxima of the
/// listed offsets, which [`super::dsp::dw_mac4`] relies on to read memory
/// without per-tap bounds checks.
pub(crate) struct TapList<const N: usize> {
    taps: [(u32, u32); N],
    len: usize,
    x_hi: usize,
    w_hi: usize,
}

impl<const N: usize> TapList<N> {
    /// An empty list.
    pub(crate) fn new() -> Self {
        TapList {
            taps: [(0, 0); N],
            len: 0,
            x_hi: 0,
            w_hi: 0,
        }
    }

    /// Empties the list.
    #[inline(always)]
    pub(crate) fn clear(&mut self) {
        (self.len, self.x_hi, self.w_hi) = (0, 0, 0);
    }

    /// Appends a tap; ignored when the list is full or an offset does not
    /// fit in 32 bits (callers size `N` for their kernel, and offsets index
    /// slices of a 32-bit target).
    #[inline(always)]
    pub(crate) fn push(&mut self, xo: usize, wo: usize) {
        if let (Some(slot), Ok(x), Ok(w)) = (
            self.taps.get_mut(self.len),
            u32::try_from(xo),
            u32::try_from(wo),
        ) {
            *slot = (x, w);
            self.len += 1;
            self.x_hi = self.x_hi.max(xo);
            self.w_hi = self.w_hi.max(wo);
        }
    }

    /// The listed taps.
    #[inline(always)]
    pub(crate) fn taps(&self) -> &[(u32, u32)] {
        &self.taps[..self.len.min(N)]
    }

    #[cfg_attr(not(edgegrad_dsp), allow(dead_code))]
    /// True when, for every listed tap, bytes `xc..xc + width` after its
    /// input offset are inside `x` and bytes `wc..wc + width` after its
    /// filter offset inside `w`.
    #[inline(always)]
    pub(crate) fn covers(&self, x: &[i8], w: &[i8], xc: usize, wc: usize, width: usize) -> bool {
        let end = |c: usize, hi: usize| c.saturating_add(width).saturating_add(hi);
        end(xc, self.x_hi) <= x.len() && end(wc, self.w_hi) <= w.len()
    }
}
