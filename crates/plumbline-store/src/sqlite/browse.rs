//! The item browser and item comments on SQLite.

use super::SqliteStore;
use crate::Result;
use crate::browse::{BrowseFilter, BrowseStore, BrowsedItem, ItemComment, comment_event};
use crate::error::StoreError;
use crate::model::now_ms;
use plumbline_domain::{CommentBody, ItemId, ProjectId, UserId};
use rusqlite::{Connection, OptionalExtension, params};

/// The item's database id; not found when `project` has no item `item`.
fn item_id(conn: &Connection, project: ProjectId, item: &str) -> Result<i64> {
    conn.prepare_cached("SELECT id FROM items WHERE project_id = ?1 AND ext_id = ?2")?
        .query_row(params![project.0, item], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("item `{item}`")))
}

/// Deletes the comments of `item_id` (purge); returns how many went.
pub(super) fn purge_item(conn: &Connection, item_id: i64) -> Result<u64> {
    Ok(conn
        .prepare_cached("DELETE FROM item_comments WHERE item_id = ?1")?
        .execute([item_id])? as u64)
}

const THREAD: &str = "SELECT c.id, c.author_id, u.name, c.body, c.created_at
     FROM item_comments c JOIN users u ON u.id = c.author_id
     WHERE c.item_id = ?1 ORDER BY c.id";

impl BrowseStore for SqliteStore {
    async fn browse_items(
        &self,
        project: ProjectId,
        filter: BrowseFilter,
        after: Option<ItemId>,
        limit: u32,
    ) -> Result<Vec<BrowsedItem>> {
        self.read(move |conn| {
            // One statement for every filter: an unset filter's parameter is NULL and
            // its condition true, so the plan is the same keyset walk in import order.
            // `lower` folds ASCII only here; the needle is lower-cased in full. The tag
            // is looked for as text before the body is parsed: most rows never are.
            let mut stmt = conn.prepare_cached(
                "SELECT i.id, i.ext_id, i.task, i.revision, i.state, i.body, i.content_hash,
                        i.split, i.is_gold, i.judgments,
                        (SELECT count(*) FROM item_comments c WHERE c.item_id = i.id)
                 FROM items i
                 WHERE i.project_id = ?1 AND i.id > ?2
                   AND (?3 IS NULL OR i.state = ?3)
                   AND (?4 IS NULL OR i.ext_id = ?4 OR i.id = ?5 OR instr(lower(i.body), ?6) > 0)
                   AND (?7 IS NULL OR (instr(i.body, json_quote(?7)) > 0
                        AND EXISTS (SELECT 1 FROM json_each(i.body, '$.tags') t WHERE t.value = ?7)))
                   AND (?8 IS NULL OR (?8 = 'none' AND i.split IS NULL) OR i.split = ?8)
                   AND (?9 IS NULL
                        OR (?9 = 'agreed' AND i.state = 'resolved'
                            AND NOT EXISTS (SELECT 1 FROM adjudications a WHERE a.item_id = i.id))
                        OR (?9 = 'disputed' AND (i.state = 'adjudication'
                            OR EXISTS (SELECT 1 FROM adjudications a WHERE a.item_id = i.id))))
                   AND (?10 IS NULL OR EXISTS (SELECT 1 FROM judgments j
                                               WHERE j.user_id = ?10 AND j.item_id = i.id))
                 ORDER BY i.id LIMIT ?11",
            )?;
            let mut rows = stmt.query(params![
                project.0,
                after.map_or(0, |a| a.0),
                filter.state.map(|s| s.as_str()),
                filter.exact_id(),
                filter.database_id(),
                filter.needle(),
                filter.tag,
                filter.split.map(|s| s.as_str()),
                filter.agreement.map(|a| a.as_str()),
                filter.annotator.map(|u| u.0),
                limit
            ])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(BrowsedItem {
                    item: super::to_item(
                        r.get(0)?,
                        r.get(1)?,
                        r.get_ref(2)?.as_str()?,
                        r.get(3)?,
                        r.get_ref(4)?.as_str()?,
                        r.get(5)?,
                        r.get_ref(6)?.as_blob()?,
                    )?,
                    split: r.get(7)?,
                    gold: r.get(8)?,
                    judgments: r.get(9)?,
                    comments: r.get(10)?,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn add_comment(
        &self,
        author: UserId,
        project: ProjectId,
        item: &str,
        body: CommentBody,
    ) -> Result<ItemComment> {
        let item = item.to_owned();
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let id = item_id(&tx, project, &item)?;
            let created_at = now_ms();
            tx.prepare_cached(
                "INSERT INTO item_comments (project_id, item_id, author_id, body, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![project.0, id, author.0, body.as_str(), created_at])?;
            let comment = tx.last_insert_rowid();
            let author_name: String = tx
                .prepare_cached("SELECT name FROM users WHERE id = ?1")?
                .query_row([author.0], |r| r.get(0))?;
            crate::audit::sqlite_append(&tx, &comment_event(author, project, &item, &body))?;
            tx.commit()?;
            Ok(ItemComment {
                id: comment,
                item,
                author,
                author_name,
                body: body.as_str().to_owned(),
                created_at,
            })
        })
        .await
    }

    async fn comments_of_item(&self, project: ProjectId, item: &str) -> Result<Vec<ItemComment>> {
        let item = item.to_owned();
        self.read(move |conn| {
            let id = item_id(conn, project, &item)?;
            conn.prepare_cached(THREAD)?
                .query_map([id], |r| {
                    Ok(ItemComment {
                        id: r.get(0)?,
                        item: item.clone(),
                        author: UserId(r.get(1)?),
                        author_name: r.get(2)?,
                        body: r.get(3)?,
                        created_at: r.get(4)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()
                .map_err(Into::into)
        })
        .await
    }
}
