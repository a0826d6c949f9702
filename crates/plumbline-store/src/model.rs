//! The values the store takes and returns.

pub use crate::states::ItemState;
use plumbline_domain::{
    ItemId, ProjectId, ProjectName, ProjectSettings, Rubric, RubricVersion, Split, TaskKind,
};
use serde::Serialize;

/// A project to create.
#[derive(Debug, Clone)]
pub struct NewProject {
    /// Unique name.
    pub name: ProjectName,
    /// Validated settings.
    pub settings: ProjectSettings,
    /// The first rubric version.
    pub rubric: Rubric,
}

/// A stored project.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Project {
    /// Database id.
    pub id: ProjectId,
    /// Unique name.
    pub name: String,
    /// Settings.
    #[schema(value_type = Object)]
    pub settings: ProjectSettings,
    /// The version of the rubric new work is judged under.
    pub rubric_version: RubricVersion,
    /// Salt of the deterministic evaluation split. Kept on the server: never
    /// serialized, so no API answer carries it.
    #[serde(skip_serializing)]
    pub split_salt: String,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
}

/// A project's key to its annotator pseudonyms: 32 random bytes made with the project
/// (migration 0014), read by exports only and sent by no API. Pseudonyms are keyed
/// hashes under it, so nobody who knows the user ids and the member list can link a
/// pseudonym in a release to a person. `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct PseudonymKey([u8; 32]);

impl PseudonymKey {
    /// A new key from the operating system's random source.
    pub fn random() -> crate::Result<PseudonymKey> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| {
            crate::StoreError::Database(format!("the system random source failed: {e}"))
        })?;
        Ok(PseudonymKey(key))
    }

    /// A key of these bytes (tests, and keys read back from the database).
    pub fn from_bytes(bytes: [u8; 32]) -> PseudonymKey {
        PseudonymKey(bytes)
    }

    /// The key as stored; anything but 32 bytes is refused.
    pub fn from_stored(bytes: &[u8]) -> crate::Result<PseudonymKey> {
        bytes.try_into().map(PseudonymKey).map_err(|_| {
            crate::StoreError::Database(format!(
                "the project's pseudonym secret is damaged ({} bytes, expected 32)",
                bytes.len()
            ))
        })
    }

    /// The bytes to store and hash.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PseudonymKey(redacted)")
    }
}

/// A project with its counts, for listings.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProjectSummary {
    /// The project.
    #[serde(flatten)]
    pub project: Project,
    /// How many items it holds.
    pub items: u64,
}

/// One version of a project's rubric.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StoredRubric {
    /// Its version number.
    pub version: RubricVersion,
    /// The rubric.
    #[schema(value_type = Object)]
    pub rubric: Rubric,
    /// When it was created, Unix milliseconds.
    pub created_at: i64,
}

/// One validated item on its way into the store, with its canonical encoding.
#[derive(Debug, Clone)]
pub struct NewItem {
    /// Line (or record) number in the source, for error messages.
    pub line: u64,
    /// The item's own id (unique within the project).
    pub ext_id: String,
    /// Effective task kind.
    pub task: TaskKind,
    /// Fixed split, if the item names one.
    pub split: Option<Split>,
    /// Canonical JSON of the item (what export writes back).
    pub body: String,
    /// SHA-256 of `body`: equal hashes mean equal content.
    pub content_hash: [u8; 32],
    /// Judgments the item arrived with from another dataset or tool (HH-RLHF's choice,
    /// oasst1's ranks, HelpSteer2's ratings, Label Studio annotations). Stored with the
    /// item when it is new or replaced, as `source = 'external'`, never as gold.
    pub external: Vec<ExternalJudgment>,
    /// SHA-256 of the audio the item names, if any.
    pub media_sha256: Option<[u8; 32]>,
    /// The audio's bytes when this import brings them; absent when the item names
    /// audio stored already (the store refuses the item if it is not).
    pub media: Option<NewMedia>,
}

