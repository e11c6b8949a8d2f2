//! `cargo xtask demo`: the main job, end to end.
//!
//! Today: a digits classifier exported with the model builder and run
//! through the interpreter on the whole test split, printing accuracy,
//! model size and arena size.

use crate::util::{cargo, run as sh};

pub fn run() -> Result<(), String> {
    sh(cargo().args([
        "run",
        "--release",
        "--quiet",
        "--features",
        "std",
        "--example",
        "digits_centroid",
    ]))
}
