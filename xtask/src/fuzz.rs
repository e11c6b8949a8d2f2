//! `cargo xtask fuzz [SECS]`: coverage-guided fuzzing of
//! `Model::from_bytes` (and, on inputs it accepts, of `invoke`), then of
//! the TFLite and ONNX converters (seeded with the committed fixtures),
//! SECS seconds each, with
//! cargo-fuzz / libFuzzer. Needs the nightly toolchain (for the
//! sanitizer); installs cargo-fuzz when missing. Not part of CI: the test
//! suite's seeded corruption tests run there instead.

use crate::util::{cargo, have, root, run as sh};
use std::process::Command;

pub fn run(secs: Option<&str>) -> Result<(), String> {
    let secs: u64 = secs
        .unwrap_or("60")
        .parse()
        .map_err(|_| "SECS must be a number of seconds".to_string())?;
    if !Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
    {
        sh(cargo().args(["install", "cargo-fuzz", "--locked"]))?;
    }
    if !have("rustup") {
        return Err("cargo-fuzz needs a nightly toolchain installed with rustup".into());
    }
    sh(Command::new("rustup").args(["toolchain", "install", "nightly", "--profile", "minimal"]))?;
    let corpus = root().join("fuzz/corpus/model_from_bytes");
    std::fs::create_dir_all(&corpus).map_err(|e| e.to_string())?;
    sh(cargo()
        .args([
            "test",
            "--features",
            "std",
            "--test",
            "model_file",
            "write_fuzz_seeds",
        ])
        .env("EDGEGRAD_FUZZ_SEEDS", &corpus))?;
    sh(Command::new("cargo").current_dir(root()).args([
        "+nightly",
        "fuzz",
        "run",
        "model_from_bytes",
        "--",
        &format!("-max_total_time={secs}"),
        "-print_final_stats=1",
    ]))?;
    // The converters, each seeded with its committed fixtures.
    for (target, fixtures, ext) in [
        ("tflite_convert", "tests/fixtures/tflite", "tflite"),
        ("onnx_convert", "tests/fixtures/onnx", "onnx"),
    ] {
        let corpus = root().join("fuzz/corpus").join(target);
        std::fs::create_dir_all(&corpus).map_err(|e| e.to_string())?;
        for entry in std::fs::read_dir(root().join(fixtures)).map_err(|e| e.to_string())? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.extension().is_some_and(|e| e == ext) {
                let name = path.file_name().expect("a file name");
                std::fs::copy(&path, corpus.join(name)).map_err(|e| e.to_string())?;
            }
        }
        sh(Command::new("cargo").current_dir(root()).args([
            "+nightly",
            "fuzz",
            "run",
            target,
            "--",
            &format!("-max_total_time={secs}"),
            "-print_final_stats=1",
        ]))?;
    }
    Ok(())
}
