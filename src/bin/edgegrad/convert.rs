//! `edgegrad convert IN.tflite -o OUT.egm`: a fully int8 TensorFlow Lite
//! model to an edgegrad model file (see `edgegrad::import::tflite`).

use anyhow::{anyhow, bail, Context, Result};
use std::path::Path;

pub fn run(input: &Path, output: &Path) -> Result<()> {
    let bytes = std::fs::read(input).with_context(|| format!("cannot read {}", input.display()))?;
    let ext = input.extension().and_then(|e| e.to_str()).unwrap_or("");
    if !ext.eq_ignore_ascii_case("tflite") {
        bail!(
            "{}: only TensorFlow Lite (.tflite) files can be converted",
            input.display()
        );
    }
    let built = edgegrad::import::tflite::convert(&bytes)
        .map_err(|e| anyhow!("{}: {e}", input.display()))?;
    edgegrad::export::write_atomic(output, &built.bytes)
        .with_context(|| format!("cannot write {}", output.display()))?;
    eprintln!(
        "wrote {} ({} bytes; arena {} bytes, lower bound {})",
        output.display(),
        built.bytes.len(),
        built.plan.arena_size,
        built.plan.lower_bound
    );
    Ok(())
}
