//! `plumbline project create | list`.

use anyhow::Context;
use clap::{Args, Subcommand};
use plumbline_domain::{ProjectName, ProjectSettings, Rubric, TaskKind};
use plumbline_store::{NewProject, Store};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project from a rubric file.
    Create(CreateArgs),
    /// List projects.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Unique project name.
    #[arg(long)]
    name: String,
    /// Rubric TOML file.
    #[arg(long)]
    rubric: PathBuf,
    /// Default task kind of the project's items.
    #[arg(long, default_value = "preference", value_parser = parse_task)]
    task: TaskKind,
    /// Judgments wanted per item.
    #[arg(long)]
    overlap: Option<u32>,
    /// Share of served work that is hidden gold, in [0, 1).
    #[arg(long)]
    gold_rate: Option<f64>,
    /// Print the created project as JSON.
    #[arg(long)]
    json: bool,
}

pub fn parse_task(s: &str) -> Result<TaskKind, String> {
    s.parse()
}

/// Reads and validates a rubric file, naming the file in any error.
pub fn read_rubric(path: &PathBuf) -> anyhow::Result<Rubric> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read rubric file {}", path.display()))?;
    Rubric::from_toml(&text).with_context(|| format!("rubric file {}", path.display()))
}

pub async fn run<S: Store>(store: &S, cmd: ProjectCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ProjectCommand::Create(args) => {
            let name = ProjectName::parse(&args.name).map_err(anyhow::Error::msg)?;
            let rubric = read_rubric(&args.rubric)?;
            let defaults = ProjectSettings::default();
            let settings = ProjectSettings {
                task: args.task,
                overlap: args.overlap.unwrap_or(defaults.overlap),
                gold_rate: args.gold_rate.unwrap_or(defaults.gold_rate),
                ..defaults
            };
            settings
                .validate()
                .map_err(|e| anyhow::anyhow!("invalid setting: {e}"))?;
            let project = store
                .create_project(
                    None,
                    NewProject {
                        name,
                        settings,
                        rubric,
                    },
                )
                .await?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&project)?);
            } else {
                println!(
                    "created project `{}` (id {}, task {}, overlap {}, gold rate {}, rubric {})",
                    project.name,
                    project.id,
                    project.settings.task,
                    project.settings.overlap,
                    project.settings.gold_rate,
                    project.rubric_version
                );
            }
        }
        ProjectCommand::List { json } => {
            let projects = store.list_projects().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&projects)?);
            } else if projects.is_empty() {
                println!("no projects yet (create one with `plumbline project create`)");
            } else {
                println!(
                    "{:<32} {:>10} {:<14} {:>7} {:>7}",
                    "NAME", "ITEMS", "TASK", "OVERLAP", "RUBRIC"
                );
                for p in projects {
                    println!(
                        "{:<32} {:>10} {:<14} {:>7} {:>7}",
                        p.project.name,
                        p.items,
                        p.project.settings.task.as_str(),
                        p.project.settings.overlap,
                        p.project.rubric_version.to_string()
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
