//! The behaviour every backend must show, written once against the `Store` trait.

use plumbline_domain::{ProjectName, ProjectSettings, Rubric, RubricVersion, TaskKind};
use plumbline_store::*;
use tokio::sync::mpsc;

pub use crate::cases_audit::*;
pub use crate::cases_browse::*;
pub use crate::cases_experts::*;
pub use crate::cases_export::*;
pub use crate::cases_identity::*;
pub use crate::cases_invitations::*;
pub use crate::cases_leads::*;
pub use crate::cases_work::*;

const RUBRIC: &str = r#"
name = "Retail banking support"
[[criteria]]
key = "compliance"
title = "Regulatory compliance"
priority = 1
hard = true
[[criteria]]
key = "tone"
title = "Tone"
priority = 2
[[edge_cases]]
key = "bereavement"
"#;

fn rubric() -> Rubric {
    Rubric::from_toml(RUBRIC).unwrap()
}

async fn project<S: Store>(store: &S, name: &str) -> Project {
    store
        .create_project(
            None,
            NewProject {
                name: ProjectName::parse(name).unwrap(),
                settings: ProjectSettings::default(),
                rubric: rubric(),
            },
        )
        .await
        .unwrap()
}

/// A stand-in content hash: the store compares hashes, it never computes them.
fn fake_hash(body: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, b) in body.bytes().enumerate() {
        h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
        out[i % 32] ^= (h >> 24) as u8;
    }
    out[..8].copy_from_slice(&h.to_le_bytes());
    out
}

fn item(line: u64, id: &str, text: &str) -> NewItem {
    let body = format!(
        r#"{{"id":"{id}","context":[{{"role":"user","content":"{text}"}}],"candidates":[{{"id":"a","content":"x"}},{{"id":"b","content":"y"}}]}}"#
    );
    NewItem {
        line,
        ext_id: id.to_owned(),
        task: TaskKind::Preference,
        split: None,
        content_hash: fake_hash(&body),
        body,
        external: Vec::new(),
        media_sha256: None,
        media: None,
    }
}

/// Sends `batches` then a finish message (when `finish` is Some) to an import.
async fn import<S: Store>(
    store: &S,
    project: &Project,
    options: ImportOptions,
    batches: Vec<Vec<NewItem>>,
    finish: Option<bool>,
) -> ImportOutcome {
    let (tx, rx) = mpsc::channel(2);
    let feeder = tokio::spawn(async move {
        for b in batches {
            if tx.send(ImportMsg::Items(b)).await.is_err() {
                return;
            }
        }
        if let Some(commit) = finish {
            let _ = tx.send(ImportMsg::Finish { commit }).await;
        }
    });
    let outcome = store
        .import_items(None, project.id, options, rx)
        .await
        .unwrap();
    feeder.await.unwrap();
    outcome
}

async fn export<S: Store>(store: &S, project: &Project) -> Vec<String> {
    let (tx, mut rx) = mpsc::channel(2);
    let collect = tokio::spawn(async move {
        let mut all = Vec::new();
        while let Some(b) = rx.recv().await {
            all.extend(b);
        }
        all
    });
    let n = store.export_items(project.id, tx).await.unwrap();
    let all = collect.await.unwrap();
    assert_eq!(n as usize, all.len());
    all
}

pub async fn projects_are_created_listed_and_unique<S: Store>(store: S) {
    let p = project(&store, "banking").await;
    assert_eq!(p.rubric_version, RubricVersion(1));
    assert_eq!(p.split_salt.len(), 32);
    project(&store, "clinical").await;
    let dup = store
        .create_project(
            None,
            NewProject {
                name: ProjectName::parse("banking").unwrap(),
                settings: ProjectSettings::default(),
                rubric: rubric(),
            },
        )
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(m)) if m.contains("banking")));
    let names: Vec<_> = store
        .list_projects()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.project.name)
        .collect();
    assert_eq!(names, ["banking", "clinical"]);
    let again = store.project_by_name("banking").await.unwrap();
    assert_eq!(again.id, p.id);
    assert_eq!(again.settings, ProjectSettings::default());
}

