//! What exports, the evaluation split and releases read and record: streams of items
//! with their stored split, and the split written back in one transaction.

use crate::Result;
use plumbline_domain::{ProjectId, Split, TaskKind, UserId};
use std::future::Future;
use tokio::sync::mpsc;

/// One item as the evaluation split reads it.
#[derive(Debug, Clone)]
pub struct SplitRow {
    /// The item's own id.
    pub ext_id: String,
    /// Its canonical JSON.
    pub body: String,
    /// The split stored for it, if any.
    pub split: Option<Split>,
}

/// One judgment as exports read it.
#[derive(Debug, Clone, Default)]
pub struct JudgmentRow {
    /// The annotator's user id; `None` for an external prior judgment.
    pub annotator: Option<i64>,
    /// Where an external judgment comes from (`hh-rlhf`, …).
    pub external_source: Option<String>,
    /// The payload as JSON text.
    pub payload: String,
    /// Rubric version it was made under.
    pub rubric_version: i64,
    /// Time on task in milliseconds, as the annotator's client reported it.
    pub time_ms: Option<i64>,
    /// Candidate ids in the order they were shown, as JSON text.
    pub display_order: Option<String>,
    /// Scored against the active gold: right, wrong, or `None` (not a gold item).
    pub gold_correct: Option<bool>,
}

/// Where a consumer of [`ExportStore::judged_items`] returns the batches it is done
/// with, for the reader to refill: the texts' buffers are reused, so an export does not
/// allocate (on one thread) and free (on another) every string of every item.
pub type Recycle = std::sync::mpsc::Receiver<Vec<JudgedItem>>;

/// An item with everything decided about it, for exports.
#[derive(Debug, Clone, Default)]
pub struct JudgedItem {
    /// The item's own id.
    pub ext_id: String,
    /// Its canonical JSON.
    pub body: String,
    /// Its stored split.
    pub split: Option<Split>,
    /// The latest adjudication's payload, if a reviewer decided it.
    pub adjudication: Option<String>,
    /// The rubric version of that adjudication.
    pub adjudication_rubric_version: Option<i64>,
    /// Whether the item is a gold item.
    pub is_gold: bool,
    /// The payload of its active gold, if it has one.
    pub gold: Option<String>,
    /// The rubric version of that gold.
    pub gold_rubric_version: Option<i64>,
    /// Its judgments, oldest first (annotators' and external ones).
    pub judgments: Vec<JudgmentRow>,
}

/// An annotator's judgments scored against gold in a project, every task kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoldScore {
    /// The annotator's user id.
    pub annotator: i64,
    /// Judgments scored right.
    pub right: u64,
    /// Judgments scored at all.
    pub scored: u64,
}

/// How often an annotator named `vote` as the winner of preference items whose latest
/// adjudication named `decided` (judgments not scored against gold only).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AdjudicatedVotes {
    /// The annotator's user id.
    pub annotator: i64,
    /// The winner the annotator named (`None` if the payload names none).
    pub vote: Option<String>,
    /// The winner the reviewer named (`None` if the payload names none).
    pub decided: Option<String>,
    /// How many such judgments.
    pub count: u64,
}

/// What an annotator's reliability in a project rests on: their outcomes against gold and
/// against reviewers' decisions. Counts only: a few rows an annotator, whatever the size
/// of the project.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnnotatorOutcomes {
    /// Gold-scored judgments (hidden gold and qualification), by annotator.
    pub gold: Vec<GoldScore>,
    /// Preference votes on adjudicated items against the decision, by annotator, vote
    /// and decision.
    pub adjudicated: Vec<AdjudicatedVotes>,
}

/// A dataset release to record: what was written where, and which items it holds.
#[derive(Debug, Clone)]
pub struct NewRelease {
    /// Export kind (`preference`, `rating`, …).
    pub kind: String,
    /// File format (`jsonl`, `parquet`).
    pub format: String,
    /// Hex SHA-256 of the release's `MANIFEST.json`: the release id.
    pub manifest_sha256: String,
    /// Where it was written (a directory path, as given).
    pub location: String,
    /// The filters used, as JSON text.
    pub filters: String,
    /// The export summary, as JSON text.
    pub counts: String,
    /// Ids (`ext_id`) of the items whose data the release holds; retention purges
    /// their text a set time after their first release.
    pub items: Vec<String>,
}

