//! `plumbline simulate`: a described pool of simulated annotators judges generated
//! preference items through the real engine (the [`Store`](plumbline_store::Store)
//! methods the server calls, in-process, on a scratch SQLite database), against a known
//! truth; then every decision method's export is scored: accuracy, coverage, the share
//! of decisions for the longer answer, with the experts' share of the work and the
//! quality table's flags per group. The team's regression test for expert judgment,
//! and a planning tool for leads (how many experts, what overlap and gold rate?).
//!
//! - [`pool`]: the pool file, its defaults and checks, and the answer model;
//! - [`run`]: the project, items, gold and users, then the turns;
//! - [`measure`]: the exports, the experts-only vote, the quality table, the targets;
//! - [`text`]: the readable report.
//!
//! The simulated annotators' draws are seeded (`--seed`); the engine's own randomness
//! (display order, the project's gold secret) is not, so figures move a little between
//! runs of the same seed.

mod measure;
mod pool;
mod run;
mod text;

use anyhow::{Context, bail};
use clap::Args;
use plumbline_store::SqliteStore;
use pool::{Overrides, Pool};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Pool file (TOML): items, overlap, gold, settings and [[group]]s of annotators
    /// (see --print-pool), or a built-in pool by name: `issue` (the default: issue 15's
    /// crowd, right half the time, which probation stops) or `biased-crowd` (a crowd right
    /// often enough to keep, sharing a bias for the longer answer).
    #[arg(long, value_name = "FILE|NAME")]
    pool: Option<PathBuf>,
    /// Print the pool file (the built-in one `--pool` names, else the default; a starting
    /// point for your own) and exit.
    #[arg(long)]
    print_pool: bool,
    /// Preference items to judge.
    #[arg(long)]
    items: Option<u32>,
    /// Gold items (known answers), served as hidden gold.
    #[arg(long)]
    gold_items: Option<u32>,
    /// Judgments wanted per item, 1 to 100.
    #[arg(long)]
    overlap: Option<u32>,
    /// Share of served work that is hidden gold, at least 0 and below 1.
    #[arg(long, allow_negative_numbers = true)]
    gold_rate: Option<f64>,
    /// Seed of the items and of the annotators' answers.
    #[arg(long)]
    seed: Option<u64>,
    /// Expert judgments each item should get (default: 1 when the pool has experts).
    #[arg(long)]
    min_experts: Option<u32>,
    /// Most judgments an item may get with escalation (default: overlap + 2).
    #[arg(long)]
    max_overlap: Option<u32>,
    /// Least posterior of an item's decided label, above 0.5 and at most 1 (default 0.9).
    #[arg(long, allow_negative_numbers = true)]
    decision_threshold: Option<f64>,
    /// Hidden-gold accuracy under which an annotator goes on probation (default 0.7; 0: off).
    #[arg(long, allow_negative_numbers = true)]
    min_gold_accuracy: Option<f64>,
    /// Keep the database and the exports in this directory (created; must not hold a
    /// database). Default: a temporary directory, removed afterwards. The global --db
    /// is not used: a simulation never touches a real database.
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Exit with status 1 when a target of the issue is not met (else 0 regardless).
    #[arg(long)]
    check: bool,
}

impl SimulateArgs {
    fn overrides(&self) -> Overrides {
        Overrides {
            items: self.items,
            gold_items: self.gold_items,
            seed: self.seed,
            overlap: self.overlap,
            gold_rate: self.gold_rate,
            min_experts: self.min_experts,
            max_overlap: self.max_overlap,
            decision_threshold: self.decision_threshold,
            min_gold_accuracy: self.min_gold_accuracy,
        }
    }
}

/// Reads the pool: the file's, else the built-in one, with the flags over it.
fn load_pool(args: &SimulateArgs) -> anyhow::Result<Pool> {
    match &args.pool {
        None => Pool::default_with(&args.overrides()),
        Some(name) if built_in_name(name).is_some() => {
            let (name, text) = built_in_name(name).expect("checked");
            Pool::parse(
                text,
                &format!("the built-in pool `{name}`"),
                &args.overrides(),
            )
        }
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the pool file {}", path.display()))?;
            Pool::parse(&text, &path.display().to_string(), &args.overrides())
        }
    }
}

/// The built-in pool a `--pool` value names: a bare name that is not an existing file.
fn built_in_name(value: &std::path::Path) -> Option<(&str, &'static str)> {
    let name = value.to_str()?;
    if value.exists() {
        return None;
    }
    pool::built_in(name).map(|text| (name, text))
}

/// Removes the scratch directory when the simulation ends, however it ends.
struct Scratch(Option<PathBuf>);

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(dir) = &self.0 {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

pub async fn run(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    if args.print_pool {
        let text = match args.pool.as_deref().and_then(built_in_name) {
            Some((_, text)) => text,
            None => pool::DEFAULT_POOL,
        };
        print!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    let pool = load_pool(&args)?;
    let (dir, _scratch) = match &args.keep {
        Some(dir) => (dir.clone(), Scratch(None)),
        None => {
            let dir = std::env::temp_dir().join(format!(
                "plumbline-simulate-{}-{}",
                std::process::id(),
                plumbline_store::random_hex(4)?
            ));
            (dir.clone(), Scratch(Some(dir)))
        }
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let db = dir.join("plumbline.db");
    if db.exists() {
        bail!(
            "{} holds a database already; --keep needs a directory without one",
            dir.display()
        );
    }
    let store = SqliteStore::open(&db)
        .await
        .with_context(|| format!("opening the scratch database {}", db.display()))?;
    eprintln!(
        "simulate: {} items (+{} gold), {} annotators, overlap {}, seed {}",
        pool.items,
        pool.gold_items,
        pool.annotators(),
        pool.settings.overlap,
        pool.seed
    );
    let mut world = run::setup(&store, &pool).await?;
    let turns = run::take_turns(&store, &pool, &mut world, true).await?;
    eprintln!(
        "simulate: {} judgments in {:.1} s; measuring",
        turns.judgments, turns.seconds
    );
    let mut report = measure::measure(&store, &pool, &world, turns, &dir).await?;
    if args.keep.is_some() {
        report.kept = Some(dir.display().to_string());
    }
    drop(store);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", text::render(&report));
    }
    if args.check && !report.all_pass() {
        eprintln!("simulate: a target is not met (--check)");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
