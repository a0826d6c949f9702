//! Gold accuracy and Wilson intervals.

use plumbline_quality::gold::{GoldAccuracy, Z_95, gold_accuracy, wilson_interval};
use plumbline_quality::{Estimate, Judgment, LabelSet, Undefined};

#[test]
fn wilson_matches_reference_values() {
    let (lo, hi) = wilson_interval(81, 263, Z_95).unwrap();
    assert!(
        (lo - 0.255_288_5).abs() < 1e-6 && (hi - 0.366_209_6).abs() < 1e-6,
        "{lo} {hi}"
    );
    let (lo, hi) = wilson_interval(0, 10, Z_95).unwrap();
    assert!(lo == 0.0 && (hi - 0.277_532_8).abs() < 1e-6);
    let (lo, hi) = wilson_interval(10, 10, Z_95).unwrap();
    assert!((lo - 0.722_467_2).abs() < 1e-6 && hi == 1.0);
    assert_eq!(wilson_interval(0, 0, Z_95), None);
}

#[test]
fn gold_accuracy_per_annotator_and_pooled() {
    let js = [
        Judgment {
            item: 0,
            annotator: 0,
            label: 1,
        },
        Judgment {
            item: 0,
            annotator: 1,
            label: 0,
        },
        Judgment {
            item: 1,
            annotator: 0,
            label: 0,
        },
        Judgment {
            item: 2,
            annotator: 1,
            label: 1,
        },
    ];
    let s = LabelSet::new(3, 3, 2, &js).unwrap();
    let r = gold_accuracy(&s, &[Some(1), Some(0), None]).unwrap();
    assert_eq!((r.pooled.correct, r.pooled.total), (2, 3));
    assert_eq!(
        (r.per_annotator[0].correct, r.per_annotator[0].total),
        (2, 2)
    );
    assert_eq!(
        (r.per_annotator[1].correct, r.per_annotator[1].total),
        (0, 1)
    );
    assert_eq!(
        r.per_annotator[2].accuracy,
        Estimate::Undefined(Undefined::NoGold)
    );
    assert!(r.per_annotator[2].lower.is_none());
    assert!(gold_accuracy(&s, &[Some(1)]).is_err());
    let g = GoldAccuracy::new(3, 4);
    assert!(g.lower.unwrap() < 0.75 && g.upper.unwrap() > 0.75);
}

#[test]
fn probation_uses_the_wilson_upper_bound() {
    use plumbline_quality::gold::{below_min_accuracy, wilson_upper};
    assert_eq!(
        wilson_upper(81, 263, Z_95),
        wilson_interval(81, 263, Z_95).map(|i| i.1)
    );
    assert_eq!(wilson_upper(0, 0, Z_95), None);
    // 6 of 10 right: upper bound 0.83, so not clearly below 0.8, but clearly below 0.9.
    assert!(!below_min_accuracy(6, 10, 0.8));
    assert!(below_min_accuracy(6, 10, 0.9));
    // 60 of 100: upper bound 0.69, clearly below 0.7; no gold is never probation.
    assert!(below_min_accuracy(60, 100, 0.7));
    assert!(!below_min_accuracy(0, 0, 0.7));
    let g = GoldAccuracy::new(60, 100);
    assert!(g.below(0.7) && !g.below(0.65));
}
