//! Lease planning: which sources `next` tries for an annotator, in which order, and the
//! lease it makes from the item a source gave.
//!
//! The backend reads a [`LeaseContext`], asks [`plan`] for the picks, runs each pick's
//! query in order until one finds an item (a pick that finds none may end the search
//! with its [`Pick::when_empty`] reason), and stores the [`NewLease`] that [`lease`]
//! makes of it with the event of [`lease_event`].

use super::GoldSecret;
use super::rules::{
    candidate_ids, item_tags, missing_requirement, on_probation, project_level,
    satisfied_requirements, shuffled,
};
use crate::Result;
use crate::audit::{AuditAction, AuditEvent};
use crate::states::{Purpose, QualificationState};
use crate::work::{NoTask, Task};
use plumbline_domain::{
    AssignmentId, Expertise, ItemId, ProjectId, ProjectSettings, RubricVersion, UserId,
};
use plumbline_quality::reliability::ExpertiseLevel;
use std::collections::HashMap;

/// What a lease decision needs to know about the project and the annotator.
#[derive(Debug, Clone, Copy)]
pub struct LeaseContext<'a> {
    /// The project.
    pub project: ProjectId,
    /// Who asks.
    pub annotator: UserId,
    /// The project's settings.
    pub settings: &'a ProjectSettings,
    /// The annotator's verified expertise.
    pub verified: &'a [Expertise],
    /// The number this lease will have among the annotator's assignments in the project.
    pub seq: i64,
    /// The project's key to the gold draw and the gold order.
    pub secret: &'a GoldSecret,
    /// The annotator's qualification state.
    pub qualification: QualificationState,
    /// Qualification tasks leased or submitted since the last reset; read only when
    /// [`needs_qualification_count`] says so (0 otherwise).
    pub qualification_served: i64,
    /// Serve counters of the edge-case quotas (`""` is the total); read only when
    /// [`needs_serve_counts`] says so (empty otherwise).
    pub served: &'a HashMap<String, i64>,
    /// Members of the project with verified expert-level expertise in its domains.
    pub experts_in_project: u32,
    /// The annotator's hidden-gold answers: (scored right, scored).
    pub gold: (i64, i64),
}

impl<'a> LeaseContext<'a> {
    /// The context of an annotator whose qualification is not in play (passed, or
    /// none asked) and of a project without quota counters read; the reads that
    /// [`needs_qualification_count`] and [`needs_serve_counts`] ask for are added with
    /// [`qualification`](Self::qualification) and [`served`](Self::served).
    pub fn new(
        project: ProjectId,
        annotator: UserId,
        settings: &'a ProjectSettings,
        verified: &'a [Expertise],
        seq: i64,
        secret: &'a GoldSecret,
    ) -> Self {
        static NONE_SERVED: std::sync::LazyLock<HashMap<String, i64>> =
            std::sync::LazyLock::new(HashMap::new);
        LeaseContext {
            project,
            annotator,
            settings,
            verified,
            seq,
            secret,
            qualification: QualificationState::Passed,
            qualification_served: 0,
            served: &NONE_SERVED,
            experts_in_project: 0,
            gold: (0, 0),
        }
    }

    /// With the number of experts among the project's members.
    pub fn experts(mut self, n: u32) -> Self {
        self.experts_in_project = n;
        self
    }

    /// With the annotator's hidden-gold answers (right, scored).
    pub fn gold(mut self, correct: i64, scored: i64) -> Self {
        self.gold = (correct, scored);
        self
    }

    /// Where this lease's gold pick starts its walk through the gold items (the
    /// backend's gold query takes it modulo their id range): a new, secret point for
    /// every lease, so gold comes in an order nobody can predict.
    pub fn gold_start(&self) -> i64 {
        super::gold_start(self.secret, self.annotator, self.seq)
    }

