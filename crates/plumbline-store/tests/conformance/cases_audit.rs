//! Audit parity: every engine path writes exactly the same events, with the same
//! objects, on every backend; an engine action without an expectation here fails.

use crate::cases_work::{RUBRIC, import, item, pref, submission, take, user};
use plumbline_domain::{ProjectName, ProjectSettings, Rubric, UserId};
use plumbline_store::audit::AuditAction;
use plumbline_store::*;
use std::collections::HashSet;

/// Reads the chain from where the last check stopped and compares it with what one
/// engine path must have written.
struct Chain<'a, S> {
    store: &'a S,
    seen: i64,
    covered: HashSet<&'static str>,
}

impl<'a, S: Store> Chain<'a, S> {
    async fn new(store: &'a S) -> Self {
        let mut c = Chain {
            store,
            seen: 0,
            covered: HashSet::new(),
        };
        c.skip().await;
        c
    }

    /// Passes over events of set-up steps.
    async fn skip(&mut self) {
        let events = self.store.audit_events(self.seen, 10_000).await.unwrap();
        if let Some(last) = events.last() {
            self.seen = last.seq;
        }
    }

    /// The events since the last check are exactly `expected` (action, object id).
    async fn expect(&mut self, path: &str, expected: &[(AuditAction, &str)]) {
        let events = self.store.audit_events(self.seen, 10_000).await.unwrap();
        let got: Vec<(String, Option<String>)> = events
            .iter()
            .map(|e| (e.action.clone(), e.object_id.clone()))
            .collect();
        let want: Vec<(String, Option<String>)> = expected
            .iter()
            .map(|(a, o)| (a.as_str().to_owned(), Some((*o).to_owned())))
            .collect();
        assert_eq!(got, want, "events of the {path} path");
        for (a, _) in expected {
            self.covered.insert(a.as_str());
        }
        if let Some(last) = events.last() {
            self.seen = last.seq;
        }
    }

    /// Every action the engine writes was expected by some path.
    fn all_engine_actions_covered(&self) {
        for a in AuditAction::ENGINE {
            assert!(
                self.covered.contains(a.as_str()),
                "no audit-parity expectation for the engine action `{a}`"
            );
        }
    }
}