pub async fn rubric_versions_are_immutable_and_numbered<S: Store>(store: S) {
    let p = project(&store, "banking").await;
    let v1 = store.rubric(p.id, None).await.unwrap();
    assert_eq!(v1.version, RubricVersion(1));
    assert_eq!(v1.rubric, rubric());
    let same = store.add_rubric_version(None, p.id, rubric()).await;
    assert!(
        matches!(same, Err(StoreError::Conflict(_))),
        "an identical rubric is not a new version"
    );
    let mut changed = rubric();
    changed.criteria[1].title = "Tone and empathy".into();
    let v2 = store
        .add_rubric_version(None, p.id, changed.clone())
        .await
        .unwrap();
    assert_eq!(v2.version, RubricVersion(2));
    assert_eq!(store.rubric(p.id, None).await.unwrap().rubric, changed);
    assert_eq!(
        store
            .rubric(p.id, Some(RubricVersion(1)))
            .await
            .unwrap()
            .rubric,
        rubric()
    );
    assert!(matches!(
        store.rubric(p.id, Some(RubricVersion(9))).await,
        Err(StoreError::NotFound(_))
    ));
    let all = store.rubric_versions(p.id).await.unwrap();
    assert_eq!(all.iter().map(|r| r.version.0).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(
        store
            .project_by_name("banking")
            .await
            .unwrap()
            .rubric_version,
        RubricVersion(2)
    );
}

pub async fn import_stores_everything_and_exports_in_order<S: Store>(store: S) {
    let p = project(&store, "banking").await;
    let items: Vec<NewItem> = (0..2500)
        .map(|i| item(i + 1, &format!("it-{:05}", 2500 - i), "hello"))
        .collect();
    let bodies: Vec<String> = items.iter().map(|i| i.body.clone()).collect();
    let batches: Vec<Vec<NewItem>> = items.chunks(1000).map(|c| c.to_vec()).collect();
    let out = import(&store, &p, ImportOptions::default(), batches, Some(true)).await;
    assert!(out.committed);
    assert_eq!(
        (out.imported, out.unchanged, out.updated, out.conflict_count),
        (2500, 0, 0, 0)
    );
    assert_eq!(
        export(&store, &p).await,
        bodies,
        "export gives the bodies back in import order"
    );
    let listed = store.list_projects().await.unwrap();
    assert_eq!(listed[0].items, 2500);
}

pub async fn reimport_of_same_content_changes_nothing<S: Store>(store: S) {
    let p = project(&store, "banking").await;
    let batch = vec![item(1, "a", "one"), item(2, "b", "two")];
    import(
        &store,
        &p,
        ImportOptions::default(),
        vec![batch.clone()],
        Some(true),
    )
    .await;
    let out = import(
        &store,
        &p,
        ImportOptions::default(),
        vec![batch.clone()],
        Some(true),
    )
    .await;
    assert!(out.committed);
    assert_eq!((out.imported, out.unchanged), (0, 2));
    assert_eq!(export(&store, &p).await.len(), 2);
}

pub async fn conflicting_content_stores_nothing_without_update<S: Store>(store: S) {
    let p = project(&store, "banking").await;
    import(
        &store,
        &p,
        ImportOptions::default(),
        vec![vec![item(1, "a", "one")]],
        Some(true),
    )
    .await;
    let out = import(
        &store,
        &p,
        ImportOptions::default(),
        vec![vec![
            item(1, "new-1", "x"),
            item(2, "a", "changed"),
            item(3, "new-2", "y"),
        ]],
        Some(true),
    )
    .await;
    assert!(!out.committed);
    assert_eq!(out.conflict_count, 1);
    assert_eq!(out.conflicts[0].line, 2);
    assert!(
        out.conflicts[0].reason.contains("`a`") && out.conflicts[0].reason.contains("--update")
    );
    let stored = export(&store, &p).await;
    assert_eq!(
        stored.len(),
        1,
        "the new items of the refused file were not stored"
    );
    assert!(stored[0].contains("one"));
}

pub async fn update_keeps_revision_history<S: Store>(store: S) {
    let p = project(&store, "banking").await;
    let first = item(1, "a", "one");
    import(
        &store,
        &p,
        ImportOptions::default(),
        vec![vec![first.clone()]],
        Some(true),
    )
    .await;
    let second = item(1, "a", "two");
    let out = import(
        &store,
        &p,
        ImportOptions {
            update: true,
            ..Default::default()
        },
        vec![vec![second.clone()]],
        Some(true),
    )
    .await;
    assert!(out.committed);
    assert_eq!(out.updated, 1);
    let (current, history) = store.item(p.id, "a").await.unwrap();
    assert_eq!(current.revision, 2);
    assert_eq!(current.body, second.body);
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].revision, 1);
    assert_eq!(history[0].body, first.body);
    assert_eq!(history[0].content_hash.len(), 64);
}

