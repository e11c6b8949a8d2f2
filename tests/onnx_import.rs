//! ONNX import against onnxruntime: the committed fixtures
//! (`scripts/onnx_fixtures.py`) converted to f32, f16 and int8 and run
//! through the host interpreter; malformed files rejected without a panic.
#![cfg(feature = "std")]

use edgegrad::export::ExportDtype;
use edgegrad::import::onnx::{self, ConvertOptions, Converted, OnnxError};
use edgegrad::model::{AlignedModel, Interpreter, Model, OpResolver};
use half::f16;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/onnx")
        .join(name)
}

fn npy_f32(name: &str) -> (Vec<usize>, Vec<f32>) {
    let bytes = std::fs::read(fixture(name)).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let data = if npy.dtype().descr() == "'<f2'" {
        npy.into_vec::<f16>()
            .unwrap()
            .iter()
            .map(|v| v.to_f32())
            .collect()
    } else {
        npy.into_vec::<f32>().unwrap()
    };
    (shape, data)
}

struct Case {
    onnx: Vec<u8>,
    input: Vec<f32>,
    want: Vec<f32>,
    n: usize,
}

fn case(name: &str) -> Case {
    let onnx = std::fs::read(fixture(&format!("{name}.onnx"))).unwrap();
    // The current exporter's fixtures share the TorchScript ones' inputs.
    let inputs = name.replace("_dynamo", "_torchscript");
    let (ishape, input) = npy_f32(&format!("{inputs}_input.npy"));
    let (_, want) = npy_f32(&format!("{name}_output.npy"));
    Case {
        onnx,
        input,
        want,
        n: ishape[0],
    }
}

/// Runs the converted float model on every sample; outputs in ONNX layout.
fn run_float(c: &Converted, input: &[f32], n: usize) -> Vec<f32> {
    let file = AlignedModel::new(&c.bytes);
    let model = Model::from_bytes(file.as_bytes()).unwrap();
    let ops = OpResolver::all();
    let mut arena = vec![0u8; model.arena_size() + 16];
    let mut it = Interpreter::new(&model, &ops, &mut arena).unwrap();
    let per = input.len() / n;
    let f16_model = it.input_info(0).unwrap().dtype == edgegrad::tensor::DType::F16;
    let mut out = Vec::new();
    for s in 0..n {
        let x = c.input.to_device(&input[s * per..(s + 1) * per]);
        let y: Vec<f32> = if f16_model {
            let xi = it.input_mut::<f16>(0).unwrap();
            for (d, v) in xi.iter_mut().zip(&x) {
                *d = f16::from_f32(*v);
            }
            it.reset_state().unwrap(); // each sample is its own sequence
            it.invoke().unwrap();
            it.output::<f16>(0)
                .unwrap()
                .iter()
                .map(|v| v.to_f32())
                .collect()
        } else {
            it.input_mut::<f32>(0).unwrap().copy_from_slice(&x);
            it.reset_state().unwrap(); // each sample is its own sequence
            it.invoke().unwrap();
            it.output::<f32>(0).unwrap().to_vec()
        };
        out.extend(c.outputs[0].from_device(&y));
    }
    out
}

/// The largest error over samples, relative to each sample's largest
/// |reference output|.
fn max_rel_error(got: &[f32], want: &[f32], n: usize) -> f32 {
    assert_eq!(got.len(), want.len());
    let per = want.len() / n;
    (0..n)
        .map(|s| {
            let (g, w) = (&got[s * per..(s + 1) * per], &want[s * per..(s + 1) * per]);
            let m = w.iter().fold(0f32, |a, v| a.max(v.abs())).max(1e-12);
            g.iter().zip(w).fold(0f32, |a, (x, y)| a.max((x - y).abs())) / m
        })
        .fold(0f32, f32::max)
}

