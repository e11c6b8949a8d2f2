//! `cargo xtask qemu`: the host↔device bit-exactness test.
//!
//! 1. `examples/qemu_fixtures.rs` builds a few small models (int8 MLP,
//!    int8 CNN, f16 CNN, the digits centroid classifier, and the boards'
//!    default model), their inputs and the host interpreter's outputs into
//!    `target/qemu-fixtures/`.
//! 2. Each board firmware (`boards/qemu-m4`, `boards/qemu-m3`) is built
//!    with each model embedded (`EDGEGRAD_MODEL`, `EDGEGRAD_INPUTS`) and run
//!    in QEMU through its cargo runner; the `default` row builds the board
//!    as `cargo run --release` does, after checking that the committed
//!    default model is the one the generator writes.
//! 3. Every output of every sample must equal the host's: byte for byte
//!    for integer outputs; float outputs are reported as identical or, if
//!    not, must lie within [`FLOAT_TOLERANCE_ULPS`] units in the last place.
//! 4. A table gives, per model and board: samples, whether the outputs are
//!    identical, instructions per inference (SysTick under `-icount`, see
//!    `boards/common/src/measure.rs`), and the ELF's section sizes.
//!
//! Any mismatch, build or QEMU failure makes the command fail with the
//! model, board and sample named. Installs `qemu-system-arm` with apt-get
//! when missing and running as root.

use crate::util::{cargo, ensure_targets, have, root, run as sh};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Float outputs may differ from the host's by this many units in the last
/// place (of their own type) and still pass; the table says whether they
/// were in fact identical.
const FLOAT_TOLERANCE_ULPS: u64 = 2;

pub struct Board {
    pub name: &'static str,
    pub triple: &'static str,
}

pub const BOARDS: [Board; 2] = [
    Board {
        name: "qemu-m4",
        triple: "thumbv7em-none-eabihf",
    },
    Board {
        name: "qemu-m3",
        triple: "thumbv7m-none-eabi",
    },
];

/// One line of the table.
pub struct Row {
    pub model: String,
    pub board: &'static str,
    pub samples: usize,
    pub identical: String,
    pub instructions: String,
    /// Mean instructions per inference.
    pub instructions_mean: u64,
    /// Correct predictions the device counted (`None` without labels).
    pub correct: Option<usize>,
    pub sizes: Sizes,
}

pub fn run() -> Result<(), String> {
    let start = Instant::now();
    ensure_qemu()?;
    ensure_targets()?;
    let root = root();
    let target = target_dir();
    let fixtures = target.join("qemu-fixtures");
    // Dev profile, all features: the very build `cargo xtask test` has just
    // made for the test suite, so nothing compiles again there (the files
    // are the same as a release build's).
    sh(cargo()
        .args([
            "run",
            "--quiet",
            "--all-features",
            "--example",
            "qemu_fixtures",
            "--",
        ])
        .arg(&fixtures))?;
    let list = read_text(&fixtures.join("fixtures.txt"))?;
    let names: Vec<&str> = list.lines().filter(|l| !l.is_empty()).collect();
    check_defaults(&root, &fixtures)?;
    check_too_big(&root, &fixtures, &target.join("boards"))?;

    let board_target = target.join("boards");
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for board in &BOARDS {
        for &name in &names {
            let t = Instant::now();
            match run_one(&root, &fixtures, &board_target, board, name) {
                Ok(row) => {
                    eprintln!(
                        "qemu: {name} on {}: {} ({:.1} s)",
                        board.name,
                        row.identical,
                        t.elapsed().as_secs_f32()
                    );
                    rows.push(row);
                }
                Err(e) => {
                    eprintln!("qemu: {name} on {}: FAILED: {e}", board.name);
                    failures.push(format!("{name} on {}: {e}", board.name));
                }
            }
        }
    }
    print_table(&rows);
    println!(
        "float tolerance: {FLOAT_TOLERANCE_ULPS} ulp; flash = .vector_table + .text + .rodata + .data, \
         RAM = .data + .bss + .uninit (stack not included); {:.0} s in all",
        start.elapsed().as_secs_f32()
    );
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "host and device disagree or a run failed:\n  {}",
            failures.join("\n  ")
        ))
    }
}