pub async fn duplicate_ids_within_one_source<S: Store>(store: S) {
    let p = project(&store, "banking").await;
    let out = import(
        &store,
        &p,
        ImportOptions::default(),
        vec![vec![
            item(1, "a", "one"),
            item(2, "a", "one"),
            item(3, "b", "x"),
        ]],
        Some(true),
    )
    .await;
    assert!(out.committed);
    assert_eq!((out.imported, out.unchanged), (2, 1));
    let out = import(
        &store,
        &p,
        ImportOptions::default(),
        vec![vec![item(1, "c", "one"), item(2, "c", "other")]],
        Some(true),
    )
    .await;
    assert!(!out.committed);
    assert_eq!(out.conflicts[0].line, 2);
    assert_eq!(export(&store, &p).await.len(), 2);
}

pub async fn unfinished_or_refused_source_stores_nothing<S: Store>(store: S) {
    let p = project(&store, "banking").await;
    let dropped = import(
        &store,
        &p,
        ImportOptions::default(),
        vec![vec![item(1, "a", "one")]],
        None,
    )
    .await;
    assert!(
        !dropped.committed,
        "a source that vanished without finishing is rolled back"
    );
    let refused = import(
        &store,
        &p,
        ImportOptions::default(),
        vec![vec![item(1, "a", "one")]],
        Some(false),
    )
    .await;
    assert!(!refused.committed);
    assert!(export(&store, &p).await.is_empty());
}

pub async fn report_errors_counts_every_conflict<S: Store>(store: S) {
    let p = project(&store, "banking").await;
    let originals: Vec<NewItem> = (0..5)
        .map(|i| item(i + 1, &format!("x{i}"), "one"))
        .collect();
    import(
        &store,
        &p,
        ImportOptions::default(),
        vec![originals],
        Some(true),
    )
    .await;
    let changed: Vec<NewItem> = (0..5)
        .map(|i| item(i + 1, &format!("x{i}"), "two"))
        .collect();
    let out = import(
        &store,
        &p,
        ImportOptions {
            report_errors: 3,
            ..Default::default()
        },
        vec![changed],
        Some(true),
    )
    .await;
    assert!(!out.committed);
    assert_eq!(out.conflicts.len(), 3);
    assert!(out.conflict_count >= 3);
}

pub async fn items_page_by_keyset<S: Store>(store: S) {
    let p = project(&store, "banking").await;
    let items: Vec<NewItem> = (0..25)
        .map(|i| item(i + 1, &format!("i{i:02}"), "t"))
        .collect();
    import(
        &store,
        &p,
        ImportOptions::default(),
        vec![items],
        Some(true),
    )
    .await;
    let mut after = None;
    let mut seen = Vec::new();
    loop {
        let page = store.list_items(p.id, after, 10).await.unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 10);
        after = page.last().map(|i| i.id);
        seen.extend(page.into_iter().map(|i| {
            assert_eq!(i.state, ItemState::Open);
            assert_eq!(i.revision, 1);
            i.ext_id
        }));
    }
    let expected: Vec<String> = (0..25).map(|i| format!("i{i:02}")).collect();
    assert_eq!(seen, expected);
}

