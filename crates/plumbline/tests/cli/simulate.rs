//! `plumbline simulate`: a small biased pool through the engine, scored per decision
//! method; bad pool files refused by name; `--check` failing on a missed target.

use crate::support::*;
use serde_json::Value;

/// Two experts right 95% of the time and eight crowd annotators who pick the longer
/// answer 85% of the time (else a coin flip). Probation is off and the threshold 0.6 so
/// that the crowd keeps voting and the majority rule decides by it: at the default 0.9 a
/// majority needs 90% of the votes and decides only near-unanimous items, and on
/// probation the crowd stops early, so majority's accuracy would say little about it.
/// Overlap 3 (one expert, two crowd votes): at overlap 5 four crowd votes whose
/// reliability luck on a few gold answers put near 0.6 outweigh the expert now and then
/// (the one-coin model counts their shared length bias as independent evidence), which
/// `plumbline simulate` shows but a test with fixed bounds should not depend on. Gold at
/// 30%, so that each crowd reliability rests on some thirty gold answers, not ten.
const POOL: &str = r#"
items = 300
gold_items = 100
overlap = 3
gold_rate = 0.3
min_gold_accuracy = 0.0
decision_threshold = 0.6

[[group]]
name = "expert"
count = 2
expertise = "expert"
accuracy = 0.95

[[group]]
name = "crowd"
count = 8
accuracy = 0.5
length_bias = 0.85
"#;

fn decision<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == name)
        .unwrap_or_else(|| panic!("no decision `{name}` in {report:#}"))
}

fn group<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["workforce"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == name)
        .unwrap_or_else(|| panic!("no group `{name}` in {report:#}"))
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn simulate_scores_the_decision_methods_on_a_biased_pool() {
    let env = Env::sqlite();
    let pool = env.file("pool.toml", POOL);
    let run = env
        .run(&["simulate", "--pool", &pool, "--seed", "7", "--json"])
        .ok();
    let r: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(r["pool"]["items"], 300);
    assert_eq!(r["engine"]["judged_items"], 300, "{r:#}");
    assert_eq!(r["engine"]["items"]["open"], 0, "the queue drained: {r:#}");
    let reliability = decision(&r, "reliability");
    let majority = decision(&r, "majority");
    let experts = decision(&r, "experts-only vote");
    let (rel, maj, exp) = (
        f(&reliability["accuracy"]),
        f(&majority["accuracy"]),
        f(&experts["accuracy"]),
    );
    // The crowd's majority follows length, right about half the time; the reliability
    // rule follows the experts.
    assert!(rel > maj + 0.08, "reliability {rel} vs majority {maj}");
    assert!(maj < 0.85, "majority {maj}");
    assert!(f(&majority["chosen_longer"]) > 0.8, "{majority}");
    assert!(
        (rel - exp).abs() < 0.05,
        "reliability {rel} vs experts {exp}"
    );
    assert!(rel > 0.88, "{reliability}");
    assert!(f(&reliability["coverage"]) > 0.85, "{reliability}");
    assert!(
        (0.35..0.65).contains(&f(&reliability["chosen_longer"])),
        "{reliability}"
    );
    // The export's own summary comes along: gold items export their gold answer.
    assert_eq!(
        reliability["export"]["by_decision"]["gold"], 100,
        "{reliability}"
    );
    assert!(decision(&r, "dawid-skene")["accuracy"].is_number());
    assert!(decision(&r, "reliability, experts only")["coverage"].is_number());

    let crowd = group(&r, "crowd");
    assert_eq!(
        crowd["length_flagged"], 8,
        "every crowd annotator flagged: {crowd}"
    );
    assert_eq!(crowd["flagged_for_their_bias"], 8, "{crowd}");
    assert!(f(&crowd["length_share"]) > 0.85, "{crowd}");
    // Experts have no bias; their shares stay near one half. (Not their flags: at
    // p < 0.01, two experts and two tests would raise a false flag in about one run of
    // 25, and escalation shows experts more items whose right answer is the shorter.)
    let expert = group(&r, "expert");
    assert!((0.3..0.7).contains(&f(&expert["length_share"])), "{expert}");
    assert!(
        (0.35..0.65).contains(&f(&expert["position_share"])),
        "{expert}"
    );
    assert_eq!(expert["on_probation"], 0, "{expert}");
    let share = f(&r["workforce"]["expert_judgment_share"]);
    assert!((0.2..0.5).contains(&share), "{share}");
    assert_eq!(r["targets"].as_array().unwrap().len(), 5);
    assert!(run.stderr.contains("simulate:"), "progress on stderr");
}

