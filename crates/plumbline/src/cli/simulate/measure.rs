//! Measuring a finished simulation against its truth, through the product's own
//! readers: the preference export of the export driver per decision method (the bytes
//! `plumbline export` writes), the quality table of `plumbline report`, and the stored
//! judgments for the experts-only vote the issue compares the default export with.
//!
//! Gold items are left out of accuracy and coverage: they export their gold answer.

use super::pool::Pool;
use super::run::{Cand, Truth, Turns, World};
use anyhow::{Context, anyhow, bail};
use plumbline_domain::{Level, TaskKind};
use plumbline_formats::export::PairSummary;
use plumbline_formats::export_driver::{
    self, Destination, ExportRequest, Exported, Filters, Target,
};
use plumbline_formats::quality::annotator_quality;
use plumbline_formats::release::FileFormat;
use plumbline_formats::run::Kind;
use plumbline_quality::decision::DecisionMethod;
use plumbline_quality::gold::{Z_95, wilson_interval};
use plumbline_store::{ItemCounts, JudgedItem, Store};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::io::BufRead;
use std::path::Path;
use tokio::sync::mpsc;

/// The targets for the default export.
pub const MAX_POINTS_BELOW_EXPERTS: f64 = 1.5;
/// Least share of the judged items the default export covers.
pub const MIN_COVERAGE: f64 = 0.95;
/// Largest share of all judgments made by verified experts.
pub const MAX_EXPERT_SHARE: f64 = 0.35;

/// Accuracy and coverage of one way of deciding the items.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Scored {
    /// Judged non-gold items it decided (exported).
    pub decided: u64,
    /// Of them, decided for the right candidate.
    pub correct: u64,
    /// correct / decided.
    pub accuracy: Option<f64>,
    /// Wilson 95% interval of the accuracy.
    pub lower: Option<f64>,
    /// Upper end of it.
    pub upper: Option<f64>,
    /// decided / judged non-gold items.
    pub coverage: Option<f64>,
    /// Share of the decided items whose chosen candidate is the longer one.
    pub chosen_longer: Option<f64>,
}

/// Counts toward a [`Scored`].
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    decided: u64,
    correct: u64,
    longer: u64,
}

impl Tally {
    fn add(&mut self, truth: &Truth, chosen: Cand) {
        self.decided += 1;
        self.correct += u64::from(chosen == truth.right);
        self.longer += u64::from(chosen == truth.longer);
    }

    fn scored(&self, judged: u64) -> Scored {
        let share = |n: u64, of: u64| (of > 0).then(|| n as f64 / of as f64);
        let interval = wilson_interval(self.correct, self.decided, Z_95);
        Scored {
            decided: self.decided,
            correct: self.correct,
            accuracy: share(self.correct, self.decided),
            lower: interval.map(|i| i.0),
            upper: interval.map(|i| i.1),
            coverage: share(self.decided, judged),
            chosen_longer: share(self.longer, self.decided),
        }
    }
}

/// One decision method's result.
#[derive(Debug, Clone, Serialize)]
pub struct MethodResult {
    /// `reliability`, `dawid-skene`, `majority`, `reliability, experts only`, `experts-only vote`.
    pub name: String,
    /// How its decisions were made.
    pub how: String,
    /// Accuracy, coverage, length share.
    #[serde(flatten)]
    pub scored: Scored,
    /// The export's summary (what it left out and why); none for the experts-only vote.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export: Option<PairSummary>,
}

/// One group's rows of the quality table, summed.
#[derive(Debug, Clone, Serialize)]
pub struct GroupResult {
    /// The group.
    pub name: String,
    /// Its annotators.
    pub annotators: u32,
    /// Their verified level, if any.
    pub expertise: Option<Level>,
    /// Whether the pool gave them a length or position bias.
    pub biased: bool,
    /// Judgments they submitted (gold included).
    pub judgments: i64,
    /// Gold-scored judgments right, of all gold-scored.
    pub gold_correct: u64,
    /// Gold-scored judgments.
    pub gold_total: u64,
    /// gold_correct / gold_total.
    pub gold_accuracy: Option<f64>,
    /// Mean of the annotators' posterior reliabilities.
    pub mean_reliability: Option<f64>,
    /// Pooled share of their non-tie picks of the longer candidate.
    pub length_share: Option<f64>,
    /// Pooled share of their picks of the candidate shown first.
    pub position_share: Option<f64>,
    /// Annotators flagged for length bias.
    pub length_flagged: u32,
    /// Annotators flagged for position bias.
    pub position_flagged: u32,
    /// Annotators flagged for a bias the pool gave them (biased groups only, else 0).
    pub flagged_for_their_bias: u32,
    /// Annotators on probation at the end.
    pub on_probation: u32,
}

