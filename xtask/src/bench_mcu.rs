//! `cargo xtask bench-mcu`: instructions per call of the int8 kernels on
//! the emulated Cortex-M4, optimized against reference, beside ARM's
//! CMSIS-NN on the same shapes.
//!
//! Builds and runs `boards/qemu-m4/src/bin/bench.rs` (QEMU `mps2-an386`,
//! `-icount shift=7`), which runs the reference and the optimized kernel on
//! each benchmark shape of `shared/QEMU.md`, counts the instructions of each
//! call and checks that both outputs are identical. Prints a table:
//! instructions, MACs per instruction, speed-up over the reference and
//! CMSIS-NN's count divided by ours (above 1: we are faster), then the
//! firmware's untimed check of the LSTM on random problems (odd and long
//! sizes, every option) against the reference. The CMSIS-NN
//! figures are the "newlib mem*" column of `shared/QEMU.md` (CMSIS-NN
//! v7.0.0-43, gcc 12.2 -O3, same machine and shapes). `EDGEGRAD_PORTABLE=1`
//! measures the portable kernels (DSP paths off) on the same core.

use crate::qemu::{ensure_qemu, target_dir};
use crate::util::{cargo, ensure_targets, root};
use std::process::Stdio;

/// `(shape, CMSIS-NN instructions)`, from `shared/QEMU.md`; the two
/// `digits_conv*` rows are the digits CNN's convolutions as TensorFlow Lite
/// Micro runs them with CMSIS-NN (its per-layer figures there).
const CMSIS_NN: [(&str, u64); 13] = [
    ("digits_conv1_8x8x1_to16", 96_200),
    ("digits_conv2_8x8x16_to32", 631_377),
    ("conv3x3_16x16x8_to16", 846_674),
    ("conv3x3_32x32x16_to16", 5_487_498),
    ("pw_25x5x64_to64", 1_068_927),
    ("dw3x3_25x5x64", 599_615),
    ("dw3x3_48x48x8", 1_651_112),
    ("pw_24x24x16_to32", 1_168_687),
    ("fc_640_to128", 160_068),
    ("lstm_in6_h32_t1", 29_168),
    ("lstm_in32_h64_t1", 83_337),
    ("maxpool2x2_16x16x32", 79_586),
    ("avgpool2x2_16x16x32", 84_866),
];

pub fn run() -> Result<(), String> {
    ensure_targets()?;
    ensure_qemu()?;
    let output = cargo()
        .current_dir(root().join("boards").join("qemu-m4"))
        .args(["run", "--release", "--quiet", "--bin", "bench"])
        .env("CARGO_TARGET_DIR", target_dir().join("boards"))
        .env_remove("EDGEGRAD_MODEL")
        .env_remove("EDGEGRAD_INPUTS")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start cargo: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "the bench firmware failed ({}); its output:\n{stdout}",
            output.status
        ));
    }
    println!(
        "int8 kernels on Cortex-M4 (QEMU mps2-an386), instructions per call{}",
        if std::env::var("EDGEGRAD_PORTABLE").is_ok_and(|v| v == "1") {
            ", portable paths (EDGEGRAD_PORTABLE=1)"
        } else {
            ""
        }
    );
    println!();
    println!("| shape | MACs | reference | optimized | MAC/instr | × reference | CMSIS-NN | × CMSIS-NN | identical |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut failed = Vec::new();
    let mut seen = 0;
    for line in stdout.lines().filter(|l| l.starts_with("bench ")) {
        let mut words = line.split_whitespace().skip(1);
        let name = words.next().unwrap_or("?");
        let get = |k: &str| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(k)?.strip_prefix('='))
                .unwrap_or("")
        };
        let num = |k: &str| {
            get(k)
                .parse::<u64>()
                .map_err(|_| format!("bad line: {line}"))
        };
        let (macs, r, o) = (num("macs")?, num("reference")?, num("optimized")?);
        let identical = get("identical");
        if identical != "yes" {
            failed.push(name.to_string());
        }
        let cmsis = CMSIS_NN.iter().find(|(n, _)| *n == name).map(|&(_, c)| c);
        println!(
            "| {name} | {macs} | {r} | {o} | {:.3} | {:.2}× | {} | {} | {identical} |",
            macs as f64 / o.max(1) as f64,
            r as f64 / o.max(1) as f64,
            cmsis.map_or("-".into(), |c| c.to_string()),
            cmsis.map_or("-".into(), |c| format!(
                "{:.2}×",
                c as f64 / o.max(1) as f64
            )),
        );
        seen += 1;
    }
    println!();
    println!(
        "× reference and × CMSIS-NN: their instructions divided by ours (above 1: the optimized kernel is faster); \
         CMSIS-NN v7.0.0-43 with newlib mem* (shared/QEMU.md)"
    );
    if seen != CMSIS_NN.len() {
        return Err(format!(
            "expected {} shapes, the firmware reported {seen}",
            CMSIS_NN.len()
        ));
    }
    // The firmware's sweeps of random problems (not timed): the LSTM, and
    // every other kernel.
    for (check, what) in [("lstm", "LSTM"), ("kernels", "kernel")] {
        let prefix = format!("check {check} ");
        match stdout.lines().find(|l| l.starts_with(&prefix)) {
            Some(line) => {
                println!("{line}");
                if !line.ends_with("identical=yes") {
                    failed.push(format!("{what} random problems"));
                }
            }
            None => return Err(format!("the firmware did not report its {what} check")),
        }
    }
    if !failed.is_empty() {
        return Err(format!(
            "optimized and reference outputs differ: {}",
            failed.join(", ")
        ));
    }
    Ok(())
}
