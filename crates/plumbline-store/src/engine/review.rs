//! The engine's other decisions: skips, reclaims, qualification resets, gold versions
//! and adjudication, each with its checks and its events.

use super::rules::validate_payload;
use super::submit::{Held, check_held};
use crate::audit::{AuditAction, AuditEvent};
use crate::error::StoreError;
use crate::states::{AssignmentState, ItemState};
use crate::work::{Decision, WorkResult};
use plumbline_domain::{AssignmentId, GoldId, ProjectId, Rubric, TaskKind, UserId};

/// Longest skip reason, in characters.
pub const SKIP_REASON_MAX: usize = 2000;

/// Refuses an empty or overlong skip reason (checked before anything is read).
pub fn check_skip_reason(reason: &str) -> WorkResult<()> {
    if reason.trim().is_empty() {
        return Err(StoreError::Invalid("a skip needs a reason".into()).into());
    }
    if reason.chars().count() > SKIP_REASON_MAX {
        return Err(StoreError::Invalid(format!(
            "a skip reason may have at most {SKIP_REASON_MAX} characters"
        ))
        .into());
    }
    Ok(())
}

/// Refuses a skip of an assignment `annotator` does not hold live, or already judged.
pub fn check_skip(a: &Held, annotator: UserId, now: i64) -> WorkResult<()> {
    check_held(a, annotator, now)?;
    if a.state != AssignmentState::Leased {
        return Err(StoreError::Conflict(format!(
            "assignment {} has been submitted; it cannot be skipped",
            a.id
        ))
        .into());
    }
    Ok(())
}

/// The event of a skip; the reason is kept by digest only.
pub fn skip_event(
    project: ProjectId,
    annotator: UserId,
    assignment: AssignmentId,
    reason: &str,
) -> AuditEvent {
    AuditEvent::new(AuditAction::AssignmentSkip, "assignment")
        .by(Some(annotator))
        .object(assignment)
        .in_project(project)
        .digest_of(reason.as_bytes())
}

/// Whether a lease that ends at `expires_at` is over at `now` (its item goes back to
/// the pool).
pub fn lease_is_over(expires_at: i64, now: i64) -> bool {
    expires_at < now
}

/// The event of an explicit reclaim of `n` expired leases (none when nothing expired).
/// The reclaims `next` does on its way are part of its lease and write no event.
pub fn reclaim_event(project: ProjectId, n: u64) -> Option<AuditEvent> {
    (n > 0).then(|| {
        AuditEvent::new(AuditAction::AssignmentReclaim, "assignment")
            .object(n)
            .in_project(project)
    })
}

/// The event of a lead's qualification reset.
pub fn reset_event(actor: Option<UserId>, project: ProjectId, annotator: UserId) -> AuditEvent {
    AuditEvent::new(AuditAction::QualificationReset, "user")
        .by(actor)
        .object(annotator)
        .in_project(project)
}

/// A payload validated for gold or a decision: canonical JSON and its rationale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Canonical JSON.
    pub payload_json: String,
    /// The payload's own rationale, if any.
    pub rationale: Option<String>,
}

/// Validates a gold or decision payload against the item and the current rubric.
pub fn reference(
    body: &str,
    kind: TaskKind,
    rubric: &Rubric,
    payload: &str,
) -> WorkResult<Reference> {
    let payload = validate_payload(body, kind, rubric, payload)?.into_payload();
    Ok(Reference {
        payload_json: serde_json::to_string(&payload)?,
        rationale: Some(payload.rationale().to_owned()).filter(|r| !r.is_empty()),
    })
}

/// Where a gold version came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoldOrigin {
    /// Given by a lead or expert.
    Expert,
    /// Promoted from a reviewer's decision.
    Adjudication,
    /// An imported gold candidate a lead accepted.
    Import,
}

impl GoldOrigin {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            GoldOrigin::Expert => "expert",
            GoldOrigin::Adjudication => "adjudication",
            GoldOrigin::Import => "import",
        }
    }
}

/// A new gold version to store for an item: the newest version becomes the item's
/// active gold, older versions inactive.
#[derive(Debug, Clone, Copy)]
pub struct GoldVersion<'a> {
    /// Who made it.
    pub actor: Option<UserId>,
    /// The item's database id.
    pub item: i64,
    /// The rubric version it was made under (the current one).
    pub rubric_version: i64,
    /// The validated payload, canonical JSON.
    pub payload_json: &'a str,
    /// Why.
    pub rationale: Option<&'a str>,
    /// Where it came from.
    pub origin: GoldOrigin,
}

