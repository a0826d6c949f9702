//! Running a pool through the real engine: a project with a two-criterion rubric, the
//! generated items and gold, one user per simulated annotator (verified expertise where
//! the group has some), then `next_task` → `submit` in turns until nobody gets a task.
//!
//! Everything goes through the [`Store`] methods the server calls, in-process, so what
//! is measured is the engine's routing, gold, probation, settling and escalation, and
//! not a model of them.

use super::pool::{Behaviour, Pool, Shown};
use crate::cli::items::import_input;
use anyhow::{Context, anyhow, bail};
use indicatif::ProgressBar;
use plumbline_domain::{Expertise, ProjectName, ProjectRole, Rubric, UserId};
use plumbline_formats::Input;
use plumbline_formats::import_driver::ImportRequest;
use plumbline_quality::rng::{Rng, SplitMix64};
use plumbline_store::{
    ImportOptions, NewGold, NewProject, Next, NoTask, Project, Purpose, Store, Submission,
};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The simulation's project.
pub const PROJECT: &str = "simulation";

/// The domain of the annotators' verified expertise (the project requires none, so any
/// domain counts for routing and for the reliability prior).
pub const DOMAIN: &str = "sim";

/// Two criteria, so a judgment carries a per-criterion verdict as real ones do; every
/// simulated judgment gives both to its winner, which the priority rule accepts.
const RUBRIC: &str = r#"
name = "Simulation"
[[criteria]]
key = "correct"
title = "Correct"
priority = 1
[[criteria]]
key = "tone"
title = "Tone"
priority = 2
"#;

/// One of the two candidates of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cand {
    A,
    B,
}

impl Cand {
    /// Its id in the item.
    pub fn id(self) -> &'static str {
        match self {
            Cand::A => "a",
            Cand::B => "b",
        }
    }

    /// The other candidate.
    pub fn other(self) -> Cand {
        match self {
            Cand::A => Cand::B,
            Cand::B => Cand::A,
        }
    }

    fn draw(rng: &mut Rng) -> Cand {
        if rng.chance(0.5) { Cand::A } else { Cand::B }
    }
}

/// What the simulation knows of an item and the annotators do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Truth {
    /// Its number among the generated items (keys the annotators' draws on it).
    pub index: u32,
    /// The right candidate.
    pub right: Cand,
    /// The longer candidate, drawn independently of the right one.
    pub longer: Cand,
    /// A gold item (its gold answer is `right`).
    pub gold: bool,
}

/// Filler for candidate texts; only their lengths matter.
const WORDS: [&str; 24] = [
    "account",
    "balance",
    "the",
    "transfer",
    "is",
    "pending",
    "and",
    "will",
    "clear",
    "within",
    "two",
    "working",
    "days",
    "please",
    "check",
    "your",
    "statement",
    "for",
    "details",
    "we",
    "can",
    "help",
    "with",
    "that",
];

fn filler(rng: &mut Rng, at_least: usize) -> String {
    let mut s = String::with_capacity(at_least + 16);
    while s.len() < at_least {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
    }
    s.push('.');
    s
}

/// The items of `pool` as native JSONL, with their truths by id: `item-NNNNNN` to judge,
/// then `gold-NNNNNN`. The longer candidate is 60 to 200 characters longer (a word's
/// slack aside), well past the 30 the length-bias statistic ignores, so every pair counts.
pub fn generate(pool: &Pool) -> (Vec<u8>, HashMap<String, Truth>) {
    let mut rng = Rng::new(pool.seed);
    let mut jsonl = Vec::new();
    let mut truths = HashMap::new();
    let total = pool.items + pool.gold_items;
    for index in 0..total {
        let gold = index >= pool.items;
        let id = if gold {
            format!("gold-{:06}", index - pool.items + 1)
        } else {
            format!("item-{:06}", index + 1)
        };
        let truth = Truth {
            index,
            right: Cand::draw(&mut rng),
            longer: Cand::draw(&mut rng),
            gold,
        };
        let short = 60 + rng.below(100) as usize;
        let long = short + 60 + rng.below(140) as usize;
        let (short, long) = (filler(&mut rng, short), filler(&mut rng, long));
        let (a, b) = match truth.longer {
            Cand::A => (long, short),
            Cand::B => (short, long),
        };
        let item = serde_json::json!({
            "id": id,
            "context": [{"role": "user", "content": format!("Question {}: which reply is right?", index + 1)}],
            "candidates": [{"id": "a", "content": a}, {"id": "b", "content": b}],
        });
        serde_json::to_writer(&mut jsonl, &item).expect("an item serializes");
        jsonl.push(b'\n');
        truths.insert(id, truth);
    }
    (jsonl, truths)
}

