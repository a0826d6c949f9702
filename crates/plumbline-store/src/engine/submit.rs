//! Submit planning: whether a held assignment may take a judgment, what judgment to
//! store, whether the annotator's qualification and the item's state move, and the
//! events of each.
//!
//! The backend reads the assignment ([`Held`]) and checks it with [`check_held`],
//! reads a [`SubmitContext`], stores the [`Judgment`] that [`judge`] makes, then, when
//! the judgment says so, recounts the qualification ([`qualification_outcome`]) and
//! settles the item ([`settle`]), writing the events in the order they are returned.
//! [`training_feedback`] says when an annotator may see the gold answer afterwards.

use super::rules::{agree, consensus, passes, stored_payload, validate_payload};
use crate::Result;
use crate::audit::{AuditAction, AuditEvent, sha256_hex};
use crate::error::StoreError;
use crate::states::{AssignmentState, ItemState, Purpose, QualificationState};
use crate::work::{Submission, WorkError, WorkResult};
use plumbline_domain::{
    AssignmentId, JudgmentId, Payload, ProjectId, ProjectSettings, Rubric, TaskKind, UserId,
};

/// An assignment as the backend read it, for the checks of a submit or a skip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    /// Its id.
    pub id: AssignmentId,
    /// Who holds it.
    pub owner: UserId,
    /// What it is for.
    pub purpose: Purpose,
    /// Where it stands.
    pub state: AssignmentState,
    /// Lease start, Unix milliseconds.
    pub leased_at: i64,
    /// Lease end, Unix milliseconds.
    pub expires_at: i64,
}

/// Refuses an assignment `annotator` does not hold, or whose lease is over at `now`.
pub fn check_held(a: &Held, annotator: UserId, now: i64) -> WorkResult<()> {
    let id = a.id;
    if a.owner != annotator {
        return Err(WorkError::Forbidden(format!(
            "assignment {id} belongs to another annotator"
        )));
    }
    match a.state {
        AssignmentState::Skipped => Err(WorkError::Expired(format!("assignment {id} was skipped"))),
        AssignmentState::Expired => Err(expired(id)),
        _ if now > a.expires_at => Err(expired(id)),
        _ => Ok(()),
    }
}

fn expired(id: AssignmentId) -> WorkError {
    WorkError::Expired(format!(
        "the lease of assignment {id} has expired; take a new task"
    ))
}

/// Whether a submission under `purpose` on an item is scored against its gold (the
/// backend reads the active gold payload only then).
pub fn scores_gold(purpose: Purpose, item_is_gold: bool) -> bool {
    matches!(purpose, Purpose::Gold | Purpose::Qualification) || item_is_gold
}

/// What a submission needs besides the assignment.
#[derive(Debug, Clone, Copy)]
pub struct SubmitContext<'a> {
    /// The project.
    pub project: ProjectId,
    /// Who submits.
    pub annotator: UserId,
    /// The assignment, already checked with [`check_held`].
    pub held: &'a Held,
    /// The project's settings.
    pub settings: &'a ProjectSettings,
    /// The rubric version of the lease.
    pub rubric: &'a Rubric,
    /// The item's canonical JSON.
    pub item_body: &'a str,
    /// The item's task kind.
    pub kind: TaskKind,
    /// Whether the item is gold.
    pub item_is_gold: bool,
    /// The item's active gold payload, when [`scores_gold`] (else `None`).
    pub active_gold: Option<&'a str>,
    /// The judgment already given under this assignment (a resubmission replaces it).
    pub existing: Option<Given>,
    /// When.
    pub now: i64,
}

/// The judgment already stored under an assignment, as a resubmission finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Given {
    /// Its id.
    pub id: JudgmentId,
    /// Its gold score, fixed by the first submission.
    pub gold_correct: Option<bool>,
}

/// The judgment a submission stores.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgment {
    /// The validated payload, canonical JSON.
    pub payload_json: String,
    /// Its rationale, if any.
    pub rationale: Option<String>,
    /// It breaks the priority rule, kept by an override.
    pub priority_inversion: bool,
    /// Time on task, ms.
    pub time_ms: i64,
    /// Gold score: `Some(true)` correct, `Some(false)` wrong, `None` not scored; a
    /// resubmission keeps the first submission's.
    pub gold_correct: Option<bool>,
    /// It replaces the judgment [`SubmitContext::existing`].
    pub resubmission: bool,
    /// The annotator's qualification must be recounted afterwards.
    pub recount_qualification: bool,
    /// The item may settle afterwards (regular work on a non-gold item).
    pub may_settle: bool,
}

