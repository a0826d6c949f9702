//! Expertise: a domain and a level, written `domain:level`.

use crate::slug::Slug;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How deep a person's expertise in a domain goes; ordered novice < practitioner < expert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Knows the domain from training or early practice.
    Novice,
    /// Works in the domain.
    Practitioner,
    /// Recognised authority in the domain.
    Expert,
}

impl Level {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Novice => "novice",
            Level::Practitioner => "practitioner",
            Level::Expert => "expert",
        }
    }
}

impl FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "novice" => Ok(Level::Novice),
            "practitioner" => Ok(Level::Practitioner),
            "expert" => Ok(Level::Expert),
            _ => Err(format!(
                "unknown expertise level `{s}` (expected novice, practitioner or expert)"
            )),
        }
    }
}

/// A domain and a level, e.g. `banking:expert`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Expertise {
    /// The domain, a slug such as `banking` or `clinical`.
    pub domain: Slug,
    /// The level within it.
    pub level: Level,
}

impl Expertise {
    /// True when someone with `self` meets the requirement `required`: same domain,
    /// at least the required level.
    pub fn satisfies(&self, required: &Expertise) -> bool {
        self.domain == required.domain && self.level >= required.level
    }
}

impl FromStr for Expertise {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (domain, level) = s
            .split_once(':')
            .ok_or_else(|| format!("expertise `{s}` is not of the form domain:level"))?;
        Ok(Expertise {
            domain: Slug::parse(domain).map_err(|e| format!("expertise domain {e}"))?,
            level: level.parse()?,
        })
    }
}

impl TryFrom<String> for Expertise {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<Expertise> for String {
    fn from(e: Expertise) -> String {
        e.to_string()
    }
}

impl fmt::Display for Expertise {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.domain, self.level.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered() {
        assert!(Level::Novice < Level::Practitioner && Level::Practitioner < Level::Expert);
    }

    #[test]
    fn parses_and_satisfies() {
        let e: Expertise = "banking:expert".parse().unwrap();
        assert!(e.satisfies(&"banking:practitioner".parse().unwrap()));
        assert!(!e.satisfies(&"clinical:novice".parse().unwrap()));
        let p: Expertise = "banking:practitioner".parse().unwrap();
        assert!(!p.satisfies(&e));
        assert!("banking".parse::<Expertise>().is_err());
        assert!("banking:guru".parse::<Expertise>().is_err());
        assert_eq!(e.to_string(), "banking:expert");
    }
}