impl<'a> GoldVersion<'a> {
    /// A lead's or expert's gold for `item`, validated into `r`.
    pub fn expert(actor: Option<UserId>, item: i64, rubric_version: i64, r: &'a Reference) -> Self {
        GoldVersion {
            actor,
            item,
            rubric_version,
            payload_json: &r.payload_json,
            rationale: r.rationale.as_deref(),
            origin: GoldOrigin::Expert,
        }
    }

    /// A reviewer's decision promoted to gold, with the decision's rationale.
    pub fn promoted(
        reviewer: UserId,
        item: i64,
        rubric_version: i64,
        payload_json: &'a str,
        decision: &'a Decision,
    ) -> Self {
        GoldVersion {
            actor: Some(reviewer),
            item,
            rubric_version,
            payload_json,
            rationale: Some(&decision.rationale),
            origin: GoldOrigin::Adjudication,
        }
    }
}

/// The event of a stored gold version.
pub fn gold_event(
    actor: Option<UserId>,
    project: ProjectId,
    gold: GoldId,
    payload_json: &str,
) -> AuditEvent {
    AuditEvent::new(AuditAction::GoldAdd, "gold")
        .by(actor)
        .object(gold.0)
        .in_project(project)
        .digest_of(payload_json.as_bytes())
}

/// The event of a new rubric version marking `marked` active gold versions made under
/// older rubrics for revalidation (none when there were none).
pub fn revalidate_event(
    actor: Option<UserId>,
    project: ProjectId,
    marked: u64,
) -> Option<AuditEvent> {
    (marked > 0).then(|| {
        AuditEvent::new(AuditAction::GoldRevalidate, "gold")
            .by(actor)
            .object(marked)
            .in_project(project)
    })
}

/// Refuses a decision without a rationale (checked before anything is read).
pub fn check_decision(decision: &Decision) -> WorkResult<()> {
    if decision.rationale.trim().is_empty() {
        return Err(StoreError::Invalid("a decision needs a rationale".into()).into());
    }
    Ok(())
}

/// Refuses a decision on an item that is not waiting for adjudication.
pub fn check_adjudicable(item: &str, state: ItemState) -> WorkResult<()> {
    if state != ItemState::Adjudication {
        return Err(StoreError::Conflict(format!(
            "item `{item}` is not waiting for adjudication (it is {state})"
        ))
        .into());
    }
    Ok(())
}

/// The event of a decision. A decision promoted to gold also writes the gold's own
/// [`gold_event`], after this one.
pub fn decision_event(
    reviewer: UserId,
    project: ProjectId,
    item: &str,
    payload_json: &str,
) -> AuditEvent {
    AuditEvent::new(AuditAction::AdjudicationDecide, "item")
        .by(Some(reviewer))
        .object(item)
        .in_project(project)
        .digest_of(payload_json.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::states::Purpose;
    use crate::work::WorkError;

    #[test]
    fn skips_need_a_reason_and_a_live_unjudged_lease() {
        assert!(check_skip_reason("  ").is_err());
        assert!(check_skip_reason(&"x".repeat(SKIP_REASON_MAX + 1)).is_err());
        assert!(check_skip_reason("outside my expertise").is_ok());
        let mut a = Held {
            id: AssignmentId(3),
            owner: UserId(1),
            purpose: Purpose::Work,
            state: AssignmentState::Leased,
            leased_at: 0,
            expires_at: 100,
        };
        assert!(check_skip(&a, UserId(1), 50).is_ok());
        a.state = AssignmentState::Submitted;
        assert!(matches!(
            check_skip(&a, UserId(1), 50),
            Err(WorkError::Store(StoreError::Conflict(_)))
        ));
    }

    #[test]
    fn only_items_in_adjudication_are_decided() {
        assert!(check_adjudicable("x", ItemState::Adjudication).is_ok());
        let e = check_adjudicable("x", ItemState::Resolved).unwrap_err();
        assert!(e.to_string().contains("it is resolved"), "{e}");
        assert!(reclaim_event(ProjectId(1), 0).is_none());
        assert!(revalidate_event(None, ProjectId(1), 0).is_none());
    }
}
