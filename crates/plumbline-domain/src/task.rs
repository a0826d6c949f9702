//! The five kinds of task an item can be judged as.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What an annotator does with an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// Choose between two candidates (A vs B), with a strength.
    Preference,
    /// Order N candidates, best first, ties allowed.
    Ranking,
    /// Score each candidate on each criterion.
    Rating,
    /// Write or rewrite the ideal response.
    Demonstration,
    /// Write an attack and record the model's outcome.
    RedTeam,
}

impl TaskKind {
    /// Every kind, in documentation order.
    pub const ALL: [TaskKind; 5] = [
        TaskKind::Preference,
        TaskKind::Ranking,
        TaskKind::Rating,
        TaskKind::Demonstration,
        TaskKind::RedTeam,
    ];

    /// The wire name (`preference`, `red_team`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::Preference => "preference",
            TaskKind::Ranking => "ranking",
            TaskKind::Rating => "rating",
            TaskKind::Demonstration => "demonstration",
            TaskKind::RedTeam => "red_team",
        }
    }

    /// How many candidates an item of this kind must have, as (min, max).
    pub fn candidate_bounds(self) -> (usize, usize) {
        match self {
            TaskKind::Preference => (2, 2),
            TaskKind::Ranking => (2, 64),
            TaskKind::Rating => (1, 64),
            TaskKind::Demonstration => (0, 64),
            TaskKind::RedTeam => (0, 64),
        }
    }
}

impl fmt::Display for TaskKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TaskKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        TaskKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown task kind `{s}` (expected preference, ranking, rating, demonstration or red_team)"
                )
            })
    }
}
