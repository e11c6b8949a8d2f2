//! The host side of the host↔device bit-exactness test (`cargo xtask
//! qemu`): builds a few small models with seeded random weights, their
//! inputs, and the outputs the host interpreter computes for them.
//!
//! ```text
//! cargo run --release --features std --example qemu_fixtures -- OUTDIR [--defaults BOARDS_DIR]
//! ```
//!
//! For each model NAME it writes to OUTDIR:
//! - `NAME.egm`, the model file;
//! - `NAME.egi`, the inputs (format: `boards/common/src/inputs.rs`);
//! - `NAME.expected`, what the board firmware must print: a header line
//!   `# model=NAME outputs=<dtype>[,<dtype>…] samples=N correct=K|-`, then
//!   one `y <index> <hex of output 0> [<hex of output 1> …]` line per
//!   sample, the bytes of each output tensor as the interpreter leaves them;
//!
//! and `fixtures.txt`, the model names, one a line; and `too_big.egm`, a
//! model too large for the Cortex-M3 board's RAM (its build must fail).
//!
//! The last model, `default`, is the boards' default embedded model: the
//! digits centroid classifier with the first 32 test digits. With
//! `--defaults BOARDS_DIR` it is also copied to each board
//! (`BOARDS_DIR/<board>/model/default.{egm,egi}`), where `cargo xtask qemu`
//! checks that it is current.
//!
//! The models: an int8 MLP, an int8 CNN (conv, depthwise conv, add, max
//! and average pooling, reshape, fully connected, softmax), an f16 CNN
//! (conv, max pooling, fully connected, tanh, softmax), the optimized
//! int8 kernels' edge cases (`edges_s8`: odd sizes and channel counts,
//! stride 2, dilation 2, depthwise multiplier 2, batch 2) and the digits
//! nearest-centroid classifier of `examples/digits_centroid.rs` on the
//! whole test split, with labels; TFLite models converted by
//! `edgegrad::import::tflite` (committed fixtures of
//! `tests/fixtures/tflite/` with their inputs, named `tflite_*`, among them
//! the int8 LSTMs `tflite_lstm`, `tflite_lstm_dense` and `tflite_lstm_last`
//! (the last step taken by a strided slice), and the Keras digits CNN
//! `examples/tflite/digits_keras.tflite` on the whole test split, with
//! labels); the PyTorch digits CNN exported to ONNX and converted to int8
//! by `edgegrad::import::onnx` (`onnx_digits_pytorch`, whole test split,
//! with labels) and PyTorch recurrent models (an LSTM reading two time
//! steps, in f32 and int8; a GRU reading its final state, f32; the int8
//! LSTM trained on BasicMotions, whole test split, with labels); then
//! `default` (below).

#[path = "support/device_fixture.rs"]
mod device_fixture;
#[path = "support/digits_cnn.rs"]
mod digits_cnn;

#[path = "digits_centroid.rs"]
#[allow(dead_code)]
mod digits_centroid;

use edgegrad::export::{BuiltModel, ConvOptions, ModelBuilder, PoolOptions, Quant, TensorId};
use edgegrad::kernels::Padding;
use edgegrad::model::{AlignedModel, Model};
use edgegrad::quant::{quantize_value, Activation};
use edgegrad::tensor::DType;
use half::f16;
use std::error::Error;
use std::path::Path;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// SplitMix64: a tiny seeded generator, so every run writes the same files.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [lo, hi).
    fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    fn i8s(&mut self, n: usize, lo: i8, hi: i8) -> Vec<i8> {
        let span = (hi as i64 - lo as i64 + 1) as u64;
        (0..n)
            .map(|_| (lo as i64 + (self.next_u64() % span) as i64) as i8)
            .collect()
    }

    fn i32s(&mut self, n: usize, lo: i32, hi: i32) -> Vec<i32> {
        let span = (hi as i64 - lo as i64 + 1) as u64;
        (0..n)
            .map(|_| (lo as i64 + (self.next_u64() % span) as i64) as i32)
            .collect()
    }

    fn f16s(&mut self, n: usize, amp: f32) -> Vec<f16> {
        (0..n)
            .map(|_| f16::from_f32(self.uniform(-amp, amp)))
            .collect()
    }
}

/// One fixture: a model and its inputs.
struct Fixture {
    name: &'static str,
    model: BuiltModel,
    /// Samples back to back (every model input's bytes, in order).
    samples: Vec<u8>,
    labels: Option<Vec<u16>>,
}

