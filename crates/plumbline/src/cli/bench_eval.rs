//! `plumbline bench eval`: `plumbline eval` over a project of preference items whose
//! labels are imported HH-RLHF choices, all in the eval split, with one prediction per
//! item (read, checked, labelled, scored).

use super::items::import_file_as;
use anyhow::{Context, bail};
use clap::Args;
use plumbline_domain::Item;
use plumbline_formats::Format;
use plumbline_formats::eval::{LabelOptions, evaluate, read_predictions};
use plumbline_formats::import_driver::ImportRequest;
use plumbline_formats::split_driver::{self, SplitRequest};
use plumbline_store::{ExportStore, ImportOptions, SplitRow, SqliteStore, Store};
use serde_json::json;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct EvalBenchArgs {
    /// Items, and predictions.
    #[arg(long, default_value_t = 100_000)]
    items: u64,
    /// Runs; the median is reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Scratch directory.
    #[arg(long, default_value = "bench-out")]
    dir: PathBuf,
}

pub async fn run(args: EvalBenchArgs) -> anyhow::Result<()> {
    if args.runs == 0 {
        bail!("--runs must be at least 1");
    }
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot create {}", args.dir.display()))?;
    let file = args.dir.join(format!("eval-hh-{}.jsonl", args.items));
    {
        let mut w = BufWriter::new(std::fs::File::create(&file)?);
        for i in 0..args.items {
            let prompt = format!(
                "\n\nHuman: question {i} about my account, card {} and a refund?",
                i % 97
            );
            let long = "I can help: first verify your identity, then open the dispute form.";
            serde_json::to_writer(
                &mut w,
                &json!({"chosen": format!("{prompt}\n\nAssistant: {long} Ref {i}."),
                        "rejected": format!("{prompt}\n\nAssistant: No. Ref {i}.")}),
            )?;
            w.write_all(b"\n")?;
        }
        w.flush()?;
    }
    let db = args.dir.join("eval-bench.db");
    super::bench::remove_sqlite(&db);
    let store = SqliteStore::open(&db).await?;
    super::bench::bench_project(
        &store,
        "name = \"B\"\n[[criteria]]\nkey = \"helpfulness\"\ntitle = \"H\"\npriority = 1\n",
    )
    .await?;
    let request = ImportRequest {
        format: Some(Format::HhRlhf),
        ..ImportRequest::native(ImportOptions::default())
    };
    let report = import_file_as(&store, "bench", &file, &request, false).await?;
    if !report.stored || report.imported != args.items {
        bail!("benchmark import failed: {:?}", report.errors.first());
    }
    let project = store.project_by_name("bench").await?;
    split_driver::run(
        &store,
        None,
        &project,
        SplitRequest {
            eval_fraction: 1.0,
            seed: Some("1".into()),
            ..SplitRequest::default()
        },
    )
    .await?;
    // One prediction an item: the first candidate for two in three, else the second.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<SplitRow>>(4);
    let preds_file = args
        .dir
        .join(format!("eval-predictions-{}.jsonl", args.items));
    let out = preds_file.clone();
    let writer = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut w = BufWriter::new(std::fs::File::create(&out)?);
        let mut k = 0u64;
        while let Some(batch) = rx.blocking_recv() {
            for row in batch {
                let item: Item = serde_json::from_str(&row.body)?;
                let c = &item.candidates[usize::from(k % 3 == 2)].id;
                serde_json::to_writer(&mut w, &json!({"item_id": row.ext_id, "chosen": c}))?;
                w.write_all(b"\n")?;
                k += 1;
            }
        }
        w.flush()?;
        Ok(())
    });
    store.split_rows(project.id, tx).await?;
    writer.await??;
    let mut secs = Vec::new();
    let mut last = None;
    for run in 0..args.runs {
        let t = Instant::now();
        let f = std::fs::File::open(&preds_file)?;
        let preds = read_predictions(std::io::BufReader::with_capacity(1 << 20, f))?;
        let report = evaluate(
            &store,
            &project,
            preds,
            LabelOptions {
                include_external: true,
                threshold: None,
            },
        )
        .await?;
        let s = t.elapsed().as_secs_f64();
        eprintln!(
            "eval run {}: {s:.2}s, {} scored, accuracy {:?}",
            run + 1,
            report.scored,
            report.overall.accuracy
        );
        secs.push(s);
        last = Some(report);
    }
    drop(store);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let r = last.expect("a run");
    if r.scored != args.items {
        bail!("scored {} of {} predictions", r.scored, args.items);
    }
    let mut sorted = secs.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "predictions": args.items,
            "runs": args.runs,
            "eval_seconds_median": sorted[sorted.len() / 2],
            "eval_seconds_runs": secs,
            "accuracy": r.overall.accuracy,
            "peak_rss_mb": super::bench::peak_rss_mb(),
        }))?
    );
    Ok(())
}
