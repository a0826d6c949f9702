//! `agreement`, `fleiss`, `cohen`, `dawid-skene` and `aggregate` on `item,annotator,value` rows.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, bail};
use plumbline_quality::QualityError;
use plumbline_quality::aggregate::{
    DawidSkeneConfig, GoldAnchoredConfig, ItemLabel, dawid_skene as fit_dawid_skene, gold_anchored,
    majority_vote, weighted_vote,
};
use plumbline_quality::agreement::{
    KappaWeights, Metric, cohen_kappa, fleiss_kappa, krippendorff_alpha, percent_agreement,
};
use plumbline_quality::bootstrap::{BootstrapConfig, alpha_bootstrap};
use serde_json::{Value, json};

use super::input::{self, InputArgs, Table};
use super::long::{self, Categories, LongData};
use super::{
    AggregateArgs, AgreementArgs, CohenArgs, DawidSkeneArgs, FleissArgs, LevelArg, MethodArg,
    WeightsArg, print_json, show,
};

const LONG: [&str; 3] = ["item", "annotator", "value"];

fn read_long(input: &InputArgs) -> anyhow::Result<Table> {
    input::read(&input.input, input.format, &LONG, &["value"], &[])
}

/// Adds `fields` to a JSON object.
fn with(mut base: Value, fields: Value) -> Value {
    if let (Some(b), Value::Object(f)) = (base.as_object_mut(), fields) {
        b.extend(f);
    }
    base
}

/// Krippendorff's alpha, percent agreement and an optional bootstrap interval.
pub fn agreement(a: AgreementArgs) -> anyhow::Result<()> {
    let table = read_long(&a.input)?;
    let declared = Categories::from_flag(a.categories.as_deref())?;
    let rule = match (a.level, declared) {
        (LevelArg::Nominal, d) => d,
        (LevelArg::Ordinal, d @ Categories::Declared(_)) => d,
        (LevelArg::Ordinal, _) => Categories::Numbers {
            non_negative: false,
            level: "ordinal",
        },
        (LevelArg::Interval | LevelArg::Ratio, Categories::Declared(_)) => {
            bail!(
                "--categories applies to the nominal and ordinal levels; interval and ratio use the numbers themselves"
            )
        }
        (LevelArg::Interval, _) => Categories::Numbers {
            non_negative: false,
            level: "interval",
        },
        (LevelArg::Ratio, _) => Categories::Numbers {
            non_negative: true,
            level: "ratio",
        },
    };
    let data = long::load(&table, &rule, &[])?;
    let metric = match (a.level, &data.scale) {
        (LevelArg::Nominal, _) => Metric::Nominal,
        (LevelArg::Ordinal, _) => Metric::Ordinal,
        (LevelArg::Interval, Some(s)) => Metric::Interval(s),
        (LevelArg::Ratio, Some(s)) => Metric::Ratio(s),
        _ => unreachable!("numeric levels always have a scale"),
    };
    let alpha = krippendorff_alpha(&data.labels, metric)?;
    let percent = percent_agreement(&data.labels);
    let boot = match a.bootstrap {
        Some(0) => bail!("--bootstrap needs at least one replicate"),
        Some(n) => Some(alpha_bootstrap(
            &data.labels,
            metric,
            BootstrapConfig {
                replicates: n,
                seed: a.seed,
                ..BootstrapConfig::default()
            },
        )?),
        None => None,
    };
    if a.input.json {
        let per: Vec<Value> = percent
            .per_annotator
            .iter()
            .map(|p| {
                with(
                    json!({"annotator": data.annotators.names[p.annotator as usize]}),
                    serde_json::to_value(p).unwrap_or_default(),
                )
            })
            .collect();
        let mut pct = serde_json::to_value(&percent)?;
        pct["per_annotator"] = Value::Array(per);
        let out = with(
            json!({"statistic": "krippendorff_alpha"}),
            with(
                serde_json::to_value(&alpha)?,
                json!({
                    "categories": data.categories,
                    "missing_values": data.missing,
                    "percent_agreement": pct,
                    "bootstrap": boot,
                }),
            ),
        );
        return print_json(&out);
    }
    let level = serde_json::to_value(alpha.level)?;
    println!(
        "Krippendorff's alpha ({}): {}",
        level.as_str().unwrap_or_default(),
        show(&alpha.alpha)
    );
    if let (Some(d_o), Some(d_e)) = (alpha.observed_disagreement, alpha.expected_disagreement) {
        println!("  observed disagreement D_o = {d_o:.6}, expected D_e = {d_e:.6}");
    }
    println!(
        "  units {} ({} pairable), pairable values {}, annotators {}, categories used {} of {}, missing values {}",
        alpha.units,
        alpha.pairable_units,
        alpha.pairable_values,
        alpha.annotators,
        alpha.categories_used,
        data.categories.len(),
        data.missing
    );
    println!(
        "  pairwise percent agreement: {} ({} of {} pairs on {} items)",
        show(&percent.agreement),
        percent.agreeing_pairs,
        percent.pairs,
        percent.items
    );
    if let Some(b) = boot {
        match (b.lower, b.upper, b.undefined_reason) {
            (Some(lo), Some(hi), _) => println!(
                "  bootstrap {:.0}% interval: [{lo:.6}, {hi:.6}] ({} replicates, seed {}, {} undefined)",
                b.confidence * 100.0,
                b.replicates,
                b.seed,
                b.undefined_replicates
            ),
            (_, _, reason) => println!(
                "  bootstrap interval: undefined: {}",
                reason.map_or("no replicate", |r| r.reason())
            ),
        }
    }
    Ok(())
}