    /// With the annotator's qualification state and the qualification tasks served.
    pub fn qualification(mut self, state: QualificationState, served: i64) -> Self {
        self.qualification = state;
        self.qualification_served = served;
        self
    }

    /// With the quota counters.
    pub fn served(mut self, served: &'a HashMap<String, i64>) -> Self {
        self.served = served;
        self
    }
}

/// Whether [`LeaseContext::qualification_served`] matters for this decision.
pub fn needs_qualification_count(settings: &ProjectSettings, state: QualificationState) -> bool {
    settings.qualification_size > 0 && state == QualificationState::Pending
}

/// Whether [`LeaseContext::served`] matters for this decision.
pub fn needs_serve_counts(settings: &ProjectSettings) -> bool {
    !settings.edge_case_quotas.is_empty()
}

/// Where a pick looks for an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An active, current gold item the annotator was never assigned.
    Gold,
    /// The fullest open item below the overlap that the annotator may judge and was
    /// never assigned; with a tag, only items carrying it.
    Work {
        /// Only items with this tag.
        tag: Option<String>,
        /// Slots to leave free on an item that has no expert judgment or lease yet, so
        /// that experts still find a place on it (0 for experts and projects without).
        reserve: u32,
    },
    /// Like work, but only items below the overlap with no expert judgment or live
    /// expert lease yet: an expert's first choice.
    NeedsExpert,
    /// Open items past the overlap whose decision stayed below the project's threshold,
    /// below `max_overlap`: waiting for one more (expert) judgment.
    Escalated {
        /// The most judgments an item may get.
        max_overlap: u32,
    },
}

/// One query to try, and what an item found by it is for.
#[derive(Debug, Clone, PartialEq)]
pub struct Pick {
    /// Where to look.
    pub source: Source,
    /// What the lease is for.
    pub purpose: Purpose,
    /// When this pick finds nothing: stop with this reason (`None`: try the next pick).
    pub when_empty: Option<NoTask>,
}

/// The picks to try, in order, with the requirement strings the annotator satisfies
/// (an item's `requires` must all be among them).
#[derive(Debug, Clone, PartialEq)]
pub struct LeasePlan {
    /// Every `domain:level` the annotator's verified expertise satisfies.
    pub satisfied: Vec<String>,
    /// The picks, first to last; none finding an item means [`NoTask::Drained`].
    pub picks: Vec<Pick>,
}

/// Decides what `next` tries for the annotator, or why there is nothing to try.
pub fn plan(ctx: &LeaseContext<'_>) -> std::result::Result<LeasePlan, NoTask> {
    let s = ctx.settings;
    if let Some(required) = missing_requirement(s, ctx.verified) {
        return Err(NoTask::MissingExpertise { required });
    }
    let satisfied = satisfied_requirements(ctx.verified);
    if s.qualification_size > 0 {
        match ctx.qualification {
            QualificationState::Failed => return Err(NoTask::QualificationFailed),
            QualificationState::Passed => {}
            QualificationState::Pending => {
                if ctx.qualification_served >= i64::from(s.qualification_size) {
                    return Err(NoTask::QualificationPending);
                }
                // Until they pass, the qualification set is all an annotator gets.
                let picks = vec![Pick {
                    source: Source::Gold,
                    purpose: Purpose::Qualification,
                    when_empty: Some(NoTask::NotEnoughGold),
                }];
                return Ok(LeasePlan { satisfied, picks });
            }
        }
    }
    let (correct, scored) = ctx.gold;
    if on_probation(correct, scored, s.min_gold_accuracy) {
        return Err(NoTask::Probation {
            min_accuracy: s.min_gold_accuracy,
        });
    }
    let mut picks = Vec::new();
    // Hidden gold first, for experts too: were their picks before it, an expert would
    // get no gold while any item lacks an expert, their reliability would stay at the
    // prior, and probation would never see them.
    if super::is_gold_draw(ctx.secret, ctx.annotator, ctx.seq, s.gold_rate) {
        picks.push(Pick {
            source: Source::Gold,
            purpose: Purpose::Gold,
            when_empty: None,
        });
    }
    let min_experts = s.effective_min_experts(ctx.experts_in_project > 0);
    let expert = min_experts > 0 && project_level(s, ctx.verified) == ExpertiseLevel::Expert;
    if expert {
        // Experts go where only they help: items escalated past the overlap, then items
        // that have no expert judgment yet; ordinary work after.
        let max_overlap = s.effective_max_overlap();
        if max_overlap > s.overlap {
            picks.push(work_pick(Source::Escalated { max_overlap }));
        }
        picks.push(work_pick(Source::NeedsExpert));
    }
    let reserve = if expert { 0 } else { min_experts };
    // A quota below its share of everything served so far (this lease included) comes
    // before ordinary work.
    let total = ctx.served.get("").copied().unwrap_or(0);
    for q in &s.edge_case_quotas {
        let got = ctx.served.get(&q.tag).copied().unwrap_or(0);
        if (got as f64) < q.min_share * (total + 1) as f64 {
            picks.push(work_pick(Source::Work {
                tag: Some(q.tag.clone()),
                reserve,
            }));
        }
    }
    picks.push(work_pick(Source::Work { tag: None, reserve }));
    Ok(LeasePlan { satisfied, picks })
}

