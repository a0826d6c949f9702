//! Plumbline's storage: one [`Store`] trait, implemented on embedded SQLite
//! ([`SqliteStore`]) and on PostgreSQL ([`PgStore`]).
//!
//! Architecture invariants: only this crate knows SQL; each backend owns its
//! migrations (`migrations/<backend>/NNNN_name.sql`), applied at open and never edited
//! once released; driver errors become [`StoreError`] in one place per backend.
#![forbid(unsafe_code)]

pub mod audit;
pub mod browse;
pub mod engine;
mod error;
pub mod export;
pub mod files;
mod gold_candidates;
mod identity;
mod import;
mod invitations;
mod leads;
pub mod media;
mod model;
mod postgres;
pub mod retention;
mod sqlite;
mod states;
mod url;
mod work;

pub use browse::{
    AgreementFilter, BROWSE_PAGE, BrowseFilter, BrowseStore, BrowsedItem, ItemComment, SplitFilter,
};
pub use error::StoreError;
pub use export::{
    AdjudicatedVotes, AnnotatorOutcomes, ExportStore, GoldScore, JudgedItem, JudgmentRow,
    NewRelease, Recycle, ReleaseRecord, SplitRow,
};
pub use gold_candidates::{GoldCandidate, STATES as GOLD_CANDIDATE_STATES};
pub use identity::*;
pub use invitations::{INVITATION_TTL_MS, Invitation, InvitationState, InvitationStore};
pub use leads::{HiddenGold, Reinstatement, SettingsError};
pub use media::{DEFAULT_MAX_MEDIA_BYTES, MediaInfo, MediaStore};
pub use model::*;
pub use postgres::PgStore;
pub use retention::{PurgeReport, PurgeScope, RetentionPolicy, RetentionStore};
pub use sqlite::SqliteStore;
pub use url::{DEFAULT_DATABASE_URL, DatabaseUrl, redact as redact_url};
pub use work::*;

use plumbline_domain::{ProjectId, Rubric, RubricVersion, SettingsPatch, UserId};
use std::future::Future;
use tokio::sync::mpsc;

