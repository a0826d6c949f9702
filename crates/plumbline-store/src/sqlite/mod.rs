//! The embedded default: SQLite compiled into the binary (rusqlite's `bundled`), WAL
//! mode, one writer connection and a small pool of readers. Blocking calls run on
//! tokio's blocking pool so the async server never stalls on disk.

mod browse;
mod export;
mod group;
mod identity;
mod import;
mod invitations;
mod leads;
mod media;
mod migrate;
mod reads;
mod retention;
mod work;

use crate::audit::{AuditAction, AuditEvent};
use crate::error::StoreError;
use crate::model::*;
use crate::{Result, Store};
use plumbline_domain::{
    ItemId, ProjectId, ProjectSettings, Rubric, RubricVersion, SettingsPatch, TaskKind, UserId,
};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// A handle on one SQLite database file; clones share the connections.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    /// The audit key and anchor, in the database file's directory.
    trail: Arc<crate::audit::AuditTrail>,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// Engine writes waiting to be committed together (see `group::write_grouped`).
    pending: Mutex<Vec<group::Job>>,
    /// Whether a blocking task is draining `pending` (at most one at a time).
    leading: std::sync::atomic::AtomicBool,
}

/// Readers kept open for reuse; more are opened on demand and dropped after use. Under
/// load (64 annotators, three reads each per request for authentication) opening
/// connections dominated the profile with 8; 32 covers the server's concurrency.
const IDLE_READERS: usize = 32;