/// Int8 weights `[OC, …]` with per-channel scales, and an int32 bias.
struct ConvWeights {
    filter: TensorId,
    bias: TensorId,
}

/// Random per-channel int8 weights of `shape` (channel axis `axis`) and a
/// small random bias of `bias_len` entries.
fn s8_weights(
    b: &mut ModelBuilder,
    rng: &mut Rng,
    shape: &[usize],
    axis: usize,
    bias_len: usize,
) -> Result<ConvWeights> {
    let n: usize = shape.iter().product();
    let scales: Vec<f32> = (0..shape[axis])
        .map(|_| rng.uniform(0.004, 0.012))
        .collect();
    let filter = b.constant(
        shape,
        &rng.i8s(n, -127, 127),
        Quant::PerChannel { scales, axis },
    )?;
    let bias = b.constant(&[bias_len], &rng.i32s(bias_len, -2000, 2000), Quant::None)?;
    Ok(ConvWeights { filter, bias })
}

/// An output quantization that keeps a layer's typical outputs in range:
/// sums of `fan_in` products of uniform int8 values have a standard
/// deviation of about √fan_in × 73² in accumulator units.
fn out_quant(in_scale: f32, fan_in: usize, zero_point: i32) -> Quant {
    let acc_std = (fan_in as f32).sqrt() * 73.0 * 73.0;
    Quant::per_tensor(in_scale * 0.008 * acc_std / 40.0, zero_point)
}

fn mlp_s8(rng: &mut Rng) -> Result<Fixture> {
    let mut b = ModelBuilder::new();
    let in_scale = 0.05;
    let x = b.input(DType::I8, &[1, 32], Some(Quant::per_tensor(in_scale, -3)))?;
    let mut h = x;
    let mut scale = in_scale;
    for (fan_in, width, act) in [
        (32, 24, Activation::Relu),
        (24, 16, Activation::Relu),
        (16, 10, Activation::None),
    ] {
        let w = s8_weights(&mut b, rng, &[width, fan_in], 0, width)?;
        let q = out_quant(scale, fan_in, -128 * (act == Activation::Relu) as i32);
        scale = qa_scale(&q);
        h = b.fully_connected(h, w.filter, Some(w.bias), act, Some(q))?;
    }
    // Logits of standard deviation ~40 steps: a beta that keeps the
    // probabilities away from one-hot, so they test something.
    let y = b.softmax(h, 1.5 / (40.0 * scale))?;
    b.output(y);
    b.output(h);
    Ok(Fixture {
        name: "mlp_s8",
        model: b.build()?,
        samples: rng
            .i8s(24 * 32, -128, 127)
            .iter()
            .map(|&v| v as u8)
            .collect(),
        labels: None,
    })
}

fn cnn_s8(rng: &mut Rng) -> Result<Fixture> {
    let mut b = ModelBuilder::new();
    let in_scale = 1.0 / 64.0;
    let x = b.input(
        DType::I8,
        &[1, 8, 8, 3],
        Some(Quant::per_tensor(in_scale, 0)),
    )?;
    let same = |activation| ConvOptions {
        padding: Padding::Same,
        activation,
        ..ConvOptions::default()
    };
    // conv 3×3, 3 → 8, ReLU.
    let w = s8_weights(&mut b, rng, &[8, 3, 3, 3], 0, 8)?;
    let qa = out_quant(in_scale, 27, -128);
    let a_scale = qa_scale(&qa);
    let a = b.conv2d(x, w.filter, Some(w.bias), same(Activation::Relu), Some(qa))?;
    // depthwise 3×3, ×1, ReLU6.
    let w = s8_weights(&mut b, rng, &[1, 3, 3, 8], 3, 8)?;
    let qd = out_quant(a_scale, 9, -128);
    let d = b.depthwise_conv2d(
        a,
        w.filter,
        Some(w.bias),
        same(Activation::Relu6),
        1,
        Some(qd),
    )?;
    // residual add, then max pool 2×2 and average pool 2×2.
    let s = b.add(
        a,
        d,
        Activation::None,
        Some(Quant::per_tensor(a_scale * 1.5, -128)),
    )?;
    let pool = |k| PoolOptions {
        kernel: (k, k),
        stride: (k, k),
        padding: Padding::Valid,
        activation: Activation::None,
    };
    let m = b.max_pool2d(s, pool(2))?;
    let p = b.avg_pool2d(m, pool(2))?;
    let f = b.reshape(p, &[1, 32])?;
    let w = s8_weights(&mut b, rng, &[6, 32], 0, 6)?;
    let ql = out_quant(a_scale * 1.5, 32, 0);
    let beta = 1.5 / (40.0 * qa_scale(&ql));
    let logits = b.fully_connected(f, w.filter, Some(w.bias), Activation::None, Some(ql))?;
    let y = b.softmax(logits, beta)?;
    b.output(y);
    b.output(logits);
    Ok(Fixture {
        name: "cnn_s8",
        model: b.build()?,
        samples: rng
            .i8s(16 * 192, -128, 127)
            .iter()
            .map(|&v| v as u8)
            .collect(),
        labels: None,
    })
}

