//! `cargo xtask demo`: the main job, end to end.
//!
//! 1. `examples/digits_demo.rs` (release) trains the digits CNN on the
//!    host, quantizes it (int8, min/max calibration on the training split),
//!    exports int8, f16 and f32 model files, measures each through the host
//!    interpreter, and writes the device fixture: the int8 model, the 360
//!    test digits and the host's outputs, to `target/demo/`.
//! 2. The `boards/qemu-m4` firmware is built with that model and those
//!    inputs embedded and run in QEMU (mps2-an386, Cortex-M4F); its outputs
//!    are compared with the host's byte for byte.
//! 3. A table puts every figure beside TensorFlow Lite Micro's for the same
//!    model on the same emulated board (measured here, `shared/QEMU.md`),
//!    and `target/demo/report.json` holds the same figures.

use crate::qemu::{ensure_qemu, run_one, target_dir, BOARDS};
use crate::util::{cargo, ensure_targets, root, run as sh};
use std::path::Path;

/// TensorFlow Lite Micro + CMSIS-NN on the same model and board.
const TFLM_INSTRUCTIONS: u64 = 764_123;
const TFLM_ARENA: u64 = 5_224;
const TFLM_CODE: u64 = 48_696;

/// A number from the flat JSON the example writes.
fn json_number(text: &str, key: &str) -> Result<f64, String> {
    let at = text
        .find(&format!("\"{key}\""))
        .ok_or(format!("summary.json lacks {key}"))?;
    let rest = &text[at + key.len() + 2..];
    let rest = rest.trim_start().trim_start_matches(':').trim_start();
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end]
        .trim()
        .parse()
        .map_err(|e| format!("summary.json {key}: {e}"))
}

fn ratio(ours: u64, theirs: u64) -> String {
    format!("{:.2}×", ours as f64 / theirs as f64)
}

pub fn run() -> Result<(), String> {
    ensure_targets()?;
    ensure_qemu()?;
    let root = root();
    let target = target_dir();
    let out = target.join("demo");
    sh(cargo()
        .args([
            "run",
            "--release",
            "--quiet",
            "--features",
            "std",
            "--example",
            "digits_demo",
            "--",
        ])
        .arg(&out))?;
    let summary = std::fs::read_to_string(out.join("summary.json"))
        .map_err(|e| format!("summary.json: {e}"))?;
    let n = |k: &str| json_number(&summary, k);

    eprintln!("building the qemu-m4 firmware with the int8 model and the test split, running it in QEMU …");
    let row = run_one(&root, &out, &target.join("boards"), &BOARDS[0], "digits")?;
    let matches = row.identical == "yes";
    let samples = row.samples as f64;
    let device_acc = row.correct.ok_or("the device reported no accuracy")? as f64 / samples;
    let model_bytes = n("model_bytes")? as u64;
    let inputs_bytes = n("inputs_bytes")? as u64;
    let arena = n("arena_bytes")? as u64;
    // The firmware's flash holds the model and the test inputs verbatim.
    let code = row.sizes.flash.saturating_sub(model_bytes + inputs_bytes);

    let pct = |x: f64| format!("{:.2}%", 100.0 * x);
    println!();
    println!("digits CNN (8×8×1: conv 16@3×3 + ReLU, conv 32@3×3 + ReLU, maxpool 2, FC 10, softmax), {} test digits", row.samples);
    println!("| figure | edgegrad | TensorFlow Lite Micro | ratio |");
    println!("|---|---|---|---|");
    println!("| f32 accuracy (host) | {} | | |", pct(n("f32_accuracy")?));
    println!(
        "| f16 accuracy (host) | {} | | |",
        pct(n("f16_host_accuracy")?)
    );
    println!(
        "| int8 accuracy (host) | {} | | |",
        pct(n("int8_host_accuracy")?)
    );
    println!("| int8 accuracy (device) | {} | | |", pct(device_acc));
    println!(
        "| device outputs identical to host | {} | | |",
        if matches { "yes" } else { "NO" }
    );
    println!(
        "| instructions per inference | {} | {} | {} |",
        row.instructions_mean,
        TFLM_INSTRUCTIONS,
        ratio(row.instructions_mean, TFLM_INSTRUCTIONS)
    );
    println!("| model bytes | {model_bytes} | | |");
    println!(
        "| arena bytes | {arena} (lower bound {}) | {TFLM_ARENA} | {} |",
        n("arena_lower_bound")?,
        ratio(arena, TFLM_ARENA)
    );
    println!(
        "| firmware flash (.text+.rodata) | {} | | |",
        row.sizes.flash
    );
    println!(
        "| code bytes (flash without model and test data) | {code} | {TFLM_CODE} | {} |",
        ratio(code, TFLM_CODE)
    );
    println!("| static RAM (.data+.bss) | {} | | |", row.sizes.ram);

    let report = format!(
        "{{\n  \"f32_accuracy\": {},\n  \"int8_host_accuracy\": {},\n  \"int8_device_accuracy\": {},\n  \"f16_host_accuracy\": {},\n  \"device_matches_host\": {},\n  \"instructions_per_inference\": {},\n  \"model_bytes\": {},\n  \"arena_bytes\": {},\n  \"flash_bytes\": {},\n  \"code_bytes\": {},\n  \"ram_bytes\": {}\n}}\n",
        n("f32_accuracy")?,
        n("int8_host_accuracy")?,
        device_acc,
        n("f16_host_accuracy")?,
        matches,
        row.instructions_mean,
        model_bytes,
        arena,
        row.sizes.flash,
        code,
        row.sizes.ram
    );
    write(&out.join("report.json"), &report)?;
    println!("\nwrote {}", out.join("report.json").display());
    if !matches {
        return Err("the device's outputs differ from the host's".into());
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}
