//! Plots draw without any font (no labels) — a machine without fonts still
//! gets its PNG. Its own test binary: the font choice is per process.
#![cfg(feature = "std")]

use edgegrad::train::{EpochLog, History};

#[test]
fn plot_without_a_font() {
    std::env::set_var("EDGEGRAD_FONT", "");
    let log = |e: usize, l: f32| EpochLog {
        epoch: e,
        loss: l,
        metrics: vec![("accuracy".into(), 1.0 - l)],
        val_loss: Some(l * 1.1),
        val_metrics: vec![("accuracy".into(), 0.9 - l)],
        lr: 1e-3,
        seconds: 0.1,
    };
    let h = History {
        epochs: vec![log(1, 0.9), log(2, 0.5), log(3, 0.3)],
        best_epoch: None,
    };
    let path = std::env::temp_dir().join(format!("edgegrad-nofont-{}.png", std::process::id()));
    h.plot(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    // A single epoch still plots.
    let one = History {
        epochs: vec![log(1, 0.5)],
        best_epoch: None,
    };
    let one_path = path.with_extension("one.png");
    one.plot(&one_path).unwrap();
    // An unwritable path is an error, not a panic.
    assert!(h.plot("/nonexistent-dir/x.png").is_err());
}