pub async fn each_project_has_its_own_pseudonym_key<S: Store>(store: S) {
    let a = project(&store, "banking").await;
    let b = project(&store, "clinical").await;
    let ka = store.pseudonym_key(a.id).await.unwrap();
    assert_eq!(store.pseudonym_key(a.id).await.unwrap(), ka, "stable");
    assert_ne!(store.pseudonym_key(b.id).await.unwrap(), ka, "per project");
    assert_ne!(ka.as_bytes(), &[0u8; 32]);
    assert_ne!(
        &ka.as_bytes()[..16],
        a.split_salt.as_bytes().get(..16).unwrap(),
        "not the split salt"
    );
    assert_eq!(format!("{ka:?}"), "PseudonymKey(redacted)");
    // Nothing secret in the project as the API serializes it.
    let json = serde_json::to_string(&a).unwrap();
    assert!(
        !json.contains("split_salt") && !json.contains(&a.split_salt),
        "{json}"
    );
    let listed = serde_json::to_string(&store.list_projects().await.unwrap()).unwrap();
    assert!(!listed.contains(&a.split_salt), "{listed}");
    assert!(matches!(
        store
            .pseudonym_key(plumbline_domain::ProjectId(424242))
            .await,
        Err(StoreError::NotFound(_))
    ));
}

/// Items `from..to` (ids `load-N`), one per batch line.
fn load_items(from: u64, to: u64) -> Vec<NewItem> {
    (from..to)
        .map(|i| item(i + 1, &format!("load-{i}"), &format!("text {i}")))
        .collect()
}

/// SQLite only: a backup taken while imports commit is one consistent snapshot that
/// opens as a store, passes the integrity check and holds whole imports only; and a
/// closed store leaves everything in the main file, nothing in the WAL.
pub async fn sqlite_backup_under_load_restores_whole(store: SqliteStore) {
    let p = project(&store, "banking").await;
    const BATCH: u64 = 40;
    let writer = {
        let store = store.clone();
        let p = p.clone();
        tokio::spawn(async move {
            for n in 0..30u64 {
                let out = import(
                    &store,
                    &p,
                    ImportOptions::default(),
                    vec![load_items(n * BATCH, (n + 1) * BATCH)],
                    Some(true),
                )
                .await;
                assert_eq!(out.imported, BATCH);
                store
                    .create_user(
                        None,
                        NewUser {
                            name: format!("user-{n}"),
                            password_hash: None,
                            is_admin: false,
                        },
                    )
                    .await
                    .unwrap();
            }
        })
    };
    // Wait for the first imports, then back up while the rest commit.
    while store.list_projects().await.unwrap()[0].items < 3 * BATCH {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let dir = store.path().parent().unwrap().to_owned();
    let copy = dir.join("backup.db");
    let before = store.list_projects().await.unwrap()[0].items;
    let bytes = store.backup(&copy).await.unwrap();
    let after = store.list_projects().await.unwrap()[0].items;
    writer.await.unwrap();
    assert!(bytes > 0 && std::fs::metadata(&copy).unwrap().len() == bytes);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let beside: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("backup") || n.contains("partial"))
        .collect();
    assert_eq!(beside, ["backup.db"], "nothing beside the copy");
    // An existing file is never overwritten.
    let e = store.backup(&copy).await.unwrap_err();
    assert!(e.to_string().contains("exists"), "{e}");

    // Restore: the copy alone, in a new place, opened as the store.
    let restored_dir = dir.join("restored");
    std::fs::create_dir_all(&restored_dir).unwrap();
    let restored_path = restored_dir.join("plumbline.db");
    std::fs::copy(&copy, &restored_path).unwrap();
    // The audit key is restored with the database: the chain is keyed by it.
    std::fs::copy(dir.join("audit.key"), restored_dir.join("audit.key")).unwrap();
    let restored = SqliteStore::open(&restored_path).await.unwrap();
    restored.check_integrity().await.unwrap();
    let items = restored.list_projects().await.unwrap()[0].items;
    assert!(
        (before..=after).contains(&items) && items % BATCH == 0,
        "{items} items in the copy, {before} before and {after} after it: whole imports only"
    );
    let events = restored.audit_events(0, 100_000).await.unwrap();
    audit::verify_links(
        restored.audit_trail().key(),
        (0, audit::GENESIS.to_owned()),
        &events,
    )
    .unwrap();
    assert_eq!(
        restored.pseudonym_key(p.id).await.unwrap(),
        store.pseudonym_key(p.id).await.unwrap()
    );

    // Closing checkpoints the WAL into the main file: a copy of that file alone holds
    // every item.
    assert!(store.close().await.unwrap());
    let mut wal = store.path().as_os_str().to_owned();
    wal.push("-wal");
    assert_eq!(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0), 0);
    let alone = dir.join("alone");
    std::fs::create_dir_all(&alone).unwrap();
    std::fs::copy(store.path(), alone.join("plumbline.db")).unwrap();
    std::fs::copy(dir.join("audit.key"), alone.join("audit.key")).unwrap();
    let alone = SqliteStore::open(&alone.join("plumbline.db"))
        .await
        .unwrap();
    assert_eq!(alone.list_projects().await.unwrap()[0].items, 30 * BATCH);
    alone.check_integrity().await.unwrap();
}

