//! HTML escaping. Every piece of untrusted text (item and candidate text, rationales,
//! user names, rubric titles, ids) goes through [`esc`] in element content and
//! [`attr`] in attribute values; pages are built by pushing onto a `String`.

use std::fmt::Write;

/// Escapes text for element content: `&`, `<`, `>`, and both quotes (so the same
/// output is also safe inside a quoted attribute).
pub fn esc(s: &str) -> Esc<'_> {
    Esc(s)
}

/// Escapes text for a double-quoted attribute value (identical to [`esc`]; a
/// separate name says where the value goes).
pub fn attr(s: &str) -> Esc<'_> {
    Esc(s)
}

/// Text that displays escaped.
pub struct Esc<'a>(&'a str);

impl std::fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.0;
        let mut last = 0;
        for (i, b) in s.bytes().enumerate() {
            let rep = match b {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                b'\'' => "&#39;",
                _ => continue,
            };
            f.write_str(&s[last..i])?;
            f.write_str(rep)?;
            last = i + 1;
        }
        f.write_str(&s[last..])
    }
}

/// Appends `s`, escaped, to `out`.
pub fn push_esc(out: &mut String, s: &str) {
    let _ = write!(out, "{}", esc(s));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc(r#"<script>alert(1)</script> & <img src=x onerror="a('b')">"#).to_string(),
            "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;"
        );
        assert_eq!(attr("plain £ text").to_string(), "plain £ text");
        assert_eq!(esc("").to_string(), "");
    }
}