/// Result of a store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Everything Plumbline keeps, behind one interface with one conformance suite.
///
/// Implementations are cheap to clone (a handle on a pool) and safe to share between
/// tasks. Every method is one transaction: it commits whole or changes nothing, and
/// every mutation appends its [`audit::AuditEvent`] in that same transaction. `actor`
/// is the acting user, `None` for the command line.
pub trait Store:
    BrowseStore
    + ExportStore
    + IdentityStore
    + InvitationStore
    + MediaStore
    + RetentionStore
    + WorkStore
    + Clone
    + Send
    + Sync
    + 'static
{
    /// Which backend this is, for messages (`sqlite`, `postgres`).
    fn backend(&self) -> &'static str;

    /// Creates a project with its first rubric version.
    fn create_project(
        &self,
        actor: Option<UserId>,
        new: NewProject,
    ) -> impl Future<Output = Result<Project>> + Send;

    /// Every project with its item count, by name.
    fn list_projects(&self) -> impl Future<Output = Result<Vec<ProjectSummary>>> + Send;

    /// The project called `name`.
    fn project_by_name(&self, name: &str) -> impl Future<Output = Result<Project>> + Send;

    /// Changes the settings `patch` names and appends `project.settings` (digest: the
    /// new settings' JSON), in one transaction. The settings are range-checked as a
    /// whole: a bad value changes nothing and is refused with its field named. A patch
    /// that changes no value writes nothing and returns the project as it is. The
    /// caller checks that `actor` leads the project.
    fn update_settings(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        patch: SettingsPatch,
    ) -> impl Future<Output = Result<Project, SettingsError>> + Send;

    /// Lifts `annotator`'s probation in `project`: from now on probation counts only the
    /// hidden gold they judge after this. Records the hidden-gold record it sets aside
    /// and appends `annotator.reinstate`, in one transaction. The caller checks that
    /// `actor` leads the project and that the annotator is a member on probation.
    fn reinstate(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        annotator: UserId,
    ) -> impl Future<Output = Result<Reinstatement>> + Send;

    /// The annotator's hidden-gold judgments (assignments of purpose `gold`; not
    /// qualification) scored since their last reinstatement in `project`, or ever: what
    /// probation is decided on. Reads the annotator's scored gold after that point only.
    fn hidden_gold_since_reinstatement(
        &self,
        project: ProjectId,
        annotator: UserId,
    ) -> impl Future<Output = Result<HiddenGold>> + Send;

    /// A rubric version of a project; `None` asks for the current one.
    fn rubric(
        &self,
        project: ProjectId,
        version: Option<RubricVersion>,
    ) -> impl Future<Output = Result<StoredRubric>> + Send;

    /// Every rubric version of a project, oldest first.
    fn rubric_versions(
        &self,
        project: ProjectId,
    ) -> impl Future<Output = Result<Vec<StoredRubric>>> + Send;

    /// Stores `rubric` as the project's next version and makes it current. A rubric
    /// equal to the current one is refused as a conflict (versions are immutable and
    /// a no-op version would only add noise).
    fn add_rubric_version(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        rubric: Rubric,
    ) -> impl Future<Output = Result<StoredRubric>> + Send;

    /// Imports items received on `source` in one transaction: it commits only when the
    /// sender finishes with [`ImportMsg::Finish`] `{ commit: true }` and the store found
    /// no conflict; otherwise nothing is stored. Dropping the sender aborts.
    fn import_items(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        options: ImportOptions,
        source: mpsc::Receiver<ImportMsg>,
    ) -> impl Future<Output = Result<ImportOutcome>> + Send;

    /// Streams the canonical JSON of every current item of a project, in import order,
    /// in batches on `sink`; returns how many were sent.
    fn export_items(
        &self,
        project: ProjectId,
        sink: mpsc::Sender<Vec<String>>,
    ) -> impl Future<Output = Result<u64>> + Send;

    /// A page of items of a project in import order, after `after` (keyset pagination).
    fn list_items(
        &self,
        project: ProjectId,
        after: Option<plumbline_domain::ItemId>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<StoredItem>>> + Send;

    /// One item by its textual id, with its revision history (oldest first).
    fn item(
        &self,
        project: ProjectId,
        ext_id: &str,
    ) -> impl Future<Output = Result<(StoredItem, Vec<ItemRevision>)>> + Send;

    /// A cheap round trip proving the database answers (for health checks).
    fn ping(&self) -> impl Future<Output = Result<()>> + Send;

    /// Verifies the database's own integrity check (SQLite `PRAGMA integrity_check`,
    /// PostgreSQL a catalogue check) and the schema version.
    fn check_integrity(&self) -> impl Future<Output = Result<()>> + Send;
}

/// A store chosen at run time from a URL; callers match once and stay generic.
#[derive(Clone)]
pub enum AnyStore {
    /// Embedded SQLite.
    Sqlite(SqliteStore),
    /// PostgreSQL.
    Postgres(PgStore),
}

impl AnyStore {
    /// Opens (and migrates) the database at `url`. The audit key and anchor file are
    /// beside the SQLite file; for PostgreSQL in `audit_dir`, by default
    /// [`DEFAULT_AUDIT_DIR`].
    pub async fn open(url: &str, audit_dir: Option<&std::path::Path>) -> Result<AnyStore> {
        match DatabaseUrl::parse(url)? {
            DatabaseUrl::Sqlite(path) => Ok(AnyStore::Sqlite(SqliteStore::open(&path).await?)),
            DatabaseUrl::Postgres(url) => Ok(AnyStore::Postgres(
                PgStore::open(
                    &url,
                    audit_dir.unwrap_or(std::path::Path::new(DEFAULT_AUDIT_DIR)),
                )
                .await?,
            )),
        }
    }
}

/// Where a PostgreSQL store keeps its audit key and anchor unless told otherwise: the
/// default SQLite database's directory.
pub const DEFAULT_AUDIT_DIR: &str = "./plumbline-data";

/// Batch size used when streaming items between the formats and the store.
pub const BATCH: usize = 1024;

/// `n` random bytes from the operating system, as hex (salts, tokens).
pub fn random_hex(n: usize) -> Result<String> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf)
        .map_err(|e| StoreError::Database(format!("the system random source failed: {e}")))?;
    Ok(hex(&buf))
}
