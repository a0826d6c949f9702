//! Access: project roles and API-token scopes.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A user's role in a project, ordered by what it may do: each role may do what the
/// roles below it may.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ProjectRole {
    /// Sees progress and quality figures.
    Viewer,
    /// Judges items.
    Annotator,
    /// Adjudicates disagreements.
    Reviewer,
    /// Owns the rubric, gold, settings, members and exports.
    Lead,
}

impl ProjectRole {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectRole::Viewer => "viewer",
            ProjectRole::Annotator => "annotator",
            ProjectRole::Reviewer => "reviewer",
            ProjectRole::Lead => "lead",
        }
    }
}

impl fmt::Display for ProjectRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProjectRole {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "viewer" => Ok(ProjectRole::Viewer),
            "annotator" => Ok(ProjectRole::Annotator),
            "reviewer" => Ok(ProjectRole::Reviewer),
            "lead" => Ok(ProjectRole::Lead),
            _ => Err(format!(
                "unknown role `{s}` (expected lead, reviewer, annotator or viewer)"
            )),
        }
    }
}

/// What an API token may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Read projects, items and figures.
    Read,
    /// Take and submit work.
    Annotate,
    /// Adjudicate.
    Review,
    /// Import items.
    Import,
    /// Export data and make releases.
    Export,
    /// Administer users, members, rubrics and settings.
    Admin,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 6] = [
        Scope::Read,
        Scope::Annotate,
        Scope::Review,
        Scope::Import,
        Scope::Export,
        Scope::Admin,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Annotate => "annotate",
            Scope::Review => "review",
            Scope::Import => "import",
            Scope::Export => "export",
            Scope::Admin => "admin",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of scopes, written comma-separated (`read,annotate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Scopes(u8);

impl Scopes {
    /// Every scope (sessions of a logged-in user act with all of them; roles still apply).
    pub fn all() -> Scopes {
        Scopes(Scope::ALL.iter().fold(0, |acc, s| acc | s.bit()))
    }

    /// True when `scope` is in the set.
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// The scopes in the set, in declaration order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

impl FromStr for Scopes {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut bits = 0;
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let scope = Scope::ALL
                .into_iter()
                .find(|x| x.as_str() == part)
                .ok_or_else(|| {
                    format!(
                        "unknown scope `{part}` (expected read, annotate, review, import, export or admin)"
                    )
                })?;
            bits |= scope.bit();
        }
        if bits == 0 {
            return Err("a token needs at least one scope".into());
        }
        Ok(Scopes(bits))
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Scope::as_str).collect();
        f.write_str(&names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_and_parsed() {
        assert!(
            ProjectRole::Viewer < ProjectRole::Annotator
                && ProjectRole::Reviewer < ProjectRole::Lead
        );
        assert_eq!("lead".parse::<ProjectRole>().unwrap(), ProjectRole::Lead);
        assert!("owner".parse::<ProjectRole>().is_err());
    }

    #[test]
    fn scopes_round_trip() {
        let s: Scopes = "annotate, read".parse().unwrap();
        assert!(
            s.contains(Scope::Read) && s.contains(Scope::Annotate) && !s.contains(Scope::Export)
        );
        assert_eq!(s.to_string(), "read,annotate");
        assert!(
            "read,root"
                .parse::<Scopes>()
                .unwrap_err()
                .contains("`root`")
        );
        assert!("".parse::<Scopes>().is_err());
        assert_eq!(Scopes::all().iter().count(), 6);
    }
}