fn connect(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path).map_err(|e| {
        StoreError::Database(format!(
            "cannot open SQLite database {}: {e}",
            path.display()
        ))
    })?;
    // 16 KiB pages (set before the file is first written; fixed afterwards): a bulk
    // import writes every page twice (WAL, then checkpoint), and with 4 KiB pages the
    // system-call count, not the bytes, dominated (1M items: 86k/s → 139k/s).
    // WAL lets readers run beside the writer; NORMAL sync is durable across process
    // crashes (the WAL is fsynced at checkpoints) and far faster than FULL.
    conn.execute_batch(
        "PRAGMA page_size = 16384;
         PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 10000;
         PRAGMA cache_size = -32768;",
    )?;
    // The engine's next and submit use some 30 statements on the writer; rusqlite's
    // default cache of 16 made every call re-prepare them (a fifth of the server's time).
    conn.set_prepared_statement_cache_capacity(128);
    // Query-planner stability: without it, a statement whose WHERE compares a bound
    // parameter with a partial index's condition (the work queue's) is re-prepared on
    // every execution — another fifth of the server's time under load. Plans here are
    // fixed by the schema, not by parameter values.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    // Savepoints of grouped engine writes journal into memory, not a temporary file.
    conn.execute_batch("PRAGMA temp_store = MEMORY;")?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens the database at `path` (creating it and its directory), and migrates it.
    pub async fn open(path: &Path) -> Result<SqliteStore> {
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                crate::files::create_dir_all(dir).map_err(|e| {
                    StoreError::Database(format!("cannot create directory {}: {e}", dir.display()))
                })?;
            }
            // A new database file is 0600, and SQLite gives its `-wal` and `-shm` the
            // same mode.
            match crate::files::create_new(&path) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => {
                    return Err(StoreError::Database(format!(
                        "cannot create SQLite database {}: {e}",
                        path.display()
                    )));
                }
            }
            let dir = path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let trail = Arc::new(crate::audit::AuditTrail::open(dir)?);
            let mut writer = connect(&path)?;
            // Every transaction on the writer takes the write lock at BEGIN. A deferred
            // one that reads first (the audit append reads the chain's head) asks for
            // the lock only at its first write, and SQLite then calls no busy handler:
            // a read transaction waiting for the write lock could deadlock, so it fails
            // at once with "database is locked" whenever another connection holds the
            // lock, as the checkpointer does while it restarts the WAL. At BEGIN the
            // busy timeout applies and the write waits its turn.
            writer.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
            migrate::apply(&mut writer)?;
            crate::audit::register_sqlite_key(&writer, trail.key());
            let head = writer
                .query_row(
                    "SELECT seq, at, actor, action, object_type, object_id, project_id, digest, prev_hash, hash
                     FROM audit_events ORDER BY seq DESC LIMIT 1",
                    [],
                    identity::audit_row,
                )
                .optional()?;
            trail.start(head.as_ref())?;
            // Checkpoints run beside the writer (below), not inside a commit of it:
            // copying the WAL into the database stalled whichever request committed.
            writer.execute_batch("PRAGMA wal_autocheckpoint = 0;")?;
            // After the WAL restarts from its beginning, the file is cut back to this.
            writer.execute_batch(&format!("PRAGMA journal_size_limit = {WAL_RESTART_BYTES};"))?;
            let checkpointer = connect(&path)?;
            let store = SqliteStore {
                inner: Arc::new(Inner {
                    path,
                    trail: trail.clone(),
                    writer: Mutex::new(writer),
                    readers: Mutex::new(Vec::new()),
                    pending: Mutex::new(Vec::new()),
                    leading: std::sync::atomic::AtomicBool::new(false),
                }),
            };
            spawn_checkpointer(Arc::downgrade(&store.inner), checkpointer, trail);
            Ok(store)
        })
        .await?
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Copies the whole WAL into the database file and empties it (TRUNCATE), holding
    /// this store's writes back meanwhile. An import commits as one transaction, so
    /// after a large one the database is all in the WAL (2.7 GB at 1M items) until the
    /// checkpointer has copied it, which a serving process otherwise does under load in
    /// its first seconds. Tried again every 100 ms for up to a minute while another
    /// checkpoint (the background one's) or a reader is in the way.
    pub async fn checkpoint(&self) -> Result<()> {
        self.write(|conn| {
            for _ in 0..600 {
                let busy: i64 =
                    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
                if busy == 0 {
                    return Ok(());
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            Err(StoreError::Database(
                "the WAL checkpoint could not finish within a minute: a reader was busy".into(),
            ))
        })
        .await
    }

    /// Leaves the database whole in its main file, for a process that is about to exit
    /// (every CLI command, and the server once it has shut down): a TRUNCATE checkpoint
    /// copies the WAL into the database and empties it. Without it the last commits
    /// stayed in the `-wal` file (the background checkpointer's connection is never
    /// closed), so a copy of the database file alone missed them. It waits at most a
    /// second for readers of other processes; when they keep it from finishing (a
    /// server on the same file), the WAL is theirs to checkpoint and `false` says so.
    /// First it writes a checkpoint of the audit chain's head to the anchor file.
    pub async fn close(&self) -> Result<bool> {
        crate::IdentityStore::anchor_audit(self).await?;
        self.write(|conn| {
            conn.busy_timeout(std::time::Duration::from_millis(100))?;
            let mut done = false;
            for _ in 0..10 {
                // Busy (1 in the first column, or SQLITE_BUSY while the background
                // checkpointer runs): try again shortly.
                if let Ok(0) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                    r.get::<_, i64>(0)
                }) {
                    done = true;
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            conn.busy_timeout(std::time::Duration::from_secs(10))?;
            Ok(done)
        })
        .await
    }

    /// Writes a consistent copy of the database to `out` with SQLite's online backup
    /// API while the store serves: all pages in one step, from one read snapshot (in
    /// WAL mode a reader holds no writer back). The copy is written to a temporary file
    /// beside `out` (mode 0600), checked with `PRAGMA integrity_check`, synced, and
    /// renamed into place, so `out` is whole or absent. An existing `out` is refused.
    /// Returns its size in bytes.
    pub async fn backup(&self, out: &Path) -> Result<u64> {
        let out = out.to_owned();
        let source = self.inner.path.clone();
        tokio::task::spawn_blocking(move || backup_to(&source, &out)).await?
    }

    /// Runs `f` on the writer connection (writes are serialized by SQLite anyway).
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = inner.writer.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut conn)
        })
        .await?
    }

    /// Runs `f` on a reader connection.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = inner
                .readers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .pop();
            let conn = match pooled {
                Some(c) => c,
                None => connect(&inner.path)?,
            };
            let result = f(&conn);
            let mut idle = inner.readers.lock().unwrap_or_else(|p| p.into_inner());
            if idle.len() < IDLE_READERS {
                idle.push(conn);
            }
            result
        })
        .await?
    }
}

