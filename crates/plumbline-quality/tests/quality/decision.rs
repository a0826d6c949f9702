//! The reliability-weighted decision rule and the `--decision` switch.

use plumbline_quality::aggregate::{DawidSkeneConfig, dawid_skene_winners};
use plumbline_quality::decision::{
    DecisionMethod, LogPrior, MAX_VOTE_WEIGHT, Vote, decide, decide_into, decide_winners,
    vote_weight,
};
use plumbline_quality::reliability::{
    AgreementRule, ReliabilityConfig, ReliabilityPriors, ReliabilityTally,
};
use plumbline_quality::{Judgment, LabelSet, QualityError};
use proptest::prelude::*;

use crate::sim::OverlapPool;

fn votes(k: usize, vs: &[(u32, f64)]) -> Vec<(u32, f64)> {
    vs.iter().map(|&(o, r)| (o, vote_weight(r, k))).collect()
}

fn run(k: usize, vs: &[(u32, f64)]) -> (plumbline_quality::decision::Decision, Vec<f64>) {
    let mut out = vec![0.0; k];
    let d = decide_into(&votes(k, vs), None, &mut out).unwrap();
    (d, out)
}

#[test]
fn one_expert_outweighs_several_unreliable_voters() {
    for n in [1, 4, 10] {
        let mut vs = vec![(0u32, 0.92)];
        vs.extend(std::iter::repeat_n((1u32, 0.55), n));
        let (d, post) = run(2, &vs);
        assert_eq!(d.winner, Some(0), "{n} voters at 0.55");
        assert!(!d.tied);
        assert!((post[0] - d.posterior).abs() < 1e-15);
    }
    // Fourteen of them do outweigh one expert: the rule weighs evidence, it does not ignore it.
    let mut vs = vec![(0u32, 0.92)];
    vs.extend(std::iter::repeat_n((1u32, 0.55), 14));
    assert_eq!(run(2, &vs).0.winner, Some(1));
}

#[test]
fn weights_are_log_odds_and_guarded() {
    assert!((vote_weight(0.92, 2) - (0.92f64 / 0.08).ln()).abs() < 1e-12);
    assert!((vote_weight(0.7, 3) - (0.7f64 * 2.0 / 0.3).ln()).abs() < 1e-12);
    // At or below chance: zero, never negative.
    assert_eq!(vote_weight(0.5, 2), 0.0);
    assert_eq!(vote_weight(0.2, 2), 0.0);
    assert_eq!(vote_weight(0.3, 3), 0.0);
    // Clamped at the ends, finite; NaN and single-option items weigh nothing.
    let top = vote_weight(1.0, 2);
    assert!(top.is_finite() && (top - ((1.0 - 1e-6) / 1e-6f64).ln()).abs() < 1e-9);
    assert_eq!(vote_weight(0.0, 2), 0.0);
    assert_eq!(vote_weight(f64::NAN, 2), 0.0);
    assert_eq!(vote_weight(0.9, 1), 0.0);
}

#[test]
fn perfect_voters_who_disagree_cancel_out() {
    let (d, post) = run(2, &[(0, 1.0), (1, 1.0)]);
    assert!(d.tied && (d.posterior - 0.5).abs() < 1e-12);
    assert!(post.iter().all(|p| p.is_finite()));
    // Caller-supplied weights out of range are guarded too.
    let mut out = [0.0; 3];
    let d = decide_into(
        &[(0, f64::INFINITY), (1, f64::NAN), (2, -3.0)],
        None,
        &mut out,
    )
    .unwrap();
    assert_eq!(d.winner, Some(0));
    assert!(out.iter().all(|p| p.is_finite()));
    assert!((out[0] - MAX_VOTE_WEIGHT.exp() / (MAX_VOTE_WEIGHT.exp() + 2.0)).abs() < 1e-12);
}

#[test]
fn ties_go_to_more_votes_then_the_lower_index() {
    // One voter each at equal reliability: the lower index, marked tied.
    let (d, _) = run(2, &[(1, 0.8), (0, 0.8)]);
    assert_eq!((d.winner, d.tied), (Some(0), true));
    // All at chance: the option with more votes wins the tie, never an unvoted one.
    let (d, post) = run(3, &[(2, 0.3), (1, 0.2), (2, 0.1)]);
    assert_eq!((d.winner, d.tied), (Some(2), true));
    assert!((post[2] - 1.0 / 3.0).abs() < 1e-12);
}

