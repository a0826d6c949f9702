//! `plumbline import` and `plumbline export`.

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use plumbline_domain::TaskKind;
use plumbline_formats::LineError;
use plumbline_formats::csv::Mapping;
use plumbline_formats::export::{PairOptions, PairSummary};
use plumbline_formats::feed::{DEFAULT_MAX_LINE_BYTES, ReadOptions, ReadSummary};
use plumbline_formats::release::FileFormat;
use plumbline_formats::run::Kind;
use plumbline_formats::{Format, Input};
use plumbline_store::{ImportConflict, ImportOptions, ImportOutcome, Store};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tokio::sync::mpsc;

/// `--format` of `plumbline import`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    /// Detect from the content, and say what was detected.
    Auto,
    /// Native JSONL items.
    Native,
    /// CSV with a column mapping (flags or --mapping).
    Csv,
    /// Parquet: a known dataset shape by its columns, or a column mapping.
    Parquet,
    /// Anthropic HH-RLHF (`chosen`/`rejected` dialogues), JSONL or Parquet.
    HhRlhf,
    /// OpenAssistant oasst1 message rows, JSONL or Parquet.
    Oasst1,
    /// NVIDIA HelpSteer2 rated responses, JSONL or Parquet.
    Helpsteer2,
    /// Label Studio JSON export of a pairwise or ranker project.
    LabelStudio,
}

impl ImportFormat {
    fn format(self) -> Option<Format> {
        Some(match self {
            ImportFormat::Auto => return None,
            ImportFormat::Native => Format::Native,
            ImportFormat::Csv => Format::Csv,
            ImportFormat::Parquet => Format::Parquet,
            ImportFormat::HhRlhf => Format::HhRlhf,
            ImportFormat::Oasst1 => Format::Oasst1,
            ImportFormat::Helpsteer2 => Format::HelpSteer2,
            ImportFormat::LabelStudio => Format::LabelStudio,
        })
    }
}

/// Column mapping of CSV and flat Parquet files (or `--mapping FILE`).
#[derive(Debug, Args, Default)]
pub struct MappingArgs {
    /// TOML file mapping columns to item fields (see plumbline_formats::csv).
    #[arg(long, value_name = "FILE")]
    mapping: Option<PathBuf>,
    /// Column of the item id (default: a hash of the row).
    #[arg(long, value_name = "COLUMN")]
    id_column: Option<String>,
    /// Column of the system turn.
    #[arg(long, value_name = "COLUMN")]
    system_column: Option<String>,
    /// Column of the user turn.
    #[arg(long, value_name = "COLUMN")]
    prompt_column: Option<String>,
    /// Column of a candidate response; repeat for each candidate.
    #[arg(long, value_name = "COLUMN")]
    candidate_column: Vec<String>,
    /// Candidate ids, one per --candidate-column (default: the column names).
    #[arg(long, value_name = "ID")]
    candidate_id: Vec<String>,
    /// Column of `;`-separated tags.
    #[arg(long, value_name = "COLUMN")]
    tags_column: Option<String>,
    /// Column copied into the item's metadata; repeatable.
    #[arg(long, value_name = "COLUMN")]
    metadata_column: Vec<String>,
    /// Column naming the preferred candidate (or `tie`): stored as an external judgment.
    #[arg(long, value_name = "COLUMN")]
    winner_column: Option<String>,
    /// Task kind of mapped items (default: the project's).
    #[arg(long, value_name = "KIND")]
    task: Option<TaskKind>,
}

