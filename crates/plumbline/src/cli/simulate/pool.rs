//! The pool a simulation runs: the scenario (items, gold), the project settings that
//! matter, and groups of simulated annotators with the answer model of each.
//!
//! A pool is TOML ([`DEFAULT_POOL`] is the reference one, and documents the format).
//! Values come from the built-in defaults, then the file, then the command line's
//! flags; the result is checked as a whole and a bad value is refused naming it.

use anyhow::{Context, anyhow, bail};
use plumbline_domain::{Level, ProjectSettings, TaskKind};
use plumbline_quality::rng::Rng;
use serde::{Deserialize, Serialize};

/// The reference pool of issue 15 (3,000 items, overlap 5, 10% hidden gold, 4 experts
/// right 92% of the time, 16 crowd annotators who pick the longer answer 85% of the time).
pub const DEFAULT_POOL: &str = include_str!("default_pool.toml");

/// The figure pool of issue 15: a crowd that outnumbers the experts 4:1 and shares a
/// surface bias, but is right often enough to keep working.
pub const BIASED_CROWD_POOL: &str = include_str!("biased_crowd_pool.toml");

/// Pools `--pool` takes by name, the first the default.
pub const BUILT_IN_POOLS: [(&str, &str); 2] =
    [("issue", DEFAULT_POOL), ("biased-crowd", BIASED_CROWD_POOL)];

/// The text of the built-in pool `name`, if there is one.
pub fn built_in(name: &str) -> Option<&'static str> {
    BUILT_IN_POOLS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// The seed when neither the file nor `--seed` gives one.
pub const DEFAULT_SEED: u64 = 15;

/// Most items (work and gold each): a planning tool, not a load test.
const MAX_ITEMS: u32 = 1_000_000;
/// Most simulated annotators in a pool.
const MAX_ANNOTATORS: u32 = 1_000;

/// A pool file as written: every key optional but the groups, unknown keys refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PoolFile {
    items: Option<u32>,
    gold_items: Option<u32>,
    seed: Option<u64>,
    overlap: Option<u32>,
    gold_rate: Option<f64>,
    min_experts: Option<u32>,
    max_overlap: Option<u32>,
    decision_threshold: Option<f64>,
    min_gold_accuracy: Option<f64>,
    #[serde(default)]
    group: Vec<Group>,
}

/// A group of annotators who answer alike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// Its name; the annotators are `NAME-01`, `NAME-02`, ….
    pub name: String,
    /// How many annotators.
    pub count: u32,
    /// Probability of picking the right candidate when no bias decides the judgment.
    pub accuracy: f64,
    /// Probability that a judgment picks the longer candidate, whatever is right.
    #[serde(default)]
    pub length_bias: f64,
    /// Probability that a judgment the length bias left alone picks the candidate shown
    /// first.
    #[serde(default)]
    pub position_bias: f64,
    /// Verified expertise level in the project's domain (`novice`, `practitioner`,
    /// `expert`); none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expertise: Option<Level>,
}

impl Group {
    /// How its annotators answer.
    pub fn behaviour(&self) -> Behaviour {
        Behaviour {
            accuracy: self.accuracy,
            length_bias: self.length_bias,
            position_bias: self.position_bias,
        }
    }

    /// Whether it was given a bias (the quality table should flag its annotators).
    pub fn biased(&self) -> bool {
        self.length_bias > 0.0 || self.position_bias > 0.0
    }

    /// Whether its annotators are verified experts.
    pub fn expert(&self) -> bool {
        self.expertise == Some(Level::Expert)
    }
}

/// Values given on the command line, over the file's.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub items: Option<u32>,
    pub gold_items: Option<u32>,
    pub seed: Option<u64>,
    pub overlap: Option<u32>,
    pub gold_rate: Option<f64>,
    pub min_experts: Option<u32>,
    pub max_overlap: Option<u32>,
    pub decision_threshold: Option<f64>,
    pub min_gold_accuracy: Option<f64>,
}