/// Validates a submission and makes the judgment to store.
pub fn judge(ctx: &SubmitContext<'_>, submission: &Submission) -> WorkResult<Judgment> {
    let valid = validate_payload(ctx.item_body, ctx.kind, ctx.rubric, &submission.payload)?;
    let priority_inversion = valid.priority_inversion();
    let payload = valid.into_payload();
    let payload_json = serde_json::to_string(&payload)?;
    let rationale = Some(payload.rationale().to_owned()).filter(|r| !r.is_empty());
    let time_ms = submission
        .time_ms
        .unwrap_or(ctx.now - ctx.held.leased_at)
        .max(0);
    let gold_correct = match (ctx.existing, ctx.active_gold) {
        // The first answer is the one scored: a resubmission inside the lease may change
        // the payload, not the score (or a miss, once its gold answer is known, could be
        // turned into a hit).
        (Some(given), _) => given.gold_correct,
        (None, Some(g))
            if scores_gold(ctx.held.purpose, ctx.item_is_gold)
                && ctx.kind != TaskKind::Demonstration =>
        {
            Some(agree(&payload, &stored_payload(ctx.kind, g)?, ctx.settings))
        }
        (None, _) => None,
    };
    Ok(Judgment {
        payload_json,
        rationale,
        priority_inversion,
        time_ms,
        gold_correct,
        resubmission: ctx.existing.is_some(),
        recount_qualification: ctx.held.purpose == Purpose::Qualification,
        may_settle: ctx.held.purpose == Purpose::Work && !ctx.item_is_gold,
    })
}

/// The event of a stored judgment.
pub fn judgment_event(
    project: ProjectId,
    annotator: UserId,
    judgment: JudgmentId,
    j: &Judgment,
) -> AuditEvent {
    let action = if j.resubmission {
        AuditAction::JudgmentResubmit
    } else {
        AuditAction::JudgmentSubmit
    };
    AuditEvent::new(action, "judgment")
        .by(Some(annotator))
        .object(judgment)
        .in_project(project)
        .digest_of(j.payload_json.as_bytes())
}

/// A qualification recounted: its new state and counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QualificationCount {
    /// The new state.
    pub state: QualificationState,
    /// Qualification items judged correctly since the last reset.
    pub correct: i64,
    /// Qualification items judged since the last reset.
    pub total: i64,
}

/// The qualification after `correct` of `total` answers, for an annotator whose state
/// was `before`; `None` when it does not change (only a pending one moves), with the
/// event of a decided one.
pub fn qualification_outcome(
    project: ProjectId,
    annotator: UserId,
    before: QualificationState,
    correct: i64,
    total: i64,
    settings: &ProjectSettings,
) -> Option<(QualificationCount, Option<AuditEvent>)> {
    if before != QualificationState::Pending {
        return None;
    }
    let state = if total < i64::from(settings.qualification_size) {
        QualificationState::Pending
    } else if passes(correct, total, settings.qualification_pass) {
        QualificationState::Passed
    } else {
        QualificationState::Failed
    };
    let action = match state {
        QualificationState::Passed => Some(AuditAction::QualificationPass),
        QualificationState::Failed => Some(AuditAction::QualificationFail),
        QualificationState::Pending => None,
    };
    let event = action.map(|a| {
        AuditEvent::new(a, "user")
            .by(Some(annotator))
            .object(annotator)
            .in_project(project)
    });
    Some((
        QualificationCount {
            state,
            correct,
            total,
        },
        event,
    ))
}

/// Whether an annotator may see the gold answer of an item they judged (training
/// feedback): only after a miss on an item of their qualification set, and only while
/// that qualification is undecided in a project that asks for one. Hidden gold and work
/// never have feedback, so the answer (the gold, or a 404 like an unknown item's) tells
/// nothing about what an item is.
pub fn training_feedback(
    settings: &ProjectSettings,
    qualification: QualificationState,
    purpose: Purpose,
    gold_correct: Option<bool>,
) -> bool {
    settings.qualification_size > 0
        && qualification == QualificationState::Pending
        && purpose == Purpose::Qualification
        && gold_correct == Some(false)
}

