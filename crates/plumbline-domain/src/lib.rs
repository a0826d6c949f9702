//! Plumbline's domain: the types and rules every other crate shares.
//!
//! Architecture invariant: this crate does no IO and nothing async. Constructors
//! parse and validate (`Rubric::from_toml`, `Item::from_json`, `Expertise::from_str`),
//! so a value of these types is known to be good.
#![forbid(unsafe_code)]

pub mod access;
pub mod comment;
pub mod error;
pub mod expertise;
pub mod ids;
pub mod item;
pub mod judgment;
pub mod media;
pub mod patch;
pub mod project;
pub mod rubric;
pub mod slug;
pub mod task;

pub use access::{ProjectRole, Scope, Scopes};
pub use comment::{CommentBody, CommentError, MAX_COMMENT_CHARS};
pub use error::FieldError;
pub use expertise::{Expertise, Level};
pub use ids::*;
pub use item::{Candidate, Item, ItemError, Role, Split, Turn};
pub use judgment::{
    Choice, DemonstrationPayload, JudgmentError, Outcome, Payload, PreferencePayload,
    PriorityViolation, RankingPayload, RatingPayload, RedTeamPayload, ValidatedJudgment,
};
pub use media::{MediaRef, TimeRange};
pub use patch::SettingsPatch;
pub use project::{EdgeCaseQuota, ProjectName, ProjectSettings};
pub use rubric::{Criterion, EdgeCase, ErrorTag, Rubric, RubricError, Scale, Severity};
pub use slug::Slug;
pub use task::TaskKind;
