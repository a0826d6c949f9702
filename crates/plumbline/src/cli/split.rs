//! `plumbline split`: the evaluation split of a project's items (deterministic,
//! stratified, near duplicates on one side), stored per item, with a report.

use clap::Args;
use plumbline_domain::Split;
use plumbline_formats::split::{DEFAULT_EVAL_FRACTION, DEFAULT_THRESHOLD, SplitReport};
use plumbline_formats::split_driver::{self, SplitOutcome, SplitRequest};
use plumbline_store::Store;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct SplitArgs {
    /// Project name.
    #[arg(long)]
    project: String,
    /// Share of items held out for evaluation.
    #[arg(long, default_value_t = DEFAULT_EVAL_FRACTION)]
    eval_fraction: f64,
    /// Exact Jaccard similarity of word 3-shingles at which two prompts are near
    /// duplicates and kept on one side.
    #[arg(long, default_value_t = DEFAULT_THRESHOLD)]
    threshold: f64,
    /// Draw with this seed (a whole number): the split is then a function of the items
    /// and the seed alone, the same in any database. Default: the project's own secret
    /// seed.
    #[arg(long, value_name = "N")]
    seed: Option<String>,
    /// Production traffic's shares by edge-case tag, `other` for the rest, summing to 1
    /// (`edge:bereavement=0.05,edge:fraud=0.02,other=0.93`): the eval split is drawn to
    /// them instead of the pool's shares. An item carrying several named tags counts for
    /// the first named.
    #[arg(long, value_name = "TAG=SHARE,…", conflicts_with = "production_tags")]
    production_shares: Option<String>,
    /// A file of production items' tags, the shares computed from it: JSONL with a
    /// `tags` list per line (an items export works), or one item's tags per line
    /// separated by commas (`-` for none); gzip or zstd compressed too. An item with
    /// several edge-case tags counts for the first in name order.
    #[arg(long, value_name = "FILE")]
    production_tags: Option<std::path::PathBuf>,
    /// Flag strata with fewer eval items than this as too small to evaluate.
    #[arg(long, value_name = "N", default_value_t = plumbline_formats::split::DEFAULT_MIN_EVAL_ITEMS)]
    min_eval_items: u64,
    /// Recompute items split before (items whose own JSON fixes a split keep it).
    #[arg(long)]
    reassign: bool,
    /// Report what would change without storing it.
    #[arg(long)]
    dry_run: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// Plans the split through the driver and stores what changed.
pub async fn run<S: Store>(store: &S, args: SplitArgs) -> anyhow::Result<ExitCode> {
    let project = store.project_by_name(&args.project).await?;
    let production = match (&args.production_shares, &args.production_tags) {
        (Some(spec), _) => Some(
            split_driver::parse_shares(spec)
                .map_err(|e| anyhow::anyhow!("--production-shares: {e}"))?,
        ),
        (None, Some(path)) => Some(shares_from_file(path)?),
        (None, None) => None,
    };
    let req = SplitRequest {
        eval_fraction: args.eval_fraction,
        threshold: args.threshold,
        reassign: args.reassign,
        dry_run: args.dry_run,
        seed: args.seed.clone(),
        production,
        min_eval_items: args.min_eval_items,
    };
    let outcome = split_driver::run(store, None, &project, req)
        .await
        .map_err(|e| match e {
            split_driver::SplitError::Invalid(m) if m.starts_with("seed ") => {
                anyhow::anyhow!("--{m}")
            }
            e => anyhow::Error::new(e),
        })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outcome)?);
    } else {
        print!("{}", render_outcome(&outcome));
    }
    Ok(ExitCode::SUCCESS)
}

