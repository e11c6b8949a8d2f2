//! Buffered output to the host's stdout or stderr through semihosting,
//! without `core::fmt` (whose machinery would cost kilobytes of flash):
//! strings, decimal and hex numbers only.
//!
//! Every semihosting call traps into the debugger (here QEMU), so text is
//! gathered in a small buffer and written a line (or a buffer) at a time.

use cortex_m_semihosting::hio::{self, HostStream};

const LEN: usize = 256;

/// A host stream, line-buffered.
pub struct Out {
    stream: HostStream,
    buf: [u8; LEN],
    len: usize,
}

impl Out {
    /// Opens the host's stdout; `None` when semihosting is not available.
    pub fn new() -> Option<Self> {
        Some(Self::on(hio::hstdout().ok()?))
    }

    /// Opens the host's stderr; `None` when semihosting is not available.
    pub fn stderr() -> Option<Self> {
        Some(Self::on(hio::hstderr().ok()?))
    }

    fn on(stream: HostStream) -> Self {
        Out {
            stream,
            buf: [0; LEN],
            len: 0,
        }
    }

    /// Writes out what is buffered.
    pub fn flush(&mut self) {
        // Nothing useful can be done if the host refuses a write.
        let _ = self.stream.write_all(&self.buf[..self.len]);
        self.len = 0;
    }

    fn push(&mut self, b: u8) {
        if self.len == LEN {
            self.flush();
        }
        self.buf[self.len] = b;
        self.len += 1;
        if b == b'\n' {
            self.flush();
        }
    }

    /// Appends a string.
    pub fn str(&mut self, s: &str) -> &mut Self {
        s.bytes().for_each(|b| self.push(b));
        self
    }

    /// Appends `n` in decimal.
    pub fn dec(&mut self, n: u64) -> &mut Self {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        let mut v = n;
        loop {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        digits[i..].iter().for_each(|&b| self.push(b));
        self
    }

    /// Appends `bytes` as lower-case hex, two digits per byte.
    pub fn hex(&mut self, bytes: &[u8]) -> &mut Self {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        for &b in bytes {
            self.push(DIGITS[(b >> 4) as usize]);
            self.push(DIGITS[(b & 15) as usize]);
        }
        self
    }
}
