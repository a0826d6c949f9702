//! `plumbline import` and `plumbline export`.

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use plumbline_formats::LineError;
use plumbline_formats::native::{DEFAULT_MAX_LINE_BYTES, NativeOptions, ReadSummary, read_native};
use plumbline_store::{ImportConflict, ImportOptions, ImportOutcome, Store};
use serde::Serialize;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tokio::sync::mpsc;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Project name.
    #[arg(long)]
    project: String,
    /// Native JSONL file; `-` reads standard input.
    file: PathBuf,
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
    pub imported: u64,
    pub unchanged: u64,
    pub updated: u64,
    pub rejected: u64,
    pub stored: bool,
    pub errors: Vec<LineError>,
}

impl ImportReport {
    fn new(file: &str, project: &str, read: ReadSummary, outcome: ImportOutcome) -> Self {
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
            imported: if stored { outcome.imported } else { 0 },
            unchanged: if stored { outcome.unchanged } else { 0 },
            updated: if stored { outcome.updated } else { 0 },
            rejected: read.error_count + outcome.conflict_count,
            stored,
            errors,
        }
    }
}

fn open_input(file: &Path) -> anyhow::Result<(Box<dyn BufRead + Send>, Option<u64>)> {
    if file == Path::new("-") {
        return Ok((
            Box::new(BufReader::with_capacity(1 << 20, std::io::stdin())),
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
    Ok((
        Box::new(BufReader::with_capacity(1 << 20, f)),
        Some(meta.len()),
    ))
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

/// Imports a native JSONL file into a project: all of it or, on any bad line, none.
pub async fn import<S: Store>(store: &S, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let options = ImportOptions {
        update: args.update,
        report_errors: args.report_errors,
    };
    let report = import_file(
        store,
        &args.project,
        &args.file,
        options,
        args.max_line_bytes,
        true,
    )
    .await?;
    let name = args.file.display().to_string();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for e in &report.errors {
            eprintln!("{name}: {e}");
        }
        if report.rejected as usize > report.errors.len() {
            eprintln!(
                "{name}: … and {} more bad lines",
                report.rejected as usize - report.errors.len()
            );
        }
        if !report.stored {
            eprintln!("{name}: nothing was stored");
        }
        println!(
            "imported {}, unchanged {}, updated {}, rejected {}",
            report.imported, report.unchanged, report.updated, report.rejected
        );
    }
    Ok(if report.stored {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Imports a file (or standard input for `-`); see [`import_reader`].
pub async fn import_file<S: Store>(
    store: &S,
    project: &str,
    file: &Path,
    options: ImportOptions,
    max_line_bytes: usize,
    show_progress: bool,
) -> anyhow::Result<ImportReport> {
    let (input, len) = open_input(file)?;
    let bar = if show_progress {
        progress_bar(len)
    } else {
        ProgressBar::hidden()
    };
    let name = file.display().to_string();
    let report = import_reader(store, project, input, &name, options, max_line_bytes, &bar).await;
    bar.finish_and_clear();
    report
}

/// The import pipeline: a blocking reader parses and sends batches while the store
/// writes them in one transaction. Shared by the CLI, the demo and the benchmark.
pub async fn import_reader<S: Store>(
    store: &S,
    project: &str,
    input: Box<dyn BufRead + Send>,
    name: &str,
    options: ImportOptions,
    max_line_bytes: usize,
    bar: &ProgressBar,
) -> anyhow::Result<ImportReport> {
    let project = store.project_by_name(project).await?;
    let rubric = store.rubric(project.id, None).await?;
    let native = NativeOptions {
        default_task: project.settings.task,
        edge_cases: rubric
            .rubric
            .edge_cases
            .iter()
            .map(|e| e.key.to_string())
            .collect(),
        max_line_bytes,
        report_errors: options.report_errors,
    };
    let (tx, rx) = mpsc::channel(4);
    let reader_bar = bar.clone();
    let reader = tokio::task::spawn_blocking(move || {
        read_native(input, &native, &tx, |bytes| reader_bar.set_position(bytes))
    });
    let outcome = store.import_items(None, project.id, options, rx).await;
    let read = reader.await.context("the reader thread failed")?;
    let read = read.with_context(|| format!("reading {name}"))?;
    let outcome = outcome.with_context(|| format!("storing items of {name}"))?;
    Ok(ImportReport::new(name, &project.name, read, outcome))
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportKind {
    /// The items themselves, in the native JSONL format.
    Items,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Project name.
    #[arg(long)]
    project: String,
    /// What to export.
    #[arg(long, value_enum, default_value = "items")]
    kind: ExportKind,
    /// Output file; `-` writes standard output.
    #[arg(long)]
    out: PathBuf,
}

/// Exports a project's items; a file is written beside its target and renamed into
/// place only when complete, so a failed export leaves no half-written file.
pub async fn export<S: Store>(store: &S, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let ExportKind::Items = args.kind;
    let count = export_items(store, &args.project, &args.out).await?;
    if args.out != Path::new("-") {
        eprintln!("exported {count} items to {}", args.out.display());
    }
    Ok(ExitCode::SUCCESS)
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
