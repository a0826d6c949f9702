//! The quality of each annotator of a project, computed once for the command line
//! (`plumbline report`), the API (`GET /api/v1/projects/{p}/quality`) and the lead's
//! dashboard; and reinstatement, which lifts an annotator's probation.
//!
//! It lives here because both callers already share this crate's drivers, and the crate
//! depends on the store and the statistics: the store knows SQL and no statistics, and
//! `plumbline-quality` does no IO. It reads only through `Store` methods — progress,
//! members and expertise, the probation read, and one [`judged_items`] stream per task
//! kind (the exports' snapshot read) — so it is the same on both backends, and it holds
//! counters per annotator, never the judgments.
//!
//! Per annotator:
//! - reliability: the Beta posterior of `plumbline_quality::reliability` with the prior of
//!   their verified level in the project's domains (as exports count it), updated by every
//!   gold-scored judgment (hidden gold and qualification, credit 1 or 0) and by agreement
//!   with the reviewer's decision on adjudicated items (preference: 1 for the same winner,
//!   1/2 when one side is a tie, else 0; other kinds by the project's agreement rule;
//!   demonstrations are not scored);
//! - gold accuracy with its Wilson 95% interval, over every gold-scored judgment;
//! - position and length bias on preference judgments (the first-shown candidate's and
//!   the longer candidate's share of non-tie picks, lengths differing by more than 30
//!   characters), each with the exact binomial test's p, its effect and its flag;
//! - priority inversions, and probation: on hidden gold since the last reinstatement, the
//!   upper end of the Wilson interval below the project's `min_gold_accuracy`.
//!
//! [`judged_items`]: plumbline_store::ExportStore::judged_items

use plumbline_domain::{Level, Payload, ProjectRole, ProjectSettings, TaskKind, UserId};
use plumbline_quality::bias::{BIAS_FLAG_P, DEFAULT_LENGTH_THRESHOLD, Share};
use plumbline_quality::gold::GoldAccuracy;
use plumbline_quality::reliability::{
    ExpertiseLevel, Reliability, ReliabilityConfig, ReliabilityTally,
};
use plumbline_quality::{Estimate, Undefined};
use plumbline_store::{
    HiddenGold, JudgedItem, Project, Reinstatement, Store, StoreError, User, agree,
};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use tokio::sync::mpsc;

/// The quality table of a project.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QualityReport {
    /// The project.
    pub project: String,
    /// Hidden-gold accuracy below which (by the Wilson upper bound) an annotator is on
    /// probation; 0 disables probation.
    pub min_gold_accuracy: f64,
    /// Mass of the reliability credible intervals.
    pub credible_level: f64,
    /// Significance level of the bias flags.
    pub bias_flag_p: f64,
    /// Length bias counts pairs whose lengths differ by more than this many characters.
    pub length_threshold: u32,
    /// How much of the work verified experts did.
    #[schema(value_type = Object)]
    pub experts: ExpertCoverage,
    /// Per annotator, by name.
    #[schema(value_type = Vec<Object>)]
    pub annotators: Vec<AnnotatorQuality>,
}

/// Verified experts' part in the project's items (gold items left out).
#[derive(Debug, Clone, Serialize)]
pub struct ExpertCoverage {
    /// Items.
    pub items: u64,
    /// Of them, items with at least one judgment by a verified expert.
    pub items_with_expert: u64,
    /// Their share of the items.
    pub item_share: Estimate,
    /// Annotator judgments of the items.
    pub judgments: u64,
    /// Of them, judgments by verified experts.
    pub expert_judgments: u64,
    /// Their share of the judgments.
    pub judgment_share: Estimate,
}

