//! `plumbline eval`: a reward model's or an LLM judge's choices scored against the
//! experts' decided labels on the evaluation split (`plumbline_formats::eval`).

use anyhow::Context;
use clap::Args;
use plumbline_formats::eval::{
    Accuracy, BiasPair, EvalReport, LabelOptions, evaluate, read_predictions,
};
use plumbline_store::Store;
use std::fmt::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Project name.
    #[arg(long)]
    project: String,
    /// JSONL, one item a line: `item_id` and either `chosen` (a candidate id or `tie`) or
    /// `scores` (a number per candidate); optionally `order` (as the judge saw them).
    #[arg(long, value_name = "FILE")]
    predictions: PathBuf,
    /// Imported prior judgments vote on the labels, as in exports.
    #[arg(long)]
    include_external: bool,
    /// Least posterior of a label decided by the decision method (default: the project's
    /// decision_threshold).
    #[arg(long, value_name = "P")]
    threshold: Option<f64>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub async fn run<S: Store>(store: &S, args: EvalArgs) -> anyhow::Result<ExitCode> {
    let project = store.project_by_name(&args.project).await?;
    let file = std::fs::File::open(&args.predictions)
        .with_context(|| format!("cannot open {}", args.predictions.display()))?;
    let name = args.predictions.display().to_string();
    let predictions = read_predictions(std::io::BufReader::with_capacity(1 << 20, file))
        .with_context(|| name.clone())?;
    let labels = LabelOptions {
        include_external: args.include_external,
        threshold: args.threshold,
    };
    let report = evaluate(store, &project, predictions, labels)
        .await
        .with_context(|| name.clone())?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report));
    }
    Ok(ExitCode::SUCCESS)
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "–".to_owned(), |x| format!("{:.1}%", x * 100.0))
}

fn accuracy_line(name: &str, a: &Accuracy, width: usize) -> String {
    format!(
        "{name:<width$}  {:>7} {:>7}  {:>7}  [{}, {}]\n",
        a.correct,
        a.scored,
        pct(a.accuracy),
        pct(a.lower),
        pct(a.upper)
    )
}

fn bias_line(name: &str, b: &BiasPair) -> String {
    let one = |s: &plumbline_quality::bias::Share| {
        format!(
            "{} of {} ({}{}{})",
            s.hits,
            s.n,
            pct(s.share.value()),
            s.p_value.map_or(String::new(), |p| format!(", p = {p:.3}")),
            if s.flagged { ", flagged" } else { "" }
        )
    };
    format!(
        "  {name}: judge {}; experts' labels {}\n",
        one(&b.judge),
        one(&b.labels)
    )
}

/// The report as text.
pub fn render(r: &EvalReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} predictions: {} scored against the eval split's decided labels (threshold {}); \
         not scored: {} not in the eval split, {} not a preference item, {} without a decided label; \
         {} judge ties (counted wrong)",
        r.predictions, r.scored, r.threshold, r.not_eval, r.not_pairwise, r.no_label, r.judge_ties
    );
    let width = r
        .by_tag
        .keys()
        .chain(r.by_criterion.keys())
        .map(|k| k.chars().count() + 2)
        .max()
        .unwrap_or(7)
        .max(9);
    let _ = writeln!(
        s,
        "\n{:<width$}  {:>7} {:>7}  {:>7}  95% Wilson",
        "", "right", "scored", "accuracy"
    );
    s.push_str(&accuracy_line("overall", &r.overall, width));
    for (tag, a) in &r.by_tag {
        s.push_str(&accuracy_line(&format!("  {tag}"), a, width));
    }
    if !r.by_criterion.is_empty() {
        let _ = writeln!(s, "against each criterion's winner:");
        for (c, a) in &r.by_criterion {
            s.push_str(&accuracy_line(&format!("  {c}"), a, width));
        }
    }
    let _ = writeln!(
        s,
        "\nbias (decisive picks; exact binomial test against 50%):"
    );
    s.push_str(&bias_line("first shown", &r.position));
    s.push_str(&bias_line("longer (by more than 30 characters)", &r.length));
    s
}
