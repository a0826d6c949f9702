//! What exports read to decide items: each item's active gold beside its judgments, and
//! every annotator's scored outcomes (gold scores, votes on adjudicated items).

use crate::cases_work::{RUBRIC, import, item, pref, submission, take, user};
use plumbline_domain::{ProjectName, ProjectSettings, Rubric, TaskKind};
use plumbline_store::*;
use tokio::sync::mpsc;

async fn judged<S: Store>(store: &S, p: &Project) -> Vec<JudgedItem> {
    let (tx, mut rx) = mpsc::channel(2);
    let collect = tokio::spawn(async move {
        let mut all = Vec::new();
        while let Some(b) = rx.recv().await {
            all.extend(b);
        }
        all
    });
    store
        .judged_items(p.id, TaskKind::Preference, tx, None)
        .await
        .unwrap();
    collect.await.unwrap()
}

pub async fn exports_read_gold_and_annotator_outcomes<S: Store>(store: S) {
    let p = store
        .create_project(
            None,
            NewProject {
                name: ProjectName::parse("outcomes").unwrap(),
                settings: ProjectSettings {
                    overlap: 2,
                    gold_rate: 0.5,
                    lease_seconds: 600,
                    // `bob` misses gold on purpose; probation would stop him early.
                    min_gold_accuracy: 0.0,
                    ..ProjectSettings::default()
                },
                rubric: Rubric::from_toml(RUBRIC).unwrap(),
            },
        )
        .await
        .unwrap();
    import(&store, &p, (0..12).map(|n| item(n, "")).collect()).await;
    // Nothing judged, nothing adjudicated: no outcomes.
    let none = store.annotator_outcomes(p.id).await.unwrap();
    assert_eq!(none, AnnotatorOutcomes::default());
    // Items 0–3 are gold ("a"); item 0 gets a second version ("b"), which is the active one.
    for n in 0..4 {
        let gold = NewGold {
            item: format!("it-{n:05}"),
            payload: pref("a"),
        };
        store.add_gold(None, p.id, gold).await.unwrap();
    }
    let newer = NewGold {
        item: "it-00000".into(),
        payload: pref("b"),
    };
    store.add_gold(None, p.id, newer).await.unwrap();
    // ann always says "a", bob always "b": they disagree on every work item.
    let (ann, bob, rev) = (
        user(&store, "ann").await,
        user(&store, "bob").await,
        user(&store, "rev").await,
    );
    for (who, says) in [(ann, "a"), (bob, "b")] {
        while let Next::Task(t) = store.next_task(who, p.id).await.unwrap() {
            store
                .submit(who, p.id, t.assignment, submission(pref(says)))
                .await
                .unwrap();
        }
    }
    // A reviewer decides three of the contested items for "a".
    let queue = store.adjudication_queue(p.id, 100).await.unwrap();
    assert!(queue.len() >= 3, "{} contested", queue.len());
    for case in &queue[..3] {
        let decision = Decision {
            item: case.item.clone(),
            payload: pref("a"),
            rationale: "a follows the policy".into(),
            promote_to_gold: false,
        };
        store.adjudicate(rev, p.id, decision).await.unwrap();
    }

    let items = judged(&store, &p).await;
    assert_eq!(items.len(), 12);
    for j in &items {
        let n: usize = j.ext_id[3..].parse().unwrap();
        match n {
            0 => assert_eq!(
                j.gold.as_deref(),
                Some(pref("b").as_str()),
                "the active version"
            ),
            1..=3 => assert_eq!(j.gold.as_deref(), Some(pref("a").as_str())),
            _ => assert!(j.gold.is_none(), "{} has no gold", j.ext_id),
        }
        assert_eq!(j.gold_rubric_version, j.gold.as_ref().map(|_| 1));
        assert_eq!(j.is_gold, n < 4);
    }

    // Gold scores as the engine recorded them (progress counts the same judgments).
    let out = store.annotator_outcomes(p.id).await.unwrap();
    let progress = store.progress(p.id).await.unwrap();
    let mut expected: Vec<GoldScore> = progress
        .annotators
        .iter()
        .filter(|a| a.gold_scored > 0)
        .map(|a| GoldScore {
            annotator: a.user.0,
            right: a.gold_correct as u64,
            scored: a.gold_scored as u64,
        })
        .collect();
    expected.sort_by_key(|g| g.annotator);
    assert_eq!(out.gold, expected);
    assert!(!out.gold.is_empty(), "hidden gold was served and scored");
    // Each annotator's vote on the three adjudicated items, against the decision.
    assert_eq!(
        out.adjudicated,
        [
            AdjudicatedVotes {
                annotator: ann.0,
                vote: Some("a".into()),
                decided: Some("a".into()),
                count: 3,
            },
            AdjudicatedVotes {
                annotator: bob.0,
                vote: Some("b".into()),
                decided: Some("a".into()),
                count: 3,
            },
        ]
    );
    // Another project's outcomes are its own.
    let other = take_other(&store).await;
    assert_eq!(
        store.annotator_outcomes(other).await.unwrap(),
        AnnotatorOutcomes::default()
    );
    store.check_integrity().await.unwrap();
}

/// A second project with an item but no judgments.
async fn take_other<S: Store>(store: &S) -> plumbline_domain::ProjectId {
    let p = store
        .create_project(
            None,
            NewProject {
                name: ProjectName::parse("other").unwrap(),
                settings: ProjectSettings::default(),
                rubric: Rubric::from_toml(RUBRIC).unwrap(),
            },
        )
        .await
        .unwrap();
    import(store, &p, vec![item(0, "")]).await;
    let u = user(store, "carol").await;
    let _ = take(store, u, &p).await;
    p.id
}
