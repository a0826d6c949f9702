//! Retention and purge on PostgreSQL.

use super::PgStore;
use crate::Result;
use crate::audit::{AuditAction, AuditEvent, pg_append};
use crate::error::StoreError;
use crate::model::now_ms;
use crate::retention::*;
use plumbline_domain::{ProjectId, UserId};
use tokio_postgres::Transaction;

async fn policy_of(tx: &Transaction<'_>, project: ProjectId) -> Result<Option<RetentionPolicy>> {
    let row = tx
        .query_opt(
            "SELECT retention FROM projects WHERE id = $1",
            &[&project.0],
        )
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("project {project}")))?;
    let json: Option<&str> = row.get(0);
    json.map(|j| serde_json::from_str(j).map_err(StoreError::from))
        .transpose()
}

async fn rewrite(
    tx: &Transaction<'_>,
    table: &str,
    key: &str,
    column: &str,
    filter: &str,
    arg: i64,
    purge: fn(&str) -> String,
) -> Result<u64> {
    let rows = tx
        .query(
            &format!("SELECT {key}::bigint, {column} FROM {table} WHERE {filter}"),
            &[&arg],
        )
        .await?;
    for r in &rows {
        let k: i64 = r.get(0);
        let text: &str = r.get(1);
        tx.execute(
            &format!("UPDATE {table} SET {column} = $2 WHERE {key} = $1"),
            &[&k, &purge(text)],
        )
        .await?;
    }
    Ok(rows.len() as u64)
}

impl RetentionStore for PgStore {
    async fn set_retention(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        policy: Option<RetentionPolicy>,
    ) -> Result<()> {
        let json = policy.map(|p| serde_json::to_string(&p)).transpose()?;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let n = tx
            .execute(
                "UPDATE projects SET retention = $2 WHERE id = $1",
                &[&project.0, &json],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("project {project}")));
        }
        pg_append(
            &tx,
            &AuditEvent::new(AuditAction::RetentionSet, "project")
                .by(actor)
                .in_project(project)
                .object(json.as_deref().unwrap_or("none")),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn retention(&self, project: ProjectId) -> Result<Option<RetentionPolicy>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        policy_of(&tx, project).await
    }

    async fn purge(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        scope: PurgeScope,
        dry_run: bool,
    ) -> Result<PurgeReport> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.query_opt(
            "SELECT id FROM projects WHERE id = $1 FOR UPDATE",
            &[&project.0],
        )
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("project {project}")))?;
        let items: Vec<i64> = match scope {
            PurgeScope::Everything => tx
                .query(
                    "SELECT id FROM items WHERE project_id = $1 AND purged_at IS NULL ORDER BY id",
                    &[&project.0],
                )
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect(),
            PurgeScope::Due => match policy_of(&tx, project).await? {
                None => Vec::new(),
                Some(policy) => {
                    let (resolved_cut, released_cut) = policy.cutoffs(now_ms());
                    tx.query(
                        "SELECT i.id FROM items i
                         LEFT JOIN (SELECT ri.item_id, min(r.created_at) AS released_at FROM release_items ri
                                    JOIN releases r ON r.id = ri.release_id GROUP BY ri.item_id) rel ON rel.item_id = i.id
                         WHERE i.project_id = $1 AND i.purged_at IS NULL
                           AND (($2::bigint IS NOT NULL AND i.resolved_at <= $2)
                             OR ($3::bigint IS NOT NULL AND rel.released_at <= $3))
                         ORDER BY i.id",
                        &[&project.0, &resolved_cut, &released_cut],
                    )
                    .await?
                    .iter()
                    .map(|r| r.get(0))
                    .collect()
                }
            },
        };
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
            rewrite(&tx, "items", "id", "body", "id = $1", item, purge_item_body).await?;
            tx.execute(
                "UPDATE items SET purged_at = $2 WHERE id = $1",
                &[&item, &now],
            )
            .await?;
            let revisions = tx
                .query(
                    "SELECT revision, body FROM item_revisions WHERE item_id = $1",
                    &[&item],
                )
                .await?;
            for r in &revisions {
                let (revision, body): (i64, &str) = (r.get(0), r.get(1));
                tx.execute(
                    "UPDATE item_revisions SET body = $3 WHERE item_id = $1 AND revision = $2",
                    &[&item, &revision, &purge_item_body(body)],
                )
                .await?;
            }
            report.revisions += revisions.len() as u64;
            report.judgments += rewrite(
                &tx,
                "judgments",
                "id",
                "payload",
                "item_id = $1",
                item,
                purge_payload,
            )
            .await?;
            rewrite(
                &tx,
                "judgment_history",
                "id",
                "payload",
                "judgment_id IN (SELECT id FROM judgments WHERE item_id = $1)",
                item,
                purge_payload,
            )
            .await?;
            rewrite(
                &tx,
                "adjudications",
                "id",
                "payload",
                "item_id = $1",
                item,
                purge_payload,
            )
            .await?;
            rewrite(
                &tx,
                "gold",
                "id",
                "payload",
                "item_id = $1",
                item,
                purge_payload,
            )
            .await?;
            for (table, filter) in [
                ("judgments", "item_id = $1"),
                (
                    "judgment_history",
                    "judgment_id IN (SELECT id FROM judgments WHERE item_id = $1)",
                ),
                ("adjudications", "item_id = $1"),
                ("gold", "item_id = $1"),
            ] {
                tx.execute(
                    &format!(
                        "UPDATE {table} SET rationale = $2 WHERE {filter} AND rationale IS NOT NULL"
                    ),
                    &[&item, &PURGED],
                )
                .await?;
            }
            // A gold candidate is an imported judgment proposed as gold: its text goes too.
            rewrite(
                &tx,
                "gold_candidates",
                "id",
                "payload",
                "item_id = $1",
                item,
                purge_payload,
            )
            .await?;
            tx.execute(
                "UPDATE gold_candidates SET note = $2 WHERE item_id = $1 AND note IS NOT NULL",
                &[&item, &PURGED],
            )
            .await?;
            // A skip's reason is the annotator's free text: the skip stays, its words go.
            tx.execute(
                "UPDATE assignments SET skip_reason = $2 WHERE item_id = $1 AND skip_reason IS NOT NULL",
                &[&item, &PURGED],
            )
            .await?;
            report.media += super::media::purge_item(&tx, item).await?;
            // A thread is free text about the item: it goes with the item's text.
            report.comments += super::browse::purge_item(&tx, item).await?;
            report.items += 1;
        }
        pg_append(
            &tx,
            &AuditEvent::new(AuditAction::Purge, "items")
                .by(actor)
                .in_project(project)
                .object(format!(
                    "{} items, {} judgments",
                    report.items, report.judgments
                )),
        )
        .await?;
        tx.commit().await?;
        // Dead row versions stay in the table files until rewritten: VACUUM FULL
        // rewrites each table that held the text into a new file and drops the old one.
        client
            .batch_execute("VACUUM FULL items, item_revisions, judgments, judgment_history, adjudications, gold, assignments, audit_pending, media, media_chunks, item_media, item_comments")
            .await?;
        Ok(report)
    }
}
