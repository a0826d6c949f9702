//! `plumbline demo`: a fresh SQLite database seeded with the three example projects
//! of `examples/` (embedded in the binary), served on the listen address.

use super::items::import_reader;
use anyhow::Context;
use clap::Args;
use indicatif::ProgressBar;
use plumbline_domain::{ProjectName, ProjectSettings, Rubric, TaskKind};
use plumbline_store::{ImportOptions, NewProject, SqliteStore, Store, StoreError};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the demo database in this directory (default: a fresh temporary one).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "PLUMBLINE_LISTEN", default_value = "127.0.0.1:7433")]
    listen: String,
    /// Seed the database and exit without serving.
    #[arg(long)]
    seed_only: bool,
}

/// One example domain: its name, rubric and items, compiled into the binary.
pub struct Example {
    pub name: &'static str,
    pub rubric: &'static str,
    pub items: &'static str,
}

/// The examples the demo is seeded from.
pub const EXAMPLES: [Example; 3] = [
    Example {
        name: "banking",
        rubric: include_str!("../../../../examples/banking/rubric.toml"),
        items: include_str!("../../../../examples/banking/items.jsonl"),
    },
    Example {
        name: "clinical",
        rubric: include_str!("../../../../examples/clinical/rubric.toml"),
        items: include_str!("../../../../examples/clinical/items.jsonl"),
    },
    Example {
        name: "insurance",
        rubric: include_str!("../../../../examples/insurance/rubric.toml"),
        items: include_str!("../../../../examples/insurance/items.jsonl"),
    },
];

/// Creates the example projects that do not exist yet and imports their items.
pub async fn seed<S: Store>(store: &S) -> anyhow::Result<()> {
    for example in &EXAMPLES {
        let rubric = Rubric::from_toml(example.rubric)
            .with_context(|| format!("example rubric {}", example.name))?;
        let created = store
            .create_project(
                None,
                NewProject {
                    name: ProjectName::parse(example.name).map_err(anyhow::Error::msg)?,
                    settings: ProjectSettings {
                        task: TaskKind::Preference,
                        overlap: 2,
                        ..ProjectSettings::default()
                    },
                    rubric,
                },
            )
            .await;
        match created {
            Ok(_) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
        let report = import_reader(
            store,
            example.name,
            Box::new(example.items.as_bytes()),
            &format!("examples/{}/items.jsonl", example.name),
            ImportOptions::default(),
            1 << 24,
            &ProgressBar::hidden(),
        )
        .await?;
        if !report.stored {
            anyhow::bail!(
                "the {} example did not import: {:?}",
                example.name,
                report.errors
            );
        }
    }
    Ok(())
}

pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let dir = match &args.data {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!("plumbline-demo-{}", std::process::id())),
    };
    let db = dir.join("plumbline.db");
    let store = SqliteStore::open(&db)
        .await
        .with_context(|| format!("opening demo database {}", db.display()))?;
    seed(&store).await?;
    let projects = store.list_projects().await?;
    eprintln!("demo database: {}", db.display());
    for p in &projects {
        eprintln!("  project {:<10} {:>3} items", p.project.name, p.items);
    }
    if args.seed_only {
        return Ok(ExitCode::SUCCESS);
    }
    super::serve::serve(plumbline_server::AppState::new(store), &args.listen).await
}
