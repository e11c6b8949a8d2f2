//! Exporting trained `Sequential` models: BatchNorm folding, activation
//! fusion, depthwise lowering, f32/f16/int8 agreement with the float
//! model, and clear errors for what the format cannot hold.
#![cfg(feature = "std")]

use edgegrad::autograd::{manual_seed, Tensor};
use edgegrad::export::{
    export_sequential, Calibration, ExportDtype, ExportError, ExportOptions, ExportedModel,
};
use edgegrad::model::{AlignedModel, Interpreter, Model, OpCode, OpResolver};
use edgegrad::nn::{
    AvgPool2d, BatchNorm2d, Conv2d, DepthwiseConv2d, Dropout, Flatten, GlobalAvgPool, Linear,
    Module, Padding, ReLU, ReLU6, Sequential, Sigmoid, ELU,
};
use edgegrad::quant::quantize_value;
use half::f16;

/// Runs an exported model on one sample, returning the outputs as f32.
fn run(m: &ExportedModel, x: &[f32]) -> Vec<f32> {
    let file = AlignedModel::new(&m.bytes);
    let model = Model::from_bytes(file.as_bytes()).unwrap();
    let resolver = OpResolver::all();
    let mut arena = vec![0u8; model.arena_size()];
    let mut it = Interpreter::new(&model, &resolver, &mut arena).unwrap();
    let info = it.input_info(0).unwrap();
    match info.dtype {
        edgegrad::tensor::DType::I8 => {
            let (s, zp) = info.scale_zp();
            for (d, &v) in it.input_mut::<i8>(0).unwrap().iter_mut().zip(x) {
                *d = quantize_value(v, s, zp);
            }
        }
        edgegrad::tensor::DType::F16 => {
            for (d, &v) in it.input_mut::<f16>(0).unwrap().iter_mut().zip(x) {
                *d = f16::from_f32(v);
            }
        }
        _ => it.input_mut::<f32>(0).unwrap().copy_from_slice(x),
    }
    it.invoke().unwrap();
    let out = it.output_info(0).unwrap();
    match out.dtype {
        edgegrad::tensor::DType::I8 => {
            let (s, zp) = out.scale_zp();
            it.output::<i8>(0)
                .unwrap()
                .iter()
                .map(|&q| s * (q as i32 - zp) as f32)
                .collect()
        }
        edgegrad::tensor::DType::F16 => it
            .output::<f16>(0)
            .unwrap()
            .iter()
            .map(|h| h.to_f32())
            .collect(),
        _ => it.output::<f32>(0).unwrap().to_vec(),
    }
}

fn ops(m: &ExportedModel) -> Vec<OpCode> {
    let file = AlignedModel::new(&m.bytes);
    let model = Model::from_bytes(file.as_bytes()).unwrap();
    (0..model.num_ops())
        .map(|i| model.op(i).unwrap().code)
        .collect()
}

/// A net with BatchNorm, ReLU6, depthwise conv, dropout and pooling, its
/// BatchNorm statistics made non-trivial by a few training-mode passes.
fn bn_net() -> Sequential {
    manual_seed(3);
    let mut m = Sequential::new()
        .add(Conv2d::new(2, 8, 3).padding(Padding::Same))
        .add(BatchNorm2d::new(8))
        .add(ReLU6)
        .add(
            DepthwiseConv2d::with_multiplier(8, 3, 2)
                .stride(2)
                .padding(Padding::Same),
        )
        .add(BatchNorm2d::new(16))
        .add(ReLU)
        .add(Dropout::new(0.3))
        .add(AvgPool2d::new(2))
        .add(Flatten)
        .add(Linear::new(2 * 2 * 16, 5));
    m.train();
    for _ in 0..5 {
        let _ = m.forward(&Tensor::randn(&[16, 8, 8, 2]));
    }
    m.eval();
    m
}

#[test]
fn batch_norm_folds_and_relu_fuses_without_changing_f32_results() {
    let mut net = bn_net();
    let m = export_sequential(
        &mut net,
        &[8, 8, 2],
        None,
        &ExportOptions::int8().dtype(ExportDtype::F32),
    )
    .unwrap();
    assert_eq!(
        ops(&m),
        [
            OpCode::Conv2d,
            OpCode::DepthwiseConv2d,
            OpCode::AvgPool2d,
            OpCode::Reshape,
            OpCode::FullyConnected
        ]
    );
    let x = Tensor::randn(&[1, 8, 8, 2]);
    let want = net.forward(&x).to_vec();
    let got = run(&m, &x.to_vec());
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() <= 1e-4 * (1.0 + w.abs()), "{g} vs {w}");
    }
}

