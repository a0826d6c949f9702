//! Slugs: the keys of criteria, error tags, edge cases and expertise domains.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A key made of lowercase ASCII letters, digits, `_` and `-`, starting with a
/// letter or digit, at most 64 bytes long.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    /// The longest slug accepted.
    pub const MAX_LEN: usize = 64;

    /// Parses `s` as a slug, saying why it is not one.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Err("must not be empty".into());
        }
        if s.len() > Self::MAX_LEN {
            return Err(format!("is longer than {} characters", Self::MAX_LEN));
        }
        let first_ok = s
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        let all_ok = s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !first_ok || !all_ok {
            return Err(format!(
                "`{s}` is not a slug (lowercase letters, digits, `_` and `-`, starting with a letter or digit)"
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<Slug> for String {
    fn from(s: Slug) -> String {
        s.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::borrow::Borrow<str> for Slug {
    fn borrow(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_rejects() {
        assert!(Slug::parse("escalation_missed").is_ok());
        assert!(Slug::parse("edge-case2").is_ok());
        assert!(Slug::parse("").is_err());
        assert!(Slug::parse("Upper").is_err());
        assert!(Slug::parse("_lead").is_err());
        assert!(Slug::parse("has space").is_err());
        assert!(Slug::parse(&"a".repeat(65)).is_err());
    }
}
