//! Preference-pair export throughput (targets: JSONL ≥ 200,000 pairs/s, Parquet ≥
//! 100,000 pairs/s, memory ≤ 300 MB, at 1,000,000 pairs).
//!
//! Run with `cargo bench -p plumbline-formats --bench export`. Settings:
//!
//! - `PLUMBLINE_BENCH_PAIRS`: items a project (default 1,000,000);
//! - `PLUMBLINE_BENCH_RUNS`: runs a figure, the median is reported (default 3);
//! - `PLUMBLINE_BENCH_DIR`: keep the database there and reuse it on the next run (for
//!   profiling the export alone); otherwise a scratch directory, removed at the end;
//! - `PLUMBLINE_BENCH_ONLY`: run only the figures whose `case format` name contains this
//!   text (`unanimous jsonl`, `split`, `parquet`, …).
//!
//! It imports synthetic HH-RLHF dialogues (the import bench's generator, 2.3 KB an
//! item) into one SQLite database as two projects, then times the code path of
//! `plumbline export --kind preference --include-external` (`plumbline_formats::run`)
//! into a file, JSONL and Parquet, for each:
//!
//! - `unanimous`: three voters an item name the same reply (with a strength and a
//!   per-criterion verdict), as in a project whose annotators agree, decided by the
//!   default reliability rule (three sources at 0.7: posterior 0.93): the annotators'
//!   outcomes, then one read of the items;
//! - `split`: three voters an item, the third dissenting, under `--decision
//!   dawid-skene`: every item is contested, so the items are read twice around a
//!   Dawid-Skene fit over all of them (the worst case);
//! - `split reliability`: the same items by the reliability rule at `--threshold 0.65`
//!   (two sources against one: posterior 0.7), one read.
//!
//! The votes are stored as external judgments through the store's import (submitting
//! three million judgments through the work queue would take longer than the exports
//! they feed); the export reads them exactly as it reads annotators' judgments. Each
//! figure starts with one untimed run (reported as `warm_up_pairs_per_s`), so the timed
//! ones read the project from the page cache. Peak memory is the process's VmHWM over
//! each export alone (reset before it). The output is one JSON document on stdout.

mod common;
use common::*;

use plumbline_formats::export::{DEFAULT_THRESHOLD, PairOptions};
use plumbline_formats::release::FileFormat;
use plumbline_formats::run::{self, Kind};
use plumbline_quality::decision::DecisionMethod;
use plumbline_store::Store;
use std::path::Path;
use std::time::Instant;

// The allocator of the `plumbline` binary, so the figures are the CLI's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

/// One timed export: wall seconds, CPU seconds and the peak resident memory while it
/// ran, MiB.
async fn export<S: Store>(
    store: &S,
    case: &Case,
    dir: &Path,
    format: FileFormat,
    pairs: usize,
) -> (f64, f64, u64) {
    let project = store.project_by_name(case.project).await.unwrap();
    let opts = PairOptions {
        include_external: true,
        decision: case.decision,
        threshold: case.threshold,
        ..PairOptions::default()
    };
    let path = dir.join(match format {
        FileFormat::Jsonl => "pairs.jsonl",
        FileFormat::Parquet => "pairs.parquet",
    });
    reset_peak();
    let cpu = cpu_seconds();
    let t = Instant::now();
    let sink = run::file_sink(Kind::Preference, format, path.clone(), Vec::new()).unwrap();
    let out = run::export(store, &project, Kind::Preference, opts, sink, false)
        .await
        .unwrap();
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    let peak = peak_mib();
    assert_eq!(out.summary.exported as usize, pairs, "{:?}", out.summary);
    let _ = std::fs::remove_file(path);
    (secs, cpu, peak)
}

/// One figure's export: the project it reads and how it decides.
struct Case {
    name: &'static str,
    project: &'static str,
    decision: DecisionMethod,
    threshold: f64,
}

const CASES: [Case; 3] = [
    Case {
        name: "unanimous",
        project: "unanimous",
        decision: DecisionMethod::Reliability,
        threshold: DEFAULT_THRESHOLD,
    },
    Case {
        name: "split",
        project: "split",
        decision: DecisionMethod::DawidSkene,
        threshold: DEFAULT_THRESHOLD,
    },
    Case {
        name: "split reliability",
        project: "split",
        decision: DecisionMethod::Reliability,
        threshold: 0.65,
    },
];

/// The one-minute load average, for reading the figures of a shared machine.
fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("skipped: run with `cargo bench -p plumbline-formats --bench export`");
        return;
    }
    let pairs = env_usize("PLUMBLINE_BENCH_PAIRS", 1_000_000);
    let runs = env_usize("PLUMBLINE_BENCH_RUNS", 3);
    let only = std::env::var("PLUMBLINE_BENCH_ONLY").ok();
    let kept = std::env::var_os("PLUMBLINE_BENCH_DIR").map(std::path::PathBuf::from);
    let dir = match &kept {
        Some(d) => {
            std::fs::create_dir_all(d).unwrap();
            d.clone()
        }
        None => scratch("export"),
    };
    let db = dir.join(format!("export-{pairs}.db"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let report = rt.block_on(async {
        let fresh = !db.exists();
        let store = plumbline_store::SqliteStore::open(&db).await.unwrap();
        if fresh {
            let file = dir.join("hh.jsonl");
            generate(&file, pairs);
            let t = Instant::now();
            import_as(&store, &file, pairs, "unanimous", Voters::Agreeing).await;
            import_as(&store, &file, pairs, "split", Voters::Split).await;
            eprintln!(
                "imported 2 × {pairs} items in {:.1} s",
                t.elapsed().as_secs_f64()
            );
            let _ = std::fs::remove_file(file);
        }
        let mut report = serde_json::json!({
            "pairs": pairs,
            "runs_per_figure": runs,
            "targets_pairs_per_s": {"jsonl": 200_000, "parquet": 100_000},
            "target_peak_mib": 300,
        });
        for case in &CASES {
            for (format, label) in [
                (FileFormat::Jsonl, "jsonl"),
                (FileFormat::Parquet, "parquet"),
            ] {
                let name = format!("{} {label}", case.name);
                if !only.as_deref().is_none_or(|o| name.contains(o)) {
                    continue;
                }
                // One untimed run first, so every timed run reads the project from the
                // page cache (what it gives is reported as the cold figure).
                let (cold, _, _) = export(&store, case, &dir, format, pairs).await;
                eprintln!("{name}: warm-up {cold:.2} s");
                let mut secs = Vec::new();
                let mut cpus = Vec::new();
                let mut peak = 0;
                for _ in 0..runs {
                    let (s, c, p) = export(&store, case, &dir, format, pairs).await;
                    eprintln!("{name}: {s:.2} s, {c:.2} CPU s, peak {p} MiB");
                    secs.push(s);
                    cpus.push(c);
                    peak = peak.max(p);
                }
                let all: Vec<f64> = secs.iter().map(|s| (pairs as f64 / s).round()).collect();
                let m = median(secs);
                report[case.name][label] = serde_json::json!({
                    "seconds": m,
                    "pairs_per_s": (pairs as f64 / m).round(),
                    "runs_pairs_per_s": all,
                    "warm_up_pairs_per_s": (pairs as f64 / cold).round(),
                    "peak_mib": peak,
                    "cpu_seconds": median(cpus),
                    "load_average": load_average(),
                });
            }
        }
        report
    });
    if kept.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}
