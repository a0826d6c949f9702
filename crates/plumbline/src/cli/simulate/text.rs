//! The readable report of a simulation (`--json` prints [`Report`] itself).

use super::measure::{MethodResult, Report};
use super::pool::Pool;
use std::fmt::Write;

fn pct(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{:.1}%", v * 100.0))
}

fn pool_lines(p: &Pool) -> String {
    let s = &p.settings;
    let mut out = format!(
        "pool: {} items (+{} gold), overlap {}, gold rate {}, max_overlap {}, min_experts {}, \
         decision_threshold {}, min_gold_accuracy {}, seed {}\n",
        p.items,
        p.gold_items,
        s.overlap,
        s.gold_rate,
        s.effective_max_overlap(),
        s.min_experts.map_or("auto".to_owned(), |m| m.to_string()),
        s.decision_threshold,
        s.min_gold_accuracy,
        p.seed
    );
    for g in &p.groups {
        let mut traits = vec![format!("accuracy {}", g.accuracy)];
        if g.length_bias > 0.0 {
            traits.push(format!("length bias {}", g.length_bias));
        }
        if g.position_bias > 0.0 {
            traits.push(format!("position bias {}", g.position_bias));
        }
        traits.push(match g.expertise {
            Some(l) => format!("verified {}:{}", super::run::DOMAIN, l.as_str()),
            None => "no verified expertise".into(),
        });
        let _ = writeln!(
            out,
            "  {:<12} {:>3} × {}",
            g.name,
            g.count,
            traits.join(", ")
        );
    }
    out
}

fn decision_row(d: &MethodResult) -> String {
    let s = &d.scored;
    let interval = match (s.lower, s.upper) {
        (Some(l), Some(u)) => format!("[{:.1}–{:.1}%]", l * 100.0, u * 100.0),
        _ => "-".into(),
    };
    let left = d.export.as_ref().map_or("-".to_owned(), |e| {
        format!("{} below, {} ties", e.below_threshold, e.tie)
    });
    format!(
        "{:<27} {:>8} {:>15} {:>9} {:>9} {:>8}  {}\n",
        d.name,
        pct(s.accuracy),
        interval,
        pct(s.coverage),
        s.decided,
        pct(s.chosen_longer),
        left
    )
}

/// The report as text.
pub fn render(r: &Report) -> String {
    let mut out = pool_lines(&r.pool);
    let e = &r.engine;
    let _ = writeln!(
        out,
        "\nengine: {} judgments ({} on hidden gold) in {} rounds, {:.1} s; \
         items: {} resolved, {} in adjudication, {} open; {} judged",
        e.turns.judgments,
        e.turns.gold_judgments,
        e.turns.rounds,
        e.turns.seconds,
        e.items.resolved,
        e.items.adjudication,
        e.items.open,
        e.judged_items
    );
    if !e.turns.stopped.is_empty() {
        let first = &e.turns.stopped[0];
        let last = &e.turns.stopped[e.turns.stopped.len() - 1];
        let _ = writeln!(
            out,
            "  probation stopped {} annotators, the first ({}) after {} judgments, the last ({}) after {}",
            e.turns.stopped.len(),
            first.0,
            first.1,
            last.0,
            last.1
        );
    }
    let _ = writeln!(
        out,
        "\n{:<27} {:>8} {:>15} {:>9} {:>9} {:>8}  left out",
        "decision", "accuracy", "Wilson 95%", "coverage", "decided", "longer"
    );
    for d in &r.decisions {
        out.push_str(&decision_row(d));
    }
    let w = &r.workforce;
    let _ = writeln!(
        out,
        "\nexperts: {} of {} judgments ({}); {} of {} items ({}) have an expert judgment",
        w.expert_judgments,
        w.judgments,
        pct(w.expert_judgment_share),
        w.items_with_expert,
        w.items,
        pct(w.expert_item_share)
    );
    let _ = writeln!(
        out,
        "\n{:<12} {:>5} {:>9} {:>9} {:>11} {:>8} {:>8} {:>10} {:>10} {:>9}",
        "group",
        "count",
        "judgments",
        "gold",
        "reliability",
        "longer",
        "first",
        "len flag",
        "pos flag",
        "probation"
    );
    for g in &w.groups {
        let _ = writeln!(
            out,
            "{:<12} {:>5} {:>9} {:>9} {:>11} {:>8} {:>8} {:>10} {:>10} {:>9}",
            g.name,
            g.annotators,
            g.judgments,
            pct(g.gold_accuracy),
            g.mean_reliability.map_or("-".into(), |m| format!("{m:.3}")),
            pct(g.length_share),
            pct(g.position_share),
            format!("{}/{}", g.length_flagged, g.annotators),
            format!("{}/{}", g.position_flagged, g.annotators),
            format!("{}/{}", g.on_probation, g.annotators),
        );
    }
    out.push_str(
        "\naccuracy and coverage leave gold items out; coverage: decided / judged items; \
         longer: share of decisions (or of a group's picks) for the longer candidate;\n\
         first: of a group's picks for the candidate shown first; flags: exact binomial test \
         at p < 0.01 (the quality table of `plumbline report`)\n",
    );
    let _ = writeln!(out, "\ntargets (issue 15):");
    for c in &r.targets {
        let _ = writeln!(
            out,
            "  {:<4}  {}: {}",
            if c.pass { "pass" } else { "FAIL" },
            c.target,
            c.measured
        );
    }
    if let Some(dir) = &r.kept {
        let _ = writeln!(out, "\ndatabase and exports kept in {dir}");
    }
    out
}
