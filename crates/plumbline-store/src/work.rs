//! The annotation engine's storage: handing out work (assignment), taking judgments,
//! gold, consensus and adjudication, and progress counts (DESIGN.md "Assignment").
//!
//! The rules that need no database live here as pure functions (hidden-gold draw,
//! display-order shuffle, agreement between judgments, expertise sets), so both
//! backends apply exactly the same policy; the backends only differ in how they make
//! each step one short transaction that stays exact under concurrency (SQLite: one
//! writer, IMMEDIATE transactions; PostgreSQL: `FOR UPDATE SKIP LOCKED` row locks).

use crate::{Result, StoreError};
use plumbline_domain::{
    AssignmentId, Expertise, GoldId, Item, ItemId, JudgmentError, JudgmentId, Payload, ProjectId,
    ProjectSettings, Rubric, RubricVersion, TaskKind, UserId, ValidatedJudgment,
};
use serde::Serialize;
use std::collections::HashMap;
use std::future::Future;
use thiserror::Error;

/// Why an assignment was made: qualification, hidden gold, or regular work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Regular work that counts toward an item's overlap.
    Work,
    /// A hidden gold check, served at the project's gold rate.
    Gold,
    /// Part of the annotator's qualification set.
    Qualification,
}

impl Purpose {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Work => "work",
            Purpose::Gold => "gold",
            Purpose::Qualification => "qualification",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Result<Purpose> {
        match s {
            "work" => Ok(Purpose::Work),
            "gold" => Ok(Purpose::Gold),
            "qualification" => Ok(Purpose::Qualification),
            other => Err(StoreError::Database(format!(
                "unknown assignment purpose `{other}`"
            ))),
        }
    }
}

/// A leased task as the annotator receives it. Hidden gold looks exactly like work:
/// `purpose` is for the store's callers and tests, never sent to the annotator.
#[derive(Debug, Clone, Serialize)]
pub struct Task {
    /// The lease.
    pub assignment: AssignmentId,
    /// Database id of the item.
    pub item_id: ItemId,
    /// The item's own id.
    pub item: String,
    /// The item's task kind.
    pub task: TaskKind,
    /// Canonical JSON of the item.
    pub body: String,
    /// Candidate ids in the order they are shown (randomized per assignment).
    pub display_order: Vec<String>,
    /// Rubric version the judgment is made under.
    pub rubric_version: RubricVersion,
    /// The annotator's n-th assignment in the project, from 1.
    pub seq: i64,
    /// Lease start, Unix milliseconds.
    pub leased_at: i64,
    /// Lease end, Unix milliseconds; a submission after it is refused.
    pub expires_at: i64,
    /// Why it was served (not shown to the annotator).
    #[serde(skip)]
    pub purpose: Purpose,
}

/// Why `next` has no task for the annotator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum NoTask {
    /// Nothing left this annotator may judge (for now: leases of others may expire).
    Drained,
    /// The annotator lacks verified expertise the project requires.
    MissingExpertise {
        /// The requirement not met.
        required: String,
    },
    /// The annotator failed qualification; a lead must reset them.
    QualificationFailed,
    /// Every qualification item is leased; judge them to continue.
    QualificationPending,
    /// The project has too little active gold to qualify anyone.
    NotEnoughGold,
}

impl NoTask {
    /// A sentence for people.
    pub fn message(&self) -> String {
        match self {
            NoTask::Drained => "no item is waiting for you in this project".into(),
            NoTask::MissingExpertise { required } => format!(
                "this project needs verified expertise `{required}`; ask a lead to verify yours"
            ),
            NoTask::QualificationFailed => {
                "you did not pass this project's qualification; a lead can reset it".into()
            }
            NoTask::QualificationPending => {
                "submit your open qualification tasks before taking more".into()
            }
            NoTask::NotEnoughGold => {
                "the project has too little gold for its qualification set; ask a lead".into()
            }
        }
    }
}

/// What `next` returns.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Next {
    /// A task, leased to the annotator.
    Task(Box<Task>),
    /// No task, and why.
    None(NoTask),
}

