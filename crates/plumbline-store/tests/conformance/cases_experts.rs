//! Expert routing, escalation and probation: the rules that put expert judgment where
//! it decides the data.

use crate::cases_work::{RUBRIC, gold_items, import, item, pref, submission, take, user};
use plumbline_domain::{ProjectName, ProjectRole, ProjectSettings, Rubric, UserId};
use plumbline_store::*;

pub(crate) async fn project<S: Store>(store: &S, name: &str, settings: ProjectSettings) -> Project {
    store
        .create_project(
            None,
            NewProject {
                name: ProjectName::parse(name).unwrap(),
                settings,
                rubric: Rubric::from_toml(RUBRIC).unwrap(),
            },
        )
        .await
        .unwrap()
}

/// A member of `p`; with `expert`, verified `banking:expert`.
pub(crate) async fn member<S: Store>(store: &S, p: &Project, name: &str, expert: bool) -> UserId {
    let u = user(store, name).await;
    store
        .add_member(None, p.id, u, ProjectRole::Annotator)
        .await
        .unwrap();
    if expert {
        store
            .propose_expertise(None, u, "banking:expert".parse().unwrap())
            .await
            .unwrap();
        store.verify_expertise(None, u, "banking").await.unwrap();
    }
    u
}

pub(crate) fn routed() -> ProjectSettings {
    ProjectSettings {
        overlap: 2,
        max_overlap: Some(3),
        gold_rate: 0.0,
        lease_seconds: 600,
        ..ProjectSettings::default()
    }
}

async fn state<S: Store>(store: &S, p: &Project, item: &str) -> ItemState {
    store.item(p.id, item).await.unwrap().0.state
}

pub async fn experts_come_first_and_decide_escalated_items<S: Store>(store: S) {
    let p = project(&store, "experts", routed()).await;
    import(&store, &p, (0..4).map(|n| item(n, "")).collect()).await;
    let (e1, e2) = (
        member(&store, &p, "erin", true).await,
        member(&store, &p, "ezra", true).await,
    );
    let (c1, c2, c3) = (
        member(&store, &p, "cam", false).await,
        member(&store, &p, "cy", false).await,
        member(&store, &p, "cole", false).await,
    );
    let t1 = take(&store, c1, &p).await;
    assert_eq!(t1.item, "it-00000");
    let t2 = take(&store, c2, &p).await;
    assert_eq!(
        t2.item, "it-00001",
        "the last slot of an item without an expert is left to the experts"
    );
    let x1 = take(&store, e1, &p).await;
    assert_eq!(
        x1.item, "it-00000",
        "an expert goes where no expert has been"
    );
    store
        .submit(c1, p.id, t1.assignment, submission(pref("b")))
        .await
        .unwrap();
    store
        .submit(e1, p.id, x1.assignment, submission(pref("a")))
        .await
        .unwrap();
    assert_eq!(
        state(&store, &p, "it-00000").await,
        ItemState::Open,
        "one expert against one crowd vote is too close to call: escalated"
    );
    let t3 = take(&store, c3, &p).await;
    assert_ne!(t3.item, "it-00000", "escalated items are for experts");
    let x2 = take(&store, e2, &p).await;
    assert_eq!(
        x2.item, "it-00000",
        "an expert takes the escalated item first"
    );
    store
        .submit(e2, p.id, x2.assignment, submission(pref("a")))
        .await
        .unwrap();
    assert_eq!(state(&store, &p, "it-00000").await, ItemState::Resolved);
    let js = store.judgments_of(p.id, "it-00000").await.unwrap();
    assert_eq!(js.len(), 3, "max_overlap bounds the escalation");
    store.check_integrity().await.unwrap();
}

pub async fn without_experts_disagreement_goes_to_adjudication<S: Store>(store: S) {
    let p = project(&store, "crowd", routed()).await;
    import(&store, &p, vec![item(0, "")]).await;
    let (c1, c2) = (
        member(&store, &p, "cam", false).await,
        member(&store, &p, "cy", false).await,
    );
    let a = take(&store, c1, &p).await;
    let b = take(&store, c2, &p).await;
    assert_eq!(a.item, b.item, "no experts: nothing is reserved");
    store
        .submit(c1, p.id, a.assignment, submission(pref("a")))
        .await
        .unwrap();
    store
        .submit(c2, p.id, b.assignment, submission(pref("b")))
        .await
        .unwrap();
    assert_eq!(state(&store, &p, "it-00000").await, ItemState::Adjudication);
}

pub async fn clearly_inaccurate_annotators_are_put_on_probation<S: Store>(store: S) {
    let p = project(
        &store,
        "probation",
        ProjectSettings {
            overlap: 1,
            gold_rate: 0.999,
            min_gold_accuracy: 0.7,
            lease_seconds: 600,
            ..ProjectSettings::default()
        },
    )
    .await;
    import(&store, &p, (0..14).map(|n| item(n, "")).collect()).await;
    gold_items(&store, &p, 0..12, "a").await;
    let (bad, good) = (user(&store, "bad").await, user(&store, "good").await);
    // Probation needs ten answers before it acts: after nine misses `take` still finds
    // work (it panics on any refusal). A draw at 0.999 misses gold now and then: count.
    let mut missed = 0;
    while missed < 10 {
        let t = take(&store, bad, &p).await;
        missed += i32::from(t.purpose == Purpose::Gold);
        store
            .submit(bad, p.id, t.assignment, submission(pref("b")))
            .await
            .unwrap();
        let t = take(&store, good, &p).await;
        store
            .submit(good, p.id, t.assignment, submission(pref("a")))
            .await
            .unwrap();
    }
    match store.next_task(bad, p.id).await.unwrap() {
        Next::None(NoTask::Probation { min_accuracy }) => assert_eq!(min_accuracy, 0.7),
        other => panic!("expected probation, got {other:?}"),
    }
    assert!(
        matches!(store.next_task(good, p.id).await.unwrap(), Next::Task(_)),
        "an accurate annotator keeps working"
    );
    store.reinstate(None, p.id, bad).await.unwrap();
    assert!(
        matches!(store.next_task(bad, p.id).await.unwrap(), Next::Task(_)),
        "a reinstated annotator works again: only gold judged after it counts"
    );
}

pub async fn qualification_misses_do_not_count_toward_probation<S: Store>(store: S) {
    // Probation is decided on hidden gold alone: the misses of a passed qualification
    // are no evidence against the annotator's work (the quality table says the same).
    let p = project(
        &store,
        "qualified",
        ProjectSettings {
            overlap: 1,
            gold_rate: 0.0,
            qualification_size: 6,
            qualification_pass: 0.5,
            min_gold_accuracy: 0.9,
            lease_seconds: 600,
            ..ProjectSettings::default()
        },
    )
    .await;
    import(&store, &p, (0..8).map(|n| item(n, "")).collect()).await;
    gold_items(&store, &p, 0..6, "a").await;
    let u = user(&store, "half").await;
    for n in 0..6 {
        let t = take(&store, u, &p).await;
        assert_eq!(t.purpose, Purpose::Qualification);
        let answer = if n < 3 { "b" } else { "a" };
        store
            .submit(u, p.id, t.assignment, submission(pref(answer)))
            .await
            .unwrap();
    }
    // 3 of 6 right: passed at 0.5, and on probation at 0.9 if these counted.
    let t = take(&store, u, &p).await;
    assert_eq!(t.purpose, Purpose::Work);
    let hidden = store
        .hidden_gold_since_reinstatement(p.id, u)
        .await
        .unwrap();
    assert_eq!((hidden.correct, hidden.scored), (0, 0));
}
