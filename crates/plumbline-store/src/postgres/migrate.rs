//! PostgreSQL migrations, applied under an advisory lock so that several server
//! processes starting together apply each migration exactly once.

use crate::Result;
use crate::error::StoreError;
use crate::model::now_ms;

/// Every migration, in order. Append; never edit one that has been released.
pub(crate) const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "engine",
        include_str!("../../migrations/postgres/0002_engine.sql"),
    ),
    (
        3,
        "audit_pending",
        include_str!("../../migrations/postgres/0003_audit_pending.sql"),
    ),
    (
        4,
        "releases",
        include_str!("../../migrations/postgres/0004_releases.sql"),
    ),
    (
        5,
        "item_queue",
        include_str!("../../migrations/postgres/0005_item_queue.sql"),
    ),
    (
        6,
        "export_order",
        include_str!("../../migrations/postgres/0006_export_order.sql"),
    ),
    (
        8,
        "held_leases",
        include_str!("../../migrations/postgres/0008_held_leases.sql"),
    ),
    (
        9,
        "gold_secret",
        include_str!("../../migrations/postgres/0009_gold_secret.sql"),
    ),
    (
        10,
        "reinstatements",
        include_str!("../../migrations/postgres/0010_reinstatements.sql"),
    ),
    (
        11,
        "gold_by_user",
        include_str!("../../migrations/postgres/0011_gold_by_user.sql"),
    ),
    (
        12,
        "one_gold_index",
        include_str!("../../migrations/postgres/0012_one_gold_index.sql"),
    ),
    (
        14,
        "pseudonym_secret",
        include_str!("../../migrations/postgres/0014_pseudonym_secret.sql"),
    ),
    (
        15,
        "gold_candidates",
        include_str!("../../migrations/postgres/0015_gold_candidates.sql"),
    ),
    (
        16,
        "media",
        include_str!("../../migrations/postgres/0016_media.sql"),
    ),
    (
        17,
        "item_comments",
        include_str!("../../migrations/postgres/0017_item_comments.sql"),
    ),
    (
        18,
        "invitations",
        include_str!("../../migrations/postgres/0018_invitations.sql"),
    ),
];

/// Arbitrary constant naming Plumbline's migration lock.
const MIGRATION_LOCK: i64 = 0x706c_756d_626c;

/// Applies the migrations this database has not seen yet.
pub(crate) async fn apply(client: &mut deadpool_postgres::Object) -> Result<()> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .await?;
    for &(version, name, sql) in MIGRATIONS {
        let done: i64 = tx
            .query_one(
                "SELECT count(*) FROM schema_migrations WHERE version = $1",
                &[&version],
            )
            .await?
            .get(0);
        if done == 0 {
            tx.batch_execute(sql).await.map_err(|e| {
                StoreError::Database(format!("migration {version} ({name}) failed: {e}"))
            })?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                &[&version, &name, &now_ms()],
            )
            .await?;
        }
    }
    tx.commit().await?;
    check_version(client).await
}

/// Refuses a database migrated by a newer Plumbline than this one.
pub(crate) async fn check_version(client: &tokio_postgres::Client) -> Result<()> {
    let newest: i64 = client
        .query_one(
            "SELECT coalesce(max(version), 0) FROM schema_migrations",
            &[],
        )
        .await?
        .get(0);
    let known = MIGRATIONS.last().map_or(0, |m| m.0);
    if newest > known {
        return Err(StoreError::Database(format!(
            "the database has schema version {newest}, newer than this binary knows ({known}); upgrade plumbline"
        )));
    }
    Ok(())
}
