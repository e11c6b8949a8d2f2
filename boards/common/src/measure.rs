//! Instruction counting with SysTick under QEMU's `-icount`.
//!
//! QEMU does not model the Cortex-M's timing; with `-icount shift=N` every
//! executed instruction advances virtual time by exactly 2^N ns, and
//! SysTick, clocked by the core clock, counts that virtual time. So
//!
//! ```text
//! instructions = (ticks − ticks of an empty measurement) × tick_ns / 2^N
//! ```
//!
//! where `tick_ns` is the core clock's period (40 ns on mps2-an386,
//! 25 MHz). The boards run with `shift=7`: one instruction is 128 ns, more
//! than one tick, so counts are exact to ±1 instruction.
//!
//! SysTick is a 24-bit down-counter: at 25 MHz and `shift=7` it wraps every
//! 2^24 × 40 / 128 ≈ 5.2 M instructions. It is set to reload at 2^24 − 1
//! with its exception enabled, and the exception handler
//! ([`on_systick`]) counts wraps, so [`now`] is a 64-bit monotonic tick
//! count. Each wrap adds the handler's few dozen instructions to the
//! measured region (under 0.001 %).
//!
//! The empty measurement (two reads of [`now`] back to back) is subtracted
//! from every measurement, and [`Counter::new`] checks the whole method on
//! a block of exactly 1,000 `nop`s before anything else is measured: a
//! wrong `tick_ns`, a missing `-icount` or another shift fails loudly
//! instead of printing wrong numbers.
//!
//! Without `-icount`, SysTick follows the host's wall clock and nothing
//! here is meaningful. DWT's cycle counter reads 0 under QEMU, so it is
//! not used.

use core::sync::atomic::{compiler_fence, AtomicU32, Ordering};
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::{SCB, SYST};

const RELOAD: u32 = 0x00FF_FFFF;
const PERIOD: u64 = RELOAD as u64 + 1;

static WRAPS: AtomicU32 = AtomicU32::new(0);

/// Call from the board's `SysTick` exception handler: counts one wrap.
pub fn on_systick() {
    // Only this handler writes WRAPS, and it does not nest with itself.
    WRAPS.store(
        WRAPS.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Relaxed,
    );
}

/// Ticks since SysTick started, monotonic across wraps.
#[inline(never)]
pub fn now() -> u64 {
    compiler_fence(Ordering::SeqCst);
    let t = loop {
        let w1 = WRAPS.load(Ordering::Relaxed);
        let current = SYST::get_current();
        let pending = SCB::is_pendst_pending();
        let w2 = WRAPS.load(Ordering::Relaxed);
        if w1 == w2 {
            // A wrap that happened after the read of WRAPS but whose
            // exception has not been taken yet: the counter has reloaded
            // (reads high) while WRAPS is one behind.
            let w = if pending && current > RELOAD / 2 {
                w1 as u64 + 1
            } else {
                w1 as u64
            };
            break w * PERIOD + (RELOAD - current) as u64;
        }
    };
    compiler_fence(Ordering::SeqCst);
    t
}

/// A call that executes only its own call and return.
#[inline(never)]
fn no_nops() {
    // SAFETY: an empty asm block; it only keeps the call from being removed.
    unsafe { core::arch::asm!("", options(nomem, nostack, preserves_flags)) }
}

/// The same call with exactly 1,000 `nop` instructions in it.
#[inline(never)]
fn thousand_nops() {
    // SAFETY: `nop` has no effect on memory, the stack or the flags.
    unsafe {
        core::arch::asm!(
            ".rept 1000",
            "nop",
            ".endr",
            options(nomem, nostack, preserves_flags)
        );
    }
}

/// The method's constants for one board.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// Period of SysTick's clock (the core clock) in ns.
    pub tick_ns: u64,
    /// The `N` of QEMU's `-icount shift=N` that the board's runner uses.
    pub icount_shift: u32,
}

/// The calibration did not measure 1,000 instructions for 1,000 `nop`s.
#[derive(Debug, Clone, Copy)]
pub struct CalibrationError {
    /// What 1,000 `nop`s measured as (the same call without them subtracted).
    pub measured: u64,
}

/// A started SysTick and the cost of an empty measurement.
#[derive(Debug)]
pub struct Counter {
    clock: Clock,
    empty: u64,
    calibration: u64,
}

impl Counter {
    /// Starts SysTick from the core clock with the wrap exception on,
    /// measures the empty region and checks the method on 1,000 `nop`s.
    pub fn new(mut syst: SYST, clock: Clock) -> Result<Self, CalibrationError> {
        syst.disable_counter();
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(RELOAD);
        syst.clear_current();
        syst.enable_interrupt();
        syst.enable_counter();
        let mut counter = Counter {
            clock,
            empty: 0,
            calibration: 0,
        };
        // The smallest of a few empty measurements: the first call may
        // differ (an exception, a first-time path).
        counter.empty = (0..4)
            .map(|_| {
                let t0 = now();
                now() - t0
            })
            .min()
            .unwrap_or(0);
        let (base, ()) = counter.measure(no_nops);
        let (with, ()) = counter.measure(thousand_nops);
        let measured = with.saturating_sub(base);
        if measured.abs_diff(1000) > 1 {
            return Err(CalibrationError { measured });
        }
        counter.calibration = measured;
        Ok(counter)
    }

    /// What the 1,000 `nop`s of the self-check measured as.
    pub fn calibration(&self) -> u64 {
        self.calibration
    }

    /// Runs `f` and returns the instructions it executed (call included)
    /// with its result.
    pub fn measure<R>(&self, f: impl FnOnce() -> R) -> (u64, R) {
        let t0 = now();
        let r = f();
        let t1 = now();
        (self.instructions(t1 - t0), r)
    }

    /// Instructions in `ticks` of measured time (empty measurement
    /// subtracted), rounded to nearest.
    pub fn instructions(&self, ticks: u64) -> u64 {
        let ns = ticks.saturating_sub(self.empty) * self.clock.tick_ns;
        let per = 1u64 << self.clock.icount_shift;
        (ns + per / 2) / per
    }
}
