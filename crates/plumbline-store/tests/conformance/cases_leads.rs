//! A lead's changes once a project runs: settings changed whole or not at all with
//! their audit event, and reinstatement resetting what probation counts.

use crate::cases_work::{RUBRIC, import, item, pref, submission, take, user};
use plumbline_domain::{ProjectId, ProjectName, ProjectSettings, Rubric, SettingsPatch};
use plumbline_store::audit::{AuditAction, StoredAuditEvent, content_digest};
use plumbline_store::*;

async fn project<S: Store>(store: &S, settings: ProjectSettings) -> Project {
    store
        .create_project(
            None,
            NewProject {
                name: ProjectName::parse("leads").unwrap(),
                settings,
                rubric: Rubric::from_toml(RUBRIC).unwrap(),
            },
        )
        .await
        .unwrap()
}

async fn last_event<S: Store>(store: &S) -> StoredAuditEvent {
    store.audit_events(0, 10_000).await.unwrap().pop().unwrap()
}

pub async fn settings_change_whole_or_not_at_all<S: Store>(store: S) {
    let p = project(&store, ProjectSettings::default()).await;
    let lead = user(&store, "lead").await;
    let patch = SettingsPatch::from_json(
        r#"{"overlap": 4, "gold_rate": 0.25, "min_experts": 2, "decision_threshold": 0.95}"#,
    )
    .unwrap();
    let changed = store
        .update_settings(Some(lead), p.id, patch)
        .await
        .unwrap();
    let stored = store.project_by_name("leads").await.unwrap();
    assert_eq!(changed.settings, stored.settings);
    let s = &stored.settings;
    assert_eq!(
        (s.overlap, s.gold_rate, s.min_experts, s.decision_threshold),
        (4, 0.25, Some(2), 0.95)
    );
    assert_eq!(s.lease_seconds, 900, "what the patch leaves out is kept");
    let e = last_event(&store).await;
    assert_eq!(e.action, AuditAction::SettingsChange.as_str());
    assert_eq!(e.actor, Some(lead.0));
    assert_eq!(e.project_id, Some(p.id.0));
    assert_eq!(
        e.object_id.as_deref(),
        Some("leads: overlap, gold_rate, min_experts, decision_threshold")
    );
    assert_eq!(
        e.digest.as_deref(),
        Some(
            content_digest(
                store.audit_trail().key(),
                serde_json::to_string(s).unwrap().as_bytes()
            )
            .as_str()
        ),
        "the digest covers the new settings"
    );
    let seq = e.seq;

    // Out of range: nothing changes, no event, the field is named. Raising the overlap
    // above an explicit max_overlap names max_overlap.
    for (text, field) in [
        (r#"{"overlap": 6, "max_overlap": 5}"#, "max_overlap"),
        (
            r#"{"gold_rate": 0.2, "min_gold_accuracy": 1.5}"#,
            "min_gold_accuracy",
        ),
        (r#"{"lease_seconds": 1}"#, "lease_seconds"),
        ("{}", ""),
    ] {
        let patch = SettingsPatch::from_json(text).unwrap();
        match store.update_settings(Some(lead), p.id, patch).await {
            Err(SettingsError::Field(e)) => assert_eq!(e.field, field, "{text}"),
            other => panic!("{text}: expected a field error, got {other:?}"),
        }
    }
    assert_eq!(
        store.project_by_name("leads").await.unwrap().settings,
        stored.settings
    );
    // A patch that changes no value writes nothing.
    let same = SettingsPatch::from_json(r#"{"overlap": 4}"#).unwrap();
    store.update_settings(None, p.id, same).await.unwrap();
    assert_eq!(
        last_event(&store).await.seq,
        seq,
        "no event without a change"
    );
    // `null` returns an automatic setting to automatic.
    let auto = SettingsPatch::from_json(r#"{"min_experts": null}"#).unwrap();
    let p2 = store.update_settings(None, p.id, auto).await.unwrap();
    assert_eq!(p2.settings.min_experts, None);
    assert_eq!(last_event(&store).await.actor, None, "the command line");
    match store
        .update_settings(None, ProjectId(999_999), SettingsPatch::default())
        .await
    {
        Err(SettingsError::Store(StoreError::NotFound(_))) => {}
        other => panic!("unknown project: {other:?}"),
    }
}

pub async fn reinstatement_resets_what_probation_counts<S: Store>(store: S) {
    let p = project(
        &store,
        ProjectSettings {
            overlap: 1,
            gold_rate: 0.5,
            lease_seconds: 600,
            qualification_size: 2,
            qualification_pass: 1.0,
            // Probation off: this case is about what it counts, and `ann` misses
            // hidden gold on purpose.
            min_gold_accuracy: 0.0,
            ..ProjectSettings::default()
        },
    )
    .await;
    import(&store, &p, (0..80).map(|n| item(n, "")).collect()).await;
    for n in 0..30 {
        store
            .add_gold(
                None,
                p.id,
                NewGold {
                    item: format!("it-{n:05}"),
                    payload: pref("a"),
                },
            )
            .await
            .unwrap();
    }
    let (ann, lead) = (user(&store, "ann").await, user(&store, "lead").await);
    // Qualification right, hidden gold wrong until `wrong` of them are scored, then right.
    let judge = |n: usize, hidden_right: bool| {
        let store = store.clone();
        let p = p.clone();
        async move {
            let mut hidden = 0i64;
            for _ in 0..n {
                let t = take(&store, ann, &p).await;
                let answer = match t.purpose {
                    Purpose::Gold if !hidden_right => "b",
                    _ => "a",
                };
                hidden += i64::from(t.purpose == Purpose::Gold);
                store
                    .submit(ann, p.id, t.assignment, submission(pref(answer)))
                    .await
                    .unwrap();
            }
            hidden
        }
    };
    let hidden = judge(14, false).await;
    assert!(hidden > 0, "the draw serves hidden gold");
    let g = store
        .hidden_gold_since_reinstatement(p.id, ann)
        .await
        .unwrap();
    assert_eq!(
        g,
        HiddenGold {
            correct: 0,
            scored: hidden,
            reinstated_at: None
        },
        "qualification gold is not hidden gold"
    );
    let progress = store.progress(p.id).await.unwrap();
    assert_eq!(progress.annotators[0].gold_scored, hidden + 2);

    let r = store.reinstate(Some(lead), p.id, ann).await.unwrap();
    assert_eq!((r.user, r.by), (ann, Some(lead)));
    assert_eq!((r.gold_correct, r.gold_scored), (0, hidden));
    let e = last_event(&store).await;
    assert_eq!(e.action, AuditAction::AnnotatorReinstate.as_str());
    assert_eq!(e.object_id, Some(ann.to_string()));
    assert_eq!((e.actor, e.project_id), (Some(lead.0), Some(p.id.0)));
    let g = store
        .hidden_gold_since_reinstatement(p.id, ann)
        .await
        .unwrap();
    assert_eq!(
        g,
        HiddenGold {
            correct: 0,
            scored: 0,
            reinstated_at: Some(r.at)
        },
        "only hidden gold judged after the reinstatement counts"
    );

    let more = judge(20, true).await;
    let g = store
        .hidden_gold_since_reinstatement(p.id, ann)
        .await
        .unwrap();
    assert_eq!((g.correct, g.scored), (more, more));
    // A second reinstatement starts over again; other annotators are untouched.
    let r2 = store.reinstate(None, p.id, ann).await.unwrap();
    assert_eq!((r2.gold_correct, r2.gold_scored), (more, more));
    assert!(r2.id > r.id);
    let g = store
        .hidden_gold_since_reinstatement(p.id, ann)
        .await
        .unwrap();
    assert_eq!((g.correct, g.scored), (0, 0));
    let g = store
        .hidden_gold_since_reinstatement(p.id, lead)
        .await
        .unwrap();
    assert_eq!(g, HiddenGold::default());
    store.check_integrity().await.unwrap();
}
