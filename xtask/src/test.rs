//! `cargo xtask test`: everything CI checks, in the order that fails fastest;
//! the QEMU boards last (`cargo xtask qemu`), then the optimized kernels'
//! DSP paths against the reference on the emulated Cortex-M4
//! (`cargo xtask bench-mcu`: the benchmark shapes and 1,300 random
//! problems).

use crate::util::{cargo, ensure_targets, run as sh, NO_STD_TARGETS};
use crate::{bench_mcu, qemu};

pub fn run() -> Result<(), String> {
    ensure_targets()?;
    sh(cargo().args(["fmt", "--all", "--", "--check"]))?;
    sh(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ]))?;
    for target in NO_STD_TARGETS {
        sh(cargo().args([
            "build",
            "--lib",
            "--no-default-features",
            "--target",
            target,
        ]))?;
        sh(cargo().args([
            "build",
            "--lib",
            "--no-default-features",
            "--features",
            "defmt",
            "--target",
            target,
        ]))?;
    }
    // The core's own tests without `std`, then everything with it.
    sh(cargo().args(["test", "--lib", "--no-default-features"]))?;
    sh(cargo().args(["test", "--workspace", "--all-features"]))?;
    sh(cargo()
        .args(["doc", "--no-deps", "--all-features"])
        .env("RUSTDOCFLAGS", "-D warnings"))?;
    // The board crates (outside the workspace), then the boards under QEMU.
    qemu::lint()?;
    qemu::run()?;
    bench_mcu::run()
}
