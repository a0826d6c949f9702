//! [`ExportStore`] on SQLite.

use super::SqliteStore;
use crate::Result;
use crate::audit::{AuditEvent, sqlite_append};
use crate::error::StoreError;
use crate::export::{ExportStore, SplitRow, parse_split, split_name};
use plumbline_domain::{ProjectId, Split, UserId};
use rusqlite::params;
use tokio::sync::mpsc;

impl ExportStore for SqliteStore {
    async fn split_rows(
        &self,
        project: ProjectId,
        sink: mpsc::Sender<Vec<SplitRow>>,
    ) -> Result<u64> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT ext_id, body, split FROM items WHERE project_id = ?1 ORDER BY id",
            )?;
            let mut rows = stmt.query([project.0])?;
            let mut batch = Vec::with_capacity(crate::BATCH);
            let mut sent = 0u64;
            let send = |batch: Vec<SplitRow>| {
                sink.blocking_send(batch)
                    .map_err(|_| StoreError::Invalid("stopped: the receiver went away".into()))
            };
            while let Some(r) = rows.next()? {
                batch.push(SplitRow {
                    ext_id: r.get(0)?,
                    body: r.get(1)?,
                    split: parse_split(r.get::<_, Option<String>>(2)?.as_deref())?,
                });
                if batch.len() == crate::BATCH {
                    sent += batch.len() as u64;
                    send(std::mem::replace(
                        &mut batch,
                        Vec::with_capacity(crate::BATCH),
                    ))?;
                }
            }
            if !batch.is_empty() {
                sent += batch.len() as u64;
                send(batch)?;
            }
            Ok(sent)
        })
        .await
    }

    async fn set_splits(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        splits: Vec<(String, Split)>,
        summary: String,
    ) -> Result<u64> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let mut changed = 0u64;
            {
                let mut update = tx.prepare_cached(
                    "UPDATE items SET split = ?3 WHERE project_id = ?1 AND ext_id = ?2",
                )?;
                for (id, side) in &splits {
                    if update.execute(params![project.0, id, split_name(*side)])? == 0 {
                        return Err(StoreError::NotFound(format!("item `{id}`")));
                    }
                    changed += 1;
                }
            }
            sqlite_append(
                &tx,
                &AuditEvent::new("items.split", "items")
                    .by(actor)
                    .in_project(project)
                    .object(summary),
            )?;
            tx.commit()?;
            Ok(changed)
        })
        .await
    }
}
