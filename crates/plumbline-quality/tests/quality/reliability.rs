//! Annotator reliability: Beta posteriors by expertise, and the gold-anchored EM.

use plumbline_quality::aggregate::{DawidSkeneConfig, majority_vote};
use plumbline_quality::decision::{DecisionMethod, decide_winners};
use plumbline_quality::reliability::{
    AgreementRule, BetaPrior, ExpertiseLevel, ReliabilityConfig, ReliabilityEmConfig,
    ReliabilityPriors, ReliabilityTally, fit_reliability, reliability,
};
use plumbline_quality::special::beta_quantile;
use plumbline_quality::{Judgment, LabelSet, QualityError};

use crate::sim::OverlapPool;

fn tally(agreed: u32, disagreed: u32) -> ReliabilityTally {
    let mut t = ReliabilityTally::new();
    for _ in 0..agreed {
        t.record(1.0);
    }
    for _ in 0..disagreed {
        t.record(0.0);
    }
    t
}

#[test]
fn default_priors_rise_with_expertise() {
    let p = ReliabilityPriors::default();
    let means: Vec<f64> = [
        ExpertiseLevel::None,
        ExpertiseLevel::Novice,
        ExpertiseLevel::Practitioner,
        ExpertiseLevel::Expert,
    ]
    .iter()
    .map(|l| p.for_level(*l).mean)
    .collect();
    assert_eq!(means, [0.65, 0.70, 0.80, 0.90]);
    assert_eq!(p.expert.strength, 5.0);
    assert_eq!(p.external, 0.7);
    assert!(p.check().is_ok());
    let e = p.expert;
    assert!((e.alpha() - 4.5).abs() < 1e-12 && (e.beta() - 0.5).abs() < 1e-12);
}

#[test]
fn expertise_levels_parse_and_name_the_unknown_one() {
    for l in [
        ExpertiseLevel::None,
        ExpertiseLevel::Novice,
        ExpertiseLevel::Practitioner,
        ExpertiseLevel::Expert,
    ] {
        assert_eq!(l.to_string().parse::<ExpertiseLevel>().unwrap(), l);
    }
    let err = "guru".parse::<ExpertiseLevel>().unwrap_err().to_string();
    assert!(err.contains("`guru`"), "{err}");
    assert!(ExpertiseLevel::Expert > ExpertiseLevel::Practitioner);
}

#[test]
fn few_answers_shrink_toward_the_prior_and_many_follow_the_data() {
    let cfg = ReliabilityConfig::default();
    // No answers: the prior's mean.
    let r = cfg
        .posterior(ExpertiseLevel::Expert, &ReliabilityTally::new())
        .unwrap();
    assert!((r.mean - 0.9).abs() < 1e-12);
    // A verified expert who misses two gold answers of two: (4.5 + 0) / (5 + 2).
    let r = cfg.posterior(ExpertiseLevel::Expert, &tally(0, 2)).unwrap();
    assert!((r.mean - 4.5 / 7.0).abs() < 1e-12);
    // Ten of ten for an unverified annotator: (3.25 + 10) / 15.
    let r = cfg.posterior(ExpertiseLevel::None, &tally(10, 0)).unwrap();
    assert!((r.mean - 13.25 / 15.0).abs() < 1e-12);
    // The documented crossing: an expert with 10 gold answers half right falls below 0.65.
    let r = cfg.posterior(ExpertiseLevel::Expert, &tally(5, 5)).unwrap();
    assert!(r.mean < 0.65, "{}", r.mean);
    // Many answers: the data decides whatever the prior.
    for level in [ExpertiseLevel::None, ExpertiseLevel::Expert] {
        let r = cfg.posterior(level, &tally(460, 540)).unwrap();
        assert!((r.mean - 0.46).abs() < 0.005, "{level}: {}", r.mean);
        assert_eq!(r.tally.observations, 1000);
    }
}

#[test]
fn the_interval_is_the_exact_beta_interval_and_narrows_with_data() {
    let prior = BetaPrior::new(0.8, 5.0).unwrap();
    let t = tally(68, 8);
    let r = reliability(&t, prior, 0.95).unwrap();
    let (a, b) = (4.0 + 68.0, 1.0 + 8.0);
    assert!((r.alpha() - a).abs() < 1e-12 && (r.beta() - b).abs() < 1e-12);
    assert!((r.mean - a / (a + b)).abs() < 1e-15);
    assert!((r.lower - beta_quantile(0.025, a, b).unwrap()).abs() < 1e-15);
    assert!((r.upper - beta_quantile(0.975, a, b).unwrap()).abs() < 1e-15);
    assert!(r.lower < r.mean && r.mean < r.upper);
    let few = reliability(&tally(7, 1), prior, 0.95).unwrap();
    assert!(few.upper - few.lower > r.upper - r.lower);
    let narrow = reliability(&t, prior, 0.5).unwrap();
    assert!(narrow.lower > r.lower && narrow.upper < r.upper);
    let json = serde_json::to_value(r).unwrap();
    assert_eq!(json["tally"]["observations"], 76);
    assert_eq!(json["credible_level"], 0.95);
}

