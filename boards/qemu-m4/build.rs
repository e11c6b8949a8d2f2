//! Picks the model and inputs to embed, generates the op resolver for
//! exactly the kernels the model uses, checks the sizes against this
//! board; see `../common/build_support.rs`.

#[path = "../common/build_support.rs"]
mod build_support;
#[path = "../common/src/inputs.rs"]
#[allow(dead_code)]
mod inputs;

fn main() {
    build_support::main(&build_support::BoardSpec {
        name: "qemu-m4",
        machine: "mps2-an386, Cortex-M4F",
        flash: 4 << 20,
        ram: 4 << 20,
        stack_reserve: 16 << 10,
    });
}
