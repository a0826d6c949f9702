//! `plumbline report --project N [--json]`: a project's progress (items by state,
//! judgments, leases, per-annotator counts). Quality figures are on the lead's dashboard
//! and in `plumbline stats`.

use clap::Args;
use plumbline_store::{Progress, Store};
use serde_json::json;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Project name.
    #[arg(long)]
    project: String,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub async fn run<S: Store>(store: &S, args: ReportArgs) -> anyhow::Result<ExitCode> {
    let project = store.project_by_name(&args.project).await?;
    let progress = store.progress(project.id).await?;
    if args.json {
        let out = json!({
            "project": project.name,
            "rubric_version": project.rubric_version.0,
            "overlap": project.settings.overlap,
            "progress": progress,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print!("{}", text(&project.name, &progress));
    }
    Ok(ExitCode::SUCCESS)
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