/// A judgment as submitted: the payload's JSON text and the time on task.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The payload (its kind comes from the item, never from the payload).
    pub payload: String,
    /// Milliseconds the annotator spent, as measured by the client; `None` lets the
    /// store take the time since the lease.
    pub time_ms: Option<i64>,
}

/// What a submission did.
#[derive(Debug, Clone, Serialize)]
pub struct SubmitOutcome {
    /// The stored judgment.
    pub judgment: JudgmentId,
    /// True when it replaced an earlier submission of the same assignment (history kept).
    pub resubmitted: bool,
    /// True when the judgment breaks the priority rule and was kept by an override.
    pub priority_inversion: bool,
    /// The item's state afterwards.
    pub item_state: crate::ItemState,
    /// Time on task recorded, ms.
    pub time_ms: i64,
}

/// Why a work operation was refused.
#[derive(Debug, Error)]
pub enum WorkError {
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The payload is not valid for the item and rubric (names the field or criterion).
    #[error(transparent)]
    Payload(#[from] JudgmentError),
    /// The assignment belongs to someone else.
    #[error("{0}")]
    Forbidden(String),
    /// The lease has expired (or the assignment was skipped).
    #[error("{0}")]
    Expired(String),
}

impl From<rusqlite::Error> for WorkError {
    fn from(e: rusqlite::Error) -> Self {
        WorkError::Store(e.into())
    }
}

impl From<tokio_postgres::Error> for WorkError {
    fn from(e: tokio_postgres::Error) -> Self {
        WorkError::Store(e.into())
    }
}

impl From<serde_json::Error> for WorkError {
    fn from(e: serde_json::Error) -> Self {
        WorkError::Store(e.into())
    }
}

/// Result of a work operation.
pub type WorkResult<T> = std::result::Result<T, WorkError>;

/// A gold reference judgment.
#[derive(Debug, Clone, Serialize)]
pub struct GoldRecord {
    /// Database id.
    pub id: GoldId,
    /// The item's own id.
    pub item: String,
    /// Version of this item's gold, from 1.
    pub version: i64,
    /// Rubric version it was made under.
    pub rubric_version: RubricVersion,
    /// The payload (JSON).
    pub payload: serde_json::Value,
    /// Why.
    pub rationale: Option<String>,
    /// `expert`, `adjudication` or `import`.
    pub origin: String,
    /// Who made it.
    pub created_by: Option<UserId>,
    /// When, Unix milliseconds.
    pub created_at: i64,
    /// Only the newest version of an item's gold is active.
    pub active: bool,
    /// Made under an older rubric version than the current one.
    pub needs_revalidation: bool,
}

/// A new gold judgment for an item.
#[derive(Debug, Clone)]
pub struct NewGold {
    /// The item's own id.
    pub item: String,
    /// The payload JSON text, validated against the item and the current rubric.
    pub payload: String,
}

/// One judgment of an item, as a reviewer sees it.
#[derive(Debug, Clone, Serialize)]
pub struct JudgmentView {
    /// Database id.
    pub id: JudgmentId,
    /// Who.
    pub annotator: Option<UserId>,
    /// Their name.
    pub annotator_name: Option<String>,
    /// Their verified expertise.
    pub expertise: Vec<String>,
    /// Their gold accuracy in the project: (correct, scored).
    pub gold_correct: i64,
    /// Gold judgments of theirs that were scored.
    pub gold_scored: i64,
    /// The payload.
    pub payload: serde_json::Value,
    /// Priority inversion by override.
    pub priority_inversion: bool,
    /// Rubric version.
    pub rubric_version: RubricVersion,
    /// Display order the annotator saw.
    pub display_order: Option<Vec<String>>,
    /// Time on task, ms.
    pub time_ms: Option<i64>,
}

/// An item waiting for adjudication, with its judgments.
#[derive(Debug, Clone, Serialize)]
pub struct AdjudicationCase {
    /// Database id of the item.
    pub item_id: ItemId,
    /// The item's own id.
    pub item: String,
    /// Task kind.
    pub task: TaskKind,
    /// Canonical JSON of the item.
    pub body: String,
    /// Every annotator judgment of it.
    pub judgments: Vec<JudgmentView>,
}

/// A reviewer's decision.
#[derive(Debug, Clone)]
pub struct Decision {
    /// The item's own id.
    pub item: String,
    /// The decided payload (JSON text), validated like a judgment.
    pub payload: String,
    /// Why; required.
    pub rationale: String,
    /// Also make it the item's active gold.
    pub promote_to_gold: bool,
}

/// A stored decision.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionRecord {
    /// Database id of the adjudication.
    pub id: i64,
    /// The item's own id.
    pub item: String,
    /// The gold it was promoted to.
    pub gold: Option<GoldId>,
}