/// Production shares from a file of production items' tags.
fn shares_from_file(path: &std::path::Path) -> anyhow::Result<Vec<(String, f64)>> {
    let named = |e: String| anyhow::anyhow!("--production-tags {}: {e}", path.display());
    let file = std::fs::File::open(path).map_err(|e| named(e.to_string()))?;
    let (input, _) = plumbline_formats::compressed::open(Box::new(std::io::BufReader::new(file)))
        .map_err(|e| named(e.to_string()))?;
    let items = split_driver::production_tags_from_lines(input).map_err(named)?;
    split_driver::shares_from_tag_lists(items).map_err(named)
}

/// The report, then how it was seeded and how to reproduce it.
pub fn render_outcome(o: &SplitOutcome) -> String {
    let mut s = render(&o.report, !o.stored);
    s.push_str(&format!("\nreproduce: {}\n", o.reproduce));
    s
}

/// The report as text: both distributions side by side, then what was moved.
pub fn render(r: &SplitReport, dry_run: bool) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} items: train {}, eval {} (asked {:.1} %); {} pinned, {} {}",
        r.items,
        r.train,
        r.eval,
        r.eval_fraction * 100.0,
        r.pinned,
        r.changed,
        if dry_run {
            "would change (dry run)"
        } else {
            "changed"
        }
    );
    let width = r
        .strata
        .iter()
        .map(|x| x.stratum.chars().count())
        .max()
        .unwrap_or(7)
        .max(7);
    let _ = writeln!(
        s,
        "\n{:<width$}  {:>7} {:>7}  {:>7} {:>7} {:>7}",
        "stratum", "items", "% all", "train", "eval", "% eval"
    );
    for x in &r.strata {
        let _ = writeln!(
            s,
            "{:<width$}  {:>7} {:>6.1}%  {:>7} {:>7} {:>6.1}%",
            x.stratum,
            x.items,
            x.share_all * 100.0,
            x.train,
            x.eval,
            x.share_eval * 100.0
        );
    }
    let _ = writeln!(
        s,
        "\nnear duplicates (Jaccard of word 3-shingles ≥ {}): {} clusters, {} items; {} moved to their cluster's side",
        r.threshold,
        r.duplicate_clusters,
        r.duplicate_items,
        r.moved.len()
    );
    if r.displaced > 0 {
        let _ = writeln!(
            s,
            "  {} items without duplicates changed side to keep the strata's shares",
            r.displaced
        );
    }
    const SHOWN: usize = 20;
    for m in r.moved.iter().take(SHOWN) {
        let _ = writeln!(
            s,
            "  moved {} {} -> {} (near duplicate of {}, similarity {:.2})",
            m.id,
            side(m.from),
            side(m.to),
            m.duplicate_of,
            m.similarity
        );
    }
    if r.moved.len() > SHOWN {
        let _ = writeln!(
            s,
            "  … and {} more (--json lists all)",
            r.moved.len() - SHOWN
        );
    }
    if !r.production.is_empty() {
        let _ = writeln!(
            s,
            "\n{:<width$}  {:>7} {:>7}  {:>7} {:>7} {:>7} {:>12}",
            "production class", "items", "eval", "% pool", "% train", "% eval", "% production"
        );
        for c in &r.production {
            let _ = writeln!(
                s,
                "{:<width$}  {:>7} {:>7}  {:>6.1}% {:>6.1}% {:>6.1}% {:>11.1}%",
                c.class,
                c.items,
                c.eval,
                c.share_pool * 100.0,
                c.share_train * 100.0,
                c.share_eval * 100.0,
                c.share_production * 100.0
            );
        }
    }
    for small in &r.small_strata {
        let _ = writeln!(
            s,
            "  too small to evaluate: {small} has fewer than {} eval items",
            r.min_eval_items
        );
    }
    for c in &r.conflicts {
        let _ = writeln!(
            s,
            "  conflict: near duplicates pinned on both sides, left as they are: {}",
            c.join(", ")
        );
    }
    s
}

fn side(s: Split) -> &'static str {
    match s {
        Split::Train => "train",
        Split::Eval => "eval",
    }
}