fn fleiss_error(e: QualityError, data: &LongData, path: &Path) -> anyhow::Error {
    match e {
        QualityError::UnequalRatings {
            first_item,
            first_count,
            item,
            count,
        } => anyhow::anyhow!(
            "{}: Fleiss' kappa needs the same number of ratings on every item, but item '{}' has {first_count} and item '{}' has {count} (use `plumbline stats agreement` for missing ratings)",
            path.display(),
            data.items.names[first_item as usize],
            data.items.names[item as usize]
        ),
        other => other.into(),
    }
}

/// Fleiss' kappa.
pub fn fleiss(a: FleissArgs) -> anyhow::Result<()> {
    let table = read_long(&a.input)?;
    let data = long::load(
        &table,
        &Categories::from_flag(a.categories.as_deref())?,
        &[],
    )?;
    let r = fleiss_kappa(&data.labels).map_err(|e| fleiss_error(e, &data, &table.path))?;
    if a.input.json {
        let out = with(
            json!({"statistic": "fleiss_kappa"}),
            with(
                serde_json::to_value(&r)?,
                json!({"category_names": data.categories, "annotators": data.annotators.len()}),
            ),
        );
        return print_json(&out);
    }
    println!("Fleiss' kappa: {}", show(&r.kappa));
    if let (Some(p), Some(pe)) = (r.p_bar, r.p_e_bar) {
        println!("  mean agreement P̄ = {p:.6}, chance agreement P̄e = {pe:.6}");
    }
    println!(
        "  items {}, ratings per item {}, categories {}, annotators {}",
        r.items,
        r.ratings_per_item,
        r.categories,
        data.annotators.len()
    );
    Ok(())
}

