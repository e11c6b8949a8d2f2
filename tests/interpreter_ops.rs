//! Every operator, in every element type, run through the model file and
//! the interpreter gives what its kernel gives when called directly (or
//! what a hand computation gives), including in-place and aliased buffers.
#![cfg(feature = "std")]

use edgegrad::export::{ConvOptions, ModelBuilder, PoolOptions, Quant, TensorId};
use edgegrad::kernels::{reference, FloatClamp, Padding, RequantS8, Window2d};
use edgegrad::model::{AlignedModel, Interpreter, Model, OpResolver};
use edgegrad::quant::{activation_range_s8, quantize_multiplier, Activation};
use edgegrad::tensor::{DType, Element, Shape, TensorMut, TensorView};
use half::f16;

mod common;
use common::Lcg;

/// Builds, validates and runs a one-input model on `input`, returning
/// output 0 and the built model's bytes.
fn run<I: Element, O: Element>(b: &ModelBuilder, inputs: &[&[I]]) -> (Vec<O>, Vec<u8>) {
    let built = b.build().expect("model builds and validates");
    let file = AlignedModel::new(&built.bytes);
    let model = Model::from_bytes(file.as_bytes()).unwrap();
    let resolver = OpResolver::all();
    let mut arena = vec![0u8; model.arena_size()];
    let mut interp = Interpreter::new(&model, &resolver, &mut arena).unwrap();
    for (i, x) in inputs.iter().enumerate() {
        interp.input_mut::<I>(i).unwrap().copy_from_slice(x);
    }
    interp.invoke().unwrap();
    (interp.output::<O>(0).unwrap().to_vec(), built.bytes)
}

fn shape(d: &[usize]) -> Shape {
    Shape::new(d).unwrap()
}

fn q(scale: f32, zp: i32) -> Quant {
    Quant::per_tensor(scale, zp)
}

#[test]
fn conv2d_s8_per_channel_matches_the_kernel() {
    let mut rng = Lcg(1);
    let (xq, wq) = (q(0.05, 3), [0.01f32, 0.02, 0.005]);
    let x = rng.i8s(2 * 7 * 5 * 2);
    let w = rng.i8s(3 * 3 * 3 * 2);
    let bias = [40i32, -300, 7];
    let mut b = ModelBuilder::new();
    let xt = b.input(DType::I8, &[2, 7, 5, 2], Some(xq)).unwrap();
    let wt = b
        .constant(
            &[3, 3, 3, 2],
            &w,
            Quant::PerChannel {
                scales: wq.to_vec(),
                axis: 0,
            },
        )
        .unwrap();
    let bt = b.constant(&[3], &bias, Quant::None).unwrap();
    let opts = ConvOptions {
        stride: (2, 1),
        dilation: (1, 2),
        padding: Padding::Same,
        activation: Activation::Relu6,
    };
    let y = b
        .conv2d(xt, wt, Some(bt), opts, Some(q(0.03, -20)))
        .unwrap();
    b.output(y);
    let (got, _) = run::<i8, i8>(&b, &[&x]);

    let (oh, pt) = Padding::Same.resolve(7, 3, 2, 1).unwrap();
    let (ow, pl) = Padding::Same.resolve(5, 3, 1, 2).unwrap();
    let (mults, shifts): (Vec<i32>, Vec<i32>) = wq
        .iter()
        .map(|&s| quantize_multiplier(0.05f64 * s as f64 / 0.03f64))
        .unzip();
    let (lo, hi) = activation_range_s8(Activation::Relu6, 0.03, -20);
    let rq = RequantS8 {
        input_zero_point: 3,
        output_zero_point: -20,
        multipliers: &mults,
        shifts: &shifts,
        act_min: lo,
        act_max: hi,
    };
    let window = Window2d {
        kernel_h: 3,
        kernel_w: 3,
        stride_h: 2,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 2,
        pad_top: pt,
        pad_left: pl,
    };
    let mut want = vec![0i8; 2 * oh * ow * 3];
    reference::conv2d_s8(
        TensorView::new(shape(&[2, 7, 5, 2]), &x).unwrap(),
        TensorView::new(shape(&[3, 3, 3, 2]), &w).unwrap(),
        Some(&bias),
        &mut TensorMut::new(shape(&[2, oh, ow, 3]), &mut want).unwrap(),
        &window,
        &rq,
    )
    .unwrap();
    assert_eq!(got, want);
}