async fn project<S: Store>(store: &S, name: &str, settings: ProjectSettings) -> Project {
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

fn settings() -> ProjectSettings {
    ProjectSettings {
        overlap: 2,
        gold_rate: 0.0,
        lease_seconds: 600,
        ..ProjectSettings::default()
    }
}

async fn judge<S: Store>(
    store: &S,
    who: UserId,
    p: &Project,
    winner: &str,
) -> (Task, SubmitOutcome) {
    let t = take(store, who, p).await;
    let out = store
        .submit(who, p.id, t.assignment, submission(pref(winner)))
        .await
        .unwrap();
    (t, out)
}

fn decision(item: &str, winner: &str, promote: bool) -> Decision {
    Decision {
        item: item.into(),
        payload: pref(winner),
        rationale: "b misstates the fee".into(),
        promote_to_gold: promote,
    }
}

pub async fn every_engine_path_writes_the_same_events<S: Store>(store: S) {
    use AuditAction::*;
    let p = project(&store, "audit-work", settings()).await;
    import(&store, &p, (0..3).map(|n| item(n, "")).collect()).await;
    let (ann, bob, cy, rev) = (
        user(&store, "ann").await,
        user(&store, "bob").await,
        user(&store, "cy").await,
        user(&store, "rev").await,
    );
    let mut chain = Chain::new(&store).await;

    let t = take(&store, ann, &p).await;
    let lease = t.assignment.to_string();
    chain.expect("lease", &[(AssignmentLease, &lease)]).await;
    let first = store
        .submit(ann, p.id, t.assignment, submission(pref("b")))
        .await
        .unwrap();
    let j = first.judgment.to_string();
    chain.expect("submit", &[(JudgmentSubmit, &j)]).await;
    store
        .submit(ann, p.id, t.assignment, submission(pref("a")))
        .await
        .unwrap();
    chain.expect("resubmit", &[(JudgmentResubmit, &j)]).await;

    let (t, out) = judge(&store, bob, &p, "b").await;
    let (lease, j) = (t.assignment.to_string(), out.judgment.to_string());
    chain
        .expect(
            "disagreement",
            &[
                (AssignmentLease, &lease),
                (JudgmentSubmit, &j),
                (ItemContest, "it-00000"),
            ],
        )
        .await;
    store
        .adjudicate(rev, p.id, decision("it-00000", "a", false))
        .await
        .unwrap();
    chain
        .expect("adjudication", &[(AdjudicationDecide, "it-00000")])
        .await;

    judge(&store, ann, &p, "a").await;
    chain.skip().await;
    let (t, out) = judge(&store, bob, &p, "a").await;
    let (lease, j) = (t.assignment.to_string(), out.judgment.to_string());
    chain
        .expect(
            "consensus",
            &[
                (AssignmentLease, &lease),
                (JudgmentSubmit, &j),
                (ItemConsensus, "it-00001"),
            ],
        )
        .await;

    let t = take(&store, cy, &p).await;
    chain.skip().await;
    store
        .skip(cy, p.id, t.assignment, "outside my expertise".into())
        .await
        .unwrap();
    chain
        .expect("skip", &[(AssignmentSkip, &t.assignment.to_string())])
        .await;

    judge(&store, ann, &p, "a").await;
    judge(&store, bob, &p, "b").await;
    chain.skip().await;
    let d = store
        .adjudicate(rev, p.id, decision("it-00002", "a", true))
        .await
        .unwrap();
    let gold = d.gold.expect("promoted").0.to_string();
    chain
        .expect(
            "adjudication promoted to gold",
            &[(AdjudicationDecide, "it-00002"), (GoldAdd, &gold)],
        )
        .await;

    let g = store
        .add_gold(
            None,
            p.id,
            NewGold {
                item: "it-00001".into(),
                payload: pref("a"),
            },
        )
        .await
        .unwrap();
    chain
        .expect("gold add", &[(GoldAdd, &g.id.0.to_string())])
        .await;
    let mut rubric = Rubric::from_toml(RUBRIC).unwrap();
    rubric.name = "Retail banking support, v2".into();
    store.add_rubric_version(None, p.id, rubric).await.unwrap();
    chain
        .expect(
            "gold revalidation",
            &[(RubricVersion, "v2"), (GoldRevalidate, "2")],
        )
        .await;

    // Reclaim: a lease left to expire.
    let r = project(
        &store,
        "audit-reclaim",
        ProjectSettings {
            lease_seconds: 1,
            ..settings()
        },
    )
    .await;
    import(&store, &r, vec![item(0, "")]).await;
    take(&store, ann, &r).await;
    chain.skip().await;
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    assert_eq!(store.reclaim_expired(r.id).await.unwrap(), 1);
    chain.expect("reclaim", &[(AssignmentReclaim, "1")]).await;

    // Qualification: one gold item each, right passes and wrong fails.
    let q = project(
        &store,
        "audit-qualification",
        ProjectSettings {
            qualification_size: 1,
            qualification_pass: 1.0,
            ..settings()
        },
    )
    .await;
    import(&store, &q, (0..2).map(|n| item(n, "")).collect()).await;
    for n in 0..2 {
        store
            .add_gold(
                None,
                q.id,
                NewGold {
                    item: format!("it-{n:05}"),
                    payload: pref("a"),
                },
            )
            .await
            .unwrap();
    }
    chain.skip().await;
    let (t, out) = judge(&store, ann, &q, "a").await;
    chain
        .expect(
            "qualification passed",
            &[
                (AssignmentLease, &t.assignment.to_string()),
                (JudgmentSubmit, &out.judgment.to_string()),
                (QualificationPass, &ann.to_string()),
            ],
        )
        .await;
    let (t, out) = judge(&store, bob, &q, "b").await;
    chain
        .expect(
            "qualification failed",
            &[
                (AssignmentLease, &t.assignment.to_string()),
                (JudgmentSubmit, &out.judgment.to_string()),
                (QualificationFail, &bob.to_string()),
            ],
        )
        .await;
    store
        .reset_qualification(Some(rev), q.id, bob)
        .await
        .unwrap();
    chain
        .expect(
            "qualification reset",
            &[(QualificationReset, &bob.to_string())],
        )
        .await;

    // Experts: an escalation, then the reliability-weighted decision.
    let x = crate::cases_experts::project(&store, "audit-experts", crate::cases_experts::routed())
        .await;
    import(&store, &x, vec![item(0, "")]).await;
    let e1 = crate::cases_experts::member(&store, &x, "erin", true).await;
    let e2 = crate::cases_experts::member(&store, &x, "ezra", true).await;
    let c1 = crate::cases_experts::member(&store, &x, "cam", false).await;
    judge(&store, c1, &x, "b").await;
    chain.skip().await;
    let (t, out) = judge(&store, e1, &x, "a").await;
    let (lease, j) = (t.assignment.to_string(), out.judgment.to_string());
    chain
        .expect(
            "escalation",
            &[
                (AssignmentLease, &lease),
                (JudgmentSubmit, &j),
                (ItemEscalate, "it-00000"),
            ],
        )
        .await;
    let (t, out) = judge(&store, e2, &x, "a").await;
    let (lease, j) = (t.assignment.to_string(), out.judgment.to_string());
    chain
        .expect(
            "decision by reliability",
            &[
                (AssignmentLease, &lease),
                (JudgmentSubmit, &j),
                (ItemDecide, "it-00000"),
            ],
        )
        .await;

    chain.all_engine_actions_covered();
    let events = store.audit_events(0, 100_000).await.unwrap();
    audit::verify_links(
        store.audit_trail().key(),
        (0, audit::GENESIS.to_owned()),
        &events,
    )
    .unwrap();
}