const MODELS: [&str; 13] = [
    "mlp",
    "legacy_opset9",
    "cnn_torchscript",
    "cnn_dynamo",
    "misc_torchscript",
    "misc_dynamo",
    // Slices of an NCHW activation (channels, strided rows and columns)
    // and of features (strided, reversed).
    "slices_torchscript",
    // LSTM with `out[:, -1]`, GRU with `h_n[-1]` (both exporters), and a
    // hand-written GRU with linear_before_reset = 0 using Y_h, and an LSTM
    // whose head reads a middle and the last time step (a strided slice).
    "lstm_torchscript",
    "lstm_steps_torchscript",
    "lstm_dynamo",
    "gru_torchscript",
    "gru_dynamo",
    "gru_lbr0",
];

#[test]
fn f32_matches_onnxruntime() {
    for name in MODELS {
        let c = case(name);
        let conv = onnx::convert(&c.onnx, None, &ConvertOptions::new(ExportDtype::F32))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let got = run_float(&conv, &c.input, c.n);
        let err = max_rel_error(&got, &c.want, c.n);
        println!("{name}: f32 max error {err:.2e} of each sample's max |output|");
        assert!(err <= 1e-4, "{name}: f32 error {err}");
    }
}

#[test]
fn f16_matches_onnxruntime_within_f16_precision() {
    for name in MODELS {
        let c = case(name);
        let conv = onnx::convert(&c.onnx, None, &ConvertOptions::new(ExportDtype::F16))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let got = run_float(&conv, &c.input, c.n);
        let err = max_rel_error(&got, &c.want, c.n);
        println!("{name}: f16 max error {err:.2e} of each sample's max |output|");
        assert!(err <= 1e-2, "{name}: f16 error {err}");
    }
}

