//! What every browser test starts with: the browser or a loud skip, a scratch store, a
//! preference project with items, and a server on a free port.

use crate::RUBRIC;
use crate::webdriver;
use plumbline_domain::{Item, ProjectName, ProjectSettings, Rubric, TaskKind};
use plumbline_server::AppState;
use plumbline_store::{ImportMsg, ImportOptions, NewProject, Project, SqliteStore, Store};
use std::path::PathBuf;

/// Whether Chromium and chromedriver are here. Without them a test skips with a loud
/// message when run by hand, and fails in CI (`CI=true`).
pub(crate) fn browser_present(test: &str) -> bool {
    let Some(why) = webdriver::unavailable() else {
        return true;
    };
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "browser tests cannot run in CI: {why}"
    );
    eprintln!("\n!!!!!!!! SKIPPING {test}: {why} !!!!!!!!\n");
    false
}

/// An empty SQLite store in a directory of its own (`plumbline-ui-{tag}-{pid}`).
pub(crate) async fn scratch_store(tag: &str) -> (PathBuf, SqliteStore) {
    let dir = std::env::temp_dir().join(format!("plumbline-ui-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = SqliteStore::open(&dir.join("db.sqlite")).await.unwrap();
    (dir, store)
}

/// A preference project under the test rubric, `overlap` judgments an item, no hidden
/// gold.
pub(crate) async fn preference_project(store: &SqliteStore, name: &str, overlap: u32) -> Project {
    store
        .create_project(
            None,
            NewProject {
                name: ProjectName::parse(name).unwrap(),
                settings: ProjectSettings {
                    overlap,
                    gold_rate: 0.0,
                    ..ProjectSettings::default()
                },
                rubric: Rubric::from_toml(RUBRIC).unwrap(),
            },
        )
        .await
        .unwrap()
}

/// Imports native item lines of `task` into `project`, all or nothing.
pub(crate) async fn import_lines(
    store: &SqliteStore,
    project: &Project,
    task: TaskKind,
    lines: &[String],
) {
    let items: Vec<_> = lines
        .iter()
        .enumerate()
        .map(|(n, line)| {
            let item = Item::from_json(line, task).unwrap();
            plumbline_formats::feed::encode_item(&item, n as u64 + 1, task)
        })
        .collect();
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    tx.send(ImportMsg::Items(items)).await.unwrap();
    tx.send(ImportMsg::Finish { commit: true }).await.unwrap();
    drop(tx);
    let out = store
        .import_items(None, project.id, ImportOptions::default(), rx)
        .await
        .unwrap();
    assert!(out.committed, "{out:?}");
}

/// Serves `store` on a free loopback port until the returned sender is dropped; the
/// base URL first.
pub(crate) async fn serve(store: &SqliteStore) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(plumbline_server::serve(
        listener,
        AppState::new(store.clone()),
        async {
            let _ = stopped.await;
        },
    ));
    (base, stop)
}
