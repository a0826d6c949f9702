//! The audio of an item: where import reads it, and once stored its SHA-256, what it
//! holds and which ranges were silenced.

use crate::error::FieldError;
use serde::{Deserialize, Serialize};

/// A span of an item's audio, in seconds from its start.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeRange {
    /// Start, in seconds.
    pub start: f64,
    /// End, in seconds, after `start`.
    pub end: f64,
}

impl TimeRange {
    /// The part of this range that `other` covers too, if any.
    pub fn overlap(&self, other: &TimeRange) -> Option<TimeRange> {
        let start = self.start.max(other.start);
        let end = self.end.min(other.end);
        (end > start).then_some(TimeRange { start, end })
    }
}

/// An item's audio. An import file names it by `path` (and the ranges to `redact`);
/// the stored item names it by `sha256`, with its content type, duration, sample rate
/// and size, and the path is gone.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaRef {
    /// Where import reads the file: relative to the import file or to `--media-dir`.
    /// A file path, never a URL: Plumbline fetches nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Lower-case hex SHA-256 of the stored bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// How the stored bytes are served (`audio/wav`, `audio/mpeg`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Length in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// Samples per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<u32>,
    /// Size of the stored file in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// Ranges silenced before storing (a spoken card number, an address): the stored
    /// audio has silence there and the original is never stored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redact: Vec<TimeRange>,
}

impl MediaRef {
    /// Checks the reference: a relative file path or a SHA-256, and well-formed ranges.
    pub fn validate(&self) -> Result<(), FieldError> {
        match (&self.path, &self.sha256) {
            (None, None) => {
                return Err(FieldError::new(
                    "media",
                    "needs `path` (a file to import) or `sha256` (audio stored already)",
                ));
            }
            (Some(path), _) => check_file_path("media.path", path)?,
            (None, Some(sha)) => {
                if sha.len() != 64
                    || !sha
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                {
                    return Err(FieldError::new(
                        "media.sha256",
                        "must be 64 lower-case hex digits",
                    ));
                }
            }
        }
        for (i, r) in self.redact.iter().enumerate() {
            if !(r.start.is_finite() && r.end.is_finite()) || r.start < 0.0 || r.end <= r.start {
                return Err(FieldError::new(
                    format!("media.redact[{i}]"),
                    format!(
                        "{}–{} s is not a range (start must be ≥ 0 and before end)",
                        r.start, r.end
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Refuses URLs, absolute paths and `..`: a path names a file under the import's own
/// directory or the media directory, nothing else on the machine. `field` names the
/// field in the refusal (`media.path`, `transcript`).
pub fn check_file_path(field: &str, path: &str) -> Result<(), FieldError> {
    let bad = |reason: &str| Err(FieldError::new(field, format!("`{path}`: {reason}")));
    if path.trim().is_empty() {
        return bad("is empty");
    }
    if path.contains("://") || path.starts_with("data:") {
        return bad(
            "is a URL; Plumbline fetches nothing: give a file path relative to the import file or --media-dir",
        );
    }
    if path.chars().any(char::is_control) {
        return bad("contains control characters");
    }
    let p = std::path::Path::new(path);
    if p.is_absolute() || path.starts_with('/') || path.starts_with('\\') {
        return bad("is absolute; give a path relative to the import file or --media-dir");
    }
    if p.components()
        .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return bad("leaves its directory (`..`)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_path(p: &str) -> MediaRef {
        MediaRef {
            path: Some(p.into()),
            ..MediaRef::default()
        }
    }

    #[test]
    fn paths_stay_inside_and_urls_are_refused() {
        assert!(with_path("calls/c1.wav").validate().is_ok());
        for (p, why) in [
            ("https://example.com/a.wav", "URL"),
            ("file:///etc/passwd", "URL"),
            ("/etc/passwd", "absolute"),
            ("../secret.wav", ".."),
            ("calls/../../x.wav", ".."),
            ("", "empty"),
        ] {
            let err = with_path(p).validate().unwrap_err();
            assert_eq!(err.field, "media.path");
            assert!(err.reason.contains(why), "{p}: {}", err.reason);
        }
    }

    #[test]
    fn sha_and_ranges_are_checked() {
        let m = MediaRef {
            sha256: Some("ab".repeat(32)),
            ..MediaRef::default()
        };
        assert!(m.validate().is_ok());
        let bad = MediaRef {
            sha256: Some("AB".repeat(32)),
            ..MediaRef::default()
        };
        assert_eq!(bad.validate().unwrap_err().field, "media.sha256");
        assert_eq!(MediaRef::default().validate().unwrap_err().field, "media");
        let reversed = MediaRef {
            redact: vec![TimeRange {
                start: 2.0,
                end: 1.0,
            }],
            ..with_path("a.wav")
        };
        assert_eq!(reversed.validate().unwrap_err().field, "media.redact[0]");
    }

    #[test]
    fn overlap_of_ranges() {
        let turn = TimeRange {
            start: 1.0,
            end: 4.0,
        };
        let cut = TimeRange {
            start: 3.0,
            end: 6.0,
        };
        assert_eq!(
            turn.overlap(&cut),
            Some(TimeRange {
                start: 3.0,
                end: 4.0
            })
        );
        assert_eq!(
            turn.overlap(&TimeRange {
                start: 4.0,
                end: 5.0
            }),
            None
        );
    }
}