/// An annotator's qualification in a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Qualification {
    /// `pending`, `passed` or `failed`.
    pub state: String,
    /// Qualification items judged correctly.
    pub correct: i64,
    /// Qualification items judged.
    pub total: i64,
}

/// Counts per annotator.
#[derive(Debug, Clone, Serialize)]
pub struct AnnotatorProgress {
    /// Who.
    pub user: UserId,
    /// Name.
    pub name: String,
    /// Judgments submitted (all purposes).
    pub judgments: i64,
    /// Live leases.
    pub leased: i64,
    /// Skips.
    pub skipped: i64,
    /// Leases that expired.
    pub expired: i64,
    /// Gold judgments scored correct.
    pub gold_correct: i64,
    /// Gold judgments scored.
    pub gold_scored: i64,
    /// Overrides of the priority rule.
    pub priority_inversions: i64,
}

/// A project's progress.
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    /// Items by state (`open`, `adjudication`, `resolved`), gold excluded.
    pub items: HashMap<String, i64>,
    /// Gold items.
    pub gold_items: i64,
    /// Annotator judgments.
    pub judgments: i64,
    /// Live leases.
    pub leases: i64,
    /// Priority inversions (overrides).
    pub priority_inversions: i64,
    /// Adjudication decisions.
    pub adjudications: i64,
    /// Per annotator, by name.
    pub annotators: Vec<AnnotatorProgress>,
}

/// A stored judgment with its history, for audits and tests.
#[derive(Debug, Clone, Serialize)]
pub struct StoredJudgment {
    /// Database id.
    pub id: JudgmentId,
    /// Assignment.
    pub assignment: Option<AssignmentId>,
    /// Item.
    pub item_id: ItemId,
    /// Annotator.
    pub user: Option<UserId>,
    /// Payload JSON.
    pub payload: String,
    /// Priority inversion.
    pub priority_inversion: bool,
    /// Time on task.
    pub time_ms: Option<i64>,
    /// Display order seen.
    pub display_order: Option<Vec<String>>,
    /// Gold score: `Some(true)` correct, `Some(false)` wrong, `None` not gold.
    pub gold_correct: Option<bool>,
    /// Earlier payloads, oldest first.
    pub history: Vec<String>,
    /// First submission, Unix milliseconds (the time drift is measured by).
    pub submitted_at: i64,
    /// Latest (re)submission, Unix milliseconds.
    pub updated_at: i64,
}

/// Which items a listing returns.
#[derive(Debug, Clone, Copy, Default)]
pub struct ItemFilter {
    /// Only items in this state.
    pub state: Option<crate::ItemState>,
    /// Only gold items (`true`) or only non-gold items (`false`).
    pub gold: Option<bool>,
}

/// The engine's storage. Every method is one transaction with its audit event.
pub trait WorkStore: Send + Sync {
    /// Leases the next task for `annotator` in `project` (DESIGN.md "Assignment").
    fn next_task(
        &self,
        annotator: UserId,
        project: ProjectId,
    ) -> impl Future<Output = Result<Next>> + Send;