/// SQLite only: the database directory is created 0700, the database and its `-wal`
/// and `-shm` 0600, whatever the umask allows.
pub async fn sqlite_files_are_private(store: SqliteStore) {
    project(&store, "banking").await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let db = store.path().to_owned();
        assert_eq!(mode(db.parent().unwrap()), 0o700);
        assert_eq!(mode(&db), 0o600);
        for suffix in ["-wal", "-shm"] {
            let mut p = db.as_os_str().to_owned();
            p.push(suffix);
            assert_eq!(mode(std::path::Path::new(&p)), 0o600, "{suffix}");
        }
    }
}

pub async fn unknown_project_is_not_found<S: Store>(store: S) {
    assert!(
        matches!(store.project_by_name("nope").await, Err(StoreError::NotFound(m)) if m.contains("nope"))
    );
    let fake = Project {
        id: plumbline_domain::ProjectId(424242),
        name: "ghost".into(),
        settings: ProjectSettings::default(),
        rubric_version: RubricVersion(1),
        split_salt: String::new(),
        created_at: 0,
    };
    let (tx, rx) = mpsc::channel(1);
    drop(tx);
    assert!(matches!(
        store
            .import_items(None, fake.id, ImportOptions::default(), rx)
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.item(fake.id, "x").await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn integrity_check_passes<S: Store>(store: S) {
    let p = project(&store, "banking").await;
    import(
        &store,
        &p,
        ImportOptions::default(),
        vec![vec![item(1, "a", "one")]],
        Some(true),
    )
    .await;
    store.check_integrity().await.unwrap();
    store.ping().await.unwrap();
}

fn with_external(mut item: NewItem, winner: &str) -> NewItem {
    item.external.push(ExternalJudgment {
        source: "hh-rlhf".into(),
        task: TaskKind::Preference,
        payload: format!(r#"{{"winner":"{winner}","strength":0}}"#),
        rationale: None,
        time_ms: None,
        gold_candidate: false,
    });
    item
}

async fn judgment_rows<S: Store>(store: &S, project: &Project) -> Vec<JudgedItem> {
    let (tx, mut rx) = mpsc::channel(2);
    let collect = tokio::spawn(async move {
        let mut all = Vec::new();
        while let Some(b) = rx.recv().await {
            all.extend(b);
        }
        all
    });
    store
        .judged_items(project.id, TaskKind::Preference, tx, None)
        .await
        .unwrap();
    collect.await.unwrap()
}

pub async fn reimport_adds_only_new_external_judgments<S: Store>(store: S) {
    let p = project(&store, "banking").await;
    let mut first = with_external(item(1, "ls-1", "one"), "a");
    first.external[0].time_ms = Some(12_500);
    let out = import(
        &store,
        &p,
        ImportOptions::default(),
        vec![vec![first.clone()]],
        Some(true),
    )
    .await;
    assert_eq!((out.imported, out.external_judgments), (1, 1));
    // The same item with one annotation more (a later export of the tool): the new
    // judgment is added and the item counted as annotated, the old one not repeated.
    let mut more = with_external(first.clone(), "b");
    more.external[1].source = "label-studio/ann-2".into();
    let out = import(
        &store,
        &p,
        ImportOptions::default(),
        vec![vec![more.clone()]],
        Some(true),
    )
    .await;
    assert!(out.committed);
    assert_eq!(
        (out.unchanged, out.annotated, out.external_judgments),
        (0, 1, 1)
    );
    // The same again: nothing new.
    let out = import(
        &store,
        &p,
        ImportOptions::default(),
        vec![vec![more]],
        Some(true),
    )
    .await;
    assert_eq!(
        (out.unchanged, out.annotated, out.external_judgments),
        (1, 0, 0)
    );
    let rows = judgment_rows(&store, &p).await;
    let judgments = &rows[0].judgments;
    assert_eq!(judgments.len(), 2);
    assert_eq!(judgments[0].time_ms, Some(12_500), "time on task is kept");
    assert_eq!(
        judgments[1].external_source.as_deref(),
        Some("label-studio/ann-2")
    );
}

pub async fn external_judgments_come_and_go_with_their_items<S: Store>(store: S) {
    let p = project(&store, "banking").await;
    let first: Vec<NewItem> = (0..1500)
        .map(|i| with_external(item(i + 1, &format!("x{i}"), "one"), "a"))
        .collect();
    let batches: Vec<Vec<NewItem>> = first.chunks(1000).map(|c| c.to_vec()).collect();
    let out = import(
        &store,
        &p,
        ImportOptions::default(),
        batches.clone(),
        Some(true),
    )
    .await;
    assert!(out.committed);
    assert_eq!((out.imported, out.external_judgments), (1500, 1500));
    // Same content again: nothing new, not even the judgments.
    let out = import(&store, &p, ImportOptions::default(), batches, Some(true)).await;
    assert_eq!((out.unchanged, out.external_judgments), (1500, 0));
    // A refused source stores neither items nor judgments.
    let out = import(
        &store,
        &p,
        ImportOptions::default(),
        vec![vec![with_external(item(1, "new", "two"), "b")]],
        Some(false),
    )
    .await;
    assert!(!out.committed);
    assert!(store.item(p.id, "new").await.is_err());
    // An update replaces the item's external judgments.
    let changed = with_external(item(1, "x0", "changed"), "b");
    let update = ImportOptions {
        update: true,
        ..ImportOptions::default()
    };
    let out = import(&store, &p, update, vec![vec![changed]], Some(true)).await;
    assert_eq!((out.updated, out.external_judgments), (1, 1));
}

async fn split_rows<S: Store>(store: &S, project: &Project) -> Vec<SplitRow> {
    let (tx, mut rx) = mpsc::channel(2);
    let collect = tokio::spawn(async move {
        let mut all = Vec::new();
        while let Some(b) = rx.recv().await {
            all.extend(b);
        }
        all
    });
    let n = store.split_rows(project.id, tx).await.unwrap();
    let all = collect.await.unwrap();
    assert_eq!(n as usize, all.len());
    all
}

pub async fn splits_are_stored_streamed_and_all_or_nothing<S: Store>(store: S) {
    use plumbline_domain::Split;
    let p = project(&store, "banking").await;
    let items: Vec<NewItem> = (0..1500)
        .map(|i| item(i + 1, &format!("s{i}"), "text"))
        .collect();
    let batches: Vec<Vec<NewItem>> = items.chunks(1000).map(|c| c.to_vec()).collect();
    import(&store, &p, ImportOptions::default(), batches, Some(true)).await;
    let rows = split_rows(&store, &p).await;
    assert_eq!(rows.len(), 1500);
    assert!(rows.iter().all(|r| r.split.is_none()));
    assert_eq!(rows[7].ext_id, "s7");
    let splits: Vec<(String, Split)> = (0..1500)
        .map(|i| {
            let side = if i % 10 == 0 {
                Split::Eval
            } else {
                Split::Train
            };
            (format!("s{i}"), side)
        })
        .collect();
    let n = store
        .set_splits(None, p.id, splits, "eval 150, train 1350".into())
        .await
        .unwrap();
    assert_eq!(n, 1500);
    let rows = split_rows(&store, &p).await;
    assert_eq!(rows[10].split, Some(Split::Eval));
    assert_eq!(rows[11].split, Some(Split::Train));
    // An unknown id refuses the whole change.
    let bad = vec![
        ("s11".to_owned(), Split::Eval),
        ("nope".to_owned(), Split::Eval),
    ];
    assert!(matches!(
        store.set_splits(None, p.id, bad, "x".into()).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(split_rows(&store, &p).await[11].split, Some(Split::Train));
}

pub async fn judged_items_merge_judgments_in_item_order<S: Store>(store: S) {
    let p = project(&store, "banking").await;
    let items: Vec<NewItem> = (0..2100)
        .map(|i| {
            let it = item(i + 1, &format!("j{i}"), "text");
            // Every third item carries two prior judgments, the others none.
            if i % 3 == 0 {
                with_external(with_external(it, "a"), "b")
            } else {
                it
            }
        })
        .collect();
    let batches: Vec<Vec<NewItem>> = items.chunks(1000).map(|c| c.to_vec()).collect();
    import(&store, &p, ImportOptions::default(), batches, Some(true)).await;
    let (tx, mut rx) = mpsc::channel(2);
    let collect = tokio::spawn(async move {
        let mut all = Vec::new();
        while let Some(b) = rx.recv().await {
            all.extend(b);
        }
        all
    });
    let n = store
        .judged_items(p.id, TaskKind::Preference, tx, None)
        .await
        .unwrap();
    let all: Vec<JudgedItem> = collect.await.unwrap();
    assert_eq!((n, all.len()), (2100, 2100));
    for (i, j) in all.iter().enumerate() {
        assert_eq!(j.ext_id, format!("j{i}"));
        assert!(j.adjudication.is_none());
        if i % 3 == 0 {
            let winners: Vec<&str> = j.judgments.iter().map(|r| &r.payload[11..12]).collect();
            assert_eq!(winners, ["a", "b"], "oldest first");
            assert_eq!(j.judgments[0].external_source.as_deref(), Some("hh-rlhf"));
            assert!(j.judgments[0].annotator.is_none());
        } else {
            assert!(j.judgments.is_empty());
        }
    }
    // Batches sent back to be refilled give the same items: nothing of an earlier
    // item (judgments, split, texts) stays in a refilled one.
    let fingerprint = |j: &JudgedItem| {
        let rows: Vec<String> = j.judgments.iter().map(|r| format!("{r:?}")).collect();
        (
            j.ext_id.clone(),
            j.body.clone(),
            j.split,
            j.adjudication.clone(),
            rows,
        )
    };
    let expected: Vec<_> = all.iter().map(fingerprint).collect();
    let (tx, mut rx) = mpsc::channel::<Vec<JudgedItem>>(2);
    let (back, recycle) = std::sync::mpsc::sync_channel(4);
    let collect = tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Some(b) = rx.recv().await {
            seen.extend(b.iter().map(fingerprint));
            let _ = back.try_send(b);
        }
        seen
    });
    store
        .judged_items(p.id, TaskKind::Preference, tx, Some(recycle))
        .await
        .unwrap();
    assert!(
        collect.await.unwrap() == expected,
        "a refilled batch differs"
    );
    // Another kind: nothing.
    let (tx, mut rx) = mpsc::channel(2);
    let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
    assert_eq!(
        store
            .judged_items(p.id, TaskKind::Rating, tx, None)
            .await
            .unwrap(),
        0
    );
    drain.await.unwrap();
}

/// An item whose import marked one of its judgments as the right answer.
fn with_ground_truth(item: NewItem, winner: &str, source: &str) -> NewItem {
    let mut item = with_external(item, winner);
    let j = item.external.last_mut().unwrap();
    j.source = source.into();
    j.rationale = Some("the caller said 4929".into());
    j.gold_candidate = true;
    item
}

pub async fn gold_candidates_wait_for_a_lead<S: Store>(store: S) {
    let p = project(&store, "banking").await;
    let items = vec![
        with_ground_truth(item(1, "g1", "one"), "a", "label-studio/ann-1"),
        with_ground_truth(item(2, "g2", "two"), "b", "label-studio/ann-1"),
        with_external(item(3, "g3", "three"), "a"),
    ];
    let out = import(
        &store,
        &p,
        ImportOptions::default(),
        vec![items.clone()],
        Some(true),
    )
    .await;
    assert_eq!((out.external_judgments, out.gold_candidates), (3, 2));
    // Proposed, never gold by themselves.
    let pending = store
        .gold_candidates(p.id, Some("pending".into()))
        .await
        .unwrap();
    assert_eq!(pending.len(), 2);
    assert_eq!(pending[0].item, "g1");
    assert_eq!(pending[0].source, "label-studio/ann-1");
    assert_eq!(pending[0].payload["winner"], "a");
    assert!(store.gold(p.id, None).await.unwrap().is_empty());
    // The imported payload lacks the rubric's criteria: accepting it as it is names the
    // problem and changes nothing; the lead's completed version is stored as gold.
    let refused = store
        .accept_gold_candidate(None, p.id, pending[0].id, None)
        .await;
    assert!(matches!(refused, Err(WorkError::Payload(_))), "{refused:?}");
    assert!(store.gold(p.id, None).await.unwrap().is_empty());
    let full = r#"{"winner":"a","strength":2,"criteria":{"compliance":"a","tone":"a"}}"#;
    let gold = store
        .accept_gold_candidate(None, p.id, pending[0].id, Some(full.into()))
        .await
        .unwrap();
    assert_eq!((gold.item.as_str(), gold.origin.as_str()), ("g1", "import"));
    let rejected = store
        .reject_gold_candidate(None, p.id, pending[1].id)
        .await
        .unwrap();
    assert_eq!(rejected.state, "rejected");
    // Decided once only; an unknown id or state is named.
    let again = store
        .accept_gold_candidate(None, p.id, pending[1].id, Some(full.into()))
        .await;
    assert!(
        matches!(again, Err(WorkError::Store(StoreError::Conflict(_)))),
        "{again:?}"
    );
    assert!(matches!(
        store.reject_gold_candidate(None, p.id, 9999).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.gold_candidates(p.id, Some("maybe".into())).await,
        Err(StoreError::Invalid(_))
    ));
    let all = store.gold_candidates(p.id, None).await.unwrap();
    let states: Vec<(&str, Option<plumbline_domain::GoldId>)> =
        all.iter().map(|c| (c.state.as_str(), c.gold)).collect();
    assert_eq!(states, [("accepted", Some(gold.id)), ("rejected", None)]);
    assert!(
        store
            .gold_candidates(p.id, Some("pending".into()))
            .await
            .unwrap()
            .is_empty()
    );
    // A later export of the tool with a new ground truth proposes only the new one.
    let mut later = items;
    later[2] = with_ground_truth(later[2].clone(), "b", "label-studio/ann-2");
    let out = import(
        &store,
        &p,
        ImportOptions::default(),
        vec![later],
        Some(true),
    )
    .await;
    assert_eq!((out.annotated, out.gold_candidates), (1, 1));
    // A reviewer's proposal: validated as it is made, pending until a lead decides it,
    // and accepted as an expert's gold.
    let rev = store
        .create_user(
            None,
            NewUser {
                name: "rita".into(),
                password_hash: None,
                is_admin: false,
            },
        )
        .await
        .unwrap();
    let invalid = store
        .propose_gold_candidate(rev.id, p.id, "g3".into(), r#"{"winner":"a"}"#.into())
        .await;
    assert!(matches!(invalid, Err(WorkError::Payload(_))), "{invalid:?}");
    let proposed = store
        .propose_gold_candidate(rev.id, p.id, "g3".into(), full.into())
        .await
        .unwrap();
    assert_eq!(
        (
            proposed.state.as_str(),
            proposed.proposed_by,
            proposed.source.as_str()
        ),
        (
            "pending",
            Some(rev.id),
            format!("reviewer/{}", rev.id).as_str()
        )
    );
    let twice = store
        .propose_gold_candidate(rev.id, p.id, "g3".into(), full.into())
        .await;
    assert!(
        matches!(twice, Err(WorkError::Store(StoreError::Conflict(_)))),
        "{twice:?}"
    );
    let missing = store
        .propose_gold_candidate(rev.id, p.id, "nope".into(), full.into())
        .await;
    assert!(
        matches!(missing, Err(WorkError::Store(StoreError::NotFound(_)))),
        "{missing:?}"
    );
    let accepted = store
        .accept_gold_candidate(None, p.id, proposed.id, None)
        .await
        .unwrap();
    assert_eq!(
        (accepted.item.as_str(), accepted.origin.as_str()),
        ("g3", "expert")
    );
    // Each decision is audited.
    let events = store.audit_events(0, 100_000).await.unwrap();
    let actions: Vec<&str> = events
        .iter()
        .filter(|e| e.object_type == "gold_candidate" || e.action == "gold.add")
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "gold.add",
            "gold.candidate.accept",
            "gold.candidate.reject",
            "gold.candidate.propose",
            "gold.add",
            "gold.candidate.accept"
        ]
    );
}