/// Cohen's kappa for two annotators.
pub fn cohen(a: CohenArgs) -> anyhow::Result<()> {
    let table = read_long(&a.input)?;
    let data = long::load(
        &table,
        &Categories::from_flag(a.categories.as_deref())?,
        &[],
    )?;
    if data.annotators.len() != 2 {
        bail!(
            "{}: Cohen's kappa needs exactly two annotators, found {} ({})",
            table.path.display(),
            data.annotators.len(),
            data.annotators.names.join(", ")
        );
    }
    let weights = match a.weights {
        WeightsArg::None => KappaWeights::None,
        WeightsArg::Linear => KappaWeights::Linear,
        WeightsArg::Quadratic => KappaWeights::Quadratic,
    };
    let r = cohen_kappa(&data.labels, weights)?;
    if a.input.json {
        let out = with(
            json!({"statistic": "cohen_kappa"}),
            with(
                serde_json::to_value(&r)?,
                json!({
                    "annotators": data.annotators.names,
                    "category_names": data.categories,
                    "categories_declared": a.categories.is_some(),
                }),
            ),
        );
        return print_json(&out);
    }
    let w = serde_json::to_value(r.weights)?;
    println!(
        "Cohen's kappa ({} weights): {}",
        w.as_str().unwrap_or_default(),
        show(&r.kappa)
    );
    if let (Some(po), Some(pe)) = (r.observed_agreement, r.expected_agreement) {
        println!("  observed agreement {po:.6}, chance agreement {pe:.6}");
    }
    println!(
        "  items rated by both {} (rated by one only, left out: {}); rows {}, columns {}",
        r.items, r.items_skipped, data.annotators.names[0], data.annotators.names[1]
    );
    println!(
        "  categories ({}): {}",
        if a.categories.is_some() {
            "declared"
        } else {
            "inferred"
        },
        data.categories.join(", ")
    );
    for (name, row) in data.categories.iter().zip(&r.table) {
        let cells: Vec<String> = row.iter().map(u64::to_string).collect();
        println!("    {name}: {}", cells.join(" "));
    }
    Ok(())
}

fn item_json(data: &LongData, i: usize, it: &ItemLabel) -> Value {
    let posterior: serde_json::Map<String, Value> = data
        .categories
        .iter()
        .zip(&it.posterior)
        .map(|(c, p)| (c.clone(), json!(p)))
        .collect();
    json!({
        "item": data.items.names[i],
        "label": it.label.map(|l| data.categories[l as usize].clone()),
        "posterior": posterior,
        "votes": it.votes,
        "tied": it.tied,
    })
}

fn print_items(data: &LongData, items: &[ItemLabel]) {
    println!("item\tlabel\tposterior\tvotes\ttied");
    for (i, it) in items.iter().enumerate() {
        let (label, p) = match it.label {
            Some(l) => (
                data.categories[l as usize].as_str(),
                format!("{:.6}", it.posterior[l as usize]),
            ),
            None => ("-", "-".to_owned()),
        };
        println!(
            "{}\t{label}\t{p}\t{}\t{}",
            data.items.names[i],
            it.votes,
            if it.tied { "tied" } else { "" }
        );
    }
}

/// Dawid-Skene EM.
pub fn dawid_skene(a: DawidSkeneArgs) -> anyhow::Result<()> {
    let table = read_long(&a.input)?;
    let data = long::load(
        &table,
        &Categories::from_flag(a.categories.as_deref())?,
        &[],
    )?;
    let config = DawidSkeneConfig {
        tolerance: a.tolerance,
        max_iterations: a.max_iterations,
        ..DawidSkeneConfig::default()
    };
    let ds = fit_dawid_skene(&data.labels, config)?;
    if a.input.json {
        return print_json(&ds_json(&data, &ds));
    }
    print_ds_summary(&data, &ds);
    print_items(&data, &ds.items);
    Ok(())
}

fn ds_json(data: &LongData, ds: &plumbline_quality::aggregate::DawidSkene) -> Value {
    let priors: serde_json::Map<String, Value> = data
        .categories
        .iter()
        .zip(&ds.priors)
        .map(|(c, p)| (c.clone(), json!(p)))
        .collect();
    let annotators: Vec<Value> = (0..data.annotators.len())
        .map(|a| {
            with(
                json!({"annotator": data.annotators.names[a], "judgments": ds.annotator_judgments[a], "confusion": ds.confusion[a]}),
                serde_json::to_value(ds.annotator_accuracy[a]).unwrap_or_default(),
            )
        })
        .collect();
    json!({
        "method": "dawid-skene",
        "categories": data.categories,
        "priors": priors,
        "iterations": ds.iterations,
        "converged": ds.converged,
        "log_likelihood": ds.log_likelihood,
        "annotators": annotators,
        "items": ds.items.iter().enumerate().map(|(i, it)| item_json(data, i, it)).collect::<Vec<_>>(),
    })
}

