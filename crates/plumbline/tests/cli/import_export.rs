//! Native import and export: atomicity, idempotency, error reports, round trips.

use crate::support::*;
use plumbline_domain::{Item, TaskKind};

fn import(env: &Env, path: &str, extra: &[&str]) -> Run {
    let mut args = vec!["import", "--project", "banking", path];
    args.extend_from_slice(extra);
    env.run(&args)
}

#[test]
fn import_then_reimport_is_idempotent() {
    let env = with_project();
    let lines: Vec<String> = (0..10).map(|i| item(&format!("call-{i}"))).collect();
    let f = env.file("items.jsonl", lines.join("\n") + "\n");
    let out = import(&env, &f, &[]).ok();
    assert!(
        out.stdout
            .contains("imported 10, unchanged 0, updated 0, rejected 0"),
        "{}",
        out.stdout
    );
    let out = import(&env, &f, &["--json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        (
            v["imported"].as_u64(),
            v["unchanged"].as_u64(),
            v["rejected"].as_u64()
        ),
        (Some(0), Some(10), Some(0))
    );
    assert_eq!(stored_items(&env), 10);
}

#[test]
fn changed_content_needs_update_and_keeps_history() {
    let env = with_project();
    let f = env.file("a.jsonl", item("call-1") + "\n");
    import(&env, &f, &[]).ok();
    let changed = env.file(
        "b.jsonl",
        item("call-1").replace("Sorry for your loss.", "My condolences.")
            + "\n"
            + &item("call-2")
            + "\n",
    );
    import(&env, &changed, &[]).fails_with(&[
        "b.jsonl: line 1",
        "`call-1` exists already",
        "--update",
        "nothing was stored",
    ]);
    assert_eq!(
        stored_items(&env),
        1,
        "call-2 of the refused file was not stored"
    );
    let out = import(&env, &changed, &["--update"]).ok();
    assert!(
        out.stdout.contains("imported 1, unchanged 0, updated 1"),
        "{}",
        out.stdout
    );
    assert_eq!(stored_items(&env), 2);
}

