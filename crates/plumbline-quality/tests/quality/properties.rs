//! Property tests: perfect agreement, invariances, bounds.

use plumbline_quality::agreement::{
    KappaWeights, Level, Metric, Scale, cohen_kappa_from_table, fleiss_kappa_from_table,
    krippendorff_alpha, krippendorff_alpha_values, percent_agreement,
};
use plumbline_quality::gold::{Z_95, wilson_interval};
use plumbline_quality::{Judgment, LabelSet};
use proptest::prelude::*;

const LEVELS: [Level; 4] = [
    Level::Nominal,
    Level::Ordinal,
    Level::Interval,
    Level::Ratio,
];

/// Reliability data `rows[coder][unit]` with values 1..=6 and some missing.
fn reliability() -> impl Strategy<Value = Vec<Vec<Option<f64>>>> {
    (2usize..6, 1usize..25).prop_flat_map(|(coders, units)| {
        prop::collection::vec(
            prop::collection::vec(
                prop::option::weighted(0.8, (1u8..=6).prop_map(f64::from)),
                units,
            ),
            coders,
        )
    })
}

/// Long-format categorical judgments over `k` categories.
fn labels() -> impl Strategy<Value = LabelSet> {
    (1usize..30, 1usize..6, 2u32..6).prop_flat_map(|(items, anns, k)| {
        prop::collection::vec(prop::option::weighted(0.7, 0..k), items * anns).prop_map(
            move |cells| {
                let js: Vec<Judgment> = cells
                    .iter()
                    .enumerate()
                    .filter_map(|(idx, c)| {
                        c.map(|label| Judgment {
                            item: (idx / anns) as u32,
                            annotator: (idx % anns) as u32,
                            label,
                        })
                    })
                    .collect();
                LabelSet::new(items, anns, k as usize, &js).unwrap()
            },
        )
    })
}