/// A recorded release.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ReleaseRecord {
    /// Database id.
    pub id: i64,
    /// Hex SHA-256 of its manifest (the release id users quote).
    pub manifest_sha256: String,
    /// Export kind.
    pub kind: String,
    /// File format.
    pub format: String,
    /// Where it was written.
    pub location: String,
    /// Filters used, as JSON text.
    pub filters: String,
    /// Export summary, as JSON text.
    pub counts: String,
    /// Who created it (`None`: the command line).
    pub created_by: Option<i64>,
    /// When, Unix milliseconds.
    pub created_at: i64,
}

/// Reading for exports and the split; recording splits.
pub trait ExportStore: Send + Sync {
    /// Streams every item of `task` kind with its judgments, latest adjudication and
    /// active gold, in import order, in batches on `sink` (one snapshot; a merge of four
    /// ordered cursors, so memory holds one batch); returns how many items were sent. Batches
    /// the consumer sends back on `recycle` are refilled instead of allocating anew
    /// (SQLite; a backend may ignore them).
    fn judged_items(
        &self,
        project: ProjectId,
        task: TaskKind,
        sink: mpsc::Sender<Vec<JudgedItem>>,
        recycle: Option<Recycle>,
    ) -> impl Future<Output = Result<u64>> + Send;

    /// Every annotator's scored outcomes in the project (one snapshot): the gold scores
    /// the engine recorded, and preference winners named on items a reviewer decided,
    /// against that decision, counted. Sorted: gold scores by annotator, adjudicated votes
    /// by annotator, vote and decision (an absent winner first).
    fn annotator_outcomes(
        &self,
        project: ProjectId,
    ) -> impl Future<Output = Result<AnnotatorOutcomes>> + Send;

    /// Streams every item of a project with its stored split, in import order, in
    /// batches on `sink` (one snapshot, constant memory); returns how many were sent.
    fn split_rows(
        &self,
        project: ProjectId,
        sink: mpsc::Sender<Vec<SplitRow>>,
    ) -> impl Future<Output = Result<u64>> + Send;

    /// Stores `splits` (item id, side) in one transaction with one audit event
    /// (`items.split`, `summary` as its object); returns how many items changed. An id
    /// the project does not hold is refused as not found, and nothing is stored.
    fn set_splits(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        splits: Vec<(String, Split)>,
        summary: String,
    ) -> impl Future<Output = Result<u64>> + Send;

    /// Records a release with its items, and its audit event (`release.create`, digest
    /// the manifest hash), in one transaction. An item id the project does not hold is
    /// refused as not found, and nothing is stored.
    fn record_release(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        release: NewRelease,
    ) -> impl Future<Output = Result<ReleaseRecord>> + Send;

    /// The releases of a project, newest first.
    fn releases(
        &self,
        project: ProjectId,
    ) -> impl Future<Output = Result<Vec<ReleaseRecord>>> + Send;

    /// The project's key to its annotator pseudonyms (exports only; no API sends it).
    fn pseudonym_key(
        &self,
        project: ProjectId,
    ) -> impl Future<Output = Result<crate::PseudonymKey>> + Send;
}

/// The stored name of a split.
pub fn split_name(s: Split) -> &'static str {
    crate::import::split_str(s)
}

/// Parses a stored split name.
pub fn parse_split(s: Option<&str>) -> Result<Option<Split>> {
    match s {
        None => Ok(None),
        Some("train") => Ok(Some(Split::Train)),
        Some("eval") => Ok(Some(Split::Eval)),
        Some(other) => Err(crate::StoreError::Database(format!(
            "unknown stored split `{other}`"
        ))),
    }
}
