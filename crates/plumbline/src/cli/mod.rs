//! The command tree. Each subcommand lives in its own module; commands that need the
//! database are generic over [`Store`] and monomorphised once from the URL's scheme.

mod access;
mod backup;
mod bench;
mod bench_auth;
mod bench_eval;
mod bench_media;
mod bench_ranges;
mod bench_serve;
mod bench_split;
mod demo;
mod eval;
mod gold;
mod items;
mod project;
mod release;
mod report;
mod retention;
mod rubric;
mod serve;
mod simulate;
mod split;
pub mod stats;

use anyhow::Context;
use clap::{Parser, Subcommand};
use plumbline_store::{AnyStore, DEFAULT_DATABASE_URL, Store};
use std::process::ExitCode;

/// Plumbline: expert human feedback for language-model alignment.
#[derive(Debug, Parser)]
#[command(name = "plumbline", version, about)]
pub struct Cli {
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB.
    #[arg(long, env = "PLUMBLINE_DB", global = true, default_value = DEFAULT_DATABASE_URL)]
    db: String,
    /// Directory of the audit key (`audit.key`) and anchor (`audit.anchor`) for a
    /// PostgreSQL database; an SQLite database keeps them beside its file.
    #[arg(long, env = "PLUMBLINE_AUDIT_DIR", global = true, default_value = plumbline_store::DEFAULT_AUDIT_DIR)]
    audit_dir: std::path::PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create or upgrade the database schema.
    Migrate,
    /// Create and list projects, change their settings, reinstate annotators on probation.
    #[command(subcommand)]
    Project(project::ProjectCommand),
    /// Show a project's rubric or add a new version.
    #[command(subcommand)]
    Rubric(rubric::RubricCommand),
    /// Import items into a project.
    Import(items::ImportArgs),
    /// Export a project's data.
    Export(items::ExportArgs),
    /// Create, list and verify dataset releases.
    #[command(subcommand)]
    Release(release::ReleaseCommand),
    /// Assign the evaluation split: deterministic, stratified, near duplicates on one side.
    Split(split::SplitArgs),
    /// Decide proposed gold: list, accept or reject gold candidates (an import's ground truth).
    #[command(subcommand)]
    Gold(gold::GoldCommand),
    /// Add, list and disable users.
    #[command(subcommand)]
    User(access::UserCommand),
    /// Give users roles in projects.
    #[command(subcommand)]
    Member(access::MemberCommand),
    /// Record and verify users' domain expertise.
    #[command(subcommand)]
    Expertise(access::ExpertiseCommand),
    /// Create, list and revoke API tokens.
    #[command(subcommand)]
    Token(access::TokenCommand),
    /// Verify and export the audit chain.
    #[command(subcommand)]
    Audit(access::AuditCommand),
    /// Set a project's retention policy.
    #[command(subcommand)]
    Retention(retention::RetentionCommand),
    /// Remove item text due under the retention policy (or all of it).
    Purge(retention::PurgeArgs),
    /// Write a consistent copy of the SQLite database while it serves (for PostgreSQL,
    /// prints the pg_dump line).
    Backup(backup::BackupArgs),
    /// Run the HTTP server.
    Serve(serve::ServeArgs),
    /// A project's progress and the quality of each annotator (reliability, gold, bias, probation).
    Report(report::ReportArgs),
    /// Score a reward model's or LLM judge's choices against the experts' decided labels
    /// on the eval split: accuracy overall, per tag and per criterion, and its bias.
    Eval(eval::EvalArgs),
    /// Run the server on a fresh database seeded with the example projects.
    Demo(demo::DemoArgs),
    /// Run a pool of simulated annotators through the engine on a scratch database and
    /// score every decision method against the known truth.
    Simulate(simulate::SimulateArgs),
    /// Quality statistics on labelled files.
    #[command(subcommand)]
    Stats(stats::StatsCommand),
    /// Benchmarks that anyone can rerun (see docs/BENCHMARKS.md).
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Stats(cmd) => stats::run(cmd).map(|()| ExitCode::SUCCESS),
        Command::Bench(cmd) => runtime()?
            .block_on(bench::run(cmd))
            .map(|()| ExitCode::SUCCESS),
        Command::Demo(args) => runtime()?.block_on(demo::run(args)),
        Command::Simulate(args) => runtime()?.block_on(simulate::run(args)),
        Command::Release(release::ReleaseCommand::Verify { dir }) => Ok(release::verify_dir(&dir)),
        command => runtime()?.block_on(async move {
            match open(&cli.db, &cli.audit_dir).await? {
                AnyStore::Sqlite(s) => {
                    let outcome = match command {
                        Command::Backup(args) => backup::sqlite(&s, args).await,
                        command => dispatch(s.clone(), command).await,
                    };
                    // The process leaves its database whole in the main file: the WAL
                    // checkpointed and truncated (the server's too, once it has stopped).
                    if let Err(e) = s.close().await {
                        tracing::warn!(error = %e, "the WAL was not checkpointed at exit");
                    }
                    outcome
                }
                AnyStore::Postgres(s) => match command {
                    Command::Backup(args) => backup::postgres(&cli.db, args),
                    command => dispatch(s, command).await,
                },
            }
        }),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    // Database calls run on the blocking pool. Capping it keeps a busy server from
    // growing one thread (and one allocator heap) per concurrent request: 64 annotators
    // took 500 MB of resident memory uncapped, and gained nothing on two cores.
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(16)
        .build()
        .context("cannot start the async runtime")
}

