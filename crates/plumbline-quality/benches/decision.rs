//! Micro-benchmark of the per-item decision: 1,000,000 preference items (K = 3: two candidates
//! and a tie) with 5 votes each, decided by `decide_into` into one reused buffer.
//!
//! Run with `cargo bench -p plumbline-quality --bench decision`; prints one JSON document with
//! the median nanoseconds per item of `RUNS` runs. The export needs at least 200,000 items a
//! second (5,000 ns an item) for the whole pipeline.

use std::hint::black_box;
use std::time::Instant;

use plumbline_quality::decision::{DecisionMethod, decide_into, decide_winners, vote_weight};
use plumbline_quality::rng::Rng;
use plumbline_quality::{Judgment, LabelSet};

const RUNS: usize = 7;
const ITEMS: usize = 1_000_000;
const VOTES: usize = 5;
const K: usize = 3;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("decision bench: skipped (run it with `cargo bench -p plumbline-quality`)");
        return;
    }
    let mut rng = Rng::new(5);
    let reliability: Vec<f64> = (0..20).map(|_| 0.45 + 0.5 * rng.next_f64()).collect();
    let weights: Vec<f64> = reliability.iter().map(|r| vote_weight(*r, K)).collect();
    // Votes laid out flat, as an export would read them item by item.
    let mut flat: Vec<(u32, f64)> = Vec::with_capacity(ITEMS * VOTES);
    let mut judgments = Vec::with_capacity(ITEMS * VOTES);
    for item in 0..ITEMS {
        let mut seen = [usize::MAX; VOTES];
        for slot in 0..VOTES {
            let a = loop {
                let a = rng.below(20) as usize;
                if !seen.contains(&a) {
                    break a;
                }
            };
            seen[slot] = a;
            let option = rng.below(K as u64) as u32;
            flat.push((option, weights[a]));
            judgments.push(Judgment {
                item: item as u32,
                annotator: a as u32,
                label: option,
            });
        }
    }
    let mut times = Vec::with_capacity(RUNS);
    let mut checksum = 0.0;
    for _ in 0..RUNS {
        let mut out = [0.0f64; K];
        let mut sum = 0.0;
        let t = Instant::now();
        for votes in flat.chunks_exact(VOTES) {
            let d = decide_into(black_box(votes), None, &mut out).expect("in range");
            sum += d.posterior;
        }
        times.push(t.elapsed().as_secs_f64());
        checksum = sum;
    }
    times.sort_by(f64::total_cmp);
    let per_item_ns = times[RUNS / 2] * 1e9 / ITEMS as f64;

    let labels = LabelSet::new(ITEMS, 20, K, &judgments).expect("valid");
    let mut set_times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let t = Instant::now();
        let w = decide_winners(
            DecisionMethod::Reliability,
            &labels,
            &reliability,
            Default::default(),
        )
        .expect("decided");
        black_box(w);
        set_times.push(t.elapsed().as_secs_f64());
    }
    set_times.sort_by(f64::total_cmp);
    let report = serde_json::json!({
        "items": ITEMS,
        "votes_per_item": VOTES,
        "options": K,
        "runs": RUNS,
        "decide_into_ns_per_item": per_item_ns,
        "decide_into_items_per_s": 1e9 / per_item_ns,
        "decide_winners_label_set_s": set_times[RUNS / 2],
        "decide_winners_ns_per_item": set_times[RUNS / 2] * 1e9 / ITEMS as f64,
        "target_items_per_s": 200_000,
        "checksum": checksum,
    });
    println!("{}", serde_json::to_string_pretty(&report).expect("json"));
}
