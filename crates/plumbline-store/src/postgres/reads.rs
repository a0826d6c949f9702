//! The engine's reads on PostgreSQL: gold listings, the adjudication queue, progress,
//! item pages and an item's judgments. They decide nothing; each is one read.

use super::PgStore;
use super::work::*;
use crate::Result;
use crate::engine::submit;
use crate::error::StoreError;
use crate::model::now_ms;
use crate::work::*;
use deadpool_postgres::GenericClient;
use plumbline_domain::{AssignmentId, ItemId, JudgmentId, ProjectId, RubricVersion, UserId};

impl PgStore {
    pub(super) async fn read_gold(
        &self,
        project: ProjectId,
        item: Option<String>,
    ) -> Result<Vec<GoldRecord>> {
        let client = self.client().await?;
        let rows = q(
            &client,
            &format!(
                "SELECT {GOLD_COLUMNS} FROM gold g JOIN items i ON i.id = g.item_id
                     WHERE g.project_id = $1 AND ($2::text IS NULL OR i.ext_id = $2)
                     ORDER BY g.item_id, g.version DESC"
            ),
            &[&project.0, &item],
        )
        .await?;
        rows.iter().map(to_gold).collect()
    }

    pub(super) async fn read_adjudication_queue(
        &self,
        project: ProjectId,
        limit: u32,
    ) -> Result<Vec<AdjudicationCase>> {
        let client = self.client().await?;
        let rows = q(
&client,
                "SELECT id, ext_id, task, body FROM items WHERE project_id = $1 AND state = 'adjudication'
                 ORDER BY updated_at, id LIMIT $2",
                &[&project.0, &(limit as i64)],
            )
            .await?;
        let mut out = Vec::new();
        for r in rows {
            let id: i64 = r.get(0);
            out.push(AdjudicationCase {
                item_id: ItemId(id),
                item: r.get(1),
                task: r.get::<_, &str>(2).parse().map_err(StoreError::Database)?,
                body: r.get(3),
                judgments: judgment_views(&client, project, id).await?,
            });
        }
        Ok(out)
    }

    pub(super) async fn read_progress(&self, project: ProjectId) -> Result<Progress> {
        let client = self.client().await?;
        settings_of(&client, project).await?;
        let mut items = ItemCounts::default();
        let mut gold_items = 0;
        for r in q(
&client,
                "SELECT is_gold, state, count(*) FROM items WHERE project_id = $1 GROUP BY is_gold, state",
                &[&project.0],
            )
            .await?
        {
            let n: i64 = r.get(2);
            if r.get::<_, bool>(0) {
                gold_items += n;
            } else {
                items.add(stored(r.get(1))?, n);
            }
        }
        let r = q_one(
            &client,
            "SELECT count(*), count(*) FILTER (WHERE priority_inversion) FROM judgments
                 WHERE project_id = $1 AND source = 'annotator'",
            &[&project.0],
        )
        .await?;
        let (judgments, inversions): (i64, i64) = (r.get(0), r.get(1));
        let now = now_ms();
        let leases: i64 = q_one(
&client,
                "SELECT count(*) FROM assignments WHERE project_id = $1 AND state = 'leased' AND expires_at >= $2",
                &[&project.0, &now],
            )
            .await?
            .get(0);
        let adjudications: i64 = q_one(
            &client,
            "SELECT count(*) FROM adjudications WHERE project_id = $1",
            &[&project.0],
        )
        .await?
        .get(0);
        let rows = q(
&client,
                "SELECT u.id, u.name,
                   (SELECT count(*) FROM judgments j WHERE j.project_id = $1 AND j.user_id = u.id),
                   count(*) FILTER (WHERE a.state = 'leased' AND a.expires_at >= $2),
                   count(*) FILTER (WHERE a.state = 'skipped'),
                   count(*) FILTER (WHERE a.state = 'expired' OR (a.state = 'leased' AND a.expires_at < $2)),
                   (SELECT count(*) FILTER (WHERE j.gold_correct) FROM judgments j WHERE j.project_id = $1 AND j.user_id = u.id),
                   (SELECT count(j.gold_correct) FROM judgments j WHERE j.project_id = $1 AND j.user_id = u.id),
                   (SELECT count(*) FILTER (WHERE j.priority_inversion) FROM judgments j WHERE j.project_id = $1 AND j.user_id = u.id)
                 FROM assignments a JOIN users u ON u.id = a.user_id
                 WHERE a.project_id = $1 GROUP BY u.id, u.name ORDER BY u.name",
                &[&project.0, &now],
            )
            .await?;
        let annotators = rows
            .iter()
            .map(|r| AnnotatorProgress {
                user: UserId(r.get(0)),
                name: r.get(1),
                judgments: r.get(2),
                leased: r.get(3),
                skipped: r.get(4),
                expired: r.get(5),
                gold_correct: r.get(6),
                gold_scored: r.get(7),
                priority_inversions: r.get(8),
            })
            .collect();
        Ok(Progress {
            items,
            gold_items,
            judgments,
            leases,
            priority_inversions: inversions,
            adjudications,
            annotators,
        })
    }

