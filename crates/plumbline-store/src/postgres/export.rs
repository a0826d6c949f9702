//! [`ExportStore`] on PostgreSQL.

use super::PgStore;
use crate::Result;
use crate::audit::{AuditAction, AuditEvent, pg_append};
use crate::error::StoreError;
use crate::export::{
    AdjudicatedVotes, AnnotatorOutcomes, ExportStore, GoldScore, JudgedItem, JudgmentRow,
    NewRelease, ReleaseRecord, SplitRow, parse_split, split_name,
};
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
            time_ms: r.get(5),
            display_order: r.get(6),
            gold_correct: r.get(7),
        },
    )
}

impl ExportStore for PgStore {
    async fn judged_items(
        &self,
        project: ProjectId,
        task: TaskKind,
        sink: mpsc::Sender<Vec<JudgedItem>>,
        // The portal's rows are owned values already; nothing to refill.
        _recycle: Option<crate::export::Recycle>,
    ) -> Result<u64> {
        let mut client = self.client().await?;
        let tx = super::read_snapshot(&mut client).await?;
        let kind = task.as_str();
        let mut items = Cursor::open(
            &tx,
            "SELECT id, ext_id, body, split, is_gold FROM items
             WHERE project_id = $1 AND task = $2 ORDER BY id",
            &[&project.0, &kind],
        )
        .await?;
        let mut judgments = Cursor::open(
            &tx,
            "SELECT item_id, user_id, external_source, payload, rubric_version, time_ms,
                    display_order, gold_correct FROM judgments
             WHERE project_id = $1 AND task = $2 ORDER BY item_id, id",
            &[&project.0, &kind],
        )
        .await?;
        let mut adjudications = Cursor::open(
            &tx,
            "SELECT item_id, payload, rubric_version FROM adjudications
             WHERE project_id = $1 ORDER BY item_id, id",
            &[&project.0],
        )
        .await?;
        let mut gold = Cursor::open(
            &tx,
            "SELECT item_id, payload, rubric_version FROM gold
             WHERE project_id = $1 AND active ORDER BY item_id, id",
            &[&project.0],
        )
        .await?;
        let mut next_j = judgments.next(&tx).await?.map(|r| judgment(&r));
        // Adjudications and gold have the same shape: (item id, (payload, rubric version)).
        let adj =
            |r: tokio_postgres::Row| -> (i64, (String, i64)) { (r.get(0), (r.get(1), r.get(2))) };
        let mut next_a = adjudications.next(&tx).await?.map(adj);
        let mut next_g = gold.next(&tx).await?.map(adj);
        let mut batch = Vec::with_capacity(crate::BATCH);
        let mut sent = 0u64;
        while let Some(r) = items.next(&tx).await? {
            let id: i64 = r.get(0);
            let mut item = JudgedItem {
                ext_id: r.get(1),
                body: r.get(2),
                split: parse_split(r.get::<_, Option<&str>>(3))?,
                is_gold: r.get(4),
                ..JudgedItem::default()
            };
            while next_j.as_ref().is_some_and(|(j, _)| *j <= id) {
                let (j, row) = next_j.take().expect("peeked");
                if j == id {
                    item.judgments.push(row);
                }
                next_j = judgments.next(&tx).await?.map(|r| judgment(&r));
            }
            while next_a.as_ref().is_some_and(|(a, _)| *a <= id) {
                let (a, (payload, version)) = next_a.take().expect("peeked");
                if a == id {
                    item.adjudication = Some(payload);
                    item.adjudication_rubric_version = Some(version);
                }
                next_a = adjudications.next(&tx).await?.map(adj);
            }
            while next_g.as_ref().is_some_and(|(g, _)| *g <= id) {
                let (g, (payload, version)) = next_g.take().expect("peeked");
                if g == id {
                    item.gold = Some(payload);
                    item.gold_rubric_version = Some(version);
                }
                next_g = gold.next(&tx).await?.map(adj);
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

    async fn annotator_outcomes(&self, project: ProjectId) -> Result<AnnotatorOutcomes> {
        let mut client = self.client().await?;
        let tx = super::read_snapshot(&mut client).await?;
        let gold = tx
            .query(
                "SELECT user_id, count(*) FILTER (WHERE gold_correct), count(*) FROM judgments
                 WHERE project_id = $1 AND user_id IS NOT NULL AND gold_correct IS NOT NULL
                 GROUP BY user_id ORDER BY user_id",
                &[&project.0],
            )
            .await?
            .iter()
            .map(|r| GoldScore {
                annotator: r.get(0),
                right: r.get::<_, i64>(1).max(0) as u64,
                scored: r.get::<_, i64>(2).max(0) as u64,
            })
            .collect();
        let adjudicated = tx
            .query(
                "SELECT j.user_id,
                        CASE jsonb_typeof(j.payload::jsonb -> 'winner')
                            WHEN 'string' THEN j.payload::jsonb ->> 'winner' END AS vote,
                        CASE jsonb_typeof(a.payload::jsonb -> 'winner')
                            WHEN 'string' THEN a.payload::jsonb ->> 'winner' END AS decided,
                        count(*)
                 FROM adjudications a
                 JOIN judgments j ON j.item_id = a.item_id
                 WHERE a.project_id = $1
                   AND a.id = (SELECT max(l.id) FROM adjudications l WHERE l.item_id = a.item_id)
                   AND j.task = 'preference' AND j.user_id IS NOT NULL AND j.gold_correct IS NULL
                 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
                &[&project.0],
            )
            .await?
            .iter()
            .map(|r| AdjudicatedVotes {
                annotator: r.get(0),
                vote: r.get(1),
                decided: r.get(2),
                count: r.get::<_, i64>(3).max(0) as u64,
            })
            .collect();
        tx.commit().await?;
        // NULLs sort last here and first in SQLite: one order for both.
        let mut adjudicated: Vec<AdjudicatedVotes> = adjudicated;
        adjudicated.sort();
        Ok(AnnotatorOutcomes { gold, adjudicated })
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
            &AuditEvent::new(AuditAction::ItemsSplit, "items")
                .by(actor)
                .in_project(project)
                .object(summary),
        )
        .await?;
        tx.commit().await?;
        Ok(changed)
    }

    async fn record_release(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        release: NewRelease,
    ) -> Result<ReleaseRecord> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let now = crate::model::now_ms();
        let actor_id = actor.map(|a| a.0);
        let row = tx
            .query_one(
                "INSERT INTO releases (project_id, kind, format, manifest_sha256, location,
                     filters, counts, created_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                &[
                    &project.0,
                    &release.kind,
                    &release.format,
                    &release.manifest_sha256,
                    &release.location,
                    &release.filters,
                    &release.counts,
                    &actor_id,
                    &now,
                ],
            )
            .await?;
        let id: i64 = row.get(0);
        // Arrays of ids in chunks; a missing id shows as a short count.
        for chunk in release.items.chunks(10_000) {
            let found: i64 = tx
                .query_one(
                    "WITH wanted AS (SELECT DISTINCT unnest($3::text[]) AS ext_id),
                          added AS (INSERT INTO release_items (release_id, item_id)
                                    SELECT $1, i.id FROM items i JOIN wanted w ON w.ext_id = i.ext_id
                                    WHERE i.project_id = $2
                                    ON CONFLICT DO NOTHING RETURNING 1)
                     SELECT (SELECT count(*) FROM wanted)
                            - (SELECT count(*) FROM items i JOIN wanted w ON w.ext_id = i.ext_id
                               WHERE i.project_id = $2)",
                    &[&id, &project.0, &chunk],
                )
                .await?
                .get(0);
            if found != 0 {
                return Err(StoreError::NotFound(format!(
                    "{found} of the released items"
                )));
            }
        }
        let mut event = AuditEvent::new(AuditAction::ReleaseCreate, "release")
            .by(actor)
            .in_project(project)
            .object(&release.manifest_sha256);
        event.digest = Some(release.manifest_sha256.clone());
        pg_append(&tx, &event).await?;
        tx.commit().await?;
        Ok(ReleaseRecord {
            id,
            manifest_sha256: release.manifest_sha256,
            kind: release.kind,
            format: release.format,
            location: release.location,
            filters: release.filters,
            counts: release.counts,
            created_by: actor_id,
            created_at: now,
        })
    }

    async fn releases(&self, project: ProjectId) -> Result<Vec<ReleaseRecord>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT id, manifest_sha256, kind, format, location, filters, counts,
                        created_by, created_at
                 FROM releases WHERE project_id = $1 ORDER BY created_at DESC, id DESC",
                &[&project.0],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| ReleaseRecord {
                id: r.get(0),
                manifest_sha256: r.get(1),
                kind: r.get(2),
                format: r.get(3),
                location: r.get(4),
                filters: r.get(5),
                counts: r.get(6),
                created_by: r.get(7),
                created_at: r.get(8),
            })
            .collect())
    }

    async fn pseudonym_key(&self, project: ProjectId) -> Result<crate::PseudonymKey> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT pseudonym_secret FROM projects WHERE id = $1",
                &[&project.0],
            )
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("project {}", project.0)))?;
        crate::PseudonymKey::from_stored(row.get(0))
    }
}