fn print_ds_summary(data: &LongData, ds: &plumbline_quality::aggregate::DawidSkene) {
    println!(
        "Dawid-Skene: {} after {} iterations, log-likelihood {:.4}",
        if ds.converged {
            "converged"
        } else {
            "NOT converged"
        },
        ds.iterations,
        ds.log_likelihood
    );
    let priors: Vec<String> = data
        .categories
        .iter()
        .zip(&ds.priors)
        .map(|(c, p)| format!("{c} {p:.4}"))
        .collect();
    println!("  class priors: {}", priors.join(", "));
    println!("  estimated accuracy per annotator (judgments):");
    for (a, name) in data.annotators.names.iter().enumerate() {
        println!(
            "    {name}: {} ({})",
            show(&ds.annotator_accuracy[a]),
            ds.annotator_judgments[a]
        );
    }
}

/// Reads `annotator,weight`; every annotator of the data must be listed.
fn read_weights(
    path: &Path,
    format: Option<input::Format>,
    data: &LongData,
) -> anyhow::Result<Vec<f64>> {
    let t = input::read(path, format, &["annotator", "weight"], &[], &[])?;
    let mut weights: Vec<Option<f64>> = vec![None; data.annotators.len()];
    for row in &t.rows {
        let w: f64 = row
            .req(1)
            .parse()
            .ok()
            .filter(|w: &f64| w.is_finite() && *w >= 0.0)
            .with_context(|| {
                format!(
                    "{}: weight '{}' is not a finite number ≥ 0",
                    t.at(row.line),
                    row.req(1)
                )
            })?;
        if let Some(a) = data.annotators.get(row.req(0)) {
            if weights[a as usize].is_some() {
                bail!(
                    "{}: annotator '{}' has a second weight",
                    t.at(row.line),
                    row.req(0)
                );
            }
            weights[a as usize] = Some(w);
        }
    }
    weights
        .iter()
        .enumerate()
        .map(|(a, w)| {
            w.with_context(|| {
                format!(
                    "{}: no weight for annotator '{}'",
                    path.display(),
                    data.annotators.names[a]
                )
            })
        })
        .collect()
}

