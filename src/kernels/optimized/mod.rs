//! Fast int8 kernels, bit-identical to [`reference`](super::reference).
//!
//! Same file and function names and the same signatures as the reference
//! kernels (`conv2d::conv2d_s8`, `depthwise_conv2d::depthwise_conv2d_s8`,
//! `fully_connected::fully_connected_s8`, `pooling::max_pool2d_s8`,
//! `pooling::avg_pool2d_s8`, `lstm::lstm_s8`), the same argument checks
//! and errors, and exactly the same results: every kernel requantizes
//! through [`crate::quant::requantize`] (or a path proven identical), and
//! int32 sums are taken modulo 2³² as the reference's `wrapping_add` does,
//! so the order of the terms is free.
//! The tests at the bottom of each file compare them with the reference on
//! thousands of random shapes (the portable paths); on the emulated
//! Cortex-M4 `cargo xtask bench-mcu` (part of `cargo xtask test`) compares
//! the DSP paths on the benchmark shapes and 1,300 random problems (every
//! kernel, the LSTM included), and `cargo xtask qemu` runs whole models on
//! a Cortex-M4 (DSP path) and a Cortex-M3 (portable path).
//!
//! What makes them fast, on every target:
//! - convolution is a small matrix product (`gemm.rs`): the input patches
//!   of two output pixels are interleaved once into a stack buffer, and
//!   each pair of output channels runs a 2 × 2 micro-kernel over it (each
//!   input word serves two channels, each weight word two pixels); the
//!   input offset is folded into the bias as `−zp·Σw`;
//! - requantization (`requant.rs`) takes a short exact path
//!   (`SMMULR`-style rounded high multiply and a rounding shift) whenever
//!   the accumulators are provably small, checked once per call;
//! - padding is handled once per output row and pixel (the range of
//!   in-bounds kernel taps), never per element; depthwise convolution
//!   lists the taps of an interior pixel once per call (a border pixel
//!   lists its in-bounds ones) and sums four channels at a time over the
//!   list (`taps.rs`; on the DSP path one `asm!` loop, 13 instructions
//!   per tap and four channels);
//! - the LSTM (`lstm.rs`) runs four units per pass over the input and the
//!   hidden state (four rows of each gate matrix), requantizes the gate
//!   products with the short path when exact, and shares the reference's
//!   per-unit gate and cell arithmetic;
//! - inner loops walk slices with iterators: few per-element bounds checks.
//!
//! And on Cortex-M4/M7 (`thumbv7em-*`, `cfg(edgegrad_dsp)` set by
//! `build.rs`), the inner loops read four int8 values per load and
//! multiply-accumulate them two at a time with `SXTB16`/`SXTAB16` and
//! `SMLAD` (`SMLABB`/`SMLATT` for depthwise), through `core::arch::asm!`
//! in the one module with `unsafe` (`dsp.rs`; the convolution's, the
//! depthwise convolution's and fully connected micro-kernels and the
//! LSTM's four-row loop are each one `asm!` loop, so the register
//! allocation is fixed).
//!
//! None of the kernels needs scratch memory from the arena: the
//! convolution keeps a 288-byte patch buffer and 16 decoded channels
//! (192 bytes) on the stack; depthwise convolution a block of at most 64
//! accumulators, 32 decoded channels and two tap lists (about 850 bytes),
//! average pooling a block of at most 64 channels (256 bytes), the LSTM
//! on the DSP path its staged input and hidden state (512 bytes).

mod dot;
#[cfg(edgegrad_dsp)]
mod dsp;
mod gemm;
mod requant;
mod taps;

pub mod conv2d;
pub mod depthwise_conv2d;
pub mod fully_connected;
pub mod lstm;
pub mod pooling;

pub use conv2d::conv2d_s8;
pub use depthwise_conv2d::depthwise_conv2d_s8;
pub use fully_connected::fully_connected_s8;
pub use lstm::lstm_s8;
pub use pooling::{avg_pool2d_s8, max_pool2d_s8};

use crate::kernels::RequantS8;
use crate::quant::requantize;

/// Channels per block of the stack accumulators (depthwise, average pool).
const BLOCK: usize = 64;

/// Requantizes `acc` (plus `bias[c]`) of output channel `c`.
#[inline(always)]
fn requant(acc: i32, bias: Option<&[i32]>, c: usize, q: &RequantS8<'_>) -> i8 {
    let acc = match bias {
        Some(b) => acc.wrapping_add(b[c]),
        None => acc,
    };
    let (m, s) = q.channel(c);
    requantize(acc, m, s, q.output_zero_point, q.act_min, q.act_max)
}

/// Requantizes four accumulators of channels `c..c + 4` into `out[..4]`.
#[inline(always)]
fn requant4(acc: [i32; 4], bias: Option<&[i32]>, c: usize, q: &RequantS8<'_>, out: &mut [i8]) {
    let out = &mut out[..4];
    for k in 0..4 {
        out[k] = requant(acc[k], bias, c + k, q);
    }
}

#[cfg(test)]
mod testing;