/// The workspace's target dir (`CARGO_TARGET_DIR` or `target/`). The
/// boards build in its `boards/` folder, all three sharing it, so that
/// their host-side build scripts and macros compile once.
pub fn target_dir() -> PathBuf {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"));
    if dir.is_absolute() {
        dir
    } else {
        root().join(dir)
    }
}

/// `cargo fmt --check` and `cargo clippy -D warnings` over the board crates
/// (outside the workspace), each from its own folder so that its
/// `.cargo/config.toml` (target, linker script) applies.
pub fn lint() -> Result<(), String> {
    let target = target_dir().join("boards");
    for board in ["common", "qemu-m4", "qemu-m3"] {
        let dir = root().join("boards").join(board);
        sh(cargo().current_dir(&dir).args(["fmt", "--", "--check"]))?;
        let mut clippy = cargo();
        clippy
            .current_dir(&dir)
            .env("CARGO_TARGET_DIR", &target)
            .args(["clippy", "--release", "--all-targets"]);
        if board == "common" {
            // A library for the boards; checked for the M4's target.
            clippy.args(["--target", "thumbv7em-none-eabihf"]);
        }
        sh(clippy.args(["--", "-D", "warnings"]))?;
    }
    Ok(())
}

/// Installs qemu-system-arm with apt-get when it is missing and we are root.
pub fn ensure_qemu() -> Result<(), String> {
    if have("qemu-system-arm") {
        return Ok(());
    }
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    if uid != "0" || !have("apt-get") {
        return Err("qemu-system-arm is not installed; install it \
                    (Debian/Ubuntu: `sudo apt-get install -y qemu-system-arm`) and rerun"
            .into());
    }
    sh(Command::new("apt-get")
        .arg("update")
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    sh(Command::new("apt-get")
        .args([
            "install",
            "-y",
            "--no-install-recommends",
            "qemu-system-arm",
        ])
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    if have("qemu-system-arm") {
        Ok(())
    } else {
        Err("qemu-system-arm still missing after apt-get install".into())
    }
}

fn read_text(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// A model that does not fit the board must fail the firmware build with
/// a message that says by how much.
fn check_too_big(root: &Path, fixtures: &Path, board_target: &Path) -> Result<(), String> {
    let board = &BOARDS[1]; // qemu-m3: 64 KiB of RAM
    let output = cargo()
        .current_dir(root.join("boards").join(board.name))
        .args(["build", "--release", "--quiet"])
        .env("CARGO_TARGET_DIR", board_target)
        .env("EDGEGRAD_MODEL", fixtures.join("too_big.egm"))
        .env_remove("EDGEGRAD_INPUTS")
        .output()
        .map_err(|e| format!("cannot start cargo: {e}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.success() || !stderr.contains("over by") {
        return Err(format!(
            "building {} with a model too big for its RAM should fail saying by how much; got {}:\n{}",
            board.name,
            output.status,
            stderr.trim_end()
        ));
    }
    let line = stderr
        .lines()
        .find(|l| l.contains("over by"))
        .unwrap_or_default();
    eprintln!(
        "qemu: too_big on {}: build refused as it should: {}",
        board.name,
        line.trim()
    );
    Ok(())
}

/// The committed default model of each board must be the generator's.
fn check_defaults(root: &Path, fixtures: &Path) -> Result<(), String> {
    for board in &BOARDS {
        for ext in ["egm", "egi"] {
            let committed = root.join(format!("boards/{}/model/default.{ext}", board.name));
            if read_bytes(&committed)? != read_bytes(&fixtures.join(format!("default.{ext}")))? {
                return Err(format!(
                    "{} is stale; regenerate the boards' defaults with\n  \
                     cargo run --release --features std --example qemu_fixtures -- \
                     target/qemu-fixtures --defaults boards",
                    committed.display()
                ));
            }
        }
    }
    Ok(())
}

/// Builds and runs `board` with fixture `name`, compares, measures.
pub fn run_one(
    root: &Path,
    fixtures: &Path,
    board_target: &Path,
    board: &Board,
    name: &str,
) -> Result<Row, String> {
    let mut cmd = cargo();
    cmd.current_dir(root.join("boards").join(board.name))
        .args(["run", "--release", "--quiet"])
        .env("CARGO_TARGET_DIR", board_target)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if name == "default" {
        cmd.env_remove("EDGEGRAD_MODEL")
            .env_remove("EDGEGRAD_INPUTS");
    } else {
        cmd.env("EDGEGRAD_MODEL", fixtures.join(format!("{name}.egm")))
            .env("EDGEGRAD_INPUTS", fixtures.join(format!("{name}.egi")));
    }
    let output = cmd
        .output()
        .map_err(|e| format!("cannot start cargo: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        // Cargo's and the firmware's messages (build errors, `error: …`
        // from the device, panics, HardFaults) are on stderr.
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "build or QEMU run failed ({}):\n{}\nlast line on stdout: {}",
            output.status,
            stderr.trim_end(),
            stdout.lines().last().unwrap_or("(none)")
        ));
    }
    let expected = read_text(&fixtures.join(format!("{name}.expected")))?;
    let (samples, identical) = compare(&expected, &stdout)?;
    let summary = fields(
        stdout
            .lines()
            .find(|l| l.starts_with("summary "))
            .ok_or("no summary line")?,
    );
    let get = |k: &str| summary.get(k).cloned().unwrap_or_default();
    let (min, max, mean) = (
        get("instructions_min"),
        get("instructions_max"),
        get("instructions_mean"),
    );
    let instructions = if min == max {
        mean
    } else {
        format!("{mean} ({min}–{max})")
    };
    let elf = board_target
        .join(board.triple)
        .join("release")
        .join(format!("edgegrad-{}", board.name));
    let sizes = elf_sizes(&read_bytes(&elf)?).map_err(|e| format!("{}: {e}", elf.display()))?;
    Ok(Row {
        model: name.to_string(),
        board: board.name,
        samples,
        identical,
        instructions,
        instructions_mean: get("instructions_mean").parse().unwrap_or(0),
        correct: get("correct").parse().ok(),
        sizes,
    })
}

/// `key=value` words of a line.
fn fields(line: &str) -> BTreeMap<String, String> {
    line.split_whitespace()
        .filter_map(|w| w.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Compares the device's `y` lines (`y i instructions hex…`) with the
/// expected ones (`y i hex…`); returns the sample count and "yes" or
/// "within N ulp".
fn compare(expected: &str, device: &str) -> Result<(usize, String), String> {
    let header = fields(expected.lines().next().unwrap_or_default());
    let dtypes: Vec<String> = header
        .get("outputs")
        .map(|s| s.split(',').map(String::from).collect())
        .unwrap_or_default();
    let want: Vec<&str> = expected.lines().filter(|l| l.starts_with("y ")).collect();
    let got: Vec<&str> = device.lines().filter(|l| l.starts_with("y ")).collect();
    if !device.lines().any(|l| l == "ok") {
        return Err("the firmware did not finish (no `ok` line)".into());
    }
    if want.len() != got.len() {
        return Err(format!(
            "{} samples expected, the device printed {}",
            want.len(),
            got.len()
        ));
    }
    let mut worst_ulps = 0u64;
    for (i, (w, g)) in want.iter().zip(&got).enumerate() {
        let w: Vec<&str> = w.split_whitespace().skip(2).collect();
        // Skip "y", the index and the instruction count.
        let g: Vec<&str> = g.split_whitespace().skip(3).collect();
        if w.len() != g.len() {
            return Err(format!(
                "sample {i}: {} outputs expected, got {}",
                w.len(),
                g.len()
            ));
        }
        for (k, (wh, gh)) in w.iter().zip(&g).enumerate() {
            if wh == gh {
                continue;
            }
            let dtype = dtypes.get(k).map(String::as_str).unwrap_or("i8");
            let ulps = float_ulps(dtype, wh, gh).ok_or_else(|| {
                format!("sample {i}, output {k} ({dtype}): host {wh}, device {gh}")
            })?;
            if ulps > FLOAT_TOLERANCE_ULPS {
                return Err(format!(
                    "sample {i}, output {k} ({dtype}): off by {ulps} ulp \
                     (tolerance {FLOAT_TOLERANCE_ULPS}): host {wh}, device {gh}"
                ));
            }
            worst_ulps = worst_ulps.max(ulps);
        }
    }
    let summary = fields(
        device
            .lines()
            .find(|l| l.starts_with("summary "))
            .unwrap_or_default(),
    );
    if summary.get("correct") != header.get("correct") {
        return Err(format!(
            "correct predictions: host {:?}, device {:?}",
            header.get("correct"),
            summary.get("correct")
        ));
    }
    let identical = if worst_ulps == 0 {
        "yes".to_string()
    } else {
        format!("no, ≤ {worst_ulps} ulp")
    };
    Ok((want.len(), identical))
}

/// The largest distance in units in the last place between two hex dumps
/// of f16 or f32 tensors; `None` for other types or malformed dumps.
fn float_ulps(dtype: &str, a: &str, b: &str) -> Option<u64> {
    let width = match dtype {
        "f16" => 2,
        "f32" => 4,
        _ => return None,
    };
    let (a, b) = (unhex(a)?, unhex(b)?);
    if a.len() != b.len() || !a.len().is_multiple_of(width) {
        return None;
    }
    // Float bits mapped to integers in the floats' order.
    let key = |c: &[u8]| -> i64 {
        let (bits, sign) = if width == 2 {
            (u16::from_le_bytes([c[0], c[1]]) as i64, 1i64 << 15)
        } else {
            (
                u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64,
                1i64 << 31,
            )
        };
        if bits & sign != 0 {
            -(bits & (sign - 1))
        } else {
            bits
        }
    };
    a.chunks(width)
        .zip(b.chunks(width))
        .map(|(x, y)| key(x).abs_diff(key(y)))
        .max()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Section sizes of a firmware ELF.
#[derive(Default)]
pub struct Sizes {
    pub text: u64,
    pub flash: u64,
    pub ram: u64,
}

/// Reads the section headers of a 32-bit little-endian ELF (the ARM
/// firmware) and adds up the sizes that go to flash and to RAM.
fn elf_sizes(elf: &[u8]) -> Result<Sizes, String> {
    let u16_at = |o: usize| -> Result<u64, String> {
        elf.get(o..o + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]) as u64)
            .ok_or_else(|| "truncated ELF".to_string())
    };
    let u32_at = |o: usize| -> Result<u64, String> {
        elf.get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64)
            .ok_or_else(|| "truncated ELF".to_string())
    };
    if elf.get(..6) != Some(&[0x7f, b'E', b'L', b'F', 1, 1]) {
        return Err("not a 32-bit little-endian ELF".into());
    }
    let shoff = u32_at(0x20)? as usize;
    let shentsize = u16_at(0x2e)? as usize;
    let shnum = u16_at(0x30)? as usize;
    let shstrndx = u16_at(0x32)? as usize;
    let header = |i: usize| shoff + i * shentsize;
    let strtab = u32_at(header(shstrndx) + 16)? as usize;
    let mut sizes = Sizes::default();
    for i in 0..shnum {
        let h = header(i);
        let name_off = strtab + u32_at(h)? as usize;
        let name_end = elf[name_off.min(elf.len())..]
            .iter()
            .position(|&b| b == 0)
            .map_or(elf.len(), |p| name_off + p);
        let name = std::str::from_utf8(&elf[name_off.min(elf.len())..name_end]).unwrap_or("");
        let size = u32_at(h + 20)?;
        match name {
            ".text" => {
                sizes.text += size;
                sizes.flash += size;
            }
            ".vector_table" | ".rodata" => sizes.flash += size,
            ".data" => {
                sizes.flash += size;
                sizes.ram += size;
            }
            ".bss" | ".uninit" => sizes.ram += size,
            _ => {}
        }
    }
    Ok(sizes)
}

fn print_table(rows: &[Row]) {
    let header = [
        "model",
        "board",
        "samples",
        "identical",
        "accuracy",
        "instructions/inference",
        ".text B",
        "flash B",
        "RAM B",
    ];
    let cells: Vec<[String; 9]> = rows
        .iter()
        .map(|r| {
            [
                r.model.clone(),
                r.board.to_string(),
                r.samples.to_string(),
                r.identical.clone(),
                r.correct.map_or("-".into(), |c| {
                    format!("{:.2}%", 100.0 * c as f64 / r.samples.max(1) as f64)
                }),
                r.instructions.clone(),
                r.sizes.text.to_string(),
                r.sizes.flash.to_string(),
                r.sizes.ram.to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: &[String]| {
        let parts: Vec<String> = cols
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (c, w))| {
                let pad = " ".repeat(w - c.chars().count());
                // Text left, numbers right.
                if i < 2 || i == 3 {
                    format!("{c}{pad}")
                } else {
                    format!("{pad}{c}")
                }
            })
            .collect();
        println!("| {} |", parts.join(" | "));
    };
    println!();
    line(&header.map(String::from));
    let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
    println!("|-{}-|", rule.join("-|-"));
    for row in &cells {
        line(row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPECTED: &str = "# model=m outputs=i8,f16 samples=2 correct=-\n\
                            y 0 80ff 003c\n\
                            y 1 7f01 00bc\n";

    fn device(lines: &str) -> String {
        format!("edgegrad board=b\n{lines}summary samples=2 correct=-\nok\n")
    }

    #[test]
    fn identical_outputs_pass() {
        let d = device("y 0 100 80ff 003c\ny 1 120 7f01 00bc\n");
        assert_eq!(compare(EXPECTED, &d).unwrap(), (2, "yes".to_string()));
    }

    #[test]
    fn an_int8_difference_names_the_sample() {
        let d = device("y 0 100 80ff 003c\ny 1 120 7f02 00bc\n");
        let e = compare(EXPECTED, &d).unwrap_err();
        assert!(e.starts_with("sample 1, output 0 (i8)"), "{e}");
    }

    #[test]
    fn floats_within_tolerance_pass_and_say_so() {
        // 1.0 vs the next f16 above it; −1.0 vs two below it.
        let d = device("y 0 100 80ff 013c\ny 1 120 7f01 02bc\n");
        assert_eq!(compare(EXPECTED, &d).unwrap().1, "no, ≤ 2 ulp");
        let d = device("y 0 100 80ff 043c\ny 1 120 7f01 00bc\n");
        assert!(compare(EXPECTED, &d).unwrap_err().contains("off by 4 ulp"));
    }

    #[test]
    fn a_run_that_did_not_finish_fails() {
        let d = "y 0 100 80ff 003c\n";
        assert!(compare(EXPECTED, d).unwrap_err().contains("did not finish"));
        let d = device("y 0 100 80ff 003c\n");
        assert!(compare(EXPECTED, &d)
            .unwrap_err()
            .contains("2 samples expected"));
    }

    #[test]
    fn ulps_cross_zero() {
        // +0.0 and the smallest negative subnormal f16 are 1 ulp apart.
        assert_eq!(float_ulps("f16", "0000", "0180"), Some(1));
        assert_eq!(float_ulps("i8", "00", "01"), None);
    }

    #[test]
    fn elf_section_sizes() {
        // A minimal ELF32 LE with a null section, .text (100 B), .bss (8 B)
        // and the section-name table.
        let names = b"\0.text\0.bss\0.shstrtab\0";
        let mut elf = vec![0u8; 0x34];
        elf[..6].copy_from_slice(&[0x7f, b'E', b'L', b'F', 1, 1]);
        let strtab_off = elf.len();
        elf.extend_from_slice(names);
        let shoff = elf.len();
        let section = |name: u32, size: u32, off: u32| {
            let mut h = [0u8; 40];
            h[..4].copy_from_slice(&name.to_le_bytes());
            h[16..20].copy_from_slice(&off.to_le_bytes());
            h[20..24].copy_from_slice(&size.to_le_bytes());
            h
        };
        elf.extend_from_slice(&section(0, 0, 0));
        elf.extend_from_slice(&section(1, 100, 0));
        elf.extend_from_slice(&section(7, 8, 0));
        elf.extend_from_slice(&section(12, names.len() as u32, strtab_off as u32));
        elf[0x20..0x24].copy_from_slice(&(shoff as u32).to_le_bytes());
        elf[0x2e..0x30].copy_from_slice(&40u16.to_le_bytes());
        elf[0x30..0x32].copy_from_slice(&4u16.to_le_bytes());
        elf[0x32..0x34].copy_from_slice(&3u16.to_le_bytes());
        let s = elf_sizes(&elf).unwrap();
        assert_eq!((s.text, s.flash, s.ram), (100, 100, 8));
        assert!(elf_sizes(b"not an elf").is_err());
    }
}
