//! `plumbline bench io`: generates synthetic native items and times import and export
//! on each backend, printing JSON figures (medians over fresh databases).

use super::items::{export_items, import_file};
use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};
use plumbline_domain::{ProjectName, ProjectSettings, Rubric};
use plumbline_store::{AnyStore, ImportOptions, NewProject, Store};
use serde_json::{Value, json};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Login latency and audit-chain verification throughput.
    Auth(super::bench_auth::AuthArgs),
    /// The annotation engine under load: concurrent annotators doing next+submit
    /// cycles over HTTP against `plumbline serve` processes.
    Serve(super::bench_serve::ServeArgs),
    /// The evaluation split of a large SQLite project, end to end.
    Split(super::bench_split::SplitBenchArgs),
    /// `plumbline eval` over many predictions, end to end.
    Eval(super::bench_eval::EvalBenchArgs),
    /// Import of calls with their audio, and range requests for it over HTTP.
    Media(super::bench_media::MediaBenchArgs),
    /// Import and export throughput of the native format.
    Io {
        /// Items in the generated file.
        #[arg(long, default_value_t = 100_000)]
        items: u64,
        /// Which backends to measure.
        #[arg(long, value_enum, default_value = "both")]
        backend: Backend,
        /// Fresh-database runs per backend; the median is reported.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// PostgreSQL server to create scratch databases on.
        #[arg(
            long,
            env = "PLUMBLINE_TEST_POSTGRES_URL",
            default_value = "postgres://postgres@127.0.0.1:5432/postgres"
        )]
        postgres: String,
        /// Scratch directory for the generated file and SQLite databases.
        #[arg(long, default_value = "bench-out")]
        dir: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    Sqlite,
    Postgres,
    Both,
}

const RUBRIC: &str = r#"
name = "Benchmark"
[[criteria]]
key = "compliance"
title = "Compliance"
priority = 1
hard = true
[[criteria]]
key = "helpfulness"
title = "Helpfulness"
priority = 2
[[edge_cases]]
key = "bereavement"
"#;

