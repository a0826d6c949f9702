//! [`ExportStore`] on PostgreSQL.

use super::PgStore;
use crate::Result;
use crate::audit::{AuditEvent, pg_append};
use crate::error::StoreError;
use crate::export::{ExportStore, SplitRow, parse_split, split_name};
use plumbline_domain::{ProjectId, Split, UserId};
use tokio::sync::mpsc;

impl ExportStore for PgStore {
    async fn split_rows(
        &self,
        project: ProjectId,
        sink: mpsc::Sender<Vec<SplitRow>>,
    ) -> Result<u64> {
        let mut client = self.client().await?;
        // A portal inside a read-only transaction pages through one snapshot.
        let tx = client
            .build_transaction()
            .read_only(true)
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .start()
            .await?;
        let stmt = tx
            .prepare("SELECT ext_id, body, split FROM items WHERE project_id = $1 ORDER BY id")
            .await?;
        let portal = tx.bind(&stmt, &[&project.0]).await?;
        let mut sent = 0u64;
        loop {
            let rows = tx.query_portal(&portal, crate::BATCH as i32).await?;
            if rows.is_empty() {
                break;
            }
            let batch = rows
                .iter()
                .map(|r| {
                    Ok(SplitRow {
                        ext_id: r.get(0),
                        body: r.get(1),
                        split: parse_split(r.get::<_, Option<&str>>(2))?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            sent += batch.len() as u64;
            sink.send(batch)
                .await
                .map_err(|_| StoreError::Invalid("stopped: the receiver went away".into()))?;
        }
        tx.commit().await?;
        Ok(sent)
    }

    async fn set_splits(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        splits: Vec<(String, Split)>,
        summary: String,
    ) -> Result<u64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let mut changed = 0u64;
        // One statement per side, over arrays of ids, in chunks.
        for side in [Split::Train, Split::Eval] {
            let ids: Vec<&str> = splits
                .iter()
                .filter(|(_, s)| *s == side)
                .map(|(id, _)| id.as_str())
                .collect();
            for chunk in ids.chunks(10_000) {
                let n = tx
                    .execute(
                        "UPDATE items SET split = $3 WHERE project_id = $1 AND ext_id = ANY($2)",
                        &[&project.0, &chunk, &split_name(side)],
                    )
                    .await?;
                if n as usize != chunk.len() {
                    return Err(StoreError::NotFound(format!(
                        "{} of the items to split",
                        chunk.len() - n as usize
                    )));
                }
                changed += n;
            }
        }
        pg_append(
            &tx,
            &AuditEvent::new("items.split", "items")
                .by(actor)
                .in_project(project)
                .object(summary),
        )
        .await?;
        tx.commit().await?;
        Ok(changed)
    }
}