/// A checked pool.
#[derive(Debug, Clone, Serialize)]
pub struct Pool {
    /// Preference items to judge.
    pub items: u32,
    /// Gold items, served as hidden gold at the project's gold rate.
    pub gold_items: u32,
    /// Seed of the items and of the annotators' draws.
    pub seed: u64,
    /// The project's settings (preference, the rest defaults unless given).
    pub settings: ProjectSettings,
    /// The annotators.
    pub groups: Vec<Group>,
}

impl Pool {
    /// Reads the pool TOML `text` (named `source` in errors), then applies `over`.
    pub fn parse(text: &str, source: &str, over: &Overrides) -> anyhow::Result<Pool> {
        // The TOML error names the line and column, and the unknown key with the ones
        // expected.
        let file: PoolFile = toml::from_str(text).with_context(|| format!("reading {source}"))?;
        let defaults: PoolFile =
            toml::from_str(DEFAULT_POOL).expect("the built-in pool is valid TOML");
        if file.group.is_empty() {
            bail!("{source}: the pool has no annotators; add at least one [[group]]");
        }
        let pick = |o: Option<u32>, f: Option<u32>, d: Option<u32>| o.or(f).or(d);
        let base = ProjectSettings::default();
        let settings = ProjectSettings {
            task: TaskKind::Preference,
            overlap: pick(over.overlap, file.overlap, defaults.overlap).unwrap_or(base.overlap),
            gold_rate: over
                .gold_rate
                .or(file.gold_rate)
                .or(defaults.gold_rate)
                .unwrap_or(base.gold_rate),
            min_experts: over.min_experts.or(file.min_experts),
            max_overlap: over.max_overlap.or(file.max_overlap),
            decision_threshold: over
                .decision_threshold
                .or(file.decision_threshold)
                .unwrap_or(base.decision_threshold),
            min_gold_accuracy: over
                .min_gold_accuracy
                .or(file.min_gold_accuracy)
                .unwrap_or(base.min_gold_accuracy),
            ..base
        };
        let pool = Pool {
            items: pick(over.items, file.items, defaults.items).unwrap_or(1),
            gold_items: pick(over.gold_items, file.gold_items, defaults.gold_items).unwrap_or(0),
            seed: over.seed.or(file.seed).unwrap_or(DEFAULT_SEED),
            settings,
            groups: file.group,
        };
        pool.check().with_context(|| source.to_owned())?;
        Ok(pool)
    }

    /// The reference pool, with `over` applied.
    pub fn default_with(over: &Overrides) -> anyhow::Result<Pool> {
        Pool::parse(DEFAULT_POOL, "the built-in pool", over)
    }

    /// Checks every value, naming the first one out of range.
    fn check(&self) -> anyhow::Result<()> {
        if !(1..=MAX_ITEMS).contains(&self.items) {
            bail!(
                "`items` must be between 1 and {MAX_ITEMS}, got {}",
                self.items
            );
        }
        if self.gold_items > MAX_ITEMS {
            bail!(
                "`gold_items` must be between 0 and {MAX_ITEMS}, got {}",
                self.gold_items
            );
        }
        self.settings
            .validate()
            .map_err(|e| anyhow!("`{}` {}", e.field, e.reason))?;
        let mut total = 0u32;
        for (i, g) in self.groups.iter().enumerate() {
            let at = format!("group {} (`{}`)", i + 1, g.name);
            let slug = !g.name.is_empty()
                && g.name.len() <= 32
                && g.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
            if !slug {
                bail!(
                    "group {}: `name` must be 1 to 32 lowercase letters, digits, `_` or `-`, got `{}`",
                    i + 1,
                    g.name
                );
            }
            if self.groups[..i].iter().any(|o| o.name == g.name) {
                bail!("{at}: `name` is used by an earlier group");
            }
            if g.count == 0 {
                bail!("{at}: `count` must be at least 1");
            }
            for (key, v) in [
                ("accuracy", g.accuracy),
                ("length_bias", g.length_bias),
                ("position_bias", g.position_bias),
            ] {
                if !(0.0..=1.0).contains(&v) {
                    bail!("{at}: `{key}` must lie in [0, 1], got {v}");
                }
            }
            total = total.saturating_add(g.count);
        }
        if total > MAX_ANNOTATORS {
            bail!("the groups hold {total} annotators; at most {MAX_ANNOTATORS}");
        }
        Ok(())
    }