/// One annotator's row of the table.
#[derive(Debug, Clone, Serialize)]
pub struct AnnotatorQuality {
    /// The user.
    pub user: UserId,
    /// Their name.
    pub name: String,
    /// Highest verified level in the project's domains (`none` when unverified).
    pub expertise: ExpertiseLevel,
    /// Judgments submitted.
    pub judgments: i64,
    /// Posterior reliability with its credible interval, and what it rests on.
    pub reliability: Reliability,
    /// Judgments scored against an adjudicated decision (part of the reliability tally).
    pub adjudicated: u64,
    /// Accuracy on every gold-scored judgment (hidden gold and qualification).
    pub gold: GoldAccuracy,
    /// Share of non-tie picks of the candidate shown first, tested against 1/2.
    pub position: Share,
    /// Share of non-tie picks of the longer candidate, tested against 1/2.
    pub length: Share,
    /// Judgments kept against the priority rule by an override.
    pub inversions: i64,
    /// Whether the annotator is on probation, and on what.
    pub probation: Probation,
}

/// Probation: decided on hidden gold since the last reinstatement.
#[derive(Debug, Clone, Serialize)]
pub struct Probation {
    /// True when, over at least `PROBATION_MIN_ANSWERS` (10) hidden-gold answers, the
    /// Wilson upper bound of the accuracy is below the project's `min_gold_accuracy`
    /// (never when that is 0).
    pub on_probation: bool,
    /// Hidden-gold accuracy since the last reinstatement, with its Wilson interval.
    pub hidden_gold: GoldAccuracy,
    /// When a lead last reinstated the annotator, Unix milliseconds.
    pub reinstated_at: Option<i64>,
}

/// Probation of an annotator with hidden-gold record `g` under `settings`.
pub fn probation(g: &HiddenGold, settings: &ProjectSettings) -> Probation {
    let (correct, scored) = (g.correct.max(0) as u64, g.scored.max(0) as u64);
    Probation {
        // The engine's own rule, so the table shows what `next` acts on.
        on_probation: plumbline_store::engine::on_probation(
            g.correct,
            g.scored,
            settings.min_gold_accuracy,
        ),
        hidden_gold: GoldAccuracy::new(correct, scored),
        reinstated_at: g.reinstated_at,
    }
}

/// The reliability prior's level for a verified [`Level`] (or none).
pub fn expertise_level(level: Option<Level>) -> ExpertiseLevel {
    match level {
        None => ExpertiseLevel::None,
        Some(Level::Novice) => ExpertiseLevel::Novice,
        Some(Level::Practitioner) => ExpertiseLevel::Practitioner,
        Some(Level::Expert) => ExpertiseLevel::Expert,
    }
}

/// Lifts `user`'s probation in `project` (a lead's decision, audited by the store).
/// Refused as not found unless `user` is a member, and as a conflict unless they are on
/// probation: a reinstatement sets their hidden-gold record aside, which a lead should
/// not do to an annotator in good standing by mistake.
pub async fn reinstate<S: Store>(
    store: &S,
    actor: Option<UserId>,
    project: &Project,
    user: &User,
) -> Result<Reinstatement, StoreError> {
    if store.member_role(project.id, user.id).await?.is_none() {
        return Err(StoreError::NotFound(format!(
            "user `{}` in project `{}`",
            user.name, project.name
        )));
    }
    let g = store
        .hidden_gold_since_reinstatement(project.id, user.id)
        .await?;
    let p = probation(&g, &project.settings);
    if !p.on_probation {
        return Err(StoreError::Conflict(format!(
            "`{}` is not on probation in project `{}`: {} of {} hidden gold right{}, {}",
            user.name,
            project.name,
            g.correct,
            g.scored,
            if g.reinstated_at.is_some() {
                " since the last reinstatement"
            } else {
                ""
            },
            match p.hidden_gold.upper {
                _ if project.settings.min_gold_accuracy <= 0.0 => {
                    "and the project has no minimum gold accuracy".to_owned()
                }
                Some(u) => format!(
                    "and the upper end of its Wilson 95% interval, {u:.2}, is not below the minimum {}",
                    project.settings.min_gold_accuracy
                ),
                None => "so nothing shows the annotator below the minimum".to_owned(),
            }
        )));
    }
    store.reinstate(actor, project.id, user.id).await
}

