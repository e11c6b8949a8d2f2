//! The float LSTM and GRU ops through the model file and the interpreter:
//! equal to the host `nn::Lstm` / `nn::Gru` layers (PyTorch's equations)
//! on seeded random shapes and values, one time step per invoke equal to
//! the whole sequence byte for byte, f16 close to f32, and malformed
//! options, shapes and types rejected with typed errors.
#![cfg(feature = "std")]

use edgegrad::autograd::{manual_seed, Tensor};
use edgegrad::export::{ModelBuilder, Quant, TensorId};
use edgegrad::model::format::{self, hdr, reseal};
use edgegrad::model::{AlignedModel, Interpreter, Model, OpResolver};
use edgegrad::nn::{Gru, Lstm, Module};
use edgegrad::tensor::{DType, Element};
use edgegrad::Error;
use half::f16;

mod common;
use common::Lcg;

/// Which recurrent op.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Cell {
    Lstm,
    /// GRU with `linear_before_reset`.
    Gru(bool),
}

/// PyTorch-layout parameters: `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`.
struct Params {
    w: Vec<f32>,
    r: Vec<f32>,
    bi: Vec<f32>,
    bh: Vec<f32>,
}

fn params(m: &dyn Module) -> Params {
    let p: Vec<Vec<f32>> = m
        .named_parameters()
        .iter()
        .map(|(_, t)| t.to_vec())
        .collect();
    Params {
        w: p[0].clone(),
        r: p[1].clone(),
        bi: p[2].clone(),
        bh: p[3].clone(),
    }
}

/// PyTorch's GRU rows `r, z, n` → ONNX's `z, r, n`.
fn rzn_to_zrn(v: &[f32], h: usize) -> Vec<f32> {
    let cols = v.len() / (3 * h);
    let block = |k: usize| &v[k * h * cols..(k + 1) * h * cols];
    [block(1), block(0), block(2)].concat()
}

fn consts<T: Element + From16>(b: &mut ModelBuilder, shape: &[usize], v: &[f32]) -> TensorId {
    let data: Vec<T> = v.iter().map(|&x| T::from_f32(x)).collect();
    b.constant(shape, &data, Quant::None).unwrap()
}

/// f32 → the storage type.
trait From16: Copy {
    fn from_f32(x: f32) -> Self;
}
impl From16 for f32 {
    fn from_f32(x: f32) -> Self {
        x
    }
}
impl From16 for f16 {
    fn from_f32(x: f32) -> Self {
        f16::from_f32(x)
    }
}

/// A one-op model over `x` `[batch, time, in]` with PyTorch's parameters.
fn model<T: Element + From16>(cell: Cell, p: &Params, x_shape: [usize; 3], h: usize) -> Vec<u8> {
    let mut b = ModelBuilder::new();
    let x = b.input(T::DTYPE, &x_shape, None).unwrap();
    let f = x_shape[2];
    let y = match cell {
        Cell::Lstm => {
            let w = consts::<T>(&mut b, &[4 * h, f], &p.w);
            let r = consts::<T>(&mut b, &[4 * h, h], &p.r);
            let bias: Vec<f32> = p.bi.iter().zip(&p.bh).map(|(a, c)| a + c).collect();
            let bt = consts::<T>(&mut b, &[4 * h], &bias);
            b.lstm_float(x, w, r, bt, false).unwrap().output
        }
        Cell::Gru(lbr) => {
            let w = consts::<T>(&mut b, &[3 * h, f], &rzn_to_zrn(&p.w, h));
            let r = consts::<T>(&mut b, &[3 * h, h], &rzn_to_zrn(&p.r, h));
            let bias = [rzn_to_zrn(&p.bi, h), rzn_to_zrn(&p.bh, h)].concat();
            let bt = consts::<T>(&mut b, &[6 * h], &bias);
            b.gru(x, w, r, bt, false, lbr).unwrap().output
        }
    };
    b.output(y);
    b.build().expect("builds and validates").bytes
}

/// Runs `bytes` on each of `xs` in turn (state carried over), returning
/// the outputs of every invoke concatenated.
fn run<T: Element + From16>(bytes: &[u8], xs: &[&[f32]], reset_first: bool) -> Vec<T> {
    let file = AlignedModel::new(bytes);
    let m = Model::from_bytes(file.as_bytes()).unwrap();
    let ops = OpResolver::all();
    let mut arena = vec![0u8; m.arena_size()];
    let mut it = Interpreter::new(&m, &ops, &mut arena).unwrap();
    if reset_first {
        it.reset_state().unwrap();
    }
    let mut out = Vec::new();
    for x in xs {
        for (d, &v) in it.input_mut::<T>(0).unwrap().iter_mut().zip(x.iter()) {
            *d = T::from_f32(v);
        }
        it.invoke().unwrap();
        out.extend_from_slice(it.output::<T>(0).unwrap());
    }
    out
}

