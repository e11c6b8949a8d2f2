//! `edgegrad convert` on the committed ONNX fixtures: int8 with
//! calibration (agreement printed), f32 / f16 without, the result run by
//! `edgegrad run`, and one-line failures with exit code 1.
#![cfg(feature = "std")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tool(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edgegrad"))
        .args(args)
        .output()
        .expect("the CLI starts")
}

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/onnx")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// A scratch directory removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tmpdir(name: &str) -> TempDir {
    let d = std::env::temp_dir().join(format!(
        "edgegrad-convert-onnx-{name}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    TempDir(d)
}

fn path(d: &Path, f: &str) -> String {
    d.join(f).to_string_lossy().into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn int8_with_calibration_prints_agreement_and_runs() {
    let d = tmpdir("int8");
    let model = path(&d.0, "mlp.egm");
    let o = tool(&[
        "convert",
        &fixture("mlp.onnx"),
        "-o",
        &model,
        "--calibration",
        &fixture("mlp_input.npy"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("top-1 agreement"), "{out}");
    assert!(out.contains("100 held-out"), "{out}");
    // The model runs on the same (float16) samples.
    let o = tool(&["inspect", &model]);
    assert!(o.status.success(), "{}", stderr(&o));
    let y = path(&d.0, "y.npy");
    let x32 = path(&d.0, "x.npy");
    write_f32_npy(&x32, &[3, 16], &[0.5; 48]);
    let o = tool(&["run", &model, "--input", &x32, "--output", &y]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(Path::new(&y).exists());
}

fn write_f32_npy(p: &str, shape: &[u64], data: &[f32]) {
    use npyz::WriterBuilder;
    let mut buf = Vec::new();
    let mut w = npyz::WriteOptions::<f32>::new()
        .default_dtype()
        .shape(shape)
        .writer(&mut buf)
        .begin_nd()
        .unwrap();
    w.extend(data.iter().copied()).unwrap();
    w.finish().unwrap();
    std::fs::write(p, buf).unwrap();
}

#[test]
fn float_conversions_need_no_calibration() {
    let d = tmpdir("float");
    for dtype in ["f32", "f16"] {
        let model = path(&d.0, &format!("cnn_{dtype}.egm"));
        let o = tool(&[
            "convert",
            &fixture("cnn_dynamo.onnx"),
            "-o",
            &model,
            "--dtype",
            dtype,
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stdout(&o).contains("channels-last"), "{}", stdout(&o));
        assert!(tool(&["inspect", &model]).status.success());
    }
}

#[test]
fn failures_are_one_line() {
    let d = tmpdir("fail");
    let out = path(&d.0, "x.egm");
    // int8 without calibration.
    let o = tool(&["convert", &fixture("mlp.onnx"), "-o", &out]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--calibration"), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    // Calibration samples of the wrong size.
    let o = tool(&[
        "convert",
        &fixture("mlp.onnx"),
        "-o",
        &out,
        "--calibration",
        &fixture("cnn_torchscript_input.npy"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("expected [N, 16]"), "{}", stderr(&o));
    // Not an ONNX file.
    let bad = path(&d.0, "bad.onnx");
    std::fs::write(&bad, b"\x08\x07garbage that is not protobuf \xff\xff\xff").unwrap();
    let o = tool(&["convert", &bad, "-o", &out, "--dtype", "f32"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("bad.onnx"), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    // Unknown extension.
    let o = tool(&["convert", &path(&d.0, "model.pb"), "-o", &out]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("unknown model type"), "{}", stderr(&o));
    assert!(!Path::new(&out).exists());
}
