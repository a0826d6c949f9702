//! Users, tokens, audit verification and purge from the command line.

use crate::support::*;

#[test]
fn users_tokens_and_an_intact_audit_chain() {
    let env = with_project();
    let out = env.run(&["user", "add", "ada", "--admin"]).ok();
    assert!(
        out.stdout.contains("password (shown once): "),
        "{}",
        out.stdout
    );
    env.run_with_stdin(
        &["user", "add", "bo", "--password-stdin"],
        Some(b"bo-correct-horse-battery\n"),
    )
    .ok();
    env.run_with_stdin(&["user", "add", "cy", "--password-stdin"], Some(b"short\n"))
        .fails_with(&["at least 12 characters"]);
    env.run(&["user", "add", "bo"])
        .fails_with(&["`bo` exists already"]);
    env.run(&[
        "member",
        "add",
        "--project",
        "banking",
        "--user",
        "bo",
        "--role",
        "annotator",
    ])
    .ok();
    env.run(&[
        "member",
        "add",
        "--project",
        "banking",
        "--user",
        "bo",
        "--role",
        "owner",
    ])
    .fails_with(&["unknown role `owner`"]);
    env.run(&["expertise", "add", "--user", "bo", "banking:expert"])
        .ok();
    let list = env.run(&["expertise", "list", "--user", "bo"]).ok();
    assert!(list.stdout.contains("banking:expert") && list.stdout.contains("unverified"));
    env.run(&["expertise", "verify", "--user", "bo", "--domain", "banking"])
        .ok();
    assert!(
        env.run(&["expertise", "list", "--user", "bo"])
            .ok()
            .stdout
            .contains("verified")
    );
    let token = env
        .run(&[
            "token",
            "create",
            "--user",
            "bo",
            "--scopes",
            "read,annotate",
            "--expires",
            "30d",
        ])
        .ok();
    let secret = token.stdout.trim();
    assert!(secret.starts_with("plb_") && secret.len() == 68, "{secret}");
    env.run(&["token", "create", "--user", "bo", "--scopes", "read,root"])
        .fails_with(&["unknown scope `root`"]);
    let tokens = env.run(&["token", "list", "--user", "bo"]).ok();
    assert!(
        tokens.stdout.contains("read,annotate")
            && tokens.stdout.contains("live")
            && !tokens.stdout.contains(secret)
    );
    env.run(&["token", "revoke", "1"]).ok();
    env.run(&["token", "revoke", "1"])
        .fails_with(&["revoked already"]);
    // A reset shows a generated password once; a chosen one is read from stdin.
    let reset = env.run(&["user", "password", "bo"]).ok();
    assert!(
        reset.stdout.contains("password (shown once): "),
        "{}",
        reset.stdout
    );
    env.run_with_stdin(
        &["user", "password", "bo", "--password-stdin"],
        Some(b"short\n"),
    )
    .fails_with(&["at least 12 characters"]);
    env.run(&["user", "password", "nobody"])
        .fails_with(&["nobody"]);
    let unlock = env.run(&["user", "unlock", "bo"]).ok();
    assert!(
        unlock.stdout.contains("lifted 0 login throttle(s)"),
        "{}",
        unlock.stdout
    );
    env.run(&["member", "remove", "--project", "banking", "--user", "bo"])
        .ok();
    env.run(&["member", "remove", "--project", "banking", "--user", "bo"])
        .fails_with(&["not a member"]);
    env.run(&["user", "disable", "bo"]).ok();
    let verify = env.run(&["audit", "verify"]).ok();
    assert!(
        verify.stdout.contains("audit chain intact"),
        "{}",
        verify.stdout
    );
    let export = env.run(&["audit", "export"]).ok();
    let actions: Vec<String> = export
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["action"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    for expected in [
        "project.create",
        "user.create",
        "member.role",
        "expertise.verify",
        "token.create",
        "token.revoke",
        "user.disable",
        "user.password_reset",
        "login.unlock",
        "member.remove",
    ] {
        assert!(
            actions.iter().any(|a| a == expected),
            "{expected} in {actions:?}"
        );
    }
    assert!(
        !export.stdout.contains(secret) && !export.stdout.contains("bo-correct-horse"),
        "no secrets in the audit log"
    );
    let future = env.run(&["audit", "export", "--since", "2100-01-01"]).ok();
    assert!(future.stdout.trim().is_empty());
}

#[test]
fn a_tampered_audit_chain_is_named() {
    let env = with_project();
    env.run(&["user", "add", "ada"]).ok();
    env.run(&["user", "add", "bea"]).ok();
    let db = env.dir.join("data/plumbline.db");
    let status = std::process::Command::new("sqlite3")
        .arg(&db)
        .arg("UPDATE audit_events SET object_id = 'forged' WHERE seq = 2")
        .status();
    match status {
        Ok(s) if s.success() => {
            env.run(&["audit", "verify"])
                .fails_with(&["audit chain BROKEN", "event 2"]);
        }
        _ => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("sqlite3 is needed for the tamper test in CI");
            }
            eprintln!("*** SKIPPED: tamper test needs the sqlite3 command ***");
        }
    }
}

