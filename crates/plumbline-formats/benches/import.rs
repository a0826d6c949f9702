//! HH-RLHF-shaped import throughput (target: ≥ 50,000 lines/s), on synthetic lines.
//!
//! Run with `cargo bench -p plumbline-formats` (`PLUMBLINE_BENCH_LINES` sets the line
//! count, default 200,000; `PLUMBLINE_TEST_POSTGRES_URL` adds a PostgreSQL run). It
//! writes a JSONL file of synthetic HH dialogues (1–4 human turns, realistic lengths,
//! a seeded generator), then measures, as the median of 3 runs each
//! (`PLUMBLINE_BENCH_RUNS` changes the count):
//!
//! - `parse`: reading the file into items and external judgments, sent to a channel
//!   that a thread drains (the formats crate alone);
//! - `sqlite`: the whole `plumbline import` pipeline into a fresh SQLite database
//!   (items and their external judgments, one transaction), as lines per second.
//!
//! The output is one JSON document on stdout.

use plumbline_formats::{Input, ReadOptions};
use plumbline_store::{ImportMsg, Store};
use std::path::Path;
use std::time::Instant;
use tokio::sync::mpsc;

/// Runs per figure (median); `PLUMBLINE_BENCH_RUNS` overrides.
fn runs() -> usize {
    std::env::var("PLUMBLINE_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(3)
}

mod common;
use common::*;

// The allocator of the `plumbline` binary, so the figures are the CLI's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn parse_only(path: &Path, lines: usize) -> f64 {
    let opts = ReadOptions::new(plumbline_domain::TaskKind::Preference);
    let (tx, mut rx) = mpsc::channel(4);
    let drain = std::thread::spawn(move || {
        let mut n = 0usize;
        while let Some(m) = rx.blocking_recv() {
            if let ImportMsg::Items(b) = m {
                n += b.len();
            }
        }
        n
    });
    let t = Instant::now();
    let file = std::fs::File::open(path).unwrap();
    let out = plumbline_formats::read(Input::File(file), None, None, &opts, &tx, |_| {}).unwrap();
    drop(tx);
    let got = drain.join().unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(out.summary.error_count, 0, "{:?}", out.summary.errors);
    assert_eq!(got, lines);
    secs
}

async fn import<S: Store>(store: &S, path: &Path, lines: usize) -> f64 {
    import_as(store, path, lines, "bench", Voters::Original).await
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("skipped: run with `cargo bench -p plumbline-formats`");
        return;
    }
    let lines: usize = std::env::var("PLUMBLINE_BENCH_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let dir = scratch("data");
    let file = dir.join("hh.jsonl");
    let bytes = generate(&file, lines);
    let parse = median((0..runs()).map(|_| parse_only(&file, lines)).collect());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let sqlite = median(
        (0..runs())
            .map(|i| {
                let dir = scratch(&format!("sqlite{i}"));
                let secs = rt.block_on(async {
                    let store = plumbline_store::SqliteStore::open(&dir.join("bench.db"))
                        .await
                        .unwrap();
                    import(&store, &file, lines).await
                });
                let _ = std::fs::remove_dir_all(&dir);
                secs
            })
            .collect(),
    );
    let postgres = std::env::var("PLUMBLINE_TEST_POSTGRES_URL")
        .ok()
        .map(|url| {
            median(
                (0..runs())
                    .map(|i| {
                        rt.block_on(async {
                            let name = format!("plumbline_bench_{}_{i}", std::process::id());
                            let (admin, conn) =
                                tokio_postgres::connect(&url, tokio_postgres::NoTls)
                                    .await
                                    .unwrap();
                            tokio::spawn(conn);
                            admin
                                .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
                                .await
                                .unwrap();
                            // CREATE DATABASE cannot share a (multi-statement) transaction.
                            admin
                                .batch_execute(&format!("CREATE DATABASE {name}"))
                                .await
                                .unwrap();
                            let base = &url[..url.rfind('/').unwrap()];
                            let audit_dir = std::env::temp_dir().join(format!("{name}_audit"));
                            let store = plumbline_store::PgStore::open(
                                &format!("{base}/{name}"),
                                &audit_dir,
                            )
                            .await
                            .unwrap();
                            let secs = import(&store, &file, lines).await;
                            drop(store);
                            let _ = admin
                                .batch_execute(&format!(
                                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                                ))
                                .await;
                            secs
                        })
                    })
                    .collect(),
            )
        });
    let _ = std::fs::remove_dir_all(&dir);
    let per_s = |secs: f64| (lines as f64 / secs).round();
    let mut report = serde_json::json!({
        "lines": lines,
        "file_mib": (bytes as f64 / (1 << 20) as f64 * 10.0).round() / 10.0,
        "parse": {"seconds": parse, "lines_per_s": per_s(parse)},
        "sqlite_import": {"seconds": sqlite, "lines_per_s": per_s(sqlite)},
        "target_lines_per_s": 50_000,
        "runs_per_figure": runs(),
        "peak_rss_mib": peak_mib(),
    });
    if let Some(pg) = postgres {
        report["postgres_import"] = serde_json::json!({"seconds": pg, "lines_per_s": per_s(pg)});
    }
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}
