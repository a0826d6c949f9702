//! Compressed text inputs: a gzip or zstd stream is told by its magic bytes (never by
//! the file name) and decompressed as it is read, so every text format (native JSONL,
//! CSV, HH-RLHF, Label Studio, …) reads `.gz` and `.zst` files in constant memory. A
//! corrupt or truncated stream fails the read with an error that says so (the caller
//! adds the file's name).

use std::fmt;
use std::io::{self, BufRead, BufReader, Cursor, Read};

/// A compression of a text input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// gzip (RFC 1952), one member or several concatenated.
    Gzip,
    /// Zstandard, one frame or several.
    Zstd,
}

impl Codec {
    /// The codec whose magic bytes `head` starts with.
    pub fn sniff(head: &[u8]) -> Option<Codec> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Codec::Gzip)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Codec::Zstd)
        } else {
            None
        }
    }

    /// `gzip` or `zstd`.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Gzip => "gzip",
            Codec::Zstd => "zstd",
        }
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Looks at the first bytes of `input`; when they open a gzip or zstd stream, returns
/// the decompressed stream and the codec, else the input as it was.
pub fn open(
    mut input: Box<dyn BufRead + Send>,
) -> io::Result<(Box<dyn BufRead + Send>, Option<Codec>)> {
    let mut head = [0u8; 4];
    let mut n = 0;
    while n < head.len() {
        match input.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let whole: Box<dyn BufRead + Send> = Box::new(Cursor::new(head[..n].to_vec()).chain(input));
    let Some(codec) = Codec::sniff(&head[..n]) else {
        return Ok((whole, None));
    };
    let decoder: Box<dyn Read + Send> = match codec {
        Codec::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(whole)),
        Codec::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(whole)?),
    };
    Ok((
        Box::new(BufReader::with_capacity(
            1 << 20,
            Decompressed {
                inner: decoder,
                codec,
                out: 0,
            },
        )),
        Some(codec),
    ))
}

/// A decoder whose errors say that the compressed data is at fault, and where.
struct Decompressed {
    inner: Box<dyn Read + Send>,
    codec: Codec,
    out: u64,
}

impl Read for Decompressed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.out += n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "the {} data is corrupt or truncated after {} decompressed bytes ({e}); \
                     nothing was stored",
                    self.codec, self.out
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(text: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(text).unwrap();
        e.finish().unwrap()
    }

    fn read_all(bytes: Vec<u8>) -> (io::Result<Vec<u8>>, Option<Codec>) {
        let (mut r, codec) = open(Box::new(Cursor::new(bytes))).unwrap();
        let mut out = Vec::new();
        (r.read_to_end(&mut out).map(|_| out), codec)
    }

    #[test]
    fn streams_are_told_by_their_magic_and_decompressed() {
        let text = b"{\"a\":1}\n{\"a\":2}\n".repeat(1000);
        let (got, codec) = read_all(gz(&text));
        assert_eq!(codec, Some(Codec::Gzip));
        assert_eq!(got.unwrap(), text);
        let (got, codec) = read_all(zstd::encode_all(&text[..], 3).unwrap());
        assert_eq!(codec, Some(Codec::Zstd));
        assert_eq!(got.unwrap(), text);
        // Plain text (and text shorter than a magic number) passes through.
        for plain in [&text[..], b"{", b""] {
            let (got, codec) = read_all(plain.to_vec());
            assert_eq!(codec, None);
            assert_eq!(got.unwrap(), plain);
        }
        // Two gzip members concatenated (`cat a.gz b.gz`) read as one stream.
        let mut two = gz(b"one\n");
        two.extend(gz(b"two\n"));
        assert_eq!(read_all(two).0.unwrap(), b"one\ntwo\n");
    }

    #[test]
    fn corrupt_and_truncated_streams_fail_with_the_codec_named() {
        let text = b"{\"a\":1}\n".repeat(5000);
        let whole = gz(&text);
        let truncated = whole[..whole.len() / 2].to_vec();
        let e = read_all(truncated).0.unwrap_err().to_string();
        assert!(e.contains("the gzip data is corrupt or truncated"), "{e}");
        let mut flipped = whole.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0xff;
        flipped[mid + 1] ^= 0x55;
        let e = read_all(flipped).0.unwrap_err().to_string();
        assert!(e.contains("the gzip data is corrupt"), "{e}");
        let z = zstd::encode_all(&text[..], 3).unwrap();
        let e = read_all(z[..z.len() - 8].to_vec())
            .0
            .unwrap_err()
            .to_string();
        assert!(e.contains("the zstd data is corrupt or truncated"), "{e}");
    }
}