fn backup_to(source: &Path, out: &Path) -> Result<u64> {
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        StoreError::Invalid(format!("backup to {}: {what}: {e}", out.display()))
    };
    if out.exists() {
        return Err(StoreError::Invalid(format!(
            "backup to {}: the file exists; name a new one",
            out.display()
        )));
    }
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = out.file_name().ok_or_else(|| {
        StoreError::Invalid(format!("backup to {}: not a file name", out.display()))
    })?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".partial-{}", std::process::id()));
    let tmp = dir.join(tmp_name);
    let result = (|| {
        crate::files::create_new(&tmp).map_err(|e| fail("cannot create the file", &e))?;
        let from = connect(source)?;
        let mut to = Connection::open(&tmp).map_err(|e| fail("cannot open the copy", &e))?;
        {
            let backup = rusqlite::backup::Backup::new(&from, &mut to)
                .map_err(|e| fail("cannot start", &e))?;
            // -1: every page in one step, so the copy is one snapshot however busy the
            // writer is (a stepped backup restarts whenever another connection writes).
            loop {
                match backup.step(-1).map_err(|e| fail("copying", &e))? {
                    rusqlite::backup::StepResult::Done => break,
                    rusqlite::backup::StepResult::More => continue,
                    _ => std::thread::sleep(std::time::Duration::from_millis(50)),
                }
            }
        }
        // The copy is a plain rollback-journal file: nothing beside it to lose.
        to.execute_batch("PRAGMA journal_mode = DELETE;")
            .map_err(|e| fail("cannot leave WAL mode", &e))?;
        let check: String = to
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| fail("integrity check", &e))?;
        if check != "ok" {
            return Err(fail("the copy fails its integrity check", &check));
        }
        drop(to);
        std::fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(|e| fail("cannot sync the copy", &e))?;
        std::fs::rename(&tmp, out).map_err(|e| fail("cannot move the copy into place", &e))?;
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        std::fs::metadata(out)
            .map(|m| m.len())
            .map_err(|e| fail("cannot read the copy", &e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The audit chain's last event, sequence number and hash.
pub(crate) fn audit_head(conn: &Connection) -> Result<Option<(i64, String)>> {
    Ok(conn
        .query_row(
            "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// WAL size past which the checkpointer restarts the log (see [`spawn_checkpointer`]).
const WAL_RESTART_BYTES: u64 = 256 << 20;

/// Most frames a RESTART checkpoint may have to copy itself, under the write lock: 16 MiB
/// of 16 KiB pages, some tens of milliseconds of writing.
const RESTART_MAX_BEHIND_FRAMES: i64 = 1024;

/// Checkpoints the WAL every 100 ms from its own connection (PASSIVE: never blocks the
/// writer or readers) until the store is dropped.
///
/// Under steady load PASSIVE alone never lets the log start over: the WAL can only be
/// reused from its beginning when every frame is checkpointed and no reader still
/// reads from it, and with requests arriving all the time some reader always does. It
/// grew by the write rate, ~100 MB/s at 2,000 cycles/s, without bound. Past
/// [`WAL_RESTART_BYTES`] a RESTART checkpoint waits for the readers of the moment to
/// finish (holding new writes back meanwhile) so that the next write starts the log
/// over, and `journal_size_limit` cuts the file back. It waits at most 50 ms: a long
/// reader (an export streaming one snapshot) makes it give up, and it is not tried
/// again for 2 s, so writes are never held back for long.
///
/// A RESTART holds new writes back from the moment it has the write lock: while it
/// copies the frames not yet checkpointed, syncs the WAL and the database file, and
/// waits for the readers. So a PASSIVE pass copies (and syncs) first, outside the lock,
/// and the RESTART right after has only the last few milliseconds' frames left; and its
/// waits poll every 200 µs ([`checkpoint_wait`]) instead of SQLite's default sleeps of
/// 1, 2, 5, 10 … ms, which can hold writes back for milliseconds after the last reader
/// of the moment has finished. After a big import the PASSIVE pass can end far behind
/// (a reader of an older snapshot keeps it from copying further), and the RESTART then
/// waits until a pass leaves at most [`RESTART_MAX_BEHIND_FRAMES`] to copy.
///
/// Runs beside the writer: WAL checkpoints, and the audit anchor's checkpoints (at most
/// one line every [`crate::audit::ANCHOR_INTERVAL`], off every request's path).
fn spawn_checkpointer(
    store: std::sync::Weak<Inner>,
    mut conn: Connection,
    trail: Arc<crate::audit::AuditTrail>,
) {
    if let Err(e) = conn.busy_handler(Some(checkpoint_wait)) {
        tracing::warn!(error = %e, "checkpoint connection keeps the default busy handler");
    }
    let wal = match store.upgrade() {
        Some(inner) => {
            let mut p = inner.path.clone().into_os_string();
            p.push("-wal");
            PathBuf::from(p)
        }
        None => return,
    };
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            let mut restart_after = std::time::Instant::now();
            while store.strong_count() > 0 {
                std::thread::sleep(std::time::Duration::from_millis(100));
                let big = std::fs::metadata(&wal).is_ok_and(|m| m.len() > WAL_RESTART_BYTES);
                // Frames in the log, and how many of them are in the database file now.
                let passive = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                    Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
                });
                let behind = passive.map_or(i64::MAX, |(log, copied)| log - copied);
                if trail.due() {
                    let anchored = audit_head(&conn).and_then(|head| match head {
                        Some((seq, hash)) => trail.checkpoint(seq, &hash),
                        None => Ok(()),
                    });
                    if let Err(e) = anchored {
                        tracing::warn!(error = %e, "no audit checkpoint this time");
                    }
                }
                // Only with little left to copy: a RESTART copies what PASSIVE could not
                // while holding the write lock, and after a big import that could be
                // gigabytes, holding every write back past its busy timeout.
                if big
                    && behind <= RESTART_MAX_BEHIND_FRAMES
                    && std::time::Instant::now() >= restart_after
                {
                    // The first column is 1 when the checkpoint could not finish.
                    let done = conn
                        .query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| r.get::<_, i64>(0));
                    let busy = !matches!(done, Ok(0));
                    if busy {
                        restart_after =
                            std::time::Instant::now() + std::time::Duration::from_secs(2);
                    }
                }
            }
        })
        .map(drop)
        .unwrap_or_else(|e| tracing::warn!(error = %e, "no WAL checkpoint thread"));
}

/// Busy handler of the checkpoint connection: polls every 200 µs, gives up after 50 ms.
fn checkpoint_wait(attempt: i32) -> bool {
    if attempt >= 250 {
        return false;
    }
    std::thread::sleep(std::time::Duration::from_micros(200));
    true
}

fn project_from_row(
    row: &rusqlite::Row<'_>,
) -> rusqlite::Result<(i64, String, String, i64, String, i64)> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    ))
}

