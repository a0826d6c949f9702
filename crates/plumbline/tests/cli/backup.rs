//! Backups: every command leaves its writes in the database file itself (the WAL
//! checkpointed at exit), and `plumbline backup` writes a copy that opens on its own.

use crate::support::*;

fn import_ten(env: &Env) {
    let lines: Vec<String> = (0..10).map(|i| item(&format!("call-{i}"))).collect();
    let f = env.file("items.jsonl", lines.join("\n") + "\n");
    env.run(&["import", "--project", "banking", &f]).ok();
}

/// A new env whose database is a copy of `file` alone (no `-wal`, no `-shm`), with the
/// audit key of `key_dir` (the chain is keyed by it).
fn restored(file: &std::path::Path, key_dir: &std::path::Path) -> Env {
    let env = Env::sqlite();
    std::fs::create_dir_all(env.dir.join("data")).unwrap();
    std::fs::copy(file, env.dir.join("data/plumbline.db")).unwrap();
    std::fs::copy(key_dir.join("audit.key"), env.dir.join("data/audit.key")).unwrap();
    env
}

#[test]
fn the_database_file_alone_holds_every_import() {
    let env = with_project();
    import_ten(&env);
    let db = env.dir.join("data/plumbline.db");
    let wal = env.dir.join("data/plumbline.db-wal");
    assert_eq!(
        std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0),
        0,
        "the WAL is checkpointed and truncated at exit"
    );
    let copy = restored(&db, &env.dir.join("data"));
    assert_eq!(stored_items(&copy), 10);
    copy.run(&["migrate"]).ok();
}

#[test]
fn backup_writes_a_copy_that_opens_on_its_own() {
    let env = with_project();
    import_ten(&env);
    let out = env.run(&["backup", "--out", "copy.db"]).ok();
    assert!(out.stdout.contains("integrity ok"), "{}", out.stdout);
    env.run(&["backup", "--out", "copy.db"])
        .fails_with(&["copy.db", "exists"]);
    assert!(out.stdout.contains("audit.key"), "{}", out.stdout);
    // Without its key the copy is refused, naming the key.
    let keyless = Env::sqlite();
    std::fs::create_dir_all(keyless.dir.join("data")).unwrap();
    std::fs::copy(
        env.dir.join("copy.db"),
        keyless.dir.join("data/plumbline.db"),
    )
    .unwrap();
    keyless
        .run(&["audit", "verify"])
        .fails_with(&["the audit chain is keyed", "audit.key"]);
    assert!(!keyless.dir.join("data/audit.key").exists());
    let copy = restored(&env.dir.join("copy.db"), &env.dir.join("data"));
    assert_eq!(stored_items(&copy), 10);
    let verify = copy.run(&["audit", "verify"]).ok();
    assert!(verify.stdout.contains("intact"), "{}", verify.stdout);
}

#[test]
fn postgres_backups_are_pg_dumps() {
    let Some(env) = Env::postgres() else { return };
    env.run(&["migrate"]).ok();
    env.run(&["backup", "--out", "pg.dump"])
        .fails_with(&["pg_dump --format=custom --file 'pg.dump'", "pg_restore"]);
    assert!(!env.dir.join("pg.dump").exists());
}
