//! `plumbline rubric show | new-version`.

use clap::Subcommand;
use plumbline_domain::RubricVersion;
use plumbline_store::{Store, StoredRubric};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum RubricCommand {
    /// Show the current (or a given) rubric version of a project.
    Show {
        /// Project name.
        #[arg(long)]
        project: String,
        /// Version number; the current one when absent.
        #[arg(long)]
        version: Option<i32>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Store a rubric file as the project's next version.
    NewVersion {
        /// Project name.
        #[arg(long)]
        project: String,
        /// Rubric TOML file.
        #[arg(long)]
        rubric: PathBuf,
    },
}

pub async fn run<S: Store>(store: &S, cmd: RubricCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        RubricCommand::Show {
            project,
            version,
            json,
        } => {
            let project = store.project_by_name(&project).await?;
            let stored = store.rubric(project.id, version.map(RubricVersion)).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&stored)?);
            } else {
                print!("{}", describe(&stored));
            }
        }
        RubricCommand::NewVersion { project, rubric } => {
            let project = store.project_by_name(&project).await?;
            let rubric = super::project::read_rubric(&rubric)?;
            let stored = store.add_rubric_version(None, project.id, rubric).await?;
            println!(
                "project `{}` now judges under rubric {} ({} criteria)",
                project.name,
                stored.version,
                stored.rubric.criteria.len()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn describe(stored: &StoredRubric) -> String {
    use std::fmt::Write;
    let r = &stored.rubric;
    let mut out = format!(
        "{} — rubric {}\n\ncriteria, highest priority first:\n",
        r.name, stored.version
    );
    for c in &r.criteria {
        let _ = writeln!(
            out,
            "  {}. {:<20} {}{} (scale {}–{})",
            c.priority,
            c.key,
            c.title,
            if c.hard { " [hard]" } else { "" },
            c.scale.min,
            c.scale.max
        );
    }
    if !r.errors.is_empty() {
        out.push_str("\nerror taxonomy:\n");
        for e in &r.errors {
            let _ = writeln!(out, "  {:<24} {:?} on {}", e.key, e.severity, e.criterion);
        }
    }
    if !r.edge_cases.is_empty() {
        out.push_str("\nedge cases:\n");
        for e in &r.edge_cases {
            let _ = writeln!(out, "  edge:{}", e.key);
        }
    }
    out
}
