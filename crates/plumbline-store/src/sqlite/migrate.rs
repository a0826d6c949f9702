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
    (
        7,
        "annotator_counts",
        include_str!("../../migrations/sqlite/0007_annotator_counts.sql"),
    ),
    (
        9,
        "gold_secret",
        include_str!("../../migrations/sqlite/0009_gold_secret.sql"),
    ),
    (
        10,
        "reinstatements",
        include_str!("../../migrations/sqlite/0010_reinstatements.sql"),
    ),
    (
        13,
        "hidden_gold_counts",
        include_str!("../../migrations/sqlite/0013_hidden_gold_counts.sql"),
    ),
    (
        14,
        "pseudonym_secret",
        include_str!("../../migrations/sqlite/0014_pseudonym_secret.sql"),
    ),
    (
        15,
        "gold_candidates",
        include_str!("../../migrations/sqlite/0015_gold_candidates.sql"),
    ),
    (
        16,
        "media",
        include_str!("../../migrations/sqlite/0016_media.sql"),
    ),
    (
        17,
        "item_comments",
        include_str!("../../migrations/sqlite/0017_item_comments.sql"),
    ),
    (
        18,
        "invitations",
        include_str!("../../migrations/sqlite/0018_invitations.sql"),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies the migrations after version `from` up to and including `to`.
    fn migrate(conn: &Connection, from: i64, to: i64) {
        for &(version, _, sql) in MIGRATIONS.iter().filter(|m| m.0 > from && m.0 <= to) {
            conn.execute_batch(sql)
                .unwrap_or_else(|e| panic!("migration {version}: {e}"));
        }
    }

    /// Per-annotator figures as the queries before 0007 computed them from the rows.
    const FROM_ROWS: &str = "SELECT a.project_id, a.user_id, max(a.seq),
           (SELECT count(*) FROM judgments j WHERE j.project_id = a.project_id AND j.user_id = a.user_id),
           (SELECT coalesce(sum(j.gold_correct = 1), 0) FROM judgments j WHERE j.project_id = a.project_id AND j.user_id = a.user_id),
           (SELECT count(j.gold_correct) FROM judgments j WHERE j.project_id = a.project_id AND j.user_id = a.user_id),
           (SELECT coalesce(sum(j.priority_inversion), 0) FROM judgments j WHERE j.project_id = a.project_id AND j.user_id = a.user_id)
         FROM assignments a GROUP BY a.project_id, a.user_id ORDER BY 1, 2";
    const FROM_COUNTS: &str =
        "SELECT project_id, user_id, seq, judgments, gold_correct, gold_scored, inversions
         FROM annotator_counts ORDER BY 1, 2";

    fn table(conn: &Connection, sql: &str) -> Vec<[i64; 7]> {
        let mut stmt = conn.prepare(sql).unwrap();
        stmt.query_map([], |r| {
            let mut row = [0; 7];
            for (i, v) in row.iter_mut().enumerate() {
                *v = r.get(i)?;
            }
            Ok(row)
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
    }

    /// Leases item `item` to `user` as their `seq`-th and, with `judged`, submits it.
    fn lease(
        conn: &Connection,
        item: i64,
        user: i64,
        seq: i64,
        judged: Option<(Option<i64>, i64)>,
    ) {
        conn.execute(
            "INSERT INTO assignments (project_id, item_id, user_id, purpose, seq, display_order, state, leased_at, expires_at)
             VALUES (1, ?1, ?2, 'work', ?3, '[]', 'leased', 0, 1)",
            params![item, user, seq],
        )
        .unwrap();
        if let Some((gold_correct, inversion)) = judged {
            conn.execute(
                "INSERT INTO judgments (project_id, item_id, assignment_id, user_id, rubric_version, task, payload,
                   priority_inversion, gold_correct, created_at, updated_at)
                 VALUES (1, ?1, last_insert_rowid(), ?2, 1, 'preference', '{}', ?3, ?4, 0, 0)",
                params![item, user, inversion, gold_correct],
            )
            .unwrap();
        }
    }

    #[test]
    fn annotator_counts_are_backfilled_and_kept() {
        let conn = Connection::open_in_memory().unwrap();
        migrate(&conn, 0, 6);
        conn.execute_batch(
            "INSERT INTO users (id, name, created_at) VALUES (1, 'a', 0), (2, 'b', 0), (3, 'c', 0);
             INSERT INTO projects (id, name, settings, rubric_version, split_salt, created_at)
                 VALUES (1, 'p', '{}', 1, 's', 0);
             INSERT INTO items (id, project_id, ext_id, task, content_hash, body, created_at, updated_at)
                 VALUES (1, 1, 'i1', 'preference', x'00', '{}', 0, 0), (2, 1, 'i2', 'preference', x'00', '{}', 0, 0),
                        (3, 1, 'i3', 'preference', x'00', '{}', 0, 0);
             INSERT INTO judgments (project_id, item_id, source, external_source, rubric_version, task, payload,
                 created_at, updated_at) VALUES (1, 1, 'external', 'hh-rlhf', 1, 'preference', '{}', 0, 0);",
        )
        .unwrap();
        lease(&conn, 1, 1, 1, Some((None, 0)));
        lease(&conn, 2, 1, 2, Some((Some(1), 1)));
        lease(&conn, 3, 1, 3, None);
        lease(&conn, 1, 2, 1, Some((Some(0), 0)));
        lease(&conn, 2, 3, 1, None);
        let before = table(&conn, FROM_ROWS);
        migrate(&conn, 6, 7);
        assert_eq!(table(&conn, FROM_COUNTS), before);

        // Later writes: a lease, a submission, a rescored resubmission, a deletion.
        lease(&conn, 3, 2, 2, Some((Some(1), 1)));
        lease(&conn, 1, 3, 2, None);
        conn.execute_batch(
            "UPDATE judgments SET gold_correct = 1, priority_inversion = 1 WHERE user_id = 2 AND item_id = 1;
             DELETE FROM judgments WHERE user_id = 1 AND item_id = 1;
             UPDATE judgments SET payload = '{\"x\": 1}' WHERE user_id IS NULL;",
        )
        .unwrap();
        assert_eq!(table(&conn, FROM_COUNTS), table(&conn, FROM_ROWS));
        assert_eq!(table(&conn, FROM_COUNTS).len(), 3);
    }

    #[test]
    fn every_project_gets_its_own_gold_secret() {
        let conn = Connection::open_in_memory().unwrap();
        migrate(&conn, 0, 7);
        conn.execute_batch(
            "INSERT INTO projects (id, name, settings, rubric_version, split_salt, created_at)
                 VALUES (1, 'p', '{}', 1, 's', 0), (2, 'q', '{}', 1, 's', 0);",
        )
        .unwrap();
        migrate(&conn, 7, 9);
        let secrets: Vec<Vec<u8>> = conn
            .prepare("SELECT gold_secret FROM projects ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(secrets.len(), 2);
        assert!(secrets.iter().all(|s| s.len() == 32), "{secrets:?}");
        assert_ne!(secrets[0], secrets[1], "a secret of its own per project");
        // A project without a 32-byte secret is refused, on insert and on update.
        let insert = |secret: &dyn rusqlite::ToSql| {
            conn.execute(
                "INSERT INTO projects (name, settings, rubric_version, split_salt, gold_secret, created_at)
                 VALUES ('r', '{}', 1, 's', ?1, 0)",
                [secret],
            )
        };
        assert!(insert(&rusqlite::types::Null).is_err());
        assert!(insert(&vec![0u8; 16]).is_err());
        assert!(insert(&"x".repeat(32)).is_err(), "text is not a secret");
        assert!(
            conn.execute("UPDATE projects SET gold_secret = NULL WHERE id = 1", [])
                .is_err()
        );
        insert(&vec![7u8; 32]).unwrap();
    }
}
