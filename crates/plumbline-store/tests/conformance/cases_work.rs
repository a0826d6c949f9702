//! The engine's rules every backend must keep: assignment, judgments, gold,
//! consensus and adjudication (DESIGN.md "Assignment").

use plumbline_domain::{EdgeCaseQuota, ProjectName, ProjectSettings, Rubric, TaskKind, UserId};
use plumbline_store::*;
use std::collections::{HashMap, HashSet};
use tokio::sync::mpsc;

pub(crate) const RUBRIC: &str = r#"
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
[[errors]]
key = "escalation_missed"
criterion = "compliance"
severity = "critical"
[[edge_cases]]
key = "bereavement"
"#;

pub(crate) fn settings() -> ProjectSettings {
    ProjectSettings {
        overlap: 2,
        gold_rate: 0.0,
        lease_seconds: 600,
        ..ProjectSettings::default()
    }
}

pub(crate) async fn project_with<S: Store>(store: &S, settings: ProjectSettings) -> Project {
    store
        .create_project(
            None,
            NewProject {
                name: ProjectName::parse("engine").unwrap(),
                settings,
                rubric: Rubric::from_toml(RUBRIC).unwrap(),
            },
        )
        .await
        .unwrap()
}

fn hash(body: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, b) in body.bytes().enumerate() {
        out[i % 32] = out[i % 32].wrapping_mul(31).wrapping_add(b);
    }
    out
}

/// A preference item; `extra` is spliced into the JSON object (`"tags":[...]`).
pub(crate) fn item(n: usize, extra: &str) -> NewItem {
    let id = format!("it-{n:05}");
    let body = format!(
        r#"{{"id":"{id}","context":[{{"role":"user","content":"question {n}"}}],"candidates":[{{"id":"a","content":"x{n}"}},{{"id":"b","content":"y{n}"}}]{extra}}}"#
    );
    NewItem {
        line: n as u64,
        ext_id: id,
        task: TaskKind::Preference,
        split: None,
        content_hash: hash(&body),
        body,
        external: Vec::new(),
        media_sha256: None,
        media: None,
    }
}

pub(crate) async fn import<S: Store>(store: &S, project: &Project, items: Vec<NewItem>) {
    let (tx, rx) = mpsc::channel(2);
    let feeder = tokio::spawn(async move {
        for chunk in items.chunks(500) {
            tx.send(ImportMsg::Items(chunk.to_vec())).await.unwrap();
        }
        tx.send(ImportMsg::Finish { commit: true }).await.unwrap();
    });
    let out = store
        .import_items(None, project.id, ImportOptions::default(), rx)
        .await
        .unwrap();
    feeder.await.unwrap();
    assert!(out.committed);
}

pub(crate) async fn user<S: Store>(store: &S, name: &str) -> UserId {
    store
        .create_user(
            None,
            NewUser {
                name: name.into(),
                password_hash: None,
                is_admin: false,
            },
        )
        .await
        .unwrap()
        .id
}

pub(crate) fn pref(winner: &str) -> String {
    let strength = if winner == "tie" { 0 } else { 2 };
    format!(
        r#"{{"winner":"{winner}","strength":{strength},"criteria":{{"compliance":"{winner}","tone":"{winner}"}}}}"#
    )
}

pub(crate) fn submission(payload: String) -> Submission {
    Submission {
        payload,
        time_ms: Some(1234),
    }
}

pub(crate) async fn take<S: Store>(store: &S, user: UserId, project: &Project) -> Task {
    match store.next_task(user, project.id).await.unwrap() {
        Next::Task(t) => *t,
        Next::None(why) => panic!("expected a task, got {why:?}"),
    }
}

/// The stored state of item `ext`.
async fn state_of<S: Store>(store: &S, project: &Project, ext: &str) -> ItemState {
    store
        .items_page(project.id, ItemFilter::default(), None, 500)
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.ext_id == ext)
        .unwrap()
        .state
}

async fn none<S: Store>(store: &S, user: UserId, project: &Project) -> NoTask {
    match store.next_task(user, project.id).await.unwrap() {
        Next::Task(t) => panic!("expected no task, got {}", t.item),
        Next::None(why) => why,
    }
}

pub async fn leases_fill_items_closest_to_completion_first<S: Store>(store: S) {
    let p = project_with(&store, settings()).await;
    import(&store, &p, (0..3).map(|n| item(n, "")).collect()).await;
    let (ann, bob, cy) = (
        user(&store, "ann").await,
        user(&store, "bob").await,
        user(&store, "cy").await,
    );
    let t1 = take(&store, ann, &p).await;
    assert_eq!(t1.item, "it-00000");
    assert_eq!(t1.purpose, Purpose::Work);
    let mut order = t1.display_order.clone();
    order.sort();
    assert_eq!(
        order,
        ["a", "b"],
        "display order is a permutation of the candidates"
    );
    // Bob gets the item Ann holds (closest to completion), never the same one twice.
    let t2 = take(&store, bob, &p).await;
    assert_eq!(t2.item, "it-00000");
    let t3 = take(&store, ann, &p).await;
    assert_eq!(t3.item, "it-00001");
    // it-00000 has two live leases = overlap: Cy gets it-00001.
    let t4 = take(&store, cy, &p).await;
    assert_eq!(t4.item, "it-00001");
    let t5 = take(&store, cy, &p).await;
    assert_eq!(t5.item, "it-00002");
    let t6 = take(&store, bob, &p).await;
    assert_eq!(t6.item, "it-00002");
    assert_eq!(none(&store, ann, &p).await, NoTask::Drained);
    assert!(t1.expires_at - t1.leased_at == 600_000);
    assert_eq!(t6.seq, 2);
}

