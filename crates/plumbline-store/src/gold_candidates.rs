//! Gold candidates: proposed gold answers that wait for a lead. An import stores one for
//! each external judgment its source marked as the right answer (Label Studio's
//! `ground_truth`); a reviewer's proposal can use the same table. A candidate is never
//! gold by itself: accepting it stores a gold version through the gold path (validated
//! against the item and the current rubric, with its `gold.add` event), rejecting it
//! keeps it decided, so a later import does not propose it again.

use crate::audit::{AuditAction, AuditEvent};
use crate::error::StoreError;
use plumbline_domain::{GoldId, ProjectId, UserId};
use serde::Serialize;

/// One proposed gold answer.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct GoldCandidate {
    /// Database id.
    pub id: i64,
    /// The item's own id.
    pub item: String,
    /// Who proposed it: an import's source (`label-studio/ann-…`).
    pub source: String,
    /// The user who proposed it, when one did.
    pub proposed_by: Option<UserId>,
    /// The proposed payload (JSON), as the source gave it.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// The source's note.
    pub note: Option<String>,
    /// `pending`, `accepted` or `rejected`.
    pub state: String,
    /// The lead who decided it.
    pub decided_by: Option<UserId>,
    /// When, Unix milliseconds.
    pub decided_at: Option<i64>,
    /// The gold version it became, when accepted.
    pub gold: Option<GoldId>,
    /// When it was proposed, Unix milliseconds.
    pub created_at: i64,
}

/// The states a candidate can be listed by.
pub const STATES: [&str; 3] = ["pending", "accepted", "rejected"];

/// Refuses an unknown state filter.
pub(crate) fn check_state(state: Option<&str>) -> Result<(), StoreError> {
    match state {
        Some(s) if !STATES.contains(&s) => Err(StoreError::Invalid(format!(
            "unknown gold candidate state `{s}` (expected pending, accepted or rejected)"
        ))),
        _ => Ok(()),
    }
}

/// Refuses deciding a candidate twice.
pub(crate) fn check_pending(id: i64, state: &str) -> Result<(), StoreError> {
    if state == "pending" {
        Ok(())
    } else {
        Err(StoreError::Conflict(format!(
            "gold candidate {id} was {state} already"
        )))
    }
}

/// The candidate not found in the project.
pub(crate) fn not_found(id: i64, project: ProjectId) -> StoreError {
    StoreError::NotFound(format!("gold candidate {id} in project {project}"))
}

/// The audit event of a decision on candidate `id` of `item`.
pub(crate) fn event(
    action: AuditAction,
    actor: Option<UserId>,
    project: ProjectId,
    id: i64,
    item: &str,
) -> AuditEvent {
    AuditEvent::new(action, "gold_candidate")
        .by(actor)
        .object(format!("{id} ({item})"))
        .in_project(project)
}

/// The SQL that proposes a candidate, ignoring one proposed before (the same item,
/// source and payload), whatever became of it.
pub(crate) const INSERT_SQLITE: &str =
    "INSERT INTO gold_candidates (project_id, item_id, source, payload, note, created_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (item_id, source, payload) DO NOTHING";

/// [`INSERT_SQLITE`] for PostgreSQL.
pub(crate) const INSERT_POSTGRES: &str =
    "INSERT INTO gold_candidates (project_id, item_id, source, payload, note, created_at)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (item_id, source, payload) DO NOTHING";

/// The source of a reviewer's proposal.
pub(crate) fn reviewer_source(reviewer: UserId) -> String {
    format!("reviewer/{reviewer}")
}

/// The SQL that stores a reviewer's proposal; the same proposal twice is a conflict.
pub(crate) const PROPOSE_SQLITE: &str = "INSERT INTO gold_candidates (project_id, item_id, source, proposed_by, payload, note, created_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id";

/// [`PROPOSE_SQLITE`] for PostgreSQL.
pub(crate) const PROPOSE_POSTGRES: &str = "INSERT INTO gold_candidates (project_id, item_id, source, proposed_by, payload, note, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";

/// A second identical proposal.
pub(crate) fn proposed_twice(item: &str) -> StoreError {
    StoreError::Conflict(format!(
        "you proposed this answer as gold for item `{item}` already"
    ))
}

/// The columns a candidate is read from (with `i` the items table).
pub(crate) const COLUMNS: &str = "c.id, i.ext_id, c.source, c.proposed_by, c.payload, c.note, c.state, \
     c.decided_by, c.decided_at, c.gold_id, c.created_at";