/// The state an item settles to once it has `overlap` annotator judgments (their
/// stored payloads), with the event; `None` while it has fewer or after a reviewer
/// decided it.
pub fn settle(
    project: ProjectId,
    item: &str,
    kind: TaskKind,
    payloads: &[impl AsRef<str>],
    decided: bool,
    settings: &ProjectSettings,
) -> Result<Option<(ItemState, AuditEvent)>> {
    if decided || payloads.len() < settings.overlap as usize {
        return Ok(None);
    }
    let parsed = payloads
        .iter()
        .map(|p| stored_payload(kind, p.as_ref()))
        .collect::<Result<Vec<Payload>>>()?;
    let (state, action) = if consensus(&parsed, settings) {
        (ItemState::Resolved, AuditAction::ItemConsensus)
    } else {
        (ItemState::Adjudication, AuditAction::ItemContest)
    };
    let event = AuditEvent::new(action, "item")
        .object(item)
        .in_project(project);
    Ok(Some((state, event)))
}

/// Whether a submission that brought an item to `judgments` annotator judgments can
/// settle it (the backend then reads the payloads for [`settle`]).
pub fn reaches_overlap(judgments: i64, settings: &ProjectSettings) -> bool {
    judgments >= i64::from(settings.overlap)
}

/// The digest an event records for a payload, for backends that write it themselves.
pub fn digest(payload_json: &str) -> String {
    sha256_hex(payload_json.as_bytes())
}

