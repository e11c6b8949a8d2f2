//! The model file: writer → parser round trip, and every kind of
//! corruption rejected with its own error, never a panic.
#![cfg(feature = "std")]

use edgegrad::export::{ConvOptions, ModelBuilder, PoolOptions, Quant};
use edgegrad::kernels::Padding;
use edgegrad::model::format::{self, hdr, reseal};
use edgegrad::model::{AlignedModel, Interpreter, Model, OpCode, OpResolver, Storage};
use edgegrad::quant::Activation;
use edgegrad::tensor::{DType, QuantParams};
use edgegrad::Error;

mod common;
use common::Lcg;

/// A small int8 CNN: conv (per-channel, ReLU) → max pool → reshape → FC → softmax.
fn cnn_bytes() -> Vec<u8> {
    let mut rng = Lcg(1);
    let mut b = ModelBuilder::new();
    let x = b
        .input(DType::I8, &[1, 6, 6, 2], Some(Quant::per_tensor(0.05, -3)))
        .unwrap();
    let w: Vec<i8> = (0..4 * 3 * 3 * 2).map(|_| rng.i8().max(-127)).collect();
    let w = b
        .constant(
            &[4, 3, 3, 2],
            &w,
            Quant::PerChannel {
                scales: vec![0.01, 0.02, 0.015, 0.03],
                axis: 0,
            },
        )
        .unwrap();
    let bias = b.constant(&[4], &[100i32, -50, 0, 7], Quant::None).unwrap();
    let opts = ConvOptions {
        padding: Padding::Same,
        activation: Activation::Relu,
        ..Default::default()
    };
    let c = b
        .conv2d(x, w, Some(bias), opts, Some(Quant::per_tensor(0.04, -128)))
        .unwrap();
    let p = b
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
    let f = b.reshape(p, &[1, 36]).unwrap();
    let fw: Vec<i8> = (0..3 * 36).map(|_| rng.i8().max(-127)).collect();
    let fw = b
        .constant(&[3, 36], &fw, Quant::per_tensor(0.02, 0))
        .unwrap();
    let logits = b
        .fully_connected(
            f,
            fw,
            None,
            Activation::None,
            Some(Quant::per_tensor(0.1, 5)),
        )
        .unwrap();
    let y = b.softmax(logits, 1.0).unwrap();
    b.output(y);
    b.build().unwrap().bytes
}

fn parse(bytes: &[u8]) -> Result<(), Error> {
    let file = AlignedModel::new(bytes);
    let model = Model::from_bytes(file.as_bytes())?;
    // An accepted model must run without panicking.
    let resolver = OpResolver::all();
    let mut arena = vec![0u8; model.arena_size() + 16];
    let mut interp = Interpreter::new(&model, &resolver, &mut arena)?;
    interp.invoke()
}

fn patched(bytes: &[u8], f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut v = bytes.to_vec();
    f(&mut v);
    reseal(&mut v);
    v
}

fn u32_at(b: &[u8], off: usize) -> usize {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap()) as usize
}

fn tensor_entry(b: &[u8], t: usize) -> usize {
    u32_at(b, hdr::TENSORS_OFF) + t * format::TENSOR_ENTRY_LEN
}

fn op_entry(b: &[u8], i: usize) -> usize {
    u32_at(b, hdr::OPS_OFF) + i * format::OP_ENTRY_LEN
}

#[test]
fn round_trip_preserves_tensors_ops_and_plan() {
    let bytes = cnn_bytes();
    let file = AlignedModel::new(&bytes);
    let model = Model::from_bytes(file.as_bytes()).unwrap();
    assert_eq!(model.num_ops(), 5);
    let codes: Vec<OpCode> = (0..5).map(|i| model.op(i).unwrap().code).collect();
    assert_eq!(
        codes,
        [
            OpCode::Conv2d,
            OpCode::MaxPool2d,
            OpCode::Reshape,
            OpCode::FullyConnected,
            OpCode::Softmax
        ]
    );
    let x = model.tensor(model.inputs()[0]).unwrap();
    assert_eq!(x.dtype, DType::I8);
    assert_eq!(x.shape.dims(), &[1, 6, 6, 2]);
    assert_eq!(
        x.quant,
        QuantParams::PerTensor {
            scale: 0.05,
            zero_point: -3
        }
    );
    let w = model.tensor(1).unwrap();
    assert!(matches!(w.storage, Storage::Constant { .. }));
    assert_eq!(
        w.quant,
        QuantParams::PerChannel {
            scales: &[0.01, 0.02, 0.015, 0.03],
            axis: 0
        }
    );
    let y = model.tensor(model.outputs()[0]).unwrap();
    assert_eq!(y.shape.dims(), &[1, 3]);
    assert_eq!(
        y.quant,
        QuantParams::PerTensor {
            scale: 1.0 / 256.0,
            zero_point: -128
        }
    );
    assert!(model.arena_size() >= model.arena_lower_bound());
    assert_eq!(model.as_bytes().len() % 16, 0);
    parse(&bytes).unwrap();
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = cnn_bytes();
    for len in 0..bytes.len() {
        let err = parse(&bytes[..len]).unwrap_err();
        assert!(matches!(err, Error::Truncated { .. }), "len {len}: {err:?}");
    }
}