pub async fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    let cmd = match cmd {
        BenchCommand::Auth(args) => return super::bench_auth::run(args).await,
        BenchCommand::Serve(args) => return super::bench_serve::run(args).await,
        BenchCommand::Split(args) => return super::bench_split::run(args).await,
        BenchCommand::Eval(args) => return super::bench_eval::run(args).await,
        BenchCommand::Media(args) => return super::bench_media::run(args).await,
        io => io,
    };
    let BenchCommand::Io {
        items,
        backend,
        runs,
        postgres,
        dir,
    } = cmd
    else {
        unreachable!("bench auth, serve, split, eval and media returned above")
    };
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let file = dir.join(format!("items-{items}.jsonl"));
    let started = Instant::now();
    let bytes = generate(&file, items, Shape::SHORT_CALL)?;
    eprintln!(
        "generated {items} items ({:.1} MB, {:.0} bytes a line) in {:.1}s",
        bytes as f64 / 1e6,
        bytes as f64 / items as f64,
        started.elapsed().as_secs_f64()
    );
    let mut results = Vec::new();
    if matches!(backend, Backend::Sqlite | Backend::Both) {
        let mut import = Vec::new();
        let mut export = Vec::new();
        for run in 0..runs {
            let db = dir.join(format!("bench-{run}.db"));
            remove_sqlite(&db);
            let url = format!("sqlite://{}", db.display());
            let (i, e) = measure(&url, &file, items, &dir).await?;
            eprintln!(
                "sqlite run {}: import {i:.0} items/s, export {e:.0} items/s",
                run + 1
            );
            import.push(i);
            export.push(e);
            remove_sqlite(&db);
        }
        results.push(summary("sqlite", &import, &export));
    }
    if matches!(backend, Backend::Postgres | Backend::Both) {
        let mut import = Vec::new();
        let mut export = Vec::new();
        for run in 0..runs {
            let (admin, url, name) = scratch_postgres(&postgres, run).await?;
            let (i, e) = measure(&url, &file, items, &dir).await?;
            eprintln!(
                "postgres run {}: import {i:.0} items/s, export {e:.0} items/s",
                run + 1
            );
            import.push(i);
            export.push(e);
            admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await?;
        }
        results.push(summary("postgres", &import, &export));
    }
    let out = json!({
        "items": items,
        "file_bytes": bytes,
        "runs": runs,
        "results": results,
        "peak_rss_mb": peak_rss_mb(),
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

async fn measure(url: &str, file: &Path, items: u64, dir: &Path) -> anyhow::Result<(f64, f64)> {
    let store = super::open(url, dir).await?;
    match store {
        AnyStore::Sqlite(s) => measure_on(s, file, items, dir).await,
        AnyStore::Postgres(s) => measure_on(s, file, items, dir).await,
    }
}

async fn measure_on<S: Store>(
    store: S,
    file: &Path,
    items: u64,
    dir: &Path,
) -> anyhow::Result<(f64, f64)> {
    bench_project(&store, RUBRIC).await?;
    let t = Instant::now();
    let report = import_file(
        &store,
        "bench",
        file,
        ImportOptions::default(),
        1 << 24,
        false,
    )
    .await?;
    let import_secs = t.elapsed().as_secs_f64();
    if !report.stored || report.imported != items {
        bail!("benchmark import failed: {:?}", report.errors.first());
    }
    let out = dir.join("export.jsonl");
    let t = Instant::now();
    let exported = export_items(&store, "bench", &out).await?;
    let export_secs = t.elapsed().as_secs_f64();
    if exported != items {
        bail!("benchmark export wrote {exported} items, expected {items}");
    }
    let _ = std::fs::remove_file(&out);
    Ok((items as f64 / import_secs, items as f64 / export_secs))
}

fn summary(backend: &str, import: &[f64], export: &[f64]) -> serde_json::Value {
    json!({
        "backend": backend,
        "import_items_per_s_median": median(import).round(),
        "export_items_per_s_median": median(export).round(),
        "import_items_per_s_runs": import.iter().map(|v| v.round()).collect::<Vec<_>>(),
        "export_items_per_s_runs": export.iter().map(|v| v.round()).collect::<Vec<_>>(),
    })
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Creates the project `bench` with default settings and `rubric` (TOML).
pub(super) async fn bench_project<S: Store>(store: &S, rubric: &str) -> anyhow::Result<()> {
    store
        .create_project(
            None,
            NewProject {
                name: ProjectName::parse("bench").map_err(anyhow::Error::msg)?,
                settings: ProjectSettings::default(),
                rubric: Rubric::from_toml(rubric)?,
            },
        )
        .await?;
    Ok(())
}

/// Removes a scratch SQLite database and its `-wal` and `-shm` files.
pub(super) fn remove_sqlite(db: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}

async fn scratch_postgres(
    admin_url: &str,
    run: usize,
) -> anyhow::Result<(tokio_postgres::Client, String, String)> {
    let (admin, conn) = tokio_postgres::connect(admin_url, tokio_postgres::NoTls)
        .await
        .with_context(|| {
            format!(
                "cannot connect to {}",
                plumbline_store::redact_url(admin_url)
            )
        })?;
    tokio::spawn(conn);
    let name = format!("plumbline_bench_{}_{run}", std::process::id());
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await?;
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await?;
    let url = replace_database(admin_url, &name);
    Ok((admin, url, name))
}

/// `admin_url` with its database name replaced by `name`.
pub fn replace_database(admin_url: &str, name: &str) -> String {
    let (base, query) = admin_url
        .split_once('?')
        .map_or((admin_url, None), |(b, q)| (b, Some(q)));
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let base = match base[after_scheme..].find('/') {
        Some(slash) => &base[..after_scheme + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Writes `n` synthetic items of about 1.5 KB: a 4-turn call transcript and two
/// candidates. Returns the file size.
/// The sizes of a generated call: transcript turns (customer and agent alternating,
/// each `turn_chars` long) and the two candidate replies.
#[derive(Debug, Clone, Copy)]
pub(super) struct Shape {
    pub turns: usize,
    pub turn_chars: usize,
    pub candidate_chars: usize,
}

impl Shape {
    /// A short call: four turns, about 1.6 KB a line (the import and export benches).
    pub const SHORT_CALL: Shape = Shape {
        turns: 4,
        turn_chars: 140,
        candidate_chars: 240,
    };
    /// A call as contact centres send them: a 2.3 KB transcript of ten turns and two
    /// full replies, about 3.3 KB a line (the engine under load).
    pub const CALL: Shape = Shape {
        turns: 10,
        turn_chars: 230,
        candidate_chars: 420,
    };
}

/// Writes `n` synthetic call items of `shape` to `path` (kept if already there, so
/// repeated runs share the file; the name should carry the count and shape).
pub(super) fn generate(path: &Path, n: u64, shape: Shape) -> anyhow::Result<u64> {
    if let Ok(meta) = std::fs::metadata(path) {
        return Ok(meta.len());
    }
    let tmp = path.with_extension("partial");
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
    const WORDS: &[&str] = &[
        "account",
        "payment",
        "card",
        "verify",
        "identity",
        "branch",
        "transfer",
        "fraud",
        "limit",
        "statement",
        "overdraft",
        "interest",
        "mortgage",
        "balance",
        "refund",
        "dispute",
        "policy",
        "escalate",
        "customer",
        "please",
        "thank",
        "you",
        "the",
        "a",
        "to",
        "and",
        "of",
        "for",
        "my",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut text = |len: usize| {
        let mut s = String::with_capacity(len + 16);
        while s.len() < len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(WORDS[(state % WORDS.len() as u64) as usize]);
        }
        s
    };
    for i in 0..n {
        let mut at = 0.5f64;
        let context: Vec<Value> = (0..shape.turns)
            .map(|t| {
                let (role, speaker) = if t % 2 == 0 {
                    ("user", "customer")
                } else {
                    ("assistant", "agent")
                };
                let start = at;
                at += 6.0 + (t % 3) as f64;
                let mut turn = json!({"role": role, "speaker": speaker, "content": text(shape.turn_chars),
                    "start": start, "end": at});
                if role == "user" {
                    turn["asr_confidence"] = json!(0.83 + (t % 5) as f64 / 50.0);
                }
                turn
            })
            .collect();
        let item = json!({
            "id": format!("bench-{i:08}"),
            "context": context,
            "candidates": [
                {"id": "a", "model": "assist-v3", "content": text(shape.candidate_chars)},
                {"id": "b", "model": "assist-v4", "content": text(shape.candidate_chars)}
            ],
            "tags": ["channel:voice", if i % 10 == 0 { "edge:bereavement" } else { "lang:en" }],
            "metadata": {"call_id": format!("C-{i}"), "queue": "retail"}
        });
        serde_json::to_writer(&mut w, &item)?;
        w.write_all(b"\n")?;
    }
    w.flush()?;
    drop(w);
    std::fs::rename(&tmp, path)?;
    Ok(std::fs::metadata(path)?.len())
}

/// Peak resident memory of this process in MB (Linux), if known.
pub(super) fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some((kb / 1024.0).round())
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            replace_database("postgres://u@h:5432/postgres", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(replace_database("postgres://u@h", "x"), "postgres://u@h/x");
        assert_eq!(
            replace_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/db".replace("db", "x") + "?sslmode=disable"
        );
    }
}