    pub(super) async fn read_items_page(
        &self,
        project: ProjectId,
        filter: ItemFilter,
        after: Option<ItemId>,
        limit: u32,
    ) -> Result<Vec<crate::StoredItem>> {
        let client = self.client().await?;
        let rows = q(
            &client,
            "SELECT id, ext_id, task, revision, state, body, content_hash FROM items
                 WHERE project_id = $1 AND id > $2 AND ($3::text IS NULL OR state = $3)
                   AND ($4::boolean IS NULL OR is_gold = $4)
                 ORDER BY id LIMIT $5",
            &[
                &project.0,
                &after.map_or(0, |a| a.0),
                &filter.state.map(|s| s.as_str()),
                &filter.gold,
                &(limit as i64),
            ],
        )
        .await?;
        rows.iter().map(super::to_item).collect()
    }

    pub(super) async fn read_training_feedback(
        &self,
        project: ProjectId,
        annotator: UserId,
        item: &str,
    ) -> Result<Option<GoldRecord>> {
        let client = self.client().await?;
        // The annotator's own judgment of the item, under the one assignment they can
        // have of it; no row (an unknown item, one they never judged) is no feedback.
        let Some(r) = q_opt(
            &client,
            "SELECT p.settings, coalesce(q.state, 'pending'), a.purpose, j.gold_correct, i.id
             FROM projects p
             JOIN items i ON i.project_id = p.id AND i.ext_id = $3
             JOIN assignments a ON a.item_id = i.id AND a.user_id = $2
             JOIN judgments j ON j.assignment_id = a.id
             LEFT JOIN qualifications q ON q.project_id = p.id AND q.user_id = $2
             WHERE p.id = $1",
            &[&project.0, &annotator.0, &item],
        )
        .await?
        else {
            return Ok(None);
        };
        let settings: plumbline_domain::ProjectSettings = serde_json::from_str(r.get(0))?;
        if !submit::training_feedback(&settings, stored(r.get(1))?, stored(r.get(2))?, r.get(3)) {
            return Ok(None);
        }
        let item_id: i64 = r.get(4);
        q_opt(
            &client,
            &format!(
                "SELECT {GOLD_COLUMNS} FROM gold g JOIN items i ON i.id = g.item_id
                 WHERE g.item_id = $1 AND g.active"
            ),
            &[&item_id],
        )
        .await?
        .map(|g| to_gold(&g))
        .transpose()
    }

    pub(super) async fn read_judgments_of(
        &self,
        project: ProjectId,
        item: &str,
    ) -> Result<Vec<StoredJudgment>> {
        let client = self.client().await?;
        let (id, _, _, _) = item_by_ext(&client, project, item).await?;
        let rows = q(
            &client,
            "SELECT id, assignment_id, user_id, payload, priority_inversion, time_ms, display_order, gold_correct,
                    created_at, updated_at
                 FROM judgments WHERE item_id = $1 AND source = 'annotator' ORDER BY id",
                &[&id],
            )
            .await?;
        let mut out = Vec::new();
        for r in rows {
            let jid: i64 = r.get(0);
            let history = q(
                &client,
                "SELECT payload FROM judgment_history WHERE judgment_id = $1 ORDER BY id",
                &[&jid],
            )
            .await?
            .iter()
            .map(|h| h.get(0))
            .collect();
            out.push(StoredJudgment {
                id: JudgmentId(jid),
                assignment: r.get::<_, Option<i64>>(1).map(AssignmentId),
                item_id: ItemId(id),
                user: r.get::<_, Option<i64>>(2).map(UserId),
                payload: r.get(3),
                priority_inversion: r.get(4),
                time_ms: r.get(5),
                display_order: r
                    .get::<_, Option<&str>>(6)
                    .map(serde_json::from_str)
                    .transpose()?,
                gold_correct: r.get(7),
                history,
                submitted_at: r.get(8),
                updated_at: r.get(9),
            });
        }
        Ok(out)
    }
}

async fn judgment_views<C: GenericClient>(
    c: &C,
    project: ProjectId,
    item: i64,
) -> Result<Vec<JudgmentView>> {
    let rows = q(
c,
            "SELECT j.id, j.user_id, u.name, j.payload, j.priority_inversion, j.rubric_version, j.display_order, j.time_ms,
               (SELECT count(*) FILTER (WHERE g.gold_correct) FROM judgments g WHERE g.project_id = $1 AND g.user_id = j.user_id),
               (SELECT count(g.gold_correct) FROM judgments g WHERE g.project_id = $1 AND g.user_id = j.user_id)
             FROM judgments j LEFT JOIN users u ON u.id = j.user_id
             WHERE j.item_id = $2 AND j.source = 'annotator' ORDER BY j.id",
            &[&project.0, &item],
        )
        .await?;
    let mut out = Vec::new();
    for r in rows {
        let user: Option<i64> = r.get(1);
        let expertise = match user {
            Some(u) => verified_expertise(c, UserId(u))
                .await?
                .iter()
                .map(|e| e.to_string())
                .collect(),
            None => Vec::new(),
        };
        out.push(JudgmentView {
            id: JudgmentId(r.get(0)),
            annotator: user.map(UserId),
            annotator_name: r.get(2),
            expertise,
            gold_correct: r.get(8),
            gold_scored: r.get(9),
            payload: serde_json::from_str(r.get(3))?,
            priority_inversion: r.get(4),
            rubric_version: RubricVersion(r.get::<_, i64>(5) as i32),
            display_order: r
                .get::<_, Option<&str>>(6)
                .map(serde_json::from_str)
                .transpose()?,
            time_ms: r.get(7),
        });
    }
    Ok(out)
}
