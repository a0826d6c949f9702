//! The one export driver of the command line and the API: what a caller asks for
//! ([`ExportRequest`]: the target, the file format, the [`Filters`]) is checked in one
//! place ([`ExportRequest::validate`]) into an [`Export`], which [`run`] writes to a file
//! (the CLI's `--out`, the API's temporary Parquet file) or to a JSONL stream (standard
//! output, an HTTP body). Callers only translate flags or a query string, so both refuse
//! the same requests with the same messages and write the same bytes.

use crate::export::{JsonlSink, PairOptions, PairSummary, RowSink};
use crate::release::FileFormat;
use crate::run::{self, Kind, SinkFactory};
use plumbline_domain::{Level, Split};
use plumbline_quality::decision::{DecisionMethod, UnknownDecisionMethod};
use plumbline_store::{Project, SplitRow, Store, StoreError};
use std::fmt;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::mpsc;

/// What an export writes: the items themselves (native JSONL), or rows of a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Every current item as imported.
    Items,
    /// Rows of a data kind, decided from the judgments.
    Rows(Kind),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Items => f.write_str("items"),
            Target::Rows(k) => f.write_str(k.as_str()),
        }
    }
}

/// One filter or decision setting of an export, named in messages by its flag (the
/// query parameter is the same words in snake case; docs/EXPORTS.md lists both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// Only items of a split.
    Split,
    /// Only items carrying tags.
    Tag,
    /// Only judgments made under a rubric version.
    RubricVersion,
    /// Only judgments by annotators of a verified level.
    MinExpertise,
    /// Only items whose votes agree enough.
    MinAgreement,
    /// External prior judgments vote.
    IncludeExternal,
    /// The posterior a pair decided by the method needs.
    Threshold,
    /// How items with several votes are decided.
    Decision,
}

impl Filter {
    /// The flag that sets it.
    pub fn flag(self) -> &'static str {
        match self {
            Filter::Split => "--split",
            Filter::Tag => "--tag",
            Filter::RubricVersion => "--rubric-version",
            Filter::MinExpertise => "--min-expertise",
            Filter::MinAgreement => "--min-agreement",
            Filter::IncludeExternal => "--include-external",
            Filter::Threshold => "--threshold",
            Filter::Decision => "--decision",
        }
    }

    /// Whether an export of `target` applies it: an items export writes items, not
    /// judgments, so it applies the item filters (split and tags) only; only pair kinds
    /// decide by a method and a threshold.
    pub fn applies_to(self, target: Target) -> bool {
        match (self, target) {
            (Filter::Split | Filter::Tag, Target::Items) => true,
            (_, Target::Items) => false,
            (Filter::Threshold | Filter::Decision, Target::Rows(kind)) => kind.decides_pairs(),
            (_, Target::Rows(_)) => true,
        }
    }

    /// The kinds that apply it, for messages: "preference, reward and sft".
    fn kinds(self) -> String {
        let items = self.applies_to(Target::Items).then_some("items");
        let names: Vec<&str> = items
            .into_iter()
            .chain(
                Kind::ALL
                    .into_iter()
                    .filter(|k| self.applies_to(Target::Rows(*k)))
                    .map(Kind::as_str),
            )
            .collect();
        match names.split_last() {
            Some((last, [])) => (*last).to_owned(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => "no kind".to_owned(),
        }
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.flag())
    }
}

/// The filters and decision settings asked for; `None`, empty or `false`: not asked.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Only items of this split.
    pub split: Option<Split>,
    /// Only items carrying every one of these tags.
    pub tags: Vec<String>,
    /// Only judgments (and adjudications) made under this rubric version.
    pub rubric_version: Option<i64>,
    /// Only judgments by annotators with at least this verified level.
    pub min_expertise: Option<Level>,
    /// Only items whose votes agree at least this much (0..1).
    pub min_agreement: Option<f64>,
    /// Count imported external judgments as votes.
    pub include_external: bool,
    /// Least posterior of a pair decided by the method (default: the project's
    /// `decision_threshold`).
    pub threshold: Option<f64>,
    /// The decision method's name, as given (`reliability`, `dawid-skene`, `majority`;
    /// default `reliability`); checked by [`ExportRequest::validate`].
    pub decision: Option<String>,
}

impl Filters {
    /// The filters asked for.
    fn given(&self) -> Vec<Filter> {
        [
            (Filter::Split, self.split.is_some()),
            (Filter::Tag, !self.tags.is_empty()),
            (Filter::RubricVersion, self.rubric_version.is_some()),
            (Filter::MinExpertise, self.min_expertise.is_some()),
            (Filter::MinAgreement, self.min_agreement.is_some()),
            (Filter::IncludeExternal, self.include_external),
            (Filter::Threshold, self.threshold.is_some()),
            (Filter::Decision, self.decision.is_some()),
        ]
        .into_iter()
        .filter_map(|(f, given)| given.then_some(f))
        .collect()
    }
}

/// An export as asked for, not yet checked.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    /// What to write.
    pub target: Target,
    /// The file format (items are always native JSONL).
    pub format: FileFormat,
    /// Which items and judgments.
    pub filters: Filters,
}

