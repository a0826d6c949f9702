//! `plumbline split`: the evaluation split of a project's items (deterministic,
//! stratified, near duplicates on one side), stored per item, with a report.

use anyhow::{Context, bail};
use clap::Args;
use plumbline_domain::{Item, Split};
use plumbline_formats::split::{
    DEFAULT_EVAL_FRACTION, DEFAULT_THRESHOLD, SplitConfig, SplitInput, SplitReport, plan,
};
use plumbline_store::{SplitRow, Store};
use std::process::ExitCode;
use tokio::sync::mpsc;

#[derive(Debug, Args)]
pub struct SplitArgs {
    /// Project name.
    #[arg(long)]
    project: String,
    /// Share of items held out for evaluation.
    #[arg(long, default_value_t = DEFAULT_EVAL_FRACTION)]
    eval_fraction: f64,
    /// Estimated Jaccard similarity (MinHash over word 3-shingles) at which two prompts
    /// are near duplicates and kept on one side.
    #[arg(long, default_value_t = DEFAULT_THRESHOLD)]
    threshold: f64,
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

/// Reads every item, plans the split and stores what changed.
pub async fn run<S: Store>(store: &S, args: SplitArgs) -> anyhow::Result<ExitCode> {
    let project = store.project_by_name(&args.project).await?;
    let cfg = SplitConfig {
        salt: project.split_salt.clone(),
        eval_fraction: args.eval_fraction,
        threshold: args.threshold,
        reassign: args.reassign,
    };
    plumbline_formats::split::check_config(&cfg).map_err(anyhow::Error::msg)?;
    let (tx, mut rx) = mpsc::channel::<Vec<SplitRow>>(4);
    // Each item is reduced to its id, stratum and signature as it streams by.
    let reduce = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<SplitInput>> {
        let mut out = Vec::new();
        while let Some(batch) = rx.blocking_recv() {
            for row in batch {
                let item: Item = serde_json::from_str(&row.body)
                    .with_context(|| format!("stored item `{}` does not parse", row.ext_id))?;
                out.push(SplitInput::from_item(&item, row.split));
            }
        }
        Ok(out)
    });
    let sent = store.split_rows(project.id, tx).await;
    let inputs = reduce.await.context("the split reader failed")??;
    sent.context("reading items")?;
    if inputs.is_empty() {
        bail!("project `{}` holds no items to split", project.name);
    }
    let plan = plan(&inputs, &cfg).map_err(anyhow::Error::msg)?;
    let changes: Vec<(String, Split)> = inputs
        .iter()
        .zip(&plan.sides)
        .filter(|(i, s)| i.current != Some(**s))
        .map(|(i, s)| (i.id.clone(), *s))
        .collect();
    let report = plan.report;
    if !args.dry_run && !changes.is_empty() {
        let summary = format!(
            "eval {} of {} (fraction {}, threshold {}), {} changed, {} moved as near duplicates",
            report.eval,
            report.items,
            report.eval_fraction,
            report.threshold,
            changes.len(),
            report.moved.len()
        );
        store
            .set_splits(None, project.id, changes, summary)
            .await
            .context("storing the split")?;
    }
    if args.json {
        let mut v = serde_json::to_value(&report)?;
        v["stored"] = serde_json::Value::Bool(!args.dry_run);
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print!("{}", render(&report, args.dry_run));
    }
    Ok(ExitCode::SUCCESS)
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
        "\nnear duplicates (estimated Jaccard ≥ {}): {} clusters, {} items; {} moved to their cluster's side",
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