/// Who did the work.
#[derive(Debug, Clone, Serialize)]
pub struct Workforce {
    /// Non-gold items.
    pub items: u64,
    /// Of them, with a judgment by a verified expert.
    pub items_with_expert: u64,
    /// Their share.
    pub expert_item_share: Option<f64>,
    /// Judgments of non-gold items.
    pub judgments: u64,
    /// Of them, by verified experts.
    pub expert_judgments: u64,
    /// Their share.
    pub expert_judgment_share: Option<f64>,
    /// Per group.
    pub groups: Vec<GroupResult>,
}

/// What the engine did.
#[derive(Debug, Clone, Serialize)]
pub struct Engine {
    /// The turns taken.
    #[serde(flatten)]
    pub turns: Turns,
    /// Non-gold items by state at the end.
    pub items: ItemCounts,
    /// Non-gold items with at least one judgment (the denominator of coverage).
    pub judged_items: u64,
}

/// One of the targets, checked.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// The target.
    pub target: String,
    /// What was measured.
    pub measured: String,
    /// Whether it is met.
    pub pass: bool,
}

/// Everything a simulation measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The pool run.
    pub pool: Pool,
    /// What the engine did.
    pub engine: Engine,
    /// Per decision method, then the experts-only references.
    pub decisions: Vec<MethodResult>,
    /// The workforce and the quality table by group.
    pub workforce: Workforce,
    /// The targets.
    pub targets: Vec<Check>,
    /// Where the database and the exports were kept (`--keep`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept: Option<String>,
}

impl Report {
    /// Whether every target is met.
    pub fn all_pass(&self) -> bool {
        self.targets.iter().all(|c| c.pass)
    }
}

/// Names of the results the targets compare.
pub const DEFAULT: &str = "reliability";
pub const EXPERTS_VOTE: &str = "experts-only vote";
pub const EXPERTS_EXPORT: &str = "reliability, experts only";

/// Measures the finished simulation; exports are written into `dir`.
pub async fn measure<S: Store>(
    store: &S,
    pool: &Pool,
    world: &World,
    turns: Turns,
    dir: &Path,
) -> anyhow::Result<Report> {
    let experts: HashSet<i64> = world
        .annotators
        .iter()
        .filter(|a| pool.groups[a.group].expert())
        .map(|a| a.user.0)
        .collect();
    let (judged, expert_vote) = read_judgments(store, world, &experts).await?;
    let mut decisions = Vec::new();
    for method in DecisionMethod::ALL {
        decisions.push(
            export(store, world, dir, method.as_str(), method, None, judged)
                .await
                .with_context(|| format!("exporting with --decision {}", method.as_str()))?,
        );
    }
    decisions.push(
        export(
            store,
            world,
            dir,
            EXPERTS_EXPORT,
            DecisionMethod::Reliability,
            Some(Level::Expert),
            judged,
        )
        .await
        .context("exporting with --min-expertise expert")?,
    );
    decisions.push(MethodResult {
        name: EXPERTS_VOTE.into(),
        how: "majority of the verified experts' stored judgments of each item (an even split decides nothing)".into(),
        scored: expert_vote.scored(judged),
        export: None,
    });
    let progress = store.progress(world.project.id).await?;
    let workforce = workforce(store, pool, world).await?;
    let engine = Engine {
        turns,
        items: progress.items,
        judged_items: judged,
    };
    let targets = targets(&decisions, &workforce);
    Ok(Report {
        pool: pool.clone(),
        engine,
        decisions,
        workforce,
        targets,
        kept: None,
    })
}

/// The part of an exported pair the measure reads.
#[derive(Deserialize)]
struct Row {
    item_id: String,
    provenance: Provenance,
}

#[derive(Deserialize)]
struct Provenance {
    chosen_id: String,
}

fn cand(id: &str) -> anyhow::Result<Cand> {
    match id {
        "a" => Ok(Cand::A),
        "b" => Ok(Cand::B),
        _ => bail!("unexpected candidate `{id}`"),
    }
}