/// The parts of a stored item this table reads.
#[derive(Deserialize)]
struct ItemView {
    #[serde(default)]
    candidates: Vec<CandidateView>,
}

#[derive(Deserialize)]
struct CandidateView {
    id: String,
    content: String,
}

/// What is counted per annotator while the items stream by.
#[derive(Default, Clone)]
struct Counts {
    tally: ReliabilityTally,
    adjudicated: u64,
    gold: (u64, u64),
    first: (u64, u64),
    longer: (u64, u64),
}

struct Acc<'a> {
    settings: &'a ProjectSettings,
    index: HashMap<i64, usize>,
    users: Vec<(UserId, String)>,
    counts: Vec<Counts>,
    experts: HashSet<i64>,
    coverage: (u64, u64, u64, u64),
}

impl Acc<'_> {
    fn annotator(&mut self, user: i64) -> usize {
        if let Some(&i) = self.index.get(&user) {
            return i;
        }
        self.users.push((UserId(user), format!("user {user}")));
        self.counts.push(Counts::default());
        self.index.insert(user, self.users.len() - 1);
        self.users.len() - 1
    }

    fn add(&mut self, kind: TaskKind, item: &JudgedItem) {
        if !item.is_gold {
            let by_expert = item
                .judgments
                .iter()
                .filter(|j| j.annotator.is_some_and(|u| self.experts.contains(&u)))
                .count() as u64;
            let by_annotators = item
                .judgments
                .iter()
                .filter(|j| j.annotator.is_some())
                .count() as u64;
            self.coverage.0 += 1;
            self.coverage.1 += u64::from(by_expert > 0);
            self.coverage.2 += by_annotators;
            self.coverage.3 += by_expert;
        }
        let reference = item
            .adjudication
            .as_deref()
            .filter(|_| kind != TaskKind::Demonstration)
            .and_then(|p| Payload::from_json(kind, p).ok());
        let view = (kind == TaskKind::Preference)
            .then(|| serde_json::from_str::<ItemView>(&item.body).ok())
            .flatten();
        // Judgments beyond an item's overlap are escalations: the engine asked for them
        // because the first votes disagreed, so those items are no random sample of the
        // annotator's work, and their longer reply is right more or less often than
        // chance by that choice alone (with escalations counted, experts who follow the
        // truth against a crowd that follows length came out "biased" toward the shorter
        // reply). Length bias is tested on the judgments within the overlap, and on gold,
        // which is served by a random draw. Position needs no such care: the display order
        // is drawn afresh for every lease.
        let overlap = self.settings.overlap as usize;
        let mut nth = 0usize;
        for j in &item.judgments {
            let Some(user) = j.annotator else { continue };
            nth += 1;
            let within_overlap = item.is_gold || nth <= overlap;
            let a = self.annotator(user);
            let c = &mut self.counts[a];
            if let Some(right) = j.gold_correct {
                c.tally.record(if right { 1.0 } else { 0.0 });
                c.gold.0 += u64::from(right);
                c.gold.1 += 1;
            }
            if reference.is_none() && view.is_none() {
                continue;
            }
            let Ok(vote) = Payload::from_json(kind, &j.payload) else {
                continue;
            };
            if let (Some(r), None) = (&reference, j.gold_correct) {
                c.tally.record(credit(&vote, r, self.settings));
                c.adjudicated += 1;
            }
            if let (Some(view), Payload::Preference(p)) = (&view, &vote) {
                let Some(won) = p.winner.candidate() else {
                    continue;
                };
                let order: Option<Vec<String>> = j
                    .display_order
                    .as_deref()
                    .and_then(|o| serde_json::from_str(o).ok());
                if let Some(order) = order.filter(|o| o.len() == 2) {
                    c.first.0 += u64::from(order[0] == won);
                    c.first.1 += 1;
                }
                if within_overlap
                    && let [x, y] = view.candidates.as_slice()
                    && let (lx, ly) = (x.content.chars().count(), y.content.chars().count())
                    && lx.abs_diff(ly) > DEFAULT_LENGTH_THRESHOLD as usize
                {
                    let longer = if lx > ly { &x.id } else { &y.id };
                    c.longer.0 += u64::from(longer == won);
                    c.longer.1 += 1;
                }
            }
        }
    }
}

