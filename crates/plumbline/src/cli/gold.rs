//! `plumbline gold candidates | accept | reject`: a lead's decisions on proposed gold
//! (annotations an import's source marked as the right answer, such as Label Studio's
//! ground truth), which never become gold by themselves.

use clap::Subcommand;
use plumbline_store::{GoldCandidate, Store, WorkError};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum GoldCommand {
    /// List a project's gold candidates, oldest first.
    Candidates {
        /// Project name.
        #[arg(long)]
        project: String,
        /// Only candidates in this state: pending, accepted or rejected.
        #[arg(long)]
        state: Option<String>,
        /// Print them as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Accept a pending candidate: its payload becomes the item's new gold version.
    Accept {
        /// Project name.
        #[arg(long)]
        project: String,
        /// The candidate's id (from `gold candidates`).
        id: i64,
        /// The payload to store instead of the proposed one (JSON), when the proposed one
        /// is not a valid gold answer as it stands (it lacks the rubric's criteria).
        #[arg(long, conflicts_with = "payload_file")]
        payload: Option<String>,
        /// Read that payload from a file.
        #[arg(long)]
        payload_file: Option<PathBuf>,
    },
    /// Reject a pending candidate (kept, decided: a later import does not propose it).
    Reject {
        /// Project name.
        #[arg(long)]
        project: String,
        /// The candidate's id.
        id: i64,
    },
}

fn line(c: &GoldCandidate) -> String {
    let note = c.note.as_deref().unwrap_or("");
    format!(
        "{:>6}  {:<8}  {}  {}  {}  {note}",
        c.id, c.state, c.item, c.source, c.payload
    )
}

pub async fn run<S: Store>(store: &S, cmd: GoldCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        GoldCommand::Candidates {
            project,
            state,
            json,
        } => {
            let p = store.project_by_name(&project).await?;
            let found = store.gold_candidates(p.id, state).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&found)?);
            } else if found.is_empty() {
                println!("project {} has no such gold candidates", p.name);
            } else {
                for c in &found {
                    println!("{}", line(c));
                }
            }
        }
        GoldCommand::Accept {
            project,
            id,
            payload,
            payload_file,
        } => {
            let p = store.project_by_name(&project).await?;
            let payload = match payload_file {
                Some(path) => Some(
                    std::fs::read_to_string(&path)
                        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?,
                ),
                None => payload,
            };
            let given = payload.is_some();
            let gold = store
                .accept_gold_candidate(None, p.id, id, payload)
                .await
                .map_err(|e| match e {
                    WorkError::Payload(e) if !given => anyhow::anyhow!(
                        "gold candidate {id} is not a valid gold answer as proposed ({e}); \
                         give the completed payload with --payload or --payload-file"
                    ),
                    e => e.into(),
                })?;
            println!(
                "gold candidate {id} accepted: item {} has gold version {}",
                gold.item, gold.version
            );
        }
        GoldCommand::Reject { project, id } => {
            let p = store.project_by_name(&project).await?;
            let c = store.reject_gold_candidate(None, p.id, id).await?;
            println!("gold candidate {id} of item {} rejected", c.item);
        }
    }
    Ok(ExitCode::SUCCESS)
}
