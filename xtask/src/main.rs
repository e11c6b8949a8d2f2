//! `cargo xtask`: project automation in Rust, so nothing needs installing.
fn main() {
    eprintln!("xtask: not yet");
}
