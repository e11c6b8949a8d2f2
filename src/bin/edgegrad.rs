//! The `edgegrad` command-line tool.
fn main() {
    eprintln!("edgegrad: not yet");
}
