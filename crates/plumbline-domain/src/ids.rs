//! Newtype ids, so the id of one kind of thing cannot be passed for another.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_type!(
    /// Database id of a project.
    ProjectId,
    /// Database id of an item (its row), distinct from the item's own textual `id`.
    ItemId,
    /// Database id of a user.
    UserId,
    /// Database id of an assignment (a lease).
    AssignmentId,
    /// Database id of a judgment.
    JudgmentId,
    /// Database id of a gold reference judgment.
    GoldId,
    /// Database id of a release.
    ReleaseId,
);

/// Version number of a project's rubric; the first is 1.
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
#[serde(transparent)]
pub struct RubricVersion(pub i32);

impl fmt::Display for RubricVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}