fn layer(cell: Cell, f: usize, h: usize) -> Box<dyn Module> {
    match cell {
        Cell::Lstm => Box::new(Lstm::new(f, h)),
        Cell::Gru(_) => Box::new(Gru::new(f, h)),
    }
}

#[test]
fn float_lstm_and_gru_match_the_host_layers() {
    let mut rng = Lcg(17);
    let mut checked = 0;
    for case in 0..24u64 {
        let cell = if case % 2 == 0 {
            Cell::Lstm
        } else {
            Cell::Gru(true)
        };
        let (n, t) = (1 + rng.next() as usize % 3, 1 + rng.next() as usize % 6);
        let (f, h) = (1 + rng.next() as usize % 6, 1 + rng.next() as usize % 9);
        manual_seed(case);
        let m = layer(cell, f, h);
        let x = rng
            .f32s(n * t * f)
            .iter()
            .map(|v| 2.0 * v)
            .collect::<Vec<_>>();
        let want = m.forward(&Tensor::from_vec(x.clone(), &[n, t, f])).to_vec();
        let bytes = model::<f32>(cell, &params(m.as_ref()), [n, t, f], h);
        let got = run::<f32>(&bytes, &[&x], false);
        assert_eq!(got.len(), want.len());
        let err = got
            .iter()
            .zip(&want)
            .fold(0f32, |a, (g, w)| a.max((g - w).abs()));
        assert!(err <= 1e-5, "{cell:?} n {n} t {t} f {f} h {h}: error {err}");
        checked += 1;
    }
    assert_eq!(checked, 24);
}

#[test]
fn one_step_per_invoke_streams_the_whole_sequence_bytes() {
    let (n, t, f, h) = (2, 5, 3, 4);
    let mut rng = Lcg(5);
    for cell in [Cell::Lstm, Cell::Gru(true), Cell::Gru(false)] {
        manual_seed(3);
        let m = layer(cell, f, h);
        let p = params(m.as_ref());
        // One sequence per model (batch 1), all steps vs one step per invoke.
        let x = rng.f32s(t * f);
        let whole = run::<f32>(&model::<f32>(cell, &p, [1, t, f], h), &[&x], false);
        let step_model = model::<f32>(cell, &p, [1, 1, f], h);
        let steps: Vec<&[f32]> = x.chunks(f).collect();
        let streamed = run::<f32>(&step_model, &steps, false);
        assert_eq!(
            whole.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            streamed.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            "{cell:?}"
        );
        // reset_state starts the sequence again.
        let file = AlignedModel::new(&step_model);
        let loaded = Model::from_bytes(file.as_bytes()).unwrap();
        let ops = OpResolver::all();
        let mut arena = vec![0u8; loaded.arena_size()];
        let mut it = Interpreter::new(&loaded, &ops, &mut arena).unwrap();
        for _ in 0..2 {
            for (k, s) in steps.iter().enumerate() {
                it.input_mut::<f32>(0).unwrap().copy_from_slice(s);
                it.invoke().unwrap();
                assert_eq!(it.output::<f32>(0).unwrap(), &whole[k * h..(k + 1) * h]);
            }
            it.reset_state().unwrap();
        }
        // Batch rows are independent sequences.
        let x2 = rng.f32s(n * t * f);
        let both = run::<f32>(&model::<f32>(cell, &p, [n, t, f], h), &[&x2], true);
        for b in 0..n {
            let one = run::<f32>(
                &model::<f32>(cell, &p, [1, t, f], h),
                &[&x2[b * t * f..(b + 1) * t * f]],
                false,
            );
            assert_eq!(
                one[..],
                both[b * t * h..(b + 1) * t * h],
                "{cell:?} row {b}"
            );
        }
    }
}

#[test]
fn f16_stays_close_to_f32() {
    let (t, f, h) = (6, 4, 8);
    let mut rng = Lcg(9);
    for cell in [Cell::Lstm, Cell::Gru(true), Cell::Gru(false)] {
        manual_seed(11);
        let m = layer(cell, f, h);
        let p = params(m.as_ref());
        let x = rng.f32s(t * f);
        let a = run::<f32>(&model::<f32>(cell, &p, [1, t, f], h), &[&x], false);
        let b = run::<f16>(&model::<f16>(cell, &p, [1, t, f], h), &[&x], false);
        let err = a
            .iter()
            .zip(&b)
            .fold(0f32, |e, (x, y)| e.max((x - y.to_f32()).abs()));
        assert!(err < 1e-2, "{cell:?}: f16 differs from f32 by {err}");
    }
}

fn u32_at(b: &[u8], off: usize) -> usize {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap()) as usize
}

/// Parses `bytes` after `f` edited them (CRC resealed).
fn parse_patched(bytes: &[u8], f: impl FnOnce(&mut Vec<u8>)) -> Result<(), Error> {
    let mut v = bytes.to_vec();
    f(&mut v);
    reseal(&mut v);
    let file = AlignedModel::new(&v);
    Model::from_bytes(file.as_bytes()).map(|_| ())
}