/// A vote's credit against a reviewer's decision (see the module documentation).
fn credit(vote: &Payload, reference: &Payload, settings: &ProjectSettings) -> f64 {
    match (vote, reference) {
        (Payload::Preference(v), Payload::Preference(r)) => {
            if v.winner == r.winner {
                1.0
            } else if v.winner.is_tie() || r.winner.is_tie() {
                0.5
            } else {
                0.0
            }
        }
        _ => f64::from(u8::from(agree(vote, reference, settings))),
    }
}

fn share(part: u64, whole: u64) -> Estimate {
    if whole == 0 {
        Estimate::Undefined(Undefined::NoData)
    } else {
        Estimate::Value(part as f64 / whole as f64)
    }
}

/// The quality table of `project` (see the module documentation).
pub async fn annotator_quality<S: Store>(
    store: &S,
    project: &Project,
) -> Result<QualityReport, StoreError> {
    let config = ReliabilityConfig::default();
    let progress = store.progress(project.id).await?;
    let levels = crate::run::annotators(store, project)
        .await
        .map_err(StoreError::Database)?;
    let mut acc = Acc {
        settings: &project.settings,
        index: HashMap::new(),
        users: Vec::new(),
        counts: Vec::new(),
        experts: levels
            .iter()
            .filter(|(_, a)| a.level == Some(Level::Expert))
            .map(|(u, _)| *u)
            .collect(),
        coverage: (0, 0, 0, 0),
    };
    // Everyone who took work, and annotators who have not started yet.
    for a in &progress.annotators {
        let i = acc.annotator(a.user.0);
        acc.users[i].1.clone_from(&a.name);
    }
    for m in store.members(project.id).await? {
        if m.role == ProjectRole::Annotator {
            let i = acc.annotator(m.user.id.0);
            acc.users[i].1.clone_from(&m.user.name);
        }
    }
    for kind in TaskKind::ALL {
        let (tx, mut rx) = mpsc::channel::<Vec<JudgedItem>>(2);
        let reading = store.judged_items(project.id, kind, tx, None);
        let counting = async {
            while let Some(batch) = rx.recv().await {
                for item in &batch {
                    acc.add(kind, item);
                }
            }
        };
        let (read, ()) = tokio::join!(reading, counting);
        read?;
    }
    let mut annotators = Vec::with_capacity(acc.users.len());
    for (i, (user, name)) in acc.users.iter().enumerate() {
        let c = &acc.counts[i];
        let level = expertise_level(levels.get(&user.0).and_then(|a| a.level));
        let reliability = config
            .posterior(level, &c.tally)
            .map_err(|e| StoreError::Database(format!("reliability of `{name}`: {e}")))?;
        let row = progress.annotators.iter().find(|a| a.user == *user);
        let hidden = store
            .hidden_gold_since_reinstatement(project.id, *user)
            .await?;
        annotators.push(AnnotatorQuality {
            user: *user,
            name: name.clone(),
            expertise: level,
            judgments: row.map_or(0, |r| r.judgments),
            reliability,
            adjudicated: c.adjudicated,
            gold: GoldAccuracy::new(c.gold.0, c.gold.1),
            position: Share::tested(c.first.0, c.first.1),
            length: Share::tested(c.longer.0, c.longer.1),
            inversions: row.map_or(0, |r| r.priority_inversions),
            probation: probation(&hidden, &project.settings),
        });
    }
    annotators.sort_by(|a, b| a.name.cmp(&b.name));
    let (items, with_expert, judgments, by_experts) = acc.coverage;
    Ok(QualityReport {
        project: project.name.clone(),
        min_gold_accuracy: project.settings.min_gold_accuracy,
        credible_level: config.credible_level,
        bias_flag_p: BIAS_FLAG_P,
        length_threshold: DEFAULT_LENGTH_THRESHOLD,
        experts: ExpertCoverage {
            items,
            items_with_expert: with_expert,
            item_share: share(with_expert, items),
            judgments,
            expert_judgments: by_experts,
            judgment_share: share(by_experts, judgments),
        },
        annotators,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_bias_leaves_escalations_out() {
        // Overlap 2: an item with three judgments, the third an escalation. Every vote
        // is for the longer reply `b`; only the first two count for length.
        let settings = ProjectSettings {
            overlap: 2,
            ..ProjectSettings::default()
        };
        let mut acc = Acc {
            settings: &settings,
            index: HashMap::new(),
            users: Vec::new(),
            counts: Vec::new(),
            experts: HashSet::new(),
            coverage: (0, 0, 0, 0),
        };
        let body = serde_json::json!({
            "id": "x",
            "context": [{"role": "user", "content": "q"}],
            "candidates": [{"id": "a", "content": "Short."},
                           {"id": "b", "content": "A much longer reply that goes on and on about fees, forms and the branch's opening hours."}]
        })
        .to_string();
        let vote = |user: i64| plumbline_store::JudgmentRow {
            annotator: Some(user),
            external_source: None,
            payload: r#"{"winner":"b","strength":2,"criteria":{}}"#.into(),
            rubric_version: 1,
            time_ms: None,
            display_order: Some(r#"["a","b"]"#.into()),
            gold_correct: None,
        };
        let item = JudgedItem {
            ext_id: "x".into(),
            body: body.clone(),
            judgments: vec![vote(1), vote(2), vote(3)],
            ..JudgedItem::default()
        };
        acc.add(TaskKind::Preference, &item);
        let longer = |acc: &Acc, user: i64| acc.counts[acc.index[&user]].longer;
        assert_eq!(longer(&acc, 1), (1, 1));
        assert_eq!(longer(&acc, 2), (1, 1));
        assert_eq!(longer(&acc, 3), (0, 0), "the escalation is left out");
        assert_eq!(
            acc.counts[acc.index[&3]].first,
            (0, 1),
            "position counts every judgment"
        );
        // Gold is served by a random draw: every judgment of it counts.
        let gold = JudgedItem {
            is_gold: true,
            ..item
        };
        acc.add(TaskKind::Preference, &gold);
        assert_eq!(longer(&acc, 3), (1, 1));
    }

    #[test]
    fn probation_needs_evidence_below_the_minimum() {
        let s = ProjectSettings::default();
        let g = |correct, scored| HiddenGold {
            correct,
            scored,
            reinstated_at: None,
        };
        assert!(
            !probation(&g(0, 0), &s).on_probation,
            "no gold, no probation"
        );
        assert!(!probation(&g(1, 3), &s).on_probation, "too little to tell");
        assert!(
            !probation(&g(0, 9), &s).on_probation,
            "fewer than ten answers never suffice"
        );
        assert!(probation(&g(3, 10), &s).on_probation);
        assert!(probation(&g(2, 20), &s).on_probation);
        assert!(!probation(&g(18, 20), &s).on_probation);
        let off = ProjectSettings {
            min_gold_accuracy: 0.0,
            ..s
        };
        assert!(!probation(&g(0, 50), &off).on_probation, "0 disables it");
    }

    #[test]
    fn credit_against_a_decision() {
        let p = |w: &str| {
            Payload::from_json(
                TaskKind::Preference,
                &format!(
                    r#"{{"winner":"{w}","strength":{},"criteria":{{}}}}"#,
                    u8::from(w != "tie")
                ),
            )
            .unwrap()
        };
        let s = ProjectSettings::default();
        assert_eq!(credit(&p("a"), &p("a"), &s), 1.0);
        assert_eq!(credit(&p("a"), &p("b"), &s), 0.0);
        assert_eq!(credit(&p("tie"), &p("b"), &s), 0.5);
        assert_eq!(credit(&p("a"), &p("tie"), &s), 0.5);
    }
}
