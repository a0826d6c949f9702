//! Retention and purge on SQLite.

use super::SqliteStore;
use crate::Result;
use crate::audit::{AuditAction, AuditEvent, sqlite_append};
use crate::error::StoreError;
use crate::model::now_ms;
use crate::retention::*;
use plumbline_domain::{ProjectId, UserId};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

fn policy_of(conn: &Connection, project: ProjectId) -> Result<Option<RetentionPolicy>> {
    let json: Option<Option<String>> = conn
        .query_row(
            "SELECT retention FROM projects WHERE id = ?1",
            [project.0],
            |r| r.get(0),
        )
        .optional()?;
    let json = json.ok_or_else(|| StoreError::NotFound(format!("project {project}")))?;
    json.map(|j| serde_json::from_str(&j).map_err(StoreError::from))
        .transpose()
}

fn due_items(tx: &Transaction<'_>, project: ProjectId, scope: PurgeScope) -> Result<Vec<i64>> {
    let ids = match scope {
        PurgeScope::Everything => {
            let mut stmt = tx.prepare(
                "SELECT id FROM items WHERE project_id = ?1 AND purged_at IS NULL ORDER BY id",
            )?;
            stmt.query_map([project.0], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()?
        }
        PurgeScope::Due => {
            let Some(policy) = policy_of(tx, project)? else {
                return Ok(Vec::new());
            };
            let (resolved_cut, released_cut) = policy.cutoffs(now_ms());
            let mut stmt = tx.prepare(
                "SELECT i.id FROM items i
                 LEFT JOIN (SELECT ri.item_id, min(r.created_at) AS released_at FROM release_items ri
                            JOIN releases r ON r.id = ri.release_id GROUP BY ri.item_id) rel ON rel.item_id = i.id
                 WHERE i.project_id = ?1 AND i.purged_at IS NULL
                   AND ((?2 IS NOT NULL AND i.resolved_at <= ?2) OR (?3 IS NOT NULL AND rel.released_at <= ?3))
                 ORDER BY i.id",
            )?;
            stmt.query_map(params![project.0, resolved_cut, released_cut], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()?
        }
    };
    Ok(ids)
}

/// Rewrites the text column `column` of every row of `table` matching `filter`
/// through `purge`.
fn rewrite(
    tx: &Transaction<'_>,
    table: &str,
    key: &str,
    column: &str,
    filter: &str,
    arg: i64,
    purge: fn(&str) -> String,
) -> Result<u64> {
    let rows: Vec<(i64, String)> = tx
        .prepare_cached(&format!(
            "SELECT {key}, {column} FROM {table} WHERE {filter}"
        ))?
        .query_map([arg], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut update = tx.prepare_cached(&format!(
        "UPDATE {table} SET {column} = ?2 WHERE {key} = ?1"
    ))?;
    for (k, text) in &rows {
        update.execute(params![k, purge(text)])?;
    }
    Ok(rows.len() as u64)
}

fn purge_item(tx: &Transaction<'_>, item: i64, now: i64, report: &mut PurgeReport) -> Result<()> {
    rewrite(tx, "items", "id", "body", "id = ?1", item, purge_item_body)?;
    tx.execute(
        "UPDATE items SET purged_at = ?2 WHERE id = ?1",
        params![item, now],
    )?;
    let revisions: Vec<(i64, String)> = tx
        .prepare_cached("SELECT revision, body FROM item_revisions WHERE item_id = ?1")?
        .query_map([item], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (revision, body) in &revisions {
        tx.execute(
            "UPDATE item_revisions SET body = ?3 WHERE item_id = ?1 AND revision = ?2",
            params![item, revision, purge_item_body(body)],
        )?;
    }
    report.revisions += revisions.len() as u64;
    report.judgments += rewrite(
        tx,
        "judgments",
        "id",
        "payload",
        "item_id = ?1",
        item,
        purge_payload,
    )?;
    rewrite(
        tx,
        "judgment_history",
        "id",
        "payload",
        "judgment_id IN (SELECT id FROM judgments WHERE item_id = ?1)",
        item,
        purge_payload,
    )?;
    rewrite(
        tx,
        "adjudications",
        "id",
        "payload",
        "item_id = ?1",
        item,
        purge_payload,
    )?;
    rewrite(
        tx,
        "gold",
        "id",
        "payload",
        "item_id = ?1",
        item,
        purge_payload,
    )?;
    let text = |table: &str, filter: &str| {
        tx.execute(
            &format!("UPDATE {table} SET rationale = ?2 WHERE {filter} AND rationale IS NOT NULL"),
            params![item, PURGED],
        )
    };
    text("judgments", "item_id = ?1")?;
    text(
        "judgment_history",
        "judgment_id IN (SELECT id FROM judgments WHERE item_id = ?1)",
    )?;
    text("adjudications", "item_id = ?1")?;
    text("gold", "item_id = ?1")?;
    // A gold candidate is an imported judgment proposed as gold: its text goes too.
    rewrite(
        tx,
        "gold_candidates",
        "id",
        "payload",
        "item_id = ?1",
        item,
        purge_payload,
    )?;
    tx.execute(
        "UPDATE gold_candidates SET note = ?2 WHERE item_id = ?1 AND note IS NOT NULL",
        params![item, PURGED],
    )?;
    // A skip's reason is the annotator's free text: the skip stays, its words go.
    tx.execute(
        "UPDATE assignments SET skip_reason = ?2 WHERE item_id = ?1 AND skip_reason IS NOT NULL",
        params![item, PURGED],
    )?;
    report.media += super::media::purge_item(tx, item)?;
    // A thread is free text about the item: it goes with the item's text.
    report.comments += super::browse::purge_item(tx, item)?;
    report.items += 1;
    Ok(())
}

impl RetentionStore for SqliteStore {
    async fn set_retention(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        policy: Option<RetentionPolicy>,
    ) -> Result<()> {
        let json = policy.map(|p| serde_json::to_string(&p)).transpose()?;
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let n = tx.execute(
                "UPDATE projects SET retention = ?2 WHERE id = ?1",
                params![project.0, json],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("project {project}")));
            }
            sqlite_append(
                &tx,
                &AuditEvent::new(AuditAction::RetentionSet, "project")
                    .by(actor)
                    .in_project(project)
                    .object(json.as_deref().unwrap_or("none")),
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn retention(&self, project: ProjectId) -> Result<Option<RetentionPolicy>> {
        self.read(move |conn| policy_of(conn, project)).await
    }

    async fn purge(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        scope: PurgeScope,
        dry_run: bool,
    ) -> Result<PurgeReport> {
        self.write(move |conn| {
            // Freed pages and cells are overwritten with zeros instead of left behind.
            conn.execute_batch("PRAGMA secure_delete = ON")?;
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            policy_of(&tx, project)?;
            let items = due_items(&tx, project, scope)?;
            let mut report = PurgeReport {
                dry_run,
                ..PurgeReport::default()
            };
            if dry_run {
                report.items = items.len() as u64;
                return Ok(report);
            }
            let now = now_ms();
            for item in items {
                purge_item(&tx, item, now, &mut report)?;
            }
            sqlite_append(
                &tx,
                &AuditEvent::new(AuditAction::Purge, "items")
                    .by(actor)
                    .in_project(project)
                    .object(format!(
                        "{} items, {} judgments",
                        report.items, report.judgments
                    )),
            )?;
            tx.commit()?;
            // Old page images live on in the WAL until a checkpoint, and in free pages
            // until VACUUM rebuilds the file; both go now.
            conn.execute_batch(
                "PRAGMA wal_checkpoint(TRUNCATE); VACUUM; PRAGMA wal_checkpoint(TRUNCATE);",
            )?;
            Ok(report)
        })
        .await
    }
}