/// The byte offset of option word `k` of op 0, and of tensor `t`'s entry.
fn option_word(b: &[u8], k: usize) -> usize {
    let op = u32_at(b, hdr::OPS_OFF);
    u32_at(b, hdr::CONST_OFF) + u32_at(b, op + 8) + 4 * k
}

fn tensor_entry(b: &[u8], t: usize) -> usize {
    u32_at(b, hdr::TENSORS_OFF) + t * format::TENSOR_ENTRY_LEN
}

#[test]
fn malformed_recurrent_ops_are_typed_errors() {
    let (t, f, h) = (2, 3, 4);
    manual_seed(1);
    let lstm = params(&Lstm::new(f, h));
    let gru = params(&Gru::new(f, h));
    let lstm_bytes = model::<f32>(Cell::Lstm, &lstm, [1, t, f], h);
    let gru_bytes = model::<f32>(Cell::Gru(false), &gru, [1, t, f], h);
    let op_err = |e: Result<(), Error>| -> Error { e.expect_err("must be rejected") };
    for bytes in [&lstm_bytes, &gru_bytes] {
        assert!(parse_patched(bytes, |_| {}).is_ok());
        // time_major 2.
        let e = op_err(parse_patched(bytes, |v| {
            let o = option_word(v, 0);
            v[o] = 2;
        }));
        assert_eq!(e, Error::BadOpOptions { op: 0 });
        // One option word too few.
        let e = op_err(parse_patched(bytes, |v| {
            let op = u32_at(v, hdr::OPS_OFF);
            let n = u32_at(v, op + 12) as u32 - 1;
            v[op + 12..op + 16].copy_from_slice(&n.to_le_bytes());
        }));
        assert!(matches!(e, Error::BadOpOptions { op: 0 }), "{e:?}");
        // The hidden state (tensor after x and the three constants) no
        // longer persistent.
        let e = op_err(parse_patched(bytes, |v| {
            let te = tensor_entry(v, 4);
            assert_eq!(v[te + 5], format::FLAG_PERSISTENT);
            v[te + 5] = 0;
        }));
        assert!(
            matches!(e, Error::BadOpDTypes { .. } | Error::BadDataflow { .. }),
            "{e:?}"
        );
    }
    // GRU: linear_before_reset 3; 1 while the scratch slot is present.
    let e = op_err(parse_patched(&gru_bytes, |v| {
        let o = option_word(v, 1);
        v[o] = 3;
    }));
    assert_eq!(e, Error::BadOpOptions { op: 0 });
    let e = op_err(parse_patched(&gru_bytes, |v| {
        let o = option_word(v, 1);
        v[o] = 1;
    }));
    assert_eq!(e, Error::WrongArity { op: 0 });

    // Through the builder: weights of the wrong shape or type.
    let build = |w_rows: usize, bias_len: usize, w16: bool, lstm_op: bool| {
        let mut b = ModelBuilder::new();
        let x = b.input(DType::F32, &[1, t, f], None).unwrap();
        let gates = if lstm_op { 4 } else { 3 };
        let w = if w16 {
            b.constant(&[w_rows, f], &vec![f16::ZERO; w_rows * f], Quant::None)
        } else {
            b.constant(&[w_rows, f], &vec![0.1f32; w_rows * f], Quant::None)
        }
        .unwrap();
        let r = b
            .constant(&[gates * h, h], &vec![0.1f32; gates * h * h], Quant::None)
            .unwrap();
        let bias = b
            .constant(&[bias_len], &vec![0f32; bias_len], Quant::None)
            .unwrap();
        let y = if lstm_op {
            b.lstm_float(x, w, r, bias, false)
        } else {
            b.gru(x, w, r, bias, false, true)
        }?;
        b.output(y.output);
        b.build().map(|_| ())
    };
    assert!(build(4 * h, 4 * h, false, true).is_ok());
    assert!(build(3 * h, 6 * h, false, false).is_ok());
    assert_eq!(
        build(4 * h, 4 * h + 1, false, true),
        Err(Error::BadOpShapes { op: 0 })
    );
    assert_eq!(
        build(3 * h, 3 * h, false, false),
        Err(Error::BadOpShapes { op: 0 })
    );
    // 4·h rows for a GRU: hidden 4·h/3 is not h (r does not match).
    assert!(matches!(
        build(4 * h + 2, 6 * h, false, false),
        Err(Error::ShapeMismatch | Error::BadOpShapes { .. })
    ));
    assert_eq!(
        build(4 * h, 4 * h, true, true),
        Err(Error::BadOpDTypes { op: 0 })
    );
    // An int8 input is not a float recurrent op's.
    let mut b = ModelBuilder::new();
    let x = b
        .input(DType::I8, &[1, t, f], Some(Quant::per_tensor(0.1, 0)))
        .unwrap();
    let w = b
        .constant(&[3 * h, f], &vec![0f32; 3 * h * f], Quant::None)
        .unwrap();
    assert_eq!(
        b.gru(x, w, w, w, false, true).map(|r| r.output),
        Err(Error::DTypeMismatch)
    );
}
