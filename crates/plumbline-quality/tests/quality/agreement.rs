//! Agreement: alpha edge cases and cross-checks, Fleiss, Cohen, percent agreement, bootstrap.

use plumbline_quality::agreement::{
    KappaWeights, Level, Metric, Scale, cohen_kappa, cohen_kappa_from_table, coincidence_matrix,
    fleiss_kappa, krippendorff_alpha, krippendorff_alpha_values, percent_agreement,
};
use plumbline_quality::bootstrap::{BootstrapConfig, alpha_bootstrap, quantile_sorted};
use plumbline_quality::{Estimate, Judgment, LabelSet, QualityError, Undefined};

use crate::sim::random_labels;

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

fn kripp_rows() -> Vec<Vec<Option<f64>>> {
    let m = |v: &[i32]| {
        v.iter()
            .map(|x| (*x > 0).then_some(f64::from(*x)))
            .collect()
    };
    vec![
        m(&[1, 2, 3, 3, 2, 1, 4, 1, 2, 0, 0, 0]),
        m(&[1, 2, 3, 3, 2, 2, 4, 1, 2, 5, 0, 3]),
        m(&[0, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, 0]),
        m(&[1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, 0]),
    ]
}

#[test]
fn alpha_undefined_for_one_annotator() {
    let s = set(3, 1, 2, &[(0, 0, 0), (1, 0, 1), (2, 0, 1)]);
    let r = krippendorff_alpha(&s, Metric::Nominal).unwrap();
    assert_eq!(r.alpha, Estimate::Undefined(Undefined::NoPairableValues));
    assert_eq!((r.units, r.pairable_units, r.pairable_values), (3, 0, 0));
}

#[test]
fn alpha_on_one_unit() {
    let equal = set(1, 2, 2, &[(0, 0, 1), (0, 1, 1)]);
    let r = krippendorff_alpha(&equal, Metric::Nominal).unwrap();
    assert_eq!(r.alpha, Estimate::Undefined(Undefined::NoVariation));
    // Two different values in the only unit: D_o = D_e, alpha 0.
    let differ = set(1, 2, 2, &[(0, 0, 0), (0, 1, 1)]);
    let r = krippendorff_alpha(&differ, Metric::Nominal).unwrap();
    assert!(r.alpha.value().unwrap().abs() < 1e-12);
}

#[test]
fn alpha_undefined_when_all_missing_or_empty() {
    let empty = LabelSet::new(5, 3, 4, &[]).unwrap();
    for metric in [Metric::Nominal, Metric::Ordinal] {
        let r = krippendorff_alpha(&empty, metric).unwrap();
        assert_eq!(r.alpha, Estimate::Undefined(Undefined::NoPairableValues));
        assert_eq!(r.units, 0);
    }
    let rows = vec![vec![None, None], vec![None, None]];
    let r = krippendorff_alpha_values(&rows, Level::Interval).unwrap();
    assert_eq!(
        r.alpha.undefined_reason(),
        Some(Undefined::NoPairableValues)
    );
}

#[test]
fn alpha_undefined_for_constant_values_at_every_level() {
    let rows = vec![vec![Some(3.0); 6], vec![Some(3.0); 6], vec![Some(3.0); 6]];
    for level in [
        Level::Nominal,
        Level::Ordinal,
        Level::Interval,
        Level::Ratio,
    ] {
        let r = krippendorff_alpha_values(&rows, level).unwrap();
        assert_eq!(
            r.alpha,
            Estimate::Undefined(Undefined::NoVariation),
            "{level:?}"
        );
        assert_eq!(r.pairable_values, 18);
        assert!(r.observed_disagreement.is_none());
    }
}

#[test]
fn alpha_serializes_undefined_as_null_with_reason() {
    let rows = vec![vec![Some(1.0), None]];
    let r = krippendorff_alpha_values(&rows, Level::Nominal).unwrap();
    let json = serde_json::to_value(&r).unwrap();
    assert!(json["value"].is_null());
    assert_eq!(
        json["undefined_reason"],
        Undefined::NoPairableValues.reason()
    );
    assert_eq!(json["level"], "nominal");
    let ok = krippendorff_alpha_values(&kripp_rows(), Level::Nominal).unwrap();
    let json = serde_json::to_value(&ok).unwrap();
    assert!(json["value"].is_f64() && json["undefined_reason"].is_null());
}

