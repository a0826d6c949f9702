//! Log-gamma, the regularized incomplete beta function and the Beta quantile.

use plumbline_quality::special::{beta_cdf, beta_quantile, ln_gamma};

/// Relative closeness.
fn close(got: f64, want: f64, rel: f64) -> bool {
    (got - want).abs() <= rel * want.abs().max(1e-300)
}

#[test]
fn ln_gamma_matches_mpmath() {
    // mpmath.loggamma at 50 digits.
    for (x, want) in [
        (0.1, 2.252_712_651_734_206),
        (0.5, 0.572_364_942_924_700_1),
        (2.5, 0.284_682_870_472_919_2),
        (10.0, 12.801_827_480_081_469),
        (100.5, 361.435_540_467_777_6),
        (3000.25, 21_018.020_046_118_94),
    ] {
        let got = ln_gamma(x).unwrap();
        assert!(close(got, want, 1e-13), "ln Γ({x}) = {got}, want {want}");
    }
    assert!(ln_gamma(1.0).unwrap().abs() < 1e-14);
    assert_eq!(ln_gamma(0.0), None);
    assert_eq!(ln_gamma(-1.5), None);
    assert_eq!(ln_gamma(f64::NAN), None);
}

#[test]
fn incomplete_beta_matches_mpmath() {
    // mpmath.betainc(a, b, 0, x, regularized=True) at 50 digits.
    for (x, a, b, want) in [
        (0.3, 2.5, 4.5, 0.406_539_016_682_459_25),
        (0.9, 46.5, 5.5, 0.506_877_693_250_683_2),
        (0.5, 0.5, 0.5, 0.5),
        (0.01, 0.3, 7.0, 0.487_492_050_933_724_7),
        (0.95, 300.25, 25.75, 0.984_676_108_389_951_7),
        (0.7, 1000.5, 400.5, 0.121_424_830_238_014_63),
        (0.999, 4.5, 0.5, 0.926_461_383_368_851_2),
    ] {
        let got = beta_cdf(x, a, b).unwrap();
        assert!(
            close(got, want, 1e-11),
            "I_{x}({a}, {b}) = {got}, want {want}"
        );
    }
}

#[test]
fn incomplete_beta_meets_closed_forms() {
    for i in 1..100 {
        let x = f64::from(i) / 100.0;
        // Beta(1, 1) is uniform; Beta(a, 1) has CDF x^a; Beta(1, b) has 1 − (1 − x)^b.
        assert!(close(beta_cdf(x, 1.0, 1.0).unwrap(), x, 1e-13));
        assert!(close(beta_cdf(x, 3.7, 1.0).unwrap(), x.powf(3.7), 1e-12));
        assert!(close(
            beta_cdf(x, 1.0, 2.2).unwrap(),
            1.0 - (1.0 - x).powf(2.2),
            1e-12
        ));
        // Integer shapes: I_x(a, b) = P(Binomial(a + b − 1, x) ≥ a).
        let (a, b) = (4u32, 7u32);
        let n = a + b - 1;
        let tail: f64 = (a..=n)
            .map(|j| binom(n, j) * x.powi(j as i32) * (1.0 - x).powi((n - j) as i32))
            .sum();
        assert!(
            close(beta_cdf(x, 4.0, 7.0).unwrap(), tail, 1e-12),
            "x = {x}"
        );
        // Symmetry: I_x(a, b) = 1 − I_{1−x}(b, a).
        let s = beta_cdf(x, 2.5, 9.5).unwrap() + beta_cdf(1.0 - x, 9.5, 2.5).unwrap();
        assert!((s - 1.0).abs() < 1e-13);
    }
    assert_eq!(beta_cdf(0.0, 2.0, 3.0), Some(0.0));
    assert_eq!(beta_cdf(1.0, 2.0, 3.0), Some(1.0));
    assert_eq!(beta_cdf(0.5, 0.0, 3.0), None);
    assert_eq!(beta_cdf(0.5, 2.0, f64::INFINITY), None);
}

fn binom(n: u32, k: u32) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * f64::from(n - i) / f64::from(i + 1))
}

#[test]
fn beta_quantile_matches_mpmath() {
    // Bisection on mpmath.betainc at 40 digits.
    for (p, a, b, want) in [
        (0.025, 4.5, 0.5, 0.555_237_382_342_360_4),
        (0.975, 4.5, 0.5, 0.999_884_667_211_761_7),
        (0.025, 3.25, 1.75, 0.236_413_906_663_177_1),
        (0.975, 3.25, 1.75, 0.954_022_288_186_921_7),
        (0.025, 72.5, 8.5, 0.820_176_184_321_268_6),
        (0.975, 72.5, 8.5, 0.951_575_085_714_204_2),
        (0.025, 0.2, 0.3, 8.728_366_438_691_589e-8),
        (0.5, 2000.5, 1000.5, 0.666_648_146_548_729_3),
        (0.001, 2.0, 3.0, 0.013_022_947_370_814_272),
    ] {
        let got = beta_quantile(p, a, b).unwrap();
        assert!(
            close(got, want, 1e-9),
            "Beta({a}, {b}) quantile {p} = {got}, want {want}"
        );
    }
    assert_eq!(beta_quantile(0.0, 2.0, 3.0), Some(0.0));
    assert_eq!(beta_quantile(1.0, 2.0, 3.0), Some(1.0));
    assert_eq!(beta_quantile(1.5, 2.0, 3.0), None);
    assert_eq!(beta_quantile(0.5, -1.0, 3.0), None);
}

#[test]
fn beta_quantile_inverts_the_cdf() {
    for &(a, b) in &[(0.3, 0.4), (0.5, 4.5), (2.0, 2.0), (40.0, 3.0), (1e4, 2e4)] {
        for i in 1..40 {
            let p = f64::from(i) / 40.0;
            let x = beta_quantile(p, a, b).unwrap();
            assert!((0.0..=1.0).contains(&x));
            let back = beta_cdf(x, a, b).unwrap();
            assert!(
                (back - p).abs() < 1e-10,
                "Beta({a}, {b}): p {p} -> x {x} -> {back}"
            );
        }
    }
    // Closed form: Beta(a, 1) quantile is p^(1/a).
    let x = beta_quantile(0.3, 2.5, 1.0).unwrap();
    assert!(close(x, 0.3f64.powf(1.0 / 2.5), 1e-12));
}
