//! A hand-written JSON writer for the hot rows of an export.
//!
//! serde_json escapes a string byte by byte; a pair row is mostly long texts (the
//! context and two replies) with nothing to escape, and that loop was the largest cost
//! of a JSONL pair export. Here a string is scanned eight bytes at a time for the bytes
//! JSON must escape (`"`, `\` and controls below 0x20) and copied in runs. The output is
//! byte for byte what serde_json writes (same escapes, lowercase `\u00XX`), which a test
//! checks against it.

/// Appends `s` as a JSON string literal.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut run = 0;
    let mut i = 0;
    while i < bytes.len() {
        if let Some(chunk) = bytes.get(i..i + 8) {
            let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
            if !may_need_escape(word) {
                i += 8;
                continue;
            }
        }
        let b = bytes[i];
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => {
                out.extend_from_slice(&bytes[run..i]);
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
                i += 1;
                run = i;
                continue;
            }
            _ => {
                i += 1;
                continue;
            }
        };
        out.extend_from_slice(&bytes[run..i]);
        out.extend_from_slice(escape);
        i += 1;
        run = i;
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

/// Whether any of the eight bytes of `w` is `"`, `\` or below 0x20 (exact: the classic
/// "has a byte less than n" and "has a zero byte" tests).
fn may_need_escape(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    let q = w ^ (ONES * u64::from(b'"'));
    let quote = q.wrapping_sub(ONES) & !q & HIGH;
    let s = w ^ (ONES * u64::from(b'\\'));
    let backslash = s.wrapping_sub(ONES) & !s & HIGH;
    (below_space | quote | backslash) != 0
}

/// Appends `"key":` (keys are ASCII names of ours, never escaped).
pub fn key(out: &mut Vec<u8>, k: &str) {
    out.push(b'"');
    out.extend_from_slice(k.as_bytes());
    out.extend_from_slice(b"\":");
}

/// Appends an integer.
pub fn int(out: &mut Vec<u8>, n: i64) {
    use std::io::Write;
    let _ = write!(out, "{n}");
}

/// Appends a float as serde_json writes it (`3.0`, `0.25`; non-finite as `null`).
pub fn float(out: &mut Vec<u8>, x: f64) {
    serde_json::to_writer(&mut *out, &x).expect("writing to a Vec cannot fail");
}

/// Appends a string or `null`.
pub fn opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => write_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

/// Appends a float or `null`.
pub fn opt_float(out: &mut Vec<u8>, x: Option<f64>) {
    match x {
        Some(x) => float(out, x),
        None => out.extend_from_slice(b"null"),
    }
}

/// Appends an integer or `null`.
pub fn opt_int(out: &mut Vec<u8>, n: Option<i64>) {
    match n {
        Some(n) => int(out, n),
        None => out.extend_from_slice(b"null"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ours(s: &str) -> String {
        let mut out = Vec::new();
        write_str(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_like_serde_json() {
        for s in [
            "",
            "plain text of some length, more than eight bytes",
            "quote \" and backslash \\ inside",
            "\"\"\"\"\"\"\"\"\"",
            "controls \u{0} \u{1} \u{8} \u{c} \n \r \t \u{1f} \u{7f}",
            "unicode é ü 漢字 \u{2028} \u{2029} 🦀",
            "12345678\"",
            "1234567\\",
        ] {
            assert_eq!(ours(s), serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }

    proptest! {
        #[test]
        fn any_string_escapes_like_serde_json(s in "\\PC*|[\\x00-\\x7f]{0,40}") {
            prop_assert_eq!(ours(&s), serde_json::to_string(&s).unwrap());
        }
    }

    #[test]
    fn numbers_like_serde_json() {
        let mut out = Vec::new();
        float(&mut out, 3.0);
        out.push(b' ');
        float(&mut out, f64::from(0.99_f32));
        out.push(b' ');
        int(&mut out, -42);
        out.push(b' ');
        opt_int(&mut out, None);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!(
                "3.0 {} -42 null",
                serde_json::to_string(&f64::from(0.99_f32)).unwrap()
            )
        );
    }
}
