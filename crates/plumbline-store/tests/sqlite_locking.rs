//! SQLite must never answer a request "database is locked" because of the store's own
//! background work: the WAL checkpointer holds the write lock while it restarts the
//! log, and every write transaction must wait for it (the busy timeout), not fail.

use plumbline_domain::{ProjectName, ProjectSettings, Rubric};
use plumbline_store::audit::{AuditAction, AuditEvent};
use plumbline_store::{
    IdentityStore, MediaStore, NewMedia, NewProject, NewUser, SqliteStore, Store,
};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const RUBRIC: &str = r#"
name = "Locking"
[[criteria]]
key = "helpfulness"
title = "Helpfulness"
priority = 1
"#;

fn scratch(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    std::env::temp_dir()
        .join(format!("plumbline_{name}_{}_{nanos}", std::process::id()))
        .join("test.db")
}

fn project(name: &str) -> NewProject {
    NewProject {
        name: ProjectName::parse(name).unwrap(),
        settings: ProjectSettings::default(),
        rubric: Rubric::from_toml(RUBRIC).unwrap(),
    }
}

fn event(i: u64) -> AuditEvent {
    AuditEvent::new(AuditAction::BenchEvent, "bench")
        .object(i)
        .digest_of(&i.to_le_bytes())
}

/// `len` bytes of "audio" that differ from every other call's (`seed`).
fn audio(seed: u64, len: usize) -> NewMedia {
    let mut bytes = Vec::with_capacity(len + 8);
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    while bytes.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    bytes.truncate(len);
    NewMedia {
        sha256: Sha256::digest(&bytes).into(),
        content_type: "audio/wav".into(),
        bytes: bytes.into(),
        duration: 1.0,
        sample_rate: 8000,
        peaks: None,
    }
}

/// Another connection holds the write lock for a moment, as the checkpointer does while
/// it restarts the WAL. Writes that read before they write (the audit append reads the
/// chain's head first) must wait for it like any other, not fail at once: SQLite calls
/// no busy handler when a read transaction asks for the write lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_wait_for_a_held_write_lock_instead_of_failing() {
    let path = scratch("held_lock");
    let store = SqliteStore::open(&path).await.unwrap();
    let p = store.create_project(None, project("held")).await.unwrap();
    store.record_event(event(0)).await.unwrap();

    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let holder = {
        let path = path.clone();
        std::thread::spawn(move || {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch("BEGIN IMMEDIATE").unwrap();
            locked_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(300));
            conn.execute_batch("COMMIT").unwrap();
        })
    };
    locked_rx.recv().unwrap();
    let t = Instant::now();
    let (appended, user, rubric) = tokio::join!(
        store.record_event(event(1)),
        store.create_user(
            None,
            NewUser {
                name: "waiter".into(),
                password_hash: None,
                is_admin: false,
            },
        ),
        store.add_rubric_version(
            None,
            p.id,
            Rubric::from_toml(&RUBRIC.replace("Helpfulness", "Help")).unwrap(),
        ),
    );
    appended.expect("the audit append waits for the write lock");
    user.expect("creating a user waits for the write lock");
    rubric.expect("a new rubric version waits for the write lock");
    assert!(
        t.elapsed() >= Duration::from_millis(200),
        "the writes ran while another connection held the write lock"
    );
    holder.join().unwrap();
    assert_eq!(store.audit_events(0, 100).await.unwrap().len(), 5);
}

/// The measured failure: right after a big commit (the WAL past the size at which the
/// checkpointer restarts it), range reads and audit appends run while the checkpointer
/// copies the WAL back and restarts it; none of them may fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_and_appends_after_a_big_commit_never_fail() {
    let path = scratch("big_commit");
    let mut wal = path.clone().into_os_string();
    wal.push("-wal");
    let wal = PathBuf::from(wal);
    let store = SqliteStore::open(&path).await.unwrap();
    let p = store.create_project(None, project("big")).await.unwrap();
    // 300 MB in one transaction: past the 256 MiB at which the log is restarted.
    let big = audio(1, 300 << 20);
    let sha = big.sha256;
    store.store_media(None, p.id, big).await.unwrap();
    let grown = std::fs::metadata(&wal).unwrap().len();
    assert!(grown > 256 << 20, "the WAL is {grown} bytes");

    let started = Instant::now();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..4u64 {
        let store = store.clone();
        let stop = stop.clone();
        workers.push(tokio::spawn(async move {
            let mut done = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let at = (w * 7919 + done * 104_729) % (299 << 20);
                let bytes = store
                    .media_range(sha, at, at + (64 << 10))
                    .await
                    .unwrap_or_else(|e| panic!("range read {done} of worker {w}: {e}"));
                assert_eq!(bytes.len(), 64 << 10);
                store
                    .record_event(event(w << 32 | done))
                    .await
                    .unwrap_or_else(|e| panic!("audit append {done} of worker {w}: {e}"));
                done += 1;
            }
            done
        }));
    }
    // Until the checkpointer has restarted the log (the next write cuts it back to
    // `journal_size_limit`), and a little longer.
    let mut restarted = None;
    while started.elapsed() < Duration::from_secs(12) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        if restarted.is_none() && len <= 256 << 20 {
            restarted = Some(started.elapsed());
        }
        if restarted.is_some_and(|at| started.elapsed() > at + Duration::from_secs(1)) {
            break;
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut total = 0;
    for w in workers {
        total += w.await.expect("a worker failed");
    }
    assert!(total > 0);
    assert!(
        restarted.is_some(),
        "the checkpointer never restarted the WAL"
    );
}
