//! Majority, weighted, Dawid-Skene and gold-anchored aggregation.

use plumbline_quality::aggregate::{
    DawidSkeneConfig, GoldAnchoredConfig, dawid_skene, dawid_skene_winners, gold_anchored,
    majority_vote, weighted_vote,
};
use plumbline_quality::rng::Rng;
use plumbline_quality::{Judgment, LabelSet, QualityError};

use crate::sim::LengthBiasedPool;

fn set(n_items: usize, n_ann: usize, k: usize, rows: &[(u32, u32, u32)]) -> LabelSet {
    let js: Vec<Judgment> = rows
        .iter()
        .map(|&(item, annotator, label)| Judgment {
            item,
            annotator,
            label,
        })
        .collect();
    LabelSet::new(n_items, n_ann, k, &js).unwrap()
}

#[test]
fn majority_picks_the_plurality_and_reports_shares() {
    let s = set(1, 3, 3, &[(0, 0, 2), (0, 1, 2), (0, 2, 1)]);
    let agg = majority_vote(&s);
    assert_eq!(agg.items[0].label, Some(2));
    assert!(!agg.items[0].tied);
    let p = &agg.items[0].posterior;
    assert!((p[2] - 2.0 / 3.0).abs() < 1e-12 && (p[1] - 1.0 / 3.0).abs() < 1e-12 && p[0] == 0.0);
}

#[test]
fn majority_ties_go_to_the_more_frequent_category_then_the_lower_index() {
    // Item 0: one vote for 0, one for 2 -> tie. Overall, category 2 is given more often.
    let s = set(2, 2, 3, &[(0, 0, 0), (0, 1, 2), (1, 0, 2), (1, 1, 2)]);
    let agg = majority_vote(&s);
    assert_eq!(agg.items[0].label, Some(2));
    assert!(agg.items[0].tied);
    // Equal overall counts: the lower index wins, every time.
    let s = set(1, 2, 3, &[(0, 0, 2), (0, 1, 1)]);
    for _ in 0..3 {
        assert_eq!(majority_vote(&s).items[0].label, Some(1));
    }
}

#[test]
fn items_without_votes_have_no_label() {
    let s = set(2, 1, 2, &[(0, 0, 1)]);
    let agg = majority_vote(&s);
    assert_eq!(agg.items[1].label, None);
    assert!(agg.items[1].posterior.is_empty());
    let ds = dawid_skene(&s, DawidSkeneConfig::default()).unwrap();
    assert_eq!(ds.items[1].label, None);
    assert!((ds.items[1].posterior.iter().sum::<f64>() - 1.0).abs() < 1e-12);
}

#[test]
fn weighted_vote_lets_a_heavy_annotator_outvote_two_light_ones() {
    let s = set(1, 3, 2, &[(0, 0, 1), (0, 1, 0), (0, 2, 0)]);
    assert_eq!(majority_vote(&s).items[0].label, Some(0));
    let agg = weighted_vote(&s, &[3.0, 1.0, 1.0]).unwrap();
    assert_eq!(agg.items[0].label, Some(1));
    assert!((agg.items[0].posterior[1] - 0.6).abs() < 1e-12);
    // Zero weight for everyone on an item: no label.
    let agg = weighted_vote(&s, &[0.0, 0.0, 0.0]).unwrap();
    assert_eq!(agg.items[0].label, None);
}

#[test]
fn weighted_vote_refuses_bad_weights() {
    let s = set(1, 2, 2, &[(0, 0, 1)]);
    assert!(matches!(
        weighted_vote(&s, &[1.0]),
        Err(QualityError::BadWeights(_))
    ));
    assert!(matches!(
        weighted_vote(&s, &[1.0, -1.0]),
        Err(QualityError::BadWeights(_))
    ));
    assert!(matches!(
        weighted_vote(&s, &[1.0, f64::NAN]),
        Err(QualityError::BadWeights(_))
    ));
}

