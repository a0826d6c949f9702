//! Reading a text file line by line with a length cap, naming bad lines.

use std::fmt;
use std::io::{self, BufRead};

/// The UTF-8 byte-order mark.
pub const BOM: &[u8] = b"\xef\xbb\xbf";

/// A refusal of one line (or of the whole file, for line 0).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct LineError {
    /// 1-based line number; 0 when the problem is the file as a whole.
    pub line: u64,
    /// The field at fault, as a JSON path, when one is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What is wrong.
    pub reason: String,
}

impl LineError {
    /// A refusal of `line` for `reason`.
    pub fn new(line: u64, field: Option<String>, reason: impl Into<String>) -> Self {
        LineError {
            line,
            field,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "line {}: ", self.line)?;
        }
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&self.reason)
    }
}

/// What one call of [`LineReader::next_line`] found.
#[derive(Debug)]
pub enum RawLine<'a> {
    /// A line of valid UTF-8 without its line ending.
    Text(u64, &'a str),
    /// A line that cannot be used; reading may go on with the next one.
    Bad(LineError),
}

/// Reads lines of at most `max_bytes` each, counting them and the bytes consumed.
/// An over-long line is skipped to its end without being held in memory.
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    line: u64,
    bytes: u64,
    max_bytes: usize,
}

impl<R: BufRead> LineReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R, max_bytes: usize) -> Self {
        LineReader {
            inner,
            buf: Vec::with_capacity(8192),
            line: 0,
            bytes: 0,
            max_bytes,
        }
    }

    /// Bytes consumed so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// The next line, `None` at the end of input.
    pub fn next_line(&mut self) -> io::Result<Option<RawLine<'_>>> {
        self.buf.clear();
        let mut too_long = false;
        let mut seen_any = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                break;
            }
            seen_any = true;
            let (take, done) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            if !too_long {
                if self.buf.len() + take > self.max_bytes + 2 {
                    too_long = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(&chunk[..take]);
                }
            }
            self.inner.consume(take);
            self.bytes += take as u64;
            if done {
                break;
            }
        }
        if !seen_any {
            return Ok(None);
        }
        self.line += 1;
        if too_long {
            return Ok(Some(RawLine::Bad(LineError::new(
                self.line,
                None,
                format!("line is longer than the limit of {} bytes", self.max_bytes),
            ))));
        }
        while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
            self.buf.pop();
        }
        // A UTF-8 byte-order mark (as some Windows tools write) is not part of line 1.
        let start = if self.line == 1 && self.buf.starts_with(BOM) {
            BOM.len()
        } else {
            0
        };
        match std::str::from_utf8(&self.buf[start..]) {
            Ok(text) => Ok(Some(RawLine::Text(self.line, text))),
            Err(e) => Ok(Some(RawLine::Bad(LineError::new(
                self.line,
                None,
                format!("invalid UTF-8 at byte {} of the line", e.valid_up_to() + 1),
            )))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize) -> Vec<Result<(u64, String), String>> {
        let mut r = LineReader::new(input, max);
        let mut out = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            out.push(match l {
                RawLine::Text(n, t) => Ok((n, t.to_owned())),
                RawLine::Bad(e) => Err(e.to_string()),
            });
        }
        out
    }

    #[test]
    fn splits_counts_and_caps() {
        let got = lines(b"ab\r\ncd\n\nefghijk\nlast", 4);
        assert_eq!(got[0], Ok((1, "ab".into())));
        assert_eq!(got[1], Ok((2, "cd".into())));
        assert_eq!(got[2], Ok((3, "".into())));
        assert!(
            got[3]
                .as_ref()
                .unwrap_err()
                .starts_with("line 4: line is longer")
        );
        assert_eq!(got[4], Ok((5, "last".into())));
        assert_eq!(got.len(), 5);
    }

    #[test]
    fn a_byte_order_mark_starts_no_line_but_the_first() {
        let got = lines(b"\xef\xbb\xbfab\n\xef\xbb\xbfcd\n", 100);
        assert_eq!(got[0], Ok((1, "ab".into())));
        assert_eq!(got[1], Ok((2, "\u{feff}cd".into())));
    }

    #[test]
    fn invalid_utf8_is_named() {
        let got = lines(b"ok\n\xff\xfe\n", 100);
        assert_eq!(
            got[1],
            Err("line 2: invalid UTF-8 at byte 1 of the line".into())
        );
    }
}
