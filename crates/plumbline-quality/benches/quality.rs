//! The quality statistics' figures (docs/BENCHMARKS.md), on seeded synthetic data, one thread.
//!
//! Run with `cargo bench -p plumbline-quality`. Each figure is the median wall time of
//! `RUNS` runs; the output is one JSON document on stdout.

use std::hint::black_box;
use std::time::Instant;

use plumbline_quality::aggregate::{DawidSkeneConfig, dawid_skene};
use plumbline_quality::agreement::{Metric, Scale, krippendorff_alpha};
use plumbline_quality::bootstrap::{BootstrapConfig, alpha_bootstrap};
use plumbline_quality::bradley_terry::{BradleyTerryConfig, Comparison, Winner, bradley_terry};
use plumbline_quality::rng::Rng;
use plumbline_quality::{Judgment, LabelSet};

const RUNS: usize = 7;

/// Median seconds of `RUNS` runs of `f`, and its last result.
fn time<T>(mut f: impl FnMut() -> T) -> (f64, T) {
    let mut times = Vec::with_capacity(RUNS);
    let mut last = None;
    for _ in 0..RUNS {
        let t = Instant::now();
        let out = black_box(f());
        times.push(t.elapsed().as_secs_f64());
        last = Some(out);
    }
    times.sort_by(f64::total_cmp);
    (times[RUNS / 2], last.expect("RUNS > 0"))
}

/// 100,000 items × 10 annotators, 5 categories, 30% missing; annotators agree 60% of the time.
fn alpha_data() -> (Vec<Judgment>, usize, usize) {
    let (items, anns) = (100_000u32, 10u32);
    let mut rng = Rng::new(1);
    let mut js = Vec::with_capacity(700_000);
    for item in 0..items {
        let truth = rng.below(5) as u32;
        for annotator in 0..anns {
            if rng.chance(0.3) {
                continue;
            }
            let label = if rng.chance(0.6) {
                truth
            } else {
                rng.below(5) as u32
            };
            js.push(Judgment {
                item,
                annotator,
                label,
            });
        }
    }
    (js, items as usize, anns as usize)
}

/// 1,000,000 labels: 100,000 items × 10 of 100 annotators, 5 classes, accuracies 0.3–0.8 (chance is 0.2).
fn ds_data() -> LabelSet {
    let (items, pool, per_item, k) = (100_000u32, 100u32, 10usize, 5u64);
    let mut rng = Rng::new(2);
    let acc: Vec<f64> = (0..pool).map(|_| 0.3 + 0.5 * rng.next_f64()).collect();
    let mut js = Vec::with_capacity(items as usize * per_item);
    let mut chosen = Vec::with_capacity(per_item);
    for item in 0..items {
        let truth = rng.below(k) as u32;
        chosen.clear();
        while chosen.len() < per_item {
            let a = rng.below(u64::from(pool)) as u32;
            if !chosen.contains(&a) {
                chosen.push(a);
            }
        }
        for &a in &chosen {
            let label = if rng.chance(acc[a as usize]) {
                truth
            } else {
                ((u64::from(truth) + 1 + rng.below(k - 1)) % k) as u32
            };
            js.push(Judgment {
                item,
                annotator: a,
                label,
            });
        }
    }
    LabelSet::new(items as usize, pool as usize, k as usize, &js).expect("valid")
}

/// 1,000,000 comparisons among 100 options with normal-ish strengths and 10% ties.
fn bt_data() -> Vec<Comparison> {
    let mut rng = Rng::new(3);
    let strength: Vec<f64> = (0..100)
        .map(|_| (0..12).map(|_| rng.next_f64()).sum::<f64>() - 6.0)
        .collect();
    (0..1_000_000)
        .map(|_| {
            let left = rng.below(100) as u32;
            let right = (left + 1 + rng.below(99) as u32) % 100;
            let p = 1.0 / (1.0 + (strength[right as usize] - strength[left as usize]).exp());
            let u = rng.next_f64();
            let winner = if u < 0.1 {
                Winner::Tie
            } else if u < 0.1 + 0.9 * p {
                Winner::Left
            } else {
                Winner::Right
            };
            Comparison {
                left,
                right,
                winner,
            }
        })
        .collect()
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    // `cargo test --all-targets` runs bench targets too, unoptimised; only `cargo bench`
    // passes `--bench`, so skip the minute of debug-mode work otherwise.
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("quality bench: skipped (run it with `cargo bench -p plumbline-quality`)");
        return;
    }
    let (js, items, anns) = alpha_data();
    let scale = Scale::new(vec![1.0, 2.0, 3.0, 4.0, 5.0]).expect("increasing");
    let (t_build, labels) = time(|| LabelSet::new(items, anns, 5, &js).expect("valid"));
    let (t_nom, nom) = time(|| krippendorff_alpha(&labels, Metric::Nominal).expect("alpha"));
    let (t_int, int) =
        time(|| krippendorff_alpha(&labels, Metric::Interval(&scale)).expect("alpha"));
    let (t_nom_total, _) = time(|| {
        let l = LabelSet::new(items, anns, 5, &js).expect("valid");
        krippendorff_alpha(&l, Metric::Nominal).expect("alpha")
    });
    let (t_int_total, _) = time(|| {
        let l = LabelSet::new(items, anns, 5, &js).expect("valid");
        krippendorff_alpha(&l, Metric::Interval(&scale)).expect("alpha")
    });
    let boot_cfg = BootstrapConfig {
        replicates: 200,
        seed: 1,
        confidence: 0.95,
    };
    let (t_boot, boot) =
        time(|| alpha_bootstrap(&labels, Metric::Nominal, boot_cfg).expect("bootstrap"));
    drop(labels);

    let ds_labels = ds_data();
    let (t_ds, ds) = time(|| dawid_skene(&ds_labels, DawidSkeneConfig::default()).expect("fit"));
    drop(ds_labels);

    let comparisons = bt_data();
    let (t_bt, bt) =
        time(|| bradley_terry(100, &comparisons, BradleyTerryConfig::default()).expect("fit"));

    let report = serde_json::json!({
        "runs_per_figure": RUNS,
        "statistic": "median wall seconds, one thread",
        "krippendorff_alpha": {
            "cells": items * anns,
            "judgments_present": js.len(),
            "build_label_set_s": t_build,
            "nominal_s": t_nom,
            "interval_s": t_int,
            "nominal_including_build_s": t_nom_total,
            "interval_including_build_s": t_int_total,
            "alpha_nominal": nom.alpha.value(),
            "alpha_interval": int.alpha.value(),
            "target_s": 0.3,
            "bootstrap_nominal_200_replicates_s": t_boot,
            "bootstrap_interval": [boot.lower, boot.upper],
        },
        "dawid_skene": {
            "labels": 1_000_000,
            "seconds": t_ds,
            "iterations": ds.iterations,
            "converged": ds.converged,
            "tolerance": DawidSkeneConfig::default().tolerance,
            "target_s": 2.0,
        },
        "bradley_terry": {
            "comparisons": comparisons.len(),
            "options": 100,
            "seconds": t_bt,
            "newton_iterations": bt.iterations,
            "converged": bt.converged,
            "target_s": 1.0,
        },
        "peak_rss_mib": peak_rss_mib(),
    });
    println!("{}", serde_json::to_string_pretty(&report).expect("json"));
}
