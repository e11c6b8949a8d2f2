//! `cargo xtask`: project automation written in Rust, so that a fresh
//! machine needs nothing but cargo (see rust-analyzer's xtask pattern).
//!
//! ```text
//! cargo xtask demo          the main job, end to end
//! cargo xtask test          everything CI runs: fmt, clippy, tests, no_std builds, docs, boards
//! cargo xtask fuzz [SECS]   fuzz Model::from_bytes with cargo-fuzz (nightly)
//! cargo xtask qemu          run models on the QEMU boards, check outputs against the host
//! cargo xtask bench-mcu     instructions per int8 kernel call on the emulated Cortex-M4
//! ```
//!
//! Each command lives in its own module; `main` only dispatches.

mod bench_mcu;
mod demo;
mod fuzz;
mod qemu;
mod test;
mod util;

use std::process::ExitCode;

const HELP: &str = "\
cargo xtask <command>

commands:
  demo          build a model, run it through the interpreter, print its output,
                accuracy, arena size and model size
  test          install what is missing (rustup targets), then run everything CI
                runs: cargo fmt --check, clippy -D warnings, the test suite,
                the no_std builds for thumbv7em/thumbv7m/thumbv6m, cargo doc, fmt and
                clippy over the board crates, then `qemu` (below)
  fuzz [SECS]   fuzz Model::from_bytes for SECS seconds (default 60) with
                cargo-fuzz on the nightly toolchain; installs cargo-fuzz if missing
  qemu          build small fixed models on the host (int8 MLP, int8 CNN, f16 CNN,
                digits), run them in the boards/qemu-m4 and boards/qemu-m3 firmware
                under QEMU, check every output against the host interpreter's (int8
                byte for byte), print instructions per inference, flash and RAM;
                installs qemu-system-arm with apt-get when missing (as root)
  bench-mcu     run the int8 kernels (optimized and reference) on the benchmark shapes
                of shared/QEMU.md in the boards/qemu-m4 bench firmware under QEMU; print
                instructions, MACs/instruction and the ratios to the reference and to
                CMSIS-NN; fails if an optimized output differs from the reference's.
                EDGEGRAD_PORTABLE=1 measures the portable paths (no DSP instructions)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo::run(),
        Some("test") => test::run(),
        Some("fuzz") => fuzz::run(args.get(1).map(String::as_str)),
        Some("qemu") => qemu::run(),
        Some("bench-mcu") => bench_mcu::run(),
        Some("-h" | "--help" | "help") | None => {
            print!("{HELP}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{HELP}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
