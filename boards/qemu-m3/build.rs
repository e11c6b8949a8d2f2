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
        name: "qemu-m3",
        machine: "lm3s6965evb, Cortex-M3",
        flash: 256 << 10,
        ram: 64 << 10,
        stack_reserve: 8 << 10,
    });
}
