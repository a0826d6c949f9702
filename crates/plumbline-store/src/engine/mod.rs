//! The annotation engine's decisions, in one place and without IO.
//!
//! Each backend is an adapter around these functions: it reads the context a decision
//! needs (in its own style: SQLite on its single writer, PostgreSQL in pipelined
//! statements), calls the decision, and writes what the decision says, audit events
//! included. Nothing here touches a database, so every rule is written once and is
//! tested without one.
//!
//! - [`lease`]: what `next` tries, in order (qualification → hidden gold → edge-case
//!   quotas → work), and the lease made from the item it found.
//! - [`submit`]: the checks on a held assignment, the judgment to store (payload
//!   validation, gold scoring, resubmission), the qualification update, settling by
//!   consensus, and the events of each.
//! - [`review`]: skips, reclaims, gold versions and adjudication decisions.
//! - [`rules`]: the pure rules the others use (the gold draw and gold order under the
//!   project's secret, shuffle, expertise sets, agreement).

pub mod lease;
pub mod review;
mod rules;
pub mod submit;

pub use rules::{GoldSecret, gold_start};
pub use rules::{
    PROBATION_MIN_ANSWERS, agree, consensus, is_gold_draw, kendall_distance, on_probation,
    project_level, reliability,
};
pub(crate) use rules::{project_domains, satisfied_requirements};
