//! `bradley-terry` and `bias` on `item,annotator,left,right,winner` rows.

use anyhow::{Context, bail};
use plumbline_quality::QualityError;
use plumbline_quality::bias::{
    BiasConfig, BiasStats, PairwiseJudgment, Share, Side, Winner, bias as measure_bias,
};
use plumbline_quality::bradley_terry::{
    BradleyTerryConfig, Comparison, Normalization, bradley_terry as fit_bradley_terry,
};
use serde_json::{Value, json};

use super::input::{self, InputArgs, Table};
use super::long::Interner;
use super::{BiasArgs, BradleyTerryArgs, print_json, show};

const REQUIRED: [&str; 5] = ["item", "annotator", "left", "right", "winner"];
const OPTIONAL: [&str; 6] = [
    "left_len",
    "right_len",
    "first_shown",
    "left_hard_violation",
    "right_hard_violation",
    "priority_inversion",
];

/// Pairwise judgments with the names behind their indices.
struct Pairwise {
    options: Interner,
    annotators: Interner,
    judgments: Vec<PairwiseJudgment>,
}

fn parse_bool(t: &Table, line: u64, column: &str, v: &str) -> anyhow::Result<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => bail!("{}: {column} '{v}' is not true or false", t.at(line)),
    }
}

fn read_pairwise(input: &InputArgs) -> anyhow::Result<(Table, Pairwise)> {
    let t = input::read(&input.input, input.format, &REQUIRED, &[], &OPTIONAL)?;
    let mut items = Interner::default();
    let mut options = Interner::default();
    let mut annotators = Interner::default();
    let mut judgments = Vec::with_capacity(t.rows.len());
    for row in &t.rows {
        let (left, right, winner) = (row.req(2), row.req(3), row.req(4));
        if left == right {
            bail!(
                "{}: option '{left}' is compared with itself",
                t.at(row.line)
            );
        }
        let winner = if winner == left {
            Winner::Left
        } else if winner == right {
            Winner::Right
        } else if winner.eq_ignore_ascii_case("tie") {
            Winner::Tie
        } else {
            bail!(
                "{}: winner '{winner}' is neither option ('{left}' or '{right}') nor 'tie'",
                t.at(row.line)
            );
        };
        let len = |i: usize, name: &str| -> anyhow::Result<Option<u32>> {
            row.fields[i]
                .as_deref()
                .map(|v| {
                    v.parse::<u32>().with_context(|| {
                        format!(
                            "{}: {name} '{v}' is not a whole number of characters",
                            t.at(row.line)
                        )
                    })
                })
                .transpose()
        };
        let first_shown = match row.fields[7].as_deref() {
            None => None,
            Some(v) if v == left => Some(Side::Left),
            Some(v) if v == right => Some(Side::Right),
            Some(v) if v.eq_ignore_ascii_case("left") => Some(Side::Left),
            Some(v) if v.eq_ignore_ascii_case("right") => Some(Side::Right),
            Some(v) => bail!(
                "{}: first_shown '{v}' is neither option ('{left}' or '{right}') nor left/right",
                t.at(row.line)
            ),
        };
        let flag = |i: usize| {
            row.fields[i]
                .as_deref()
                .map(|v| parse_bool(&t, row.line, OPTIONAL[i - 5], v))
                .transpose()
        };
        judgments.push(PairwiseJudgment {
            item: items.id(row.req(0)),
            annotator: annotators.id(row.req(1)),
            left: options.id(left),
            right: options.id(right),
            winner,
            left_len: len(5, "left_len")?,
            right_len: len(6, "right_len")?,
            first_shown,
            left_hard_violation: flag(8)?,
            right_hard_violation: flag(9)?,
            priority_inversion: flag(10)?,
            time: None,
            rubric_version: None,
        });
    }
    Ok((
        t,
        Pairwise {
            options,
            annotators,
            judgments,
        },
    ))
}

