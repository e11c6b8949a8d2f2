//! Buffered output to the host's stdout through semihosting.
//!
//! Every semihosting call traps into the debugger (here QEMU), so text is
//! gathered in a small buffer and written a line (or a buffer) at a time.

use core::fmt;
use cortex_m_semihosting::hio::{self, HostStream};

const LEN: usize = 256;

/// The host's stdout, line-buffered.
pub struct Out {
    stream: HostStream,
    buf: [u8; LEN],
    len: usize,
}

impl Out {
    /// Opens the host's stdout; `None` when semihosting is not available.
    pub fn new() -> Option<Self> {
        Some(Out {
            stream: hio::hstdout().ok()?,
            buf: [0; LEN],
            len: 0,
        })
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

    /// Appends `bytes` as lower-case hex, two digits per byte.
    pub fn hex(&mut self, bytes: &[u8]) {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        for &b in bytes {
            self.push(DIGITS[(b >> 4) as usize]);
            self.push(DIGITS[(b & 15) as usize]);
        }
    }
}

impl fmt::Write for Out {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        s.bytes().for_each(|b| self.push(b));
        Ok(())
    }
}