    /// Submits (or, inside the lease, resubmits) the judgment of an assignment.
    fn submit(
        &self,
        annotator: UserId,
        project: ProjectId,
        assignment: AssignmentId,
        submission: Submission,
    ) -> impl Future<Output = WorkResult<SubmitOutcome>> + Send;

    /// The annotator's live lease in `project` (leased, not expired, not submitted or
    /// skipped), the oldest if several: what `next` hands back after a page reload
    /// instead of leasing a second item. Same assignment, display order and expiry.
    fn held_task(
        &self,
        annotator: UserId,
        project: ProjectId,
    ) -> impl Future<Output = Result<Option<Task>>> + Send;

    /// The annotator's [`held_task`](Self::held_task) with `true`, else
    /// [`next_task`](Self::next_task) with `false`: what the API's and the judging
    /// page's `next` do (one transaction on PostgreSQL).
    fn held_or_next(
        &self,
        annotator: UserId,
        project: ProjectId,
    ) -> impl Future<Output = Result<(Next, bool)>> + Send;

    /// Gives a leased assignment back with a reason.
    fn skip(
        &self,
        annotator: UserId,
        project: ProjectId,
        assignment: AssignmentId,
        reason: String,
    ) -> impl Future<Output = WorkResult<()>> + Send;

    /// Returns expired leases of `project` to the pool; how many. `next_task` does this
    /// too, so it never needs a background job.
    fn reclaim_expired(&self, project: ProjectId) -> impl Future<Output = Result<u64>> + Send;

    /// An annotator's qualification state (`pending` with zero counts if none yet).
    fn qualification(
        &self,
        project: ProjectId,
        annotator: UserId,
    ) -> impl Future<Output = Result<Qualification>> + Send;

