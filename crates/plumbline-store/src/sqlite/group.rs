//! Group commit on SQLite's single writer: engine writes that arrive together share
//! one IMMEDIATE transaction, each inside its own savepoint, and each caller hears
//! back only after the shared commit, so an acknowledged write is durable.

use super::SqliteStore;
use crate::error::StoreError;
use crate::work::WorkResult;
use rusqlite::Connection;
use std::sync::atomic::Ordering;

/// What a grouped job hands back after it ran: whether it succeeded (its savepoint is
/// kept) and how to deliver its result once the group's commit is known.
type Finish = Box<dyn FnOnce(Option<String>) + Send>;

/// An engine write waiting for the writer: `None` means the group could not start.
pub(crate) type Job = Box<dyn FnOnce(Option<&Connection>) -> (bool, Finish) + Send>;

/// Largest number of jobs committed together.
const GROUP_MAX: usize = 128;

impl SqliteStore {
    /// Runs `f` on the writer inside a savepoint of a transaction it may share with
    /// other engine writes waiting at the same moment (group commit): one commit, and
    /// one write of each shared page (audit tail, queue index, assignment pages), for
    /// the whole group. `f` failing rolls back its own savepoint only; its caller gets
    /// its result only after the group's commit, so an acknowledged write is durable.
    pub(super) async fn write_grouped<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> WorkResult<T> + Send + 'static,
    ) -> WorkResult<T> {
        let (tx, rx) = tokio::sync::oneshot::channel::<WorkResult<T>>();
        let job: Job = Box::new(move |conn| {
            let result = match conn {
                Some(conn) => f(conn),
                None => Err(StoreError::Database(
                    "the writer could not begin a transaction".into(),
                )
                .into()),
            };
            let ok = result.is_ok();
            let finish: Finish = Box::new(move |commit_error| {
                let result = match (commit_error, result) {
                    (Some(e), Ok(_)) => {
                        Err(StoreError::Database(format!("commit failed: {e}")).into())
                    }
                    (_, r) => r,
                };
                let _ = tx.send(result);
            });
            (ok, finish)
        });
        self.inner
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(job);
        // One leader at a time drains the queue on the blocking pool; the others only
        // wait for their answer, so a burst of writes costs one thread hand-off.
        if !self.inner.leading.swap(true, Ordering::AcqRel) {
            let inner = self.inner.clone();
            tokio::task::spawn_blocking(move || {
                /// Gives up the lead however the drain ends (a panicking job included).
                struct Lead<'a>(&'a std::sync::atomic::AtomicBool);
                impl Drop for Lead<'_> {
                    fn drop(&mut self) {
                        self.0.store(false, Ordering::Release);
                    }
                }
                loop {
                    let lead = Lead(&inner.leading);
                    {
                        let mut conn = inner.writer.lock().unwrap_or_else(|p| p.into_inner());
                        loop {
                            let jobs: Vec<Job> = {
                                let mut pending =
                                    inner.pending.lock().unwrap_or_else(|p| p.into_inner());
                                let n = pending.len().min(GROUP_MAX);
                                pending.drain(..n).collect()
                            };
                            if jobs.is_empty() {
                                break;
                            }
                            run_group(&mut conn, jobs);
                        }
                    }
                    drop(lead);
                    // A job pushed after the last drain but before the flag fell would
                    // wait forever: take the lead again if one is there.
                    let more = !inner
                        .pending
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .is_empty();
                    if !more || inner.leading.swap(true, Ordering::AcqRel) {
                        break;
                    }
                }
            });
        }
        rx.await.unwrap_or_else(|_| {
            Err(StoreError::Database("the writer dropped the request".into()).into())
        })
    }
}

fn run_group(conn: &mut Connection, jobs: Vec<Job>) {
    if !conn.is_autocommit() {
        // A group cut short by a panic left its transaction open: nothing of it was
        // acknowledged, so roll it back.
        let _ = conn.execute_batch("ROLLBACK");
    }
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let msg = e.to_string();
        for job in jobs {
            let (_, finish) = job(None);
            finish(Some(msg.clone()));
        }
        return;
    }
    let mut finishers = Vec::with_capacity(jobs.len());
    // Prepared once per connection (cached): `execute_batch` parsed both every job.
    let cached = |conn: &Connection, sql: &str| -> rusqlite::Result<()> {
        conn.prepare_cached(sql)?.execute([]).map(drop)
    };
    for job in jobs {
        let saved = cached(conn, "SAVEPOINT job");
        let (ok, finish) = job(saved.as_ref().ok().map(|_| &*conn));
        let undone = if ok {
            cached(conn, "RELEASE job")
        } else {
            conn.execute_batch("ROLLBACK TO job; RELEASE job")
        };
        if saved.is_ok() && undone.is_err() {
            // A savepoint that cannot be closed leaves the group undecidable: abandon it.
            let _ = conn.execute_batch("ROLLBACK");
            finishers.push(finish);
            for f in finishers {
                f(Some("the group transaction failed".into()));
            }
            return;
        }
        finishers.push(finish);
    }
    let committed = conn.execute_batch("COMMIT").map_err(|e| e.to_string());
    if committed.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    let error = committed.err();
    for f in finishers {
        f(error.clone());
    }
}
