//! Bias measures and the exact binomial test.

use plumbline_quality::bias::{BiasConfig, PairwiseJudgment, Side, Winner, bias, binomial_test};
use plumbline_quality::{Estimate, Undefined};

#[test]
fn binomial_test_matches_r() {
    // binom.test(682, 925, p = 3/4) in R's documentation: p-value = 0.3825.
    assert!((binomial_test(682, 925, 0.75) - 0.382_491_559_6).abs() < 1e-9);
    assert!((binomial_test(7, 10, 0.5) - 0.343_75).abs() < 1e-12);
    assert!((binomial_test(9, 10, 0.5) - 0.021_484_375).abs() < 1e-12);
    assert!((binomial_test(60, 100, 0.5) - 0.056_887_933_64).abs() < 1e-9);
    assert!((binomial_test(3, 10, 0.1) - 0.070_190_826_4).abs() < 1e-9);
    assert!((binomial_test(1, 20, 0.3) - 0.012_775_421_31).abs() < 1e-9);
    assert!((binomial_test(527, 1000, 0.5) - 0.093_687_291_48).abs() < 1e-9);
    assert_eq!(binomial_test(5, 10, 0.5), 1.0);
    assert_eq!(binomial_test(0, 0, 0.5), 1.0);
    // Large n stays finite and tiny for a strong effect.
    let p = binomial_test(505_000, 1_000_000, 0.5);
    assert!((p / 1.538_155_503_4e-23 - 1.0).abs() < 1e-6, "{p}");
}

fn pj(annotator: u32, winner: Winner) -> PairwiseJudgment {
    PairwiseJudgment {
        annotator,
        left: 0,
        right: 1,
        winner,
        ..Default::default()
    }
}

#[test]
fn position_bias_counts_first_shown_picks_without_ties() {
    let mut js = Vec::new();
    for k in 0..10 {
        let mut j = pj(0, if k < 8 { Winner::Left } else { Winner::Right });
        j.first_shown = Some(Side::Left);
        js.push(j);
    }
    let mut tie = pj(0, Winner::Tie);
    tie.first_shown = Some(Side::Right);
    js.push(tie);
    js.push(pj(1, Winner::Left)); // no display order recorded
    let r = bias(&js, 2, BiasConfig::default());
    let p = &r.per_annotator[0].position;
    assert_eq!((p.hits, p.n), (8, 10));
    assert!((p.p_value.unwrap() - binomial_test(8, 10, 0.5)).abs() < 1e-15);
    assert_eq!(r.per_annotator[0].ties, 1);
    assert_eq!(
        r.per_annotator[1].position.share,
        Estimate::Undefined(Undefined::NoPositionData)
    );
    assert_eq!((r.pooled.position.n, r.pooled.judgments), (10, 12));
}

#[test]
fn length_bias_uses_pairs_differing_by_more_than_tau() {
    let mk = |l: u32, r: u32, w: Winner| PairwiseJudgment {
        left_len: Some(l),
        right_len: Some(r),
        ..pj(0, w)
    };
    let js = [
        mk(100, 200, Winner::Right), // longer picked, diff 100
        mk(300, 200, Winner::Left),  // longer picked
        mk(300, 200, Winner::Right), // shorter picked
        mk(130, 100, Winner::Left),  // diff exactly 30: not counted at τ = 30
        mk(131, 100, Winner::Left),  // diff 31: counted, longer
        mk(100, 500, Winner::Tie),   // tie: not counted
    ];
    let r = bias(&js, 1, BiasConfig::default());
    assert_eq!((r.pooled.length.hits, r.pooled.length.n), (3, 4));
    assert_eq!(r.length_threshold, 30);
    let r = bias(
        &js,
        1,
        BiasConfig {
            length_threshold: 0,
        },
    );
    assert_eq!((r.pooled.length.hits, r.pooled.length.n), (4, 5));
    let r = bias(
        &js,
        1,
        BiasConfig {
            length_threshold: 1000,
        },
    );
    assert_eq!(
        r.pooled.length.share,
        Estimate::Undefined(Undefined::NoLengthData)
    );
}

