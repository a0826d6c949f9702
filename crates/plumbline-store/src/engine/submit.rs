//! Submit planning: whether a held assignment may take a judgment, what judgment to
//! store, whether the annotator's qualification and the item's state move, and the
//! events of each.
//!
//! The backend reads the assignment ([`Held`]) and checks it with [`check_held`],
//! reads a [`SubmitContext`], stores the [`Judgment`] that [`judge`] makes, then, when
//! the judgment says so, recounts the qualification ([`qualification_outcome`]) and
//! settles the item ([`settle`]), writing the events in the order they are returned.
//! [`training_feedback`] says when an annotator may see the gold answer afterwards.

use super::rules::{
    agree, candidate_ids, consensus, passes, reliability, settles_decided, stored_payload,
    validate_payload,
};
use crate::Result;
use crate::audit::{AuditAction, AuditEvent};
use crate::error::StoreError;
use crate::states::{AssignmentState, ItemState, Purpose, QualificationState};
use crate::work::{Submission, WorkError, WorkResult};
use plumbline_domain::{
    AssignmentId, JudgmentId, Payload, ProjectId, ProjectSettings, Rubric, TaskKind, UserId,
};
use plumbline_quality::decision::{decide_into, reaches, vote_weight};
use plumbline_quality::reliability::ExpertiseLevel;

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

/// An annotator judgment of an item as settling weighs it: the stored payload and
/// what its voter's reliability rests on.
#[derive(Debug, Clone, PartialEq)]
pub struct Vote<P> {
    /// The stored payload.
    pub payload: P,
    /// The voter's verified level in the project's domains.
    pub level: ExpertiseLevel,
    /// The voter's gold answers scored right.
    pub gold_correct: i64,
    /// The voter's gold answers scored.
    pub gold_scored: i64,
}

/// What settling an item needs.
#[derive(Debug, Clone, Copy)]
pub struct SettleContext<'a, P> {
    /// The project.
    pub project: ProjectId,
    /// The item's own id.
    pub item: &'a str,
    /// Its task kind.
    pub kind: TaskKind,
    /// Its canonical JSON (for its candidates).
    pub item_body: &'a str,
    /// Every annotator judgment of it.
    pub votes: &'a [Vote<P>],
    /// A reviewer decided it already.
    pub decided: bool,
    /// The project's settings.
    pub settings: &'a ProjectSettings,
    /// Members of the project with verified expert-level expertise in its domains.
    pub experts_in_project: u32,
}

/// The state an item settles to once it has `overlap` annotator judgments, with the
/// event; `None` while it has fewer or after a reviewer decided it.
///
/// Without experts in the project, agreement decides: unanimous items are resolved,
/// others go to adjudication. With experts, a preference item is decided by its
/// reliability-weighted posterior (the export's reliability rule): at or above the
/// project's `decision_threshold` plus a margin ([`settles_decided`]) it is resolved;
/// below it, the item stays open for one more (expert) judgment while it has
/// fewer than `max_overlap` and some expert of the project has not judged it; then it
/// goes to adjudication.
pub fn settle<P: AsRef<str>>(
    ctx: &SettleContext<'_, P>,
) -> Result<Option<(ItemState, AuditEvent)>> {
    let s = ctx.settings;
    let n = ctx.votes.len();
    if ctx.decided || n < s.overlap as usize {
        return Ok(None);
    }
    let parsed = ctx
        .votes
        .iter()
        .map(|v| stored_payload(ctx.kind, v.payload.as_ref()))
        .collect::<Result<Vec<Payload>>>()?;
    let unanimous = consensus(&parsed, s);
    let action = if ctx.experts_in_project == 0 || ctx.kind != TaskKind::Preference {
        if unanimous {
            AuditAction::ItemConsensus
        } else {
            AuditAction::ItemContest
        }
    } else {
        let posterior = preference_posterior(ctx.item_body, &parsed, ctx.votes)?;
        let expert_voters = ctx
            .votes
            .iter()
            .filter(|v| v.level == ExpertiseLevel::Expert)
            .count() as u32;
        // Votes that are all ties call the candidates level: unanimous, nothing to weigh.
        let clears =
            |bar: fn(f64, f64) -> bool| posterior.is_none_or(|p| bar(p, s.decision_threshold));
        let may_escalate =
            (n as u32) < s.effective_max_overlap() && expert_voters < ctx.experts_in_project;
        // The margin asks for one more expert while one can be had; with none left, the
        // threshold alone decides, as it does in the export.
        if clears(settles_decided) || (!may_escalate && clears(reaches)) {
            if unanimous {
                AuditAction::ItemConsensus
            } else {
                AuditAction::ItemDecide
            }
        } else if may_escalate {
            AuditAction::ItemEscalate
        } else {
            AuditAction::ItemContest
        }
    };
    let state = match action {
        AuditAction::ItemEscalate => ItemState::Open,
        AuditAction::ItemContest => ItemState::Adjudication,
        _ => ItemState::Resolved,
    };
    let event = AuditEvent::new(action, "item")
        .object(ctx.item)
        .in_project(ctx.project);
    Ok(Some((state, event)))
}