/// The optimized kernels' edge cases, so that `cargo xtask qemu` proves
/// their DSP path (Cortex-M4) and portable path (Cortex-M3) bit-exact:
/// batch 2, an odd 7×9 input of 5 channels (not a multiple of 4) with a
/// non-zero zero point, a stride-2 3×3 convolution with uneven SAME
/// padding, a depthwise convolution with multiplier 2, a dilated depthwise
/// one without bias, a plain one of 14 channels, a per-tensor pointwise convolution, a pointwise
/// and a 3×3 convolution over 8 channels (4-byte patch words, 5 outputs), max and average
/// pooling windows that reach into the padding, a fully connected layer
/// of 7 outputs.
fn edges_s8(rng: &mut Rng) -> Result<Fixture> {
    let mut b = ModelBuilder::new();
    let in_scale = 1.0 / 50.0;
    let x = b.input(
        DType::I8,
        &[2, 7, 9, 5],
        Some(Quant::per_tensor(in_scale, 17)),
    )?;
    let opts = |stride, dilation, activation| ConvOptions {
        stride: (stride, stride),
        dilation: (dilation, dilation),
        padding: Padding::Same,
        activation,
    };
    // conv 3×3 stride 2, 5 → 7: [2, 4, 5, 7].
    let w = s8_weights(&mut b, rng, &[7, 3, 3, 5], 0, 7)?;
    let q1 = out_quant(in_scale, 45, -20);
    let s1 = qa_scale(&q1);
    let a = b.conv2d(
        x,
        w.filter,
        Some(w.bias),
        opts(2, 1, Activation::Relu),
        Some(q1),
    )?;
    // depthwise 3×3, multiplier 2: 7 → 14.
    let w = s8_weights(&mut b, rng, &[1, 3, 3, 14], 3, 14)?;
    let q2 = out_quant(s1 * 0.3, 9, 5);
    let s2 = qa_scale(&q2);
    let d = b.depthwise_conv2d(
        a,
        w.filter,
        Some(w.bias),
        opts(1, 1, Activation::None),
        2,
        Some(q2),
    )?;
    // depthwise 3×3, dilation 2, no bias.
    let w = s8_weights(&mut b, rng, &[1, 3, 3, 14], 3, 14)?;
    let q3 = out_quant(s2 * 0.3, 9, -7);
    let s3 = qa_scale(&q3);
    let e = b.depthwise_conv2d(
        d,
        w.filter,
        None,
        opts(1, 2, Activation::Relu6),
        1,
        Some(q3),
    )?;
    // depthwise 3×3, ×1, dilation 1 (14 channels: a tail of 2 after the
    // 4-channel words).
    let w = s8_weights(&mut b, rng, &[1, 3, 3, 14], 3, 14)?;
    let q5 = out_quant(s3 * 0.3, 9, 1);
    let s5 = qa_scale(&q5);
    let e = b.depthwise_conv2d(
        e,
        w.filter,
        Some(w.bias),
        opts(1, 1, Activation::None),
        1,
        Some(q5),
    )?;
    let s3 = s5;
    // pointwise 14 → 6, per-tensor weights.
    let f = b.constant(
        &[6, 1, 1, 14],
        &rng.i8s(6 * 14, -127, 127),
        Quant::per_tensor(0.008, 0),
    )?;
    let bias = b.constant(&[6], &rng.i32s(6, -2000, 2000), Quant::None)?;
    let q4 = out_quant(s3 * 0.3, 14, 3);
    let s4 = qa_scale(&q4);
    let p = b.conv2d(e, f, Some(bias), opts(1, 1, Activation::None), Some(q4))?;
    // max pool 3×3 stride 2 and average pool 2×2 stride 1, SAME.
    let pool = |k, stride| PoolOptions {
        kernel: (k, k),
        stride: (stride, stride),
        padding: Padding::Same,
        activation: Activation::None,
    };
    let m = b.max_pool2d(p, pool(3, 2))?; // [2, 2, 3, 6]
    let v = b.avg_pool2d(m, pool(2, 1))?; // [2, 2, 3, 6]
    let flat = b.reshape(v, &[2, 36])?;
    let w = s8_weights(&mut b, rng, &[7, 36], 0, 7)?;
    let y = b.fully_connected(
        flat,
        w.filter,
        Some(w.bias),
        Activation::None,
        Some(out_quant(s4 * 0.3, 36, 0)),
    )?;
    // pointwise 14 → 8, then conv 3×3 SAME 8 → 5: whole-word patches
    // with padding, an odd number of output channels.
    let w = s8_weights(&mut b, rng, &[8, 1, 1, 14], 0, 8)?;
    let q6 = out_quant(s3 * 0.3, 14, -128);
    let s6 = qa_scale(&q6);
    let g = b.conv2d(
        e,
        w.filter,
        Some(w.bias),
        opts(1, 1, Activation::Relu),
        Some(q6),
    )?;
    let w = s8_weights(&mut b, rng, &[5, 3, 3, 8], 0, 5)?;
    let h = b.conv2d(
        g,
        w.filter,
        Some(w.bias),
        opts(1, 1, Activation::None),
        Some(out_quant(s6 * 0.3, 72, 4)),
    )?;
    b.output(y);
    b.output(p);
    b.output(h);
    Ok(Fixture {
        name: "edges_s8",
        model: b.build()?,
        samples: rng
            .i8s(12 * 2 * 7 * 9 * 5, -128, 127)
            .iter()
            .map(|&v| v as u8)
            .collect(),
        labels: None,
    })
}

