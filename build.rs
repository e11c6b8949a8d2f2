//! Emits `cfg(edgegrad_dsp)` on targets whose cores have the Armv7E-M DSP
//! extension (SXTB16, SMLAD, …): `thumbv7em-*` (Cortex-M4, Cortex-M7).
//! Stable Rust sets no `target_feature = "dsp"` there, so the target name
//! decides. `EDGEGRAD_PORTABLE=1` turns the DSP paths off (to measure the
//! portable kernels on a Cortex-M4).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(edgegrad_dsp)");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=EDGEGRAD_PORTABLE");
    let target = std::env::var("TARGET").unwrap_or_default();
    let portable = std::env::var("EDGEGRAD_PORTABLE").is_ok_and(|v| v == "1");
    if target.starts_with("thumbv7em-") && !portable {
        println!("cargo::rustc-cfg=edgegrad_dsp");
    }
}
