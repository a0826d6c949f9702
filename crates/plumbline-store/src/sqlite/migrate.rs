//! SQLite migrations: embedded SQL files applied in order, each in its own transaction.

use crate::Result;
use crate::error::StoreError;
use crate::model::now_ms;
use rusqlite::{Connection, params};

/// Every migration, in order. Append; never edit one that has been released.
pub(crate) const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "engine",
        include_str!("../../migrations/sqlite/0002_engine.sql"),
    ),
    (
        4,
        "releases",
        include_str!("../../migrations/sqlite/0004_releases.sql"),
    ),
    (
        6,
        "export_order",
        include_str!("../../migrations/sqlite/0006_export_order.sql"),
    ),
];

/// Applies the migrations this database has not seen yet.
pub(crate) fn apply(conn: &mut Connection) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
    )?;
    for &(version, name, sql) in MIGRATIONS {
        // IMMEDIATE takes the write lock first, so two processes opening a fresh file
        // cannot both apply the same migration.
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let done: i64 = tx.query_row(
            "SELECT count(*) FROM schema_migrations WHERE version = ?1",
            [version],
            |r| r.get(0),
        )?;
        if done == 0 {
            tx.execute_batch(sql).map_err(|e| {
                StoreError::Database(format!("migration {version} ({name}) failed: {e}"))
            })?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                params![version, name, now_ms()],
            )?;
        }
        tx.commit()?;
    }
    check_version(conn)
}

/// Refuses a database migrated by a newer Plumbline than this one.
pub(crate) fn check_version(conn: &Connection) -> Result<()> {
    let newest: i64 = conn.query_row(
        "SELECT coalesce(max(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )?;
    let known = MIGRATIONS.last().map_or(0, |m| m.0);
    if newest > known {
        return Err(StoreError::Database(format!(
            "the database has schema version {newest}, newer than this binary knows ({known}); upgrade plumbline"
        )));
    }
    Ok(())
}