fn qa_scale(q: &Quant) -> f32 {
    match q {
        Quant::PerTensor { scale, .. } => *scale,
        _ => 1.0,
    }
}

fn cnn_f16(rng: &mut Rng) -> Result<Fixture> {
    let mut b = ModelBuilder::new();
    let x = b.input(DType::F16, &[1, 6, 6, 2], None)?;
    let f = b.constant(&[4, 3, 3, 2], &rng.f16s(72, 0.4), Quant::None)?;
    let bias = b.constant(&[4], &rng.f16s(4, 0.1), Quant::None)?;
    let opts = ConvOptions {
        activation: Activation::Relu,
        ..ConvOptions::default()
    };
    let c = b.conv2d(x, f, Some(bias), opts, None)?;
    let m = b.max_pool2d(
        c,
        PoolOptions {
            kernel: (2, 2),
            stride: (2, 2),
            padding: Padding::Valid,
            activation: Activation::None,
        },
    )?;
    let flat = b.reshape(m, &[1, 16])?;
    let w1 = b.constant(&[8, 16], &rng.f16s(128, 0.5), Quant::None)?;
    let b1 = b.constant(&[8], &rng.f16s(8, 0.1), Quant::None)?;
    let h = b.fully_connected(flat, w1, Some(b1), Activation::None, None)?;
    let h = b.tanh(h)?;
    let w2 = b.constant(&[5, 8], &rng.f16s(40, 1.0), Quant::None)?;
    let logits = b.fully_connected(h, w2, None, Activation::None, None)?;
    let y = b.softmax(logits, 1.0)?;
    b.output(y);
    let samples: Vec<u8> = rng
        .f16s(16 * 72, 1.0)
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    Ok(Fixture {
        name: "cnn_f16",
        model: b.build()?,
        samples,
        labels: None,
    })
}