#[test]
fn coincidence_matrix_matches_the_streamed_disagreement() {
    let rows = kripp_rows();
    let scale = Scale::from_observed(rows.iter().flatten().flatten().copied()).unwrap();
    let coded: Vec<Vec<Option<u32>>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|v| v.and_then(|x| scale.index_of(x)))
                .collect()
        })
        .collect();
    let s = LabelSet::from_coder_rows(&coded, scale.len()).unwrap();
    let o = coincidence_matrix(&s);
    let n: f64 = o.iter().flatten().sum();
    assert!((n - 40.0).abs() < 1e-12);
    // Values 1..5 among the 40 pairable values of the worked example (counted by hand).
    let marg: Vec<f64> = o.iter().map(|r| r.iter().sum()).collect();
    for (m, want) in marg.iter().zip([9.0, 13.0, 10.0, 5.0, 3.0]) {
        assert!((m - want).abs() < 1e-12, "{marg:?}");
    }
    let v = scale.values();
    for (metric, d2) in [
        (
            Metric::Nominal,
            Box::new(|a: usize, b: usize| f64::from(u8::from(a != b)))
                as Box<dyn Fn(usize, usize) -> f64>,
        ),
        (
            Metric::Interval(&scale),
            Box::new(|a: usize, b: usize| (v[a] - v[b]).powi(2)),
        ),
        (
            Metric::Ratio(&scale),
            Box::new(|a: usize, b: usize| ((v[a] - v[b]) / (v[a] + v[b])).powi(2)),
        ),
    ] {
        let mut d_o = 0.0;
        let mut d_e = 0.0;
        for a in 0..o.len() {
            for b in 0..o.len() {
                d_o += o[a][b] * d2(a, b) / n;
                d_e += marg[a] * marg[b] * d2(a, b) / (n * (n - 1.0));
            }
        }
        let r = krippendorff_alpha(&s, metric).unwrap();
        assert!((r.observed_disagreement.unwrap() - d_o).abs() < 1e-12);
        assert!((r.expected_disagreement.unwrap() - d_e).abs() < 1e-12);
        assert!((r.alpha.value().unwrap() - (1.0 - d_o / d_e)).abs() < 1e-12);
    }
}

#[test]
fn alpha_refuses_bad_scales_and_labels() {
    assert!(matches!(
        Scale::new(vec![1.0, 1.0]),
        Err(QualityError::BadScale { .. })
    ));
    assert!(matches!(
        Scale::new(vec![f64::NAN]),
        Err(QualityError::BadScale { .. })
    ));
    let neg = Scale::new(vec![-1.0, 2.0]).unwrap();
    let s = set(1, 2, 2, &[(0, 0, 0), (0, 1, 1)]);
    assert!(matches!(
        krippendorff_alpha(&s, Metric::Ratio(&neg)),
        Err(QualityError::NegativeRatioValue { .. })
    ));
    let short = Scale::new(vec![1.0]).unwrap();
    assert!(matches!(
        krippendorff_alpha(&s, Metric::Interval(&short)),
        Err(QualityError::ScaleLength { .. })
    ));
    let dup = [
        Judgment {
            item: 0,
            annotator: 1,
            label: 0,
        },
        Judgment {
            item: 0,
            annotator: 1,
            label: 1,
        },
    ];
    assert_eq!(
        LabelSet::new(1, 2, 2, &dup).unwrap_err(),
        QualityError::DuplicateJudgment {
            item: 0,
            annotator: 1
        }
    );
    let out = [Judgment {
        item: 0,
        annotator: 0,
        label: 2,
    }];
    assert!(matches!(
        LabelSet::new(1, 1, 2, &out),
        Err(QualityError::CategoryOutOfRange { .. })
    ));
}

#[test]
fn fleiss_from_labels_and_its_undefined_cases() {
    // Three items, two raters each.
    let s = set(
        3,
        2,
        2,
        &[
            (0, 0, 0),
            (0, 1, 0),
            (1, 0, 1),
            (1, 1, 1),
            (2, 0, 0),
            (2, 1, 1),
        ],
    );
    let r = fleiss_kappa(&s).unwrap();
    // P̄ = (1 + 1 + 0)/3; p = (0.5, 0.5); P_e = 0.5; κ = (2/3 − 1/2)/(1/2) = 1/3.
    assert!((r.kappa.value().unwrap() - 1.0 / 3.0).abs() < 1e-12);
    let uneven = set(
        2,
        3,
        2,
        &[(0, 0, 0), (0, 1, 0), (1, 0, 1), (1, 1, 1), (1, 2, 1)],
    );
    assert!(matches!(
        fleiss_kappa(&uneven),
        Err(QualityError::UnequalRatings { .. })
    ));
    let constant = set(2, 2, 2, &[(0, 0, 1), (0, 1, 1), (1, 0, 1), (1, 1, 1)]);
    assert_eq!(
        fleiss_kappa(&constant).unwrap().kappa,
        Estimate::Undefined(Undefined::ChanceAgreementOne)
    );
    let one = set(2, 1, 2, &[(0, 0, 1), (1, 0, 0)]);
    assert_eq!(
        fleiss_kappa(&one).unwrap().kappa,
        Estimate::Undefined(Undefined::OneAnnotator)
    );
    let none = LabelSet::new(2, 2, 2, &[]).unwrap();
    assert_eq!(
        fleiss_kappa(&none).unwrap().kappa,
        Estimate::Undefined(Undefined::NoData)
    );
}