/// Why an export request is refused.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The target cannot apply a filter that was given.
    #[error("{filter} does not apply to {target} exports; it applies to {} exports", .filter.kinds())]
    NotApplicable {
        /// The filter.
        filter: Filter,
        /// What was to be exported.
        target: Target,
    },
    /// A share or posterior outside [0, 1].
    #[error("{filter} must lie in [0, 1], got {value}")]
    OutOfRange {
        /// The filter.
        filter: Filter,
        /// The value given.
        value: f64,
    },
    /// No decision method has this name.
    #[error("--decision: {0}")]
    UnknownDecision(#[from] UnknownDecisionMethod),
    /// The project has no such rubric version.
    #[error("--rubric-version {version}: project {project} has rubric versions {known}")]
    UnknownRubricVersion {
        /// The version asked for.
        version: i64,
        /// The project's name.
        project: String,
        /// The versions it has, comma-separated.
        known: String,
    },
    /// The rows cannot be laid out as Parquet columns (a criterion named like a fixed
    /// column).
    #[error("{0}")]
    Columns(String),
    /// The store failed reading the rubric or the annotators.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A checked export: what to write, in which format, and the options rows are decided
/// with (the project's annotators included). Made only by [`ExportRequest::validate`].
#[derive(Debug, Clone)]
pub struct Export {
    /// What to write.
    pub target: Target,
    /// The file format.
    pub format: FileFormat,
    /// The filters and decision settings, with the project's annotators.
    pub opts: PairOptions,
    /// The current rubric's criteria: the rating columns of a Parquet rating export.
    criteria: Vec<String>,
}

impl ExportRequest {
    /// Checks the request against `project`: every given filter applies to the target,
    /// shares lie in [0, 1], the decision method exists, a rubric version exists, the rows
    /// fit Parquet columns; then reads the annotators the rows need. Without
    /// `--threshold`, the project's `decision_threshold` is the threshold.
    pub async fn validate<S: Store>(
        self,
        store: &S,
        project: &Project,
    ) -> Result<Export, RequestError> {
        let ExportRequest {
            target,
            format,
            filters,
        } = self;
        if let Some(filter) = filters.given().into_iter().find(|f| !f.applies_to(target)) {
            return Err(RequestError::NotApplicable { filter, target });
        }
        for (filter, value) in [
            (Filter::Threshold, filters.threshold),
            (Filter::MinAgreement, filters.min_agreement),
        ] {
            if let Some(value) = value
                && !(0.0..=1.0).contains(&value)
            {
                return Err(RequestError::OutOfRange { filter, value });
            }
        }
        let decision: DecisionMethod = match filters.decision.as_deref() {
            None => DecisionMethod::default(),
            Some(name) => name.parse()?,
        };
        if let Some(version) = filters.rubric_version {
            let known = store.rubric_versions(project.id).await?;
            if !known.iter().any(|r| i64::from(r.version.0) == version) {
                return Err(RequestError::UnknownRubricVersion {
                    version,
                    project: project.name.to_string(),
                    known: known
                        .iter()
                        .map(|r| r.version.0.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
        let Target::Rows(kind) = target else {
            return Ok(Export {
                target,
                format: FileFormat::Jsonl,
                opts: PairOptions {
                    split: filters.split,
                    tags: filters.tags,
                    ..PairOptions::default()
                },
                criteria: Vec::new(),
            });
        };
        let mut criteria = Vec::new();
        if format == FileFormat::Parquet {
            criteria = store
                .rubric(project.id, None)
                .await?
                .rubric
                .criteria
                .iter()
                .map(|c| c.key.to_string())
                .collect();
            // Making the sink lays out the columns; the file is made only when it is opened.
            let unopened = run::file_sink(kind, format, PathBuf::new(), criteria.clone())
                .map_err(RequestError::Columns)?;
            drop(unopened);
        }
        let annotators = run::annotators(store, project)
            .await
            .map_err(StoreError::Database)?;
        let opts = PairOptions {
            threshold: filters
                .threshold
                .unwrap_or(project.settings.decision_threshold),
            decision,
            include_external: filters.include_external,
            split: filters.split,
            tags: filters.tags,
            rubric_version: filters.rubric_version,
            min_agreement: filters.min_agreement,
            min_expertise: filters.min_expertise,
            annotators: Arc::new(annotators),
            ..PairOptions::default()
        };
        Ok(Export {
            target,
            format,
            opts,
            criteria,
        })
    }
}

/// Where an export goes.
pub enum Destination {
    /// A file, written beside it as `NAME.partial` and renamed into place only when
    /// complete, so a failed export leaves no half-written file.
    File(PathBuf),
    /// A JSONL stream (standard output, an HTTP body); Parquet needs a file.
    Stream(Box<dyn Write + Send>),
}

/// What an items export wrote and left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct ItemsSummary {
    /// Items written.
    pub exported: u64,
    /// Items left out by `--split` or `--tag`.
    pub filtered: u64,
}

/// What an export wrote.
#[derive(Debug)]
pub enum Exported {
    /// How many items were written and left out.
    Items(ItemsSummary),
    /// The kind, and the rows written and left out.
    Rows(Kind, PairSummary),
}

/// Writes `export` of `project` to `to`.
pub async fn run<S: Store>(
    store: &S,
    project: &Project,
    export: Export,
    to: Destination,
) -> Result<Exported, String> {
    let path = match to {
        Destination::Stream(w) => return write(store, project, export, Output::Stream(w)).await,
        Destination::File(path) => path,
    };
    let tmp = path.with_extension("partial");
    match write(store, project, export, Output::File(tmp.clone())).await {
        Ok(done) => {
            std::fs::rename(&tmp, &path)
                .map_err(|e| format!("cannot move {} into place: {e}", path.display()))?;
            Ok(done)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Where [`write`] puts the bytes.
enum Output {
    File(PathBuf),
    Stream(Box<dyn Write + Send>),
}

async fn write<S: Store>(
    store: &S,
    project: &Project,
    export: Export,
    out: Output,
) -> Result<Exported, String> {
    let kind = match export.target {
        Target::Items => {
            let w: Box<dyn Write + Send> = match out {
                Output::Stream(w) => w,
                Output::File(path) => Box::new(
                    plumbline_store::files::create(&path)
                        .map_err(|e| format!("cannot create {}: {e}", path.display()))?,
                ),
            };
            return write_items(store, project, &export.opts, w)
                .await
                .map(Exported::Items);
        }
        Target::Rows(kind) => kind,
    };
    let sink: SinkFactory = match out {
        Output::File(path) => run::file_sink(kind, export.format, path, export.criteria)?,
        Output::Stream(_) if export.format == FileFormat::Parquet => {
            return Err("Parquet is written to a file, not to a stream".into());
        }
        Output::Stream(w) if kind == Kind::LabelStudio => {
            Box::new(|| Ok(Box::new(crate::export::JsonArraySink::new(w)) as Box<dyn RowSink>))
        }
        Output::Stream(w) => {
            Box::new(move || Ok(Box::new(JsonlSink::for_kind(w, kind)) as Box<dyn RowSink>))
        }
    };
    let outcome = run::export(store, project, kind, export.opts, sink, false).await?;
    Ok(Exported::Rows(kind, outcome.summary))
}

/// Writes the current items of `project` that pass the split and tag filters of
/// `opts` to `w`, one canonical JSON a line, each with its stored split (so a re-import
/// keeps it).
async fn write_items<S: Store>(
    store: &S,
    project: &Project,
    opts: &PairOptions,
    w: Box<dyn Write + Send>,
) -> Result<ItemsSummary, String> {
    let (tx, mut rx) = mpsc::channel::<Vec<SplitRow>>(4);
    let (split, tags) = (opts.split, opts.tags.clone());
    let write = tokio::task::spawn_blocking(move || -> Result<ItemsSummary, String> {
        let mut w = BufWriter::with_capacity(1 << 20, w);
        let mut done = ItemsSummary::default();
        let mut line = String::new();
        while let Some(batch) = rx.blocking_recv() {
            for row in batch {
                if !item_passes(&row, split, &tags)? {
                    done.filtered += 1;
                    continue;
                }
                with_split(&row.body, row.split, &mut line);
                w.write_all(line.as_bytes())
                    .and_then(|()| w.write_all(b"\n"))
                    .map_err(|e| format!("writing: {e}"))?;
                done.exported += 1;
            }
        }
        w.flush().map_err(|e| format!("writing: {e}"))?;
        Ok(done)
    });
    let sent = store.split_rows(project.id, tx).await;
    let written = write
        .await
        .map_err(|e| format!("the writer thread failed: {e}"))?;
    sent.map_err(|e| format!("reading items: {e}"))?;
    written
}

/// Whether a stored item is of `split` (if given) and carries every tag of `tags`.
fn item_passes(row: &SplitRow, split: Option<Split>, tags: &[String]) -> Result<bool, String> {
    if split.is_some() && row.split != split {
        return Ok(false);
    }
    if tags.is_empty() {
        return Ok(true);
    }
    #[derive(serde::Deserialize)]
    struct Tagged {
        #[serde(default)]
        tags: Vec<String>,
    }
    let item: Tagged = serde_json::from_str(&row.body)
        .map_err(|e| format!("stored item `{}` does not parse: {e}", row.ext_id))?;
    Ok(tags.iter().all(|t| item.tags.contains(t)))
}

/// `body` (an item's canonical JSON, whose last field is its split when it has one) with
/// its split set to `split`, into `out`.
fn with_split(body: &str, split: Option<Split>, out: &mut String) {
    out.clear();
    let mut base = body;
    for own in [r#","split":"train"}"#, r#","split":"eval"}"#] {
        if let Some(rest) = body.strip_suffix(own) {
            base = rest;
            break;
        }
    }
    if base.len() == body.len() {
        // No split of its own: everything but the closing brace.
        base = &body[..body.len().saturating_sub(1)];
    }
    out.push_str(base);
    if let Some(s) = split {
        out.push_str(",\"split\":\"");
        out.push_str(plumbline_store::export::split_name(s));
        out.push('"');
    }
    out.push('}');
}