    /// Annotators in the pool.
    pub fn annotators(&self) -> u32 {
        self.groups.iter().map(|g| g.count).sum()
    }
}

/// How a simulated annotator answers (see [`Behaviour::reason`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Behaviour {
    /// Probability of the right pick when no bias decides.
    pub accuracy: f64,
    /// Probability of picking the longer candidate.
    pub length_bias: f64,
    /// Probability of picking the first shown, when the length bias did not decide.
    pub position_bias: f64,
}

/// Why a judgment picked what it picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The longer candidate, whatever is right.
    Longer,
    /// The candidate shown first, whatever is right.
    ShownFirst,
    /// The right candidate.
    Right,
    /// The wrong candidate.
    Wrong,
}

/// The candidates of one task as the annotator sees them: which is right (the
/// simulation knows), which is longer, which is shown first (the display order the
/// engine returned for this assignment).
#[derive(Debug, Clone, Copy)]
pub struct Shown<'a> {
    pub right: &'a str,
    pub wrong: &'a str,
    pub longer: &'a str,
    pub first: &'a str,
}

impl Behaviour {
    /// One judgment's reason, in this order: with probability `length_bias` the longer
    /// candidate; else with probability `position_bias` the one shown first; else with
    /// probability `accuracy` the right one, else the wrong one. The biases act whatever
    /// the truth, so they cost accuracy only through where they point: a length bias is
    /// right half the time when length is independent of the truth.
    pub fn reason(&self, rng: &mut Rng) -> Reason {
        if rng.chance(self.length_bias) {
            Reason::Longer
        } else if rng.chance(self.position_bias) {
            Reason::ShownFirst
        } else if rng.chance(self.accuracy) {
            Reason::Right
        } else {
            Reason::Wrong
        }
    }