/// The digits nearest-centroid classifier, on the first `n` test digits
/// (all of them for `None`).
fn digits(n: Option<usize>) -> Result<Fixture> {
    let root = env!("CARGO_MANIFEST_DIR");
    let (train_x, train_y) =
        digits_centroid::read_digits(&format!("{root}/data/digits8x8_train.csv"))?;
    let (test_x, test_y) =
        digits_centroid::read_digits(&format!("{root}/data/digits8x8_test.csv"))?;
    let c = digits_centroid::centroid_model(&train_x, &train_y)?;
    let n = n.unwrap_or(test_x.len()).min(test_x.len());
    let (scale, zp) = c.input_quant;
    let samples = test_x[..n]
        .iter()
        .flatten()
        .map(|&v| quantize_value(v, scale, zp) as u8)
        .collect();
    let labels = test_y[..n].iter().map(|&y| y as u16).collect();
    Ok(Fixture {
        name: "digits_centroid",
        model: c.built,
        samples,
        labels: Some(labels),
    })
}

/// The demo's digits CNN (`cargo xtask demo`), trained briefly (2 epochs:
/// seconds even in a debug build), exported int8 and f16 by the same
/// pipeline, on the first 48 test digits.
fn digits_cnn_fixtures() -> Result<[Fixture; 2]> {
    use edgegrad::export::{export_sequential, ExportDtype, ExportOptions};
    let train = digits_cnn::load("train")?;
    let test = digits_cnn::load("test")?;
    let mut model = digits_cnn::trained(&train, 2)?;
    let opts = ExportOptions::int8().with_softmax();
    let int8 = export_sequential(&mut model, &[8, 8, 1], Some(train.inputs()), &opts)?;
    let f16m = export_sequential(&mut model, &[8, 8, 1], None, &opts.dtype(ExportDtype::F16))?;
    let n = 48;
    let x = &test.inputs()[..n * 64];
    let labels: Vec<u16> = test.labels()[..n].iter().map(|&y| y as u16).collect();
    let (scale, zp) = int8.input_quant.ok_or("no input quantization")?;
    let s8: Vec<u8> = x
        .iter()
        .map(|&v| quantize_value(v, scale, zp) as u8)
        .collect();
    let h: Vec<u8> = x
        .iter()
        .flat_map(|&v| f16::from_f32(v).to_le_bytes())
        .collect();
    Ok([
        Fixture {
            name: "digits_cnn_s8",
            model: BuiltModel {
                bytes: int8.bytes,
                plan: int8.plan,
            },
            samples: s8,
            labels: Some(labels.clone()),
        },
        Fixture {
            name: "digits_cnn_f16",
            model: BuiltModel {
                bytes: f16m.bytes,
                plan: f16m.plan,
            },
            samples: h,
            labels: Some(labels),
        },
    ])
}

/// Converted TFLite models: a few committed import fixtures (their own
/// inputs) and the Keras digits CNN on the whole test split.
fn tflite_fixtures() -> Result<Vec<Fixture>> {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut out = Vec::new();
    for name in [
        "small_cnn",
        "relus",
        "add_two_inputs",
        "float_io",
        "mean_keepdims",
        "logistic",
        "depthwise_mult2",
        "lstm",
        "lstm_dense",
        "lstm_last",
        "strided_slice",
    ] {
        let dir = format!("{root}/tests/fixtures/tflite");
        let tfl = std::fs::read(format!("{dir}/{name}.tflite"))?;
        let model = edgegrad::import::tflite::convert(&tfl).map_err(|e| format!("{name}: {e}"))?;
        out.push(Fixture {
            name: Box::leak(format!("tflite_{name}").into_boxed_str()),
            model,
            samples: std::fs::read(format!("{dir}/{name}.in.bin"))?,
            labels: None,
        });
    }
    let tfl = std::fs::read(format!("{root}/examples/tflite/digits_keras.tflite"))?;
    let model = edgegrad::import::tflite::convert(&tfl)?;
    let file = AlignedModel::new(&model.bytes);
    let m = Model::from_bytes(file.as_bytes())?;
    let input = *m.inputs().first().ok_or("digits_keras: no input")?;
    let (scale, zp) = m.tensor(input)?.scale_zp();
    let (test_x, test_y) =
        digits_centroid::read_digits(&format!("{root}/data/digits8x8_test.csv"))?;
    out.push(Fixture {
        name: "tflite_digits_keras",
        model,
        samples: test_x
            .iter()
            .flatten()
            .map(|&v| quantize_value(v, scale, zp) as u8)
            .collect(),
        labels: Some(test_y.iter().map(|&y| y as u16).collect()),
    });
    Ok(out)
}