#[test]
fn f16_and_int8_exports_track_the_float_model() {
    let mut net = bn_net();
    let calib = Tensor::randn(&[64, 8, 8, 2]).to_vec();
    let f16m = export_sequential(
        &mut net,
        &[8, 8, 2],
        None,
        &ExportOptions::int8().dtype(ExportDtype::F16),
    )
    .unwrap();
    for method in [
        Calibration::MinMax,
        Calibration::Percentile(0.01),
        Calibration::Mse,
    ] {
        let int8 = export_sequential(
            &mut net,
            &[8, 8, 2],
            Some(&calib),
            &ExportOptions::int8().calibration(method),
        )
        .unwrap();
        let mut worst8 = 0f32;
        let mut worst16 = 0f32;
        let mut scale = 0f32;
        for s in 0..8 {
            let x = &calib[s * 128..(s + 1) * 128];
            let want = net
                .forward(&Tensor::from_vec(x.to_vec(), &[1, 8, 8, 2]))
                .to_vec();
            scale = want.iter().fold(scale, |a, v| a.max(v.abs()));
            for ((a, b), w) in run(&int8, x).iter().zip(run(&f16m, x)).zip(&want) {
                worst8 = worst8.max((a - w).abs());
                worst16 = worst16.max((b - w).abs());
            }
        }
        assert!(worst16 <= 2e-2 * scale.max(1.0), "f16 error {worst16}");
        assert!(
            worst8 <= 0.15 * scale,
            "int8 ({method:?}) error {worst8} of {scale}"
        );
    }
}

#[test]
fn appended_softmax_makes_a_classifier() {
    manual_seed(1);
    let mut net = Sequential::new()
        .add(Flatten)
        .add(Linear::new(12, 4))
        .add(Sigmoid)
        .add(Linear::new(4, 3));
    let calib = Tensor::randn(&[32, 3, 4]).to_vec();
    let m = export_sequential(
        &mut net,
        &[3, 4],
        Some(&calib),
        &ExportOptions::int8().with_softmax(),
    )
    .unwrap();
    assert_eq!(ops(&m).last(), Some(&OpCode::Softmax));
    assert!(ops(&m).contains(&OpCode::Sigmoid));
    let p = run(&m, &calib[..12]);
    assert!((p.iter().sum::<f32>() - 1.0).abs() < 0.03, "{p:?}");
}

#[test]
fn unsupported_layer_is_named() {
    let mut net = Sequential::new()
        .add(Conv2d::new(1, 2, 3))
        .add(ELU(1.0))
        .add(GlobalAvgPool);
    let err = export_sequential(
        &mut net,
        &[5, 5, 1],
        None,
        &ExportOptions::int8().dtype(ExportDtype::F32),
    )
    .unwrap_err();
    match &err {
        ExportError::UnsupportedLayer { index, layer, .. } => {
            assert_eq!(*index, 1);
            assert!(layer.contains("ELU"), "{layer}");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("layer 1"), "{err}");
}

#[test]
fn batch_norm_after_an_activation_cannot_fold() {
    let mut net = Sequential::new()
        .add(Conv2d::new(1, 2, 3))
        .add(ReLU)
        .add(BatchNorm2d::new(2));
    let err = export_sequential(
        &mut net,
        &[5, 5, 1],
        None,
        &ExportOptions::int8().dtype(ExportDtype::F32),
    )
    .unwrap_err();
    assert!(
        matches!(err, ExportError::UnsupportedLayer { index: 2, .. }),
        "{err:?}"
    );
}

#[test]
fn calibration_data_of_the_wrong_shape_is_an_error() {
    let mut net = Sequential::new().add(Flatten).add(Linear::new(6, 2));
    let err =
        export_sequential(&mut net, &[2, 3], Some(&[0.0; 7]), &ExportOptions::int8()).unwrap_err();
    assert_eq!(
        err,
        ExportError::CalibrationShape {
            expected: 6,
            got: 7
        }
    );
    let err = export_sequential(&mut net, &[2, 3], None, &ExportOptions::int8()).unwrap_err();
    assert_eq!(err, ExportError::NoCalibrationData);
}