fn work_pick(source: Source) -> Pick {
    Pick {
        source,
        purpose: Purpose::Work,
        when_empty: None,
    }
}

/// An item a pick found, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Database id.
    pub id: i64,
    /// The item's own id.
    pub ext_id: String,
    /// Its stored task kind.
    pub task: String,
    /// Its canonical JSON.
    pub body: String,
}

/// How a search through a plan's picks ended.
pub type Searched = std::result::Result<(Found, Purpose), NoTask>;

/// Runs the plan's picks in order with `pick` (the backend's query for a source)
/// until one finds an item; a pick that finds none stops the search with its
/// [`Pick::when_empty`] reason, if it has one, and the end of the plan means
/// [`NoTask::Drained`].
pub async fn search<F, Fut>(plan: &LeasePlan, mut pick: F) -> Result<Searched>
where
    F: FnMut(Source) -> Fut,
    Fut: std::future::Future<Output = Result<Option<Found>>>,
{
    for p in &plan.picks {
        if let Some(found) = pick(p.source.clone()).await? {
            return Ok(Ok((found, p.purpose)));
        }
        if let Some(no) = &p.when_empty {
            return Ok(Err(no.clone()));
        }
    }
    Ok(Err(NoTask::Drained))
}

/// [`search`] for a backend whose queries do not wait (SQLite on its writer thread):
/// the search completes in one poll.
pub fn search_now(
    plan: &LeasePlan,
    mut pick: impl FnMut(Source) -> Result<Option<Found>>,
) -> Result<Searched> {
    use std::task::{Context, Poll, Waker};
    let fut = std::pin::pin!(search(plan, |s| std::future::ready(pick(s))));
    match fut.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(r) => r,
        Poll::Pending => unreachable!("a search over ready queries never waits"),
    }
}

/// The task the annotator receives for a stored lease.
pub fn task(
    found: Found,
    lease: NewLease,
    assignment: AssignmentId,
    rubric_version: i64,
    seq: i64,
) -> Result<Task> {
    Ok(Task {
        assignment,
        item_id: ItemId(found.id),
        item: found.ext_id,
        task: super::submit::task_kind(&found.task)?,
        body: found.body,
        display_order: lease.display_order,
        rubric_version: RubricVersion(rubric_version as i32),
        seq,
        leased_at: lease.leased_at,
        expires_at: lease.expires_at,
        purpose: lease.purpose,
    })
}

