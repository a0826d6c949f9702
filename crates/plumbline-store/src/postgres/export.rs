//! [`ExportStore`] on PostgreSQL.

use super::PgStore;
use crate::Result;
use crate::audit::{AuditEvent, pg_append};
use crate::error::StoreError;
use crate::export::{ExportStore, JudgedItem, JudgmentRow, SplitRow, parse_split, split_name};
use plumbline_domain::{ProjectId, Split, TaskKind, UserId};
use tokio::sync::mpsc;

/// A portal read in chunks, one row at a time.
struct Cursor {
    portal: tokio_postgres::Portal,
    rows: std::collections::VecDeque<tokio_postgres::Row>,
    done: bool,
}

impl Cursor {
    async fn open(
        tx: &tokio_postgres::Transaction<'_>,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Cursor> {
        let stmt = tx.prepare(sql).await?;
        Ok(Cursor {
            portal: tx.bind(&stmt, params).await?,
            rows: Default::default(),
            done: false,
        })
    }

    async fn next(
        &mut self,
        tx: &tokio_postgres::Transaction<'_>,
    ) -> Result<Option<tokio_postgres::Row>> {
        if self.rows.is_empty() && !self.done {
            let rows = tx.query_portal(&self.portal, crate::BATCH as i32).await?;
            self.done = rows.len() < crate::BATCH;
            self.rows.extend(rows);
        }
        Ok(self.rows.pop_front())
    }
}

fn judgment(r: &tokio_postgres::Row) -> (i64, JudgmentRow) {
    (
        r.get(0),
        JudgmentRow {
            annotator: r.get(1),
            external_source: r.get(2),
            payload: r.get(3),
            rubric_version: r.get(4),
        },
    )
}

impl ExportStore for PgStore {
    async fn judged_items(
        &self,
        project: ProjectId,
        task: TaskKind,
        sink: mpsc::Sender<Vec<JudgedItem>>,
    ) -> Result<u64> {
        let mut client = self.client().await?;
        let tx = client
            .build_transaction()
            .read_only(true)
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .start()
            .await?;
        let kind = task.as_str();
        let mut items = Cursor::open(
            &tx,
            "SELECT id, ext_id, body, split FROM items WHERE project_id = $1 AND task = $2 ORDER BY id",
            &[&project.0, &kind],
        )
        .await?;
        let mut judgments = Cursor::open(
            &tx,
            "SELECT item_id, user_id, external_source, payload, rubric_version FROM judgments
             WHERE project_id = $1 AND task = $2 ORDER BY item_id, id",
            &[&project.0, &kind],
        )
        .await?;
        let mut adjudications = Cursor::open(
            &tx,
            "SELECT item_id, payload FROM adjudications WHERE project_id = $1 ORDER BY item_id, id",
            &[&project.0],
        )
        .await?;
        let mut next_j = judgments.next(&tx).await?.map(|r| judgment(&r));
        let mut next_a: Option<(i64, String)> =
            adjudications.next(&tx).await?.map(|r| (r.get(0), r.get(1)));
        let mut batch = Vec::with_capacity(crate::BATCH);
        let mut sent = 0u64;
        while let Some(r) = items.next(&tx).await? {
            let id: i64 = r.get(0);
            let mut item = JudgedItem {
                ext_id: r.get(1),
                body: r.get(2),
                split: parse_split(r.get::<_, Option<&str>>(3))?,
                adjudication: None,
                judgments: Vec::new(),
            };
            while next_j.as_ref().is_some_and(|(j, _)| *j <= id) {
                let (j, row) = next_j.take().expect("peeked");
                if j == id {
                    item.judgments.push(row);
                }
                next_j = judgments.next(&tx).await?.map(|r| judgment(&r));
            }
            while next_a.as_ref().is_some_and(|(a, _)| *a <= id) {
                let (a, payload) = next_a.take().expect("peeked");
                if a == id {
                    item.adjudication = Some(payload);
                }
                next_a = adjudications.next(&tx).await?.map(|r| (r.get(0), r.get(1)));
            }
            batch.push(item);
            if batch.len() == crate::BATCH {
                sent += batch.len() as u64;
                let full = std::mem::replace(&mut batch, Vec::with_capacity(crate::BATCH));
                sink.send(full).await.map_err(|_| {
                    StoreError::Invalid("export stopped: the receiver went away".into())
                })?;
            }
        }
        if !batch.is_empty() {
            sent += batch.len() as u64;
            sink.send(batch).await.map_err(|_| {
                StoreError::Invalid("export stopped: the receiver went away".into())
            })?;
        }
        tx.commit().await?;
        Ok(sent)
    }

    async fn split_rows(
        &self,
        project: ProjectId,
        sink: mpsc::Sender<Vec<SplitRow>>,
    ) -> Result<u64> {
        self.stream_snapshot(
            "SELECT ext_id, body, split FROM items WHERE project_id = $1 ORDER BY id",
            project,
            crate::BATCH,
            |r| {
                Ok(SplitRow {
                    ext_id: r.get(0),
                    body: r.get(1),
                    split: parse_split(r.get::<_, Option<&str>>(2))?,
                })
            },
            sink,
        )
        .await
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