#[test]
fn int8_keeps_top1_on_held_out_samples() {
    for name in MODELS {
        let c = case(name);
        let conv = onnx::convert(
            &c.onnx,
            Some(&c.input),
            &ConvertOptions::new(ExportDtype::Int8),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let a = conv.agreement.unwrap();
        println!(
            "{name}: int8 top-1 agreement {}/{} = {:.1}%",
            a.agree,
            a.total,
            100.0 * a.ratio()
        );
        assert_eq!(a.total, c.n / 5);
        // misc ends in a softmax over tanh outputs and a linear branch: no
        // clear winner per sample (not a classifier), so only a sanity bound.
        let bound = if name.starts_with("misc") { 0.9 } else { 0.99 };
        assert!(a.ratio() >= bound, "{name}: agreement {a:?}");
    }
}

#[test]
fn int8_needs_calibration_of_whole_samples() {
    let c = case("mlp");
    let opts = ConvertOptions::new(ExportDtype::Int8);
    assert!(matches!(
        onnx::convert(&c.onnx, None, &opts),
        Err(OnnxError::Calibration(_))
    ));
    assert!(matches!(
        onnx::convert(&c.onnx, Some(&c.input[..17]), &opts),
        Err(OnnxError::Calibration(_))
    ));
}

#[test]
fn truncated_and_random_bytes_are_errors() {
    let c = case("cnn_torchscript");
    for cut in (0..c.onnx.len()).step_by(97) {
        let _ = onnx::check(&c.onnx[..cut]); // must not panic
    }
    assert!(onnx::check(&c.onnx[..c.onnx.len() / 2]).is_err());
    let mut seed = 0x9e3779b97f4a7c15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..300 {
        let len = (next() % 2000) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        assert!(onnx::check(&bytes).is_err());
    }
    // Byte flips of a real model: errors or successes, never panics.
    for _ in 0..300 {
        let mut b = c.onnx.clone();
        let i = (next() as usize) % b.len();
        b[i] ^= 1 << (next() % 8);
        if onnx::check(&b).is_ok() {
            let _ = onnx::convert(&b, None, &ConvertOptions::new(ExportDtype::F32));
        }
    }
    assert!(matches!(onnx::check(b""), Err(OnnxError::Malformed(_))));
}

/// Rewrites the model with `f` applied to its protobuf.
fn edited(bytes: &[u8], f: impl FnOnce(&mut onnx::proto::ModelProto)) -> Vec<u8> {
    use prost::Message;
    let mut m = onnx::proto::ModelProto::decode(bytes).unwrap();
    f(&mut m);
    m.encode_to_vec()
}

#[test]
fn missing_tensors_and_unsupported_ops_are_named() {
    let c = case("cnn_torchscript");
    let b = edited(&c.onnx, |m| {
        m.graph.as_mut().unwrap().node[2].input[0] = "nowhere".into();
    });
    let e = onnx::check(&b).unwrap_err();
    assert!(
        matches!(&e, OnnxError::MissingTensor { node: 2, name, .. } if name == "nowhere"),
        "{e}"
    );
    let b = edited(&c.onnx, |m| {
        m.graph.as_mut().unwrap().node[1].op_type = "RNN".into();
    });
    let e = onnx::check(&b).unwrap_err();
    assert!(
        matches!(&e, OnnxError::UnsupportedOp { node: 1, op, .. } if op == "RNN"),
        "{e}"
    );
    assert!(e.to_string().contains("node 1"), "{e}");
    // Max pooling padding that is neither SAME nor VALID.
    let b = edited(&c.onnx, |m| {
        let n = &mut m.graph.as_mut().unwrap().node[8];
        assert_eq!(n.op_type, "MaxPool");
        for a in &mut n.attribute {
            if a.name == "pads" {
                a.ints = vec![1, 1, 0, 0];
            }
        }
    });
    let e = onnx::check(&b).unwrap_err();
    assert!(e.to_string().contains("neither SAME nor VALID"), "{e}");
    // Weights with fewer bytes than their shape needs.
    let b = edited(&c.onnx, |m| {
        let t = &mut m.graph.as_mut().unwrap().initializer[0];
        t.raw_data.truncate(t.raw_data.len() / 2);
    });
    assert!(matches!(onnx::check(&b), Err(OnnxError::Malformed(_))));
}

/// The op codes of a converted model other than reshapes.
fn op_codes(c: &Converted) -> Vec<edgegrad::model::OpCode> {
    let file = AlignedModel::new(&c.bytes);
    let model = Model::from_bytes(file.as_bytes()).unwrap();
    (0..model.num_ops())
        .map(|i| model.op(i).unwrap().code)
        .filter(|&c| c != edgegrad::model::OpCode::Reshape)
        .collect()
}

#[test]
fn recurrent_last_step_reads_the_state_and_int8_runs_the_integer_lstm() {
    use edgegrad::model::OpCode::*;
    // `out[:, -1]` and `h_n[-1]`: the op and the head (reading the state
    // through a reshape); the unused output sequence is not copied. In
    // int8 the LSTM is the integer `lstm_s8`; the GRU (no int8 kernel) an
    // f32 island.
    for name in [
        "lstm_torchscript",
        "lstm_dynamo",
        "gru_torchscript",
        "gru_dynamo",
    ] {
        let c = case(name);
        let f = onnx::convert(&c.onnx, None, &ConvertOptions::new(ExportDtype::F32)).unwrap();
        let rnn = if name.starts_with("lstm") { Lstm } else { Gru };
        assert_eq!(op_codes(&f), [rnn, FullyConnected], "{name}");
        let q = onnx::convert(
            &c.onnx,
            Some(&c.input),
            &ConvertOptions::new(ExportDtype::Int8),
        )
        .unwrap();
        let want: &[_] = if rnn == Lstm {
            &[Lstm, FullyConnected]
        } else {
            &[Dequantize, Gru, Quantize, FullyConnected]
        };
        assert_eq!(op_codes(&q), want, "{name}");
    }
}

#[test]
fn unsupported_recurrent_variants_are_clear_errors() {
    let attr = |name: &str, s: &str| onnx::proto::AttributeProto {
        name: name.into(),
        r#type: 3,
        s: s.as_bytes().to_vec(),
        ..Default::default()
    };
    let c = case("gru_lbr0");
    let gru = |m: &mut onnx::proto::ModelProto| -> usize {
        let g = m.graph.as_ref().unwrap();
        g.node.iter().position(|n| n.op_type == "GRU").unwrap()
    };
    // Bidirectional: named with the node.
    let b = edited(&c.onnx, |m| {
        let i = gru(m);
        let n = &mut m.graph.as_mut().unwrap().node[i];
        n.name = "enc".into();
        n.attribute.push(attr("direction", "bidirectional"));
    });
    let e = onnx::check(&b).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("GRU 'enc'") && msg.contains("bidirectional"),
        "{msg}"
    );
    // Non-default activations.
    let b = edited(&c.onnx, |m| {
        let i = gru(m);
        let mut a = attr("activations", "");
        a.r#type = 8;
        a.strings = vec![b"Relu".to_vec(), b"Tanh".to_vec()];
        m.graph.as_mut().unwrap().node[i].attribute.push(a);
    });
    assert!(onnx::check(&b)
        .unwrap_err()
        .to_string()
        .contains("activations"));
    // A nonzero initial state.
    let b = edited(&c.onnx, |m| {
        let g = m.graph.as_mut().unwrap();
        let t = g.initializer.iter_mut().find(|t| t.name == "h0").unwrap();
        t.raw_data[0..4].copy_from_slice(&1f32.to_le_bytes());
    });
    assert!(onnx::check(&b)
        .unwrap_err()
        .to_string()
        .contains("initial_h"));
    // The cell state output of an LSTM used.
    let c = case("lstm_torchscript");
    let b = edited(&c.onnx, |m| {
        let g = m.graph.as_mut().unwrap();
        let i = g.node.iter().position(|n| n.op_type == "LSTM").unwrap();
        let yc = g.node[i].output[2].clone();
        let mut o = g.output[0].clone();
        o.name = yc;
        g.output.push(o);
    });
    assert!(onnx::check(&b).unwrap_err().to_string().contains("Y_c"));
    // A time step out of range (other steps import as a strided slice:
    // `lstm_steps_torchscript`).
    let b = edited(&c.onnx, |m| {
        let g = m.graph.as_mut().unwrap();
        let n = g
            .node
            .iter_mut()
            .find(|n| n.output[0] == "/Constant_output_0")
            .unwrap();
        n.attribute[0].t.as_mut().unwrap().raw_data = 9i64.to_le_bytes().to_vec();
    });
    let e = onnx::check(&b).unwrap_err().to_string();
    assert!(e.contains("index 9 out of range for dimension 6"), "{e}");
}

