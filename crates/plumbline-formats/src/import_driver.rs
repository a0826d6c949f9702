//! The one import driver of the command line and the API: a blocking reader parses the
//! source (of a named or detected format) and sends batches while the store writes them
//! in one transaction; what both sides did comes back as one [`Imported`]. Callers only
//! turn their flags or request into an [`ImportRequest`] and the result into their
//! output.

use crate::csv::Mapping;
use crate::feed::{DEFAULT_MAX_LINE_BYTES, ReadOptions, ReadSummary};
use crate::import::{Detected, Input};
use crate::{Format, LineError};
use plumbline_domain::UserId;
use plumbline_store::{ImportOptions, ImportOutcome, Project, Store, StoreError};
use serde::Serialize;
use std::collections::BTreeMap;
use tokio::sync::mpsc;

/// How to read a source and store its items.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    /// The format; `None` detects it from the content.
    pub format: Option<Format>,
    /// The column mapping of CSV and flat Parquet.
    pub mapping: Option<Mapping>,
    /// Whether changed items become new revisions, and how many bad records to report.
    pub options: ImportOptions,
    /// Longest line (or CSV record) accepted, in bytes.
    pub max_line_bytes: usize,
    /// Where audio files named by items are read from; `None` reads none.
    pub media: Option<crate::media::MediaOptions>,
}

impl ImportRequest {
    /// Native JSONL with `options` and the default line cap.
    pub fn native(options: ImportOptions) -> Self {
        ImportRequest {
            format: Some(Format::Native),
            mapping: None,
            options,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            media: None,
        }
    }
}

/// Why an import could not run to its end (bad records are not errors: they are in
/// [`Imported`], and nothing is stored).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The store failed: reading the project's rubric, or storing.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The source could not be read.
    #[error(transparent)]
    Read(#[from] std::io::Error),
    /// The reader thread did not finish.
    #[error("the reader thread failed: {0}")]
    Reader(String),
}

/// What an import did: the reader's side and the store's.
#[derive(Debug)]
pub struct Imported {
    /// The format read, and how it was told (when it could be).
    pub detected: Option<Detected>,
    /// What the reader saw: records, bad lines, rows left out.
    pub read: ReadSummary,
    /// What the store did (committed only when every record was good).
    pub outcome: ImportOutcome,
}

/// Imports `input` into `project` as `request` says, on behalf of `actor` (`None` for
/// the command line): all of it or, on any bad record or conflict, none. `progress`
/// hears the bytes read so far.
pub async fn run<S: Store>(
    store: &S,
    actor: Option<UserId>,
    project: &Project,
    input: Input,
    request: &ImportRequest,
    progress: impl FnMut(u64) + Send + 'static,
) -> Result<Imported, ImportError> {
    let rubric = store.rubric(project.id, None).await?;
    let mut read_options = ReadOptions::new(project.settings.task);
    read_options.edge_cases = rubric
        .rubric
        .edge_cases
        .iter()
        .map(|e| e.key.to_string())
        .collect();
    read_options.criteria = rubric
        .rubric
        .criteria
        .iter()
        .map(|c| (c.key.to_string(), c.scale))
        .collect();
    read_options.max_line_bytes = request.max_line_bytes;
    read_options.report_errors = request.options.report_errors;
    read_options.media = request.media.clone();
    let (tx, rx) = mpsc::channel(4);
    let format = request.format;
    let mapping = request.mapping.clone();
    let reader = tokio::task::spawn_blocking(move || {
        crate::read(
            input,
            format,
            mapping.as_ref(),
            &read_options,
            &tx,
            progress,
        )
    });
    let outcome = store
        .import_items(actor, project.id, request.options, rx)
        .await;
    let read = reader
        .await
        .map_err(|e| ImportError::Reader(e.to_string()))??;
    Ok(Imported {
        detected: read.detected,
        read: read.summary,
        outcome: outcome?,
    })
}

/// The closing summary of an import, for people and (as JSON) machines.
#[derive(Debug, Serialize)]
pub struct ImportReport {
    /// The source, as the caller names it.
    pub file: String,
    /// The project's name.
    pub project: String,
    /// The format read (when it could be told).
    pub format: Option<String>,
    /// How the format was told.
    pub detected: Option<String>,
    /// New items stored.
    pub imported: u64,
    /// Items stored already with the same content and nothing new.
    pub unchanged: u64,
    /// Items stored already with the same content that came with external judgments
    /// not stored yet (a tool's later export), which were added.
    pub annotated: u64,
    /// Items stored as a new revision.
    pub updated: u64,
    /// Bad records and conflicts.
    pub rejected: u64,
    /// External prior judgments stored with the items.
    pub external_judgments: u64,
    /// Gold candidates proposed (judgments the source marked as the right answer),
    /// waiting for a lead (`plumbline gold candidates`).
    pub gold_candidates: u64,
    /// Rows left out on purpose, by reason.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub skipped: BTreeMap<String, u64>,
    /// Whether anything was stored.
    pub stored: bool,
    /// The bad records and conflicts reported, by line.
    pub errors: Vec<LineError>,
}

impl Imported {
    /// The summary of importing `file` into `project`: the reader's refusals and the
    /// store's conflicts in one list by line, the counts only when stored.
    pub fn report(self, file: &str, project: &str) -> ImportReport {
        let Imported {
            detected,
            read,
            outcome,
        } = self;
        let mut errors = read.errors;
        errors.extend(
            outcome
                .conflicts
                .into_iter()
                .map(|c| LineError::new(c.line, Some("id".into()), c.reason)),
        );
        errors.sort_by_key(|e| e.line);
        let stored = outcome.committed;
        let counted = |n: u64| if stored { n } else { 0 };
        ImportReport {
            file: file.to_owned(),
            project: project.to_owned(),
            format: detected.as_ref().map(|d| d.format.name().to_owned()),
            detected: detected.map(|d| d.why),
            imported: counted(outcome.imported),
            unchanged: counted(outcome.unchanged),
            annotated: counted(outcome.annotated),
            updated: counted(outcome.updated),
            rejected: read.error_count + outcome.conflict_count,
            external_judgments: counted(outcome.external_judgments),
            gold_candidates: counted(outcome.gold_candidates),
            skipped: read.skipped,
            stored,
            errors,
        }
    }
}