/// The posterior of the winning candidate of preference votes, each weighted by its
/// voter's reliability: the export's reliability rule (the one-coin model over the
/// candidates; a tie vote is evidence for neither), so an item the engine settles as
/// decided is one the default export keeps at the same threshold.
fn preference_posterior<P>(
    body: &str,
    parsed: &[Payload],
    votes: &[Vote<P>],
) -> Result<Option<f64>> {
    let options = candidate_ids(body)?;
    let k = options.len();
    let weighted: Vec<(u32, f64)> = parsed
        .iter()
        .zip(votes)
        .filter_map(|(p, v)| {
            let Payload::Preference(p) = p else {
                return None;
            };
            let option = options
                .iter()
                .position(|o| Some(o.as_str()) == p.winner.candidate())?;
            let r = reliability(v.level, v.gold_correct, v.gold_scored);
            Some((option as u32, vote_weight(r, k)))
        })
        .collect();
    if weighted.is_empty() {
        // Only ties: nothing names a winner.
        return Ok(None);
    }
    let mut out = vec![0.0; k];
    let d = decide_into(&weighted, None, &mut out)
        .map_err(|e| StoreError::Database(format!("deciding an item: {e}")))?;
    Ok(Some(d.posterior))
}

/// Whether a submission that brought an item to `judgments` annotator judgments can
/// settle it (the backend then reads the payloads for [`settle`]).
pub fn reaches_overlap(judgments: i64, settings: &ProjectSettings) -> bool {
    judgments >= i64::from(settings.overlap)
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

    fn votes<'a>(
        payloads: &[&'a str],
        level: ExpertiseLevel,
        gold: (i64, i64),
    ) -> Vec<Vote<&'a str>> {
        payloads
            .iter()
            .map(|p| Vote {
                payload: *p,
                level,
                gold_correct: gold.0,
                gold_scored: gold.1,
            })
            .collect()
    }

    fn settle_with<'a>(
        v: &'a [Vote<&'a str>],
        decided: bool,
        s: &'a ProjectSettings,
        experts: u32,
    ) -> Option<(ItemState, AuditAction)> {
        let ctx = SettleContext {
            project: ProjectId(1),
            item: "x",
            kind: TaskKind::Preference,
            item_body: BODY,
            votes: v,
            decided,
            settings: s,
            experts_in_project: experts,
        };
        settle(&ctx).unwrap().map(|(state, e)| (state, e.action))
    }

    const A: &str = r#"{"winner":"a","strength":1,"criteria":{"accuracy":"a"}}"#;
    const B: &str = r#"{"winner":"b","strength":1,"criteria":{"accuracy":"b"}}"#;

    #[test]
    fn settling_needs_the_overlap_and_no_decision() {
        let s = ProjectSettings {
            overlap: 2,
            ..ProjectSettings::default()
        };
        let none = ExpertiseLevel::None;
        assert_eq!(settle_with(&votes(&[A], none, (0, 0)), false, &s, 0), None);
        assert_eq!(
            settle_with(&votes(&[A, B], none, (0, 0)), true, &s, 0),
            None
        );
        assert_eq!(
            settle_with(&votes(&[A, A], none, (0, 0)), false, &s, 0),
            Some((ItemState::Resolved, AuditAction::ItemConsensus))
        );
        assert_eq!(
            settle_with(&votes(&[A, B], none, (0, 0)), false, &s, 0),
            Some((ItemState::Adjudication, AuditAction::ItemContest))
        );
    }

    #[test]
    fn with_experts_the_posterior_decides_escalates_or_contests() {
        let s = ProjectSettings {
            overlap: 3,
            max_overlap: Some(4),
            ..ProjectSettings::default()
        };
        let mut v = votes(&[B, B], ExpertiseLevel::None, (27, 50));
        v.extend(votes(&[A], ExpertiseLevel::Expert, (46, 50)));
        // One reliable expert against two unreliable voters: too close to call at 0.9.
        assert_eq!(
            settle_with(&v, false, &s, 2),
            Some((ItemState::Open, AuditAction::ItemEscalate))
        );
        // Every expert of the project has judged it: nothing left to wait for.
        assert_eq!(
            settle_with(&v, false, &s, 1),
            Some((ItemState::Adjudication, AuditAction::ItemContest))
        );
        // A second expert settles it for the experts, not the majority.
        v.extend(votes(&[A], ExpertiseLevel::Expert, (46, 50)));
        assert_eq!(
            settle_with(&v, false, &s, 2),
            Some((ItemState::Resolved, AuditAction::ItemDecide))
        );
        // Crowd unanimity without an expert is not taken as truth when it is weak.
        let crowd = votes(&[B, B, B], ExpertiseLevel::None, (25, 50));
        assert_eq!(
            settle_with(&crowd, false, &s, 2),
            Some((ItemState::Open, AuditAction::ItemEscalate))
        );
    }

    #[test]
    fn settling_weighs_votes_as_the_export_does_and_keeps_a_margin() {
        let s = ProjectSettings {
            overlap: 3,
            max_overlap: Some(5),
            ..ProjectSettings::default()
        };
        const TIE: &str = r#"{"winner":"tie","strength":0,"criteria":{"accuracy":"tie"}}"#;
        // The export's rule, over the two candidates: a crowd pair at the prior 0.65
        // (log-odds 0.62 each) against one expert at the prior 0.9 (2.20) leaves the
        // expert's side at 0.72, too close to settle.
        let mut v = votes(&[B, B], ExpertiseLevel::None, (0, 0));
        v.extend(votes(&[A], ExpertiseLevel::Expert, (0, 0)));
        assert_eq!(
            settle_with(&v, false, &s, 2),
            Some((ItemState::Open, AuditAction::ItemEscalate))
        );
        // A tie vote is evidence for neither: one expert and two ties rest on the expert
        // alone, whose 0.9 is the threshold but not the margin above it.
        let mut v = votes(&[TIE, TIE], ExpertiseLevel::None, (0, 0));
        v.extend(votes(&[A], ExpertiseLevel::Expert, (0, 0)));
        assert_eq!(
            settle_with(&v, false, &s, 2),
            Some((ItemState::Open, AuditAction::ItemEscalate))
        );
        // With no expert left to ask, the threshold alone decides, as in the export.
        assert_eq!(
            settle_with(&v, false, &s, 1),
            Some((ItemState::Resolved, AuditAction::ItemDecide))
        );
        // A second expert agreeing clears the margin (0.988).
        v.extend(votes(&[A], ExpertiseLevel::Expert, (0, 0)));
        assert_eq!(
            settle_with(&v, false, &s, 2),
            Some((ItemState::Resolved, AuditAction::ItemDecide))
        );
        // Only ties: every voter calls the candidates level, a consensus the export
        // leaves out as a tie.
        let ties = votes(&[TIE, TIE, TIE], ExpertiseLevel::Expert, (0, 0));
        assert_eq!(
            settle_with(&ties, false, &s, 3),
            Some((ItemState::Resolved, AuditAction::ItemConsensus))
        );
    }

    #[test]
    fn the_settle_bar_is_the_threshold_plus_the_margin() {
        assert!(!settles_decided(0.92, 0.9));
        assert!(settles_decided(0.94, 0.9));
        assert!(settles_decided(1.0, 1.0));
        assert!(!settles_decided(0.999, 1.0));
        // Half a nat above 0.6 is 0.712.
        assert!(!settles_decided(0.71, 0.6) && settles_decided(0.713, 0.6));
    }
}