#[test]
fn device_layout_is_channels_last() {
    let c = case("cnn_torchscript");
    let conv = onnx::convert(&c.onnx, None, &ConvertOptions::new(ExportDtype::F32)).unwrap();
    assert_eq!(conv.input.onnx_shape, [1, 2, 8, 8]);
    assert_eq!(conv.input.device_shape, [1, 8, 8, 2]);
    let x: Vec<f32> = (0..128).map(|v| v as f32).collect();
    assert_eq!(conv.input.from_device(&conv.input.to_device(&x)), x);
    assert_eq!(conv.input.to_device(&x)[1], 64.0); // (h0, w0, c1)
}

#[test]
fn batch_norm_and_bias_fold_and_activations_fuse() {
    use edgegrad::model::OpCode;
    let c = case("legacy_opset9");
    let conv = onnx::convert(&c.onnx, None, &ConvertOptions::new(ExportDtype::F32)).unwrap();
    let file = AlignedModel::new(&conv.bytes);
    let model = Model::from_bytes(file.as_bytes()).unwrap();
    let codes: Vec<OpCode> = (0..model.num_ops())
        .map(|i| model.op(i).unwrap().code)
        .collect();
    // Conv+BN+Clip, Pad (PyTorch's symmetric padding of a strided conv),
    // depthwise+BN+Relu, pool, FC (MatMul+Add), softmax, and only reshapes
    // besides: no Mul/Add left over from BatchNorm or bias.
    assert!(
        !codes
            .iter()
            .any(|c| matches!(c, OpCode::Add | OpCode::Mul | OpCode::Relu | OpCode::Relu6)),
        "{codes:?}"
    );
    assert_eq!(
        codes.iter().filter(|&&c| c != OpCode::Reshape).count(),
        6,
        "{codes:?}"
    );
}

/// `data/digits8x8_{split}.csv`: pixels scaled to [0, 1] and labels.
fn digits(split: &str) -> (Vec<f32>, Vec<usize>) {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("data/digits8x8_{split}.csv"));
    let text = std::fs::read_to_string(path).unwrap();
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with('p'))
    {
        let v: Vec<f32> = line.split(',').map(|s| s.trim().parse().unwrap()).collect();
        x.extend(v[..64].iter().map(|p| p / 16.0));
        y.push(v[64] as usize);
    }
    (x, y)
}