/// Bradley-Terry strengths.
pub fn bradley_terry(a: BradleyTerryArgs) -> anyhow::Result<()> {
    let (t, p) = read_pairwise(&a.input)?;
    let normalization = match &a.reference {
        None => Normalization::MeanZero,
        Some(name) => match p.options.get(name) {
            Some(i) => Normalization::Reference(i),
            None => bail!(
                "--reference '{name}' is not an option in {}",
                t.path.display()
            ),
        },
    };
    let comparisons: Vec<Comparison> = p.judgments.iter().map(Comparison::from).collect();
    let config = BradleyTerryConfig {
        normalization,
        ..BradleyTerryConfig::default()
    };
    let fit = fit_bradley_terry(p.options.len(), &comparisons, config).map_err(|e| match e {
        QualityError::StrengthNotFinite { option, beaten } => anyhow::anyhow!(
            "{}: option '{}' {} '{}', even through other options, so the strengths are not finite (Bradley-Terry needs every option to beat and lose to the others through some chain of comparisons)",
            t.path.display(),
            p.options.names[option as usize],
            if beaten { "never beats" } else { "is never beaten by" },
            p.options.names[0]
        ),
        other => other.into(),
    })?;
    let mut order: Vec<usize> = (0..fit.options.len()).collect();
    order.sort_by(|x, y| {
        fit.options[*y]
            .log_strength
            .total_cmp(&fit.options[*x].log_strength)
            .then(x.cmp(y))
    });
    let norm_text = match &a.reference {
        None => "log-strengths sum to zero".to_owned(),
        Some(r) => format!("log-strength of '{r}' fixed at zero"),
    };
    if a.input.json {
        let options: Vec<Value> = order
            .iter()
            .map(|i| {
                let o = &fit.options[*i];
                json!({
                    "option": p.options.names[*i],
                    "log_strength": o.log_strength,
                    "std_error": o.std_error,
                    "strength": o.log_strength.exp(),
                    "wins": o.wins,
                    "comparisons": o.comparisons,
                })
            })
            .collect();
        return print_json(&json!({
            "statistic": "bradley_terry",
            "normalization": norm_text,
            "ties": "half a win each",
            "comparisons": fit.comparisons,
            "annotators": p.annotators.len(),
            "log_likelihood": fit.log_likelihood,
            "iterations": fit.iterations,
            "converged": fit.converged,
            "options": options,
        }));
    }
    println!(
        "Bradley-Terry over {} comparisons among {} options ({norm_text}; ties are half a win each; {} after {} Newton steps)",
        fit.comparisons,
        p.options.len(),
        if fit.converged {
            "converged"
        } else {
            "NOT converged"
        },
        fit.iterations
    );
    println!("option\tlog_strength\tstd_error\tstrength\twins\tcomparisons");
    for i in order {
        let o = &fit.options[i];
        println!(
            "{}\t{:.6}\t{:.6}\t{:.6}\t{}\t{}",
            p.options.names[i],
            o.log_strength,
            o.std_error,
            o.log_strength.exp(),
            o.wins,
            o.comparisons
        );
    }
    Ok(())
}

fn share_line(s: &Share, what: &str) -> String {
    let p = s
        .p_value
        .map(|p| format!(", binomial p = {p:.4}"))
        .unwrap_or_default();
    match s.share.value() {
        Some(_) => format!("{} ({} of {what} {}{p})", show(&s.share), s.hits, s.n),
        None => show(&s.share),
    }
}

fn print_stats(who: &str, s: &BiasStats) {
    println!("{who}: {} judgments, {} ties", s.judgments, s.ties);
    println!(
        "  position (first-shown picked): {}",
        share_line(&s.position, "non-tie judgments with display order")
    );
    println!(
        "  length (longer picked): {}",
        share_line(&s.length, "non-tie pairs differing by more than τ")
    );
    println!(
        "  surface trait (hard violation wins): {}",
        share_line(&s.surface_trait, "non-tie pairs with exactly one violation")
    );
    println!(
        "  priority inversions: {}",
        share_line(&s.priority_inversion, "judgments recording the flag")
    );
}

/// Position, length, surface-trait and priority-inversion bias.
pub fn bias(a: BiasArgs) -> anyhow::Result<()> {
    let (_, p) = read_pairwise(&a.input)?;
    let r = measure_bias(
        &p.judgments,
        p.annotators.len(),
        BiasConfig {
            length_threshold: a.tau,
        },
    );
    if a.input.json {
        let per: Vec<Value> = r
            .per_annotator
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut v = serde_json::to_value(s).unwrap_or_default();
                v["annotator"] = json!(p.annotators.names[i]);
                v
            })
            .collect();
        return print_json(&json!({
            "statistic": "bias",
            "length_threshold": r.length_threshold,
            "binomial_test": "exact two-sided, null share 1/2",
            "pooled": r.pooled,
            "per_annotator": per,
        }));
    }
    println!(
        "Bias over {} pairwise judgments (τ = {} characters)",
        p.judgments.len(),
        r.length_threshold
    );
    print_stats("pooled", &r.pooled);
    for (i, s) in r.per_annotator.iter().enumerate() {
        print_stats(&format!("annotator {}", p.annotators.names[i]), s);
    }
    Ok(())
}
