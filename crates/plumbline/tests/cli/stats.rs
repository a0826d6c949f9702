//! `plumbline stats …` end to end: files in, numbers out, bad input refused with its line.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;

static N: AtomicU32 = AtomicU32::new(0);

/// A fresh scratch directory for one test's files.
fn scratch() -> PathBuf {
    let n = N.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("plumbline-stats-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

/// Runs `plumbline stats ARGS`: (exit code, stdout, stderr).
fn stats(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_plumbline"))
        .arg("stats")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[track_caller]
fn ok(args: &[&str]) -> String {
    let (code, out, err) = stats(args);
    assert_eq!(code, 0, "stats {args:?} failed: {err}");
    out
}

#[track_caller]
fn ok_json(args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.push("--json");
    serde_json::from_str(&ok(&a)).expect("JSON output")
}

#[track_caller]
fn fails(args: &[&str], needles: &[&str]) {
    let (code, out, err) = stats(args);
    assert_ne!(code, 0, "stats {args:?} should fail; printed {out}");
    for n in needles {
        assert!(err.contains(n), "expected `{n}` in: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

fn vectors() -> Value {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../plumbline-quality/tests/data/published_test_vectors.json"
    );
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// Krippendorff's worked example as `item,annotator,value` CSV; missing values as empty cells.
fn krippendorff_csv() -> String {
    let v = vectors();
    let mut s = String::from("item,annotator,value\n");
    for (c, row) in v["krippendorff_alpha"]["reliability_data"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        for (u, x) in row.as_array().unwrap().iter().enumerate() {
            let x = x.as_f64().map(|x| x.to_string()).unwrap_or_default();
            s.push_str(&format!("unit{},coder{},{x}\n", u + 1, c + 1));
        }
    }
    s
}

#[test]
fn agreement_reproduces_krippendorff_at_every_level() {
    let dir = scratch();
    let f = write(&dir, "k.csv", &krippendorff_csv());
    let v = vectors();
    for level in ["nominal", "ordinal", "interval", "ratio"] {
        let j = ok_json(&["agreement", "--input", &f, "--level", level]);
        let want = v["krippendorff_alpha"]["alpha"][level].as_f64().unwrap();
        let got = j["value"].as_f64().unwrap();
        assert!((got - want).abs() < 5e-7, "{level}: {got} vs {want}");
        assert_eq!(j["pairable_values"], 40);
        assert_eq!(j["units"], 12);
        assert_eq!(j["annotators"], 4);
        assert_eq!(j["missing_values"], 7);
        assert_eq!(j["level"], level);
        let text = ok(&["agreement", "--input", &f, "--level", level]);
        assert!(text.contains(&format!("{want:.6}")), "{text}");
    }
}

#[test]
fn agreement_bootstrap_is_reproducible_by_seed() {
    let dir = scratch();
    let f = write(&dir, "k.csv", &krippendorff_csv());
    let args = [
        "agreement",
        "--input",
        &f,
        "--level",
        "interval",
        "--bootstrap",
        "300",
        "--seed",
        "9",
    ];
    let a = ok_json(&args);
    let b = ok_json(&args);
    assert_eq!(a["bootstrap"], b["bootstrap"]);
    let (lo, hi) = (
        a["bootstrap"]["lower"].as_f64().unwrap(),
        a["bootstrap"]["upper"].as_f64().unwrap(),
    );
    assert!(lo < 0.849107 && 0.849107 < hi && hi <= 1.0);
    assert_eq!(a["bootstrap"]["replicates"], 300);
}

#[test]
fn agreement_accepts_jsonl_and_declared_ordinal_categories() {
    let dir = scratch();
    let rows = [
        ("a", "x", "low"),
        ("a", "y", "low"),
        ("b", "x", "high"),
        ("b", "y", "medium"),
        ("c", "x", "medium"),
        ("c", "y", "medium"),
        ("d", "x", "high"),
        ("d", "y", "high"),
    ];
    let text: String = rows
        .iter()
        .map(|(i, a, v)| format!("{{\"item\":\"{i}\",\"annotator\":\"{a}\",\"value\":\"{v}\"}}\n"))
        .collect();
    let f = write(&dir, "o.jsonl", &text);
    let j = ok_json(&[
        "agreement",
        "--input",
        &f,
        "--level",
        "ordinal",
        "--categories",
        "low,medium,high",
    ]);
    assert_eq!(
        j["categories"],
        serde_json::json!(["low", "medium", "high"])
    );
    let with_numbers: String = text
        .replace("\"low\"", "1")
        .replace("\"medium\"", "2")
        .replace("\"high\"", "3");
    let g = write(&dir, "n.jsonl", &with_numbers);
    let k = ok_json(&["agreement", "--input", &g, "--level", "ordinal"]);
    assert_eq!(
        j["value"], k["value"],
        "declared order equals numeric order"
    );
    // Without a declared order, words cannot be ordinal.
    fails(
        &["agreement", "--input", &f, "--level", "ordinal"],
        &["line 1", "not a number", "--categories"],
    );
    fails(
        &[
            "agreement",
            "--input",
            &f,
            "--level",
            "nominal",
            "--categories",
            "low,high",
        ],
        &["line 4", "medium", "declared"],
    );
}

#[test]
fn undefined_results_are_named_not_nan() {
    let dir = scratch();
    let one = write(&dir, "one.csv", "item,annotator,value\na,x,1\nb,x,2\n");
    let j = ok_json(&["agreement", "--input", &one]);
    assert!(j["value"].is_null());
    assert!(
        j["undefined_reason"]
            .as_str()
            .unwrap()
            .contains("two or more values")
    );
    let text = ok(&["agreement", "--input", &one]);
    assert!(
        text.contains("undefined: no unit has two or more values"),
        "{text}"
    );
    assert!(!text.contains("NaN"));
    let same = write(
        &dir,
        "same.csv",
        "item,annotator,value\na,x,1\na,y,1\nb,x,1\nb,y,1\n",
    );
    let j = ok_json(&["agreement", "--input", &same, "--level", "interval"]);
    assert!(j["value"].is_null());
    assert!(
        j["undefined_reason"]
            .as_str()
            .unwrap()
            .contains("all pairable values are equal")
    );
    let j = ok_json(&["fleiss", "--input", &same]);
    assert!(j["value"].is_null() && j["undefined_reason"].is_string());
}

#[test]
fn fleiss_reproduces_the_published_example_and_refuses_uneven_items() {
    let dir = scratch();
    let v = vectors();
    let mut s = String::from("item,annotator,value\n");
    for (i, row) in v["fleiss_kappa"]["table"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let mut rater = 0;
        for (c, n) in row.as_array().unwrap().iter().enumerate() {
            for _ in 0..n.as_u64().unwrap() {
                s.push_str(&format!("s{i},r{rater},cat{c}\n"));
                rater += 1;
            }
        }
    }
    let f = write(&dir, "f.csv", &s);
    let j = ok_json(&["fleiss", "--input", &f]);
    assert!((j["value"].as_f64().unwrap() - 0.209931).abs() < 5e-7);
    assert_eq!(j["ratings_per_item"], 14);
    assert_eq!(j["items"], 10);
    let f = write(&dir, "k.csv", &krippendorff_csv());
    fails(
        &["fleiss", "--input", &f],
        &["same number of ratings", "unit1", "stats agreement"],
    );
}

fn cohen_jsonl() -> String {
    let v = vectors();
    let mut s = String::new();
    let mut item = 0;
    for (a, row) in v["cohen_kappa"]["table"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        for (b, n) in row.as_array().unwrap().iter().enumerate() {
            for _ in 0..n.as_u64().unwrap() {
                s.push_str(&format!(
                    "{{\"item\":{item},\"annotator\":\"r1\",\"value\":{a}}}\n"
                ));
                s.push_str(&format!(
                    "{{\"item\":{item},\"annotator\":\"r2\",\"value\":{b}}}\n"
                ));
                item += 1;
            }
        }
    }
    s
}

#[test]
fn cohen_reproduces_sas_with_each_weighting() {
    let dir = scratch();
    let f = write(&dir, "c.jsonl", &cohen_jsonl());
    let v = vectors();
    for (w, key) in [
        ("none", "kappa"),
        ("linear", "linear_weighted"),
        ("quadratic", "quadratic_weighted"),
    ] {
        let j = ok_json(&["cohen", "--input", &f, "--weights", w]);
        let want = v["cohen_kappa"][key].as_f64().unwrap();
        assert!((j["value"].as_f64().unwrap() - want).abs() < 5e-7, "{w}");
        assert_eq!(j["items"], 19);
        assert_eq!(j["annotators"], serde_json::json!(["r1", "r2"]));
    }
    // Declaring an extra category between used ones changes the weighted value.
    let j = ok_json(&[
        "cohen",
        "--input",
        &f,
        "--weights",
        "linear",
        "--categories",
        "0,1,1.5,2",
    ]);
    assert!((j["value"].as_f64().unwrap() - 0.470120).abs() > 1e-3);
    let three = write(
        &dir,
        "three.csv",
        "item,annotator,value\na,x,1\na,y,1\na,z,2\n",
    );
    fails(
        &["cohen", "--input", &three],
        &["exactly two annotators", "found 3"],
    );
}

#[test]
fn dawid_skene_and_every_aggregate_method() {
    let dir = scratch();
    // Three annotators; "bad" disagrees with the two others on every item.
    let mut s = String::from("item,annotator,value\n");
    for i in 0..30 {
        let truth = if i % 3 == 0 { "yes" } else { "no" };
        let other = if truth == "yes" { "no" } else { "yes" };
        s.push_str(&format!(
            "i{i},good1,{truth}\ni{i},good2,{truth}\ni{i},bad,{other}\n"
        ));
    }
    let f = write(&dir, "l.csv", &s);
    let ds = ok_json(&["dawid-skene", "--input", &f]);
    assert_eq!(ds["converged"], true);
    assert_eq!(ds["items"][0]["item"], "i0");
    assert_eq!(ds["items"][0]["label"], "yes");
    assert_eq!(ds["items"][1]["label"], "no");
    let bad = ds["annotators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["annotator"] == "bad")
        .unwrap();
    assert!(bad["value"].as_f64().unwrap() < 0.1);
    let text = ok(&["dawid-skene", "--input", &f]);
    assert!(
        text.contains("converged") && text.contains("i0\tyes"),
        "{text}"
    );

    let m = ok_json(&["aggregate", "--input", &f, "--method", "majority"]);
    assert_eq!(m["items"][0]["label"], "yes");
    assert!((m["items"][0]["posterior"]["yes"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-12);

    let w = write(&dir, "w.csv", "annotator,weight\ngood1,1\ngood2,1\nbad,5\n");
    let wj = ok_json(&[
        "aggregate",
        "--input",
        &f,
        "--method",
        "weighted",
        "--weights",
        &w,
    ]);
    assert_eq!(wj["items"][0]["label"], "no", "the heavy annotator wins");
    let w_missing = write(&dir, "w2.csv", "annotator,weight\ngood1,1\n");
    fails(
        &[
            "aggregate",
            "--input",
            &f,
            "--method",
            "weighted",
            "--weights",
            &w_missing,
        ],
        &["no weight for annotator"],
    );
    let w_bad = write(&dir, "w3.csv", "annotator,weight\ngood1,x\n");
    fails(
        &[
            "aggregate",
            "--input",
            &f,
            "--method",
            "weighted",
            "--weights",
            &w_bad,
        ],
        &["line 2", "weight 'x'"],
    );
    fails(
        &["aggregate", "--input", &f, "--method", "weighted"],
        &["--weights"],
    );

    let mut g = String::from("item,value\n");
    for i in 0..15 {
        g.push_str(&format!("i{i},{}\n", if i % 3 == 0 { "yes" } else { "no" }));
    }
    let gold = write(&dir, "g.csv", &g);
    let ga = ok_json(&[
        "aggregate",
        "--input",
        &f,
        "--method",
        "gold-anchored",
        "--gold",
        &gold,
    ]);
    assert_eq!(ga["gold_items"], 15);
    assert_eq!(ga["items"][29]["label"], "no");
    let bad = ga["annotators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["annotator"] == "bad")
        .unwrap();
    assert_eq!(bad["gold"]["correct"], 0);
    assert!(bad["gold"]["upper"].as_f64().unwrap() < 0.3);
    fails(
        &["aggregate", "--input", &f, "--method", "gold-anchored"],
        &["--gold"],
    );
    let dsj = ok_json(&["aggregate", "--input", &f, "--method", "dawid-skene"]);
    assert_eq!(dsj["method"], "dawid-skene");
}

#[test]
fn bradley_terry_reproduces_agresti() {
    let dir = scratch();
    let v = vectors();
    let teams: Vec<String> = serde_json::from_value(v["bradley_terry"]["teams"].clone()).unwrap();
    let wins = v["bradley_terry"]["wins_matrix"].as_array().unwrap();
    let mut s = String::from("item,annotator,left,right,winner\n");
    let mut g = 0;
    for (i, row) in wins.iter().enumerate() {
        for (j, n) in row.as_array().unwrap().iter().enumerate() {
            for _ in 0..n.as_u64().unwrap() {
                // Alternate sides so the file does not always list the winner on the left.
                let (l, r) = if g % 2 == 0 {
                    (&teams[i], &teams[j])
                } else {
                    (&teams[j], &teams[i])
                };
                s.push_str(&format!("g{g},mlb,{l},{r},{}\n", teams[i]));
                g += 1;
            }
        }
    }
    let f = write(&dir, "bt.csv", &s);
    let j = ok_json(&["bradley-terry", "--input", &f, "--reference", "Baltimore"]);
    for o in j["options"].as_array().unwrap() {
        let team = o["option"].as_str().unwrap();
        let want = v["bradley_terry"]["log_ability_relative_to_Baltimore"][team]
            .as_f64()
            .unwrap();
        assert!(
            (o["log_strength"].as_f64().unwrap() - want).abs() < 5e-4,
            "{team}"
        );
    }
    assert_eq!(j["options"][0]["option"], "Milwaukee");
    let mean = ok_json(&["bradley-terry", "--input", &f]);
    let total: f64 = mean["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["log_strength"].as_f64().unwrap())
        .sum();
    assert!(total.abs() < 1e-9);
    fails(
        &["bradley-terry", "--input", &f, "--reference", "Nowhere"],
        &["Nowhere"],
    );
}

#[test]
fn bias_counts_position_and_length() {
    let dir = scratch();
    let mut s = String::from("item,annotator,left,right,winner,left_len,right_len,first_shown\n");
    // ann1: always picks the first shown (10 of 10) and the longer (by 100 chars).
    for i in 0..10 {
        s.push_str(&format!("i{i},ann1,a,b,a,300,200,a\n"));
    }
    // ann2: picks b half the time; lengths within τ.
    for i in 0..10 {
        let w = if i % 2 == 0 { "a" } else { "b" };
        s.push_str(&format!("i{i},ann2,a,b,{w},210,200,a\n"));
    }
    s.push_str("i10,ann2,a,b,tie,,,\n");
    let f = write(&dir, "p.csv", &s);
    let j = ok_json(&["bias", "--input", &f]);
    let ann1 = &j["per_annotator"][0];
    assert_eq!(ann1["annotator"], "ann1");
    assert_eq!(
        (
            ann1["position"]["hits"].as_u64(),
            ann1["position"]["n"].as_u64()
        ),
        (Some(10), Some(10))
    );
    assert!((ann1["position"]["p_value"].as_f64().unwrap() - 2.0 / 1024.0).abs() < 1e-12);
    assert_eq!(ann1["length"]["value"], 1.0);
    let ann2 = &j["per_annotator"][1];
    assert!(ann2["length"]["value"].is_null(), "lengths within τ = 30");
    assert_eq!(ann2["ties"], 1);
    assert_eq!(j["pooled"]["judgments"], 21);
    let j = ok_json(&["bias", "--input", &f, "--tau", "5"]);
    assert_eq!(j["per_annotator"][1]["length"]["n"], 10);
    let text = ok(&["bias", "--input", &f]);
    assert!(
        text.contains("annotator ann1") && text.contains("undefined:"),
        "{text}"
    );
}

#[test]
fn bad_input_names_the_line_and_fails() {
    let dir = scratch();
    let ragged = write(&dir, "r.csv", "item,annotator,value\na,x,1\nb,y\n");
    fails(
        &["agreement", "--input", &ragged],
        &["r.csv", "line 3", "2 fields", "header has 3"],
    );
    let nonnum = write(&dir, "n.csv", "item,annotator,value\na,x,1\na,y,abc\n");
    fails(
        &["agreement", "--input", &nonnum, "--level", "interval"],
        &["line 3", "'abc' is not a number"],
    );
    let neg = write(&dir, "neg.csv", "item,annotator,value\na,x,1\na,y,-2\n");
    fails(
        &["agreement", "--input", &neg, "--level", "ratio"],
        &["line 3", "negative"],
    );
    let nocol = write(&dir, "c.csv", "item,annotator\na,x\n");
    fails(
        &["agreement", "--input", &nocol],
        &["line 1", "missing column 'value'"],
    );
    let empty = write(&dir, "e.csv", "");
    fails(&["fleiss", "--input", &empty], &["e.csv", "empty"]);
    let header_only = write(&dir, "h.csv", "item,annotator,value\n");
    fails(&["cohen", "--input", &header_only], &["no data rows"]);
    let empty_jsonl = write(&dir, "e.jsonl", "\n");
    fails(&["agreement", "--input", &empty_jsonl], &["empty"]);
    let bad_json = write(
        &dir,
        "b.jsonl",
        "{\"item\":1,\"annotator\":\"x\",\"value\":1}\n{oops\n",
    );
    fails(
        &["agreement", "--input", &bad_json],
        &["line 2", "not valid JSON"],
    );
    let no_field = write(&dir, "m.jsonl", "{\"item\":1,\"value\":1}\n");
    fails(
        &["agreement", "--input", &no_field],
        &["line 1", "missing field 'annotator'"],
    );
    let dup = write(&dir, "d.csv", "item,annotator,value\na,x,1\nb,x,1\na,x,2\n");
    fails(
        &["agreement", "--input", &dup],
        &["line 4", "already labelled item 'a' on line 2"],
    );
    let winner = write(
        &dir,
        "w.csv",
        "item,annotator,left,right,winner\n1,x,a,b,a\n2,x,a,b,c\n",
    );
    fails(
        &["bradley-terry", "--input", &winner],
        &["line 3", "winner 'c' is neither option"],
    );
    fails(&["bias", "--input", &winner], &["line 3", "winner 'c'"]);
    let same = write(
        &dir,
        "s.csv",
        "item,annotator,left,right,winner\n1,x,a,a,a\n",
    );
    fails(
        &["bradley-terry", "--input", &same],
        &["line 2", "compared with itself"],
    );
    let unbeaten = write(
        &dir,
        "u.csv",
        "item,annotator,left,right,winner\n1,x,a,b,a\n2,x,b,a,a\n",
    );
    fails(&["bradley-terry", "--input", &unbeaten], &["not finite"]);
    let len = write(
        &dir,
        "l.csv",
        "item,annotator,left,right,winner,left_len\n1,x,a,b,a,long\n",
    );
    fails(&["bias", "--input", &len], &["line 2", "left_len 'long'"]);
    let missing = dir.join("nope.csv");
    fails(
        &["agreement", "--input", &missing.to_string_lossy()],
        &["nope.csv"],
    );
}
