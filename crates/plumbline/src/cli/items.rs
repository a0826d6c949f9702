//! `plumbline import` and `plumbline export`: flags in, the drivers of
//! plumbline_formats (shared with the API) run, a summary out.

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use plumbline_domain::TaskKind;
use plumbline_formats::csv::Mapping;
use plumbline_formats::export::PairSummary;
use plumbline_formats::export_driver::{
    self, Destination, Export, ExportRequest, Exported, Filters, Target,
};
use plumbline_formats::feed::DEFAULT_MAX_LINE_BYTES;
use plumbline_formats::import_driver::{self, ImportError, ImportRequest};
use plumbline_formats::media::MediaOptions;
use plumbline_formats::release::FileFormat;
use plumbline_formats::run::Kind;
use plumbline_formats::{Format, Input};
use plumbline_store::{ImportOptions, Project, Store};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub use plumbline_formats::import_driver::ImportReport;

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
    /// TRL preference rows (`chosen`/`rejected` message lists, or a prompt and two
    /// texts), Plumbline's own preference and reward exports, UltraFeedback binarized.
    Trl,
    /// TRL conversational SFT rows (`messages`), Plumbline's own sft exports.
    TrlSft,
    /// UltraFeedback rows: a prompt and rated `completions`.
    Ultrafeedback,
    /// NVIDIA HelpSteer2 preference rows (`response_1`, `response_2`, `preference_strength`).
    Helpsteer2Preference,
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
            ImportFormat::Trl => Format::Trl,
            ImportFormat::TrlSft => Format::TrlSft,
            ImportFormat::Ultrafeedback => Format::UltraFeedback,
            ImportFormat::Helpsteer2Preference => Format::HelpSteer2Preference,
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
    /// Column of the path of each call's audio (see --media-dir).
    #[arg(long, value_name = "COLUMN")]
    media_column: Option<String>,
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
            media: self.media_column.clone(),
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
    /// Where items' audio files (`media.path`) are looked up when they are not beside
    /// the item file.
    #[arg(long, value_name = "DIR")]
    media_dir: Option<PathBuf>,
    /// Largest audio file accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = plumbline_store::DEFAULT_MAX_MEDIA_BYTES)]
    max_media_bytes: u64,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
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

/// Audio paths are looked up beside the item file first, then in `media_dir`.
fn media_options(file: &Path, media_dir: Option<&Path>, max_bytes: u64) -> MediaOptions {
    let beside = (file != Path::new("-"))
        .then(|| file.parent().map(Path::to_path_buf))
        .flatten()
        .map(|p| {
            if p.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                p
            }
        });
    MediaOptions {
        dirs: beside
            .into_iter()
            .chain(media_dir.map(Path::to_path_buf))
            .collect(),
        max_bytes,
        ..MediaOptions::default()
    }
}