#[test]
fn a_cut_audit_tail_is_named_and_the_expected_head_checked() {
    let env = with_project();
    env.run(&["user", "add", "ada"]).ok();
    env.run(&["user", "add", "bea"]).ok();
    let out = env.run(&["audit", "verify"]).ok();
    assert!(
        out.stdout.contains("anchored: the chain reaches"),
        "{}",
        out.stdout
    );
    let head = out
        .stdout
        .split("last hash ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .unwrap()
        .to_owned();
    let events: i64 = out
        .stdout
        .split("intact: ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    env.run(&["audit", "verify", "--expect", &head]).ok();
    env.run(&["audit", "verify", "--expect", "abc"])
        .fails_with(&["not a hash of 64 hex digits"]);
    let data = env.dir.join("data");
    for (file, mode) in [("audit.key", 0o600), ("audit.anchor", 0o600)] {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let m = std::fs::metadata(data.join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(m & 0o777, mode, "{file}: {m:o}");
        }
    }
    let status = std::process::Command::new("sqlite3")
        .arg(data.join("plumbline.db"))
        .arg(format!("DELETE FROM audit_events WHERE seq = {events}"))
        .status();
    match status {
        Ok(s) if s.success() => {}
        _ => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("sqlite3 is needed for the tamper test in CI");
            }
            eprintln!("*** SKIPPED: tamper test needs the sqlite3 command ***");
            return;
        }
    }
    env.run(&["audit", "verify"]).fails_with(&[
        "audit chain BROKEN",
        &format!("the chain ends at event {}", events - 1),
        &format!("checkpointed event {events}"),
    ]);
    // Without the anchor, only the head written down shows the cut.
    std::fs::remove_file(data.join("audit.anchor")).unwrap();
    let out = env.run(&["audit", "verify"]).ok();
    assert!(out.stdout.contains("not anchored"), "{}", out.stdout);
    env.run(&["audit", "verify", "--expect", &head])
        .fails_with(&["audit chain BROKEN", "expected hash"]);
}

#[test]
fn purge_removes_text_from_the_database_file() {
    let env = with_project();
    let secret = "Zebra-7731 the caller's mother's maiden name is Quetzalcoatl";
    let line = item("call-1").replace("My husband died, close the account", secret);
    let f = env.file("items.jsonl", format!("{line}\n{}\n", item("call-2")));
    env.run(&["import", "--project", "banking", &f]).ok();
    let db = env.dir.join("data/plumbline.db");
    let contains = |needle: &str| {
        ["", "-wal"].iter().any(|suffix| {
            std::fs::read(format!("{}{suffix}", db.display()))
                .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
                .unwrap_or(false)
        })
    };
    assert!(
        contains("Quetzalcoatl"),
        "the sentence is stored before the purge"
    );
    env.run(&["purge", "--project", "banking"])
        .fails_with(&["no retention policy"]);
    env.run(&[
        "retention",
        "set",
        "--project",
        "banking",
        "--after-resolved",
        "30d",
    ])
    .ok();
    let dry = env
        .run(&["purge", "--project", "banking", "--dry-run"])
        .ok();
    assert!(
        dry.stdout.contains("would purge the text of 0 items"),
        "nothing is resolved yet: {}",
        dry.stdout
    );
    let out = env
        .run(&["purge", "--project", "banking", "--everything", "--json"])
        .ok();
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["items"], 2);
    assert!(
        !contains("Quetzalcoatl"),
        "the purged sentence is gone from the database file"
    );
    let exported = env.dir.join("after.jsonl");
    env.run(&[
        "export",
        "--project",
        "banking",
        "--out",
        &exported.display().to_string(),
    ])
    .ok();
    let text = std::fs::read_to_string(&exported).unwrap();
    assert!(
        text.contains("\"id\":\"call-1\"")
            && text.contains("[purged]")
            && text.contains("edge:bereavement")
    );
    assert!(env.run(&["audit", "verify"]).ok().stdout.contains("intact"));
}

#[test]
fn an_invitation_link_is_printed_once_and_replaced_on_request() {
    let env = with_project();
    let out = env
        .run(&[
            "user",
            "invite",
            "ida",
            "--base-url",
            "https://plumbline.example.org/",
        ])
        .ok();
    let first = out.stdout.trim().to_owned();
    assert!(
        first.starts_with("https://plumbline.example.org/invite/") && first.len() == 37 + 64,
        "{first}"
    );
    assert!(out.stderr.contains("shown only now"), "{}", out.stderr);
    env.run(&["user", "invite", "ida"])
        .fails_with(&["`ida` exists already"]);
    env.run(&["user", "invite", "has space"])
        .fails_with(&["without spaces"]);
    let again = env.run(&["user", "invite", "ida", "--again"]).ok();
    let second = again.stdout.trim().to_owned();
    assert!(
        second.starts_with("http://127.0.0.1:7433/invite/"),
        "{second}"
    );
    assert_ne!(first.rsplit('/').next(), second.rsplit('/').next());
    env.run(&["user", "invite", "nobody", "--again"])
        .fails_with(&["not found"]);
    let users = env.run(&["user", "list", "--json"]).ok();
    assert!(users.stdout.contains("\"ida\""), "{}", users.stdout);
}