/// Audio to store, checked and (if asked) redacted by `plumbline-media`.
#[derive(Debug, Clone)]
pub struct NewMedia {
    /// SHA-256 of `bytes`: the name it is stored and deduplicated under.
    pub sha256: [u8; 32],
    /// How it is served (`audio/wav`, …).
    pub content_type: String,
    /// The file.
    pub bytes: bytes::Bytes,
    /// Length in seconds.
    pub duration: f64,
    /// Samples per second.
    pub sample_rate: u32,
    /// The waveform's peaks as JSON, when a decoder read them.
    pub peaks: Option<String>,
}

/// A prior judgment imported with an item: no annotator, no assignment, never gold.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalJudgment {
    /// Where it comes from (`hh-rlhf`, `oasst1`, `helpsteer2`, `label-studio`, `csv`).
    pub source: String,
    /// Kind of the payload (the item's task kind).
    pub task: TaskKind,
    /// The payload as JSON text, in the shape of `plumbline_domain::judgment` for `task`.
    pub payload: String,
    /// The source's own rationale or provenance note, if any.
    pub rationale: Option<String>,
    /// Time on task in milliseconds, when the source measured it (Label Studio's
    /// `lead_time`).
    pub time_ms: Option<i64>,
    /// The source marked it as the right answer (Label Studio's `ground_truth`): it is
    /// also stored as a gold candidate for a lead to accept or reject, never as gold.
    pub gold_candidate: bool,
}

/// A message on an import stream.
#[derive(Debug)]
pub enum ImportMsg {
    /// More items, in source order.
    Items(Vec<NewItem>),
    /// The source is done; `commit` is false when it found bad records.
    Finish {
        /// Whether the source wants its items stored.
        commit: bool,
    },
}

/// How an import treats ids that exist already.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Same id with other content stores a new revision instead of being an error.
    pub update: bool,
    /// Keep going after the first conflict to report up to this many (still storing nothing).
    pub report_errors: usize,
}

/// A record the store refused during an import.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportConflict {
    /// Line in the source.
    pub line: u64,
    /// The item id.
    pub id: String,
    /// Why.
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ImportOutcome {
    /// New items stored.
    pub imported: u64,
    /// Items whose id and content were stored already (skipped).
    pub unchanged: u64,
    /// Items stored as a new revision (`--update`).
    pub updated: u64,
    /// External prior judgments stored: with new or replaced items, and those new to
    /// items stored already (a tool's export imported again after more annotation).
    pub external_judgments: u64,
    /// Items stored already with the same content that gained external judgments they
    /// did not have (counted here, not as unchanged).
    pub annotated: u64,
    /// Gold candidates proposed (judgments their source marked as the right answer, not
    /// proposed before).
    pub gold_candidates: u64,
    /// Conflicts found (ids with other content, without `--update`).
    pub conflicts: Vec<ImportConflict>,
    /// How many conflicts in all (`conflicts` may hold fewer).
    pub conflict_count: u64,
    /// Whether the transaction committed.
    pub committed: bool,
}

/// A stored item.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StoredItem {
    /// Database id.
    pub id: ItemId,
    /// The item's own id.
    pub ext_id: String,
    /// Effective task kind.
    pub task: TaskKind,
    /// Current revision, from 1.
    pub revision: i32,
    /// Life-cycle state.
    #[schema(value_type = String)]
    pub state: ItemState,
    /// Canonical JSON of the item.
    pub body: String,
    /// Hex SHA-256 of the body.
    pub content_hash: String,
}

/// An earlier revision of an item, kept when `--update` replaced it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemRevision {
    /// Revision number.
    pub revision: i32,
    /// Canonical JSON at that revision.
    pub body: String,
    /// Hex SHA-256 of that body.
    pub content_hash: String,
    /// When it was replaced, Unix milliseconds.
    pub replaced_at: i64,
}

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}
