//! `plumbline report --project N [--json]`: a project's progress (items by state,
//! judgments, leases, per-annotator counts) and the quality of each annotator
//! (`plumbline_formats::quality`, the table the API and the dashboard show: reliability,
//! gold accuracy, position and length bias with the exact binomial test, inversions,
//! probation) with verified experts' share of the work.

use clap::Args;
use plumbline_formats::eval::{Board, LabelOptions, Leaderboard, leaderboard};
use plumbline_formats::quality::{AnnotatorQuality, QualityReport, annotator_quality};
use plumbline_quality::Estimate;
use plumbline_quality::bias::Share;
use plumbline_store::{Progress, Store};
use serde_json::json;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Project name.
    #[arg(long)]
    project: String,
    /// Imported prior judgments vote on the labels of the model leaderboard.
    #[arg(long)]
    include_external: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub async fn run<S: Store>(store: &S, args: ReportArgs) -> anyhow::Result<ExitCode> {
    let project = store.project_by_name(&args.project).await?;
    let progress = store.progress(project.id).await?;
    let quality = annotator_quality(store, &project).await?;
    let labels = LabelOptions {
        include_external: args.include_external,
        threshold: None,
    };
    let models = leaderboard(store, &project, labels).await?;
    if args.json {
        let out = json!({
            "project": project.name,
            "rubric_version": project.rubric_version.0,
            "overlap": project.settings.overlap,
            "progress": progress,
            "quality": quality,
            "models": models,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print!("{}", text(&project.name, &progress));
        print!("{}", quality_text(&quality));
        print!("{}", models_text(&models));
    }
    Ok(ExitCode::SUCCESS)
}

fn pct(e: &Estimate) -> String {
    e.value()
        .map_or("-".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

/// A bias share, its test's p and `*` when flagged.
fn bias(s: &Share) -> String {
    match (s.share.value(), s.p_value) {
        (Some(v), Some(p)) => format!(
            "{:.0}% p{}{}",
            v * 100.0,
            if p < 0.001 {
                "<0.001".to_owned()
            } else {
                format!("={p:.3}")
            },
            if s.flagged { " *" } else { "" }
        ),
        _ => "-".to_owned(),
    }
}

fn quality_row(a: &AnnotatorQuality) -> String {
    let r = &a.reliability;
    let g = &a.gold;
    let gold = match (g.accuracy.value(), g.lower, g.upper) {
        (Some(v), Some(lo), Some(hi)) => format!(
            "{}/{} {:.0}% [{:.0}-{:.0}%]",
            g.correct,
            g.total,
            v * 100.0,
            lo * 100.0,
            hi * 100.0
        ),
        _ => "-".to_owned(),
    };
    let h = &a.probation.hidden_gold;
    let probation = format!(
        "{} ({}/{} hidden gold{})",
        if a.probation.on_probation { "ON" } else { "no" },
        h.correct,
        h.total,
        if a.probation.reinstated_at.is_some() {
            " since reinstated"
        } else {
            ""
        }
    );
    format!(
        "{:<20} {:<12} {:>9} {:>4.2} [{:.2}-{:.2}] {:<22} {:<16} {:<16} {:>4} {}\n",
        a.name,
        a.expertise.as_str(),
        a.judgments,
        r.mean,
        r.lower,
        r.upper,
        gold,
        bias(&a.position),
        bias(&a.length),
        a.inversions,
        probation
    )
}

fn quality_text(q: &QualityReport) -> String {
    let x = &q.experts;
    let mut out = format!(
        "\nexperts: {} of {} items ({}) have a judgment by a verified expert; \
         {} of {} judgments ({}) are by experts\n",
        x.items_with_expert,
        x.items,
        pct(&x.item_share),
        x.expert_judgments,
        x.judgments,
        pct(&x.judgment_share)
    );
    if q.annotators.is_empty() {
        return out;
    }
    out.push_str(&format!(
        "\n{:<20} {:<12} {:>9} {:<16} {:<22} {:<16} {:<16} {:>4} {}\n",
        "annotator",
        "expertise",
        "judgments",
        "reliability",
        "gold (Wilson 95%)",
        "position (p)",
        "length (p)",
        "inv",
        "probation"
    ));
    for a in &q.annotators {
        out.push_str(&quality_row(a));
    }
    out.push_str(&format!(
        "\nreliability: posterior mean [{:.0}% credible interval], from the prior of the verified level, gold and adjudications\n\
         position: share of non-tie picks of the candidate shown first; length: of the longer one (lengths differing by more than {} characters)\n\
         * flagged: exact binomial test against 50% at p < {}\n\
         probation: hidden gold since the last reinstatement, Wilson upper bound below {} (`plumbline project reinstate` lifts it)\n",
        q.credible_level * 100.0,
        q.length_threshold,
        q.bias_flag_p,
        q.min_gold_accuracy
    ));
    out
}

fn text(name: &str, p: &Progress) -> String {
    let total = p.items.total();
    let done = if total == 0 {
        0.0
    } else {
        100.0 * p.items.resolved as f64 / total as f64
    };
    let mut out = format!(
        "project {name}\n\
         items        {total:>9} ({done:.1}% resolved)\n\
         \x20 open        {:>9}\n\
         \x20 adjudication{:>9}\n\
         \x20 resolved    {:>9}\n\
         gold items   {:>9}\n\
         judgments    {:>9}\n\
         live leases  {:>9}\n\
         inversions   {:>9}\n\
         adjudicated  {:>9}\n",
        p.items.open,
        p.items.adjudication,
        p.items.resolved,
        p.gold_items,
        p.judgments,
        p.leases,
        p.priority_inversions,
        p.adjudications,
    );
    if !p.annotators.is_empty() {
        out.push_str(&format!(
            "\n{:<24} {:>9} {:>7} {:>7} {:>7} {:>11} {:>10}\n",
            "annotator", "judgments", "leased", "skipped", "expired", "gold", "inversions"
        ));
        for a in &p.annotators {
            let gold = if a.gold_scored == 0 {
                "-".to_owned()
            } else {
                format!("{}/{}", a.gold_correct, a.gold_scored)
            };
            out.push_str(&format!(
                "{:<24} {:>9} {:>7} {:>7} {:>7} {:>11} {:>10}\n",
                a.name, a.judgments, a.leased, a.skipped, a.expired, gold, a.priority_inversions
            ));
        }
    }
    out
}

/// The models' leaderboards on the eval split.
fn models_text(l: &Leaderboard) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nmodels on the eval split (Bradley-Terry over {} decided pairs, threshold {}; {} without two models):",
        l.labels, l.threshold, l.without_two_models
    );
    let board = |out: &mut String, name: &str, b: &Board| {
        if let Some(why) = &b.undefined {
            let _ = writeln!(out, "  {name}: {} pairs; no strengths: {why}", b.pairs);
            return;
        }
        let ranked: Vec<String> = b
            .models
            .iter()
            .map(|m| {
                format!(
                    "{} {:+.2} [{:+.2}, {:+.2}]",
                    m.model, m.log_strength, m.lower, m.upper
                )
            })
            .collect();
        let _ = writeln!(out, "  {name} ({} pairs): {}", b.pairs, ranked.join("; "));
    };
    board(&mut out, "overall", &l.overall);
    for (tag, b) in &l.by_tag {
        board(&mut out, tag, b);
    }
    for (c, b) in &l.by_criterion {
        board(&mut out, &format!("criterion {c}"), b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use plumbline_domain::UserId;
    use plumbline_store::{AnnotatorProgress, ItemCounts};

    #[test]
    fn text_report_lists_states_and_annotators() {
        let p = Progress {
            items: ItemCounts {
                open: 2,
                adjudication: 1,
                resolved: 1,
            },
            gold_items: 3,
            judgments: 7,
            leases: 1,
            priority_inversions: 0,
            adjudications: 0,
            annotators: vec![AnnotatorProgress {
                user: UserId(1),
                name: "ann".into(),
                judgments: 7,
                leased: 1,
                skipped: 0,
                expired: 2,
                gold_correct: 3,
                gold_scored: 4,
                priority_inversions: 0,
            }],
        };
        let t = text("bank", &p);
        assert!(t.contains("items                4 (25.0% resolved)"), "{t}");
        assert!(t.contains("ann"));
        assert!(t.contains("3/4"));
    }
}