pub async fn submit_validates_and_settles_by_consensus<S: Store>(store: S) {
    let p = project_with(&store, settings()).await;
    import(&store, &p, (0..2).map(|n| item(n, "")).collect()).await;
    let (ann, bob) = (user(&store, "ann").await, user(&store, "bob").await);
    let a1 = take(&store, ann, &p).await;
    // Bad payloads: named, nothing stored.
    let bad = [
        (
            r#"{"winner":"c","strength":1,"criteria":{"compliance":"c","tone":"c"}}"#,
            "unknown candidate",
        ),
        (
            r#"{"winner":"a","strength":7,"criteria":{"compliance":"a","tone":"a"}}"#,
            "strength",
        ),
        (
            r#"{"winner":"a","strength":1,"criteria":{"compliance":"a"}}"#,
            "tone",
        ),
        (r#"{"order":[["a"],["b"]]}"#, "ranking"),
        ("{not json", "not valid JSON"),
    ];
    for (payload, needle) in bad {
        let err = store
            .submit(ann, p.id, a1.assignment, submission(payload.into()))
            .await
            .unwrap_err();
        assert!(matches!(err, WorkError::Payload(_)), "{err}");
        assert!(err.to_string().contains(needle), "{payload}: {err}");
    }
    // The priority rule: the overall winner must follow compliance.
    let inverted = r#"{"winner":"a","strength":2,"criteria":{"compliance":"b","tone":"a"}}"#;
    let err = store
        .submit(ann, p.id, a1.assignment, submission(inverted.into()))
        .await
        .unwrap_err();
    match err {
        WorkError::Payload(plumbline_domain::JudgmentError::PriorityViolation {
            criterion,
            ..
        }) => {
            assert_eq!(criterion, "compliance")
        }
        other => panic!("{other}"),
    }
    assert!(store.judgments_of(p.id, &a1.item).await.unwrap().is_empty());
    // An override with a rationale is kept and flagged.
    let overridden = r#"{"winner":"a","strength":2,"criteria":{"compliance":"b","tone":"a"},"override":true,"rationale":"b discloses a wrong fee"}"#;
    let out = store
        .submit(ann, p.id, a1.assignment, submission(overridden.into()))
        .await
        .unwrap();
    assert!(out.priority_inversion && !out.resubmitted);
    assert_eq!(out.time_ms, 1234);
    assert_eq!(state_of(&store, &p, &a1.item).await, ItemState::Open);
    let b1 = take(&store, bob, &p).await;
    assert_eq!(b1.item, a1.item);
    store
        .submit(bob, p.id, b1.assignment, submission(pref("a")))
        .await
        .unwrap();
    assert_eq!(
        state_of(&store, &p, &a1.item).await,
        ItemState::Resolved,
        "same winner: consensus"
    );
    // Disagreement goes to adjudication.
    let a2 = take(&store, ann, &p).await;
    let b2 = take(&store, bob, &p).await;
    assert_eq!(a2.item, b2.item);
    store
        .submit(ann, p.id, a2.assignment, submission(pref("a")))
        .await
        .unwrap();
    store
        .submit(bob, p.id, b2.assignment, submission(pref("b")))
        .await
        .unwrap();
    assert_eq!(
        state_of(&store, &p, &a2.item).await,
        ItemState::Adjudication
    );
    let js = store.judgments_of(p.id, &a1.item).await.unwrap();
    assert_eq!(js.len(), 2);
    assert!(js[0].priority_inversion && js[0].display_order.is_some());
    let progress = store.progress(p.id).await.unwrap();
    assert_eq!(progress.items.resolved, 1);
    assert_eq!(progress.items.adjudication, 1);
    assert_eq!(progress.judgments, 4);
    assert_eq!(progress.priority_inversions, 1);
    assert_eq!(progress.annotators.len(), 2);
    assert_eq!(progress.annotators[0].judgments, 2);
}

pub async fn resubmission_keeps_history_and_expiry_refuses<S: Store>(store: S) {
    let p = project_with(
        &store,
        ProjectSettings {
            lease_seconds: 1,
            ..settings()
        },
    )
    .await;
    import(&store, &p, vec![item(0, ""), item(1, "")]).await;
    let (ann, bob) = (user(&store, "ann").await, user(&store, "bob").await);
    let t = take(&store, ann, &p).await;
    let first = store
        .submit(ann, p.id, t.assignment, submission(pref("a")))
        .await
        .unwrap();
    let again = store
        .submit(ann, p.id, t.assignment, submission(pref("b")))
        .await
        .unwrap();
    assert!(again.resubmitted && again.judgment == first.judgment);
    let js = store.judgments_of(p.id, &t.item).await.unwrap();
    assert_eq!(js.len(), 1, "a resubmission edits, it does not add");
    assert!(js[0].payload.contains("\"winner\":\"b\""));
    assert_eq!(js[0].history.len(), 1);
    assert!(js[0].history[0].contains("\"winner\":\"a\""));
    // Someone else's assignment is refused, and so is a skip of it.
    let err = store
        .submit(bob, p.id, t.assignment, submission(pref("a")))
        .await
        .unwrap_err();
    assert!(matches!(err, WorkError::Forbidden(_)), "{err}");
    // A lease left to expire: refused afterwards, and the item comes back.
    let b = take(&store, bob, &p).await;
    assert_eq!(b.item, t.item);
    let b2 = take(&store, bob, &p).await;
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    let err = store
        .submit(bob, p.id, b.assignment, submission(pref("a")))
        .await
        .unwrap_err();
    assert!(matches!(err, WorkError::Expired(_)), "{err}");
    let err = store
        .submit(ann, p.id, t.assignment, submission(pref("a")))
        .await
        .unwrap_err();
    assert!(
        matches!(err, WorkError::Expired(_)),
        "resubmission after the lease: {err}"
    );
    assert_eq!(store.reclaim_expired(p.id).await.unwrap(), 2);
    assert!(store.judgments_of(p.id, &b.item).await.unwrap().len() == 1);
    let cy = user(&store, "cy").await;
    let c = take(&store, cy, &p).await;
    assert_eq!(c.item, t.item, "the abandoned slot is offered again");
    let c2 = take(&store, cy, &p).await;
    assert_eq!(c2.item, b2.item);
    // Skips need a reason and give the slot back.
    let err = store
        .skip(cy, p.id, c2.assignment, "  ".into())
        .await
        .unwrap_err();
    assert!(matches!(err, WorkError::Store(StoreError::Invalid(_))));
    store
        .skip(cy, p.id, c2.assignment, "needs a Welsh speaker".into())
        .await
        .unwrap();
    let err = store
        .submit(cy, p.id, c2.assignment, submission(pref("a")))
        .await
        .unwrap_err();
    assert!(matches!(err, WorkError::Expired(_)));
    let progress = store.progress(p.id).await.unwrap();
    let cy_row = progress.annotators.iter().find(|a| a.name == "cy").unwrap();
    assert_eq!(cy_row.skipped, 1);
}

pub async fn routing_needs_verified_expertise<S: Store>(store: S) {
    let p = project_with(&store, settings()).await;
    import(
        &store,
        &p,
        vec![
            item(0, r#","requires":["banking:expert"]"#),
            item(1, r#","requires":["banking:practitioner"]"#),
        ],
    )
    .await;
    let ann = user(&store, "ann").await;
    store
        .propose_expertise(None, ann, "banking:expert".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(
        none(&store, ann, &p).await,
        NoTask::Drained,
        "unverified expertise does not count"
    );
    let bob = user(&store, "bob").await;
    store
        .propose_expertise(None, bob, "banking:practitioner".parse().unwrap())
        .await
        .unwrap();
    store.verify_expertise(None, bob, "banking").await.unwrap();
    let t = take(&store, bob, &p).await;
    assert_eq!(t.item, "it-00001");
    assert_eq!(none(&store, bob, &p).await, NoTask::Drained);
    store.verify_expertise(None, ann, "banking").await.unwrap();
    assert_eq!(take(&store, ann, &p).await.item, "it-00001");
    assert_eq!(take(&store, ann, &p).await.item, "it-00000");

    let q = store
        .create_project(
            None,
            NewProject {
                name: ProjectName::parse("clinical").unwrap(),
                settings: ProjectSettings {
                    required_expertise: vec!["clinical:practitioner".parse().unwrap()],
                    ..settings()
                },
                rubric: Rubric::from_toml(RUBRIC).unwrap(),
            },
        )
        .await
        .unwrap();
    import(&store, &q, vec![item(5, "")]).await;
    assert_eq!(
        none(&store, ann, &q).await,
        NoTask::MissingExpertise {
            required: "clinical:practitioner".into()
        }
    );
}

pub async fn waiting_counts_what_each_annotator_could_still_be_given<S: Store>(store: S) {
    let p = project_with(&store, settings()).await;
    let mut items: Vec<NewItem> = (0..3).map(|n| item(n, "")).collect();
    items.push(item(3, r#","requires":["banking:expert"]"#));
    import(&store, &p, items).await;
    let (ann, bob, cy) = (
        user(&store, "ann").await,
        user(&store, "bob").await,
        user(&store, "cy").await,
    );
    let waiting = |who| {
        let store = &store;
        async move { store.waiting_for(who, p.id).await.unwrap() }
    };
    // The item requiring expertise waits for no one here.
    assert_eq!(waiting(ann).await, 3);
    // A lease takes the item out of its holder's count, not out of the others'.
    let t = take(&store, ann, &p).await;
    assert_eq!((waiting(ann).await, waiting(bob).await), (2, 3));
    store
        .submit(ann, p.id, t.assignment, submission(pref("a")))
        .await
        .unwrap();
    assert_eq!(waiting(ann).await, 2, "a judged item does not come back");
    // At its overlap (a judgment and a live lease) an item waits for no one else.
    let t = take(&store, bob, &p).await;
    assert_eq!(t.item, "it-00000");
    assert_eq!((waiting(bob).await, waiting(cy).await), (2, 2));
    // A skipped item is not offered again.
    let t = take(&store, cy, &p).await;
    store
        .skip(cy, p.id, t.assignment, "not mine".into())
        .await
        .unwrap();
    assert_eq!(waiting(cy).await, 1);
    // Verified expertise opens the item that requires it.
    store
        .propose_expertise(None, cy, "banking:expert".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(waiting(cy).await, 1, "unverified expertise does not count");
    store.verify_expertise(None, cy, "banking").await.unwrap();
    assert_eq!(waiting(cy).await, 2);
}

pub(crate) async fn gold_items<S: Store>(
    store: &S,
    p: &Project,
    ids: std::ops::Range<usize>,
    winner: &str,
) {
    for n in ids {
        store
            .add_gold(
                None,
                p.id,
                NewGold {
                    item: format!("it-{n:05}"),
                    payload: pref(winner),
                },
            )
            .await
            .unwrap();
    }
}

pub async fn qualification_passes_fails_and_resets<S: Store>(store: S) {
    let p = project_with(
        &store,
        ProjectSettings {
            qualification_size: 2,
            qualification_pass: 1.0,
            ..settings()
        },
    )
    .await;
    import(&store, &p, (0..10).map(|n| item(n, "")).collect()).await;
    gold_items(&store, &p, 0..6, "a").await;
    let (good, bad) = (user(&store, "good").await, user(&store, "bad").await);
    for (who, answer) in [(good, "a"), (bad, "b")] {
        for _ in 0..2 {
            let t = take(&store, who, &p).await;
            assert_eq!(t.purpose, Purpose::Qualification);
            assert!(t.item.as_str() < "it-00006", "qualification serves gold");
            if answer == "b" {
                // Both leased before either is judged: no third one.
                continue;
            }
            store
                .submit(who, p.id, t.assignment, submission(pref(answer)))
                .await
                .unwrap();
        }
    }
    assert_eq!(
        store.qualification(p.id, good).await.unwrap().state,
        QualificationState::Passed
    );
    let w = take(&store, good, &p).await;
    assert_eq!(w.purpose, Purpose::Work);
    assert!(w.item.as_str() >= "it-00006", "gold is not regular work");
    // The bad annotator holds both qualification leases: pending until judged.
    assert_eq!(none(&store, bad, &p).await, NoTask::QualificationPending);
    let progress = store.progress(p.id).await.unwrap();
    let row = progress
        .annotators
        .iter()
        .find(|a| a.name == "bad")
        .unwrap();
    assert_eq!(row.leased, 2);
    let q = store.qualification(p.id, bad).await.unwrap();
    assert_eq!((q.state, q.total), (QualificationState::Pending, 0));

    let worse = user(&store, "worse").await;
    for _ in 0..2 {
        let t = take(&store, worse, &p).await;
        assert_eq!(t.purpose, Purpose::Qualification);
        store
            .submit(worse, p.id, t.assignment, submission(pref("b")))
            .await
            .unwrap();
    }
    let q = store.qualification(p.id, worse).await.unwrap();
    assert_eq!(
        q,
        Qualification {
            state: QualificationState::Failed,
            correct: 0,
            total: 2
        }
    );
    assert_eq!(none(&store, worse, &p).await, NoTask::QualificationFailed);
    store.reset_qualification(None, p.id, worse).await.unwrap();
    let t = take(&store, worse, &p).await;
    assert_eq!(
        t.purpose,
        Purpose::Qualification,
        "a reset annotator qualifies again on fresh gold"
    );
}

pub async fn hidden_gold_follows_the_rate_and_is_scored<S: Store>(store: S) {
    let p = project_with(
        &store,
        ProjectSettings {
            gold_rate: 0.3,
            overlap: 1,
            // Half the gold is answered wrong on purpose: with ten or more draws (the
            // draw is random) probation would stop the annotator mid-test.
            min_gold_accuracy: 0.0,
            ..settings()
        },
    )
    .await;
    import(&store, &p, (0..60).map(|n| item(n, "")).collect()).await;
    gold_items(&store, &p, 0..20, "a").await;
    let ann = user(&store, "ann").await;
    let mut gold_seen = HashSet::new();
    let mut gold_count = 0;
    for seq in 1..=30i64 {
        let t = take(&store, ann, &p).await;
        assert_eq!(t.seq, seq);
        if t.purpose == Purpose::Gold {
            gold_count += 1;
            assert!(
                gold_seen.insert(t.item.clone()),
                "a gold item is served once per annotator"
            );
            assert!(t.item.as_str() < "it-00020");
        } else {
            assert!(t.item.as_str() >= "it-00020");
        }
        let answer = if gold_count % 2 == 0 { "a" } else { "b" };
        store
            .submit(ann, p.id, t.assignment, submission(pref(answer)))
            .await
            .unwrap();
    }
    // 30 draws at 0.3 (the draw itself is secret: see `gold_draw_and_order_need_the_secret`).
    assert!((1..=20).contains(&gold_count), "{gold_count}");
    let progress = store.progress(p.id).await.unwrap();
    let row = &progress.annotators[0];
    assert_eq!(row.gold_scored, gold_count);
    assert_eq!(row.gold_correct, gold_count / 2);
    assert_eq!(progress.gold_items, 20);
}

pub async fn edge_case_quotas_come_first<S: Store>(store: S) {
    let p = project_with(
        &store,
        ProjectSettings {
            overlap: 1,
            edge_case_quotas: vec![EdgeCaseQuota {
                tag: "edge:bereavement".into(),
                min_share: 0.5,
            }],
            ..settings()
        },
    )
    .await;
    let items = (0..20)
        .map(|n| {
            if n % 5 == 4 {
                item(n, r#","tags":["edge:bereavement"]"#)
            } else {
                item(n, "")
            }
        })
        .collect();
    import(&store, &p, items).await;
    let ann = user(&store, "ann").await;
    let mut served = Vec::new();
    for _ in 0..8 {
        served.push(take(&store, ann, &p).await.item);
    }
    let tagged: Vec<&String> = served
        .iter()
        .filter(|i| i.ends_with('4') || i.ends_with('9'))
        .collect();
    // 4 tagged items exist; the quota serves them while under 50%.
    assert_eq!(tagged.len(), 4, "{served:?}");
    assert_eq!(served[0], "it-00004");
}

pub async fn gold_is_versioned_and_revalidated<S: Store>(store: S) {
    let p = project_with(&store, settings()).await;
    import(&store, &p, vec![item(0, ""), item(1, "")]).await;
    let err = store
        .add_gold(
            None,
            p.id,
            NewGold {
                item: "it-00000".into(),
                payload: r#"{"winner":"z","strength":1,"criteria":{"compliance":"z","tone":"z"}}"#
                    .into(),
            },
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("unknown candidate"), "{err}");
    let err = store
        .add_gold(
            None,
            p.id,
            NewGold {
                item: "nope".into(),
                payload: pref("a"),
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, WorkError::Store(StoreError::NotFound(_))));
    gold_items(&store, &p, 0..1, "a").await;
    gold_items(&store, &p, 0..1, "b").await;
    let gold = store.gold(p.id, Some("it-00000".into())).await.unwrap();
    assert_eq!(gold.len(), 2);
    assert_eq!((gold[0].version, gold[0].active), (2, true));
    assert_eq!((gold[1].version, gold[1].active), (1, false));
    assert!(!gold[0].needs_revalidation);
    let mut rubric = Rubric::from_toml(RUBRIC).unwrap();
    rubric.name = "Retail banking support v2".into();
    store.add_rubric_version(None, p.id, rubric).await.unwrap();
    let gold = store.gold(p.id, None).await.unwrap();
    assert!(
        gold[0].needs_revalidation,
        "gold of an older rubric needs revalidation"
    );
    // A new version under the current rubric revalidates it.
    gold_items(&store, &p, 0..1, "b").await;
    let gold = store.gold(p.id, None).await.unwrap();
    assert_eq!(gold[0].version, 3);
    assert!(gold[0].active && !gold[0].needs_revalidation);
    assert_eq!(gold[0].rubric_version.0, 2);
}

pub async fn adjudication_decides_and_promotes<S: Store>(store: S) {
    let p = project_with(&store, settings()).await;
    import(&store, &p, vec![item(0, ""), item(1, "")]).await;
    let (ann, bob, rev) = (
        user(&store, "ann").await,
        user(&store, "bob").await,
        user(&store, "rev").await,
    );
    store
        .propose_expertise(None, ann, "banking:expert".parse().unwrap())
        .await
        .unwrap();
    store.verify_expertise(None, ann, "banking").await.unwrap();
    let a = take(&store, ann, &p).await;
    let b = take(&store, bob, &p).await;
    store
        .submit(ann, p.id, a.assignment, submission(pref("a")))
        .await
        .unwrap();
    store
        .submit(bob, p.id, b.assignment, submission(pref("b")))
        .await
        .unwrap();
    let queue = store.adjudication_queue(p.id, 10).await.unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].item, a.item);
    assert_eq!(queue[0].judgments.len(), 2);
    let ann_view = queue[0]
        .judgments
        .iter()
        .find(|j| j.annotator == Some(ann))
        .unwrap();
    assert_eq!(ann_view.expertise, ["banking:expert"]);
    assert_eq!(ann_view.annotator_name.as_deref(), Some("ann"));
    let decide = |item: &str, rationale: &str| Decision {
        item: item.into(),
        payload: pref("a"),
        rationale: rationale.into(),
        promote_to_gold: true,
    };
    let err = store
        .adjudicate(rev, p.id, decide(&a.item, " "))
        .await
        .unwrap_err();
    assert!(matches!(err, WorkError::Store(StoreError::Invalid(_))));
    let err = store
        .adjudicate(rev, p.id, decide("it-00001", "x"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, WorkError::Store(StoreError::Conflict(_))),
        "{err}"
    );
    let d = store
        .adjudicate(rev, p.id, decide(&a.item, "b skips the identity check"))
        .await
        .unwrap();
    assert!(d.gold.is_some());
    assert!(store.adjudication_queue(p.id, 10).await.unwrap().is_empty());
    let (it, _) = store.item(p.id, &a.item).await.unwrap();
    assert_eq!(it.state, ItemState::Resolved);
    let gold = store.gold(p.id, Some(a.item.clone())).await.unwrap();
    assert_eq!(gold[0].origin, "adjudication");
    let err = store
        .adjudicate(rev, p.id, decide(&a.item, "again"))
        .await
        .unwrap_err();
    assert!(matches!(err, WorkError::Store(StoreError::Conflict(_))));
    let progress = store.progress(p.id).await.unwrap();
    assert_eq!(progress.adjudications, 1);
    assert_eq!(progress.gold_items, 1);
    store.check_integrity().await.unwrap();
}

/// Many annotators at once: never above the overlap, never twice on an item, every
/// acknowledged judgment stored.
pub async fn concurrent_annotators_keep_the_overlap<S: Store>(store: S) {
    let p = project_with(
        &store,
        ProjectSettings {
            overlap: 3,
            ..settings()
        },
    )
    .await;
    import(&store, &p, (0..40).map(|n| item(n, "")).collect()).await;
    let mut users = Vec::new();
    for i in 0..12 {
        users.push(user(&store, &format!("u{i}")).await);
    }
    let mut handles = Vec::new();
    for (i, u) in users.iter().copied().enumerate() {
        let store = store.clone();
        let pid = p.id;
        handles.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            loop {
                let t = match store.next_task(u, pid).await.unwrap() {
                    Next::Task(t) => t,
                    Next::None(_) => break,
                };
                let w = if (t.item_id.0 + i as i64) % 2 == 0 {
                    "a"
                } else {
                    "b"
                };
                let out = store
                    .submit(u, pid, t.assignment, submission(pref(w)))
                    .await
                    .unwrap();
                acked.push((t.item.clone(), out.judgment));
            }
            acked
        }));
    }
    let mut acked = Vec::new();
    for h in handles {
        acked.extend(h.await.unwrap());
    }
    assert_eq!(
        acked.len(),
        40 * 3,
        "every item filled exactly to the overlap"
    );
    let mut per_item: HashMap<String, Vec<UserId>> = HashMap::new();
    for n in 0..40 {
        let id = format!("it-{n:05}");
        let js = store.judgments_of(p.id, &id).await.unwrap();
        assert_eq!(js.len(), 3, "{id}");
        let who: HashSet<_> = js.iter().map(|j| j.user).collect();
        assert_eq!(who.len(), 3, "never one annotator twice on {id}");
        per_item.insert(id, js.iter().filter_map(|j| j.user).collect());
    }
    let stored: HashSet<_> = (0..40)
        .flat_map(|n| per_item[&format!("it-{n:05}")].clone())
        .collect();
    assert!(!stored.is_empty());
    let progress = store.progress(p.id).await.unwrap();
    assert_eq!(progress.judgments, 120);
    assert_eq!(progress.items.open, 0);
    store.check_integrity().await.unwrap();
}

pub async fn held_lease_comes_back_until_submitted_skipped_or_expired<S: Store>(store: S) {
    let p = project_with(
        &store,
        ProjectSettings {
            lease_seconds: 2,
            ..settings()
        },
    )
    .await;
    import(&store, &p, (0..4).map(|n| item(n, "")).collect()).await;
    let (ann, bob) = (user(&store, "ann").await, user(&store, "bob").await);
    assert!(store.held_task(ann, p.id).await.unwrap().is_none());
    let t1 = take(&store, ann, &p).await;
    // The held lease is the same assignment with the same order, seq and expiry.
    let held = store
        .held_task(ann, p.id)
        .await
        .unwrap()
        .expect("a live lease");
    assert_eq!(held.assignment, t1.assignment);
    assert_eq!(held.item, t1.item);
    assert_eq!(held.display_order, t1.display_order);
    assert_eq!(
        (
            held.seq,
            held.leased_at,
            held.expires_at,
            held.rubric_version
        ),
        (t1.seq, t1.leased_at, t1.expires_at, t1.rubric_version)
    );
    assert_eq!(held.purpose, Purpose::Work);
    assert_eq!(held.body, t1.body);
    // Someone else's lease is not theirs to resume.
    assert!(store.held_task(bob, p.id).await.unwrap().is_none());
    // With two live leases the older one comes first; submitting or skipping ends one.
    let t2 = take(&store, ann, &p).await;
    let held = store.held_task(ann, p.id).await.unwrap().unwrap();
    assert_eq!(held.assignment, t1.assignment);
    store
        .submit(ann, p.id, t1.assignment, submission(pref("a")))
        .await
        .unwrap();
    let held = store.held_task(ann, p.id).await.unwrap().unwrap();
    assert_eq!(held.assignment, t2.assignment, "a submitted lease is done");
    store
        .skip(ann, p.id, t2.assignment, "not my language".into())
        .await
        .unwrap();
    assert!(store.held_task(ann, p.id).await.unwrap().is_none());
    // An expired lease is not held, even before anything reclaims it.
    let b = take(&store, bob, &p).await;
    assert_eq!(
        store
            .held_task(bob, p.id)
            .await
            .unwrap()
            .unwrap()
            .assignment,
        b.assignment
    );
    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    assert!(store.held_task(bob, p.id).await.unwrap().is_none());
    // Submissions carry their time.
    let js = store.judgments_of(p.id, &t1.item).await.unwrap();
    assert_eq!(js.len(), 1);
    assert!(js[0].submitted_at >= t1.leased_at && js[0].updated_at >= js[0].submitted_at);
}

/// `held_or_next` gives the held lease back (`true`), else leases (`false`); and the work
/// queue's counters and copies follow every path that changes them (lease, skip, expiry
/// and reclaim, submission, consensus, gold), which the integrity check compares.
pub async fn held_or_next_and_the_queue_follow_every_path<S: Store>(store: S) {
    let p = project_with(
        &store,
        ProjectSettings {
            lease_seconds: 2,
            ..settings()
        },
    )
    .await;
    import(&store, &p, (0..4).map(|n| item(n, "")).collect()).await;
    store.check_integrity().await.unwrap();
    let (ann, bob) = (user(&store, "ann").await, user(&store, "bob").await);
    let task = |n: Next| match n {
        Next::Task(t) => *t,
        Next::None(why) => panic!("no task: {why:?}"),
    };
    let (first, resumed) = store.held_or_next(ann, p.id).await.unwrap();
    assert!(!resumed);
    let t1 = task(first);
    let (again, resumed) = store.held_or_next(ann, p.id).await.unwrap();
    assert!(resumed, "the held lease comes back");
    let again = task(again);
    assert_eq!(
        (again.assignment, again.display_order.clone()),
        (t1.assignment, t1.display_order.clone())
    );
    store.check_integrity().await.unwrap();
    store
        .skip(ann, p.id, t1.assignment, "not my language".into())
        .await
        .unwrap();
    store.check_integrity().await.unwrap();
    // Bob's lease expires; his next call leases afresh and reclaims it.
    let b = take(&store, bob, &p).await;
    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    store.check_integrity().await.unwrap();
    let (fresh, resumed) = store.held_or_next(bob, p.id).await.unwrap();
    assert!(!resumed, "an expired lease is not resumed");
    let b2 = task(fresh);
    assert_ne!(b2.assignment, b.assignment);
    store.check_integrity().await.unwrap();
    // Two agreeing judgments resolve an item; its queue row leaves the queue with it.
    let a2 = take(&store, ann, &p).await;
    for (who, t) in [(bob, &b2), (ann, &a2)] {
        store
            .submit(who, p.id, t.assignment, submission(pref("a")))
            .await
            .unwrap();
    }
    store.check_integrity().await.unwrap();
    let item = if a2.item == b2.item {
        a2.item.clone()
    } else {
        // Different items: fill Bob's with a third annotator.
        let cy = user(&store, "cy").await;
        let c = loop {
            let t = take(&store, cy, &p).await;
            if t.item == b2.item {
                break t;
            }
            store
                .skip(cy, p.id, t.assignment, "later".into())
                .await
                .unwrap();
        };
        store
            .submit(cy, p.id, c.assignment, submission(pref("a")))
            .await
            .unwrap();
        b2.item.clone()
    };
    let (it, _) = store.item(p.id, &item).await.unwrap();
    assert_eq!(it.state, ItemState::Resolved);
    store.check_integrity().await.unwrap();
    // Gold leaves the work queue too.
    store
        .add_gold(
            None,
            p.id,
            NewGold {
                item: "it-00003".into(),
                payload: pref("b"),
            },
        )
        .await
        .unwrap();
    store.check_integrity().await.unwrap();
}

/// The hidden-gold draw as it was before the project's secret: a hash of ids any
/// annotator knows. Whoever computes this must learn nothing about the real draw.
fn draw_from_ids(project: i64, annotator: i64, seq: i64, rate: f64) -> bool {
    fn splitmix(mut x: u64) -> u64 {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    }
    let h = splitmix(splitmix(splitmix(project as u64) ^ annotator as u64) ^ seq as u64);
    ((h >> 11) as f64 / (1u64 << 53) as f64) < rate
}

/// What one annotator is served in a fresh database: the purposes of 40 leases and
/// the gold items in the order they came.
async fn draws<S: Store>(store: &S) -> (Project, UserId, Vec<bool>, Vec<String>) {
    let p = project_with(
        store,
        ProjectSettings {
            gold_rate: 0.5,
            overlap: 1,
            ..settings()
        },
    )
    .await;
    import(store, &p, (0..80).map(|n| item(n, "")).collect()).await;
    gold_items(store, &p, 0..40, "a").await;
    let ann = user(store, "ann").await;
    let (mut gold, mut order) = (Vec::new(), Vec::new());
    for _ in 0..40 {
        let t = take(store, ann, &p).await;
        gold.push(t.purpose == Purpose::Gold);
        if t.purpose == Purpose::Gold {
            order.push(t.item.clone());
        }
        store
            .submit(ann, p.id, t.assignment, submission(pref("a")))
            .await
            .unwrap();
    }
    (p, ann, gold, order)
}

/// The same ids in two databases (project 1, annotator 1, leases 1..40): the draws
/// and the order of gold differ, because each project keys them with a secret of its
/// own; and neither follows the hash of ids that served them before the secret.
pub async fn gold_draw_and_order_need_the_secret<S: Store>(one: S, two: S) {
    let (p1, a1, gold1, order1) = draws(&one).await;
    let (p2, a2, gold2, order2) = draws(&two).await;
    assert_eq!((p1.id, a1), (p2.id, a2), "the same ids in both databases");
    assert_ne!(gold1, gold2, "the same ids, another draw");
    assert_ne!(order1, order2, "the same ids, another order of gold");
    for gold in [&gold1, &gold2] {
        let predicted: Vec<bool> = (1..=40)
            .map(|seq| draw_from_ids(p1.id.0, a1.0, seq, 0.5))
            .collect();
        assert_ne!(gold, &predicted, "the ids alone predict the draw");
    }
    // Gold no longer comes in id order from a start fixed per annotator.
    for order in [&order1, &order2] {
        let mut sorted = order.to_vec();
        sorted.sort();
        let rotated = (0..sorted.len()).any(|k| {
            let mut r = sorted.clone();
            r.rotate_left(k);
            &r == order
        });
        assert!(order.len() < 4 || !rotated, "gold in id order: {order:?}");
    }
}

/// Takes tasks (submitting work) until a hidden-gold one comes (at a rate near 1).
async fn take_gold<S: Store>(store: &S, who: UserId, p: &Project) -> Task {
    for _ in 0..20 {
        let t = take(store, who, p).await;
        if t.purpose == Purpose::Gold {
            return t;
        }
        store
            .submit(who, p.id, t.assignment, submission(pref("a")))
            .await
            .unwrap();
    }
    panic!("no hidden gold in 20 draws at rate 0.999");
}

pub async fn the_first_submission_fixes_the_gold_score<S: Store>(store: S) {
    // Hidden gold: a miss stays a miss when the answer is changed inside the lease.
    let p = project_with(
        &store,
        ProjectSettings {
            gold_rate: 0.999,
            overlap: 1,
            ..settings()
        },
    )
    .await;
    import(&store, &p, (0..40).map(|n| item(n, "")).collect()).await;
    gold_items(&store, &p, 0..20, "a").await;
    let ann = user(&store, "ann").await;
    let t = take_gold(&store, ann, &p).await;
    store
        .submit(ann, p.id, t.assignment, submission(pref("b")))
        .await
        .unwrap();
    let again = store
        .submit(ann, p.id, t.assignment, submission(pref("a")))
        .await
        .unwrap();
    assert!(again.resubmitted);
    let js = store.judgments_of(p.id, &t.item).await.unwrap();
    assert_eq!(js.len(), 1);
    assert!(
        js[0].payload.contains("\"winner\":\"a\""),
        "the payload changes"
    );
    assert_eq!(js[0].history.len(), 1, "the first answer is kept");
    assert_eq!(js[0].gold_correct, Some(false), "the score does not");
    let progress = store.progress(p.id).await.unwrap();
    let row = progress.annotators.iter().find(|a| a.user == ann).unwrap();
    assert_eq!((row.gold_correct, row.gold_scored), (0, 1));

    // Qualification: a miss corrected inside the lease still counts as a miss.
    let q = store
        .create_project(
            None,
            NewProject {
                name: ProjectName::parse("qualified").unwrap(),
                settings: ProjectSettings {
                    qualification_size: 2,
                    qualification_pass: 1.0,
                    ..settings()
                },
                rubric: Rubric::from_toml(RUBRIC).unwrap(),
            },
        )
        .await
        .unwrap();
    import(&store, &q, (0..10).map(|n| item(n, "")).collect()).await;
    gold_items(&store, &q, 0..4, "a").await;
    let first = take(&store, ann, &q).await;
    assert_eq!(first.purpose, Purpose::Qualification);
    for answer in ["b", "a", "a"] {
        store
            .submit(ann, q.id, first.assignment, submission(pref(answer)))
            .await
            .unwrap();
    }
    let second = take(&store, ann, &q).await;
    store
        .submit(ann, q.id, second.assignment, submission(pref("a")))
        .await
        .unwrap();
    assert_eq!(
        store.qualification(q.id, ann).await.unwrap(),
        Qualification {
            state: QualificationState::Failed,
            correct: 1,
            total: 2
        },
        "a corrected miss does not pass a qualification"
    );
    store.check_integrity().await.unwrap();
}

pub async fn training_feedback_only_after_a_qualification_miss<S: Store>(store: S) {
    let q = project_with(
        &store,
        ProjectSettings {
            qualification_size: 2,
            qualification_pass: 1.0,
            ..settings()
        },
    )
    .await;
    import(&store, &q, (0..10).map(|n| item(n, "")).collect()).await;
    gold_items(&store, &q, 0..4, "a").await;
    let (ann, bob) = (user(&store, "ann").await, user(&store, "bob").await);
    let missed = take(&store, ann, &q).await;
    assert_eq!(
        store
            .training_feedback(q.id, ann, &missed.item)
            .await
            .unwrap()
            .map(|g| g.item),
        None,
        "nothing before the judgment"
    );
    store
        .submit(ann, q.id, missed.assignment, submission(pref("b")))
        .await
        .unwrap();
    let gold = store
        .training_feedback(q.id, ann, &missed.item)
        .await
        .unwrap()
        .expect("the gold answer after a qualification miss");
    assert_eq!(
        (gold.item.as_str(), gold.active),
        (missed.item.as_str(), true)
    );
    assert_eq!(gold.payload["winner"], "a");
    // Not for someone who never judged it, nor for an unknown item.
    assert!(
        store
            .training_feedback(q.id, bob, &missed.item)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .training_feedback(q.id, ann, "no-such-item")
            .await
            .unwrap()
            .is_none()
    );
    // A right answer has nothing to correct; once decided, nothing is shown.
    let right = take(&store, ann, &q).await;
    store
        .submit(ann, q.id, right.assignment, submission(pref("a")))
        .await
        .unwrap();
    assert!(
        store
            .training_feedback(q.id, ann, &right.item)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store.qualification(q.id, ann).await.unwrap().state,
        QualificationState::Failed
    );
    assert!(
        store
            .training_feedback(q.id, ann, &missed.item)
            .await
            .unwrap()
            .is_none(),
        "the qualification is decided"
    );

    // Hidden gold never has feedback, though everyone's qualification is "pending" in a
    // project without one.
    let h = store
        .create_project(
            None,
            NewProject {
                name: ProjectName::parse("hidden").unwrap(),
                settings: ProjectSettings {
                    gold_rate: 0.999,
                    overlap: 1,
                    ..settings()
                },
                rubric: Rubric::from_toml(RUBRIC).unwrap(),
            },
        )
        .await
        .unwrap();
    import(&store, &h, (0..20).map(|n| item(n, "")).collect()).await;
    gold_items(&store, &h, 0..10, "a").await;
    let t = take_gold(&store, bob, &h).await;
    store
        .submit(bob, h.id, t.assignment, submission(pref("b")))
        .await
        .unwrap();
    assert_eq!(
        store.judgments_of(h.id, &t.item).await.unwrap()[0].gold_correct,
        Some(false),
        "a hidden-gold miss"
    );
    assert_eq!(
        store.qualification(h.id, bob).await.unwrap().state,
        QualificationState::Pending
    );
    assert!(
        store
            .training_feedback(h.id, bob, &t.item)
            .await
            .unwrap()
            .is_none()
    );
}