#[test]
fn f32_and_f16_cnn_match_the_kernels() {
    let mut rng = Lcg(2);
    let x = rng.f32s(6 * 6 * 2);
    let w = rng.f32s(4 * 3 * 3 * 2);
    let dw = rng.f32s(3 * 3 * 8);
    let opts = ConvOptions {
        padding: Padding::Same,
        activation: Activation::Relu,
        ..Default::default()
    };
    let build = |dtype: DType, conv: (TensorId, TensorId), b: &mut ModelBuilder, x: TensorId| {
        let c = b.conv2d(x, conv.0, None, opts, None).unwrap();
        let d = b
            .depthwise_conv2d(c, conv.1, None, ConvOptions::default(), 2, None)
            .unwrap();
        let p = b
            .avg_pool2d(
                d,
                PoolOptions {
                    kernel: (2, 2),
                    stride: (2, 2),
                    padding: Padding::Valid,
                    activation: Activation::None,
                },
            )
            .unwrap();
        let g = b.global_avg_pool(p, false, None).unwrap();
        let s = b.softmax(g, 1.0).unwrap();
        let _ = dtype;
        b.output(s);
    };
    // f32
    let mut b = ModelBuilder::new();
    let xt = b.input(DType::F32, &[1, 6, 6, 2], None).unwrap();
    let wt = b.constant(&[4, 3, 3, 2], &w, Quant::None).unwrap();
    let dwt = b.constant(&[1, 3, 3, 8], &dw, Quant::None).unwrap();
    build(DType::F32, (wt, dwt), &mut b, xt);
    let (got32, _) = run::<f32, f32>(&b, &[&x]);

    let mut c = vec![0f32; 36 * 4];
    let (_, pt) = Padding::Same.resolve(6, 3, 1, 1).unwrap();
    let mut win = Window2d::new(3, 3, 1, 1);
    win.pad_top = pt;
    win.pad_left = pt;
    reference::conv2d_f32(
        TensorView::new(shape(&[1, 6, 6, 2]), &x).unwrap(),
        TensorView::new(shape(&[4, 3, 3, 2]), &w).unwrap(),
        None,
        &mut TensorMut::new(shape(&[1, 6, 6, 4]), &mut c).unwrap(),
        &win,
        FloatClamp::from_activation(Activation::Relu),
    )
    .unwrap();
    let mut d = vec![0f32; 16 * 8];
    reference::depthwise_conv2d_f32(
        TensorView::new(shape(&[1, 6, 6, 4]), &c).unwrap(),
        TensorView::new(shape(&[1, 3, 3, 8]), &dw).unwrap(),
        None,
        &mut TensorMut::new(shape(&[1, 4, 4, 8]), &mut d).unwrap(),
        &Window2d::new(3, 3, 1, 1),
        2,
        FloatClamp::NONE,
    )
    .unwrap();
    let mut p = vec![0f32; 4 * 8];
    reference::avg_pool2d_f32(
        TensorView::new(shape(&[1, 4, 4, 8]), &d).unwrap(),
        &mut TensorMut::new(shape(&[1, 2, 2, 8]), &mut p).unwrap(),
        &Window2d::new(2, 2, 2, 2),
        FloatClamp::NONE,
    )
    .unwrap();
    let mut g = vec![0f32; 8];
    reference::global_avg_pool_f32(
        TensorView::new(shape(&[1, 2, 2, 8]), &p).unwrap(),
        &mut TensorMut::new(shape(&[1, 8]), &mut g).unwrap(),
    )
    .unwrap();
    let mut s = vec![0f32; 8];
    reference::softmax_f32(
        TensorView::new(shape(&[1, 8]), &g).unwrap(),
        &mut TensorMut::new(shape(&[1, 8]), &mut s).unwrap(),
        1.0,
    )
    .unwrap();
    assert_eq!(got32, s);

    // f16: the same graph with half storage stays within half precision.
    let to16 = |v: &[f32]| v.iter().map(|&x| f16::from_f32(x)).collect::<Vec<_>>();
    let mut b = ModelBuilder::new();
    let xt = b.input(DType::F16, &[1, 6, 6, 2], None).unwrap();
    let wt = b.constant(&[4, 3, 3, 2], &to16(&w), Quant::None).unwrap();
    let dwt = b.constant(&[1, 3, 3, 8], &to16(&dw), Quant::None).unwrap();
    build(DType::F16, (wt, dwt), &mut b, xt);
    let (got16, _) = run::<f16, f16>(&b, &[&to16(&x)]);
    for (h, f) in got16.iter().zip(&got32) {
        assert!(
            (h.to_f32() - f).abs() <= 2e-3 + 1e-2 * f.abs(),
            "{h} vs {f}"
        );
    }
}

