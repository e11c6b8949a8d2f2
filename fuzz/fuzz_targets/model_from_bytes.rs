//! Any bytes: `Model::from_bytes` must return, never panic; a model it
//! accepts must run through `invoke` without panicking.
#![no_main]

use edgegrad::model::{AlignedModel, Interpreter, Model, OpResolver};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // As given (almost always a CRC error), then with the CRC fixed so the
    // fuzzer reaches the structural checks.
    check(data);
    let mut sealed = data.to_vec();
    edgegrad::model::format::reseal(&mut sealed);
    check(&sealed);
});

fn check(data: &[u8]) {
    let file = AlignedModel::new(data);
    if let Ok(model) = Model::from_bytes(file.as_bytes()) {
        if model.arena_size() > 1 << 20 {
            return;
        }
        let resolver = OpResolver::all();
        let mut arena = vec![0u8; model.arena_size() + 16];
        if let Ok(mut interp) = Interpreter::new(&model, &resolver, &mut arena) {
            let _ = interp.invoke();
        }
    }
}