/// The PyTorch digits CNN (`tests/fixtures/onnx/digits_cnn.onnx`,
/// exported by `scripts/onnx_fixtures.py`), converted to int8 with the
/// training split as calibration data, on the whole test split.
fn onnx_digits() -> Result<Fixture> {
    let root = env!("CARGO_MANIFEST_DIR");
    let (train_x, _) = digits_centroid::read_digits(&format!("{root}/data/digits8x8_train.csv"))?;
    let (test_x, test_y) =
        digits_centroid::read_digits(&format!("{root}/data/digits8x8_test.csv"))?;
    onnx_int8_labeled(
        "onnx_digits_pytorch",
        &format!("{root}/tests/fixtures/onnx/digits_cnn.onnx"),
        train_x.iter().flatten().copied().collect(),
        test_x.iter().map(|x| x.to_vec()).collect(),
        test_y.iter().map(|&y| y as u16).collect(),
    )
}

/// A float ONNX classifier at `path` converted to int8 (calibrated on
/// `calibration`, ONNX layout) and run on `test` (one sample each, ONNX
/// layout) with `labels`.
fn onnx_int8_labeled(
    name: &'static str,
    path: &str,
    calibration: Vec<f32>,
    test: Vec<Vec<f32>>,
    labels: Vec<u16>,
) -> Result<Fixture> {
    use edgegrad::export::ExportDtype;
    use edgegrad::import::onnx::{self, ConvertOptions};
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let c = onnx::convert(
        &bytes,
        Some(&calibration),
        &ConvertOptions::new(ExportDtype::Int8),
    )?;
    let (scale, zp) = c
        .input_quant
        .ok_or_else(|| format!("{path}: no int8 input"))?;
    let mut samples = Vec::new();
    for x in &test {
        samples.extend(
            c.input
                .to_device(x)
                .iter()
                .map(|&v| quantize_value(v, scale, zp) as u8),
        );
    }
    Ok(Fixture {
        name,
        model: BuiltModel {
            bytes: c.bytes,
            plan: c.plan,
        },
        samples,
        labels: Some(labels),
    })
}

/// PyTorch recurrent models exported to ONNX and converted: the LSTM
/// reading two time steps (`lstm_steps_torchscript`, a strided slice of the
/// output sequence) in f32 and in int8 (the integer LSTM, calibrated on
/// its committed inputs), and the GRU reading `h_n` (`gru_torchscript`)
/// in f32, on the first 16 of their committed inputs.
fn onnx_recurrent() -> Result<Vec<Fixture>> {
    use edgegrad::export::ExportDtype;
    use edgegrad::import::onnx::{self, ConvertOptions};
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/onnx");
    let mut out = Vec::new();
    for (name, fixture, dtype) in [
        (
            "onnx_lstm_steps_f32",
            "lstm_steps_torchscript",
            ExportDtype::F32,
        ),
        (
            "onnx_lstm_steps_s8",
            "lstm_steps_torchscript",
            ExportDtype::Int8,
        ),
        ("onnx_gru_f32", "gru_torchscript", ExportDtype::F32),
    ] {
        let bytes = std::fs::read(format!("{dir}/{fixture}.onnx"))?;
        let npy = std::fs::read(format!("{dir}/{fixture}_input.npy"))?;
        let x: Vec<half::f16> = npyz::NpyFile::new(&npy[..])?.into_vec()?;
        let x: Vec<f32> = x.iter().map(|v| v.to_f32()).collect();
        let c = onnx::convert(&bytes, Some(&x), &ConvertOptions::new(dtype))?;
        let mut samples = Vec::new();
        for sample in x.chunks_exact(c.input.len()).take(16) {
            for v in c.input.to_device(sample) {
                match c.input_quant {
                    Some((scale, zp)) => samples.push(quantize_value(v, scale, zp) as u8),
                    None => samples.extend(v.to_le_bytes()),
                }
            }
        }
        out.push(Fixture {
            name,
            model: BuiltModel {
                bytes: c.bytes,
                plan: c.plan,
            },
            samples,
            labels: None,
        });
    }
    Ok(out)
}