/// Aggregated labels by the chosen method.
pub fn aggregate(a: AggregateArgs) -> anyhow::Result<()> {
    let table = read_long(&a.input)?;
    let rule = Categories::from_flag(a.categories.as_deref())?;
    let gold_table = match (&a.gold, a.method) {
        (Some(g), _) => Some(input::read(
            g,
            a.input.format,
            &["item", "value"],
            &[],
            &[],
        )?),
        (None, MethodArg::GoldAnchored) => {
            bail!("--method gold-anchored needs --gold G (item,value)")
        }
        (None, _) => None,
    };
    let extra: Vec<&str> = gold_table
        .iter()
        .flat_map(|g| g.rows.iter().map(|r| r.req(1)))
        .collect();
    let data = long::load(&table, &rule, &extra)?;
    // Gold answers by item index; gold items nobody judged are counted and skipped.
    let mut gold: Vec<Option<u32>> = vec![None; data.items.len()];
    let mut gold_unjudged = 0;
    if let Some(g) = &gold_table {
        let mut lines: HashMap<u32, u64> = HashMap::new();
        for row in &g.rows {
            let Some(c) = data.category_of(row.req(1)) else {
                bail!(
                    "{}: gold value '{}' is not one of the categories ({})",
                    g.at(row.line),
                    row.req(1),
                    data.categories.join(", ")
                );
            };
            match data.items.get(row.req(0)) {
                Some(i) => {
                    if let Some(first) = lines.insert(i, row.line) {
                        bail!(
                            "{}: item '{}' already has a gold answer on line {first}",
                            g.at(row.line),
                            row.req(0)
                        );
                    }
                    gold[i as usize] = Some(c);
                }
                None => gold_unjudged += 1,
            }
        }
    }
    let json = a.input.json;
    match a.method {
        MethodArg::Majority | MethodArg::Weighted => {
            let (name, agg) = if a.method == MethodArg::Majority {
                ("majority", majority_vote(&data.labels))
            } else {
                let Some(wpath) = &a.weights else {
                    bail!("--method weighted needs --weights W (annotator,weight)");
                };
                let w = read_weights(wpath, a.input.format, &data)?;
                ("weighted", weighted_vote(&data.labels, &w)?)
            };
            if json {
                let items: Vec<Value> = agg
                    .items
                    .iter()
                    .enumerate()
                    .map(|(i, it)| item_json(&data, i, it))
                    .collect();
                return print_json(&json!({
                    "method": name,
                    "posterior_is": "vote share",
                    "categories": data.categories,
                    "tie_break": "most frequent category overall, then first in category order",
                    "items": items,
                }));
            }
            println!(
                "{name} vote over {} items ({} judgments); posterior = vote share",
                data.items.len(),
                data.labels.len()
            );
            print_items(&data, &agg.items);
        }
        MethodArg::DawidSkene => {
            let ds = fit_dawid_skene(&data.labels, DawidSkeneConfig::default())?;
            if json {
                return print_json(&ds_json(&data, &ds));
            }
            print_ds_summary(&data, &ds);
            print_items(&data, &ds.items);
        }
        MethodArg::GoldAnchored => {
            let config = GoldAnchoredConfig {
                min_gold: a.min_gold,
                prior_strength: a.prior_strength,
                ..GoldAnchoredConfig::default()
            };
            let ga = gold_anchored(&data.labels, &gold, config)?;
            if json {
                let annotators: Vec<Value> = ga
                    .annotators
                    .iter()
                    .enumerate()
                    .map(|(i, g)| {
                        with(
                            json!({"annotator": data.annotators.names[i]}),
                            serde_json::to_value(g).unwrap_or_default(),
                        )
                    })
                    .collect();
                let priors: serde_json::Map<String, Value> = data
                    .categories
                    .iter()
                    .zip(&ga.priors)
                    .map(|(c, p)| (c.clone(), json!(p)))
                    .collect();
                return print_json(&json!({
                    "method": "gold-anchored",
                    "categories": data.categories,
                    "gold_items": ga.gold_items,
                    "gold_items_not_judged": gold_unjudged,
                    "priors": priors,
                    "pooled_confusion": ga.pooled_confusion,
                    "annotators": annotators,
                    "items": ga.items.iter().enumerate().map(|(i, it)| item_json(&data, i, it)).collect::<Vec<_>>(),
                }));
            }
            println!(
                "gold-anchored over {} items with {} gold items ({} gold items nobody judged)",
                data.items.len(),
                ga.gold_items,
                gold_unjudged
            );
            println!("  gold accuracy per annotator (Wilson 95%), matrix used:");
            for (i, g) in ga.annotators.iter().enumerate() {
                let interval = match (g.gold.lower, g.gold.upper) {
                    (Some(lo), Some(hi)) => format!(" [{lo:.3}, {hi:.3}]"),
                    _ => String::new(),
                };
                println!(
                    "    {}: {}{interval} on {} gold judgments, {}",
                    data.annotators.names[i],
                    show(&g.gold.accuracy),
                    g.gold.total,
                    if g.uses_pool {
                        "pooled matrix (too few gold)"
                    } else {
                        "own matrix"
                    }
                );
            }
            print_items(&data, &ga.items);
        }
    }
    Ok(())
}