#[test]
fn simulate_prints_a_readable_report_and_keeps_its_database_when_asked() {
    let env = Env::sqlite();
    let pool = env.file("pool.toml", POOL);
    let keep = env.dir.join("kept");
    let keep = keep.to_str().unwrap();
    let run = env
        .run(&["simulate", "--pool", &pool, "--items", "60", "--keep", keep])
        .ok();
    for needle in [
        "pool: 60 items (+100 gold)",
        "reliability",
        "dawid-skene",
        "majority",
        "experts-only vote",
        "targets (issue 15)",
        "crowd",
    ] {
        assert!(
            run.stdout.contains(needle),
            "`{needle}` in:\n{}",
            run.stdout
        );
    }
    assert!(std::path::Path::new(keep).join("plumbline.db").exists());
    assert!(
        std::path::Path::new(keep)
            .join("preference-majority.jsonl")
            .exists()
    );
    // The kept database is not overwritten.
    env.run(&["simulate", "--pool", &pool, "--items", "10", "--keep", keep])
        .fails_with(&["holds a database already"]);
}

#[test]
fn simulate_refuses_bad_pools_naming_the_problem() {
    let env = Env::sqlite();
    let bad = env.file(
        "unknown.toml",
        "items = 10\n[[group]]\nname = \"crowd\"\ncount = 2\naccuracy = 0.5\nlenght_bias = 0.8\n",
    );
    env.run(&["simulate", "--pool", &bad]).fails_with(&[
        "unknown field `lenght_bias`",
        "line 6",
        "unknown.toml",
    ]);
    let bad = env.file(
        "accuracy.toml",
        "[[group]]\nname = \"expert\"\ncount = 2\naccuracy = 1.5\n",
    );
    env.run(&["simulate", "--pool", &bad]).fails_with(&[
        "group 1 (`expert`)",
        "`accuracy` must lie in [0, 1], got 1.5",
    ]);
    let bad = env.file(
        "count.toml",
        "[[group]]\nname = \"expert\"\ncount = 0\naccuracy = 0.9\n",
    );
    env.run(&["simulate", "--pool", &bad])
        .fails_with(&["`count` must be at least 1"]);
    env.run(&["simulate", "--overlap", "0"])
        .fails_with(&["`overlap` must be between 1 and 100"]);
    env.run(&["simulate", "--decision-threshold", "0.4"])
        .fails_with(&["`decision_threshold`"]);
    env.run(&["simulate", "--pool", "missing.toml"])
        .fails_with(&["missing.toml"]);
}

#[test]
fn simulate_check_fails_on_a_missed_target_and_print_pool_round_trips() {
    let env = Env::sqlite();
    // No experts: the experts-only vote decides nothing, so a target fails.
    let crowd = env.file(
        "crowd.toml",
        "items = 30\ngold_items = 5\noverlap = 2\n[[group]]\nname = \"crowd\"\ncount = 3\naccuracy = 0.7\n",
    );
    let run = env.run(&["simulate", "--pool", &crowd]).ok();
    assert!(run.stdout.contains("FAIL"), "{}", run.stdout);
    env.run(&["simulate", "--pool", &crowd, "--check"])
        .fails_with(&["a target is not met"]);

    let printed = env.run(&["simulate", "--print-pool"]).ok().stdout;
    assert!(printed.contains("[[group]]") && printed.contains("length_bias = 0.85"));
    let file = env.file("default.toml", &printed);
    let run = env
        .run(&[
            "simulate",
            "--pool",
            &file,
            "--items",
            "20",
            "--gold-items",
            "5",
            "--json",
        ])
        .ok();
    let r: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(r["pool"]["items"], 20);
    assert_eq!(r["pool"]["settings"]["overlap"], 5);
    assert_eq!(r["pool"]["groups"].as_array().unwrap().len(), 2);
}
