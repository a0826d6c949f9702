//! The item browser and item comments on PostgreSQL.

use super::PgStore;
use super::work::{q, q_opt};
use crate::Result;
use crate::browse::{BrowseFilter, BrowseStore, BrowsedItem, ItemComment, comment_event};
use crate::error::StoreError;
use crate::model::now_ms;
use deadpool_postgres::GenericClient;
use plumbline_domain::{CommentBody, ItemId, ProjectId, UserId};
use tokio_postgres::Transaction;

/// The item's database id; not found when `project` has no item `item`.
async fn item_id<C: GenericClient>(c: &C, project: ProjectId, item: &str) -> Result<i64> {
    q_opt(
        c,
        "SELECT id FROM items WHERE project_id = $1 AND ext_id = $2",
        &[&project.0, &item],
    )
    .await?
    .map(|r| r.get(0))
    .ok_or_else(|| StoreError::NotFound(format!("item `{item}`")))
}

/// Deletes the comments of `item_id` (purge); returns how many went.
pub(super) async fn purge_item(tx: &Transaction<'_>, item_id: i64) -> Result<u64> {
    Ok(tx
        .execute("DELETE FROM item_comments WHERE item_id = $1", &[&item_id])
        .await?)
}

impl BrowseStore for PgStore {
    async fn browse_items(
        &self,
        project: ProjectId,
        filter: BrowseFilter,
        after: Option<ItemId>,
        limit: u32,
    ) -> Result<Vec<BrowsedItem>> {
        let client = self.client().await?;
        // One statement for every filter: an unset filter's parameter is NULL and its
        // condition true, so the plan is the same keyset walk in import order. The tag
        // is looked for as text before the body is parsed: most rows never are.
        let rows = q(
            &client,
            "SELECT i.id, i.ext_id, i.task, i.revision, i.state, i.body, i.content_hash,
                    i.split, i.is_gold, iq.judgments,
                    (SELECT count(*) FROM item_comments c WHERE c.item_id = i.id)
             FROM items i JOIN item_queue iq ON iq.item_id = i.id
             WHERE i.project_id = $1 AND i.id > $2
               AND ($3::text IS NULL OR i.state = $3)
               AND ($4::text IS NULL OR i.ext_id = $4 OR i.id = $5::bigint
                    OR strpos(lower(i.body), $6::text) > 0)
               AND ($7::text IS NULL OR (strpos(i.body, to_jsonb($7::text)::text) > 0
                                         AND (i.body::jsonb -> 'tags') @> to_jsonb($7::text)))
               AND ($8::text IS NULL OR ($8 = 'none' AND i.split IS NULL) OR i.split = $8)
               AND ($9::text IS NULL
                    OR ($9 = 'agreed' AND i.state = 'resolved'
                        AND NOT EXISTS (SELECT 1 FROM adjudications a WHERE a.item_id = i.id))
                    OR ($9 = 'disputed' AND (i.state = 'adjudication'
                        OR EXISTS (SELECT 1 FROM adjudications a WHERE a.item_id = i.id))))
               AND ($10::bigint IS NULL OR EXISTS (SELECT 1 FROM judgments j
                                                   WHERE j.user_id = $10 AND j.item_id = i.id))
             ORDER BY i.id LIMIT $11",
            &[
                &project.0,
                &after.map_or(0, |a| a.0),
                &filter.state.map(|s| s.as_str()),
                &filter.exact_id(),
                &filter.database_id(),
                &filter.needle(),
                &filter.tag,
                &filter.split.map(|s| s.as_str()),
                &filter.agreement.map(|a| a.as_str()),
                &filter.annotator.map(|u| u.0),
                &i64::from(limit),
            ],
        )
        .await?;
        rows.iter()
            .map(|r| {
                Ok(BrowsedItem {
                    item: super::to_item(r)?,
                    split: r.get(7),
                    gold: r.get(8),
                    judgments: r.get(9),
                    comments: r.get(10),
                })
            })
            .collect()
    }

    async fn add_comment(
        &self,
        author: UserId,
        project: ProjectId,
        item: &str,
        body: CommentBody,
    ) -> Result<ItemComment> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let id = item_id(&tx, project, item).await?;
        let row = tx
            .query_one(
                "INSERT INTO item_comments (project_id, item_id, author_id, body, created_at)
                 VALUES ($1, $2, $3, $4, $5)
                 RETURNING id, (SELECT name FROM users WHERE id = $3), created_at",
                &[&project.0, &id, &author.0, &body.as_str(), &now_ms()],
            )
            .await?;
        crate::audit::pg_append(&tx, &comment_event(author, project, item, &body)).await?;
        tx.commit().await?;
        Ok(ItemComment {
            id: row.get(0),
            item: item.to_owned(),
            author,
            author_name: row.get(1),
            body: body.as_str().to_owned(),
            created_at: row.get(2),
        })
    }

    async fn comments_of_item(&self, project: ProjectId, item: &str) -> Result<Vec<ItemComment>> {
        let client = self.client().await?;
        let id = item_id(&client, project, item).await?;
        let rows = q(
            &client,
            "SELECT c.id, c.author_id, u.name, c.body, c.created_at
             FROM item_comments c JOIN users u ON u.id = c.author_id
             WHERE c.item_id = $1 ORDER BY c.id",
            &[&id],
        )
        .await?;
        Ok(rows
            .iter()
            .map(|r| ItemComment {
                id: r.get(0),
                item: item.to_owned(),
                author: UserId(r.get(1)),
                author_name: r.get(2),
                body: r.get(3),
                created_at: r.get(4),
            })
            .collect())
    }
}