#[test]
fn ties_earn_half_credit_under_the_tie_rule() {
    let tie = AgreementRule::TieHalf { tie: 2 };
    assert_eq!(tie.credit(0, 0), 1.0);
    assert_eq!(tie.credit(2, 2), 1.0);
    assert_eq!(tie.credit(0, 1), 0.0);
    assert_eq!(tie.credit(2, 0), 0.5, "tie vote, strict reference");
    assert_eq!(tie.credit(1, 2), 0.5, "strict vote, tie reference");
    assert_eq!(AgreementRule::Exact.credit(2, 0), 0.0);
    let mut t = ReliabilityTally::new();
    t.record_vote(tie, 2, 1);
    t.record_vote(tie, 1, 1);
    assert_eq!((t.agreed, t.scored, t.observations), (1.5, 2.0, 2));
}

#[test]
fn tallies_ignore_unusable_outcomes_and_merge() {
    let mut t = ReliabilityTally::new();
    t.record(f64::NAN);
    t.record_weighted(1.0, 0.0);
    t.record_weighted(1.0, -1.0);
    t.record_weighted(1.0, f64::INFINITY);
    assert_eq!(t, ReliabilityTally::new());
    t.record(7.0); // clamped to 1
    t.record_weighted(0.5, 0.25);
    assert_eq!((t.agreed, t.scored, t.observations), (1.125, 1.25, 2));
    let mut u = tally(1, 1);
    u.merge(&t);
    assert_eq!((u.agreed, u.scored, u.observations), (2.125, 3.25, 4));
}

#[test]
fn bad_priors_tallies_and_levels_are_refused() {
    assert!(BetaPrior::new(0.0, 5.0).is_err());
    assert!(BetaPrior::new(1.0, 5.0).is_err());
    assert!(BetaPrior::new(0.7, 0.0).is_err());
    assert!(BetaPrior::new(f64::NAN, 5.0).is_err());
    let p = BetaPrior::new(0.7, 5.0).unwrap();
    let bad = ReliabilityTally {
        agreed: 3.0,
        scored: 2.0,
        observations: 2,
    };
    assert!(matches!(
        reliability(&bad, p, 0.95),
        Err(QualityError::InvalidConfig(_))
    ));
    assert!(reliability(&tally(1, 1), p, 1.0).is_err());
    let cfg = ReliabilityConfig {
        priors: ReliabilityPriors {
            external: 1.0,
            ..ReliabilityPriors::default()
        },
        ..ReliabilityConfig::default()
    };
    assert!(cfg.check().is_err());
}

/// The end-to-end case of the issue: 3,000 items, overlap 5, 10% hidden gold, 4 verified experts
/// right 92% of the time, 16 crowd annotators who pick the longer answer 85% of the time.
fn issue_pool(seed: u64) -> OverlapPool {
    OverlapPool::simulate(seed, 3000, 5, 300, &[0.92; 4], &[0.85; 16])
}

fn issue_priors(pool: &OverlapPool) -> Vec<BetaPrior> {
    let p = ReliabilityPriors::default();
    (0..pool.labels.n_annotators())
        .map(|a| if a < pool.n_experts { p.expert } else { p.none })
        .collect()
}

