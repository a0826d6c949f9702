//! Bradley-Terry: ties, standard errors, normalisations, refusals.

use plumbline_quality::QualityError;
use plumbline_quality::bradley_terry::{
    BradleyTerryConfig, Comparison, Normalization, Winner, bradley_terry, bradley_terry_from_wins,
};
use plumbline_quality::rng::Rng;

fn cmp(left: u32, right: u32, winner: Winner) -> Comparison {
    Comparison {
        left,
        right,
        winner,
    }
}

#[test]
fn two_options_have_the_closed_form() {
    // A beats B 3 times in 4: β_A − β_B = ln 3, Var = 1 / (n p (1 − p)) = 1 / 0.75.
    let cs = [
        cmp(0, 1, Winner::Left),
        cmp(1, 0, Winner::Right),
        cmp(0, 1, Winner::Left),
        cmp(0, 1, Winner::Right),
    ];
    let r = BradleyTerryConfig {
        normalization: Normalization::Reference(1),
        ..Default::default()
    };
    let fit = bradley_terry(2, &cs, r).unwrap();
    assert!((fit.options[0].log_strength - 3f64.ln()).abs() < 1e-9);
    assert!((fit.options[0].std_error - (1.0f64 / 0.75).sqrt()).abs() < 1e-9);
    assert_eq!(fit.options[1].std_error, 0.0);
    assert_eq!((fit.options[0].wins, fit.options[0].comparisons), (3.0, 4));
    let mean = bradley_terry(2, &cs, BradleyTerryConfig::default()).unwrap();
    assert!((mean.options[0].log_strength - 3f64.ln() / 2.0).abs() < 1e-9);
    assert!((mean.options[0].log_strength + mean.options[1].log_strength).abs() < 1e-12);
    assert!((mean.options[0].std_error - (1.0f64 / 0.75).sqrt() / 2.0).abs() < 1e-9);
}

#[test]
fn a_tie_is_half_a_win_each() {
    let with_tie = [
        cmp(0, 1, Winner::Left),
        cmp(0, 1, Winner::Tie),
        cmp(1, 0, Winner::Left),
    ];
    let fit = bradley_terry(2, &with_tie, BradleyTerryConfig::default()).unwrap();
    assert_eq!(fit.options[0].wins, 1.5);
    assert_eq!(fit.options[1].wins, 1.5);
    assert!(fit.options[0].log_strength.abs() < 1e-12);
    let halves = vec![vec![0.0, 2.5], vec![1.5, 0.0]];
    let a = bradley_terry_from_wins(&halves, BradleyTerryConfig::default()).unwrap();
    let cs = [
        cmp(0, 1, Winner::Left),
        cmp(0, 1, Winner::Left),
        cmp(1, 0, Winner::Left),
        cmp(0, 1, Winner::Tie),
    ];
    let b = bradley_terry(2, &cs, BradleyTerryConfig::default()).unwrap();
    assert!((a.options[0].log_strength - b.options[0].log_strength).abs() < 1e-12);
}

