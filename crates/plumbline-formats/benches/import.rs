//! HH-RLHF-shaped import throughput (issue 6: ≥ 50,000 lines/s), on synthetic lines.
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

use plumbline_domain::{ProjectName, ProjectSettings, Rubric};
use plumbline_formats::{Format, Input, ReadOptions};
use plumbline_store::{ImportMsg, ImportOptions, NewProject, Store};
use std::io::Write;
use std::path::{Path, PathBuf};
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

// The allocator of the `plumbline` binary, so the figures are the CLI's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const WORDS: &[&str] = &[
    "account",
    "the",
    "balance",
    "please",
    "card",
    "transfer",
    "fee",
    "I",
    "you",
    "can",
    "would",
    "bank",
    "help",
    "need",
    "statement",
    "interest",
    "rate",
    "loan",
    "close",
    "open",
    "today",
    "why",
    "was",
    "charged",
    "twice",
    "refund",
    "policy",
    "branch",
    "online",
    "app",
    "password",
    "reset",
    "identity",
    "verify",
    "sorry",
    "loss",
    "executor",
    "certificate",
    "overdraft",
    "limit",
    "credit",
    "debit",
    "mortgage",
    "payment",
    "late",
    "waive",
    "and",
    "or",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // SplitMix64: enough for synthetic text.
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn sentence(&mut self, words: u64) -> String {
        let mut s = String::new();
        for i in 0..words {
            if i > 0 {
                s.push(' ');
            }
            s.push_str(WORDS[self.below(WORDS.len() as u64) as usize]);
        }
        s.push('.');
        s
    }
}

/// Writes `n` HH-shaped lines; returns the file size.
fn generate(path: &Path, n: usize) -> u64 {
    let mut rng = Rng(42);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for _ in 0..n {
        let mut prefix = String::new();
        let turns = 1 + rng.below(4);
        for t in 0..turns {
            prefix.push_str("\n\nHuman: ");
            let len = 8 + rng.below(30);
            prefix.push_str(&rng.sentence(len));
            prefix.push_str("\n\nAssistant:");
            if t + 1 < turns {
                prefix.push(' ');
                let len = 15 + rng.below(60);
                prefix.push_str(&rng.sentence(len));
            }
        }
        let chosen_len = 20 + rng.below(80);
        let chosen = format!("{prefix} {}", rng.sentence(chosen_len));
        let rejected_len = 10 + rng.below(80);
        let rejected = format!("{prefix} {}", rng.sentence(rejected_len));
        serde_json::to_writer(
            &mut out,
            &serde_json::json!({"chosen": chosen, "rejected": rejected}),
        )
        .unwrap();
        out.write_all(b"\n").unwrap();
    }
    out.flush().unwrap();
    std::fs::metadata(path).unwrap().len()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

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

const RUBRIC: &str = r#"
name = "bench"
[[criteria]]
key = "helpfulness"
title = "Helpfulness"
priority = 1
"#;

async fn import<S: Store>(store: &S, path: &Path, lines: usize) -> f64 {
    import_as(store, path, lines, "bench", 1).await
}

/// Imports the HH file into project `name`; each item carries `voters` agreeing external
/// judgments (the HH choice, copied under other source names): with three, every pair is
/// unanimous, as in a project whose annotators agree, and no item needs Dawid-Skene.
async fn import_as<S: Store>(
    store: &S,
    path: &Path,
    lines: usize,
    name: &str,
    voters: usize,
) -> f64 {
    let project = store
        .create_project(
            None,
            NewProject {
                name: ProjectName::parse(name).unwrap(),
                settings: ProjectSettings::default(),
                rubric: Rubric::from_toml(RUBRIC).unwrap(),
            },
        )
        .await
        .unwrap();
    let opts = ReadOptions::new(project.settings.task);
    let (tx, mut read_rx) = mpsc::channel(4);
    let (fwd, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        while let Some(mut m) = read_rx.recv().await {
            if let ImportMsg::Items(batch) = &mut m {
                for item in batch.iter_mut() {
                    let first = item.external[0].clone();
                    for v in 1..voters {
                        let mut copy = first.clone();
                        copy.source = format!("{}-{v}", first.source);
                        item.external.push(copy);
                    }
                }
            }
            if fwd.send(m).await.is_err() {
                break;
            }
        }
    });
    let t = Instant::now();
    let path = path.to_owned();
    let reader = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(path).unwrap();
        plumbline_formats::read(
            Input::File(file),
            Some(Format::HhRlhf),
            None,
            &opts,
            &tx,
            |_| {},
        )
    });
    let outcome = store
        .import_items(None, project.id, ImportOptions::default(), rx)
        .await
        .unwrap();
    reader.await.unwrap().unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert!(outcome.committed);
    assert_eq!(outcome.imported as usize, lines);
    assert_eq!(outcome.external_judgments as usize, lines * voters);
    secs
}

