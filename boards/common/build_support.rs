//! The build script every QEMU board shares (included with `#[path]` by
//! each board's `build.rs`, next to `src/inputs.rs`).
//!
//! 1. Picks the model and inputs: `EDGEGRAD_MODEL` / `EDGEGRAD_INPUTS`
//!    (absolute paths, or relative to the board folder), else the board's
//!    committed `model/default.egm` and `model/default.egi`. A model given
//!    without inputs runs one all-zero sample.
//! 2. Validates both with the library's own `Model::from_bytes` and the
//!    inputs parser, so a bad file fails the build, not the device.
//! 3. Generates `$OUT_DIR/board_config.rs`: the model's name and
//!    `const OPS: OpResolver` registering exactly the (op, kernel type)
//!    pairs the model uses, so only those kernels are linked.
//! 4. Checks that the model and inputs fit the board's flash and the arena
//!    plus the stack reserve fit its RAM, failing with the overrun in bytes.
//!    The linker then checks the whole image, code included, against
//!    `memory.x` (lld: "section … will not fit in region …: overflowed by
//!    N bytes"; RAM through the `.stack_reserve` section).
//! 5. Copies `memory.x` where the linker finds it.

use crate::inputs::Inputs;
use edgegrad::model::Model;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The board's limits.
pub struct BoardSpec {
    /// Folder name, for messages.
    pub name: &'static str,
    /// The QEMU machine, for messages.
    pub machine: &'static str,
    /// Flash bytes (must match `memory.x`).
    pub flash: usize,
    /// RAM bytes (must match `memory.x`).
    pub ram: usize,
    /// RAM kept free for the stack (must match `memory.x`'s
    /// `.stack_reserve`).
    pub stack_reserve: usize,
}

/// Reports `message` as a build error and stops the build script; cargo
/// then fails the build, showing only the message.
fn fail(message: &str) -> ! {
    for line in message.lines() {
        println!("cargo::error={line}");
    }
    std::process::exit(0);
}

fn read(what: &str, path: &Path) -> Vec<u8> {
    std::fs::read(path)
        .unwrap_or_else(|e| fail(&format!("cannot read {what} {}: {e}", path.display())))
}

/// Runs the whole build script for `spec`.
pub fn main(spec: &BoardSpec) {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_else(|_| fail("OUT_DIR not set")));
    println!("cargo:rerun-if-env-changed=EDGEGRAD_MODEL");
    println!("cargo:rerun-if-env-changed=EDGEGRAD_INPUTS");
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rerun-if-changed=model");

    let from_env = |var: &str| {
        std::env::var_os(var)
            .filter(|v| !v.is_empty())
            .map(|v| dir.join(v))
    };
    let env_model = from_env("EDGEGRAD_MODEL");
    let env_inputs = from_env("EDGEGRAD_INPUTS");
    let model_path = env_model
        .clone()
        .unwrap_or_else(|| dir.join("model/default.egm"));
    let inputs_path = match (&env_model, env_inputs) {
        (_, Some(p)) => Some(p),
        (None, None) => Some(dir.join("model/default.egi")),
        (Some(_), None) => None,
    };
    println!("cargo:rerun-if-changed={}", model_path.display());
    if let Some(p) = &inputs_path {
        println!("cargo:rerun-if-changed={}", p.display());
    }

    // The model: validated exactly as the device will.
    let model_bytes = read("model", &model_path);
    let aligned: Vec<u128> = model_bytes
        .chunks(16)
        .map(|c| {
            let mut w = [0u8; 16];
            w[..c.len()].copy_from_slice(c);
            u128::from_ne_bytes(w)
        })
        .collect();
    // SAFETY: u128 has no padding; the view covers only the copied bytes.
    let view =
        unsafe { std::slice::from_raw_parts(aligned.as_ptr().cast::<u8>(), model_bytes.len()) };
    let model = Model::from_bytes(view)
        .unwrap_or_else(|e| fail(&format!("{}: not a valid model: {e}", model_path.display())));
    let mut input_len = 0;
    for &t in model.inputs() {
        input_len += model.tensor(t).map(|t| t.byte_len).unwrap_or(0);
    }

    // The inputs: the given file, or one all-zero sample.
    let inputs_bytes = match &inputs_path {
        Some(p) => read("inputs", p),
        None => {
            let mut v = Vec::new();
            crate::inputs::encode(&mut v, input_len, &vec![0; input_len], None)
                .unwrap_or_else(|e| fail(&format!("cannot make a zero sample: {e}")));
            v
        }
    };
    let inputs_name = inputs_path
        .as_ref()
        .map_or("(one zero sample)".into(), |p| p.display().to_string());
    let inputs =
        Inputs::parse(&inputs_bytes).unwrap_or_else(|e| fail(&format!("{inputs_name}: {e}")));
    if inputs.sample_len() != input_len {
        fail(&format!(
            "{inputs_name}: samples of {} bytes, but the model's inputs take {input_len} bytes",
            inputs.sample_len()
        ));
    }

    // Does it fit?
    let flash_need = model_bytes.len() + inputs_bytes.len();
    if flash_need > spec.flash {
        fail(&format!(
            "{} ({}): the model ({} B) and inputs ({} B) need {flash_need} B of flash, \
             the board has {} B: over by {} bytes, before any code",
            spec.name,
            spec.machine,
            model_bytes.len(),
            inputs_bytes.len(),
            spec.flash,
            flash_need - spec.flash
        ));
    }
    let ram_need = model.arena_size() + spec.stack_reserve;
    if ram_need > spec.ram {
        fail(&format!(
            "{} ({}): the model's arena ({} B) and the stack reserve ({} B) need {ram_need} B of RAM, \
             the board has {} B: over by {} bytes",
            spec.name,
            spec.machine,
            model.arena_size(),
            spec.stack_reserve,
            spec.ram,
            ram_need - spec.ram
        ));
    }

    // The generated configuration: the model's name and its kernels.
    let name = model_path
        .file_name()
        .map_or("model".into(), |n| n.to_string_lossy().into_owned());
    let mut code = String::new();
    let _ = writeln!(
        code,
        "// Generated by build.rs from {}.",
        model_path.display()
    );
    let _ = writeln!(code, "/// The embedded model file's name.");
    let _ = writeln!(code, "const MODEL_NAME: &str = {name:?};");
    let _ = writeln!(code, "/// Exactly the kernels the embedded model uses.");
    let _ = write!(
        code,
        "const OPS: edgegrad::model::OpResolver = edgegrad::model::OpResolver::new()"
    );
    for (op, kt) in model.required_ops().iter() {
        let _ = write!(code, "\n    .add_{}_{}()", op.name(), kt.suffix());
    }
    code.push_str(";\n");
    let write = |file: &str, bytes: &[u8]| {
        std::fs::write(out.join(file), bytes)
            .unwrap_or_else(|e| fail(&format!("cannot write {file} in OUT_DIR: {e}")));
    };
    write("board_config.rs", code.as_bytes());
    write("model.egm", &model_bytes);
    write("inputs.egi", &inputs_bytes);
    write("memory.x", &read("memory map", &dir.join("memory.x")));
    println!("cargo:rustc-link-search={}", out.display());
}