fn to_project(raw: (i64, String, String, i64, String, i64)) -> Result<Project> {
    let (id, name, settings, version, split_salt, created_at) = raw;
    Ok(Project {
        id: ProjectId(id),
        name,
        settings: serde_json::from_str::<ProjectSettings>(&settings)?,
        rubric_version: RubricVersion(version as i32),
        split_salt,
        created_at,
    })
}

const PROJECT_COLUMNS: &str = "id, name, settings, rubric_version, split_salt, created_at";

fn to_item(
    id: i64,
    ext_id: String,
    task: &str,
    revision: i64,
    state: &str,
    body: String,
    hash: &[u8],
) -> Result<StoredItem> {
    Ok(StoredItem {
        id: ItemId(id),
        ext_id,
        task: task.parse::<TaskKind>().map_err(StoreError::Database)?,
        revision: revision as i32,
        state: ItemState::parse(state)
            .ok_or_else(|| StoreError::Database(format!("unknown item state `{state}`")))?,
        body,
        content_hash: hex(hash),
    })
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn create_project(&self, actor: Option<UserId>, new: NewProject) -> Result<Project> {
        let settings = serde_json::to_string(&new.settings)?;
        let rubric = serde_json::to_string(&new.rubric)?;
        let salt = crate::random_hex(16)?;
        let secret = crate::engine::GoldSecret::random()?;
        let pseudonyms = crate::PseudonymKey::random()?;
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let now = now_ms();
            let inserted = tx.execute(
                "INSERT INTO projects (name, settings, rubric_version, split_salt, gold_secret, pseudonym_secret, created_at)
                 VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6) ON CONFLICT (name) DO NOTHING",
                params![new.name.as_str(), settings, salt, secret.as_bytes(), pseudonyms.as_bytes().as_slice(), now],
            )?;
            if inserted == 0 {
                return Err(StoreError::Conflict(format!(
                    "a project named `{}` exists already",
                    new.name
                )));
            }
            let id = tx.last_insert_rowid();
            tx.execute(
                "INSERT INTO rubric_versions (project_id, version, rubric, created_at) VALUES (?1, 1, ?2, ?3)",
                params![id, rubric, now],
            )?;
            let raw = tx.query_row(
                &format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE id = ?1"),
                [id],
                project_from_row,
            )?;
            crate::audit::sqlite_append(
                &tx,
                &AuditEvent::new(AuditAction::ProjectCreate, "project")
                    .by(actor)
                    .object(new.name.as_str())
                    .in_project(ProjectId(id))
                    .digest_of(rubric.as_bytes()),
            )?;
            tx.commit()?;
            to_project(raw)
        })
        .await
    }

    async fn list_projects(&self) -> Result<Vec<ProjectSummary>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {PROJECT_COLUMNS}, (SELECT count(*) FROM items i WHERE i.project_id = p.id)
                 FROM projects p ORDER BY name"
            ))?;
            let rows = stmt.query_map([], |r| Ok((project_from_row(r)?, r.get::<_, i64>(6)?)))?;
            let mut out = Vec::new();
            for row in rows {
                let (raw, items) = row?;
                out.push(ProjectSummary {
                    project: to_project(raw)?,
                    items: items as u64,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn project_by_name(&self, name: &str) -> Result<Project> {
        let name = name.to_owned();
        self.read(move |conn| {
            let raw = conn
                .query_row(
                    &format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE name = ?1"),
                    [&name],
                    project_from_row,
                )
                .optional()?
                .ok_or_else(|| StoreError::NotFound(format!("project `{name}`")))?;
            to_project(raw)
        })
        .await
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
        self.read(move |conn| {
            let row = conn
                .query_row(
                    "SELECT r.version, r.rubric, r.created_at FROM rubric_versions r JOIN projects p ON p.id = r.project_id
                     WHERE r.project_id = ?1 AND r.version = coalesce(?2, p.rubric_version)",
                    params![project.0, version.map(|v| v.0)],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)),
                )
                .optional()?;
            let (v, json, at) = row.ok_or_else(|| match version {
                Some(v) => StoreError::NotFound(format!("rubric {v} of project {project}")),
                None => StoreError::NotFound(format!("project {project}")),
            })?;
            stored_rubric(v, &json, at)
        })
        .await
    }

    async fn rubric_versions(&self, project: ProjectId) -> Result<Vec<StoredRubric>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT version, rubric, created_at FROM rubric_versions WHERE project_id = ?1 ORDER BY version",
            )?;
            let rows = stmt.query_map([project.0], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (v, json, at) = row?;
                out.push(stored_rubric(v, &json, at)?);
            }
            if out.is_empty() {
                return Err(StoreError::NotFound(format!("project {project}")));
            }
            Ok(out)
        })
        .await
    }

    async fn add_rubric_version(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        rubric: Rubric,
    ) -> Result<StoredRubric> {
        let json = serde_json::to_string(&rubric)?;
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let (current, current_json): (i64, String) = tx
                .query_row(
                    "SELECT p.rubric_version, r.rubric FROM projects p
                     JOIN rubric_versions r ON r.project_id = p.id AND r.version = p.rubric_version
                     WHERE p.id = ?1",
                    [project.0],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?
                .ok_or_else(|| StoreError::NotFound(format!("project {project}")))?;
            if current_json == json {
                return Err(StoreError::Conflict(format!(
                    "the rubric is identical to the current version v{current}; no new version made"
                )));
            }
            let next = current + 1;
            let now = now_ms();
            tx.execute(
                "INSERT INTO rubric_versions (project_id, version, rubric, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![project.0, next, json, now],
            )?;
            tx.execute(
                "UPDATE projects SET rubric_version = ?2 WHERE id = ?1",
                params![project.0, next],
            )?;
            // Gold made under an older rubric must be checked again before it scores anyone.
            let marked = tx.execute(
                "UPDATE gold SET needs_revalidation = 1 WHERE project_id = ?1 AND active = 1 AND rubric_version < ?2",
                params![project.0, next],
            )?;
            crate::audit::sqlite_append(
                &tx,
                &AuditEvent::new(AuditAction::RubricVersion, "rubric")
                    .by(actor)
                    .object(format!("v{next}"))
                    .in_project(project)
                    .digest_of(json.as_bytes()),
            )?;
            if let Some(e) = crate::engine::review::revalidate_event(actor, project, marked as u64) {
                crate::audit::sqlite_append(&tx, &e)?;
            }
            tx.commit()?;
            Ok(StoredRubric {
                version: RubricVersion(next as i32),
                rubric,
                created_at: now,
            })
        })
        .await
    }

    async fn import_items(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        options: ImportOptions,
        source: mpsc::Receiver<ImportMsg>,
    ) -> Result<ImportOutcome> {
        self.write(move |conn| import::run(conn, actor, project, options, source))
            .await
    }

    async fn export_items(
        &self,
        project: ProjectId,
        sink: mpsc::Sender<Vec<String>>,
    ) -> Result<u64> {
        self.read(move |conn| {
            let mut stmt =
                conn.prepare_cached("SELECT body FROM items WHERE project_id = ?1 ORDER BY id")?;
            let mut rows = stmt.query([project.0])?;
            let mut batch = Vec::with_capacity(crate::BATCH);
            let mut sent = 0u64;
            while let Some(row) = rows.next()? {
                batch.push(row.get::<_, String>(0)?);
                if batch.len() == crate::BATCH {
                    sent += batch.len() as u64;
                    send_blocking(
                        &sink,
                        std::mem::replace(&mut batch, Vec::with_capacity(crate::BATCH)),
                    )?;
                }
            }
            if !batch.is_empty() {
                sent += batch.len() as u64;
                send_blocking(&sink, batch)?;
            }
            Ok(sent)
        })
        .await
    }

    async fn list_items(
        &self,
        project: ProjectId,
        after: Option<ItemId>,
        limit: u32,
    ) -> Result<Vec<StoredItem>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, ext_id, task, revision, state, body, content_hash FROM items
                 WHERE project_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
            )?;
            let mut rows = stmt.query(params![project.0, after.map_or(0, |a| a.0), limit])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(to_item(
                    r.get(0)?,
                    r.get(1)?,
                    r.get_ref(2)?.as_str()?,
                    r.get(3)?,
                    r.get_ref(4)?.as_str()?,
                    r.get(5)?,
                    r.get_ref(6)?.as_blob()?,
                )?);
            }
            Ok(out)
        })
        .await
    }

    async fn item(
        &self,
        project: ProjectId,
        ext_id: &str,
    ) -> Result<(StoredItem, Vec<ItemRevision>)> {
        let ext_id = ext_id.to_owned();
        self.read(move |conn| {
            let item = conn
                .query_row(
                    "SELECT id, ext_id, task, revision, state, body, content_hash FROM items
                     WHERE project_id = ?1 AND ext_id = ?2",
                    params![project.0, ext_id],
                    |r| {
                        Ok(to_item(
                            r.get(0)?,
                            r.get(1)?,
                            r.get_ref(2)?.as_str()?,
                            r.get(3)?,
                            r.get_ref(4)?.as_str()?,
                            r.get(5)?,
                            r.get_ref(6)?.as_blob()?,
                        ))
                    },
                )
                .optional()?
                .ok_or_else(|| StoreError::NotFound(format!("item `{ext_id}`")))??;
            let mut stmt = conn.prepare_cached(
                "SELECT revision, body, content_hash, replaced_at FROM item_revisions WHERE item_id = ?1 ORDER BY revision",
            )?;
            let revisions = stmt
                .query_map([item.id.0], |r| {
                    Ok(ItemRevision {
                        revision: r.get::<_, i64>(0)? as i32,
                        body: r.get(1)?,
                        content_hash: hex(r.get_ref(2)?.as_blob()?),
                        replaced_at: r.get(3)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok((item, revisions))
        })
        .await
    }

    async fn ping(&self) -> Result<()> {
        self.read(|conn| {
            Ok(conn
                .query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
                .map(drop)?)
        })
        .await
    }

    async fn check_integrity(&self) -> Result<()> {
        self.read(|conn| {
            let verdict: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
            if verdict != "ok" {
                return Err(StoreError::Database(format!(
                    "integrity check failed: {verdict}"
                )));
            }
            let dangling: i64 =
                conn.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                    r.get(0)
                })?;
            if dangling > 0 {
                return Err(StoreError::Database(format!(
                    "integrity check failed: {dangling} rows break foreign keys"
                )));
            }
            let drifted: i64 = conn.query_row(ANNOTATOR_COUNTS_DRIFT, [], |r| r.get(0))?;
            if drifted > 0 {
                return Err(StoreError::Database(format!(
                    "integrity check failed: {drifted} annotator_counts rows differ from the assignments and judgments they count"
                )));
            }
            migrate::check_version(conn)
        })
        .await
    }
}

/// Rows of `annotator_counts` (migrations 0007 and 0013) that differ from what they
/// count: the highest `seq` of each annotator's assignments in a project, and their
/// judgments' count, gold scores, priority inversions and hidden-gold scores. (Neither
/// assignments nor annotators' judgments are ever deleted, so every row has assignments
/// behind it.)
const ANNOTATOR_COUNTS_DRIFT: &str = "
    WITH a AS (SELECT project_id, user_id, max(seq) AS seq FROM assignments GROUP BY 1, 2),
    j AS (SELECT j.project_id, j.user_id, count(*) AS n, coalesce(sum(j.gold_correct = 1), 0) AS ok,
                 count(j.gold_correct) AS scored, coalesce(sum(j.priority_inversion), 0) AS inv,
                 coalesce(sum(j.gold_correct = 1 AND s.purpose = 'gold'), 0) AS hidden_ok,
                 coalesce(sum(j.gold_correct IS NOT NULL AND s.purpose = 'gold'), 0) AS hidden
          FROM judgments j LEFT JOIN assignments s ON s.id = j.assignment_id
          WHERE j.user_id IS NOT NULL GROUP BY 1, 2),
    counted AS (SELECT a.project_id, a.user_id, a.seq, coalesce(j.n, 0), coalesce(j.ok, 0),
                       coalesce(j.scored, 0), coalesce(j.inv, 0), coalesce(j.hidden_ok, 0),
                       coalesce(j.hidden, 0)
                FROM a LEFT JOIN j ON j.project_id = a.project_id AND j.user_id = a.user_id
                UNION ALL
                SELECT j.project_id, j.user_id, 0, j.n, j.ok, j.scored, j.inv, j.hidden_ok, j.hidden
                FROM j
                WHERE NOT EXISTS (SELECT 1 FROM a WHERE a.project_id = j.project_id AND a.user_id = j.user_id)),
    kept AS (SELECT project_id, user_id, seq, judgments, gold_correct, gold_scored, inversions,
                    hidden_correct, hidden_scored
             FROM annotator_counts)
    SELECT (SELECT count(*) FROM (SELECT * FROM counted EXCEPT SELECT * FROM kept))
         + (SELECT count(*) FROM (SELECT * FROM kept EXCEPT SELECT * FROM counted))";

fn stored_rubric(version: i64, json: &str, created_at: i64) -> Result<StoredRubric> {
    Ok(StoredRubric {
        version: RubricVersion(version as i32),
        rubric: Rubric::from_json(json).map_err(|e| {
            StoreError::Database(format!("stored rubric v{version} is unreadable: {e}"))
        })?,
        created_at,
    })
}

fn send_blocking(sink: &mpsc::Sender<Vec<String>>, batch: Vec<String>) -> Result<()> {
    sink.blocking_send(batch)
        .map_err(|_| StoreError::Invalid("export stopped: the receiver went away".into()))
}