/// Exports every item as a preference pair (the external HH choice counts as the vote):
/// `plumbline export --kind preference --include-external`, JSONL or Parquet. With one
/// vote an item is contested, so this is the worst case: two reads and a Dawid-Skene fit.
async fn export<S: Store>(store: &S, dir: &Path, parquet: bool, lines: usize) -> f64 {
    export_from(store, "bench", dir, parquet, lines).await
}

async fn export_from<S: Store>(
    store: &S,
    name: &str,
    dir: &Path,
    parquet: bool,
    lines: usize,
) -> f64 {
    use plumbline_formats::export::PairOptions;
    use plumbline_formats::release::FileFormat;
    use plumbline_formats::run::{self, Kind};
    let project = store.project_by_name(name).await.unwrap();
    let opts = PairOptions {
        include_external: true,
        ..PairOptions::default()
    };
    let (path, format) = if parquet {
        (dir.join("pairs.parquet"), FileFormat::Parquet)
    } else {
        (dir.join("pairs.jsonl"), FileFormat::Jsonl)
    };
    let t = Instant::now();
    // The code path of `plumbline export --kind preference --include-external`.
    let sink = run::file_sink(Kind::Preference, format, path, Vec::new()).unwrap();
    let out = run::export(store, &project, Kind::Preference, opts, sink, false)
        .await
        .unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(out.summary.exported as usize, lines, "{:?}", out.summary);
    secs
}

/// The process's peak resident memory so far (VmHWM), MiB.
fn peak_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("plumbline-bench-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
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
    let results: Vec<(f64, f64, f64, f64, f64)> = (0..runs())
        .map(|i| {
            let dir = scratch(&format!("sqlite{i}"));
            let out = rt.block_on(async {
                let store = plumbline_store::SqliteStore::open(&dir.join("bench.db"))
                    .await
                    .unwrap();
                let import = import(&store, &file, lines).await;
                eprintln!("after import: peak {} MiB", peak_mib());
                let jsonl = export(&store, &dir, false, lines).await;
                eprintln!("after JSONL export: peak {} MiB", peak_mib());
                let parquet = export(&store, &dir, true, lines).await;
                eprintln!("after Parquet export: peak {} MiB", peak_mib());
                import_as(&store, &file, lines, "unanimous", 3).await;
                let u_jsonl = export_from(&store, "unanimous", &dir, false, lines).await;
                eprintln!("after unanimous JSONL export: peak {} MiB", peak_mib());
                let u_parquet = export_from(&store, "unanimous", &dir, true, lines).await;
                eprintln!("after unanimous Parquet export: peak {} MiB", peak_mib());
                (import, jsonl, parquet, u_jsonl, u_parquet)
            });
            let _ = std::fs::remove_dir_all(&dir);
            out
        })
        .collect();
    let sqlite = median(results.iter().map(|r| r.0).collect());
    let export_jsonl = median(results.iter().map(|r| r.1).collect());
    let export_parquet = median(results.iter().map(|r| r.2).collect());
    let unanimous_jsonl = median(results.iter().map(|r| r.3).collect());
    let unanimous_parquet = median(results.iter().map(|r| r.4).collect());
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
                            let store = plumbline_store::PgStore::open(&format!("{base}/{name}"))
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
        "sqlite_export_pairs_jsonl": {"seconds": export_jsonl, "pairs_per_s": per_s(export_jsonl)},
        "sqlite_export_pairs_parquet": {"seconds": export_parquet, "pairs_per_s": per_s(export_parquet)},
        "sqlite_export_unanimous_jsonl": {"seconds": unanimous_jsonl, "pairs_per_s": per_s(unanimous_jsonl)},
        "sqlite_export_unanimous_parquet": {"seconds": unanimous_parquet, "pairs_per_s": per_s(unanimous_parquet)},
        "target_lines_per_s": 50_000,
        "runs_per_figure": runs(),
        "peak_rss_mib": peak_mib(),
    });
    if let Some(pg) = postgres {
        report["postgres_import"] = serde_json::json!({"seconds": pg, "lines_per_s": per_s(pg)});
    }
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}
