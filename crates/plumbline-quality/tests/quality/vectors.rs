//! Every published worked example in `tests/data/published_test_vectors.json`, to its precision.

use plumbline_quality::agreement::{
    KappaWeights, Level, cohen_kappa_from_table, fleiss_kappa_from_table, krippendorff_alpha_values,
};
use plumbline_quality::bradley_terry::{
    BradleyTerryConfig, Normalization, bradley_terry_from_wins,
};
use serde_json::Value;

fn vectors() -> Value {
    let text = include_str!("../data/published_test_vectors.json");
    serde_json::from_str(text).expect("the vectors file is JSON")
}

/// Asserts `got` rounds to `published` at the number of decimals `published` is written with.
fn assert_published(what: &str, got: f64, published: &Value) {
    let text = published.to_string();
    let decimals = text.split('.').nth(1).map_or(0, str::len) as i32;
    let want = published.as_f64().expect("a number");
    let tol = 0.5 * 10f64.powi(-decimals) + 1e-12;
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got}, published {want} (to {decimals} decimals)"
    );
}

#[test]
fn krippendorff_2011_worked_example_all_levels() {
    let v = vectors();
    let k = &v["krippendorff_alpha"];
    let rows: Vec<Vec<Option<f64>>> = k["reliability_data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_array().unwrap().iter().map(Value::as_f64).collect())
        .collect();
    for (name, level) in [
        ("nominal", Level::Nominal),
        ("ordinal", Level::Ordinal),
        ("interval", Level::Interval),
        ("ratio", Level::Ratio),
    ] {
        let r = krippendorff_alpha_values(&rows, level).unwrap();
        let a = r.alpha.value().expect("alpha is defined");
        assert_published(name, a, &k["alpha"][name]);
        assert_published(name, a, &k["published_3dp"][name]);
        assert_eq!(
            r.pairable_values, 40,
            "unit 12 drops out, 40 pairable values remain"
        );
        assert_eq!(r.pairable_units, 11);
        assert_eq!(r.units, 12);
        assert_eq!(r.annotators, 4);
    }
    let nominal = krippendorff_alpha_values(&rows, Level::Nominal).unwrap();
    assert_published(
        "nominal D_o",
        nominal.observed_disagreement.unwrap(),
        &Value::from(0.2),
    );
    let de: Value = serde_json::from_str("0.779487").unwrap();
    assert_published("nominal D_e", nominal.expected_disagreement.unwrap(), &de);
}

#[test]
fn fleiss_wikipedia_example() {
    let v = vectors();
    let f = &v["fleiss_kappa"];
    let table: Vec<Vec<u32>> = serde_json::from_value(f["table"].clone()).unwrap();
    let r = fleiss_kappa_from_table(&table).unwrap();
    assert_published("kappa", r.kappa.value().unwrap(), &f["kappa"]);
    assert_published("P_bar", r.p_bar.unwrap(), &f["P_bar"]);
    assert_published("P_e_bar", r.p_e_bar.unwrap(), &f["P_e_bar"]);
    assert_eq!((r.items, r.ratings_per_item, r.categories), (10, 14, 5));
}

#[test]
fn cohen_sas_example_unweighted_linear_quadratic() {
    let v = vectors();
    let c = &v["cohen_kappa"];
    let table: Vec<Vec<u64>> = serde_json::from_value(c["table"].clone()).unwrap();
    for (key, w) in [
        ("kappa", KappaWeights::None),
        ("linear_weighted", KappaWeights::Linear),
        ("quadratic_weighted", KappaWeights::Quadratic),
    ] {
        let r = cohen_kappa_from_table(&table, w).unwrap();
        assert_published(key, r.kappa.value().unwrap(), &c[key]);
        assert_eq!(r.items, 19);
    }
}

#[test]
fn bradley_terry_agresti_american_league_1987() {
    let v = vectors();
    let b = &v["bradley_terry"];
    let teams: Vec<String> = serde_json::from_value(b["teams"].clone()).unwrap();
    let wins: Vec<Vec<f64>> = serde_json::from_value(b["wins_matrix"].clone()).unwrap();
    let baltimore = teams.iter().position(|t| t == "Baltimore").unwrap() as u32;
    let config = BradleyTerryConfig {
        normalization: Normalization::Reference(baltimore),
        ..BradleyTerryConfig::default()
    };
    let fit = bradley_terry_from_wins(&wins, config).unwrap();
    assert!(fit.converged);
    // Published to 4 decimals; the vector's note asks for agreement to 3.
    for (i, team) in teams.iter().enumerate() {
        let published = b["log_ability_relative_to_Baltimore"][team]
            .as_f64()
            .unwrap();
        let got = fit.options[i].log_strength;
        assert!(
            (got - published).abs() < 5e-4,
            "{team}: got {got}, published {published}"
        );
        assert_published(team, got, &b["log_ability_relative_to_Baltimore"][team]);
    }
    assert_eq!(fit.options[baltimore as usize].std_error, 0.0);
    assert_eq!(fit.comparisons, 21 * 13);
}