/// A new user without a password, member of `project` with `role` (the synthetic
/// users of `bench serve` and `simulate`).
pub(crate) async fn new_member<S: Store>(
    store: &S,
    project: plumbline_domain::ProjectId,
    name: &str,
    role: plumbline_domain::ProjectRole,
) -> anyhow::Result<plumbline_domain::UserId> {
    let user = store
        .create_user(
            None,
            plumbline_store::NewUser {
                name: name.to_owned(),
                password_hash: None,
                is_admin: false,
            },
        )
        .await?;
    store.add_member(None, project, user.id, role).await?;
    Ok(user.id)
}

/// Opens the database named by `url`, with the URL (password redacted) in any error.
pub async fn open(url: &str, audit_dir: &std::path::Path) -> anyhow::Result<AnyStore> {
    AnyStore::open(url, Some(audit_dir))
        .await
        .with_context(|| format!("opening database {}", plumbline_store::redact_url(url)))
}

async fn dispatch<S: Store>(store: S, command: Command) -> anyhow::Result<ExitCode> {
    let outcome = run_command(store.clone(), command).await;
    // A short-lived process leaves no audit event pending (PostgreSQL seals after
    // commit, in the background); the chain is complete when the command returns.
    store
        .seal_audit()
        .await
        .context("linking this command's audit events into the chain")?;
    // And checkpoints the chain's head in the anchor file, so a cut tail shows.
    store
        .anchor_audit()
        .await
        .context("writing a checkpoint to the audit anchor")?;
    outcome
}

async fn run_command<S: Store>(store: S, command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Migrate => {
            store.check_integrity().await?;
            println!("database is at the current schema ({})", store.backend());
            Ok(ExitCode::SUCCESS)
        }
        Command::Project(cmd) => project::run(&store, cmd).await,
        Command::Rubric(cmd) => rubric::run(&store, cmd).await,
        Command::Import(args) => items::import(&store, args).await,
        Command::Export(args) => items::export(&store, args).await,
        Command::Split(args) => split::run(&store, args).await,
        Command::Release(cmd) => release::run(&store, cmd).await,
        Command::Serve(args) => serve::run(store, args).await,
        Command::Report(args) => report::run(&store, args).await,
        Command::Eval(args) => eval::run(&store, args).await,
        Command::User(cmd) => access::user(&store, cmd).await,
        Command::Member(cmd) => access::member(&store, cmd).await,
        Command::Expertise(cmd) => access::expertise(&store, cmd).await,
        Command::Token(cmd) => access::token(&store, cmd).await,
        Command::Audit(cmd) => access::audit(&store, cmd).await,
        Command::Retention(cmd) => retention::retention(&store, cmd).await,
        Command::Gold(cmd) => gold::run(&store, cmd).await,
        Command::Purge(args) => retention::purge(&store, args).await,
        Command::Stats(_)
        | Command::Bench(_)
        | Command::Demo(_)
        | Command::Simulate(_)
        | Command::Backup(_) => {
            unreachable!("handled before opening a database, or per backend")
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn command_tree_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
