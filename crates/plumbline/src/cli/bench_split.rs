//! `plumbline bench split`: the evaluation split of a large SQLite project, end to end
//! (read, near duplicates, plan, store), with one item in fifty a near duplicate of an
//! earlier one (one word of its prompt changed).

use super::items::import_file;
use anyhow::{Context, bail};
use clap::Args;
use plumbline_formats::split_driver::{self, SplitRequest};
use plumbline_store::{ImportOptions, SqliteStore, Store};
use serde_json::json;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, Args)]
pub struct SplitBenchArgs {
    /// Items in the generated project.
    #[arg(long, default_value_t = 1_000_000)]
    items: u64,
    /// Split runs (each with its own seed, reassigning every item); the median is reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Scratch directory for the generated file and the SQLite database.
    #[arg(long, default_value = "bench-out")]
    dir: PathBuf,
}

const RUBRIC: &str = r#"
name = "Benchmark"
[[criteria]]
key = "compliance"
title = "Compliance"
priority = 1
[[edge_cases]]
key = "bereavement"
[[edge_cases]]
key = "fraud"
"#;

pub async fn run(args: SplitBenchArgs) -> anyhow::Result<()> {
    if args.runs == 0 {
        bail!("--runs must be at least 1");
    }
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot create {}", args.dir.display()))?;
    let file = args
        .dir
        .join(format!("split-items-v2-{}.jsonl", args.items));
    generate(&file, args.items)?;
    let db = args.dir.join("split-bench.db");
    super::bench::remove_sqlite(&db);
    let store = SqliteStore::open(&db).await?;
    super::bench::bench_project(&store, RUBRIC).await?;
    let t = Instant::now();
    let report = import_file(
        &store,
        "bench",
        &file,
        ImportOptions::default(),
        1 << 24,
        false,
    )
    .await?;
    if !report.stored || report.imported != args.items {
        bail!("benchmark import failed: {:?}", report.errors.first());
    }
    eprintln!(
        "imported {} items in {:.1}s",
        args.items,
        t.elapsed().as_secs_f64()
    );
    let project = store.project_by_name("bench").await?;
    let mut secs = Vec::new();
    let mut last = None;
    for run in 0..args.runs {
        let t = Instant::now();
        let outcome = split_driver::run(
            &store,
            None,
            &project,
            SplitRequest {
                reassign: true,
                seed: Some((run + 1).to_string()),
                ..SplitRequest::default()
            },
        )
        .await?;
        let s = t.elapsed().as_secs_f64();
        eprintln!(
            "split run {}: {s:.2}s, eval {}, {} changed, {} near-duplicate clusters of {} items",
            run + 1,
            outcome.report.eval,
            outcome.report.changed,
            outcome.report.duplicate_clusters,
            outcome.report.duplicate_items
        );
        secs.push(s);
        last = Some(outcome.report);
    }
    drop(store);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let r = last.expect("at least one run");
    let mut sorted = secs.clone();
    sorted.sort_by(f64::total_cmp);
    let out = json!({
        "items": args.items,
        "runs": args.runs,
        "split_seconds_median": sorted[sorted.len() / 2],
        "split_seconds_runs": secs,
        "eval": r.eval,
        "duplicate_clusters": r.duplicate_clusters,
        "duplicate_items": r.duplicate_items,
        "peak_rss_mb": super::bench::peak_rss_mb(),
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// Writes `n` items: four-turn prompts of about 560 characters from a 400-word
/// vocabulary, a tenth tagged `edge:bereavement` and a twentieth `edge:fraud`; every
/// fiftieth repeats the prompt of the item 25 before it (never itself a copy) with one
/// word changed: Jaccard 91/97 (kept if the file exists).
fn generate(path: &Path, n: u64) -> anyhow::Result<()> {
    if path.exists() {
        return Ok(());
    }
    let tmp = path.with_extension("partial");
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut recent: std::collections::VecDeque<Vec<u16>> = std::collections::VecDeque::new();
    for i in 0..n {
        let words: Vec<u16> = if i % 50 == 49 && recent.len() >= 25 {
            let mut w = recent[recent.len() - 25].clone();
            let at = (next() % w.len() as u64) as usize;
            w[at] = (next() % 400) as u16;
            w
        } else {
            (0..96).map(|_| (next() % 400) as u16).collect()
        };
        let turns: Vec<serde_json::Value> = words
            .chunks(24)
            .enumerate()
            .map(|(t, chunk)| {
                let text: Vec<String> = chunk.iter().map(|w| format!("w{w}")).collect();
                json!({"role": if t % 2 == 0 { "user" } else { "assistant" }, "content": text.join(" ")})
            })
            .collect();
        let tag = if i % 20 == 0 {
            "edge:fraud"
        } else if i % 10 == 0 {
            "edge:bereavement"
        } else {
            "lang:en"
        };
        let item = json!({
            "id": format!("s-{i:08}"),
            "context": turns,
            "candidates": [{"id": "a", "content": "first"}, {"id": "b", "content": "second"}],
            "tags": [tag],
        });
        serde_json::to_writer(&mut w, &item)?;
        w.write_all(b"\n")?;
        recent.push_back(words);
        if recent.len() > 50 {
            recent.pop_front();
        }
    }
    w.flush()?;
    drop(w);
    std::fs::rename(&tmp, path)?;
    Ok(())
}