proptest! {
    #[test]
    fn alpha_is_one_under_perfect_agreement(
        values in prop::collection::vec(1u8..=6, 2..30),
        coders in 2usize..6,
        gaps in prop::collection::vec(any::<bool>(), 0..200),
    ) {
        // Every coder gives each unit the same value; some cells missing, but every unit
        // keeps two values. Needs two distinct values, else alpha is undefined.
        prop_assume!(values.iter().any(|v| *v != values[0]));
        let rows: Vec<Vec<Option<f64>>> = (0..coders)
            .map(|c| {
                values.iter().enumerate().map(|(u, v)| {
                    let missing = c >= 2 && gaps.get(u * coders + c).copied().unwrap_or(false);
                    (!missing).then_some(f64::from(*v))
                }).collect()
            })
            .collect();
        for level in LEVELS {
            let a = krippendorff_alpha_values(&rows, level).unwrap().alpha.value();
            prop_assert!(a.is_some_and(|a| (a - 1.0).abs() < 1e-12), "{level:?}: {a:?}");
        }
    }

    #[test]
    fn nominal_alpha_is_invariant_under_relabelling(
        s in labels(),
        seed in any::<u64>(),
    ) {
        let k = s.n_categories();
        let mut perm: Vec<u32> = (0..k as u32).collect();
        let mut rng = plumbline_quality::rng::Rng::new(seed);
        for i in (1..k).rev() {
            perm.swap(i, rng.below(i as u64 + 1) as usize);
        }
        let js: Vec<Judgment> = (0..s.n_items())
            .flat_map(|i| {
                s.annotators_of(i).iter().zip(s.labels_of(i)).map(move |(a, l)| (i, *a, *l))
            })
            .map(|(i, a, l)| Judgment { item: i as u32, annotator: a, label: perm[l as usize] })
            .collect();
        let relabelled = LabelSet::new(s.n_items(), s.n_annotators(), k, &js).unwrap();
        let a = krippendorff_alpha(&s, Metric::Nominal).unwrap().alpha;
        let b = krippendorff_alpha(&relabelled, Metric::Nominal).unwrap().alpha;
        match (a.value(), b.value()) {
            (Some(x), Some(y)) => prop_assert!((x - y).abs() < 1e-12),
            _ => prop_assert_eq!(a, b),
        }
    }

    #[test]
    fn alpha_is_at_most_one_and_finite(rows in reliability()) {
        for level in LEVELS {
            let r = krippendorff_alpha_values(&rows, level).unwrap();
            if let Some(a) = r.alpha.value() {
                prop_assert!(a.is_finite() && a <= 1.0 + 1e-12, "{level:?}: {a}");
                prop_assert!(r.observed_disagreement.unwrap() >= 0.0);
                prop_assert!(r.expected_disagreement.unwrap() > 0.0);
            } else {
                prop_assert!(r.alpha.undefined_reason().is_some());
            }
        }
    }

    #[test]
    fn ordinal_alpha_depends_only_on_order_and_interval_survives_affine_maps(
        rows in reliability(),
        scale in 0.1f64..10.0,
        shift in -5.0f64..5.0,
    ) {
        // Ordinal: any increasing map of the values; interval: x -> a x + b; ratio: x -> a x.
        let map = |f: &dyn Fn(f64) -> f64| -> Vec<Vec<Option<f64>>> {
            rows.iter().map(|r| r.iter().map(|v| v.map(f)).collect()).collect()
        };
        let same = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(x), Some(y)) => (x - y).abs() < 1e-9,
            (None, None) => true,
            _ => false,
        };
        let base = |lv| krippendorff_alpha_values(&rows, lv).unwrap().alpha.value();
        let cubed = map(&|x| x * x * x + shift);
        prop_assert!(same(base(Level::Ordinal), krippendorff_alpha_values(&cubed, Level::Ordinal).unwrap().alpha.value()));
        let affine = map(&|x| scale * x + shift);
        prop_assert!(same(base(Level::Interval), krippendorff_alpha_values(&affine, Level::Interval).unwrap().alpha.value()));
        let scaled = map(&|x| scale * x);
        prop_assert!(same(base(Level::Ratio), krippendorff_alpha_values(&scaled, Level::Ratio).unwrap().alpha.value()));
    }

    #[test]
    fn cohen_kappa_is_within_bounds(
        cells in prop::collection::vec(0u64..20, 9),
    ) {
        let table: Vec<Vec<u64>> = cells.chunks(3).map(<[u64]>::to_vec).collect();
        let r = cohen_kappa_from_table(&table, KappaWeights::None).unwrap();
        if let Some(k) = r.kappa.value() {
            prop_assert!((-1.0 - 1e-12..=1.0 + 1e-12).contains(&k), "kappa {k}");
        }
        for w in [KappaWeights::Linear, KappaWeights::Quadratic] {
            if let Some(k) = cohen_kappa_from_table(&table, w).unwrap().kappa.value() {
                prop_assert!(k <= 1.0 + 1e-12 && k.is_finite(), "{w:?} kappa {k}");
            }
        }
    }

    #[test]
    fn fleiss_kappa_is_between_minus_one_over_n_minus_one_and_one(
        raters in 2u32..8,
        rows in prop::collection::vec(prop::collection::vec(0u32..100, 4), 1..20),
    ) {
        // Spread `raters` ratings over 4 categories in proportion to the random weights.
        let table: Vec<Vec<u32>> = rows.iter().map(|w| {
            let mut row = vec![0u32; 4];
            let total: u32 = w.iter().sum::<u32>().max(1);
            let mut left = raters;
            for (c, x) in w.iter().enumerate().take(3) {
                let n = (raters * x / total).min(left);
                row[c] = n;
                left -= n;
            }
            row[3] = left;
            row
        }).collect();
        let r = fleiss_kappa_from_table(&table).unwrap();
        if let Some(k) = r.kappa.value() {
            let floor = -1.0 / f64::from(raters - 1);
            prop_assert!(k >= floor - 1e-12 && k <= 1.0 + 1e-12, "kappa {k}, floor {floor}");
        }
    }

    #[test]
    fn percent_agreement_is_a_share(s in labels()) {
        let r = percent_agreement(&s);
        if let Some(p) = r.agreement.value() {
            prop_assert!((0.0..=1.0).contains(&p));
        }
        prop_assert!(r.agreeing_pairs <= r.pairs);
    }

    #[test]
    fn wilson_interval_contains_the_estimate_and_stays_in_the_unit_interval(
        n in 1u64..1_000_000,
        frac in 0.0f64..=1.0,
    ) {
        let x = ((n as f64) * frac).round() as u64;
        let (lo, hi) = wilson_interval(x, n, Z_95).unwrap();
        let p = x as f64 / n as f64;
        prop_assert!(0.0 <= lo && lo <= p && p <= hi && hi <= 1.0, "{lo} {p} {hi}");
        prop_assert!(hi - lo > 0.0);
    }

    #[test]
    fn interval_alpha_from_a_scale_matches_the_values_api(rows in reliability()) {
        let scale = Scale::from_observed(rows.iter().flatten().flatten().copied()).unwrap();
        let coded: Vec<Vec<Option<u32>>> = rows.iter()
            .map(|r| r.iter().map(|v| v.and_then(|x| scale.index_of(x))).collect())
            .collect();
        let s = LabelSet::from_coder_rows(&coded, scale.len()).unwrap();
        let a = krippendorff_alpha(&s, Metric::Interval(&scale)).unwrap().alpha;
        let b = krippendorff_alpha_values(&rows, Level::Interval).unwrap().alpha;
        prop_assert_eq!(a, b);
    }
}