#[test]
fn normalisations_agree_on_differences_and_contrast_errors() {
    let mut rng = Rng::new(5);
    let truth: [f64; 5] = [0.8, 0.3, 0.0, -0.4, -1.0];
    let mut cs = Vec::new();
    for _ in 0..5000 {
        let l = rng.below(5) as u32;
        let r = (l + 1 + rng.below(4) as u32) % 5;
        let p = 1.0 / (1.0 + (truth[r as usize] - truth[l as usize]).exp());
        let u = rng.next_f64();
        let w = if u < 0.05 {
            Winner::Tie
        } else if u < 0.05 + 0.95 * p {
            Winner::Left
        } else {
            Winner::Right
        };
        cs.push(cmp(l, r, w));
    }
    let mean = bradley_terry(5, &cs, BradleyTerryConfig::default()).unwrap();
    let refd = bradley_terry(
        5,
        &cs,
        BradleyTerryConfig {
            normalization: Normalization::Reference(2),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(mean.converged && mean.iterations < 20);
    let s: f64 = mean.options.iter().map(|o| o.log_strength).sum();
    assert!(s.abs() < 1e-9);
    for (i, t) in truth.iter().enumerate() {
        let d_mean = mean.options[i].log_strength - mean.options[2].log_strength;
        assert!((d_mean - refd.options[i].log_strength).abs() < 1e-9);
        // Estimates land near the truth (relative to option 2), within four standard errors.
        let err = (refd.options[i].log_strength - t).abs();
        assert!(
            i == 2 || err < 4.0 * refd.options[i].std_error,
            "option {i}: off by {err}"
        );
        assert!(mean.options[i].std_error > 0.0);
    }
    assert_eq!(mean.comparisons, 5000);
}

#[test]
fn standard_errors_match_the_curvature_of_the_likelihood() {
    // Numerically: for the reference parameterisation, Var(β_i) = [I⁻¹]_ii where I is minus
    // the Hessian. Check on three options by finite differences of the log-likelihood.
    let wins = vec![
        vec![0.0, 6.0, 9.0],
        vec![4.0, 0.0, 7.0],
        vec![2.0, 5.0, 0.0],
    ];
    let cfg = BradleyTerryConfig {
        normalization: Normalization::Reference(2),
        ..Default::default()
    };
    let fit = bradley_terry_from_wins(&wins, cfg).unwrap();
    let b = [fit.options[0].log_strength, fit.options[1].log_strength];
    let ll = |x: [f64; 2]| {
        let beta = [x[0], x[1], 0.0];
        let mut s = 0.0;
        for i in 0..3 {
            for j in 0..3 {
                if i != j {
                    s += wins[i][j] * (1.0 / (1.0 + (beta[j] - beta[i]).exp())).ln();
                }
            }
        }
        s
    };
    let h = 1e-4;
    let mut hess = [[0.0; 2]; 2];
    for i in 0..2 {
        for j in 0..2 {
            let f = |di: f64, dj: f64| {
                let mut x = b;
                x[i] += di;
                x[j] += dj;
                ll(x)
            };
            hess[i][j] = (f(h, h) - f(h, -h) - f(-h, h) + f(-h, -h)) / (4.0 * h * h);
        }
    }
    let det = hess[0][0] * hess[1][1] - hess[0][1] * hess[1][0];
    let var0 = -hess[1][1] / det;
    let var1 = -hess[0][0] / det;
    assert!((fit.options[0].std_error - var0.sqrt()).abs() < 1e-5);
    assert!((fit.options[1].std_error - var1.sqrt()).abs() < 1e-5);
}

#[test]
fn refuses_infinite_strengths_self_comparisons_and_bad_indices() {
    let undefeated = [
        cmp(0, 1, Winner::Left),
        cmp(0, 2, Winner::Left),
        cmp(1, 2, Winner::Left),
        cmp(2, 1, Winner::Left),
    ];
    assert!(matches!(
        bradley_terry(3, &undefeated, BradleyTerryConfig::default()),
        Err(QualityError::StrengthNotFinite { .. })
    ));
    let never_compared = [cmp(0, 1, Winner::Left), cmp(1, 0, Winner::Left)];
    assert!(matches!(
        bradley_terry(3, &never_compared, BradleyTerryConfig::default()),
        Err(QualityError::StrengthNotFinite { option: 2, .. })
    ));
    assert!(matches!(
        bradley_terry(2, &[cmp(1, 1, Winner::Tie)], BradleyTerryConfig::default()),
        Err(QualityError::SelfComparison {
            index: 0,
            option: 1
        })
    ));
    assert!(matches!(
        bradley_terry(2, &[cmp(0, 2, Winner::Tie)], BradleyTerryConfig::default()),
        Err(QualityError::OptionOutOfRange { .. })
    ));
    // Only ties: everyone equal, finite.
    let ties = [cmp(0, 1, Winner::Tie)];
    let fit = bradley_terry(2, &ties, BradleyTerryConfig::default()).unwrap();
    assert!(fit.options[0].log_strength.abs() < 1e-12);
}
