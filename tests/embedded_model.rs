//! A model embedded the way firmware embeds it: `include_model!`, the arena
//! sized by a `const`, the resolver checked against the model at compile
//! time. The committed file is regenerated with
//! `EDGEGRAD_BLESS=1 cargo test --features std --test embedded_model`.
#![cfg(feature = "std")]

use edgegrad::export::{ModelBuilder, Quant};
use edgegrad::model::{arena_size, required_ops, Arena, Interpreter, Model, OpResolver};
use edgegrad::quant::Activation;
use edgegrad::tensor::DType;

static MODEL: &[u8] = edgegrad::include_model!("fixtures/tiny_classifier.egm");
const ARENA_SIZE: usize = arena_size(MODEL);
const OPS: OpResolver = OpResolver::new()
    .add_fully_connected_s8()
    .add_relu_s8()
    .add_softmax_s8();
// The build fails here if the model needs a kernel OPS lacks.
const _: () = assert!(OPS.covers(required_ops(MODEL)));

/// The model the fixture holds: FC 8 → 6 (ReLU) → FC 6 → 3 → softmax.
fn tiny_classifier() -> Vec<u8> {
    let mut b = ModelBuilder::new();
    let x = b
        .input(DType::I8, &[1, 8], Some(Quant::per_tensor(0.02, -10)))
        .unwrap();
    let w1: Vec<i8> = (0..48).map(|i| (i * 37 % 255 - 127) as i8).collect();
    let w1 = b
        .constant(
            &[6, 8],
            &w1,
            Quant::PerChannel {
                scales: vec![0.01, 0.012, 0.008, 0.02, 0.015, 0.011],
                axis: 0,
            },
        )
        .unwrap();
    let b1 = b
        .constant(&[6], &[100i32, -200, 300, 0, 50, -50], Quant::None)
        .unwrap();
    let h = b
        .fully_connected(
            x,
            w1,
            Some(b1),
            Activation::None,
            Some(Quant::per_tensor(0.05, -3)),
        )
        .unwrap();
    let h = b.relu(h).unwrap();
    let w2: Vec<i8> = (0..18).map(|i| (i * 91 % 255 - 127) as i8).collect();
    let w2 = b
        .constant(&[3, 6], &w2, Quant::per_tensor(0.02, 0))
        .unwrap();
    let y = b
        .fully_connected(
            h,
            w2,
            None,
            Activation::None,
            Some(Quant::per_tensor(0.1, 0)),
        )
        .unwrap();
    let p = b.softmax(y, 1.0).unwrap();
    b.output(p);
    b.build().unwrap().bytes
}

#[test]
fn committed_model_is_what_the_builder_makes() {
    let fresh = tiny_classifier();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/tiny_classifier.egm"
    );
    if std::env::var_os("EDGEGRAD_BLESS").is_some() {
        std::fs::write(path, &fresh).unwrap();
    }
    assert!(
        MODEL == fresh.as_slice(),
        "tests/fixtures/tiny_classifier.egm is stale: run `EDGEGRAD_BLESS=1 cargo test --features std --test embedded_model`"
    );
}

#[test]
fn embedded_model_runs_in_a_const_sized_arena() {
    let model = Model::from_bytes(MODEL).unwrap();
    assert_eq!(ARENA_SIZE, model.arena_size());
    let mut arena = Arena::<ARENA_SIZE>::new();
    let mut interp = Interpreter::new(&model, &OPS, arena.as_mut_slice()).unwrap();
    interp
        .input_mut::<i8>(0)
        .unwrap()
        .copy_from_slice(&[10, -20, 30, -40, 50, -60, 70, -80]);
    interp.invoke().unwrap();
    let p = interp.output::<i8>(0).unwrap();
    // Softmax outputs (scale 1/256, zero point −128) sum to about 1.
    let total: i32 = p.iter().map(|&q| q as i32 + 128).sum();
    assert!((250..=262).contains(&total), "{p:?}");
}