    /// The candidate a judgment picks: its [`reason`](Self::reason) applied to `shown`.
    pub fn pick<'a>(&self, rng: &mut Rng, shown: Shown<'a>) -> &'a str {
        match self.reason(rng) {
            Reason::Longer => shown.longer,
            Reason::ShownFirst => shown.first,
            Reason::Right => shown.right,
            Reason::Wrong => shown.wrong,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_pool_is_the_issue_scenario() {
        let p = Pool::default_with(&Overrides::default()).unwrap();
        assert_eq!((p.items, p.gold_items, p.seed), (3000, 300, DEFAULT_SEED));
        assert_eq!(p.settings.overlap, 5);
        assert_eq!(p.settings.gold_rate, 0.1);
        assert_eq!(p.settings.decision_threshold, 0.9);
        assert_eq!(p.settings.min_gold_accuracy, 0.7);
        assert_eq!(p.settings.min_experts, None);
        assert_eq!(p.annotators(), 20);
        assert!(p.groups[0].expert() && !p.groups[0].biased());
        assert!(!p.groups[1].expert() && p.groups[1].biased());
    }

    #[test]
    fn the_biased_crowd_pool_keeps_a_crowd_above_the_probation_bar() {
        let p = Pool::parse(
            built_in("biased-crowd").unwrap(),
            "biased-crowd",
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!((p.items, p.annotators()), (3000, 20));
        assert!(p.groups[1].biased() && !p.groups[1].expert());
        assert!(built_in("issue").is_some() && built_in("nope").is_none());
    }

    #[test]
    fn flags_override_the_file_and_the_file_the_defaults() {
        let text = "items = 50\noverlap = 3\n[[group]]\nname = \"a\"\ncount = 3\naccuracy = 0.8\n";
        let p = Pool::parse(text, "p.toml", &Overrides::default()).unwrap();
        assert_eq!((p.items, p.gold_items, p.settings.overlap), (50, 300, 3));
        let over = Overrides {
            items: Some(7),
            decision_threshold: Some(0.8),
            min_experts: Some(0),
            ..Overrides::default()
        };
        let p = Pool::parse(text, "p.toml", &over).unwrap();
        assert_eq!(p.items, 7);
        assert_eq!(p.settings.decision_threshold, 0.8);
        assert_eq!(p.settings.min_experts, Some(0));
        assert_eq!(p.groups[0].length_bias, 0.0);
    }

    fn refused(text: &str) -> String {
        format!(
            "{:#}",
            Pool::parse(text, "p.toml", &Overrides::default()).unwrap_err()
        )
    }

    #[test]
    fn bad_pools_are_refused_naming_the_value() {
        let g = "[[group]]\nname = \"crowd\"\ncount = 2\naccuracy = 0.5\n";
        let e = refused(&format!("{g}acuracy = 0.3\n"));
        assert!(
            e.contains("unknown field `acuracy`") && e.contains("line 5"),
            "{e}"
        );
        let e = refused(&format!("colour = 1\n{g}"));
        assert!(
            e.contains("unknown field `colour`") && e.contains("line 1"),
            "{e}"
        );
        let e = refused(&g.replace("0.5", "1.5"));
        assert!(
            e.contains("`crowd`") && e.contains("`accuracy` must lie in [0, 1]"),
            "{e}"
        );
        let e = refused(&format!("{g}length_bias = -0.1\n"));
        assert!(e.contains("`length_bias`"), "{e}");
        let e = refused(&g.replace("count = 2", "count = 0"));
        assert!(e.contains("`count` must be at least 1"), "{e}");
        let e = refused(&format!("overlap = 0\n{g}"));
        assert!(e.contains("`overlap`"), "{e}");
        let e = refused(&format!("decision_threshold = 0.5\n{g}"));
        assert!(e.contains("`decision_threshold`"), "{e}");
        let e = refused(&format!("{g}{g}"));
        assert!(e.contains("used by an earlier group"), "{e}");
        let e = refused(&format!("{g}expertise = \"guru\"\n"));
        assert!(e.contains("guru"), "{e}");
        let e = refused("items = 10\n");
        assert!(e.contains("no annotators"), "{e}");
        let e = refused(&g.replace("\"crowd\"", "\"Crowd A\""));
        assert!(e.contains("`name`"), "{e}");
        let e = refused("items = \"many\"\n");
        assert!(e.contains("line 1"), "{e}");
    }

    fn behaviour(accuracy: f64, length_bias: f64, position_bias: f64) -> Behaviour {
        Behaviour {
            accuracy,
            length_bias,
            position_bias,
        }
    }

    const SHOWN: Shown<'static> = Shown {
        right: "a",
        wrong: "b",
        longer: "b",
        first: "b",
    };

    #[test]
    fn certain_behaviours_answer_one_way() {
        let mut rng = Rng::new(1);
        for _ in 0..1000 {
            assert_eq!(behaviour(1.0, 0.0, 0.0).pick(&mut rng, SHOWN), "a");
            assert_eq!(behaviour(0.0, 0.0, 0.0).pick(&mut rng, SHOWN), "b");
            assert_eq!(behaviour(1.0, 1.0, 0.0).reason(&mut rng), Reason::Longer);
            assert_eq!(
                behaviour(1.0, 0.0, 1.0).reason(&mut rng),
                Reason::ShownFirst
            );
        }
    }

    #[test]
    fn reasons_come_in_the_model_proportions() {
        // length 0.5; position 0.5 of the rest; right 0.8 of what is left.
        let b = behaviour(0.8, 0.5, 0.5);
        let mut rng = Rng::new(7);
        let n = 100_000;
        let mut counts = [0u32; 4];
        for _ in 0..n {
            counts[b.reason(&mut rng) as usize] += 1;
        }
        let share = |i: usize| f64::from(counts[i]) / f64::from(n);
        for (i, want) in [(0, 0.5), (1, 0.25), (2, 0.2), (3, 0.05)] {
            assert!((share(i) - want).abs() < 0.01, "{i}: {}", share(i));
        }
    }
}
