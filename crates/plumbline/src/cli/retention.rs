//! `plumbline retention set | show` and `plumbline purge`.

use super::access::parse_duration_ms;
use clap::{Args, Subcommand};
use plumbline_store::{PurgeScope, RetentionPolicy, Store};
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Set a project's retention policy (durations in days, e.g. 30d).
    Set {
        /// Project name.
        #[arg(long)]
        project: String,
        /// Purge an item's text this long after it is resolved.
        #[arg(long, value_parser = parse_days)]
        after_resolved: Option<u32>,
        /// Purge an item's text this long after it first appears in a release.
        #[arg(long, value_parser = parse_days)]
        after_release: Option<u32>,
    },
    /// Remove a project's retention policy (keep text until purged by hand).
    Clear {
        /// Project name.
        #[arg(long)]
        project: String,
    },
    /// Show a project's retention policy.
    Show {
        /// Project name.
        #[arg(long)]
        project: String,
    },
}

#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// Project name.
    #[arg(long)]
    project: String,
    /// Count what would be purged, change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Purge every item of the project, whatever the policy (end of contract, erasure).
    #[arg(long)]
    everything: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

fn parse_days(s: &str) -> Result<u32, String> {
    let ms = parse_duration_ms(s)?;
    if ms % 86_400_000 != 0 {
        return Err(format!("`{s}`: retention is set in whole days, e.g. 30d"));
    }
    u32::try_from(ms / 86_400_000).map_err(|_| format!("`{s}` is too long"))
}

pub async fn retention<S: Store>(store: &S, cmd: RetentionCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        RetentionCommand::Set {
            project,
            after_resolved,
            after_release,
        } => {
            if after_resolved.is_none() && after_release.is_none() {
                anyhow::bail!(
                    "give --after-resolved and/or --after-release (or use `retention clear`)"
                );
            }
            let p = store.project_by_name(&project).await?;
            let policy = RetentionPolicy {
                after_resolved_days: after_resolved,
                after_release_days: after_release,
            };
            store.set_retention(None, p.id, Some(policy)).await?;
            println!("project `{project}`: {}", describe(Some(policy)));
        }
        RetentionCommand::Clear { project } => {
            let p = store.project_by_name(&project).await?;
            store.set_retention(None, p.id, None).await?;
            println!("project `{project}`: {}", describe(None));
        }
        RetentionCommand::Show { project } => {
            let p = store.project_by_name(&project).await?;
            println!(
                "project `{project}`: {}",
                describe(store.retention(p.id).await?)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn describe(policy: Option<RetentionPolicy>) -> String {
    let Some(p) = policy else {
        return "no retention policy (text is kept until purged by hand)".into();
    };
    let mut rules = Vec::new();
    if let Some(d) = p.after_resolved_days {
        rules.push(format!("{d} days after resolution"));
    }
    if let Some(d) = p.after_release_days {
        rules.push(format!("{d} days after first release"));
    }
    format!("text is purged {}", rules.join(" or "))
}

pub async fn purge<S: Store>(store: &S, args: PurgeArgs) -> anyhow::Result<ExitCode> {
    let p = store.project_by_name(&args.project).await?;
    let scope = if args.everything {
        PurgeScope::Everything
    } else {
        PurgeScope::Due
    };
    if scope == PurgeScope::Due && store.retention(p.id).await?.is_none() {
        anyhow::bail!(
            "project `{}` has no retention policy; set one with `plumbline retention set` or purge with --everything",
            args.project
        );
    }
    let report = store.purge(None, p.id, scope, args.dry_run).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if args.dry_run {
        println!(
            "would purge the text of {} items (dry run; nothing changed)",
            report.items
        );
    } else {
        println!(
            "purged the text of {} items ({} earlier revisions, {} judgments, {} comments); ids, labels, hashes and audit remain",
            report.items, report.revisions, report.judgments, report.comments
        );
    }
    Ok(ExitCode::SUCCESS)
}
