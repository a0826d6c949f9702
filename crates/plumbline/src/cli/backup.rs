//! `plumbline backup`: a consistent copy of an SQLite database, taken while it serves.

use anyhow::Context;
use clap::Args;
use plumbline_store::SqliteStore;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The file to write (refused if it exists). Restore by stopping the server and
    /// putting it in place of the database file (with no `-wal` or `-shm` beside it).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

/// Copies the SQLite database with SQLite's online backup API.
pub async fn sqlite(store: &SqliteStore, args: BackupArgs) -> anyhow::Result<ExitCode> {
    let bytes = store
        .backup(&args.out)
        .await
        .with_context(|| format!("backing up {}", store.path().display()))?;
    println!(
        "backed up {} to {} ({bytes} bytes, integrity ok)",
        store.path().display(),
        args.out.display()
    );
    let anchor = plumbline_store::IdentityStore::audit_trail(store).anchor_path();
    println!(
        "keep the audit key and anchor with it ({} and {}): the audit chain is keyed",
        anchor
            .with_file_name(plumbline_store::audit::KEY_FILE)
            .display(),
        anchor.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// PostgreSQL is backed up by its own tools; says how, and makes no copy.
pub fn postgres(url: &str, args: BackupArgs) -> anyhow::Result<ExitCode> {
    let url = plumbline_store::redact_url(url);
    eprintln!(
        "plumbline backup copies SQLite databases; back up PostgreSQL with its own tools, \
         consistent while serving:\n  pg_dump --format=custom --file '{}' '{url}'\n\
         and restore into an empty database with:\n  pg_restore --no-owner --dbname '{url}' '{}'",
        args.out.display(),
        args.out.display()
    );
    Ok(ExitCode::FAILURE)
}
