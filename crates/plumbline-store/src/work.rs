//! The annotation engine's storage: handing out work (assignment), taking judgments,
//! gold, consensus and adjudication, and progress counts (DESIGN.md "Assignment").
//!
//! This module holds the engine's types and its storage trait. Every decision lives in
//! [`crate::engine`], without IO, so both backends apply exactly the same policy; the
//! backends only read the context a decision needs and write its result, each in one
//! short transaction that stays exact under concurrency (SQLite: one writer, group
//! commit; PostgreSQL: `FOR NO KEY UPDATE SKIP LOCKED` row locks, pipelined statements).

pub use crate::engine::{agree, consensus, is_gold_draw, kendall_distance};
pub use crate::states::{AssignmentState, ItemState, Purpose, QualificationState};
use crate::{Result, StoreError};
use plumbline_domain::{
    AssignmentId, GoldId, ItemId, JudgmentError, JudgmentId, ProjectId, RubricVersion, TaskKind,
    UserId,
};
use serde::Serialize;
use std::future::Future;
use thiserror::Error;

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
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    /// The annotator's hidden-gold accuracy is clearly below the project's minimum; a
    /// lead can reinstate them.
    /// (No counts: they would tell the annotator which of their tasks were gold.)
    Probation {
        /// The project's minimum accuracy.
        min_accuracy: f64,
    },
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
            NoTask::Probation { min_accuracy } => format!(
                "your answers on this project's check items are clearly below its minimum \
                 accuracy of {:.0}%, so no more work is given to you here until a lead \
                 reinstates you",
                min_accuracy * 100.0
            ),
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

/// What a submission did: that it was stored, and nothing about the item (its state
/// after the submission would say whether the others agreed, and whether it was work).
#[derive(Debug, Clone, Serialize)]
pub struct SubmitOutcome {
    /// The stored judgment.
    pub judgment: JudgmentId,
    /// True when it replaced an earlier submission of the same assignment (history kept).
    pub resubmitted: bool,
    /// True when the judgment breaks the priority rule and was kept by an override.
    pub priority_inversion: bool,
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
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
    #[schema(value_type = Object)]
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
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
    #[schema(value_type = Object)]
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
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
    /// Where the annotator stands.
    pub state: QualificationState,
    /// Qualification items judged correctly.
    pub correct: i64,
    /// Qualification items judged.
    pub total: i64,
}

/// Counts per annotator.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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

/// Items of a project by state (gold excluded).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ItemCounts {
    /// Waiting for judgments.
    pub open: i64,
    /// Waiting for a reviewer.
    pub adjudication: i64,
    /// Settled.
    pub resolved: i64,
}

impl ItemCounts {
    /// Adds `n` items in `state`.
    pub fn add(&mut self, state: ItemState, n: i64) {
        match state {
            ItemState::Open => self.open += n,
            ItemState::Adjudication => self.adjudication += n,
            ItemState::Resolved => self.resolved += n,
        }
    }

    /// Every item counted.
    pub fn total(&self) -> i64 {
        self.open + self.adjudication + self.resolved
    }
}

/// A project's progress.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Progress {
    /// Items by state, gold excluded.
    pub items: ItemCounts,
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
    pub state: Option<ItemState>,
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

    /// The project's gold candidates (of one state, when given), oldest first.
    fn gold_candidates(
        &self,
        project: ProjectId,
        state: Option<String>,
    ) -> impl Future<Output = Result<Vec<crate::GoldCandidate>>> + Send;

    /// Accepts a pending gold candidate: its payload (or `payload`, the lead's completed
    /// version of it) is validated and stored as the item's new gold version, with the
    /// gold path's event and a `gold.candidate.accept` event, in one transaction.
    fn accept_gold_candidate(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        id: i64,
        payload: Option<String>,
    ) -> impl Future<Output = WorkResult<GoldRecord>> + Send;

    /// A reviewer's proposal of `payload` as the gold answer of `item`: validated against
    /// the item and the current rubric, stored as a pending candidate for a lead to
    /// accept or reject, with its audit event. The same proposal twice is a conflict.
    fn propose_gold_candidate(
        &self,
        reviewer: UserId,
        project: ProjectId,
        item: String,
        payload: String,
    ) -> impl Future<Output = WorkResult<crate::GoldCandidate>> + Send;

    /// Rejects a pending gold candidate (kept, decided), with its audit event.
    fn reject_gold_candidate(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        id: i64,
    ) -> impl Future<Output = Result<crate::GoldCandidate>> + Send;

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

    /// Work items `annotator` could still be given in `project`: open, not gold, below
    /// the overlap counting live leases, never assigned to them (judged, skipped or
    /// held), and requiring no expertise beyond their verified expertise. An upper
    /// bound on what `next_task` leases them: tag quotas, the expert reservation and
    /// the qualification and probation gates are left out. It moves by leases and
    /// judgments only, never by whether judgments agreed (an item leaves at its
    /// overlap either way), so it tells an annotator nothing of the others' answers;
    /// gold is left out, so it tells nothing of which of their items were gold.
    fn waiting_for(
        &self,
        annotator: UserId,
        project: ProjectId,
    ) -> impl Future<Output = Result<i64>> + Send;

    /// A page of items in import order after `after`, filtered (keyset pagination).
    fn items_page(
        &self,
        project: ProjectId,
        filter: ItemFilter,
        after: Option<ItemId>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<crate::StoredItem>>> + Send;

    /// The gold answer `annotator` may see for `item` as training feedback (see
    /// [`crate::engine::submit::training_feedback`]): the item's active gold after their
    /// miss on it in their qualification set while undecided; `None` otherwise, an
    /// unknown item included.
    fn training_feedback(
        &self,
        project: ProjectId,
        annotator: UserId,
        item: &str,
    ) -> impl Future<Output = Result<Option<GoldRecord>>> + Send;

    /// Every annotator judgment of an item with its history.
    fn judgments_of(
        &self,
        project: ProjectId,
        item: &str,
    ) -> impl Future<Output = Result<Vec<StoredJudgment>>> + Send;
}