/// A preference payload for `winner` with both criteria agreeing.
fn payload(winner: &str) -> String {
    format!(
        r#"{{"winner":"{winner}","strength":2,"criteria":{{"correct":"{winner}","tone":"{winner}"}}}}"#
    )
}

/// One simulated annotator.
#[derive(Debug, Clone)]
pub struct Annotator {
    /// Their user.
    pub user: UserId,
    /// Their name, `GROUP-NN`.
    pub name: String,
    /// Index of their group in the pool.
    pub group: usize,
    /// Their number in the pool (keys their draws).
    number: u32,
    behaviour: Behaviour,
    /// Probation stopped them.
    stopped: bool,
}

/// A simulation's project, its annotators and the truth of every item.
pub struct World {
    pub project: Project,
    pub annotators: Vec<Annotator>,
    pub truths: HashMap<String, Truth>,
}

/// Creates the project, imports the items, adds the gold and the annotators.
pub async fn setup<S: Store>(store: &S, pool: &Pool) -> anyhow::Result<World> {
    let project = store
        .create_project(
            None,
            NewProject {
                name: ProjectName::parse(PROJECT).map_err(anyhow::Error::msg)?,
                settings: pool.settings.clone(),
                rubric: Rubric::from_toml(RUBRIC).context("the simulation's rubric")?,
            },
        )
        .await?;
    let (jsonl, truths) = generate(pool);
    let report = import_input(
        store,
        PROJECT,
        Input::Stream(Box::new(std::io::Cursor::new(jsonl))),
        "the simulated items",
        &ImportRequest {
            max_line_bytes: 1 << 24,
            ..ImportRequest::native(ImportOptions::default())
        },
        &ProgressBar::hidden(),
    )
    .await?;
    if !report.stored {
        bail!("the simulated items did not import: {:?}", report.errors);
    }
    let mut gold: Vec<(&String, &Truth)> = truths.iter().filter(|(_, t)| t.gold).collect();
    gold.sort_by_key(|(_, t)| t.index);
    for (id, t) in gold {
        store
            .add_gold(
                None,
                project.id,
                NewGold {
                    item: id.clone(),
                    payload: payload(t.right.id()),
                },
            )
            .await
            .map_err(|e| anyhow!("adding the gold of {id}: {e}"))?;
    }
    let mut annotators = Vec::new();
    for (group, g) in pool.groups.iter().enumerate() {
        let width = g.count.to_string().len().max(2);
        for k in 1..=g.count {
            let name = format!("{}-{k:0width$}", g.name);
            let user =
                super::super::new_member(store, project.id, &name, ProjectRole::Annotator).await?;
            if let Some(level) = g.expertise {
                let e: Expertise = format!("{DOMAIN}:{}", level.as_str())
                    .parse()
                    .map_err(|e: String| anyhow!(e))?;
                store.propose_expertise(None, user, e).await?;
                store.verify_expertise(None, user, DOMAIN).await?;
            }
            annotators.push(Annotator {
                user,
                name,
                group,
                number: annotators.len() as u32,
                behaviour: g.behaviour(),
                stopped: false,
            });
        }
    }
    Ok(World {
        project,
        annotators,
        truths,
    })
}

/// What the turns did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Turns {
    /// Judgments submitted.
    pub judgments: u64,
    /// Of them, on hidden gold (as the engine served them; the annotators cannot tell).
    pub gold_judgments: u64,
    /// Rounds of turns.
    pub rounds: u64,
    /// Annotators that probation stopped, in the order it happened, with the judgments
    /// they had made.
    pub stopped: Vec<(String, u64)>,
    /// Seconds the turns took.
    pub seconds: f64,
}

/// The seed of `annotator`'s draws on item `index`: the same annotator answers the same
/// item the same way in every run with this seed, whatever order the engine serves it
/// in (only the display order, which the engine shuffles, can change a position pick).
fn draw_seed(seed: u64, annotator: u32, index: u32) -> u64 {
    SplitMix64::new(seed).next_u64() ^ (u64::from(annotator) << 32 | u64::from(index))
}