/// Runs the preference export through the export driver, as `plumbline export --kind
/// preference --decision METHOD [--min-expertise LEVEL]` does, into `dir`, and scores it.
async fn export<S: Store>(
    store: &S,
    world: &World,
    dir: &Path,
    name: &str,
    method: DecisionMethod,
    min_expertise: Option<Level>,
    judged: u64,
) -> anyhow::Result<MethodResult> {
    let request = ExportRequest {
        target: Target::Rows(Kind::Preference),
        format: FileFormat::Jsonl,
        filters: Filters {
            decision: Some(method.as_str().to_owned()),
            min_expertise,
            ..Filters::default()
        },
    };
    let export = request.validate(store, &world.project).await?;
    let file = format!(
        "preference-{}{}.jsonl",
        method.as_str(),
        if min_expertise.is_some() {
            "-experts"
        } else {
            ""
        }
    );
    let path = dir.join(&file);
    let summary = match export_driver::run(
        store,
        &world.project,
        export,
        Destination::File(path.clone()),
    )
    .await
    .map_err(|e| anyhow!(e))?
    {
        Exported::Rows(_, summary) => summary,
        Exported::Items(_) => bail!("the preference export wrote items"),
    };
    let mut tally = Tally::default();
    let f = std::fs::File::open(&path).with_context(|| format!("reading {}", path.display()))?;
    for line in std::io::BufReader::new(f).lines() {
        let row: Row = serde_json::from_str(&line?).context("reading an exported pair")?;
        let truth = world
            .truths
            .get(&row.item_id)
            .ok_or_else(|| anyhow!("the export holds an unknown item `{}`", row.item_id))?;
        if !truth.gold {
            tally.add(truth, cand(&row.provenance.chosen_id)?);
        }
    }
    Ok(MethodResult {
        name: name.to_owned(),
        how: format!(
            "plumbline export --kind preference --decision {}{}",
            method.as_str(),
            if min_expertise.is_some() {
                " --min-expertise expert"
            } else {
                ""
            }
        ),
        scored: tally.scored(judged),
        export: Some(summary),
    })
}

/// The winner of a stored payload.
#[derive(Deserialize)]
struct Winner {
    winner: String,
}

/// Reads every judged item once: how many non-gold items have a judgment, and the
/// experts-only majority vote on them.
async fn read_judgments<S: Store>(
    store: &S,
    world: &World,
    experts: &HashSet<i64>,
) -> anyhow::Result<(u64, Tally)> {
    let (tx, mut rx) = mpsc::channel::<Vec<JudgedItem>>(4);
    let read = store.judged_items(world.project.id, TaskKind::Preference, tx, None);
    let count = async {
        let mut judged = 0u64;
        let mut vote = Tally::default();
        while let Some(batch) = rx.recv().await {
            for item in batch {
                let Some(truth) = world.truths.get(&item.ext_id) else {
                    bail!("the store holds an unknown item `{}`", item.ext_id);
                };
                if truth.gold || !item.judgments.iter().any(|j| j.annotator.is_some()) {
                    continue;
                }
                judged += 1;
                let (mut a, mut b) = (0u32, 0u32);
                for j in &item.judgments {
                    if !j.annotator.is_some_and(|u| experts.contains(&u)) {
                        continue;
                    }
                    let w: Winner = serde_json::from_str(&j.payload)?;
                    match w.winner.as_str() {
                        "a" => a += 1,
                        "b" => b += 1,
                        _ => {}
                    }
                }
                if a != b {
                    vote.add(truth, if a > b { Cand::A } else { Cand::B });
                }
            }
        }
        Ok((judged, vote))
    };
    let (read, counted) = tokio::join!(read, count);
    read.context("reading the judgments")?;
    counted
}

