//! The engine's concurrency test: 64 simulated annotators over HTTP against
//! a project of 10,000 items, overlap 3, gold rate 0.1, some clients vanishing
//! mid-lease, until the queue drains — on SQLite (one server) and on PostgreSQL (two
//! server processes) — and a second run that SIGKILLs a server mid-load and restarts
//! it. The load comes from `plumbline bench serve` (a second process); this test then
//! opens the database itself and checks the guarantees independently:
//! no item above the overlap, no annotator twice on an item, every judgment that got
//! a 2xx stored, abandoned leases back in circulation, the integrity check passing.

use plumbline_store::{AnyStore, ItemFilter, Store};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::process::Command;

/// Items of the load (override with PLUMBLINE_LOAD_ITEMS for a quicker local run).
fn items() -> u64 {
    std::env::var("PLUMBLINE_LOAD_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

struct Load {
    summary: Value,
    acked: Vec<(String, i64, String)>,
    abandoned: Vec<(String, String)>,
    db: String,
    dir: std::path::PathBuf,
}

fn run_load(backend: &str, items: u64, kill_after: Option<f64>) -> Load {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let dir = std::env::temp_dir().join(format!("plumbline-load-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("acks.jsonl");
    let items_s = items.to_string();
    let mut args = vec![
        "bench",
        "serve",
        "--backend",
        backend,
        "--items",
        items_s.as_str(),
        "--annotators",
        "64",
        "--overlap",
        "3",
        "--gold-rate",
        "0.1",
        "--gold-items",
        "300",
        "--lease-seconds",
        "10",
        "--vanish",
        "0.01",
        "--until-drained",
        "--keep",
    ];
    let log_s = log.display().to_string();
    let dir_s = dir.display().to_string();
    args.extend(["--ack-log", log_s.as_str(), "--dir", dir_s.as_str()]);
    let kill_s = kill_after.map(|k| k.to_string());
    if let Some(k) = &kill_s {
        args.extend(["--kill-after", k.as_str()]);
    }
    // A private link to the binary: the servers it starts are spawned from its own path,
    // which a concurrent rebuild of the shared target directory must not pull away (a
    // rebuild writes a new file; the link keeps the old one). A hard link, not a copy:
    // a copy is a file open for writing, which a process forked meanwhile by another
    // test thread inherits until its exec, and executing it then fails with ETXTBSY.
    let exe = dir.join("plumbline");
    if std::fs::hard_link(env!("CARGO_BIN_EXE_plumbline"), &exe).is_err() {
        std::fs::copy(env!("CARGO_BIN_EXE_plumbline"), &exe).unwrap();
    }
    let mut attempt = 0;
    let out = loop {
        match Command::new(&exe).args(&args).output() {
            // ETXTBSY: the copy's write handle still lives in a sibling's fork.
            Err(e) if e.raw_os_error() == Some(26) && attempt < 50 => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            r => break r.expect("the binary runs"),
        }
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bench serve failed:\n{stderr}");
    let summary: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bench output is not JSON ({e}):\n{stderr}"));
    let mut acked = Vec::new();
    let mut abandoned = Vec::new();
    for line in std::fs::read_to_string(&log).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let user = v["user"].as_str().unwrap().to_owned();
        if let Some(item) = v["abandoned"].as_str() {
            abandoned.push((item.to_owned(), user));
        } else {
            acked.push((
                v["item"].as_str().unwrap().to_owned(),
                v["judgment"].as_i64().unwrap(),
                user,
            ));
        }
    }
    let db = summary["database"].as_str().unwrap().to_owned();
    Load {
        summary,
        acked,
        abandoned,
        db,
        dir,
    }
}

async fn verify<S: Store>(store: S, load: &Load, items: u64) {
    store.check_integrity().await.expect("integrity check");
    let project = store.project_by_name("load").await.unwrap();
    let mut names = HashMap::new();
    for i in 0..64 {
        let name = format!("annotator-{i:03}");
        let user = store.user_by_name(&name).await.unwrap();
        names.insert(user.id, name);
    }
    let gold: HashSet<String> = {
        let mut g = HashSet::new();
        let mut after = None;
        loop {
            let page = store
                .items_page(
                    project.id,
                    ItemFilter {
                        state: None,
                        gold: Some(true),
                    },
                    after,
                    500,
                )
                .await
                .unwrap();
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            g.extend(page.into_iter().map(|i| i.ext_id));
        }
        g
    };
    // Every item: at most `overlap` work judgments (exactly, once drained), never one
    // annotator twice; remember who judged what.
    let mut stored: HashMap<i64, (String, String)> = HashMap::new();
    let mut by_item: HashMap<String, HashSet<String>> = HashMap::new();
    for i in 0..items {
        let id = format!("bench-{i:08}");
        let js = store.judgments_of(project.id, &id).await.unwrap();
        let users: Vec<String> = js.iter().map(|j| names[&j.user.unwrap()].clone()).collect();
        let distinct: HashSet<String> = users.iter().cloned().collect();
        assert_eq!(distinct.len(), users.len(), "an annotator twice on {id}");
        if !gold.contains(&id) {
            assert!(
                js.len() <= 3,
                "{id} has {} judgments, above the overlap",
                js.len()
            );
            assert_eq!(js.len(), 3, "{id} was not filled before the queue drained");
        }
        for (j, u) in js.iter().zip(&users) {
            stored.insert(j.id.0, (id.clone(), u.clone()));
        }
        by_item.insert(id, distinct);
    }
    // Every judgment that got a 2xx is stored, on its item, by its annotator.
    assert!(!load.acked.is_empty());
    for (item, judgment, user) in &load.acked {
        let Some((i, u)) = stored.get(judgment) else {
            panic!("acknowledged judgment {judgment} on {item} by {user} is not stored");
        };
        assert_eq!((i, u), (item, user), "judgment {judgment} moved");
    }
    // Abandoned leases came back: the abandoning annotator never judged the item, and
    // (for regular work) three others filled it after the lease expired.
    assert!(
        !load.abandoned.is_empty(),
        "no client vanished; raise --vanish"
    );
    for (item, user) in &load.abandoned {
        let who = &by_item[item];
        assert!(
            !who.contains(user),
            "{user} judged {item} after abandoning it"
        );
        if !gold.contains(item) {
            assert_eq!(who.len(), 3, "abandoned {item} did not come back");
        }
    }
    let progress = store.progress(project.id).await.unwrap();
    assert_eq!(progress.items.open, 0);
    // Abandoned leases of regular work must have expired for their items to fill; an
    // abandoned gold lease may still be running when the queue drains.
    let expired: i64 = progress.annotators.iter().map(|a| a.expired).sum();
    let abandoned_work = load
        .abandoned
        .iter()
        .filter(|(item, _)| !gold.contains(item))
        .count() as i64;
    assert!(
        expired >= abandoned_work,
        "{expired} expired leases, {abandoned_work} abandoned"
    );
    let gold_scored: i64 = progress.annotators.iter().map(|a| a.gold_scored).sum();
    assert!(gold_scored > 0, "hidden gold was served and scored");
}

fn check(load: Load, items: u64) {
    eprintln!("{}", load.summary);
    assert!(load.summary["cycles"].as_u64().unwrap() > 0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        match AnyStore::open(&load.db, Some(&load.dir)).await.unwrap() {
            AnyStore::Sqlite(s) => verify(s, &load, items).await,
            AnyStore::Postgres(s) => verify(s, &load, items).await,
        }
    });
    if let Some(name) = load
        .db
        .strip_prefix("postgres://")
        .and_then(|r| r.rsplit('/').next())
    {
        let admin = std::env::var("PLUMBLINE_TEST_POSTGRES_URL").unwrap();
        let _ = Command::new("psql")
            .args([
                admin.as_str(),
                "-q",
                "-c",
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            ])
            .output();
    }
    let _ = std::fs::remove_dir_all(&load.dir);
}

fn postgres_configured() -> bool {
    if std::env::var("PLUMBLINE_TEST_POSTGRES_URL").is_ok() {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI=true but PLUMBLINE_TEST_POSTGRES_URL is not set");
    }
    eprintln!(
        "\n*** SKIPPED: PostgreSQL load test — set PLUMBLINE_TEST_POSTGRES_URL to run it ***\n"
    );
    false
}

#[test]
fn sqlite_64_annotators_drain_the_queue() {
    let n = items();
    check(run_load("sqlite", n, None), n);
}

#[test]
fn sqlite_server_killed_mid_load_loses_no_acknowledged_judgment() {
    let n = items() / 4;
    let load = run_load("sqlite", n, Some(4.0));
    assert_eq!(load.summary["killed_and_restarted"], true);
    check(load, n);
}

#[test]
fn postgres_two_servers_drain_the_queue() {
    if !postgres_configured() {
        return;
    }
    let n = items();
    let load = run_load("postgres", n, None);
    assert_eq!(load.summary["servers"], 2);
    check(load, n);
}

#[test]
fn postgres_server_killed_mid_load_loses_no_acknowledged_judgment() {
    if !postgres_configured() {
        return;
    }
    let n = items() / 4;
    let load = run_load("postgres", n, Some(4.0));
    assert_eq!(load.summary["killed_and_restarted"], true);
    check(load, n);
}