/// Takes turns until nobody gets a task: in each round every annotator not stopped by
/// probation asks `next_task` once and submits what it gets. An annotator with nothing
/// now is asked again next round, since an expert's judgment frees an item's reserved
/// place for the others.
pub async fn take_turns<S: Store>(
    store: &S,
    pool: &Pool,
    world: &mut World,
    progress: bool,
) -> anyhow::Result<Turns> {
    let start = Instant::now();
    let mut turns = Turns::default();
    let mut judged = vec![0u64; world.annotators.len()];
    // Every item can take at most max_overlap judgments and every annotator each gold
    // item once: past that, the loop would be a bug, not a long run.
    let bound = u64::from(pool.items) * u64::from(pool.settings.effective_max_overlap())
        + u64::from(pool.annotators()) * (u64::from(pool.gold_items) + 1);
    let mut last_note = Instant::now();
    loop {
        turns.rounds += 1;
        let mut served = false;
        for (i, a) in world.annotators.iter_mut().enumerate() {
            if a.stopped {
                continue;
            }
            let task = match store.next_task(a.user, world.project.id).await? {
                Next::Task(t) => t,
                Next::None(NoTask::Drained) => continue,
                Next::None(NoTask::Probation { .. }) => {
                    a.stopped = true;
                    turns.stopped.push((a.name.clone(), judged[i]));
                    continue;
                }
                Next::None(other) => bail!("{} got no task: {}", a.name, other.message()),
            };
            let truth = world
                .truths
                .get(&task.item)
                .ok_or_else(|| anyhow!("the engine served an unknown item `{}`", task.item))?;
            let first = task
                .display_order
                .first()
                .ok_or_else(|| anyhow!("item `{}` was served without candidates", task.item))?;
            let mut rng = Rng::new(draw_seed(pool.seed, a.number, truth.index));
            let winner = a.behaviour.pick(
                &mut rng,
                Shown {
                    right: truth.right.id(),
                    wrong: truth.right.other().id(),
                    longer: truth.longer.id(),
                    first,
                },
            );
            store
                .submit(
                    a.user,
                    world.project.id,
                    task.assignment,
                    Submission {
                        payload: payload(winner),
                        time_ms: Some(30_000),
                    },
                )
                .await
                .map_err(|e| {
                    anyhow!("{}'s judgment of `{}` was refused: {e}", a.name, task.item)
                })?;
            served = true;
            judged[i] += 1;
            turns.judgments += 1;
            // The harness counts gold; the annotator above answered without looking.
            if task.purpose == Purpose::Gold {
                turns.gold_judgments += 1;
            }
        }
        if !served {
            break;
        }
        if turns.judgments > bound {
            bail!(
                "the queue did not drain after {} judgments (at most {bound} are possible); this is a bug",
                turns.judgments
            );
        }
        if progress && last_note.elapsed() > Duration::from_secs(5) {
            last_note = Instant::now();
            eprintln!(
                "  {} judgments in {:.0} s, round {}",
                turns.judgments,
                start.elapsed().as_secs_f64(),
                turns.rounds
            );
        }
    }
    turns.seconds = start.elapsed().as_secs_f64();
    Ok(turns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::simulate::pool::Overrides;

    #[test]
    fn items_are_reproducible_and_lengths_independent_of_truth() {
        let pool = Pool::default_with(&Overrides {
            items: Some(2000),
            gold_items: Some(100),
            ..Overrides::default()
        })
        .unwrap();
        let (a, ta) = generate(&pool);
        let (b, tb) = generate(&pool);
        assert_eq!(a, b);
        assert_eq!(ta, tb);
        assert_eq!(ta.len(), 2100);
        assert_eq!(ta.values().filter(|t| t.gold).count(), 100);
        let right_a = ta.values().filter(|t| t.right == Cand::A).count();
        let longer_right = ta.values().filter(|t| t.longer == t.right).count();
        assert!((950..1150).contains(&right_a), "{right_a}");
        assert!((950..1150).contains(&longer_right), "{longer_right}");
        for line in a.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let v: serde_json::Value = serde_json::from_slice(line).unwrap();
            let t = ta[v["id"].as_str().unwrap()];
            let len = |c: Cand| {
                v["candidates"][if c == Cand::A { 0 } else { 1 }]["content"]
                    .as_str()
                    .unwrap()
                    .len()
            };
            assert!(len(t.longer) > len(t.longer.other()) + 30, "{v}");
        }
    }

    #[test]
    fn draws_differ_by_annotator_and_item() {
        let s = draw_seed(15, 1, 2);
        assert_eq!(s, draw_seed(15, 1, 2));
        assert_ne!(s, draw_seed(15, 2, 1));
        assert_ne!(s, draw_seed(16, 1, 2));
    }
}
