//! PostgreSQL, for scale-out: any number of `plumbline serve` processes share one
//! database through a connection pool per process; nothing that matters lives in a
//! process's memory.

mod backoff;
mod browse;
mod export;
mod identity;
mod import;
mod invitations;
mod leads;
mod media;
mod migrate;
mod reads;
mod retention;
mod tx;
mod work;

use crate::audit::{AuditAction, AuditEvent};
use crate::error::StoreError;
use crate::model::*;
use crate::{Result, Store};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use plumbline_domain::{
    ItemId, ProjectId, ProjectSettings, Rubric, RubricVersion, SettingsPatch, TaskKind, UserId,
};
use std::str::FromStr;
use tokio::sync::mpsc;
use tokio_postgres::{NoTls, Row};

/// A handle on a PostgreSQL database; clones share the pool and the audit sealer.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    /// Spaces out connection attempts while the database is unreachable.
    backoff: std::sync::Arc<backoff::Backoff>,
    /// The audit key and anchor (see [`PgStore::open`]).
    trail: std::sync::Arc<crate::audit::AuditTrail>,
    _sealer: std::sync::Arc<Sealer>,
}

/// The background task that links this process's pending audit events into the chain
/// (see [`crate::audit::pg_append`]); it stops when the last clone of the store goes.
struct Sealer(tokio::task::JoinHandle<()>);

impl Drop for Sealer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Sealer {
    fn spawn(
        pool: Pool,
        backoff: std::sync::Arc<backoff::Backoff>,
        trail: std::sync::Arc<crate::audit::AuditTrail>,
    ) -> Sealer {
        Sealer(tokio::spawn(async move {
            let mut tick = tokio::time::interval(crate::audit::SEAL_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut last_sweep = std::time::Instant::now();
            // The last event this process linked and has not yet checkpointed.
            let mut head: Option<(i64, String)> = None;
            loop {
                tick.tick().await;
                if head.is_some() && trail.due() {
                    let (seq, hash) = head.take().unwrap_or_default();
                    if let Err(e) = trail.checkpoint(seq, &hash) {
                        tracing::warn!("no audit checkpoint this time: {e}");
                    }
                }
                let due = last_sweep.elapsed() >= crate::audit::SWEEP_INTERVAL;
                if !crate::audit::take_pending_written() && !due {
                    continue;
                }
                last_sweep = std::time::Instant::now();
                let sealed = match backoff::get(&pool, &backoff).await {
                    Ok(mut client) => crate::audit::pg_seal(&mut client, trail.key()).await,
                    Err(e) => Err(e),
                };
                if let Ok(Some(sealed)) = &sealed {
                    head = Some(sealed.clone());
                }
                if let Err(e) = sealed {
                    // Nothing is lost: the events stay pending for the next pass, and
                    // every reader of the chain seals first.
                    tracing::warn!("sealing the audit chain failed, will retry: {e}");
                    crate::audit::mark_pending_written();
                }
            }
        }))
    }
}

/// Connections per process; PostgreSQL's default limit is 100 in all.
const POOL_SIZE: usize = 16;

impl PgStore {
    /// Connects to `url`, and migrates the database. The audit key and anchor file
    /// are in `audit_dir` (see [`crate::audit::AuditTrail::open`]).
    pub async fn open(url: &str, audit_dir: &std::path::Path) -> Result<PgStore> {
        let trail = std::sync::Arc::new(crate::audit::AuditTrail::open(audit_dir)?);
        let config = tokio_postgres::Config::from_str(url).map_err(|e| {
            StoreError::Invalid(format!(
                "bad PostgreSQL URL `{}`: {e}",
                crate::url::redact(url)
            ))
        })?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(|e| StoreError::Database(format!("cannot build connection pool: {e}")))?;
        let backoff = std::sync::Arc::new(backoff::Backoff::default());
        let store = PgStore {
            _sealer: std::sync::Arc::new(Sealer::spawn(
                pool.clone(),
                backoff.clone(),
                trail.clone(),
            )),
            backoff,
            pool,
            trail: trail.clone(),
        };
        let mut client = store.client().await?;
        migrate::apply(&mut client).await?;
        let head = client
            .query_opt(
                "SELECT seq, at, actor, action, object_type, object_id, project_id, digest, prev_hash, hash
                 FROM audit_events ORDER BY seq DESC LIMIT 1",
                &[],
            )
            .await?
            .map(|r| identity::audit_row(&r));
        trail.start(head.as_ref())?;
        Ok(store)
    }