#[test]
fn int8_activations_run_in_place_after_a_producer() {
    let mut rng = Lcg(3);
    let x = rng.i8s(4 * 16);
    let w = rng.i8s(8 * 16);
    for act in ["relu", "relu6", "leaky", "sigmoid", "tanh"] {
        let mut b = ModelBuilder::new();
        let xt = b.input(DType::I8, &[4, 16], Some(q(0.1, 0))).unwrap();
        let wt = b.constant(&[8, 16], &w, q(0.01, 0)).unwrap();
        let h = b
            .fully_connected(xt, wt, None, Activation::None, Some(q(0.05, 4)))
            .unwrap();
        let y = match act {
            "relu" => b.relu(h),
            "relu6" => b.relu6(h),
            "leaky" => b.leaky_relu(h, 0.2),
            "sigmoid" => b.sigmoid(h),
            _ => b.tanh(h),
        }
        .unwrap();
        b.output(y);
        let (got, bytes) = run::<i8, i8>(&b, &[&x]);
        // The activation's output shares its input's bytes.
        let file = AlignedModel::new(&bytes);
        let model = Model::from_bytes(file.as_bytes()).unwrap();
        let op = model.op(1).unwrap();
        let (hi, yi) = (
            model.tensor(op.inputs[0]).unwrap(),
            model.tensor(op.outputs[0]).unwrap(),
        );
        assert_eq!(hi.arena_range(), yi.arena_range(), "{act} not in place");
        // Same as the kernel out of place.
        let (fc, _) = {
            let mut b2 = ModelBuilder::new();
            let xt = b2.input(DType::I8, &[4, 16], Some(q(0.1, 0))).unwrap();
            let wt = b2.constant(&[8, 16], &w, q(0.01, 0)).unwrap();
            let h = b2
                .fully_connected(xt, wt, None, Activation::None, Some(q(0.05, 4)))
                .unwrap();
            b2.output(h);
            run::<i8, i8>(&b2, &[&x])
        };
        let table = match act {
            "relu" => reference::relu_table_s8((0.05, 4), (0.05, 4), Activation::Relu),
            "relu6" => reference::relu_table_s8((0.05, 4), (0.05, 4), Activation::Relu6),
            "leaky" => reference::leaky_relu_table_s8(0.2, (0.05, 4), (0.05, 4)),
            "sigmoid" => reference::sigmoid_table_s8((0.05, 4), (1.0 / 256.0, -128)),
            _ => reference::tanh_table_s8((0.05, 4), (1.0 / 128.0, 0)),
        }
        .unwrap();
        let mut want = vec![0i8; fc.len()];
        reference::lut_s8(&fc, &mut want, &table).unwrap();
        assert_eq!(got, want, "{act}");
    }
}

#[test]
fn reshape_of_a_model_input_copies_and_of_an_intermediate_aliases() {
    let mut b = ModelBuilder::new();
    let xt = b.input(DType::F32, &[1, 2, 3], None).unwrap();
    let r = b.reshape(xt, &[6]).unwrap();
    let y = b.relu(r).unwrap();
    let z = b.reshape(y, &[3, 2]).unwrap();
    b.output(z);
    let x = [-1.0f32, 2.0, -3.0, 4.0, 5.0, -6.0];
    let (got, bytes) = run::<f32, f32>(&b, &[&x]);
    assert_eq!(got, [0.0, 2.0, 0.0, 4.0, 5.0, 0.0]);
    let file = AlignedModel::new(&bytes);
    let model = Model::from_bytes(file.as_bytes()).unwrap();
    let range = |t| model.tensor(t).unwrap().arena_range();
    assert_ne!(range(0), range(1), "the model input must stay intact");
    assert_eq!(range(1), range(2));
    assert_eq!(range(2), range(3));
    assert_eq!(model.arena_size(), 24 + 24);
}

#[test]
fn add_and_mul_broadcast_through_the_interpreter() {
    let mut rng = Lcg(4);
    let a = rng.i8s(2 * 3 * 4);
    let c = rng.i8s(4);
    let mut b = ModelBuilder::new();
    let at = b.input(DType::I8, &[2, 3, 4], Some(q(0.02, -5))).unwrap();
    let ct = b.constant(&[4], &c, q(0.03, 2)).unwrap();
    let s = b
        .add(at, ct, Activation::Relu, Some(q(0.05, -128)))
        .unwrap();
    let m = b.mul(s, ct, Activation::None, Some(q(0.01, 0))).unwrap();
    b.output(m);
    let (got, _) = run::<i8, i8>(&b, &[&a]);

    let sp = reference::AddS8::new((0.02, -5), (0.03, 2), (0.05, -128), Activation::Relu).unwrap();
    let mut sum = vec![0i8; 24];
    reference::add_s8(
        TensorView::new(shape(&[2, 3, 4]), &a).unwrap(),
        TensorView::new(shape(&[4]), &c).unwrap(),
        &mut TensorMut::new(shape(&[2, 3, 4]), &mut sum).unwrap(),
        &sp,
    )
    .unwrap();
    let mp = reference::MulS8::new((0.05, -128), (0.03, 2), (0.01, 0), Activation::None).unwrap();
    let mut want = vec![0i8; 24];
    reference::mul_s8(
        TensorView::new(shape(&[2, 3, 4]), &sum).unwrap(),
        TensorView::new(shape(&[4]), &c).unwrap(),
        &mut TensorMut::new(shape(&[2, 3, 4]), &mut want).unwrap(),
        &mp,
    )
    .unwrap();
    assert_eq!(got, want);
}