#[test]
fn cohen_from_labels_builds_the_table_and_skips_half_rated_items() {
    // The SAS table again, as long-format judgments, plus two items rated by one annotator.
    let table = [[0u32, 4, 1], [0, 8, 0], [0, 1, 5]];
    let mut rows = Vec::new();
    let mut item = 0;
    for (r, row) in table.iter().enumerate() {
        for (c, n) in row.iter().enumerate() {
            for _ in 0..*n {
                rows.push((item, 0, r as u32));
                rows.push((item, 1, c as u32));
                item += 1;
            }
        }
    }
    rows.push((item, 0, 2));
    rows.push((item + 1, 1, 0));
    let s = set(item as usize + 2, 2, 3, &rows);
    let r = cohen_kappa(&s, KappaWeights::None).unwrap();
    assert_eq!((r.items, r.items_skipped), (19, 2));
    assert!((r.kappa.value().unwrap() - 0.484163).abs() < 5e-7);
    assert_eq!(r.table[0], vec![0, 4, 1]);
}

#[test]
fn cohen_declared_categories_change_weighted_kappa_not_unweighted() {
    let kappa = |t: &[Vec<u64>], w| cohen_kappa_from_table(t, w).unwrap().kappa.value().unwrap();
    // Ratings 1, 2 and 4 used: inferred categories {1, 2, 4} (indices 0..3) against the
    // declared scale 1..4, where the unused 3 sits between 2 and 4 and stretches that distance.
    let t3 = vec![vec![5, 0, 2], vec![1, 3, 0], vec![0, 2, 4]];
    let t4 = vec![
        vec![5, 0, 0, 2],
        vec![1, 3, 0, 0],
        vec![0, 0, 0, 0],
        vec![0, 2, 0, 4],
    ];
    let none = KappaWeights::None;
    assert!((kappa(&t3, none) - kappa(&t4, none)).abs() < 1e-12);
    let lin = KappaWeights::Linear;
    // Computed independently: 0.557621 inferred, 0.533666 declared.
    assert!((kappa(&t3, lin) - 0.557_621).abs() < 5e-7);
    assert!(
        (kappa(&t4, lin) - 0.533_666).abs() < 5e-7,
        "the unused 3 moves the weights"
    );
    // An unused category at the end only rescales the weights: no change.
    let t5 = vec![
        vec![5, 0, 2, 0],
        vec![1, 3, 0, 0],
        vec![0, 2, 4, 0],
        vec![0, 0, 0, 0],
    ];
    assert!((kappa(&t3, lin) - kappa(&t5, lin)).abs() < 1e-12);
    // With two categories every weighting is the same.
    let t2 = vec![vec![5, 1], vec![2, 4]];
    assert!((kappa(&t2, none) - kappa(&t2, lin)).abs() < 1e-12);
    assert!((kappa(&t2, none) - kappa(&t2, KappaWeights::Quadratic)).abs() < 1e-12);
}

#[test]
fn cohen_undefined_and_refused_cases() {
    let three = set(1, 3, 2, &[(0, 0, 0)]);
    assert_eq!(
        cohen_kappa(&three, KappaWeights::None).unwrap_err(),
        QualityError::NotTwoAnnotators { found: 3 }
    );
    let same = cohen_kappa_from_table(&[vec![5, 0], vec![0, 0]], KappaWeights::None).unwrap();
    assert_eq!(
        same.kappa,
        Estimate::Undefined(Undefined::ChanceAgreementOne)
    );
    let one = cohen_kappa_from_table(&[vec![5]], KappaWeights::Linear).unwrap();
    assert_eq!(one.kappa, Estimate::Undefined(Undefined::OneCategory));
    let empty = cohen_kappa_from_table(&[vec![0, 0], vec![0, 0]], KappaWeights::None).unwrap();
    assert_eq!(empty.kappa, Estimate::Undefined(Undefined::NoCommonItems));
    assert!(cohen_kappa_from_table(&[vec![1, 0], vec![0]], KappaWeights::None).is_err());
}