/// Test accuracy of a converted classifier (f32 or int8) on samples `x`
/// (ONNX layout, back to back), each a new sequence for recurrent models.
fn accuracy(c: &Converted, x: &[f32], labels: &[usize]) -> f64 {
    let file = AlignedModel::new(&c.bytes);
    let model = Model::from_bytes(file.as_bytes()).unwrap();
    let ops = OpResolver::all();
    let mut arena = vec![0u8; model.arena_size() + 16];
    let mut it = Interpreter::new(&model, &ops, &mut arena).unwrap();
    let mut right = 0;
    for (s, &label) in labels.iter().enumerate() {
        let per = c.input.len();
        let sample = c.input.to_device(&x[s * per..(s + 1) * per]);
        it.reset_state().unwrap();
        let scores: Vec<f32> = match c.input_quant {
            Some((scale, zp)) => {
                let q = it.input_mut::<i8>(0).unwrap();
                for (d, v) in q.iter_mut().zip(&sample) {
                    *d = edgegrad::quant::quantize_value(*v, scale, zp);
                }
                it.reset_state().unwrap(); // each sample is its own sequence
                it.invoke().unwrap();
                it.output::<i8>(0)
                    .unwrap()
                    .iter()
                    .map(|&v| v as f32)
                    .collect()
            }
            None => {
                it.input_mut::<f32>(0).unwrap().copy_from_slice(&sample);
                it.reset_state().unwrap(); // each sample is its own sequence
                it.invoke().unwrap();
                it.output::<f32>(0).unwrap().to_vec()
            }
        };
        let best = (0..scores.len()).fold(0, |b, i| if scores[i] > scores[b] { i } else { b });
        right += usize::from(best == label);
    }
    right as f64 / labels.len() as f64
}

#[test]
fn digits_cnn_trained_in_pytorch_keeps_its_accuracy() {
    let onnx_bytes = std::fs::read(fixture("digits_cnn.onnx")).unwrap();
    let meta = std::fs::read_to_string(fixture("digits_cnn.json")).unwrap();
    let meta: serde_json::Value = serde_json::from_str(&meta).unwrap();
    let torch_acc = meta["torch_test_accuracy"].as_f64().unwrap();
    let (xtr, _) = digits("train");
    let (xte, yte) = digits("test");
    let f32m = onnx::convert(&onnx_bytes, None, &ConvertOptions::new(ExportDtype::F32)).unwrap();
    let i8m = onnx::convert(
        &onnx_bytes,
        Some(&xtr),
        &ConvertOptions::new(ExportDtype::Int8),
    )
    .unwrap();
    let (fa, ia) = (accuracy(&f32m, &xte, &yte), accuracy(&i8m, &xte, &yte));
    let a = i8m.agreement.unwrap();
    println!(
        "digits CNN, {} test samples: PyTorch float {:.2}%, edgegrad f32 {:.2}%, int8 {:.2}% \
         (int8/f32 top-1 agreement on {} held-out training samples {:.1}%)",
        yte.len(),
        100.0 * torch_acc,
        100.0 * fa,
        100.0 * ia,
        a.total,
        100.0 * a.ratio()
    );
    assert!(
        (fa - torch_acc).abs() < 1.5 / yte.len() as f64,
        "f32 {fa} vs torch {torch_acc}"
    );
    assert!(ia >= torch_acc - 0.015, "int8 {ia} vs torch {torch_acc}");
    assert!(a.ratio() >= 0.99, "{a:?}");
}

/// `data/basicmotions_{split}.csv` as `[N, 100 steps, 6 channels]` (the
/// file is channel-major) and labels.
fn basicmotions(split: &str) -> (Vec<f32>, Vec<usize>) {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("data/basicmotions_{split}.csv"));
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for line in std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let v: Vec<f32> = line.split(',').map(|s| s.trim().parse().unwrap()).collect();
        for t in 0..100 {
            for c in 0..6 {
                x.push(v[1 + c * 100 + t]);
            }
        }
        y.push(v[0] as usize);
    }
    (x, y)
}