impl MappingArgs {
    /// The mapping the flags or the file give, if any.
    fn mapping(&self) -> anyhow::Result<Option<Mapping>> {
        if let Some(path) = &self.mapping {
            let flags = self.prompt_column.is_some() || !self.candidate_column.is_empty();
            if flags {
                bail!("give the column mapping either as flags or as --mapping FILE, not both");
            }
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read mapping file {}", path.display()))?;
            return Mapping::from_toml(&text)
                .map(Some)
                .map_err(|e| anyhow::anyhow!("mapping file {}: {e}", path.display()));
        }
        let Some(prompt) = &self.prompt_column else {
            if !self.candidate_column.is_empty() || self.winner_column.is_some() {
                bail!("a column mapping needs --prompt-column");
            }
            return Ok(None);
        };
        let m = Mapping {
            id: self.id_column.clone(),
            system: self.system_column.clone(),
            prompt: prompt.clone(),
            candidates: self.candidate_column.clone(),
            candidate_ids: (!self.candidate_id.is_empty()).then(|| self.candidate_id.clone()),
            task: self.task,
            tags: self.tags_column.clone(),
            metadata: self.metadata_column.clone(),
            winner: self.winner_column.clone(),
        };
        m.check().map_err(anyhow::Error::msg)?;
        Ok(Some(m))
    }
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Project name.
    #[arg(long)]
    project: String,
    /// Item file; `-` reads standard input.
    file: PathBuf,
    /// Format of the file.
    #[arg(long, value_enum, default_value = "auto")]
    format: ImportFormat,
    #[command(flatten)]
    columns: MappingArgs,
    /// Store a new revision when an id exists with other content.
    #[arg(long)]
    update: bool,
    /// List up to N bad lines instead of stopping at the first (nothing is stored).
    #[arg(long, value_name = "N", default_value_t = 0)]
    report_errors: usize,
    /// Longest line accepted, in bytes.
    #[arg(long, default_value_t = DEFAULT_MAX_LINE_BYTES, hide = true)]
    max_line_bytes: usize,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

/// The closing summary of an import, for people and (with `--json`) machines.
#[derive(Debug, Serialize)]
pub struct ImportReport {
    pub file: String,
    pub project: String,
    /// The format read (when it could be told).
    pub format: Option<String>,
    /// How the format was told.
    pub detected: Option<String>,
    pub imported: u64,
    pub unchanged: u64,
    pub updated: u64,
    pub rejected: u64,
    /// External prior judgments stored with the items.
    pub external_judgments: u64,
    /// Rows left out on purpose, by reason.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub skipped: BTreeMap<String, u64>,
    pub stored: bool,
    pub errors: Vec<LineError>,
}

impl ImportReport {
    fn new(
        file: &str,
        project: &str,
        detected: Option<plumbline_formats::Detected>,
        read: ReadSummary,
        outcome: ImportOutcome,
    ) -> Self {
        let mut errors = read.errors;
        errors.extend(
            outcome
                .conflicts
                .into_iter()
                .map(|c: ImportConflict| LineError::new(c.line, Some("id".into()), c.reason)),
        );
        errors.sort_by_key(|e| e.line);
        let stored = outcome.committed;
        ImportReport {
            file: file.to_owned(),
            project: project.to_owned(),
            format: detected.as_ref().map(|d| d.format.name().to_owned()),
            detected: detected.map(|d| d.why),
            imported: if stored { outcome.imported } else { 0 },
            unchanged: if stored { outcome.unchanged } else { 0 },
            updated: if stored { outcome.updated } else { 0 },
            rejected: read.error_count + outcome.conflict_count,
            external_judgments: if stored {
                outcome.external_judgments
            } else {
                0
            },
            skipped: read.skipped,
            stored,
            errors,
        }
    }
}

fn open_input(file: &Path) -> anyhow::Result<(Input, Option<u64>)> {
    if file == Path::new("-") {
        return Ok((
            Input::Stream(Box::new(BufReader::with_capacity(
                1 << 20,
                std::io::stdin(),
            ))),
            None,
        ));
    }
    let f = File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let meta = f
        .metadata()
        .with_context(|| format!("cannot read {}", file.display()))?;
    if meta.is_dir() {
        bail!("{} is a directory, not an item file", file.display());
    }
    Ok((Input::File(f), Some(meta.len())))
}

fn progress_bar(len: Option<u64>) -> ProgressBar {
    let bar = match len {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::no_length(),
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {bytes}/{total_bytes} {wide_bar} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// Imports a file into a project: all of it or, on any bad record, none.
pub async fn import<S: Store>(store: &S, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let options = ImportOptions {
        update: args.update,
        report_errors: args.report_errors,
    };
    let mapping = args.columns.mapping()?;
    let how = How {
        format: args.format.format(),
        mapping,
        max_line_bytes: args.max_line_bytes,
    };
    let report =
        import_file_as(store, &args.project, &args.file, options, &how, !args.json).await?;
    let name = args.file.display().to_string();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        if args.format == ImportFormat::Auto
            && let (Some(format), Some(why)) = (&report.format, &report.detected)
        {
            eprintln!("{name}: detected {format} ({why})");
        }
        for e in &report.errors {
            eprintln!("{name}: {e}");
        }
        if report.rejected as usize > report.errors.len() {
            eprintln!(
                "{name}: … and {} more bad lines",
                report.rejected as usize - report.errors.len()
            );
        }
        for (reason, n) in &report.skipped {
            eprintln!("{name}: left out {n} × {reason}");
        }
        if !report.stored {
            eprintln!("{name}: nothing was stored");
        }
        let external = if report.external_judgments > 0 {
            format!(", external judgments {}", report.external_judgments)
        } else {
            String::new()
        };
        println!(
            "imported {}, unchanged {}, updated {}, rejected {}{external}",
            report.imported, report.unchanged, report.updated, report.rejected
        );
    }
    Ok(if report.stored {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// How to read an import: the format (`None`: detect it), the column mapping, the cap.
pub struct How {
    pub format: Option<Format>,
    pub mapping: Option<Mapping>,
    pub max_line_bytes: usize,
}

/// Imports a native JSONL file (or standard input for `-`).
pub async fn import_file<S: Store>(
    store: &S,
    project: &str,
    file: &Path,
    options: ImportOptions,
    max_line_bytes: usize,
    show_progress: bool,
) -> anyhow::Result<ImportReport> {
    let how = How {
        format: Some(Format::Native),
        mapping: None,
        max_line_bytes,
    };
    import_file_as(store, project, file, options, &how, show_progress).await
}

/// Imports a file (or standard input for `-`) of any format; see [`import_input`].
pub async fn import_file_as<S: Store>(
    store: &S,
    project: &str,
    file: &Path,
    options: ImportOptions,
    how: &How,
    show_progress: bool,
) -> anyhow::Result<ImportReport> {
    let (input, len) = open_input(file)?;
    let bar = if show_progress {
        progress_bar(len)
    } else {
        ProgressBar::hidden()
    };
    let name = file.display().to_string();
    let report = import_input(store, project, input, &name, options, how, &bar).await;
    bar.finish_and_clear();
    report
}

/// Imports native JSONL from a reader. Shared by the demo.
pub async fn import_reader<S: Store>(
    store: &S,
    project: &str,
    input: Box<dyn BufRead + Send>,
    name: &str,
    options: ImportOptions,
    max_line_bytes: usize,
    bar: &ProgressBar,
) -> anyhow::Result<ImportReport> {
    let how = How {
        format: Some(Format::Native),
        mapping: None,
        max_line_bytes,
    };
    import_input(
        store,
        project,
        Input::Stream(input),
        name,
        options,
        &how,
        bar,
    )
    .await
}

/// The import pipeline: a blocking reader parses and sends batches while the store
/// writes them in one transaction. Shared by the CLI, the demo and the benchmark.
pub async fn import_input<S: Store>(
    store: &S,
    project: &str,
    input: Input,
    name: &str,
    options: ImportOptions,
    how: &How,
    bar: &ProgressBar,
) -> anyhow::Result<ImportReport> {
    let project = store.project_by_name(project).await?;
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
    read_options.max_line_bytes = how.max_line_bytes;
    read_options.report_errors = options.report_errors;
    let (tx, rx) = mpsc::channel(4);
    let reader_bar = bar.clone();
    let format = how.format;
    let mapping = how.mapping.clone();
    let reader = tokio::task::spawn_blocking(move || {
        plumbline_formats::read(
            input,
            format,
            mapping.as_ref(),
            &read_options,
            &tx,
            |bytes| reader_bar.set_position(bytes),
        )
    });
    let outcome = store.import_items(None, project.id, options, rx).await;
    let read = reader.await.context("the reader thread failed")?;
    let read = read.with_context(|| format!("reading {name}"))?;
    let outcome = outcome.with_context(|| format!("storing items of {name}"))?;
    Ok(ImportReport::new(
        name,
        &project.name,
        read.detected,
        read.summary,
        outcome,
    ))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportKind {
    /// The items themselves, in the native JSONL format.
    Items,
    /// TRL conversational preference pairs (prompt / chosen / rejected message lists)
    /// with strength, per-criterion outcomes, item id and provenance.
    Preference,
    /// The preference pairs with a scalar `margin` for reward-model training.
    Reward,
    /// Messages for supervised fine-tuning: the context and the winning (preference) or
    /// the adjudicated, else every, demonstrated response.
    Sft,
    /// Consensus order of ranked candidates (adjudicated, unanimous, else Borda).
    Ranking,
    /// Per-criterion scores of each rated candidate, HelpSteer-like.
    Rating,
    /// Red-team attacks with their outcome and severity, one row a judgment.
    RedTeam,
    /// Every judgment with a pseudonymous annotator id, expertise, rubric version, gold
    /// status, time on task and display order.
    Full,
}

impl ExportKind {
    /// The data kind (`None` for items).
    pub fn data(self) -> Option<Kind> {
        Some(match self {
            ExportKind::Items => return None,
            ExportKind::Preference => Kind::Preference,
            ExportKind::Reward => Kind::Reward,
            ExportKind::Sft => Kind::Sft,
            ExportKind::Ranking => Kind::Ranking,
            ExportKind::Rating => Kind::Rating,
            ExportKind::RedTeam => Kind::RedTeam,
            ExportKind::Full => Kind::Full,
        })
    }
}

/// File format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// One JSON object a line.
    Jsonl,
    /// Apache Parquet.
    Parquet,
}

impl ExportFormat {
    pub fn file(self) -> FileFormat {
        match self {
            ExportFormat::Jsonl => FileFormat::Jsonl,
            ExportFormat::Parquet => FileFormat::Parquet,
        }
    }
}

/// Split filter of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SplitFilter {
    /// Training items only.
    Train,
    /// Evaluation items only.
    Eval,
}

/// Which items and judgments an export or release takes.
#[derive(Debug, Args, Clone)]
pub struct FilterArgs {
    /// Least Dawid-Skene posterior for a pair decided neither by adjudication nor unanimously.
    #[arg(long, default_value_t = plumbline_formats::export::DEFAULT_THRESHOLD)]
    threshold: f64,
    /// Count imported external judgments (HH-RLHF's choice, Label Studio annotations) as votes.
    #[arg(long)]
    include_external: bool,
    /// Only items of this split.
    #[arg(long, value_enum)]
    split: Option<SplitFilter>,
    /// Only items carrying this tag; repeat to require several.
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    /// Only judgments (and adjudications) made under this rubric version.
    #[arg(long, value_name = "N")]
    rubric_version: Option<i64>,
    /// Only items whose votes agree at least this much (modal share, 0..1; items with
    /// fewer than two votes are left out).
    #[arg(long, value_name = "SHARE")]
    min_agreement: Option<f64>,
    /// Only judgments by annotators with at least this verified level in the project's
    /// domain (novice, practitioner, expert).
    #[arg(long, value_name = "LEVEL")]
    min_expertise: Option<plumbline_domain::Level>,
}

impl FilterArgs {
    /// The export options, with the project's annotators when a filter or kind needs them.
    pub async fn options<S: Store>(
        &self,
        store: &S,
        project: &plumbline_store::Project,
    ) -> anyhow::Result<PairOptions> {
        if !(0.0..=1.0).contains(&self.threshold) {
            bail!("--threshold must lie in [0, 1], got {}", self.threshold);
        }
        if let Some(a) = self.min_agreement
            && !(0.0..=1.0).contains(&a)
        {
            bail!("--min-agreement must lie in [0, 1], got {a}");
        }
        if let Some(v) = self.rubric_version {
            let known = store.rubric_versions(project.id).await?;
            if !known.iter().any(|r| i64::from(r.version.0) == v) {
                bail!(
                    "--rubric-version {v}: project {} has rubric versions {}",
                    project.name,
                    known
                        .iter()
                        .map(|r| r.version.0.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
        let annotators = plumbline_formats::run::annotators(store, project)
            .await
            .map_err(anyhow::Error::msg)?;
        Ok(PairOptions {
            threshold: self.threshold,
            include_external: self.include_external,
            split: self.split.map(|s| match s {
                SplitFilter::Train => plumbline_domain::Split::Train,
                SplitFilter::Eval => plumbline_domain::Split::Eval,
            }),
            tags: self.tags.clone(),
            rubric_version: self.rubric_version,
            min_agreement: self.min_agreement,
            min_expertise: self.min_expertise,
            annotators: std::sync::Arc::new(annotators),
            salt: project.split_salt.clone(),
            ..PairOptions::default()
        })
    }
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Project name.
    #[arg(long)]
    project: String,
    /// What to export.
    #[arg(long, value_enum, default_value = "items")]
    kind: ExportKind,
    /// File format (items are always native JSONL).
    #[arg(long, value_enum, default_value = "jsonl")]
    format: ExportFormat,
    /// Output file; `-` writes standard output.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    filters: FilterArgs,
    /// Print the summary as JSON on standard error.
    #[arg(long)]
    json: bool,
}

/// One line saying what an export wrote and left out.
pub fn summary_line(kind: Kind, summary: &PairSummary, to: &str) -> String {
    let decided: Vec<String> = summary
        .by_decision
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    let mut out = vec![];
    for (n, what) in [
        (summary.tie, "ties".to_owned()),
        (
            summary.below_threshold,
            format!("below the Dawid-Skene threshold {}", summary.threshold),
        ),
        (summary.no_judgments, "without judgments".to_owned()),
        (summary.filtered, "filtered".to_owned()),
        (
            summary.low_agreement,
            "below the minimum agreement".to_owned(),
        ),
    ] {
        if n > 0 || matches!(kind, Kind::Preference | Kind::Reward | Kind::Sft) {
            out.push(format!("{n} {what}"));
        }
    }
    let mut line = format!(
        "exported {} {} rows to {to} ({}); left out: {}",
        summary.exported,
        kind.as_str(),
        if decided.is_empty() {
            "none".to_owned()
        } else {
            decided.join(", ")
        },
        if out.is_empty() {
            "nothing".to_owned()
        } else {
            out.join(", ")
        }
    );
    if summary.judgments_other_rubric > 0 || summary.judgments_below_expertise > 0 {
        line.push_str(&format!(
            "; judgments left out: {} under another rubric version, {} below the minimum expertise",
            summary.judgments_other_rubric, summary.judgments_below_expertise
        ));
    }
    line
}

/// Exports a project's items or rows; a file is written beside its target and renamed
/// into place only when complete, so a failed export leaves no half-written file.
pub async fn export<S: Store>(store: &S, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let Some(kind) = args.kind.data() else {
        let count = export_items(store, &args.project, &args.out).await?;
        if args.out != Path::new("-") {
            eprintln!("exported {count} items to {}", args.out.display());
        }
        return Ok(ExitCode::SUCCESS);
    };
    let project = store.project_by_name(&args.project).await?;
    let opts = args.filters.options(store, &project).await?;
    let summary = export_rows(store, &project, kind, &args.out, opts, args.format).await?;
    if args.json {
        eprintln!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        eprintln!(
            "{}",
            summary_line(kind, &summary, &args.out.display().to_string())
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the rows of `kind` of `project` to `out` (`-`: standard output, JSONL only),
/// through a `.partial` file renamed into place when complete.
pub async fn export_rows<S: Store>(
    store: &S,
    project: &plumbline_store::Project,
    kind: Kind,
    out: &Path,
    opts: PairOptions,
    format: ExportFormat,
) -> anyhow::Result<PairSummary> {
    let to_stdout = out == Path::new("-");
    if to_stdout && format == ExportFormat::Parquet {
        bail!("Parquet is written to a file, not to standard output");
    }
    let criteria: Vec<String> = store
        .rubric(project.id, None)
        .await?
        .rubric
        .criteria
        .iter()
        .map(|c| c.key.to_string())
        .collect();
    let tmp = out.with_extension("partial");
    let sink: plumbline_formats::run::SinkFactory = if to_stdout {
        Box::new(|| {
            Ok(
                Box::new(plumbline_formats::export::JsonlSink::new(std::io::stdout()))
                    as Box<dyn plumbline_formats::export::RowSink>,
            )
        })
    } else {
        plumbline_formats::run::file_sink(kind, format.file(), tmp.clone(), criteria)
            .map_err(anyhow::Error::msg)?
    };
    let result = plumbline_formats::run::export(store, project, kind, opts, sink, false)
        .await
        .map_err(|e| anyhow::anyhow!("exporting to {}: {e}", out.display()));
    match result {
        Ok(outcome) => {
            if !to_stdout {
                std::fs::rename(&tmp, out)
                    .with_context(|| format!("cannot move {} into place", out.display()))?;
            }
            Ok(outcome.summary)
        }
        Err(e) => {
            if !to_stdout {
                let _ = std::fs::remove_file(&tmp);
            }
            Err(e)
        }
    }
}

/// Writes every item of `project` to `out` as native JSONL; returns the count.
pub async fn export_items<S: Store>(store: &S, project: &str, out: &Path) -> anyhow::Result<u64> {
    let project = store.project_by_name(project).await?;
    let (tx, mut rx) = mpsc::channel::<Vec<String>>(4);
    let to_stdout = out == Path::new("-");
    let tmp = out.with_extension("partial");
    let writer: Box<dyn Write + Send> = if to_stdout {
        Box::new(std::io::stdout())
    } else {
        Box::new(File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?)
    };
    let write = tokio::task::spawn_blocking(move || -> std::io::Result<u64> {
        let mut w = BufWriter::with_capacity(1 << 20, writer);
        let mut n = 0u64;
        while let Some(batch) = rx.blocking_recv() {
            for body in batch {
                w.write_all(body.as_bytes())?;
                w.write_all(b"\n")?;
                n += 1;
            }
        }
        w.flush()?;
        Ok(n)
    });
    let sent = store.export_items(project.id, tx).await;
    let written = write.await.context("the writer thread failed")?;
    let result = sent.context("reading items").and_then(|sent| {
        written
            .with_context(|| format!("writing {}", out.display()))
            .map(|w| (sent, w))
    });
    match result {
        Ok((_, written)) => {
            if !to_stdout {
                std::fs::rename(&tmp, out)
                    .with_context(|| format!("cannot move {} into place", out.display()))?;
            }
            Ok(written)
        }
        Err(e) => {
            if !to_stdout {
                let _ = std::fs::remove_file(&tmp);
            }
            Err(e)
        }
    }
}