/// `data/basicmotions_{split}.csv`: every sequence as `[100 steps, 6
/// channels]` (the file is channel-major), and the labels.
fn read_basicmotions(split: &str) -> Result<(Vec<Vec<f32>>, Vec<u16>)> {
    let path = format!(
        "{}/data/basicmotions_{split}.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let v: Vec<f32> = line
            .split(',')
            .map(|s| s.trim().parse::<f32>())
            .collect::<std::result::Result<_, _>>()?;
        if v.len() != 601 {
            return Err(format!("{path}: a row of {} values", v.len()).into());
        }
        let mut x = vec![0f32; 600];
        for c in 0..6 {
            for t in 0..100 {
                x[t * 6 + c] = v[1 + c * 100 + t];
            }
        }
        xs.push(x);
        ys.push(v[0] as u16);
    }
    Ok((xs, ys))
}

/// The PyTorch LSTM trained on BasicMotions (`scripts/onnx_fixtures.py
/// --basicmotions`: LSTM 6 → 32 over 100 steps, linear head on the last
/// step), converted to int8 with the training split as calibration data,
/// on the whole test split: the integer LSTM over a real sequence.
fn onnx_basicmotions() -> Result<Fixture> {
    let (train, _) = read_basicmotions("train")?;
    let (test, labels) = read_basicmotions("test")?;
    onnx_int8_labeled(
        "onnx_basicmotions_lstm",
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/onnx/basicmotions_lstm.onnx"
        ),
        train.into_iter().flatten().collect(),
        test,
        labels,
    )
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()).into())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: qemu_fixtures OUTDIR [--defaults BOARDS_DIR]";
    let out = Path::new(args.first().ok_or(usage)?);
    let defaults = match args.get(1).map(String::as_str) {
        Some("--defaults") => Some(Path::new(args.get(2).ok_or(usage)?)),
        None => None,
        Some(_) => return Err(usage.into()),
    };
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;

    let mut rng = Rng(0x00ED_6E6A_AD00_0001);
    let [cnn_digits_s8, cnn_digits_f16] = digits_cnn_fixtures()?;
    let mut fixtures = vec![
        mlp_s8(&mut rng)?,
        cnn_s8(&mut rng)?,
        edges_s8(&mut rng)?,
        cnn_f16(&mut rng)?,
        digits(None)?,
        cnn_digits_s8,
        cnn_digits_f16,
    ];
    fixtures.extend(tflite_fixtures()?);
    fixtures.push(onnx_digits()?);
    fixtures.extend(onnx_recurrent()?);
    fixtures.push(onnx_basicmotions()?);
    fixtures.push(Fixture {
        name: "default",
        ..digits(Some(32))?
    });
    let mut list = String::new();
    for fx in &fixtures {
        let file = AlignedModel::new(&fx.model.bytes);
        let model = Model::from_bytes(file.as_bytes())?;
        let inputs_bytes = device_fixture::inputs_file(&model, &fx.samples, fx.labels.as_deref())
            .map_err(|e| format!("{}: {e}", fx.name))?;
        let expected = device_fixture::expected(fx.name, &model, &inputs_bytes)?;
        write(&out.join(format!("{}.egm", fx.name)), &fx.model.bytes)?;
        write(&out.join(format!("{}.egi", fx.name)), &inputs_bytes)?;
        write(
            &out.join(format!("{}.expected", fx.name)),
            expected.as_bytes(),
        )?;
        list.push_str(fx.name);
        list.push('\n');
        println!(
            "{:16} {:6} B model, {:5} B arena, {:4} samples",
            fx.name,
            fx.model.bytes.len(),
            fx.model.plan.arena_size,
            device_fixture::inputs::Inputs::parse(&inputs_bytes).map_or(0, |i| i.count()),
        );
    }
    write(&out.join("fixtures.txt"), list.as_bytes())?;

    // A model whose arena (2 × 64 KiB) cannot fit the Cortex-M3 board's
    // 64 KiB of RAM: its firmware build must fail, saying by how much.
    let mut b = ModelBuilder::new();
    let x = b.input(
        DType::I8,
        &[1, 256, 256, 1],
        Some(Quant::per_tensor(0.1, 0)),
    )?;
    let y = b.relu(x)?;
    b.output(y);
    write(&out.join("too_big.egm"), &b.build()?.bytes)?;

    if let Some(boards) = defaults {
        for board in ["qemu-m4", "qemu-m3"] {
            let dir = boards.join(board).join("model");
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            for ext in ["egm", "egi"] {
                let from = out.join(format!("default.{ext}"));
                std::fs::copy(&from, dir.join(format!("default.{ext}")))
                    .map_err(|e| format!("{}: {e}", from.display()))?;
            }
        }
    }
    Ok(())
}