/// A lease to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewLease {
    /// What it is for.
    pub purpose: Purpose,
    /// Candidate ids in the order they are shown.
    pub display_order: Vec<String>,
    /// Lease start, Unix milliseconds.
    pub leased_at: i64,
    /// Lease end, Unix milliseconds.
    pub expires_at: i64,
    /// Serve counters to increment: `""` (the total) and each quota tag the item
    /// carries; empty when the project has no quotas or the lease is not work.
    pub quota_tags: Vec<String>,
}

/// The lease of the item `body` found for `purpose` at `now`.
pub fn lease(
    settings: &ProjectSettings,
    purpose: Purpose,
    body: &str,
    now: i64,
) -> Result<NewLease> {
    let mut quota_tags = Vec::new();
    if purpose == Purpose::Work && !settings.edge_case_quotas.is_empty() {
        quota_tags.push(String::new());
        let tags = item_tags(body)?;
        for q in &settings.edge_case_quotas {
            if tags.contains(&q.tag) {
                quota_tags.push(q.tag.clone());
            }
        }
    }
    Ok(NewLease {
        purpose,
        display_order: shuffled(candidate_ids(body)?),
        leased_at: now,
        expires_at: now + i64::from(settings.lease_seconds) * 1000,
        quota_tags,
    })
}

/// The event of a stored lease.
pub fn lease_event(project: ProjectId, annotator: UserId, assignment: AssignmentId) -> AuditEvent {
    AuditEvent::new(AuditAction::AssignmentLease, "assignment")
        .by(Some(annotator))
        .object(assignment)
        .in_project(project)
}

#[cfg(test)]
mod tests {
    use super::*;
    use plumbline_domain::EdgeCaseQuota;