#[test]
fn random_byte_flips_never_panic_and_fail_the_crc() {
    let bytes = cnn_bytes();
    let mut rng = Lcg(99);
    for _ in 0..3000 {
        let mut v = bytes.to_vec();
        let n = 1 + rng.next() as usize % 4;
        for _ in 0..n {
            let at = rng.next() as usize % v.len();
            v[at] ^= 1 << (rng.next() % 8);
        }
        if v == bytes {
            continue;
        }
        // With the stored CRC the file is rejected (the CRC field itself
        // may be what was hit, or the header before it).
        assert!(parse(&v).is_err());
    }
}

#[test]
fn resealed_random_corruptions_never_panic() {
    let bytes = cnn_bytes();
    let mut rng = Lcg(5);
    let mut accepted = 0;
    for case in 0..5000 {
        let mut v = bytes.to_vec();
        match case % 3 {
            // Random bytes anywhere after the CRC field.
            0 => {
                for _ in 0..1 + rng.next() % 3 {
                    let at = hdr::CRC + 4 + rng.next() as usize % (v.len() - hdr::CRC - 4);
                    v[at] = rng.next() as u8;
                }
            }
            // Corrupt a structural field: a tensor or op entry.
            1 => {
                let t = rng.next() as usize % 12;
                let at =
                    tensor_entry(&v, t.min(11)) + rng.next() as usize % format::TENSOR_ENTRY_LEN;
                if at < v.len() {
                    v[at] = rng.next() as u8;
                }
            }
            _ => {
                let i = rng.next() as usize % 5;
                let at = op_entry(&v, i) + rng.next() as usize % format::OP_ENTRY_LEN;
                v[at] = rng.next() as u8;
            }
        }
        reseal(&mut v);
        if parse(&v).is_ok() {
            accepted += 1;
        }
    }
    // Some corruptions (a weight byte, an unused bit) leave a valid model.
    assert!(accepted < 5000);
}

#[test]
fn bad_magic_version_and_header_length_have_their_own_errors() {
    let bytes = cnn_bytes();
    assert_eq!(
        parse(&patched(&bytes, |v| v[0] = b'X')),
        Err(Error::BadMagic)
    );
    assert_eq!(
        parse(&patched(&bytes, |v| v[hdr::VERSION] = 9)),
        Err(Error::UnsupportedVersion { found: 9 })
    );
    assert_eq!(
        parse(&patched(&bytes, |v| v[hdr::HEADER_LEN] = 63)),
        Err(Error::BadHeaderLength)
    );
}

#[test]
fn wrong_crc_is_reported_with_both_values() {
    let mut v = cnn_bytes();
    let last = v.len() - 1;
    v[last] ^= 0x40;
    assert!(
        matches!(parse(&v), Err(Error::CrcMismatch { stored, computed }) if stored != computed)
    );
}

#[test]
fn trailing_bytes_are_rejected() {
    let mut v = cnn_bytes();
    v.extend_from_slice(&[0; 16]);
    assert_eq!(parse(&v), Err(Error::TrailingBytes));
}

#[test]
fn misaligned_model_bytes_are_rejected() {
    let bytes = cnn_bytes();
    let buf = AlignedModel::new(&[&[0u8][..], &bytes].concat());
    assert_eq!(
        Model::from_bytes(&buf.as_bytes()[1..]).unwrap_err(),
        Error::MisalignedModel
    );
}

#[test]
fn unknown_op_code_is_named() {
    let bytes = cnn_bytes();
    let v = patched(&bytes, |v| {
        let e = op_entry(v, 2);
        v[e] = 200;
    });
    assert_eq!(parse(&v), Err(Error::UnknownOpCode { op: 2, code: 200 }));
}

#[test]
fn out_of_range_tensor_index_is_named() {
    let bytes = cnn_bytes();
    let v = patched(&bytes, |v| {
        // The first index of op 1 (max pool's input).
        let e = op_entry(v, 1);
        let start = u32_at(v, e + 4);
        let at = u32_at(v, hdr::INDEX_OFF) + 2 * start;
        v[at..at + 2].copy_from_slice(&500u16.to_le_bytes());
    });
    assert_eq!(
        parse(&v),
        Err(Error::TensorIndexOutOfRange { op: 1, index: 500 })
    );
}

#[test]
fn misaligned_constant_is_rejected() {
    let bytes = cnn_bytes();
    // The bias (tensor 2) is int32: move it by 2 bytes.
    let v = patched(&bytes, |v| {
        let e = tensor_entry(v, 2) + 24;
        let off = u32_at(v, e) as u32 + 2;
        v[e..e + 4].copy_from_slice(&off.to_le_bytes());
    });
    assert_eq!(parse(&v), Err(Error::MisalignedTensor { tensor: 2 }));
}