#[test]
fn quantize_pad_concat_max_pool_dequantize_pipeline() {
    let x: Vec<f32> = (0..2 * 2 * 3).map(|i| i as f32 * 0.25 - 1.0).collect();
    let mut b = ModelBuilder::new();
    let xt = b.input(DType::F32, &[1, 2, 2, 3], None).unwrap();
    let qx = b.quantize(xt, q(0.25, 0)).unwrap();
    let p = b.pad(qx, &[0, 1, 0, 0], &[0, 1, 2, 0]).unwrap();
    let c = b.concatenation(&[p, p], 3).unwrap();
    let m = b
        .max_pool2d(
            c,
            PoolOptions {
                kernel: (2, 2),
                stride: (2, 2),
                padding: Padding::Valid,
                activation: Activation::None,
            },
        )
        .unwrap();
    let r = b.quantize(m, q(0.5, 1)).unwrap();
    let y = b.dequantize(r, DType::F32).unwrap();
    b.output(y);
    let (got, _) = run::<f32, f32>(&b, &[&x]);
    // Padded to [1, 4, 4, 3] (value 0 = zero point), concatenated to 6
    // channels, pooled 2×2 → [1, 2, 2, 6]; requantized to scale 0.5.
    assert_eq!(got.len(), 24);
    let padded = |y: usize, xx: usize, ch: usize| -> f32 {
        if (1..3).contains(&y) && xx < 2 {
            x[((y - 1) * 2 + xx) * 3 + ch]
        } else {
            0.0
        }
    };
    for oy in 0..2 {
        for ox in 0..2 {
            for ch in 0..6 {
                let mut mx = f32::MIN;
                for ky in 0..2 {
                    for kx in 0..2 {
                        mx = mx.max(padded(oy * 2 + ky, ox * 2 + kx, ch % 3));
                    }
                }
                // mx is on the 0.25 grid; requantize to scale 0.5, zp 1.
                let want = ((mx / 0.5).abs() + 0.5).floor().copysign(mx) * 0.5;
                assert_eq!(got[(oy * 2 + ox) * 6 + ch], want, "at {oy},{ox},{ch}");
            }
        }
    }
}

#[test]
fn two_inputs_two_outputs_keep_their_order() {
    let mut b = ModelBuilder::new();
    let a = b.input(DType::F32, &[3], None).unwrap();
    let c = b.input(DType::F32, &[3], None).unwrap();
    let s = b.add(a, c, Activation::None, None).unwrap();
    let m = b.mul(a, c, Activation::None, None).unwrap();
    b.output(m);
    b.output(s);
    let built = b.build().unwrap();
    let file = AlignedModel::new(&built.bytes);
    let model = Model::from_bytes(file.as_bytes()).unwrap();
    let resolver = OpResolver::new().add_add_f32().add_mul_f32();
    let mut arena = vec![0u8; model.arena_size()];
    let mut interp = Interpreter::new(&model, &resolver, &mut arena).unwrap();
    interp
        .input_mut::<f32>(0)
        .unwrap()
        .copy_from_slice(&[1.0, 2.0, 3.0]);
    interp
        .input_mut::<f32>(1)
        .unwrap()
        .copy_from_slice(&[4.0, 5.0, 6.0]);
    interp.invoke().unwrap();
    assert_eq!(interp.output::<f32>(0).unwrap(), &[4.0, 10.0, 18.0]);
    assert_eq!(interp.output::<f32>(1).unwrap(), &[5.0, 7.0, 9.0]);
    assert!(interp.output::<i8>(0).is_err());
    assert!(interp.input_mut::<f32>(2).is_err());
}

#[test]
fn builder_rejects_what_the_format_cannot_hold() {
    let mut b = ModelBuilder::new();
    // int8 input without quantization.
    assert!(b.input(DType::I8, &[1, 4], None).is_err());
    // rank 5.
    assert!(b.input(DType::F32, &[1, 1, 1, 1, 1], None).is_err());
    let x = b.input(DType::F32, &[1, 4, 4, 2], None).unwrap();
    let w = b
        .constant(&[3, 3, 3, 5], &[0f32; 135], Quant::None)
        .unwrap();
    // Channel mismatch between input and filter.
    assert!(b.conv2d(x, w, None, ConvOptions::default(), None).is_err());
    // A model with no output.
    assert!(ModelBuilder::new().build().is_err());
}