#[test]
fn surface_trait_bias_and_priority_inversions() {
    let mk = |lv: bool, rv: bool, w: Winner, inv: Option<bool>| PairwiseJudgment {
        left_hard_violation: Some(lv),
        right_hard_violation: Some(rv),
        priority_inversion: inv,
        ..pj(0, w)
    };
    let js = [
        mk(true, false, Winner::Left, Some(true)), // violator wins (an inversion)
        mk(true, false, Winner::Right, Some(false)), // clean one wins
        mk(false, true, Winner::Right, Some(true)), // violator wins
        mk(true, true, Winner::Left, Some(false)), // both violate: not counted
        mk(false, false, Winner::Left, None),      // neither: not counted; flag unknown
        mk(true, false, Winner::Tie, Some(false)), // tie: not counted for surface trait
    ];
    let r = bias(&js, 1, BiasConfig::default());
    assert_eq!(
        (r.pooled.surface_trait.hits, r.pooled.surface_trait.n),
        (2, 3)
    );
    assert!(r.pooled.surface_trait.p_value.is_none());
    assert_eq!(
        (
            r.pooled.priority_inversion.hits,
            r.pooled.priority_inversion.n
        ),
        (2, 5)
    );
    assert!((r.pooled.priority_inversion.share.value().unwrap() - 0.4).abs() < 1e-12);
}

#[test]
fn all_ties_is_its_own_reason() {
    let mut j = pj(0, Winner::Tie);
    j.first_shown = Some(Side::Left);
    let r = bias(&[j], 1, BiasConfig::default());
    assert_eq!(
        r.pooled.position.share,
        Estimate::Undefined(Undefined::AllTies)
    );
    let json = serde_json::to_value(&r).unwrap();
    assert!(json["pooled"]["position"]["value"].is_null());
    assert_eq!(
        json["pooled"]["position"]["undefined_reason"],
        Undefined::AllTies.reason()
    );
}

#[test]
fn position_and_length_flags_come_from_the_binomial_test() {
    use plumbline_quality::bias::{BIAS_FLAG_P, Share};
    // Annotator 0: picks the first-shown and the longer option 85 times in 100 (flagged);
    // annotator 1: 58 in 100 (p = 0.13, not flagged, though 8 points from even);
    // annotator 2: 9 of 10 (p = 0.021: a large share on too few judgments, not flagged at 0.01).
    let mut js = Vec::new();
    for (a, hits, n) in [(0u32, 85u32, 100u32), (1, 58, 100), (2, 9, 10)] {
        for k in 0..n {
            let w = if k < hits {
                Winner::Left
            } else {
                Winner::Right
            };
            js.push(PairwiseJudgment {
                first_shown: Some(Side::Left),
                left_len: Some(500),
                right_len: Some(100),
                ..pj(a, w)
            });
        }
    }
    let r = bias(&js, 3, BiasConfig::default());
    for s in [&r.per_annotator[0].position, &r.per_annotator[0].length] {
        assert!(s.flagged);
        assert!(s.p_value.unwrap() < 1e-10);
        assert!((s.effect.unwrap() - 0.35).abs() < 1e-12);
    }
    let one = &r.per_annotator[1].length;
    assert!(!one.flagged && (one.effect.unwrap() - 0.08).abs() < 1e-12);
    let two = &r.per_annotator[2].position;
    assert!(two.p_value.unwrap() < 0.05 && two.p_value.unwrap() > BIAS_FLAG_P);
    assert!(!two.flagged);
    // Surface trait and inversions are shares without a test, so never flagged.
    assert!(r.pooled.surface_trait.effect.is_none() && !r.pooled.surface_trait.flagged);
    // Undefined shares carry no test.
    let none = &r.per_annotator[0].surface_trait;
    assert!(none.p_value.is_none() && !none.flagged);
    // The same test for callers with their own counts.
    let s = Share::tested(85, 100);
    assert!(s.flagged && (s.effect.unwrap() - 0.35).abs() < 1e-12);
    assert_eq!(s.p_value, r.per_annotator[0].position.p_value);
    let empty = Share::tested(0, 0);
    assert!(!empty.flagged && empty.effect.is_none());
    assert_eq!(empty.share, Estimate::Undefined(Undefined::NoData));
    let json = serde_json::to_value(&r.per_annotator[0].length).unwrap();
    assert_eq!(json["flagged"], true);
    assert!((json["effect"].as_f64().unwrap() - 0.35).abs() < 1e-12);
}