#[test]
fn an_imported_choice_decides_its_item_alone() {
    let priors = ReliabilityPriors::default();
    let d = decide(2, &[Vote::external(1, &priors)], None).unwrap();
    assert_eq!(d.decision.winner, Some(1));
    assert!((d.decision.posterior - 0.7).abs() < 1e-12);
    // A verified expert's posterior without gold (0.9) outweighs it.
    let expert = ReliabilityConfig::default()
        .posterior(
            plumbline_quality::reliability::ExpertiseLevel::Expert,
            &ReliabilityTally::new(),
        )
        .unwrap();
    let d = decide(
        2,
        &[
            Vote::external(1, &priors),
            Vote {
                option: 0,
                reliability: expert.mean,
            },
        ],
        None,
    )
    .unwrap();
    assert_eq!(d.decision.winner, Some(0));
    assert_eq!(d.weights.len(), 2);
    assert!((d.weights[0] - (0.7f64 / 0.3).ln()).abs() < 1e-12);
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["winner"], 0);
    assert!(json["weights"].is_array() && json["posteriors"].is_array());
}

#[test]
fn a_prior_shifts_the_posterior_and_is_checked() {
    let prior = LogPrior::new(&[3.0, 1.0]).unwrap();
    let mut out = [0.0; 2];
    // No votes: the prior, no winner.
    let d = decide_into(&[], Some(&prior), &mut out).unwrap();
    assert_eq!(d.winner, None);
    assert!((out[0] - 0.75).abs() < 1e-12);
    // One vote of 0.7 for option 1 against prior odds 3:1: posterior odds 7/3 · 1/3.
    let d = decide_into(&votes(2, &[(1, 0.7)]), Some(&prior), &mut out).unwrap();
    assert_eq!(d.winner, Some(0));
    assert!((out[1] - (7.0 / 9.0) / (1.0 + 7.0 / 9.0)).abs() < 1e-12);
    assert!(decide_into(&[], Some(&prior), &mut [0.0; 3]).is_err());
    assert!(LogPrior::new(&[1.0, 0.0]).is_err());
    assert!(LogPrior::new(&[]).is_err());
    assert_eq!(LogPrior::uniform(4).len(), 4);
    assert!(matches!(
        decide_into(&[(2, 1.0)], None, &mut out),
        Err(QualityError::OptionOutOfRange { index: 2, count: 2 })
    ));
    // No options, no votes: nothing to decide.
    assert_eq!(decide_into(&[], None, &mut []).unwrap().winner, None);
}

/// Votes over `k` options with reliabilities anywhere in [0, 1], ends included.
fn item() -> impl Strategy<Value = (usize, Vec<(u32, f64)>)> {
    (2usize..5).prop_flat_map(|k| {
        let r = prop_oneof![Just(0.0), Just(1.0), Just(0.5), 0.0f64..=1.0];
        (Just(k), prop::collection::vec((0..k as u32, r), 1..12))
    })
}

