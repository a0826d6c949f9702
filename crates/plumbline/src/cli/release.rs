//! `plumbline release create|list|verify`: immutable, content-addressed dataset
//! snapshots (see plumbline_formats::release).

use super::items::{ExportFormat, ExportKind, FilterArgs, summary_line};
use anyhow::bail;
use clap::{Args, Subcommand};
use plumbline_formats::export_driver::Target;
use plumbline_formats::release::{ReleaseRequest, create, verify};
use plumbline_store::Store;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum ReleaseCommand {
    /// Write a release into a new or empty directory and record it.
    Create(CreateArgs),
    /// List a project's releases, newest first.
    List {
        /// Project name.
        #[arg(long)]
        project: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check every file of a release against its manifest (no database needed).
    Verify {
        /// The release directory.
        dir: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Project name.
    #[arg(long)]
    project: String,
    /// What to release.
    #[arg(long, value_enum)]
    kind: ExportKind,
    /// Data file format.
    #[arg(long, value_enum, default_value = "jsonl")]
    format: ExportFormat,
    #[command(flatten)]
    filters: FilterArgs,
    /// Directory to write (created; refused when it holds anything).
    #[arg(long)]
    out: PathBuf,
    /// Also write the released items' audio files, listed in the manifest.
    #[arg(long)]
    with_media: bool,
}

/// `release verify`, which reads only files.
pub fn verify_dir(dir: &std::path::Path) -> ExitCode {
    match verify(dir) {
        Ok(v) => {
            println!(
                "release {} verified: {} files match {}",
                v.id,
                v.files,
                plumbline_formats::release::MANIFEST
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: release {} does not verify: {e}", dir.display());
            ExitCode::FAILURE
        }
    }
}

pub async fn run<S: Store>(store: &S, cmd: ReleaseCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ReleaseCommand::Verify { dir } => Ok(verify_dir(&dir)),
        ReleaseCommand::List { project, json } => {
            let project = store.project_by_name(&project).await?;
            let releases = store.releases(project.id).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&releases)?);
            } else if releases.is_empty() {
                println!("project {} has no releases", project.name);
            } else {
                println!(
                    "{:<64}  {:<10}  {:<7}  {:>8}  location",
                    "release id", "kind", "format", "rows"
                );
                for r in releases {
                    let rows = serde_json::from_str::<serde_json::Value>(&r.counts)
                        .ok()
                        .and_then(|c| c.get("exported").and_then(|e| e.as_u64()))
                        .map_or("?".to_owned(), |n| n.to_string());
                    println!(
                        "{:<64}  {:<10}  {:<7}  {:>8}  {}",
                        r.manifest_sha256, r.kind, r.format, rows, r.location
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ReleaseCommand::Create(args) => {
            let Some(kind) = args.kind.data() else {
                bail!(
                    "a release holds judged data: choose --kind preference, reward, sft, ranking, rating, red_team or full"
                );
            };
            let project = store.project_by_name(&args.project).await?;
            let export = args
                .filters
                .export(store, &project, Target::Rows(kind), args.format.file())
                .await?;
            let req = ReleaseRequest {
                kind,
                format: export.format,
                opts: export.opts,
                out: args.out.clone(),
                with_media: args.with_media,
            };
            let released = create(store, None, &project, req)
                .await
                .map_err(|e| anyhow::anyhow!("release of {}: {e}", project.name))?;
            eprintln!(
                "{}",
                summary_line(
                    kind,
                    &released.outcome.summary,
                    &args.out.display().to_string()
                )
            );
            println!("release {}", released.record.manifest_sha256);
            Ok(ExitCode::SUCCESS)
        }
    }
}
