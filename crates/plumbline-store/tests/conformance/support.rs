//! Fresh databases for each test.

use plumbline_store::{PgStore, SqliteStore};
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}_{}_{n}_{nanos}", std::process::id())
}

/// A store on a new SQLite file in the temporary directory.
pub async fn sqlite() -> SqliteStore {
    let dir = std::env::temp_dir().join(unique("plumbline_conformance"));
    SqliteStore::open(&dir.join("test.db"))
        .await
        .expect("open sqlite")
}

/// A fresh PostgreSQL database, dropped at the end of the test.
pub struct PgDb {
    pub store: PgStore,
    /// The database's URL, for tampering with it directly.
    pub url: String,
    admin: tokio_postgres::Client,
    name: String,
}

impl PgDb {
    pub async fn drop_database(self) {
        drop(self.store);
        let _ = self
            .admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .await;
    }
}

/// A store on a new PostgreSQL database, or `None` (loudly) when no server is
/// configured; under `CI=true` a missing server fails the test instead.
pub async fn postgres() -> Option<PgDb> {
    let Ok(url) = std::env::var("PLUMBLINE_TEST_POSTGRES_URL") else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!(
                "CI=true but PLUMBLINE_TEST_POSTGRES_URL is not set: the PostgreSQL conformance run cannot be skipped in CI"
            );
        }
        eprintln!(
            "\n*** SKIPPED: PostgreSQL conformance test — set PLUMBLINE_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres) to run it ***\n"
        );
        return None;
    };
    let (admin, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to PLUMBLINE_TEST_POSTGRES_URL: {e}"));
    tokio::spawn(conn);
    let name = unique("plumbline_test");
    // CREATE DATABASE copies template1 and fails if another session holds it; retry.
    for attempt in 0.. {
        match admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
        {
            Ok(()) => break,
            Err(e) if attempt < 20 => {
                let _ = e;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => panic!("cannot create test database: {e}"),
        }
    }
    let base = url.split('?').next().unwrap();
    let cut = base
        .rfind('/')
        .filter(|&i| i > base.find("://").unwrap() + 2)
        .unwrap_or(base.len());
    let db_url = format!("{}/{name}", &base[..cut]);
    let audit_dir = std::env::temp_dir().join(unique("plumbline_conformance_audit"));
    let store = PgStore::open(&db_url, &audit_dir)
        .await
        .expect("open postgres");
    Some(PgDb {
        store,
        url: db_url,
        admin,
        name,
    })
}

/// Direct access to a test database, bypassing the store: what someone holding the
/// database file (but not the audit key) can do.
pub enum Raw {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

fn sql_text(v: &Option<String>) -> String {
    v.as_ref()
        .map_or("NULL".into(), |s| format!("'{}'", s.replace('\'', "''")))
}

fn sql_int(v: Option<i64>) -> String {
    v.map_or("NULL".into(), |n| n.to_string())
}

impl Raw {
    /// Runs `sql` (statements separated by `;`).
    pub async fn exec(&self, sql: &str) {
        match self {
            Raw::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).unwrap();
                conn.execute_batch(sql).unwrap();
            }
            Raw::Postgres(url) => {
                let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                let running = tokio::spawn(conn);
                client.batch_execute(sql).await.unwrap();
                drop(client);
                let _ = running.await;
            }
        }
    }

    /// The single integer `sql` selects.
    pub async fn count(&self, sql: &str) -> i64 {
        match self {
            Raw::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).unwrap();
                conn.query_row(sql, [], |r| r.get(0)).unwrap()
            }
            Raw::Postgres(url) => {
                let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                let running = tokio::spawn(conn);
                let n: i64 = client.query_one(sql, &[]).await.unwrap().get(0);
                drop(client);
                let _ = running.await;
                n
            }
        }
    }

    /// The same database opened again, with its audit key and anchor in `audit_dir`
    /// (an SQLite database keeps them beside its file).
    pub async fn reopen(&self, audit_dir: &std::path::Path) -> plumbline_store::AnyStore {
        match self {
            Raw::Sqlite(path) => {
                plumbline_store::AnyStore::Sqlite(SqliteStore::open(path).await.unwrap())
            }
            Raw::Postgres(url) => {
                plumbline_store::AnyStore::Postgres(PgStore::open(url, audit_dir).await.unwrap())
            }
        }
    }

    /// Inserts `events` into the chain's table as they are.
    pub async fn insert(&self, events: &[plumbline_store::audit::StoredAuditEvent]) {
        let overriding = match self {
            Raw::Sqlite(_) => "",
            Raw::Postgres(_) => "OVERRIDING SYSTEM VALUE",
        };
        let mut sql = String::new();
        for e in events {
            sql.push_str(&format!(
                "INSERT INTO audit_events (seq, at, actor, action, object_type, object_id, project_id, digest, prev_hash, hash) {overriding}
                 VALUES ({}, {}, {}, '{}', '{}', {}, {}, {}, '{}', '{}');\n",
                e.seq,
                e.at,
                sql_int(e.actor),
                e.action,
                e.object_type,
                sql_text(&e.object_id),
                sql_int(e.project_id),
                sql_text(&e.digest),
                e.prev_hash,
                e.hash
            ));
        }
        self.exec(&sql).await;
    }
}
