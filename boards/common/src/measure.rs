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
//! from every measurement, and [`Counter::new`] checks the whole method
//! before anything else is measured: a counted loop run 501 times must
//! measure exactly 1,000 instructions (±1) more than the same loop run
//! once. A wrong `tick_ns`, a missing `-icount` or another shift fails
//! loudly instead of printing wrong numbers.
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

/// A counted loop: `2 × n` instructions (`subs` and `bne` per iteration)
/// plus a fixed cost for the call, for `n ≥ 1`.
#[inline(never)]
fn spin(n: u32) {
    // SAFETY: only changes the register given to it and the flags.
    unsafe {
        core::arch::asm!(
            "2:",
            "subs {0}, #1",
            "bne 2b",
            inout(reg) n => _,
            options(nomem, nostack)
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

/// The self-check did not measure 1,000 instructions for 1,000.
#[derive(Debug, Clone, Copy)]
pub struct CalibrationError {
    /// What 1,000 instructions (500 more iterations of a two-instruction
    /// loop) measured as.
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
    /// measures the empty region and checks the method on a loop of known
    /// length (1,000 instructions).
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
        // The smallest of a few tries, here and in `calibrate`: in some
        // code layouts QEMU adds a few dozen instructions' worth of virtual
        // time to one of the first measurements after SysTick starts (the
        // cause is QEMU's); later measurements repeat exactly, run after run.
        counter.empty = (0..8)
            .map(|_| {
                let t0 = now();
                now() - t0
            })
            .min()
            .unwrap_or(0);
        counter.calibration = counter.calibrate();
        if counter.calibration.abs_diff(1000) > 1 {
            return Err(CalibrationError {
                measured: counter.calibration,
            });
        }
        Ok(counter)
    }

    /// Measures a loop run 501 times against the same loop run once: 1,000
    /// instructions apart. The smallest of 8 tries of each.
    pub fn calibrate(&self) -> u64 {
        let min_of = |n: u32| {
            (0..8)
                .map(|_| self.measure(|| spin(core::hint::black_box(n))).0)
                .min()
                .unwrap_or(0)
        };
        let base = min_of(1);
        min_of(501).saturating_sub(base)
    }

    /// What the 1,000 instructions of the self-check measured as.
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