    pub(crate) async fn client(&self) -> Result<deadpool_postgres::Object> {
        backoff::get(&self.pool, &self.backoff).await
    }

    /// Streams the rows of `sql` (one parameter: the project) to `sink` in batches of
    /// `batch`, mapped by `map`: a portal inside a read-only repeatable-read transaction
    /// pages through one snapshot without holding the whole result in memory.
    pub(crate) async fn stream_snapshot<T: Send>(
        &self,
        sql: &str,
        project: ProjectId,
        batch: usize,
        map: impl Fn(&Row) -> Result<T>,
        sink: mpsc::Sender<Vec<T>>,
    ) -> Result<u64> {
        let mut client = self.client().await?;
        let tx = read_snapshot(&mut client).await?;
        let stmt = tx.prepare(sql).await?;
        let portal = tx.bind(&stmt, &[&project.0]).await?;
        let mut sent = 0u64;
        loop {
            let rows = tx.query_portal(&portal, batch as i32).await?;
            if rows.is_empty() {
                break;
            }
            let out = rows.iter().map(&map).collect::<Result<Vec<T>>>()?;
            sent += out.len() as u64;
            sink.send(out).await.map_err(|_| {
                StoreError::Invalid("export stopped: the receiver went away".into())
            })?;
        }
        tx.commit().await?;
        Ok(sent)
    }
}

/// A read-only repeatable-read transaction: every read of an export sees one snapshot.
pub(crate) async fn read_snapshot(
    client: &mut deadpool_postgres::Object,
) -> Result<deadpool_postgres::Transaction<'_>> {
    Ok(client
        .build_transaction()
        .read_only(true)
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .start()
        .await?)
}

const PROJECT_COLUMNS: &str = "id, name, settings, rubric_version, split_salt, created_at";

fn to_project(row: &Row) -> Result<Project> {
    to_project_at(row, 0)
}

/// The project in the [`PROJECT_COLUMNS`] of `row` from column `at` on.
fn to_project_at(row: &Row, at: usize) -> Result<Project> {
    Ok(Project {
        id: ProjectId(row.get(at)),
        name: row.get(at + 1),
        settings: serde_json::from_str::<ProjectSettings>(row.get(at + 2))?,
        rubric_version: RubricVersion(row.get::<_, i64>(at + 3) as i32),
        split_salt: row.get(at + 4),
        created_at: row.get(at + 5),
    })
}

fn to_item(row: &Row) -> Result<StoredItem> {
    let task: &str = row.get(2);
    let state: &str = row.get(4);
    Ok(StoredItem {
        id: ItemId(row.get(0)),
        ext_id: row.get(1),
        task: task.parse::<TaskKind>().map_err(StoreError::Database)?,
        revision: row.get::<_, i64>(3) as i32,
        state: ItemState::parse(state)
            .ok_or_else(|| StoreError::Database(format!("unknown item state `{state}`")))?,
        body: row.get(5),
        content_hash: hex(row.get(6)),
    })
}

fn stored_rubric(row: &Row) -> Result<StoredRubric> {
    let version: i64 = row.get(0);
    Ok(StoredRubric {
        version: RubricVersion(version as i32),
        rubric: Rubric::from_json(row.get(1)).map_err(|e| {
            StoreError::Database(format!("stored rubric v{version} is unreadable: {e}"))
        })?,
        created_at: row.get(2),
    })
}

impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn create_project(&self, actor: Option<UserId>, new: NewProject) -> Result<Project> {
        let settings = serde_json::to_string(&new.settings)?;
        let rubric = serde_json::to_string(&new.rubric)?;
        let salt = crate::random_hex(16)?;
        let secret = crate::engine::GoldSecret::random()?;
        let pseudonyms = crate::PseudonymKey::random()?;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let now = now_ms();
        let row = tx
            .query_opt(
                &format!(
                    "INSERT INTO projects (name, settings, rubric_version, split_salt, gold_secret, pseudonym_secret, created_at)
                     VALUES ($1, $2, 1, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING RETURNING {PROJECT_COLUMNS}"
                ),
                &[&new.name.as_str(), &settings, &salt, &secret.as_bytes(), &pseudonyms.as_bytes().as_slice(), &now],
            )
            .await?
            .ok_or_else(|| {
                StoreError::Conflict(format!("a project named `{}` exists already", new.name))
            })?;
        let project = to_project(&row)?;
        tx.execute(
            "INSERT INTO rubric_versions (project_id, version, rubric, created_at) VALUES ($1, 1, $2, $3)",
            &[&project.id.0, &rubric, &now],
        )
        .await?;
        crate::audit::pg_append(
            &tx,
            &AuditEvent::new(AuditAction::ProjectCreate, "project")
                .by(actor)
                .object(project.name.as_str())
                .in_project(project.id)
                .digest_of(rubric.as_bytes()),
        )
        .await?;
        tx.commit().await?;
        Ok(project)
    }

    async fn list_projects(&self) -> Result<Vec<ProjectSummary>> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT {PROJECT_COLUMNS}, (SELECT count(*) FROM items i WHERE i.project_id = p.id)
                     FROM projects p ORDER BY name"
                ),
                &[],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ProjectSummary {
                    project: to_project(r)?,
                    items: r.get::<_, i64>(6) as u64,
                })
            })
            .collect()
    }

    async fn project_by_name(&self, name: &str) -> Result<Project> {
        let client = self.client().await?;
        // Every request in a project asks this; prepared once per connection.
        let st = client
            .prepare_cached(&format!(
                "SELECT {PROJECT_COLUMNS} FROM projects WHERE name = $1"
            ))
            .await?;
        let row = client
            .query_opt(&st, &[&name])
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("project `{name}`")))?;
        to_project(&row)
    }

    async fn update_settings(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        patch: SettingsPatch,
    ) -> Result<Project, crate::SettingsError> {
        self.update_settings_impl(actor, project, patch).await
    }

    async fn reinstate(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        annotator: UserId,
    ) -> Result<crate::Reinstatement> {
        self.reinstate_impl(actor, project, annotator).await
    }

    async fn hidden_gold_since_reinstatement(
        &self,
        project: ProjectId,
        annotator: UserId,
    ) -> Result<crate::HiddenGold> {
        self.hidden_gold_impl(project, annotator).await
    }

    async fn rubric(
        &self,
        project: ProjectId,
        version: Option<RubricVersion>,
    ) -> Result<StoredRubric> {
        let client = self.client().await?;
        let wanted = version.map(|v| v.0 as i64);
        let st = client
            .prepare_cached(
                "SELECT r.version, r.rubric, r.created_at FROM rubric_versions r JOIN projects p ON p.id = r.project_id
                 WHERE r.project_id = $1 AND r.version = coalesce($2, p.rubric_version)",
            )
            .await?;
        let row = client
            .query_opt(&st, &[&project.0, &wanted])
            .await?
            .ok_or_else(|| match version {
                Some(v) => StoreError::NotFound(format!("rubric {v} of project {project}")),
                None => StoreError::NotFound(format!("project {project}")),
            })?;
        stored_rubric(&row)
    }

    async fn rubric_versions(&self, project: ProjectId) -> Result<Vec<StoredRubric>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT version, rubric, created_at FROM rubric_versions WHERE project_id = $1 ORDER BY version",
                &[&project.0],
            )
            .await?;
        if rows.is_empty() {
            return Err(StoreError::NotFound(format!("project {project}")));
        }
        rows.iter().map(stored_rubric).collect()
    }

    async fn add_rubric_version(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        rubric: Rubric,
    ) -> Result<StoredRubric> {
        let json = serde_json::to_string(&rubric)?;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // Lock the project row so two concurrent new versions get distinct numbers.
        let row = tx
            .query_opt(
                "SELECT p.rubric_version, r.rubric FROM projects p
                 JOIN rubric_versions r ON r.project_id = p.id AND r.version = p.rubric_version
                 WHERE p.id = $1 FOR UPDATE OF p",
                &[&project.0],
            )
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("project {project}")))?;
        let current: i64 = row.get(0);
        if row.get::<_, &str>(1) == json {
            return Err(StoreError::Conflict(format!(
                "the rubric is identical to the current version v{current}; no new version made"
            )));
        }
        let next = current + 1;
        let now = now_ms();
        tx.execute(
            "INSERT INTO rubric_versions (project_id, version, rubric, created_at) VALUES ($1, $2, $3, $4)",
            &[&project.0, &next, &json, &now],
        )
        .await?;
        tx.execute(
            "UPDATE projects SET rubric_version = $2 WHERE id = $1",
            &[&project.0, &next],
        )
        .await?;
        // Gold made under an older rubric must be checked again before it scores anyone.
        let marked = tx.execute(
            "UPDATE gold SET needs_revalidation = TRUE WHERE project_id = $1 AND active AND rubric_version < $2",
            &[&project.0, &next],
        )
        .await?;
        crate::audit::pg_append(
            &tx,
            &AuditEvent::new(AuditAction::RubricVersion, "rubric")
                .by(actor)
                .object(format!("v{next}"))
                .in_project(project)
                .digest_of(json.as_bytes()),
        )
        .await?;
        if let Some(e) = crate::engine::review::revalidate_event(actor, project, marked) {
            crate::audit::pg_append(&tx, &e).await?;
        }
        tx.commit().await?;
        Ok(StoredRubric {
            version: RubricVersion(next as i32),
            rubric,
            created_at: now,
        })
    }

    async fn import_items(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        options: ImportOptions,
        source: mpsc::Receiver<ImportMsg>,
    ) -> Result<ImportOutcome> {
        let mut client = self.client().await?;
        import::run(&mut client, actor, project, options, source).await
    }

    async fn export_items(
        &self,
        project: ProjectId,
        sink: mpsc::Sender<Vec<String>>,
    ) -> Result<u64> {
        self.stream_snapshot(
            "SELECT body FROM items WHERE project_id = $1 ORDER BY id",
            project,
            crate::BATCH * 4,
            |r| Ok(r.get(0)),
            sink,
        )
        .await
    }

    async fn list_items(
        &self,
        project: ProjectId,
        after: Option<ItemId>,
        limit: u32,
    ) -> Result<Vec<StoredItem>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT id, ext_id, task, revision, state, body, content_hash FROM items
                 WHERE project_id = $1 AND id > $2 ORDER BY id LIMIT $3",
                &[&project.0, &after.map_or(0, |a| a.0), &(limit as i64)],
            )
            .await?;
        rows.iter().map(to_item).collect()
    }

    async fn item(
        &self,
        project: ProjectId,
        ext_id: &str,
    ) -> Result<(StoredItem, Vec<ItemRevision>)> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT id, ext_id, task, revision, state, body, content_hash FROM items
                 WHERE project_id = $1 AND ext_id = $2",
                &[&project.0, &ext_id],
            )
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("item `{ext_id}`")))?;
        let item = to_item(&row)?;
        let revisions = client
            .query(
                "SELECT revision, body, content_hash, replaced_at FROM item_revisions WHERE item_id = $1 ORDER BY revision",
                &[&item.id.0],
            )
            .await?
            .iter()
            .map(|r| ItemRevision {
                revision: r.get::<_, i64>(0) as i32,
                body: r.get(1),
                content_hash: hex(r.get(2)),
                replaced_at: r.get(3),
            })
            .collect();
        Ok((item, revisions))
    }

    async fn ping(&self) -> Result<()> {
        self.client().await?.query_one("SELECT 1", &[]).await?;
        Ok(())
    }

    async fn check_integrity(&self) -> Result<()> {
        let client = self.client().await?;
        migrate::check_version(&client).await?;
        // Every foreign key is declared, so PostgreSQL enforces referential integrity
        // itself; what it cannot know is our denormalised counters and hashes.
        let bad: i64 = client
            .query_one(
                "SELECT count(*) FROM items WHERE octet_length(content_hash) <> 32 OR revision < 1",
                &[],
            )
            .await?
            .get(0);
        if bad > 0 {
            return Err(StoreError::Database(format!(
                "integrity check failed: {bad} items have a malformed hash or revision"
            )));
        }
        // The work queue's row of every item: its copies of the item's state and gold
        // flag, and its counters against the judgments and live leases they count.
        let bad: i64 = client
            .query_one(
                "SELECT count(*) FROM items i
                 LEFT JOIN item_queue q ON q.item_id = i.id
                 LEFT JOIN (SELECT item_id, count(*) AS n FROM judgments
                            WHERE source = 'annotator' GROUP BY item_id) j ON j.item_id = i.id
                 LEFT JOIN (SELECT item_id, count(*) AS n FROM assignments
                            WHERE state = 'leased' GROUP BY item_id) a ON a.item_id = i.id
                 WHERE q.item_id IS NULL OR q.project_id <> i.project_id OR q.state <> i.state
                    OR q.is_gold <> i.is_gold OR q.judgments <> coalesce(j.n, 0)
                    OR q.leases <> coalesce(a.n, 0)",
                &[],
            )
            .await?
            .get(0);
        if bad > 0 {
            return Err(StoreError::Database(format!(
                "integrity check failed: {bad} items disagree with their work-queue row"
            )));
        }
        Ok(())
    }
}