/// Imports a file into a project: all of it or, on any bad record, none.
pub async fn import<S: Store>(store: &S, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let request = ImportRequest {
        format: args.format.format(),
        mapping: args.columns.mapping()?,
        options: ImportOptions {
            update: args.update,
            report_errors: args.report_errors,
        },
        max_line_bytes: args.max_line_bytes,
        media: Some(media_options(
            &args.file,
            args.media_dir.as_deref(),
            args.max_media_bytes,
        )),
    };
    let report = import_file_as(store, &args.project, &args.file, &request, !args.json).await?;
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
        let annotated = if report.annotated > 0 {
            format!(", annotated {}", report.annotated)
        } else {
            String::new()
        };
        let external = if report.external_judgments > 0 {
            format!(", external judgments {}", report.external_judgments)
        } else {
            String::new()
        };
        println!(
            "imported {}, unchanged {}, updated {}, rejected {}{annotated}{external}",
            report.imported, report.unchanged, report.updated, report.rejected
        );
        if report.gold_candidates > 0 {
            eprintln!(
                "{name}: {} gold candidates proposed (marked ground truth); a lead accepts or \
                 rejects them with `plumbline gold candidates`",
                report.gold_candidates
            );
        }
    }
    Ok(if report.stored {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
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
    let request = ImportRequest {
        max_line_bytes,
        ..ImportRequest::native(options)
    };
    import_file_as(store, project, file, &request, show_progress).await
}

/// Imports a file (or standard input for `-`) of any format; see [`import_input`].
pub async fn import_file_as<S: Store>(
    store: &S,
    project: &str,
    file: &Path,
    request: &ImportRequest,
    show_progress: bool,
) -> anyhow::Result<ImportReport> {
    let (input, len) = open_input(file)?;
    let bar = if show_progress {
        progress_bar(len)
    } else {
        ProgressBar::hidden()
    };
    let name = file.display().to_string();
    let report = import_input(store, project, input, &name, request, &bar).await;
    bar.finish_and_clear();
    report
}

/// Runs the import driver on `input` (called `name` in messages) into the project
/// called `project`. Shared by the CLI, the demo and the benchmarks.
pub async fn import_input<S: Store>(
    store: &S,
    project: &str,
    input: Input,
    name: &str,
    request: &ImportRequest,
    bar: &ProgressBar,
) -> anyhow::Result<ImportReport> {
    let project = store.project_by_name(project).await?;
    let bar = bar.clone();
    let imported = import_driver::run(store, None, &project, input, request, move |bytes| {
        bar.set_position(bytes)
    })
    .await
    .map_err(|e| match e {
        ImportError::Read(e) => anyhow::Error::new(e).context(format!("reading {name}")),
        ImportError::Store(e) => anyhow::Error::new(e).context(format!("storing items of {name}")),
        e @ ImportError::Reader(_) => e.into(),
    })?;
    Ok(imported.report(name, &project.name))
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
    /// Label Studio task JSON (one array): each item's data as the matching shipped
    /// template reads it, Plumbline's decided label as the prediction.
    LabelStudio,
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
            ExportKind::LabelStudio => Kind::LabelStudio,
        })
    }

    /// What the export writes.
    pub fn target(self) -> Target {
        self.data().map_or(Target::Items, Target::Rows)
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
    /// Least posterior of a pair decided by the decision method, not by adjudication, gold
    /// or a single vote (preference, reward and sft; default: the project's
    /// decision_threshold, 0.9 unless set).
    #[arg(long, value_name = "P")]
    threshold: Option<f64>,
    /// How items with several votes are decided: reliability (votes weighted by each
    /// voter's reliability; the default), dawid-skene or majority (preference, reward and
    /// sft).
    #[arg(long, value_name = "METHOD")]
    decision: Option<String>,
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
    /// The filters given.
    pub fn filters(&self) -> Filters {
        Filters {
            split: self.split.map(|s| match s {
                SplitFilter::Train => plumbline_domain::Split::Train,
                SplitFilter::Eval => plumbline_domain::Split::Eval,
            }),
            tags: self.tags.clone(),
            rubric_version: self.rubric_version,
            min_expertise: self.min_expertise,
            min_agreement: self.min_agreement,
            include_external: self.include_external,
            threshold: self.threshold,
            decision: self.decision.clone(),
        }
    }

    /// The checked export of `target` as `format` with these filters.
    pub async fn export<S: Store>(
        &self,
        store: &S,
        project: &Project,
        target: Target,
        format: FileFormat,
    ) -> anyhow::Result<Export> {
        let request = ExportRequest {
            target,
            format,
            filters: self.filters(),
        };
        Ok(request.validate(store, project).await?)
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
    let pairs = matches!(kind, Kind::Preference | Kind::Reward | Kind::Sft);
    let mut out = vec![];
    // (count, what, shown even at zero)
    for (n, what, always) in [
        (summary.tie, "ties".to_owned(), pairs),
        (
            summary.below_threshold,
            format!("below the threshold {}", summary.threshold),
            pairs,
        ),
        (
            summary.against_votes,
            "with a Dawid-Skene winner no vote named".to_owned(),
            false,
        ),
        (summary.no_judgments, "without judgments".to_owned(), pairs),
        (summary.filtered, "filtered".to_owned(), pairs),
        (
            summary.low_agreement,
            "below the minimum agreement".to_owned(),
            pairs,
        ),
    ] {
        if n > 0 || always {
            out.push(format!("{n} {what}"));
        }
    }
    let decided = if decided.is_empty() {
        "none".to_owned()
    } else {
        decided.join(", ")
    };
    let mut line = format!(
        "exported {} {} rows to {to} ({}); left out: {}",
        summary.exported,
        kind.as_str(),
        match summary.method {
            Some(m) => format!("method {m}: {decided}"),
            None => decided,
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
    let project = store.project_by_name(&args.project).await?;
    let export = args
        .filters
        .export(store, &project, args.kind.target(), args.format.file())
        .await?;
    let rows = match export_to(store, &project, export, &args.out).await? {
        Exported::Items(done) if args.json => {
            eprintln!("{}", serde_json::to_string_pretty(&done)?);
            done.exported
        }
        Exported::Items(done) => {
            if args.out != Path::new("-") {
                eprintln!(
                    "exported {} items to {}; left out: {} filtered",
                    done.exported,
                    args.out.display(),
                    done.filtered
                );
            }
            done.exported
        }
        Exported::Rows(_, summary) if args.json => {
            eprintln!("{}", serde_json::to_string_pretty(&summary)?);
            summary.exported
        }
        Exported::Rows(kind, summary) => {
            let to = args.out.display().to_string();
            eprintln!("{}", summary_line(kind, &summary, &to));
            summary.exported
        }
    };
    // With --json, standard error holds the summary alone (its `exported` says 0).
    if rows == 0 && !args.json {
        eprintln!(
            "{}",
            empty_note(args.format, &args.out.display().to_string())
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// What an export of no rows wrote, said out loud: an empty JSONL file is easily taken
/// for a failure, and some readers refuse one.
pub fn empty_note(format: ExportFormat, to: &str) -> String {
    let to = if to == "-" { "standard output" } else { to };
    match format {
        ExportFormat::Jsonl => format!(
            "note: no rows matched, so {to} is empty (JSONL of no lines; Parquet would hold the \
             schema and no rows)"
        ),
        ExportFormat::Parquet => {
            format!(
                "note: no rows matched; {to} is a valid Parquet file with its schema and no rows"
            )
        }
    }
}

/// Runs the export driver into `out` (`-`: standard output, JSONL only).
pub async fn export_to<S: Store>(
    store: &S,
    project: &Project,
    export: Export,
    out: &Path,
) -> anyhow::Result<Exported> {
    let to = if out == Path::new("-") {
        Destination::Stream(Box::new(std::io::stdout()))
    } else {
        Destination::File(out.to_owned())
    };
    export_driver::run(store, project, export, to)
        .await
        .map_err(|e| anyhow::anyhow!("exporting to {}: {e}", out.display()))
}

/// Writes every item of the project called `project` to `out` as native JSONL; returns
/// the count. For the benchmarks.
pub async fn export_items<S: Store>(store: &S, project: &str, out: &Path) -> anyhow::Result<u64> {
    let project = store.project_by_name(project).await?;
    let export = ExportRequest {
        target: Target::Items,
        format: FileFormat::Jsonl,
        filters: Filters::default(),
    }
    .validate(store, &project)
    .await?;
    match export_to(store, &project, export, out).await? {
        Exported::Items(done) => Ok(done.exported),
        Exported::Rows(..) => bail!("an items export wrote rows"),
    }
}
