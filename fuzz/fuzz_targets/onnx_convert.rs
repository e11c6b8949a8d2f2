//! Any bytes: the ONNX importer must return an error or a model, never
//! panic; a model it converts must validate and run through `invoke`.
//! Seed the corpus with `tests/fixtures/onnx/*.onnx`.
#![no_main]

use edgegrad::export::ExportDtype;
use edgegrad::import::onnx::{convert, ConvertOptions};
use edgegrad::model::{AlignedModel, Interpreter, Model, OpResolver};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(conv) = convert(data, None, &ConvertOptions::new(ExportDtype::F32)) else {
        return;
    };
    let file = AlignedModel::new(&conv.bytes);
    let model = Model::from_bytes(file.as_bytes()).expect("a converted model validates");
    if model.arena_size() > 1 << 20 {
        return;
    }
    let resolver = OpResolver::all();
    let mut arena = vec![0u8; model.arena_size() + 16];
    let mut interp = Interpreter::new(&model, &resolver, &mut arena).expect("arena sized by the plan");
    interp.invoke().expect("a converted model runs");
});