#[test]
fn percent_agreement_counts_pairs() {
    // Item 0: a, a, b -> 1 agreeing pair of 3. Item 1: a, a -> 1 of 1. Item 2: one value.
    let s = set(
        3,
        3,
        2,
        &[
            (0, 0, 0),
            (0, 1, 0),
            (0, 2, 1),
            (1, 0, 0),
            (1, 1, 0),
            (2, 2, 1),
        ],
    );
    let r = percent_agreement(&s);
    assert_eq!((r.agreeing_pairs, r.pairs, r.items), (2, 4, 2));
    assert!((r.agreement.value().unwrap() - 0.5).abs() < 1e-12);
    // Annotator 0: item 0 pairs with 1 (agree) and 2 (not); item 1 with 1 (agree): 2 of 3.
    assert_eq!(
        (r.per_annotator[0].agreeing_pairs, r.per_annotator[0].pairs),
        (2, 3)
    );
    assert_eq!(
        (r.per_annotator[2].agreeing_pairs, r.per_annotator[2].pairs),
        (0, 2)
    );
    let lone = set(1, 1, 2, &[(0, 0, 0)]);
    assert_eq!(
        percent_agreement(&lone).agreement,
        Estimate::Undefined(Undefined::NoPairableValues)
    );
}

#[test]
fn bootstrap_is_reproducible_and_brackets_alpha() {
    let s = random_labels(3, 200, 4, 3, 0.2);
    // Add agreement: a second set where annotators copy annotator 0 most of the time.
    let mut js = Vec::new();
    let mut rng = plumbline_quality::rng::Rng::new(11);
    for item in 0..300u32 {
        let truth = rng.below(4) as u32;
        for a in 0..4u32 {
            let label = if rng.chance(0.7) {
                truth
            } else {
                rng.below(4) as u32
            };
            js.push(Judgment {
                item,
                annotator: a,
                label,
            });
        }
    }
    let agreeing = LabelSet::new(300, 4, 4, &js).unwrap();
    let cfg = BootstrapConfig {
        replicates: 400,
        seed: 42,
        confidence: 0.95,
    };
    let a = alpha_bootstrap(&agreeing, Metric::Nominal, cfg).unwrap();
    let b = alpha_bootstrap(&agreeing, Metric::Nominal, cfg).unwrap();
    assert_eq!(
        (a.lower, a.upper),
        (b.lower, b.upper),
        "same seed, same interval"
    );
    let c = alpha_bootstrap(
        &agreeing,
        Metric::Nominal,
        BootstrapConfig { seed: 43, ..cfg },
    )
    .unwrap();
    assert_ne!(a.lower, c.lower, "another seed, another draw");
    let alpha = krippendorff_alpha(&agreeing, Metric::Nominal)
        .unwrap()
        .alpha
        .value()
        .unwrap();
    let (lo, hi) = (a.lower.unwrap(), a.upper.unwrap());
    assert!(lo < alpha && alpha < hi, "{lo} < {alpha} < {hi}");
    assert!(hi - lo < 0.2 && hi - lo > 0.01);
    assert_eq!(a.undefined_replicates, 0);
    // Random labels: alpha near zero, interval around it.
    let r = alpha_bootstrap(&s, Metric::Nominal, cfg).unwrap();
    assert!(r.lower.unwrap() < 0.05 && r.upper.unwrap() > -0.05);
}

#[test]
fn bootstrap_without_pairable_units_is_undefined() {
    let s = set(2, 1, 2, &[(0, 0, 0), (1, 0, 1)]);
    let r = alpha_bootstrap(&s, Metric::Nominal, BootstrapConfig::default()).unwrap();
    assert_eq!(r.undefined_reason, Some(Undefined::NoPairableValues));
    assert!(r.lower.is_none());
    let bad = BootstrapConfig {
        confidence: 1.5,
        ..BootstrapConfig::default()
    };
    assert!(alpha_bootstrap(&s, Metric::Nominal, bad).is_err());
}

#[test]
fn quantile_interpolates_like_r_type_7() {
    let xs = [1.0, 2.0, 3.0, 4.0];
    assert_eq!(quantile_sorted(&xs, 0.0), Some(1.0));
    assert_eq!(quantile_sorted(&xs, 1.0), Some(4.0));
    assert_eq!(quantile_sorted(&xs, 0.5), Some(2.5));
    assert!((quantile_sorted(&xs, 0.025).unwrap() - 1.075).abs() < 1e-12);
    assert_eq!(quantile_sorted(&[], 0.5), None);
}