    /// Lets an annotator take the qualification again (a lead's decision).
    fn reset_qualification(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        annotator: UserId,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Stores a new gold version for an item (the item becomes a gold item; older
    /// versions of its gold become inactive).
    fn add_gold(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        gold: NewGold,
    ) -> impl Future<Output = WorkResult<GoldRecord>> + Send;

    /// Every gold version of the project (or of one item), newest first per item.
    fn gold(
        &self,
        project: ProjectId,
        item: Option<String>,
    ) -> impl Future<Output = Result<Vec<GoldRecord>>> + Send;

    /// Items waiting for adjudication, oldest first, at most `limit`.
    fn adjudication_queue(
        &self,
        project: ProjectId,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<AdjudicationCase>>> + Send;

    /// A reviewer's decision on an item in the queue; resolves it.
    fn adjudicate(
        &self,
        reviewer: UserId,
        project: ProjectId,
        decision: Decision,
    ) -> impl Future<Output = WorkResult<DecisionRecord>> + Send;

    /// Progress counts of a project.
    fn progress(&self, project: ProjectId) -> impl Future<Output = Result<Progress>> + Send;

    /// A page of items in import order after `after`, filtered (keyset pagination).
    fn items_page(
        &self,
        project: ProjectId,
        filter: ItemFilter,
        after: Option<ItemId>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<crate::StoredItem>>> + Send;

    /// Every annotator judgment of an item with its history.
    fn judgments_of(
        &self,
        project: ProjectId,
        item: &str,
    ) -> impl Future<Output = Result<Vec<StoredJudgment>>> + Send;
}

// ---- Pure policy shared by both backends -----------------------------------------

/// SplitMix64: a fast, well-mixed 64-bit hash step.
pub(crate) fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Whether the annotator's `seq`-th assignment in `project` is a hidden-gold draw:
/// deterministic per (project, annotator, seq), with probability `rate`.
pub fn is_gold_draw(project: ProjectId, annotator: UserId, seq: i64, rate: f64) -> bool {
    if rate <= 0.0 {
        return false;
    }
    let h = splitmix(splitmix(splitmix(project.0 as u64) ^ annotator.0 as u64) ^ seq as u64);
    ((h >> 11) as f64 / (1u64 << 53) as f64) < rate
}

/// A random permutation of `ids` (the display order of one assignment).
pub(crate) fn shuffled(mut ids: Vec<String>) -> Vec<String> {
    let mut seed = [0u8; 8];
    if getrandom::fill(&mut seed).is_err() {
        seed = crate::now_ms().to_le_bytes();
    }
    let mut state = u64::from_le_bytes(seed);
    for i in (1..ids.len()).rev() {
        state = splitmix(state);
        let j = (state % (i as u64 + 1)) as usize;
        ids.swap(i, j);
    }
    ids
}

/// Candidate ids of an item body, in stored order, without parsing the whole item.
pub(crate) fn candidate_ids(body: &str) -> Result<Vec<String>> {
    #[derive(serde::Deserialize)]
    struct Cand {
        id: String,
    }
    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(default)]
        candidates: Vec<Cand>,
    }
    let b: Body = serde_json::from_str(body)?;
    Ok(b.candidates.into_iter().map(|c| c.id).collect())
}

/// The tags of an item body.
pub(crate) fn item_tags(body: &str) -> Result<Vec<String>> {
    #[derive(serde::Deserialize)]
    struct Tags {
        #[serde(default)]
        tags: Vec<String>,
    }
    Ok(serde_json::from_str::<Tags>(body)?.tags)
}

/// Every `domain:level` string that `verified` expertise satisfies (a requirement
/// string matches when it is in the set).
pub(crate) fn satisfied_requirements(verified: &[Expertise]) -> Vec<String> {
    use plumbline_domain::Level;
    let mut out = Vec::new();
    for e in verified {
        for level in [Level::Novice, Level::Practitioner, Level::Expert] {
            if level <= e.level {
                out.push(format!("{}:{}", e.domain, level.as_str()));
            }
        }
    }
    out
}

/// The first project requirement `verified` does not meet.
pub(crate) fn missing_requirement(
    settings: &ProjectSettings,
    verified: &[Expertise],
) -> Option<String> {
    settings
        .required_expertise
        .iter()
        .find(|r| !verified.iter().any(|e| e.satisfies(r)))
        .map(|r| r.to_string())
}

/// Parses and validates a payload for `item_body` under `rubric`.
pub(crate) fn validate_payload(
    item_body: &str,
    default_task: TaskKind,
    rubric: &Rubric,
    payload: &str,
) -> WorkResult<ValidatedJudgment> {
    let item = Item::from_json(item_body, default_task)
        .map_err(|e| StoreError::Database(format!("stored item is unreadable: {e}")))?;
    let kind = item.task_or(default_task);
    let parsed = Payload::from_json(kind, payload)?;
    Ok(parsed.validate(&item, rubric)?)
}

/// Normalised Kendall distance between two rankings (tie groups best first): the share
/// of candidate pairs ordered differently, a tie against a strict order counting one
/// half. 0 = same order, 1 = reversed.
pub fn kendall_distance(a: &[Vec<String>], b: &[Vec<String>]) -> f64 {
    let pos = |order: &[Vec<String>]| -> HashMap<String, usize> {
        order
            .iter()
            .enumerate()
            .flat_map(|(i, g)| g.iter().map(move |id| (id.clone(), i)))
            .collect()
    };
    let (pa, pb) = (pos(a), pos(b));
    let mut ids: Vec<&String> = pa.keys().filter(|k| pb.contains_key(*k)).collect();
    ids.sort();
    let (mut pairs, mut dist) = (0u64, 0.0f64);
    for i in 0..ids.len() {
        for j in i + 1..ids.len() {
            let sa = (pa[ids[i]] as i64 - pa[ids[j]] as i64).signum();
            let sb = (pb[ids[i]] as i64 - pb[ids[j]] as i64).signum();
            pairs += 1;
            if sa != sb {
                dist += if sa == 0 || sb == 0 { 0.5 } else { 1.0 };
            }
        }
    }
    if pairs == 0 { 0.0 } else { dist / pairs as f64 }
}

/// Whether two payloads of the same kind agree under the project's thresholds
/// (preference: same winner; ranking: Kendall distance within `ranking_agreement`;
/// rating: every score within `rating_spread`; red team: same outcome; demonstration:
/// free text never conflicts).
pub fn agree(a: &Payload, b: &Payload, settings: &ProjectSettings) -> bool {
    match (a, b) {
        (Payload::Preference(x), Payload::Preference(y)) => x.winner == y.winner,
        (Payload::Ranking(x), Payload::Ranking(y)) => {
            kendall_distance(&x.order, &y.order) <= settings.ranking_agreement + 1e-9
        }
        (Payload::Rating(x), Payload::Rating(y)) => x.scores.iter().all(|(cand, scores)| {
            scores.iter().all(|(crit, s)| {
                y.scores
                    .get(cand)
                    .and_then(|m| m.get(crit))
                    .is_none_or(|t| (s - t).unsigned_abs() <= settings.rating_spread as u64)
            })
        }),
        (Payload::RedTeam(x), Payload::RedTeam(y)) => x.outcome == y.outcome,
        (Payload::Demonstration(_), Payload::Demonstration(_)) => true,
        _ => false,
    }
}

/// Whether every payload agrees with every other (consensus).
pub fn consensus(payloads: &[Payload], settings: &ProjectSettings) -> bool {
    payloads
        .iter()
        .enumerate()
        .all(|(i, a)| payloads[i + 1..].iter().all(|b| agree(a, b, settings)))
}

/// Parses stored payload text of `kind` (already validated when stored).
pub(crate) fn stored_payload(kind: TaskKind, json: &str) -> Result<Payload> {
    Payload::from_json(kind, json)
        .map_err(|e| StoreError::Database(format!("stored judgment is unreadable: {e}")))
}

/// Whether a qualification with `correct` of `total` passes at share `pass`.
pub(crate) fn passes(correct: i64, total: i64, pass: f64) -> bool {
    total > 0 && (correct as f64) >= pass * total as f64 - 1e-9
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(groups: &[&[&str]]) -> Vec<Vec<String>> {
        groups
            .iter()
            .map(|g| g.iter().map(|s| s.to_string()).collect())
            .collect()
    }

    #[test]
    fn kendall_distance_counts_discordant_pairs() {
        let abc = order(&[&["a"], &["b"], &["c"]]);
        assert_eq!(kendall_distance(&abc, &abc), 0.0);
        assert_eq!(
            kendall_distance(&abc, &order(&[&["c"], &["b"], &["a"]])),
            1.0
        );
        let d = kendall_distance(&abc, &order(&[&["b"], &["a"], &["c"]]));
        assert!((d - 1.0 / 3.0).abs() < 1e-12);
        let t = kendall_distance(&abc, &order(&[&["a", "b"], &["c"]]));
        assert!((t - 0.5 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn gold_draw_is_deterministic_and_near_the_rate() {
        let hits = (1..=20_000)
            .filter(|&s| is_gold_draw(ProjectId(3), UserId(7), s, 0.1))
            .count();
        assert!((1_800..2_200).contains(&hits), "{hits}");
        assert_eq!(
            is_gold_draw(ProjectId(1), UserId(2), 3, 0.5),
            is_gold_draw(ProjectId(1), UserId(2), 3, 0.5)
        );
        assert!(!(1..1000).any(|s| is_gold_draw(ProjectId(1), UserId(1), s, 0.0)));
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let ids: Vec<String> = (0..6).map(|i| i.to_string()).collect();
        let mut s = shuffled(ids.clone());
        s.sort();
        assert_eq!(s, ids);
    }

    #[test]
    fn expertise_levels_satisfy_lower_requirements() {
        let e: Expertise = "banking:practitioner".parse().unwrap();
        let s = satisfied_requirements(&[e]);
        assert_eq!(s, ["banking:novice", "banking:practitioner"]);
    }

    #[test]
    fn qualification_threshold() {
        assert!(passes(4, 5, 0.8));
        assert!(!passes(3, 5, 0.8));
        assert!(!passes(0, 0, 0.0));
    }
}