/// The quality table (as `plumbline report` computes it), summed per group.
async fn workforce<S: Store>(store: &S, pool: &Pool, world: &World) -> anyhow::Result<Workforce> {
    let q = annotator_quality(store, &world.project).await?;
    let group_of: HashMap<i64, usize> = world
        .annotators
        .iter()
        .map(|a| (a.user.0, a.group))
        .collect();
    let mut groups: Vec<GroupResult> = pool
        .groups
        .iter()
        .map(|g| GroupResult {
            name: g.name.clone(),
            annotators: g.count,
            expertise: g.expertise,
            biased: g.biased(),
            judgments: 0,
            gold_correct: 0,
            gold_total: 0,
            gold_accuracy: None,
            mean_reliability: None,
            length_share: None,
            position_share: None,
            length_flagged: 0,
            position_flagged: 0,
            flagged_for_their_bias: 0,
            on_probation: 0,
        })
        .collect();
    // (reliability sum, length hits, length n, position hits, position n) per group
    let mut sums = vec![(0.0f64, 0u64, 0u64, 0u64, 0u64); groups.len()];
    for a in &q.annotators {
        let Some(&gi) = group_of.get(&a.user.0) else {
            continue;
        };
        let (g, spec, s) = (&mut groups[gi], &pool.groups[gi], &mut sums[gi]);
        g.judgments += a.judgments;
        g.gold_correct += a.gold.correct;
        g.gold_total += a.gold.total;
        g.length_flagged += u32::from(a.length.flagged);
        g.position_flagged += u32::from(a.position.flagged);
        g.flagged_for_their_bias += u32::from(
            (spec.length_bias > 0.0 && a.length.flagged)
                || (spec.position_bias > 0.0 && a.position.flagged),
        );
        g.on_probation += u32::from(a.probation.on_probation);
        s.0 += a.reliability.mean;
        s.1 += a.length.hits;
        s.2 += a.length.n;
        s.3 += a.position.hits;
        s.4 += a.position.n;
    }
    let share = |n: u64, of: u64| (of > 0).then(|| n as f64 / of as f64);
    for (g, s) in groups.iter_mut().zip(&sums) {
        g.gold_accuracy = share(g.gold_correct, g.gold_total);
        g.mean_reliability = (g.annotators > 0).then(|| s.0 / f64::from(g.annotators));
        g.length_share = share(s.1, s.2);
        g.position_share = share(s.3, s.4);
    }
    let x = &q.experts;
    Ok(Workforce {
        items: x.items,
        items_with_expert: x.items_with_expert,
        expert_item_share: x.item_share.value(),
        judgments: x.judgments,
        expert_judgments: x.expert_judgments,
        expert_judgment_share: x.judgment_share.value(),
        groups,
    })
}

fn pct(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{:.1}%", v * 100.0))
}