#[test]
fn constant_outside_the_pool_is_rejected() {
    let bytes = cnn_bytes();
    let v = patched(&bytes, |v| {
        let e = tensor_entry(v, 1) + 24;
        v[e..e + 4].copy_from_slice(&0x10_0000u32.to_le_bytes());
    });
    assert_eq!(parse(&v), Err(Error::ConstantOutOfBounds { tensor: 1 }));
}

#[test]
fn arena_offset_past_the_end_is_rejected() {
    let bytes = cnn_bytes();
    let file = AlignedModel::new(&bytes);
    let model = Model::from_bytes(file.as_bytes()).unwrap();
    let out = model.outputs()[0] as usize;
    let arena = model.arena_size() as u32;
    let v = patched(&bytes, |v| {
        let e = tensor_entry(v, out) + 24;
        v[e..e + 4].copy_from_slice(&arena.to_le_bytes());
    });
    assert_eq!(
        parse(&v),
        Err(Error::ArenaOffsetOutOfBounds { tensor: out as u16 })
    );
}

#[test]
fn overlapping_live_tensors_are_rejected() {
    let bytes = cnn_bytes();
    let file = AlignedModel::new(&bytes);
    let model = Model::from_bytes(file.as_bytes()).unwrap();
    // Put the model input over the conv output (op 0's output): both are
    // alive while the conv runs.
    let conv_out = model.op(0).unwrap().outputs[0] as usize;
    let input = model.inputs()[0] as usize;
    let v = patched(&bytes, |v| {
        let src = tensor_entry(v, conv_out) + 24;
        let off = u32_at(v, src) as u32;
        let e = tensor_entry(v, input) + 24;
        v[e..e + 4].copy_from_slice(&off.to_le_bytes());
    });
    let err = parse(&v).unwrap_err();
    assert!(matches!(err, Error::OverlappingTensors { .. }), "{err:?}");
}

#[test]
fn zero_dimension_is_a_bad_shape() {
    let bytes = cnn_bytes();
    let v = patched(&bytes, |v| {
        let e = tensor_entry(v, 0) + 8;
        v[e..e + 4].copy_from_slice(&0u32.to_le_bytes());
    });
    assert_eq!(parse(&v), Err(Error::BadShape { tensor: 0 }));
}

#[test]
fn bad_scale_is_a_quantization_error() {
    let bytes = cnn_bytes();
    let v = patched(&bytes, |v| {
        let e = tensor_entry(v, 0) + 32;
        v[e..e + 4].copy_from_slice(&f32::NAN.to_bits().to_le_bytes());
    });
    assert_eq!(parse(&v), Err(Error::BadQuantization { tensor: 0 }));
}

#[test]
fn wrong_option_words_are_rejected() {
    let bytes = cnn_bytes();
    // Conv stride 0.
    let v = patched(&bytes, |v| {
        let e = op_entry(v, 0);
        let at = u32_at(v, hdr::CONST_OFF) + u32_at(v, e + 8);
        v[at..at + 4].copy_from_slice(&0i32.to_le_bytes());
    });
    assert_eq!(parse(&v), Err(Error::BadOpOptions { op: 0 }));
}

#[test]
fn arena_too_small_says_how_much_is_needed() {
    let bytes = cnn_bytes();
    let file = AlignedModel::new(&bytes);
    let model = Model::from_bytes(file.as_bytes()).unwrap();
    let resolver = OpResolver::all();
    let mut arena = edgegrad::model::Arena::<16>::new();
    let err = Interpreter::new(&model, &resolver, arena.as_mut_slice()).unwrap_err();
    assert_eq!(
        err,
        Error::ArenaTooSmall {
            needed: model.arena_size(),
            got: 16
        }
    );
}

#[test]
fn unregistered_kernel_is_named() {
    let bytes = cnn_bytes();
    let file = AlignedModel::new(&bytes);
    let model = Model::from_bytes(file.as_bytes()).unwrap();
    let resolver = OpResolver::new()
        .add_conv2d_s8()
        .add_max_pool2d_s8()
        .add_reshape_s8();
    let mut arena = vec![0u8; model.arena_size()];
    let err = Interpreter::new(&model, &resolver, &mut arena).unwrap_err();
    assert_eq!(err, Error::OpNotRegistered { op: 3 });
    let needed = model.required_ops();
    assert!(!resolver.covers(needed));
    assert!(OpResolver::all().covers(needed));
    assert_eq!(edgegrad::model::required_ops(file.as_bytes()), needed);
}

/// Writes valid models as seeds for `cargo xtask fuzz` (only when
/// `EDGEGRAD_FUZZ_SEEDS` names a directory).
#[test]
fn write_fuzz_seeds() {
    if let Some(dir) = std::env::var_os("EDGEGRAD_FUZZ_SEEDS") {
        std::fs::write(std::path::Path::new(&dir).join("cnn.egm"), cnn_bytes()).unwrap();
    }
}