/// The stored task kind of an item, as an engine error when unreadable.
pub fn task_kind(stored: &str) -> Result<TaskKind> {
    stored.parse().map_err(StoreError::Database)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(purpose: Purpose, state: AssignmentState) -> Held {
        Held {
            id: AssignmentId(7),
            owner: UserId(1),
            purpose,
            state,
            leased_at: 1_000,
            expires_at: 2_000,
        }
    }

    #[test]
    fn only_the_holder_submits_inside_the_lease() {
        let a = held(Purpose::Work, AssignmentState::Leased);
        assert!(check_held(&a, UserId(1), 1_500).is_ok());
        assert!(matches!(
            check_held(&a, UserId(2), 1_500),
            Err(WorkError::Forbidden(_))
        ));
        assert!(matches!(
            check_held(&a, UserId(1), 2_001),
            Err(WorkError::Expired(_))
        ));
        let s = held(Purpose::Work, AssignmentState::Skipped);
        assert!(
            matches!(check_held(&s, UserId(1), 1_500), Err(WorkError::Expired(m)) if m.contains("skipped"))
        );
        let sub = held(Purpose::Work, AssignmentState::Submitted);
        assert!(
            check_held(&sub, UserId(1), 1_500).is_ok(),
            "resubmission inside the lease"
        );
    }

    fn rubric() -> Rubric {
        Rubric::from_toml(
            r#"
name = "t"
[[criteria]]
key = "accuracy"
title = "Accuracy"
priority = 1
"#,
        )
        .unwrap()
    }

    const BODY: &str = r#"{"id":"x","context":[{"role":"user","content":"q"}],"candidates":[{"id":"a","content":"A"},{"id":"b","content":"B"}]}"#;

    #[test]
    fn gold_is_scored_and_only_work_settles() {
        let settings = ProjectSettings::default();
        let rubric = rubric();
        let a = held(Purpose::Gold, AssignmentState::Leased);
        let gold =
            r#"{"winner":"a","strength":2,"criteria":{"accuracy":"a"},"rationale":"A is right"}"#;
        let ctx = SubmitContext {
            project: ProjectId(1),
            annotator: UserId(1),
            held: &a,
            settings: &settings,
            rubric: &rubric,
            item_body: BODY,
            kind: TaskKind::Preference,
            item_is_gold: true,
            active_gold: Some(gold),
            existing: None,
            now: 1_500,
        };
        let sub = Submission {
            payload: r#"{"winner":"b","strength":1,"criteria":{"accuracy":"b"},"rationale":"B"}"#
                .into(),
            time_ms: None,
        };
        let j = judge(&ctx, &sub).unwrap();
        assert_eq!(j.gold_correct, Some(false));
        assert_eq!(j.time_ms, 500);
        assert!(!j.may_settle && !j.recount_qualification && !j.resubmission);
        let e = judgment_event(ProjectId(1), UserId(1), JudgmentId(3), &j);
        assert_eq!(e.action, AuditAction::JudgmentSubmit);
    }

    #[test]
    fn a_resubmission_keeps_the_first_gold_score() {
        let settings = ProjectSettings::default();
        let rubric = rubric();
        let a = held(Purpose::Gold, AssignmentState::Submitted);
        let gold = r#"{"winner":"a","strength":2,"criteria":{"accuracy":"a"}}"#;
        let right = Submission {
            payload: gold.into(),
            time_ms: Some(10),
        };
        let mut ctx = SubmitContext {
            project: ProjectId(1),
            annotator: UserId(1),
            held: &a,
            settings: &settings,
            rubric: &rubric,
            item_body: BODY,
            kind: TaskKind::Preference,
            item_is_gold: true,
            active_gold: Some(gold),
            existing: Some(Given {
                id: JudgmentId(3),
                gold_correct: Some(false),
            }),
            now: 1_500,
        };
        let j = judge(&ctx, &right).unwrap();
        assert!(j.resubmission);
        assert_eq!(j.gold_correct, Some(false), "the miss stands");
        assert!(
            j.payload_json.contains("\"winner\":\"a\""),
            "the payload changes"
        );
        ctx.existing = None;
        assert_eq!(judge(&ctx, &right).unwrap().gold_correct, Some(true));
    }

    #[test]
    fn feedback_only_after_a_qualification_miss_while_undecided() {
        let q = ProjectSettings {
            qualification_size: 2,
            ..ProjectSettings::default()
        };
        let none = ProjectSettings::default();
        let (pending, passed, failed) = (
            QualificationState::Pending,
            QualificationState::Passed,
            QualificationState::Failed,
        );
        let miss = Some(false);
        assert!(training_feedback(&q, pending, Purpose::Qualification, miss));
        assert!(!training_feedback(
            &q,
            pending,
            Purpose::Qualification,
            Some(true)
        ));
        assert!(!training_feedback(
            &q,
            pending,
            Purpose::Qualification,
            None
        ));
        assert!(!training_feedback(&q, passed, Purpose::Qualification, miss));
        assert!(!training_feedback(&q, failed, Purpose::Qualification, miss));
        assert!(
            !training_feedback(&q, pending, Purpose::Gold, miss),
            "hidden gold"
        );
        assert!(!training_feedback(&q, pending, Purpose::Work, miss));
        // Without a qualification set everyone is "pending": still no feedback.
        assert!(!training_feedback(&none, pending, Purpose::Gold, miss));
        assert!(!training_feedback(
            &none,
            pending,
            Purpose::Qualification,
            miss
        ));
    }

    #[test]
    fn qualification_moves_only_from_pending() {
        let s = ProjectSettings {
            qualification_size: 4,
            qualification_pass: 0.75,
            ..ProjectSettings::default()
        };
        let p = ProjectId(1);
        let u = UserId(2);
        let pending = QualificationState::Pending;
        let (c, e) = qualification_outcome(p, u, pending, 2, 3, &s).unwrap();
        assert_eq!((c.state, e.is_none()), (QualificationState::Pending, true));
        let (c, e) = qualification_outcome(p, u, pending, 3, 4, &s).unwrap();
        assert_eq!(c.state, QualificationState::Passed);
        assert_eq!(e.unwrap().action, AuditAction::QualificationPass);
        let (c, e) = qualification_outcome(p, u, pending, 2, 4, &s).unwrap();
        assert_eq!(c.state, QualificationState::Failed);
        assert_eq!(e.unwrap().action, AuditAction::QualificationFail);
        assert!(qualification_outcome(p, u, QualificationState::Passed, 0, 4, &s).is_none());
    }

    #[test]
    fn settling_needs_the_overlap_and_no_decision() {
        let s = ProjectSettings {
            overlap: 2,
            ..ProjectSettings::default()
        };
        let a = r#"{"winner":"a","strength":1,"criteria":{"accuracy":"a"}}"#;
        let b = r#"{"winner":"b","strength":1,"criteria":{"accuracy":"b"}}"#;
        let p = ProjectId(1);
        let k = TaskKind::Preference;
        assert!(settle(p, "x", k, &[a], false, &s).unwrap().is_none());
        assert!(settle(p, "x", k, &[a, b], true, &s).unwrap().is_none());
        let (state, e) = settle(p, "x", k, &[a, a], false, &s).unwrap().unwrap();
        assert_eq!(
            (state, e.action),
            (ItemState::Resolved, AuditAction::ItemConsensus)
        );
        let (state, e) = settle(p, "x", k, &[a, b], false, &s).unwrap().unwrap();
        assert_eq!(
            (state, e.action),
            (ItemState::Adjudication, AuditAction::ItemContest)
        );
        assert_eq!(e.object_id.as_deref(), Some("x"));
    }
}