/// The targets: the default export within 1.5 points of the experts-only vote
/// (read as: at most 1.5 points below it; above it is better), covering at least 95% of
/// the judged items; every biased annotator flagged for a bias they have, no expert
/// flagged for any; expert judgments at most 35% of all.
pub fn targets(decisions: &[MethodResult], w: &Workforce) -> Vec<Check> {
    let find = |n: &str| decisions.iter().find(|d| d.name == n).map(|d| &d.scored);
    let default = find(DEFAULT).cloned().unwrap_or_default();
    let experts = find(EXPERTS_VOTE).cloned().unwrap_or_default();
    let mut out = Vec::new();
    let (pass, measured) = match (default.accuracy, experts.accuracy) {
        (Some(d), Some(e)) => (
            (e - d) * 100.0 <= MAX_POINTS_BELOW_EXPERTS + 1e-9,
            format!(
                "{} vs {} ({:+.1} points)",
                pct(Some(d)),
                pct(Some(e)),
                (d - e) * 100.0
            ),
        ),
        _ => (false, "undefined (nothing decided)".into()),
    };
    out.push(Check {
        target: format!(
            "default export accuracy at most {MAX_POINTS_BELOW_EXPERTS} points below the experts-only vote"
        ),
        measured,
        pass,
    });
    out.push(Check {
        target: format!(
            "default export covers at least {:.0}% of the judged items",
            MIN_COVERAGE * 100.0
        ),
        measured: pct(default.coverage),
        pass: default.coverage.is_some_and(|c| c >= MIN_COVERAGE),
    });
    let biased: u32 = w
        .groups
        .iter()
        .filter(|g| g.biased)
        .map(|g| g.annotators)
        .sum();
    let flagged: u32 = w.groups.iter().map(|g| g.flagged_for_their_bias).sum();
    out.push(Check {
        target: "every biased annotator flagged for their bias".into(),
        measured: format!("{flagged} of {biased}"),
        pass: flagged == biased,
    });
    let experts_n: u32 = w
        .groups
        .iter()
        .filter(|g| g.expertise == Some(Level::Expert))
        .map(|g| g.annotators)
        .sum();
    // An annotator flagged for both biases counts twice here; it only has to be zero.
    let experts_flagged: u32 = w
        .groups
        .iter()
        .filter(|g| g.expertise == Some(Level::Expert))
        .map(|g| g.length_flagged + g.position_flagged)
        .sum();
    out.push(Check {
        target: "no expert flagged for a bias".into(),
        measured: format!("{experts_flagged} flags among {experts_n} experts"),
        pass: experts_flagged == 0,
    });
    out.push(Check {
        target: format!(
            "expert judgments at most {:.0}% of all",
            MAX_EXPERT_SHARE * 100.0
        ),
        measured: format!(
            "{} ({} of {})",
            pct(w.expert_judgment_share),
            w.expert_judgments,
            w.judgments
        ),
        pass: w
            .expert_judgment_share
            .is_some_and(|s| s <= MAX_EXPERT_SHARE + 1e-12),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn truth(right: Cand, longer: Cand) -> Truth {
        Truth {
            index: 0,
            right,
            longer,
            gold: false,
        }
    }

    #[test]
    fn a_tally_scores_accuracy_coverage_and_length() {
        let mut t = Tally::default();
        t.add(&truth(Cand::A, Cand::A), Cand::A);
        t.add(&truth(Cand::A, Cand::B), Cand::B);
        t.add(&truth(Cand::B, Cand::B), Cand::B);
        t.add(&truth(Cand::B, Cand::A), Cand::B);
        let s = t.scored(8);
        assert_eq!((s.decided, s.correct), (4, 3));
        assert_eq!(s.accuracy, Some(0.75));
        assert_eq!(s.coverage, Some(0.5));
        assert_eq!(s.chosen_longer, Some(0.75));
        assert!(s.lower.unwrap() < 0.75 && s.upper.unwrap() > 0.75);
        let none = Tally::default().scored(0);
        assert_eq!((none.accuracy, none.coverage), (None, None));
    }

    fn result(name: &str, accuracy: f64, coverage: f64) -> MethodResult {
        MethodResult {
            name: name.into(),
            how: String::new(),
            scored: Scored {
                accuracy: Some(accuracy),
                coverage: Some(coverage),
                ..Scored::default()
            },
            export: None,
        }
    }

    fn group(biased: bool, expertise: Option<Level>, flags: (u32, u32, u32)) -> GroupResult {
        GroupResult {
            name: "g".into(),
            annotators: 4,
            expertise,
            biased,
            judgments: 0,
            gold_correct: 0,
            gold_total: 0,
            gold_accuracy: None,
            mean_reliability: None,
            length_share: None,
            position_share: None,
            length_flagged: flags.0,
            position_flagged: flags.1,
            flagged_for_their_bias: flags.2,
            on_probation: 0,
        }
    }

    #[test]
    fn targets_pass_and_fail_on_their_bounds() {
        let w = Workforce {
            items: 10,
            items_with_expert: 10,
            expert_item_share: Some(1.0),
            judgments: 100,
            expert_judgments: 35,
            expert_judgment_share: Some(0.35),
            groups: vec![
                group(false, Some(Level::Expert), (0, 0, 0)),
                group(true, None, (4, 0, 4)),
            ],
        };
        let d = [
            result(DEFAULT, 0.94, 0.95),
            result(EXPERTS_VOTE, 0.955, 1.0),
        ];
        let t = targets(&d, &w);
        assert!(t.iter().all(|c| c.pass), "{t:?}");
        let d = [
            result(DEFAULT, 0.939, 0.949),
            result(EXPERTS_VOTE, 0.955, 1.0),
        ];
        let w2 = Workforce {
            expert_judgment_share: Some(0.36),
            groups: vec![
                group(false, Some(Level::Expert), (0, 1, 0)),
                group(true, None, (3, 0, 3)),
            ],
            ..w.clone()
        };
        let t = targets(&d, &w2);
        assert!(t.iter().all(|c| !c.pass), "{t:?}");
        // Better than the experts by far is not a failure.
        let d = [result(DEFAULT, 0.99, 1.0), result(EXPERTS_VOTE, 0.9, 1.0)];
        assert!(targets(&d, &w)[0].pass);
    }
}