#[test]
fn dawid_skene_recovers_confusions_and_beats_majority_with_independent_annotators() {
    // Three good annotators and four near-random ones, errors independent: DS should learn to
    // trust the good ones, and its accuracy should not fall below majority's.
    let mut rng = Rng::new(7);
    let acc = [0.9, 0.85, 0.8, 0.55, 0.55, 0.5, 0.5];
    let (n, k) = (3000usize, 3u32);
    let mut truth = Vec::new();
    let mut js = Vec::new();
    for item in 0..n {
        let t = rng.below(u64::from(k)) as u32;
        truth.push(t);
        for (a, p) in acc.iter().enumerate() {
            let label = if rng.chance(*p) {
                t
            } else {
                (t + 1 + rng.below(2) as u32) % k
            };
            js.push(Judgment {
                item: item as u32,
                annotator: a as u32,
                label,
            });
        }
    }
    let s = LabelSet::new(n, acc.len(), k as usize, &js).unwrap();
    let ds = dawid_skene(&s, DawidSkeneConfig::default()).unwrap();
    assert!(
        ds.converged,
        "EM stops on the tolerance, not the cap ({} iterations)",
        ds.iterations
    );
    assert!(ds.iterations > 2);
    let score = |labels: Vec<Option<u32>>| {
        labels
            .iter()
            .zip(&truth)
            .filter(|(l, t)| **l == Some(**t))
            .count() as f64
            / n as f64
    };
    let ds_acc = score(ds.items.iter().map(|i| i.label).collect());
    let mv_acc = score(majority_vote(&s).items.iter().map(|i| i.label).collect());
    assert!(ds_acc >= mv_acc, "DS {ds_acc} vs majority {mv_acc}");
    for (a, want) in acc.iter().enumerate() {
        let got = ds.annotator_accuracy[a].value().unwrap();
        assert!(
            (got - want).abs() < 0.04,
            "annotator {a}: estimated {got}, true {want}"
        );
        let diag = ds.confusion[a][0][0];
        assert!(
            (diag - want).abs() < 0.06,
            "annotator {a}: θ[0][0] = {diag}, true {want}"
        );
    }
    for p in &ds.priors {
        assert!((p - 1.0 / 3.0).abs() < 0.04);
    }
    // A tighter tolerance needs at least as many iterations.
    let tight = dawid_skene(
        &s,
        DawidSkeneConfig {
            tolerance: 1e-9,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(tight.iterations >= ds.iterations);
    assert!(tight.log_likelihood >= ds.log_likelihood - 1e-6);
    // The compact fit gives the same label and posterior for every item.
    let winners = dawid_skene_winners(&s, DawidSkeneConfig::default()).unwrap();
    assert_eq!(winners.len(), n);
    for (w, full) in winners.iter().zip(&ds.items) {
        let label = full.label.unwrap();
        assert_eq!(*w, Some((label, full.posterior[label as usize] as f32)));
    }
}

#[test]
fn compact_dawid_skene_leaves_unjudged_items_without_a_label() {
    let s = set(3, 2, 2, &[(0, 0, 1), (0, 1, 1), (2, 0, 0)]);
    let winners = dawid_skene_winners(&s, DawidSkeneConfig::default()).unwrap();
    assert_eq!(winners[1], None);
    let full = dawid_skene(&s, DawidSkeneConfig::default()).unwrap();
    for i in [0, 2] {
        let label = full.items[i].label.unwrap();
        let posterior = full.items[i].posterior[label as usize] as f32;
        assert_eq!(winners[i], Some((label, posterior)));
    }
    assert!(
        dawid_skene_winners(
            &s,
            DawidSkeneConfig {
                tolerance: 0.0,
                ..Default::default()
            }
        )
        .is_err()
    );
}

#[test]
fn gold_anchored_beats_length_bias_where_majority_and_dawid_skene_follow_it() {
    // Four accurate experts and sixteen annotators who pick the longer answer; which answer is
    // longer is independent of which is better, so following length is a coin toss. Best
    // achievable: the Bayes-optimal rule under the true confusion matrices (see
    // `LengthBiasedPool::oracle_accuracy`). Ten seeds, so no single lucky draw passes.
    //
    // Gold: 1000 of 6000 items. The sixteen biased annotators' gold-estimated skills share one
    // sampling error (the length–truth correlation of that gold sample), so their small weights
    // add up; with 400 gold items the gap to the oracle reached 2.4 points on one seed of 30,
    // with 1000 it stayed under 1.2 points on all 30.
    let accurate = [0.9, 0.85, 0.85, 0.8];
    let biased = [
        0.95, 0.9, 0.9, 0.85, 0.95, 0.9, 0.9, 0.85, 0.95, 0.9, 0.9, 0.85, 0.95, 0.9, 0.9, 0.85,
    ];
    for seed in 1..=10 {
        let pool = LengthBiasedPool::simulate(seed, 6000, 1000, &accurate, &biased);
        let best = pool.oracle_accuracy();
        let mv = majority_vote(&pool.labels);
        let mv_acc = pool.accuracy(|i| mv.items[i].label);
        let ds = dawid_skene(&pool.labels, DawidSkeneConfig::default()).unwrap();
        let ds_acc = pool.accuracy(|i| ds.items[i].label);
        let ga = gold_anchored(&pool.labels, &pool.gold, GoldAnchoredConfig::default()).unwrap();
        let ga_acc = pool.accuracy(|i| ga.items[i].label);
        eprintln!(
            "seed {seed}: best {best:.4}, gold-anchored {ga_acc:.4}, majority {mv_acc:.4}, dawid-skene {ds_acc:.4}"
        );
        assert!(best > 0.9, "the experts together are good ({best})");
        assert!(
            (mv_acc - 0.5).abs() < 0.05,
            "majority near chance: {mv_acc}"
        );
        assert!(
            (ds_acc - 0.5).abs() < 0.05,
            "unsupervised Dawid-Skene near chance: {ds_acc}"
        );
        assert!(
            ga_acc >= best - 0.02,
            "gold-anchored {ga_acc} within two points of {best}"
        );
        assert!(ga.annotators.iter().all(|a| !a.uses_pool));
        assert_eq!(ga.gold_items, 1000);
    }
}

#[test]
fn gold_anchored_falls_back_to_the_pool_and_smooths() {
    // Annotator 0 judged 12 gold items (all right); annotator 1 only 2.
    let mut rows = Vec::new();
    for i in 0..12u32 {
        rows.push((i, 0, i % 2));
    }
    rows.push((0, 1, 1));
    rows.push((1, 1, 0));
    rows.push((12, 0, 1));
    rows.push((12, 1, 0));
    let s = set(13, 2, 2, &rows);
    let gold: Vec<Option<u32>> = (0..13).map(|i| (i < 12).then_some(i % 2)).collect();
    let ga = gold_anchored(&s, &gold, GoldAnchoredConfig::default()).unwrap();
    assert!(!ga.annotators[0].uses_pool);
    assert!(ga.annotators[1].uses_pool);
    assert_eq!(ga.annotators[1].confusion, ga.pooled_confusion);
    // Smoothed: perfect on gold is still not probability 1.
    let c = &ga.annotators[0].confusion;
    assert!(c[0][0] < 1.0 && c[0][0] > 0.8);
    assert_eq!(ga.annotators[0].gold.correct, 12);
    // On item 12 the trusted annotator 0 (says 1) outweighs annotator 1 (says 0).
    assert_eq!(ga.items[12].label, Some(1));
    let p = &ga.items[12].posterior;
    assert!(p[1] > 0.5 && (p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
}

#[test]
fn gold_anchored_refuses_mismatched_gold() {
    let s = set(2, 1, 2, &[(0, 0, 1)]);
    assert!(gold_anchored(&s, &[Some(0)], GoldAnchoredConfig::default()).is_err());
    assert!(gold_anchored(&s, &[Some(5), None], GoldAnchoredConfig::default()).is_err());
}
