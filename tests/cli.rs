//! The `edgegrad` command-line tool on real files: `inspect`, `inspect
//! --json`, `run`, and clear one-line failures with exit code 1.
#![cfg(feature = "std")]

use edgegrad::export::{ModelBuilder, Quant};
use edgegrad::quant::Activation;
use edgegrad::tensor::DType;
use npyz::WriterBuilder;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the tool and asserts it succeeded (its stderr in the message).
fn tool_ok(args: &[&str]) {
    let out = tool(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A raw int8 fixture file.
fn read_i8(path: &Path) -> Vec<i8> {
    std::fs::read(path)
        .unwrap()
        .into_iter()
        .map(|b| b as i8)
        .collect()
}

fn tool(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edgegrad"))
        .args(args)
        .output()
        .expect("the CLI starts")
}

/// A scratch directory removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

fn tmpdir(name: &str) -> TempDir {
    let d = std::env::temp_dir().join(format!("edgegrad-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    TempDir(d)
}

/// An int8 classifier: FC 4 → 3 + softmax, input scale 1/127.
fn write_model(dir: &Path) -> PathBuf {
    let mut b = ModelBuilder::new();
    let x = b
        .input(DType::I8, &[1, 4], Some(Quant::per_tensor(1.0 / 127.0, 0)))
        .unwrap();
    let w = b
        .constant(
            &[3, 4],
            &[127i8, 0, 0, 0, 0, 127, 0, 0, 0, 0, 127, 127],
            Quant::per_tensor(1.0 / 127.0, 0),
        )
        .unwrap();
    let y = b
        .fully_connected(
            x,
            w,
            None,
            Activation::None,
            Some(Quant::per_tensor(2.0 / 255.0, 0)),
        )
        .unwrap();
    let p = b.softmax(y, 4.0).unwrap();
    b.output(p);
    let path = dir.join("model.egm");
    std::fs::write(&path, b.build().unwrap().bytes).unwrap();
    path
}

fn write_npy<T: npyz::Serialize + npyz::AutoSerialize + Copy>(
    path: &Path,
    shape: &[u64],
    data: &[T],
) {
    let mut buf = Vec::new();
    let mut w = npyz::WriteOptions::<T>::new()
        .default_dtype()
        .shape(shape)
        .writer(&mut buf)
        .begin_nd()
        .unwrap();
    w.extend(data.iter().copied()).unwrap();
    w.finish().unwrap();
    std::fs::write(path, buf).unwrap();
}

fn read_npy_i8(path: &Path) -> (Vec<u64>, Vec<i8>) {
    let bytes = std::fs::read(path).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = npy.shape().to_vec();
    (shape, npy.into_vec().unwrap())
}

#[test]
fn inspect_describes_a_valid_model() {
    let dir = tmpdir("inspect");
    let model = write_model(&dir);
    let out = tool(&["inspect", model.to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("valid edgegrad model"), "{text}");
    assert!(text.contains("fully_connected_s8"), "{text}");
    assert!(text.contains("softmax_s8"), "{text}");
    assert!(text.contains("arena"), "{text}");
    assert!(text.contains("12 MACs") || text.contains(" 12 "), "{text}");
}

#[test]
fn inspect_json_is_machine_readable() {
    let dir = tmpdir("json");
    let model = write_model(&dir);
    let out = tool(&["inspect", "--json", model.to_str().unwrap()]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ops"][0]["op"], "fully_connected");
    assert_eq!(v["ops"][0]["kernel"], "s8");
    assert_eq!(v["ops"][0]["macs"], 12);
    assert_eq!(v["tensors"][0]["dtype"], "i8");
    assert_eq!(v["tensors"][0]["shape"], serde_json::json!([1, 4]));
    assert!(v["arena_bytes"].as_u64().unwrap() >= v["arena_lower_bound"].as_u64().unwrap());
}

#[test]
fn run_classifies_every_sample_of_float_and_int8_inputs() {
    let dir = tmpdir("run");
    let model = write_model(&dir);
    // Sample k is one-hot in feature k: class k wins (features 2 and 3 both feed class 2).
    let xf: Vec<f32> = vec![1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0];
    write_npy(&dir.join("x.npy"), &[3, 4], &xf);
    tool_ok(&[
        "run",
        model.to_str().unwrap(),
        "--input",
        dir.join("x.npy").to_str().unwrap(),
        "--output",
        dir.join("y.npy").to_str().unwrap(),
    ]);
    let (shape, y) = read_npy_i8(&dir.join("y.npy"));
    assert_eq!(shape, [3, 1, 3]);
    for (k, row) in y.chunks(3).enumerate() {
        let best = (0..3).max_by_key(|&i| row[i]).unwrap();
        assert_eq!(best, k, "sample {k}: {row:?}");
    }
    // The same inputs as int8 (already quantized) give the same bytes.
    let xq: Vec<i8> = xf.iter().map(|&v| (v * 127.0) as i8).collect();
    write_npy(&dir.join("xq.npy"), &[3, 1, 4], &xq);
    tool_ok(&[
        "run",
        model.to_str().unwrap(),
        "--input",
        dir.join("xq.npy").to_str().unwrap(),
        "--output",
        dir.join("yq.npy").to_str().unwrap(),
    ]);
    assert_eq!(read_npy_i8(&dir.join("yq.npy")).1, y);
}

fn assert_one_line_failure(out: &Output, needle: &str) {
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains(needle), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn corrupt_model_is_one_line_and_exit_code_1() {
    let dir = tmpdir("corrupt");
    let model = write_model(&dir);
    let mut bytes = std::fs::read(&model).unwrap();
    let n = bytes.len();
    bytes[n - 20] ^= 0x55;
    let bad = dir.join("bad.egm");
    std::fs::write(&bad, &bytes).unwrap();
    assert_one_line_failure(&tool(&["inspect", bad.to_str().unwrap()]), "CRC32");
    std::fs::write(&bad, &bytes[..30]).unwrap();
    assert_one_line_failure(&tool(&["inspect", bad.to_str().unwrap()]), "truncated");
    std::fs::write(
        &bad,
        b"not a model at all, just some text that is long enough to fill a header........",
    )
    .unwrap();
    assert_one_line_failure(&tool(&["inspect", bad.to_str().unwrap()]), "bad magic");
    assert_one_line_failure(
        &tool(&["inspect", dir.join("missing.egm").to_str().unwrap()]),
        "cannot read",
    );
}

#[test]
fn run_rejects_wrong_shapes_and_types() {
    let dir = tmpdir("wrong");
    let model = write_model(&dir);
    let m = model.to_str().unwrap();
    let y = dir.join("y.npy");
    write_npy(&dir.join("x5.npy"), &[2, 5], &[0f32; 10]);
    assert_one_line_failure(
        &tool(&[
            "run",
            m,
            "--input",
            dir.join("x5.npy").to_str().unwrap(),
            "--output",
            y.to_str().unwrap(),
        ]),
        "does not match input 0",
    );
    write_npy(&dir.join("xi.npy"), &[2, 4], &[0i32; 8]);
    assert_one_line_failure(
        &tool(&[
            "run",
            m,
            "--input",
            dir.join("xi.npy").to_str().unwrap(),
            "--output",
            y.to_str().unwrap(),
        ]),
        "not supported",
    );
    write_npy(&dir.join("x.npy"), &[2, 4], &[0f32; 8]);
    assert_one_line_failure(
        &tool(&[
            "run",
            m,
            "--input",
            dir.join("x.npy").to_str().unwrap(),
            "--input",
            dir.join("x.npy").to_str().unwrap(),
            "--output",
            y.to_str().unwrap(),
        ]),
        "has 1 inputs, 2 given",
    );
}

#[test]
fn convert_then_run_a_tflite_model() {
    let dir = tmpdir("convert");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tflite");
    let egm = dir.join("small_cnn.egm");
    tool_ok(&[
        "convert",
        fixtures.join("small_cnn.tflite").to_str().unwrap(),
        "-o",
        egm.to_str().unwrap(),
    ]);
    // Run the committed inputs (16 samples of 12×12×1 int8) and compare
    // with TFLite Micro's outputs.
    let x: Vec<i8> = read_i8(&fixtures.join("small_cnn.in.bin"));
    let xn = dir.join("x.npy");
    write_npy(&xn, &[16, 1, 12, 12, 1], &x);
    let yn = dir.join("y.npy");
    tool_ok(&[
        "run",
        egm.to_str().unwrap(),
        "--input",
        xn.to_str().unwrap(),
        "--output",
        yn.to_str().unwrap(),
    ]);
    let want: Vec<i8> = read_i8(&fixtures.join("small_cnn.tflm.bin"));
    assert_eq!(read_npy_i8(&yn).1, want);

    // The int8 LSTM: 4 sequences of 6 steps, each from a zero state.
    let lstm_egm = dir.join("lstm.egm");
    tool_ok(&[
        "convert",
        fixtures.join("lstm.tflite").to_str().unwrap(),
        "-o",
        lstm_egm.to_str().unwrap(),
    ]);
    let x: Vec<i8> = read_i8(&fixtures.join("lstm.in.bin"));
    write_npy(&xn, &[4, 1, 6, 5], &x);
    tool_ok(&[
        "run",
        lstm_egm.to_str().unwrap(),
        "--input",
        xn.to_str().unwrap(),
        "--output",
        yn.to_str().unwrap(),
    ]);
    let want: Vec<i8> = read_i8(&fixtures.join("lstm.tflm.bin"));
    // Within one quantum of TFLite Micro (the LSTM's sigmoid table is the
    // crate's own; see tests/tflite_import.rs).
    let got = read_npy_i8(&yn).1;
    assert_eq!(got.len(), want.len());
    assert!(got
        .iter()
        .zip(&want)
        .all(|(&a, &b)| (a as i32 - b as i32).abs() <= 1));

    // An unsupported operator: one line naming it and its index. The LSTM
    // fixture with its cell activation (the options' byte 4, TANH) made
    // RELU (1): find that byte with the library, then run the tool.
    let lstm = std::fs::read(fixtures.join("lstm.tflite")).unwrap();
    let relu_cell = (0..lstm.len())
        .filter(|&i| lstm[i] == 4)
        .map(|i| {
            let mut b = lstm.clone();
            b[i] = 1;
            b
        })
        .find(|b| {
            edgegrad::import::tflite::convert(b)
                .is_err_and(|e| e.to_string().contains("cell activation 1"))
        })
        .unwrap();
    let bad_lstm = dir.join("relu_lstm.tflite");
    std::fs::write(&bad_lstm, relu_cell).unwrap();
    let out = tool(&[
        "convert",
        bad_lstm.to_str().unwrap(),
        "-o",
        dir.join("lstm.egm").to_str().unwrap(),
    ]);
    assert_one_line_failure(&out, "operator 0 (UNIDIRECTIONAL_SEQUENCE_LSTM)");
    // A truncated file.
    let bad = dir.join("bad.tflite");
    let bytes = std::fs::read(fixtures.join("small_cnn.tflite")).unwrap();
    std::fs::write(&bad, &bytes[..bytes.len() / 2]).unwrap();
    let out = tool(&[
        "convert",
        bad.to_str().unwrap(),
        "-o",
        dir.join("bad.egm").to_str().unwrap(),
    ]);
    assert_one_line_failure(&out, "malformed TFLite file");
}