/// Alpha straight from Krippendorff's definitions: the explicit coincidence matrix and each
/// level's δ² written out (ordinal as Σ_{g=c..k} n_g − (n_c + n_k)/2, squared).
fn alpha_by_definition(rows: &[Vec<Option<f64>>], level: Level) -> Option<f64> {
    let scale = Scale::from_observed(rows.iter().flatten().flatten().copied()).ok()?;
    let coded: Vec<Vec<Option<u32>>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|v| v.and_then(|x| scale.index_of(x)))
                .collect()
        })
        .collect();
    let s = LabelSet::from_coder_rows(&coded, scale.len()).ok()?;
    let o = plumbline_quality::agreement::coincidence_matrix(&s);
    let k = o.len();
    let marg: Vec<f64> = o.iter().map(|r| r.iter().sum()).collect();
    let n: f64 = marg.iter().sum();
    let v = scale.values();
    let d2 = |c: usize, e: usize| -> f64 {
        match level {
            Level::Nominal => f64::from(u8::from(c != e)),
            Level::Ordinal => {
                let (lo, hi) = (c.min(e), c.max(e));
                let s: f64 = marg[lo..=hi].iter().sum();
                (s - (marg[c] + marg[e]) / 2.0).powi(2)
            }
            Level::Interval => (v[c] - v[e]).powi(2),
            Level::Ratio => ((v[c] - v[e]) / (v[c] + v[e])).powi(2),
        }
    };
    let (mut obs, mut exp) = (0.0, 0.0);
    for c in 0..k {
        for e in 0..k {
            obs += o[c][e] * d2(c, e);
            exp += marg[c] * marg[e] * d2(c, e);
        }
    }
    (n > 0.0 && exp > 0.0).then(|| 1.0 - (n - 1.0) * obs / exp)
}

proptest! {
    #[test]
    fn fast_alpha_equals_alpha_by_definition(rows in reliability()) {
        for level in LEVELS {
            let fast = krippendorff_alpha_values(&rows, level).unwrap().alpha.value();
            let slow = alpha_by_definition(&rows, level);
            match (fast, slow) {
                (Some(a), Some(b)) => prop_assert!((a - b).abs() < 1e-9, "{level:?}: {a} vs {b}"),
                (None, None) => {}
                other => prop_assert!(false, "{level:?}: {other:?}"),
            }
        }
    }
}