#[test]
fn gold_anchored_em_follows_the_experts_not_the_crowds_shared_bias() {
    for seed in 1..=3 {
        let pool = issue_pool(seed);
        let fit = fit_reliability(
            &pool.labels,
            &pool.gold,
            &[],
            &issue_priors(&pool),
            ReliabilityEmConfig::default(),
        )
        .unwrap();
        assert!(fit.converged, "seed {seed}: {} rounds", fit.rounds);
        let r = fit.reliabilities();
        let decided = decide_winners(
            DecisionMethod::Reliability,
            &pool.labels,
            &r,
            Default::default(),
        )
        .unwrap();
        let items = pool.expert_items();
        let rule = pool.accuracy_on(&items, |i| decided[i].map(|d| d.0));
        let experts = pool.experts_majority();
        let experts_acc = pool.accuracy_on(&items, |i| experts[i]);
        let crowd = majority_vote(&pool.labels);
        let crowd_acc = pool.accuracy_on(&items, |i| crowd.items[i].label);
        let ds = decide_winners(
            DecisionMethod::DawidSkene,
            &pool.labels,
            &[],
            DawidSkeneConfig::default(),
        )
        .unwrap();
        let ds_acc = pool.accuracy_on(&items, |i| ds[i].map(|d| d.0));
        assert!(
            rule >= experts_acc - 0.015,
            "seed {seed}: rule {rule:.4} vs experts-only majority {experts_acc:.4}"
        );
        assert!(
            rule > crowd_acc + 0.25 && rule > ds_acc + 0.3,
            "seed {seed}: rule {rule:.4}, majority {crowd_acc:.4}, Dawid-Skene {ds_acc:.4}"
        );
        // The fitted reliabilities keep the experts high and the crowd near chance.
        for (a, fitted) in fit.annotators.iter().enumerate() {
            let f = fitted.reliability;
            assert!(fitted.scored.lower <= f && f <= fitted.scored.upper);
            if a < pool.n_experts {
                assert!(f > 0.85, "seed {seed}: expert {a} at {f}");
            } else {
                assert!(f < 0.65, "seed {seed}: crowd {a} at {f}");
            }
        }
    }
}

#[test]
fn em_learns_annotators_without_gold_from_the_gold_anchored_decisions() {
    // Annotator 4 is an honest newcomer (0.85) and annotator 20 a length-biased one; neither
    // has answered any gold.
    let pool = OverlapPool::simulate(
        11,
        3000,
        5,
        300,
        &[0.92, 0.92, 0.92, 0.92, 0.85],
        &[0.85; 16],
    );
    let newcomers = [4u32, 20];
    let n_gold = pool.n_gold;
    let js: Vec<Judgment> = (0..pool.truth.len())
        .flat_map(|i| {
            let labels = &pool.labels;
            labels
                .annotators_of(i)
                .iter()
                .zip(labels.labels_of(i))
                .filter(move |(a, _)| i >= n_gold || !newcomers.contains(*a))
                .map(move |(&annotator, &label)| Judgment {
                    item: i as u32,
                    annotator,
                    label,
                })
        })
        .collect();
    let labels = LabelSet::new(pool.truth.len(), 21, 2, &js).unwrap();
    let p = ReliabilityPriors::default();
    let mut priors = vec![p.none; 21];
    priors[..4].fill(p.expert);
    let fit = fit_reliability(
        &labels,
        &pool.gold,
        &[],
        &priors,
        ReliabilityEmConfig::default(),
    )
    .unwrap();
    let honest = &fit.annotators[4];
    let biased = &fit.annotators[20];
    assert_eq!(honest.scored.tally.observations, 0);
    assert_eq!(biased.scored.tally.observations, 0);
    assert!(
        honest.reliability > 0.75,
        "honest newcomer at {}",
        honest.reliability
    );
    assert!(
        biased.reliability < 0.6,
        "biased newcomer at {}",
        biased.reliability
    );
    assert!(honest.soft.scored > 10.0);
}

#[test]
fn em_uses_extra_scored_outcomes_and_refuses_mismatched_input() {
    // Two annotators, one item, no gold: qualification answers alone set the reliabilities.
    let labels = LabelSet::new(
        1,
        2,
        2,
        &[
            Judgment {
                item: 0,
                annotator: 0,
                label: 0,
            },
            Judgment {
                item: 0,
                annotator: 1,
                label: 1,
            },
        ],
    )
    .unwrap();
    let p = BetaPrior::new(0.7, 5.0).unwrap();
    let fit = fit_reliability(
        &labels,
        &[None],
        &[tally(20, 0), tally(0, 20)],
        &[p, p],
        ReliabilityEmConfig::default(),
    )
    .unwrap();
    assert!(fit.annotators[0].reliability > 0.9);
    assert!(fit.annotators[1].reliability < 0.2);
    let cfg = ReliabilityEmConfig::default();
    assert!(fit_reliability(&labels, &[], &[], &[p, p], cfg).is_err());
    assert!(fit_reliability(&labels, &[None], &[tally(1, 0)], &[p, p], cfg).is_err());
    assert!(fit_reliability(&labels, &[None], &[], &[p], cfg).is_err());
    assert!(matches!(
        fit_reliability(&labels, &[Some(5)], &[], &[p, p], cfg),
        Err(QualityError::CategoryOutOfRange { index: 5, .. })
    ));
    let bad = ReliabilityEmConfig {
        soft_weight: f64::NAN,
        ..cfg
    };
    assert!(fit_reliability(&labels, &[None], &[], &[p, p], bad).is_err());
}