#[test]
fn one_bad_line_stores_nothing_and_is_named() {
    let env = with_project();
    let good: Vec<String> = (0..2000).map(|i| item(&format!("ok-{i}"))).collect();
    let mut lines = good.clone();
    lines.insert(1500, item("dup").replace(r#""id":"b""#, r#""id":"a""#));
    let f = env.file("calls.jsonl", lines.join("\n"));
    import(&env, &f, &[]).fails_with(&[
        "calls.jsonl: line 1501",
        "candidates[1].id",
        "`a` appears twice",
        "nothing was stored",
    ]);
    assert_eq!(stored_items(&env), 0);
}

#[test]
fn report_errors_lists_several_bad_lines() {
    let env = with_project();
    let lines = [
        item("one"),
        "{not json".to_owned(),
        item("two").replace(r#""id":"two","#, ""),
        item("three").replace("\"Sorry for your loss.\"", "7"),
        item("four"),
        item("five").replace("edge:bereavement", "edge:divorce"),
    ];
    let f = env.file("bad.jsonl", lines.join("\n"));
    let out = import(&env, &f, &["--report-errors", "10"]).fails_with(&[
        "line 2: key must be a string",
        "line 3: missing field `id`",
        "line 4: invalid type: integer `7`",
        "line 6: field `tags[0]`: edge case `divorce` is not defined",
        "rejected 4",
    ]);
    assert!(!out.stderr.contains("line 5"), "{}", out.stderr);
    let json = import(&env, &f, &["--report-errors", "2", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["errors"].as_array().unwrap().len(), 2);
    assert_eq!(v["stored"], false);
    assert_eq!(stored_items(&env), 0);
}

#[test]
fn every_kind_of_bad_input_is_refused_cleanly() {
    let env = with_project();
    let cases: Vec<(&str, Vec<u8>, Vec<&str>)> = vec![
        (
            "malformed.jsonl",
            b"{\"id\": \"x\", ".to_vec(),
            vec!["line 1: EOF while parsing"],
        ),
        (
            "missing.jsonl",
            br#"{"context":[{"role":"user","content":"x"}]}"#.to_vec(),
            vec!["line 1: missing field `id`"],
        ),
        (
            "mistyped.jsonl",
            item("x")
                .replace("\"start\":1.5", "\"start\":\"soon\"")
                .into_bytes(),
            vec!["line 1: invalid type: string \"soon\""],
        ),
        (
            "dupcand.jsonl",
            item("x").replace(r#""id":"b""#, r#""id":"a""#).into_bytes(),
            vec!["candidates[1].id", "appears twice"],
        ),
        (
            "task.jsonl",
            item("x")
                .replace(r#""tags""#, r#""task":"essay","tags""#)
                .into_bytes(),
            vec!["unknown variant `essay`"],
        ),
        (
            "role.jsonl",
            item("x")
                .replace(r#""role":"user""#, r#""role":"boss""#)
                .into_bytes(),
            vec!["unknown variant `boss`"],
        ),
        (
            "count.jsonl",
            item("x")
                .replace(
                    r#",{"id":"b","model":"m2","content":"Verify your identity first."}"#,
                    "",
                )
                .into_bytes(),
            vec!["preference item needs exactly 2 candidates"],
        ),
        (
            "utf8.jsonl",
            [item("ok").as_bytes(), b"\n{\"id\": \"\xff\xfe\"}\n"].concat(),
            vec!["line 2: invalid UTF-8"],
        ),
        ("empty.jsonl", Vec::new(), vec!["holds no items"]),
        ("blank.jsonl", b"\n\n  \n".to_vec(), vec!["holds no items"]),
    ];
    for (name, contents, needles) in cases {
        let f = env.file(name, contents);
        let mut all = vec![name];
        all.extend(needles);
        all.push("nothing was stored");
        import(&env, &f, &[]).fails_with(&all);
    }
    import(&env, "does-not-exist.jsonl", &[]).fails_with(&["cannot open does-not-exist.jsonl"]);
    let good = env.file("good.jsonl", item("g"));
    env.run(&["import", "--project", "nope", &good])
        .fails_with(&["project `nope` not found"]);
    assert_eq!(stored_items(&env), 0);
}

#[test]
fn a_50_mb_line_is_refused_without_being_held() {
    let env = with_project();
    let huge = format!(
        "{}\n{}\n",
        item("ok"),
        item("big").replace("Sorry for your loss.", &"x".repeat(50 << 20))
    );
    let f = env.file("huge.jsonl", huge);
    import(&env, &f, &[]).fails_with(&[
        "huge.jsonl: line 2: line is longer than the limit of 16777216 bytes",
        "nothing was stored",
    ]);
    assert_eq!(stored_items(&env), 0);
}

#[test]
fn stdin_import_works() {
    let env = with_project();
    let body = format!("{}\n{}\n", item("s1"), item("s2"));
    let out = env
        .run_with_stdin(
            &["import", "--project", "banking", "-"],
            Some(body.as_bytes()),
        )
        .ok();
    assert!(out.stdout.contains("imported 2"), "{}", out.stdout);
}

/// Every item of the examples survives import → export → import into a new project →
/// export, field for field.
fn round_trip(env: Env) {
    let root = repo_root().join("examples");
    for domain in ["banking", "clinical", "insurance"] {
        let rubric = root.join(domain).join("rubric.toml").display().to_string();
        let items = root.join(domain).join("items.jsonl").display().to_string();
        let second = format!("{domain}-copy");
        env.run(&["project", "create", "--name", domain, "--rubric", &rubric])
            .ok();
        env.run(&["project", "create", "--name", &second, "--rubric", &rubric])
            .ok();
        env.run(&["import", "--project", domain, &items]).ok();
        let first_out = env
            .dir
            .join(format!("{domain}.jsonl"))
            .display()
            .to_string();
        env.run(&[
            "export",
            "--project",
            domain,
            "--kind",
            "items",
            "--out",
            &first_out,
        ])
        .ok();
        env.run(&["import", "--project", &second, &first_out]).ok();
        let second_out = env
            .dir
            .join(format!("{domain}-2.jsonl"))
            .display()
            .to_string();
        env.run(&[
            "export",
            "--project",
            &second,
            "--kind",
            "items",
            "--out",
            &second_out,
        ])
        .ok();
        // Compared as parsed items: an empty list in the source and an absent one in
        // the export mean the same item.
        let parse = |path: &std::path::Path| -> Vec<Item> {
            std::fs::read_to_string(path)
                .unwrap()
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| Item::from_json(l, TaskKind::Preference).unwrap())
                .collect()
        };
        let original = parse(&root.join(domain).join("items.jsonl"));
        let exported = parse(std::path::Path::new(&first_out));
        assert_eq!(
            original, exported,
            "{domain}: export equals the source, field for field"
        );
        assert_eq!(
            std::fs::read_to_string(&first_out).unwrap(),
            std::fs::read_to_string(&second_out).unwrap(),
            "{domain}: re-import of an export is identical"
        );
        assert!(
            original.len() >= 20,
            "{domain} has at least 20 example items"
        );
    }
}

#[test]
fn examples_round_trip_on_sqlite() {
    round_trip(Env::sqlite());
}

#[test]
fn examples_round_trip_on_postgres() {
    if let Some(env) = Env::postgres() {
        round_trip(env);
    }
}

#[test]
fn export_refuses_unknown_project_and_leaves_no_file() {
    let env = with_project();
    let out = env.dir.join("x.jsonl");
    env.run(&[
        "export",
        "--project",
        "nope",
        "--kind",
        "items",
        "--out",
        &out.display().to_string(),
    ])
    .fails_with(&["project `nope` not found"]);
    assert!(!out.exists());
}

/// A filter the kind cannot apply is refused, naming the filter and the kind, in the
/// words the API uses too; nothing is written.
#[test]
fn export_refuses_a_filter_the_kind_cannot_apply() {
    let env = with_project();
    let out = env.dir.join("x.jsonl");
    let path = out.display().to_string();
    let export = |kind: &str, extra: &[&str]| {
        let mut args = vec![
            "export",
            "--project",
            "banking",
            "--kind",
            kind,
            "--out",
            &path,
        ];
        args.extend_from_slice(extra);
        env.run(&args)
    };
    export("ranking", &["--threshold", "0.5"]).fails_with(&[
        "--threshold does not apply to ranking exports; it applies to preference, reward and sft exports",
    ]);
    export("items", &["--min-agreement", "0.5"]).fails_with(&[
        "--min-agreement does not apply to items exports; it applies to preference, reward, \
         sft, ranking, rating, red_team, full and label-studio exports",
    ]);
    export("items", &["--include-external"])
        .fails_with(&["--include-external does not apply to items exports"]);
    // The decision method: only where pairs are decided, and only a method that exists.
    export("full", &["--decision", "majority"]).fails_with(&[
        "--decision does not apply to full exports; it applies to preference, reward and sft exports",
    ]);
    export("preference", &["--decision", "coin-flip"]).fails_with(&[
        "--decision: unknown decision method `coin-flip` (expected reliability, dawid-skene or majority)",
    ]);
    assert!(!out.exists());
    // Where it applies, the threshold passes; every method can be chosen, and the summary
    // names it.
    export("preference", &["--threshold", "0.5"]).ok();
    for method in ["reliability", "dawid-skene", "majority"] {
        let run = export("reward", &["--decision", method]).ok();
        assert!(
            run.stderr.contains(&format!("(method {method}: ")),
            "{}",
            run.stderr
        );
    }
    let run = export("sft", &["--decision", "majority", "--json"]).ok();
    let summary: serde_json::Value = serde_json::from_str(&run.stderr).unwrap();
    assert_eq!(summary["method"], "majority");
    export("items", &[]).ok();
}

/// Numbers a user supplies come back exactly: floats bit for bit (the shortest text that
/// parses back to the same double), integers to the last digit, on both backends.
fn numbers_round_trip(env: Env) {
    let rubric = env.file("rubric.toml", RUBRIC);
    env.run(&["project", "create", "--name", "p", "--rubric", &rubric])
        .ok();
    let metadata = r#"{"score":0.9124960564250431,"tiny":5e-324,"big":1.7976931348623157e308,"third":0.30000000000000004,"neg":-0.1234567890123456,"int":9007199254740993,"u":18446744073709551615,"i":-9223372036854775808}"#;
    let line = format!(
        r#"{{"id":"n-1","context":[{{"role":"user","content":"hi","start":1.0000000000000002,"end":2.675}}],"candidates":[{{"id":"a","content":"x"}},{{"id":"b","content":"y"}}],"metadata":{metadata}}}"#
    );
    let items = env.file("items.jsonl", format!("{line}\n"));
    env.run(&["import", "--project", "p", &items]).ok();
    let out = env.dir.join("out.jsonl").display().to_string();
    env.run(&["export", "--project", "p", "--kind", "items", "--out", &out])
        .ok();
    let exported: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&out).unwrap().trim()).unwrap();
    let given: serde_json::Value = serde_json::from_str(metadata).unwrap();
    for (key, want) in given.as_object().unwrap() {
        let got = &exported["metadata"][key];
        assert_eq!(got.to_string(), want.to_string(), "metadata `{key}`");
        if let (Some(g), Some(w)) = (got.as_f64(), want.as_f64()) {
            assert_eq!(g.to_bits(), w.to_bits(), "metadata `{key}` bit for bit");
        }
    }
    let text = std::fs::read_to_string(&out).unwrap();
    for literal in [
        "0.9124960564250431",
        "9007199254740993",
        "18446744073709551615",
        "1.0000000000000002",
        "2.675",
    ] {
        assert!(text.contains(literal), "{literal} in {text}");
    }
}

#[test]
fn numbers_round_trip_on_sqlite() {
    numbers_round_trip(Env::sqlite());
}

#[test]
fn numbers_round_trip_on_postgres() {
    if let Some(env) = Env::postgres() {
        numbers_round_trip(env);
    }
}