proptest! {
    #[test]
    fn a_single_vote_above_chance_wins_with_its_reliability(k in 2usize..6, r in 0.0f64..1.0, o in 0u32..6) {
        let o = o % k as u32;
        let r = 1.0 / k as f64 + 1e-3 + r * (1.0 - 1.0 / k as f64 - 2e-3);
        let (d, _) = run(k, &[(o, r)]);
        prop_assert_eq!(d.winner, Some(o));
        prop_assert!((d.posterior - r).abs() < 1e-9, "{} vs {}", d.posterior, r);
    }

    #[test]
    fn posteriors_are_a_distribution_and_the_winner_was_voted_for((k, vs) in item()) {
        let (d, post) = run(k, &vs);
        prop_assert!(post.iter().all(|p| p.is_finite() && *p >= 0.0));
        prop_assert!((post.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let w = d.winner.unwrap();
        prop_assert!(vs.iter().any(|v| v.0 == w), "winner {} not voted in {:?}", w, vs);
        prop_assert_eq!(d.posterior, post[w as usize]);
        // Options tied within the rule's tolerance may differ in the last bits.
        prop_assert!(post.iter().all(|p| *p <= d.posterior * (1.0 + 1e-9)));
    }

    #[test]
    fn unanimous_votes_win((k, vs) in item(), o in 0u32..5) {
        let o = o % k as u32;
        let vs: Vec<(u32, f64)> = vs.iter().map(|v| (o, v.1)).collect();
        prop_assert_eq!(run(k, &vs).0.winner, Some(o));
    }

    #[test]
    fn vote_order_does_not_matter((k, vs) in item(), rot in 0usize..12) {
        let (d, post) = run(k, &vs);
        let mut other = vs.clone();
        other.reverse();
        let len = other.len();
        other.rotate_left(rot % len);
        let (e, post2) = run(k, &other);
        prop_assert_eq!(d.winner, e.winner);
        prop_assert_eq!(d.tied, e.tied);
        for (a, b) in post.iter().zip(&post2) {
            prop_assert!((a - b).abs() < 1e-12);
        }
    }
}

#[test]
fn decision_methods_parse_and_name_the_unknown_value() {
    for m in DecisionMethod::ALL {
        assert_eq!(m.to_string().parse::<DecisionMethod>().unwrap(), m);
    }
    assert_eq!(
        "dawid-skene".parse::<DecisionMethod>().unwrap(),
        DecisionMethod::DawidSkene
    );
    assert_eq!(DecisionMethod::default(), DecisionMethod::Reliability);
    let err = "bayes".parse::<DecisionMethod>().unwrap_err().to_string();
    assert!(err.contains("`bayes`") && err.contains("majority"), "{err}");
    assert_eq!(
        serde_json::to_value(DecisionMethod::DawidSkene).unwrap(),
        "dawid-skene"
    );
}

#[test]
fn every_method_decides_a_label_set() {
    let js: Vec<Judgment> = [(0, 0, 1), (0, 1, 0), (0, 2, 0), (1, 0, 1)]
        .iter()
        .map(|&(item, annotator, label)| Judgment {
            item,
            annotator,
            label,
        })
        .collect();
    let s = LabelSet::new(3, 3, 2, &js).unwrap();
    let cfg = DawidSkeneConfig::default();
    let m = decide_winners(DecisionMethod::Majority, &s, &[], cfg).unwrap();
    assert_eq!(m[0], Some((0, 2.0 / 3.0)));
    assert_eq!(m[1], Some((1, 1.0)));
    assert_eq!(m[2], None);
    // Annotator 0 is the expert: they decide item 0 against two voters near chance.
    let r = decide_winners(DecisionMethod::Reliability, &s, &[0.92, 0.55, 0.55], cfg).unwrap();
    assert_eq!(r[0].map(|x| x.0), Some(1));
    assert_eq!(r[1].map(|x| x.0), Some(1));
    assert!((f64::from(r[1].unwrap().1) - 0.92).abs() < 1e-6);
    assert_eq!(r[2], None);
    let ds = decide_winners(DecisionMethod::DawidSkene, &s, &[], cfg).unwrap();
    assert_eq!(ds, dawid_skene_winners(&s, cfg).unwrap());
    assert!(matches!(
        decide_winners(DecisionMethod::Reliability, &s, &[0.9], cfg),
        Err(QualityError::BadWeights(_))
    ));
}

#[test]
fn gold_reliabilities_alone_follow_the_experts_in_the_issue_scenario() {
    // Reliabilities from hidden gold and expertise priors, no EM: the rule already stays within
    // 1.5 points of the experts' own majority, where majority vote and Dawid-Skene follow the
    // crowd's length bias.
    let cfg = ReliabilityConfig::default();
    for seed in 21..=23 {
        let pool = OverlapPool::simulate(seed, 3000, 5, 300, &[0.92; 4], &[0.85; 16]);
        let mut tallies = vec![ReliabilityTally::new(); pool.labels.n_annotators()];
        for (i, g) in pool.gold.iter().enumerate() {
            let Some(g) = g else { continue };
            for (&a, &l) in pool
                .labels
                .annotators_of(i)
                .iter()
                .zip(pool.labels.labels_of(i))
            {
                tallies[a as usize].record_vote(AgreementRule::Exact, l, *g);
            }
        }
        let r: Vec<f64> = tallies
            .iter()
            .enumerate()
            .map(|(a, t)| {
                let level = if a < pool.n_experts {
                    plumbline_quality::reliability::ExpertiseLevel::Expert
                } else {
                    plumbline_quality::reliability::ExpertiseLevel::None
                };
                cfg.posterior(level, t).unwrap().mean
            })
            .collect();
        let items = pool.expert_items();
        let dc = DawidSkeneConfig::default();
        let acc = |m| {
            let d = decide_winners(m, &pool.labels, &r, dc).unwrap();
            pool.accuracy_on(&items, |i| d[i].map(|x| x.0))
        };
        let rule = acc(DecisionMethod::Reliability);
        let experts = pool.experts_majority();
        let experts_acc = pool.accuracy_on(&items, |i| experts[i]);
        assert!(
            rule >= experts_acc - 0.015,
            "seed {seed}: rule {rule:.4}, experts {experts_acc:.4}"
        );
        assert!(acc(DecisionMethod::Majority) < rule - 0.25);
        assert!(acc(DecisionMethod::DawidSkene) < rule - 0.3);
    }
}