#[test]
fn basicmotions_lstm_trained_in_pytorch_keeps_its_accuracy_in_int8() {
    use edgegrad::model::OpCode;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/onnx");
    let onnx_bytes = std::fs::read(dir.join("basicmotions_lstm.onnx")).unwrap();
    let meta = std::fs::read_to_string(dir.join("basicmotions_lstm.json")).unwrap();
    let meta: serde_json::Value = serde_json::from_str(&meta).unwrap();
    let torch_acc = meta["torch_test_accuracy"].as_f64().unwrap();
    let (xtr, _) = basicmotions("train");
    let (xte, yte) = basicmotions("test");
    let mut opts = ConvertOptions::new(ExportDtype::Int8);
    opts.holdout = 0.0;
    let i8m = onnx::convert(&onnx_bytes, Some(&xtr), &opts).unwrap();
    let f32m = onnx::convert(&onnx_bytes, None, &ConvertOptions::new(ExportDtype::F32)).unwrap();
    // The integer LSTM, not an f32 island.
    let file = AlignedModel::new(&i8m.bytes);
    let model = Model::from_bytes(file.as_bytes()).unwrap();
    let lstm = (0..model.num_ops())
        .map(|i| model.op(i).unwrap())
        .find(|op| op.code == OpCode::Lstm)
        .unwrap();
    let x = model.tensor(lstm.input(0).unwrap()).unwrap();
    assert_eq!(x.dtype, edgegrad::tensor::DType::I8);
    let (fa, ia) = (accuracy(&f32m, &xte, &yte), accuracy(&i8m, &xte, &yte));
    println!(
        "BasicMotions LSTM, {} test sequences: PyTorch f32 {:.1}%, edgegrad f32 {:.1}%, int8 {:.1}%",
        yte.len(),
        100.0 * torch_acc,
        100.0 * fa,
        100.0 * ia
    );
    assert!((fa - torch_acc).abs() < 0.5 / yte.len() as f64, "f32 {fa}");
    assert!(ia >= torch_acc - 1.5 / yte.len() as f64, "int8 {ia}");
}

#[test]
fn hostile_attributes_and_shapes_are_errors_not_panics() {
    let extremes = [0i64, -1, -7, 2, 3, 1 << 20, i64::MAX, i64::MIN];
    for name in ["cnn_torchscript", "misc_torchscript", "legacy_opset9"] {
        let c = case(name);
        let nodes = {
            use prost::Message;
            onnx::proto::ModelProto::decode(&c.onnx[..])
                .unwrap()
                .graph
                .unwrap()
                .node
                .len()
        };
        for node in 0..nodes {
            for (k, &v) in extremes.iter().enumerate() {
                let b = edited(&c.onnx, |m| {
                    for a in &mut m.graph.as_mut().unwrap().node[node].attribute {
                        a.i = v;
                        if let Some(x) = a.ints.get_mut(k % 4) {
                            *x = v;
                        }
                        a.f = v as f32;
                    }
                });
                for dtype in [ExportDtype::F32, ExportDtype::Int8] {
                    let _ = onnx::convert(
                        &b,
                        Some(&c.input[..c.input.len() / 10]),
                        &ConvertOptions::new(dtype),
                    );
                }
            }
            // Inputs swapped and shapes of initializers corrupted.
            let b = edited(&c.onnx, |m| {
                let g = m.graph.as_mut().unwrap();
                g.node[node].input.reverse();
                if let Some(t) = g.initializer.get_mut(node) {
                    t.dims.push(1);
                    let last = t.dims.len() - 1;
                    t.dims.swap(0, last);
                }
            });
            let _ = onnx::convert(&b, None, &ConvertOptions::new(ExportDtype::F32));
        }
    }
}

/// Found by `cargo xtask fuzz`: a Reshape whose target dimensions multiply
/// past `usize` once overflowed; now it is an error.
#[test]
fn reshape_target_whose_product_overflows_is_an_error() {
    let bytes = std::fs::read(fixture("fuzz_reshape_overflow.onnx.bin")).unwrap();
    assert!(onnx::convert(&bytes, None, &ConvertOptions::new(ExportDtype::F32)).is_err());
}
