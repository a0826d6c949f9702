//! Projects and rubrics on the command line.

use crate::support::*;

#[test]
fn create_list_and_show() {
    let env = with_project();
    let list = env.run(&["project", "list", "--json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(v[0]["name"], "banking");
    assert_eq!(v[0]["settings"]["overlap"], 3);
    assert_eq!(v[0]["items"], 0);
    let show = env.run(&["rubric", "show", "--project", "banking"]).ok();
    assert!(
        show.stdout.contains("1. compliance") && show.stdout.contains("[hard]"),
        "{}",
        show.stdout
    );
    let json = env
        .run(&["rubric", "show", "--project", "banking", "--json"])
        .ok();
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["rubric"]["criteria"][0]["key"], "compliance");
}

#[test]
fn settings_flags_are_stored_and_checked() {
    let env = Env::sqlite();
    let rubric = env.file("rubric.toml", RUBRIC);
    env.run(&[
        "project",
        "create",
        "--name",
        "triage",
        "--rubric",
        &rubric,
        "--task",
        "ranking",
        "--overlap",
        "5",
        "--gold-rate",
        "0.2",
    ])
    .ok();
    let v: serde_json::Value =
        serde_json::from_str(&env.run(&["project", "list", "--json"]).ok().stdout).unwrap();
    assert_eq!(v[0]["settings"]["task"], "ranking");
    assert_eq!(v[0]["settings"]["overlap"], 5);
    assert_eq!(v[0]["settings"]["gold_rate"], 0.2);
    env.run(&[
        "project",
        "create",
        "--name",
        "x",
        "--rubric",
        &rubric,
        "--gold-rate",
        "1.5",
    ])
    .fails_with(&["invalid --gold-rate"]);
    env.run(&[
        "project", "create", "--name", "y", "--rubric", &rubric, "--task", "essay",
    ])
    .fails_with(&["unknown task kind `essay`"]);
    env.run(&["project", "create", "--name", "triage", "--rubric", &rubric])
        .fails_with(&["exists already"]);
}

#[test]
fn bad_rubrics_are_refused_and_nothing_is_created() {
    let env = Env::sqlite();
    let dup = env.file("dup.toml", RUBRIC.replace("priority = 2", "priority = 1"));
    env.run(&["project", "create", "--name", "p", "--rubric", &dup])
        .fails_with(&["dup.toml", "both have priority 1"]);
    let orphan = env.file(
        "orphan.toml",
        RUBRIC.replace("criterion = \"compliance\"", "criterion = \"legal\""),
    );
    env.run(&["project", "create", "--name", "p", "--rubric", &orphan])
        .fails_with(&["escalation_missed", "`legal`"]);
    env.run(&[
        "project",
        "create",
        "--name",
        "p",
        "--rubric",
        "missing.toml",
    ])
    .fails_with(&["cannot read rubric file missing.toml"]);
    let list = env.run(&["project", "list", "--json"]).ok();
    assert_eq!(list.stdout.trim(), "[]");
}

#[test]
fn rubric_versions() {
    let env = with_project();
    let same = env.file("same.toml", RUBRIC);
    env.run(&[
        "rubric",
        "new-version",
        "--project",
        "banking",
        "--rubric",
        &same,
    ])
    .fails_with(&["identical"]);
    let v2 = env.file(
        "v2.toml",
        RUBRIC.replace("title = \"Tone\"", "title = \"Tone and empathy\""),
    );
    env.run(&[
        "rubric",
        "new-version",
        "--project",
        "banking",
        "--rubric",
        &v2,
    ])
    .ok();
    let show = env.run(&["rubric", "show", "--project", "banking"]).ok();
    assert!(show.stdout.contains("rubric v2") && show.stdout.contains("Tone and empathy"));
    let old = env
        .run(&["rubric", "show", "--project", "banking", "--version", "1"])
        .ok();
    assert!(old.stdout.contains("rubric v1") && !old.stdout.contains("empathy"));
    env.run(&["rubric", "show", "--project", "nope"])
        .fails_with(&["project `nope` not found"]);
}

#[test]
fn unknown_database_scheme_is_named() {
    let env = Env::sqlite();
    env.run(&["--db", "mysql://root:secret@h/db", "project", "list"])
        .fails_with(&["no known scheme"]);
}