    fn ctx<'a>(
        settings: &'a ProjectSettings,
        verified: &'a [Expertise],
        served: &'a HashMap<String, i64>,
    ) -> LeaseContext<'a> {
        static SECRET: std::sync::LazyLock<GoldSecret> =
            std::sync::LazyLock::new(|| GoldSecret::from_stored(&[7; 32]).unwrap());
        LeaseContext::new(ProjectId(1), UserId(2), settings, verified, 1, &SECRET)
            .qualification(QualificationState::Pending, 0)
            .served(served)
    }

    fn work(tag: Option<&str>) -> Pick {
        work_pick(Source::Work {
            tag: tag.map(str::to_owned),
            reserve: 0,
        })
    }

    #[test]
    fn missing_expertise_refuses_before_anything_else() {
        let settings = ProjectSettings {
            required_expertise: vec!["clinical:expert".parse().unwrap()],
            qualification_size: 3,
            ..ProjectSettings::default()
        };
        let verified = ["clinical:practitioner".parse().unwrap()];
        let served = HashMap::new();
        assert_eq!(
            plan(&ctx(&settings, &verified, &served)),
            Err(NoTask::MissingExpertise {
                required: "clinical:expert".into()
            })
        );
    }

    #[test]
    fn qualification_comes_first_and_alone() {
        let settings = ProjectSettings {
            qualification_size: 2,
            gold_rate: 0.0,
            ..ProjectSettings::default()
        };
        let served = HashMap::new();
        let mut c = ctx(&settings, &[], &served);
        let p = plan(&c).unwrap();
        assert_eq!(
            p.picks,
            [Pick {
                source: Source::Gold,
                purpose: Purpose::Qualification,
                when_empty: Some(NoTask::NotEnoughGold),
            }]
        );
        c.qualification_served = 2;
        assert_eq!(plan(&c), Err(NoTask::QualificationPending));
        c.qualification = QualificationState::Failed;
        assert_eq!(plan(&c), Err(NoTask::QualificationFailed));
        c.qualification = QualificationState::Passed;
        assert_eq!(plan(&c).unwrap().picks, [work(None)]);
    }

    #[test]
    fn gold_draw_then_quotas_below_share_then_work() {
        let settings = ProjectSettings {
            gold_rate: 0.999,
            edge_case_quotas: vec![
                EdgeCaseQuota {
                    tag: "rare".into(),
                    min_share: 0.3,
                },
                EdgeCaseQuota {
                    tag: "met".into(),
                    min_share: 0.1,
                },
            ],
            ..ProjectSettings::default()
        };
        let served: HashMap<String, i64> =
            [("".into(), 9), ("rare".into(), 2), ("met".into(), 5)].into();
        let p = plan(&ctx(&settings, &[], &served)).unwrap();
        assert_eq!(p.picks[0].purpose, Purpose::Gold);
        assert_eq!(p.picks[1..], [work(Some("rare")), work(None)]);
    }

    #[test]
    fn the_gold_pick_follows_the_keyed_draw_and_starts_anew_each_lease() {
        let settings = ProjectSettings {
            gold_rate: 0.5,
            ..ProjectSettings::default()
        };
        let (k1, k2) = (
            GoldSecret::from_stored(&[1; 32]).unwrap(),
            GoldSecret::from_stored(&[2; 32]).unwrap(),
        );
        let gold_at = |k: &GoldSecret| -> Vec<bool> {
            (1..=64)
                .map(|seq| {
                    let c = LeaseContext::new(ProjectId(1), UserId(2), &settings, &[], seq, k);
                    let p = plan(&c).unwrap();
                    assert_eq!(
                        p.picks[0].source == Source::Gold,
                        super::super::is_gold_draw(k, UserId(2), seq, 0.5)
                    );
                    p.picks[0].source == Source::Gold
                })
                .collect()
        };
        assert_ne!(gold_at(&k1), gold_at(&k2), "same ids, other secret");
        let start = |seq| LeaseContext::new(ProjectId(1), UserId(2), &settings, &[], seq, &k1);
        assert_ne!(start(1).gold_start(), start(2).gold_start());
    }

    #[test]
    fn the_search_takes_the_first_find_or_stops_where_a_pick_says() {
        let settings = ProjectSettings {
            gold_rate: 0.999,
            ..ProjectSettings::default()
        };
        let served = HashMap::new();
        let p = plan(&ctx(&settings, &[], &served).qualification(QualificationState::Passed, 0))
            .unwrap();
        let found = |id| Found {
            id,
            ext_id: format!("it-{id}"),
            task: "preference".into(),
            body: "{}".into(),
        };
        let mut asked = Vec::new();
        let r = search_now(&p, |s| {
            asked.push(s.clone());
            Ok((s != Source::Gold).then(|| found(4)))
        })
        .unwrap();
        assert_eq!(r, Ok((found(4), Purpose::Work)), "gold was empty: work");
        assert_eq!(
            asked,
            [
                Source::Gold,
                Source::Work {
                    tag: None,
                    reserve: 0
                }
            ]
        );
        assert_eq!(search_now(&p, |_| Ok(None)).unwrap(), Err(NoTask::Drained));
        let q = ProjectSettings {
            qualification_size: 1,
            ..ProjectSettings::default()
        };
        let p = plan(&ctx(&q, &[], &served)).unwrap();
        assert_eq!(
            search_now(&p, |_| Ok(None)).unwrap(),
            Err(NoTask::NotEnoughGold)
        );
    }

    #[test]
    fn experts_go_to_escalated_then_expertless_items_and_others_leave_them_a_slot() {
        let settings = ProjectSettings {
            gold_rate: 0.0,
            overlap: 3,
            ..ProjectSettings::default()
        };
        let served = HashMap::new();
        let expert = ["banking:expert".parse().unwrap()];
        let p = plan(
            &ctx(&settings, &expert, &served)
                .qualification(QualificationState::Passed, 0)
                .experts(2),
        )
        .unwrap();
        let sources: Vec<Source> = p.picks.into_iter().map(|p| p.source).collect();
        assert_eq!(
            sources,
            [
                Source::Escalated { max_overlap: 5 },
                Source::NeedsExpert,
                Source::Work {
                    tag: None,
                    reserve: 0
                }
            ]
        );
        let crowd = plan(
            &ctx(&settings, &[], &served)
                .qualification(QualificationState::Passed, 0)
                .experts(2),
        )
        .unwrap();
        assert_eq!(
            crowd.picks,
            [work_pick(Source::Work {
                tag: None,
                reserve: 1
            })]
        );
        let none = ProjectSettings {
            min_experts: Some(0),
            ..settings.clone()
        };
        let p = plan(
            &ctx(&none, &expert, &served)
                .qualification(QualificationState::Passed, 0)
                .experts(2),
        )
        .unwrap();
        assert_eq!(p.picks, [work(None)], "min_experts 0 turns routing off");
        let alone =
            plan(&ctx(&settings, &expert, &served).qualification(QualificationState::Passed, 0))
                .unwrap();
        assert_eq!(
            alone.picks,
            [work(None)],
            "a project without expert members"
        );
    }

    #[test]
    fn experts_are_served_hidden_gold_at_the_gold_rate_too() {
        let settings = ProjectSettings {
            gold_rate: 0.999,
            overlap: 3,
            ..ProjectSettings::default()
        };
        let served = HashMap::new();
        let expert = ["banking:expert".parse().unwrap()];
        let p = plan(
            &ctx(&settings, &expert, &served)
                .qualification(QualificationState::Passed, 0)
                .experts(2),
        )
        .unwrap();
        let sources: Vec<Source> = p.picks.into_iter().map(|p| p.source).collect();
        assert_eq!(
            sources,
            [
                Source::Gold,
                Source::Escalated { max_overlap: 5 },
                Source::NeedsExpert,
                Source::Work {
                    tag: None,
                    reserve: 0
                }
            ],
            "a gold draw comes before the expert picks, or experts would never be checked"
        );
    }

    #[test]
    fn probation_follows_the_wilson_upper_bound() {
        let settings = ProjectSettings {
            gold_rate: 0.0,
            min_gold_accuracy: 0.7,
            ..ProjectSettings::default()
        };
        let served = HashMap::new();
        let c = ctx(&settings, &[], &served).qualification(QualificationState::Passed, 0);
        assert!(plan(&c.gold(0, 1)).is_ok(), "one miss proves nothing");
        assert!(
            plan(&c.gold(0, 9)).is_ok(),
            "nine misses are below the evidence probation needs"
        );
        assert_eq!(
            plan(&c.gold(0, 10)),
            Err(NoTask::Probation { min_accuracy: 0.7 })
        );
        assert!(plan(&c.gold(18, 20)).is_ok());
        assert_eq!(
            plan(&c.gold(50, 100)),
            Err(NoTask::Probation { min_accuracy: 0.7 })
        );
        let off = ProjectSettings {
            min_gold_accuracy: 0.0,
            ..settings.clone()
        };
        let c = ctx(&off, &[], &served).qualification(QualificationState::Passed, 0);
        assert!(plan(&c.gold(0, 100)).is_ok(), "0 disables probation");
    }

    #[test]
    fn a_lease_counts_its_quota_tags_only_for_work() {
        let settings = ProjectSettings {
            lease_seconds: 60,
            edge_case_quotas: vec![EdgeCaseQuota {
                tag: "rare".into(),
                min_share: 0.3,
            }],
            ..ProjectSettings::default()
        };
        let body = r#"{"id":"x","tags":["rare","other"],"candidates":[{"id":"a"},{"id":"b"}]}"#;
        let l = lease(&settings, Purpose::Work, body, 1_000).unwrap();
        assert_eq!(l.quota_tags, ["", "rare"]);
        assert_eq!(l.expires_at, 61_000);
        let mut order = l.display_order.clone();
        order.sort();
        assert_eq!(order, ["a", "b"]);
        let g = lease(&settings, Purpose::Gold, body, 1_000).unwrap();
        assert!(g.quota_tags.is_empty());
    }
}
