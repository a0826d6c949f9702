//! Preference pairs for training code: TRL's conversational preference format (`prompt`
//! as a list of messages, `chosen` and `rejected` as one-message assistant lists) plus
//! `strength`, per-criterion outcomes, `item_id` and provenance.
//!
//! One rule decides every pair kind (preference, reward, and the SFT rows of preference
//! items), in this order:
//!
//! 1. **adjudicated** — a reviewer's latest decision on the item stands;
//! 2. **gold** — a gold item exports its active gold answer;
//! 3. **single** — an item with one counted vote exports that vote, whatever the
//!    threshold, with the posterior its voter's reliability gives (the reliability itself,
//!    1/2 for a voter at or below chance);
//! 4. otherwise the decision method ([`DecisionMethod`], `--decision`), whose winner
//!    needs a posterior of at least the threshold (default 0.9, else the project's
//!    `decision_threshold`):
//!    - **reliability** (the default): the posterior from the votes, each weighted by its
//!      voter's reliability ([`crate::reliabilities`]; `decide_into`, the one-coin model
//!      over the two candidates: a tie vote is evidence for neither);
//!    - **majority**: the most common answer (a tie is one), its share of the votes as
//!      the posterior;
//!    - **dawid-skene**: two or more voters naming the same answer (`unanimous`), else
//!      the Dawid-Skene posterior fitted over every such contested item of the export
//!      (categories first candidate, second candidate, tie), read a second time.
//!
//! Items decided as a tie (or whose candidates end exactly level), below the threshold,
//! or without judgments are left out and counted in the summary. Apart from adjudication
//! and gold, a pair is never exported against every one of its votes: the reliability rule
//! and majority pick a candidate somebody voted for by construction, and a Dawid-Skene
//! winner nobody voted for is left out (`against_votes`). External prior judgments
//! (imported from HH-RLHF, Label Studio, …) count as votes only when asked, each source
//! as one voter with the stated reliability 0.7.

use crate::pair_row::{
    CandidateView, Criteria, ItemLayout, ItemView, Message, PairRow, PrefVote, Provenance,
    VoteWeight, role_name,
};
use crate::reliabilities::{PAIR_OPTIONS, Reliabilities};
use plumbline_domain::Split;
use plumbline_quality::aggregate::{DawidSkeneConfig, dawid_skene_winners};
use plumbline_quality::decision::{DecisionMethod, decide_into, reaches};
use plumbline_quality::{Judgment, LabelSet};
use plumbline_store::JudgedItem;
use plumbline_store::export::split_name;
use serde::Serialize;
use serde_json::{Value, json};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasherDefault;

/// Default posterior a pair's winner needs, when neither `--threshold` nor the project
/// says otherwise.
pub const DEFAULT_THRESHOLD: f64 = 0.9;

/// Which items and judgments to export, and how to decide them.
#[derive(Debug, Clone)]
pub struct PairOptions {
    /// Least posterior of a winner decided by the method (not by adjudication, gold or a
    /// single vote).
    pub threshold: f64,
    /// How items with several votes are decided.
    pub decision: DecisionMethod,
    /// Count external prior judgments as votes.
    pub include_external: bool,
    /// Only items of this split.
    pub split: Option<Split>,
    /// Only items carrying every one of these tags.
    pub tags: Vec<String>,
    /// Add `margin` (the strength as a number) for reward-model training.
    pub reward: bool,
    /// Write SFT rows (`messages`: the prompt and the winning reply) instead of pairs.
    pub sft: bool,
    /// Only judgments (and adjudications) made under this rubric version.
    pub rubric_version: Option<i64>,
    /// Only items whose votes agree at least this much (see [`crate::kinds::modal_share`]);
    /// items with fewer than two votes have no agreement and are left out.
    pub min_agreement: Option<f64>,
    /// Only judgments by annotators with at least this verified level in the project's
    /// domain.
    pub min_expertise: Option<plumbline_domain::Level>,
    /// Pseudonyms and verified levels of the project's annotators.
    pub annotators: std::sync::Arc<crate::kinds::Annotators>,
    /// The project's pseudonym key, for pseudonyms of annotators not in `annotators`.
    /// [`crate::run::export`] always sets the project's own; the default (zeros) is for
    /// tests of the row writers.
    pub pseudonym_key: plumbline_store::PseudonymKey,
}

impl Default for PairOptions {
    fn default() -> Self {
        PairOptions {
            threshold: DEFAULT_THRESHOLD,
            decision: DecisionMethod::default(),
            include_external: false,
            split: None,
            tags: Vec::new(),
            reward: false,
            sft: false,
            rubric_version: None,
            min_agreement: None,
            min_expertise: None,
            annotators: Default::default(),
            pseudonym_key: plumbline_store::PseudonymKey::from_bytes([0; 32]),
        }
    }
}

/// What an export did with the items it read.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct PairSummary {
    /// Items read.
    pub items: u64,
    /// Pairs written.
    pub exported: u64,
    /// Pairs by decision rule.
    pub by_decision: BTreeMap<String, u64>,
    /// Left out: not matching the filters.
    pub filtered: u64,
    /// Left out: no judgment counted.
    pub no_judgments: u64,
    /// Left out: decided as a tie (or the candidates ended exactly level).
    pub tie: u64,
    /// Left out: the winner's posterior is below the threshold.
    pub below_threshold: u64,
    /// Left out: the Dawid-Skene winner is named by none of the item's votes.
    pub against_votes: u64,
    /// Left out: item agreement below `--min-agreement` (or undefined).
    pub low_agreement: u64,
    /// Judgments left out: made under another rubric version than `--rubric-version`.
    pub judgments_other_rubric: u64,
    /// Judgments left out: annotator below `--min-expertise` (or external).
    pub judgments_below_expertise: u64,
    /// The threshold used.
    pub threshold: f64,
    /// The decision method used (pair kinds only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<DecisionMethod>,
}

/// Who cast a vote: an annotator, or an external source (one voter per source).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Voter<'a> {
    User(i64),
    External(&'a str),
}

/// The category of a tie vote, after the two candidates.
const TIE: u32 = 2;

/// One counted vote: who, the candidate index (0, 1) or [`TIE`], and the payload.
struct Vote<'a> {
    voter: Voter<'a>,
    label: u32,
    payload: PrefVote<'a>,
}

/// One item's counted votes: the latest of each voter, in the order voters first voted.
struct Votes<'a> {
    by: Vec<Vote<'a>>,
}

fn candidate_index(item: &ItemView<'_>, winner: &str) -> Option<u32> {
    if winner == "tie" {
        return Some(TIE);
    }
    item.candidates
        .iter()
        .position(|c| c.id == winner)
        .map(|p| p as u32)
}

fn votes<'a>(j: &'a JudgedItem, item: &ItemView<'_>, include_external: bool) -> Votes<'a> {
    let mut by: Vec<Vote<'a>> = Vec::with_capacity(j.judgments.len());
    for row in &j.judgments {
        let voter = match (&row.annotator, &row.external_source) {
            (Some(u), _) => Voter::User(*u),
            (None, Some(src)) if include_external => Voter::External(src),
            _ => continue,
        };
        let Some(payload) = PrefVote::parse(&row.payload) else {
            continue;
        };
        let Some(label) = payload
            .winner
            .as_deref()
            .and_then(|w| candidate_index(item, w))
        else {
            continue;
        };
        let vote = Vote {
            voter,
            label,
            payload,
        };
        match by.iter_mut().find(|v| v.voter == voter) {
            Some(earlier) => *earlier = vote,
            None => by.push(vote),
        }
    }
    Votes { by }
}

fn wanted(item: &ItemView<'_>, j: &JudgedItem, opts: &PairOptions) -> bool {
    if opts.split.is_some() && j.split != opts.split {
        return false;
    }
    opts.tags.iter().all(|t| item.tags.contains(t))
}

/// The items contested under Dawid-Skene (neither adjudicated, gold, single-voted nor
/// unanimous), collected in the first read for the model.
#[derive(Default)]
struct Contested {
    users: HashMap<i64, u32>,
    sources: HashMap<String, u32>,
    /// 64-bit hashes of the contested items' ids (8 bytes an item, not a string).
    items: Vec<u64>,
    labels: Vec<Judgment>,
}

/// The contested items by the hash of their id, each with the decided winner
/// (candidate index) and its posterior, if the model gave one: about 30 bytes an item.
/// A hash table, not a sorted array: a lookup is one cache miss, where a binary search
/// over a million ids was twenty (and the largest cost of a contested export).
#[derive(Debug, Default)]
struct Posteriors(HashMap<u64, Option<(u32, f32)>, BuildHasherDefault<IdHasher>>);

impl Posteriors {
    /// `None` when the item is not contested; else its winner and posterior, if any.
    fn get(&self, id: &str) -> Option<Option<(u32, f64)>> {
        self.0
            .get(&id_hash(id))
            .map(|w| w.map(|(label, p)| (label, f64::from(p))))
    }
}

/// Hashes the (already hashed) id key with a multiply-xorshift finalizer, instead of
/// SipHash over its bytes.
#[derive(Default)]
pub struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(self.0 ^ u64::from(b));
        }
    }

    fn write_u64(&mut self, x: u64) {
        let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        self.0 = z ^ (z >> 31);
    }
}

/// FNV-1a over the id: a compact key (a collision among a million ids has odds of
/// about 3 in 10⁸).
fn id_hash(id: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for &b in id.as_bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl Contested {
    /// Adds a contested item's votes (already one a voter).
    fn add_votes(&mut self, id: u64, v: &Votes<'_>) {
        let idx = self.items.len() as u32;
        self.items.push(id);
        for vote in &v.by {
            let next = (self.users.len() + self.sources.len()) as u32;
            let annotator = match vote.voter {
                Voter::User(u) => *self.users.entry(u).or_insert(next),
                Voter::External(s) => match self.sources.get(s) {
                    Some(&a) => a,
                    None => {
                        self.sources.insert(s.to_owned(), next);
                        next
                    }
                },
            };
            self.labels.push(Judgment {
                item: idx,
                annotator,
                label: vote.label,
            });
        }
    }

    /// How many items are contested.
    fn len(&self) -> usize {
        self.items.len()
    }

    /// Fits the model: the most likely winner and its posterior, by item id. The labels
    /// are dropped once grouped, and the fit keeps only each item's winner, so memory
    /// holds about 80 bytes a contested item (three votes) at the peak.
    fn fit(self) -> Result<Posteriors, String> {
        if self.items.is_empty() {
            return Ok(Posteriors::default());
        }
        let annotators = self.users.len() + self.sources.len();
        let Contested { items, labels, .. } = self;
        let set = LabelSet::new(items.len(), annotators, 3, &labels).map_err(|e| e.to_string())?;
        drop(labels);
        // The library's own tolerance (1e-6): a looser one (1e-4 was tried) stops EM far
        // from convergence when votes are few, and moves posteriors across the threshold.
        let winners =
            dawid_skene_winners(&set, DawidSkeneConfig::default()).map_err(|e| e.to_string())?;
        drop(set);
        Ok(Posteriors(items.into_iter().zip(winners).collect()))
    }
}

fn adjudicated<'a>(j: &'a JudgedItem, item: &ItemView<'_>) -> Option<(u32, PrefVote<'a>)> {
    let payload = PrefVote::parse(j.adjudication.as_deref()?)?;
    let idx = candidate_index(item, payload.winner.as_deref()?)?;
    Some((idx, payload))
}

/// The item's active gold answer, when it names a candidate or a tie.
fn gold<'a>(j: &'a JudgedItem, item: &ItemView<'_>) -> Option<(u32, PrefVote<'a>)> {
    let payload = PrefVote::parse(j.gold.as_deref()?)?;
    let idx = candidate_index(item, payload.winner.as_deref()?)?;
    Some((idx, payload))
}

/// Whether the votes meet `--min-agreement` (the modal share of the counted votes).
fn agrees(v: &Votes<'_>, opts: &PairOptions) -> bool {
    let Some(min) = opts.min_agreement else {
        return true;
    };
    crate::kinds::modal_share(v.by.iter().map(|x| x.label)).is_some_and(|a| a >= min)
}

/// The answer when two or more voters all name it.
fn unanimous(v: &Votes<'_>) -> Option<u32> {
    let first = v.by.first()?;
    let all_same = v.by.iter().all(|x| x.label == first.label);
    (all_same && v.by.len() >= 2).then_some(first.label)
}

/// The most common answer of several votes and its share; `None` when two answers share
/// the top count.
fn majority(v: &Votes<'_>) -> Option<(u32, f64)> {
    let mut counts = [0u32; 3];
    for x in &v.by {
        counts[x.label as usize] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(0);
    let mut leaders = (0..3u32).filter(|&c| counts[c as usize] == top);
    let winner = leaders.next()?;
    if leaders.next().is_some() {
        return None;
    }
    Some((winner, f64::from(top) / v.by.len() as f64))
}

/// How a pair's winner was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    Adjudicated,
    Gold,
    Single,
    Reliability,
    Majority,
    Unanimous,
    DawidSkene,
}

impl Rule {
    fn as_str(self) -> &'static str {
        match self {
            Rule::Adjudicated => "adjudicated",
            Rule::Gold => "gold",
            Rule::Single => "single",
            Rule::Reliability => "reliability",
            Rule::Majority => "majority",
            Rule::Unanimous => "unanimous",
            Rule::DawidSkene => "dawid_skene",
        }
    }

    /// Whether the winner must reach the threshold.
    fn thresholded(self) -> bool {
        matches!(self, Rule::Reliability | Rule::Majority | Rule::DawidSkene)
    }
}

/// Which read of the items a call of [`PairWriter::pair_in`] belongs to.
///
/// Every export reads its items once ([`Pass::Decided`]), deciding every item it can and,
/// under Dawid-Skene, collecting the contested ones; only when there were any is the
/// model fitted and are the items read again to write just those ([`Pass::Contested`]).
/// The reliability rule and majority decide every item in the first read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// The one read of an export of a kind that is not of pairs.
    All,
    /// The first read: decide what can be; collect items contested under Dawid-Skene.
    Decided,
    /// Decide only the items collected as contested, with their fitted posteriors.
    Contested,
}

/// Decides each item and renders its pair.
pub struct PairWriter {
    opts: PairOptions,
    reliabilities: Reliabilities,
    posteriors: Posteriors,
    /// Contested items collected in [`Pass::Decided`].
    deferred: Contested,
    /// Whether the last item given was deferred ([`Pass::Decided`]) or decided in
    /// [`Pass::Contested`].
    last_contested: bool,
    /// Each counted vote's reliability and the method's weight, for the item at hand.
    weights: Vec<(f64, Option<f64>)>,
    /// The reliability rule's (candidate, log-odds) votes, for the item at hand.
    decisive: Vec<(u32, f64)>,
    /// What was done so far.
    pub summary: PairSummary,
}

impl PairWriter {
    /// A writer deciding with `opts` and the voters' `reliabilities`.
    pub fn new(opts: PairOptions, reliabilities: Reliabilities) -> Self {
        let summary = PairSummary {
            threshold: opts.threshold,
            method: Some(opts.decision),
            ..PairSummary::default()
        };
        PairWriter {
            opts,
            reliabilities,
            posteriors: Posteriors::default(),
            deferred: Contested::default(),
            last_contested: false,
            weights: Vec::new(),
            decisive: Vec::new(),
            summary,
        }
    }

    /// How many items [`Pass::Decided`] deferred as contested.
    pub fn deferred(&self) -> usize {
        self.deferred.len()
    }

    /// Whether the last item was contested (deferred, or decided in [`Pass::Contested`]).
    pub fn last_contested(&self) -> bool {
        self.last_contested
    }

    /// Fits Dawid-Skene over the deferred items, for [`Pass::Contested`].
    pub fn fit_deferred(&mut self) -> Result<(), String> {
        self.posteriors = std::mem::take(&mut self.deferred).fit()?;
        Ok(())
    }

    /// Each vote's reliability and weight under the export's method, into `self.weights`
    /// (and the reliability rule's decisive votes into `self.decisive`).
    fn weigh(&mut self, v: &Votes<'_>) {
        self.weights.clear();
        self.decisive.clear();
        for vote in &v.by {
            let (reliability, log_odds) = match vote.voter {
                Voter::User(u) => {
                    self.reliabilities.ensure(u);
                    let a = self.reliabilities.annotator(u).expect("ensured");
                    (a.reliability, a.weight)
                }
                Voter::External(_) => (
                    self.reliabilities.external(),
                    self.reliabilities.external_weight(),
                ),
            };
            let log_odds = if vote.label == TIE { 0.0 } else { log_odds };
            if vote.label != TIE {
                self.decisive.push((vote.label, log_odds));
            }
            let weight = match self.opts.decision {
                DecisionMethod::Reliability => Some(log_odds),
                DecisionMethod::Majority => Some(1.0),
                DecisionMethod::DawidSkene => None,
            };
            self.weights.push((reliability, weight));
        }
    }

    /// The reliability rule over `self.decisive`: the winner and its posterior, tied or
    /// not; `None` when no vote names a candidate.
    fn by_reliability(&self) -> Option<(u32, f64, bool)> {
        let mut posteriors = [0.0; PAIR_OPTIONS];
        let d = decide_into(&self.decisive, None, &mut posteriors).ok()?;
        Some((d.winner?, d.posterior, d.tied))
    }

    /// Decides one item in `pass` and hands its pair to `emit`, returning what `emit`
    /// returned; `None` when the item makes no pair (counted once over both passes).
    /// The row borrows from `j`, so it is written before the next item is read.
    /// `layout`, when given, is the item's [`ItemLayout`], found on another thread, so
    /// this one does not parse the item.
    pub fn pair_in<R>(
        &mut self,
        j: &JudgedItem,
        pass: Pass,
        layout: Option<&ItemLayout>,
        emit: impl FnOnce(&PairRow<'_>) -> R,
    ) -> Option<R> {
        self.last_contested = false;
        if pass == Pass::Contested {
            // Only the items collected in the first pass.
            self.posteriors.get(&j.ext_id)?;
            self.last_contested = true;
        } else {
            self.summary.items += 1;
        }
        let filtered;
        let j = if crate::kinds::filters_judgments(&self.opts) {
            // Judgments left out are counted in the first pass only.
            let counts = (pass != Pass::Contested).then_some(&mut self.summary);
            filtered = crate::kinds::filter_judgments(j, &self.opts, counts);
            &filtered
        } else {
            j
        };
        // A filtered copy has the same body text, so the layout holds for it too.
        let item = match layout {
            Some(l) => ItemView::from_layout(&j.body, l)?,
            None => ItemView::parse(&j.body)?,
        };
        if item.candidates.len() != 2 || !wanted(&item, j, &self.opts) {
            self.summary.filtered += 1;
            return None;
        }
        let v = votes(j, &item, self.opts.include_external);
        if !agrees(&v, &self.opts) {
            self.summary.low_agreement += 1;
            return None;
        }
        self.weigh(&v);
        // (winner, rule, posterior, the reference payload, whether the winner is only
        // level with the other candidate).
        let (winner, rule, posterior, reference, level) =
            if let Some((w, p)) = adjudicated(j, &item) {
                (w, Rule::Adjudicated, None, Some(p), false)
            } else if let Some((w, p)) = gold(j, &item) {
                (w, Rule::Gold, None, Some(p), false)
            } else if v.by.is_empty() {
                self.summary.no_judgments += 1;
                return None;
            } else if v.by.len() == 1 {
                // The vote itself; its posterior is what its voter's reliability gives.
                let label = v.by[0].label;
                let posterior = self.by_reliability().map(|(_, p, _)| p);
                (label, Rule::Single, posterior, None, false)
            } else {
                match self.opts.decision {
                    DecisionMethod::Reliability => match self.by_reliability() {
                        Some((w, p, tied)) => (w, Rule::Reliability, Some(p), None, tied),
                        // Every vote a tie.
                        None => (TIE, Rule::Reliability, None, None, false),
                    },
                    DecisionMethod::Majority => match majority(&v) {
                        Some((w, share)) => (w, Rule::Majority, Some(share), None, false),
                        None => (TIE, Rule::Majority, None, None, true),
                    },
                    DecisionMethod::DawidSkene => {
                        if let Some(w) = unanimous(&v) {
                            (w, Rule::Unanimous, None, None, false)
                        } else if pass != Pass::Contested {
                            // Collected as it is now, filters applied.
                            self.deferred.add_votes(id_hash(&j.ext_id), &v);
                            self.last_contested = true;
                            return None;
                        } else {
                            match self.posteriors.get(&j.ext_id).flatten() {
                                Some((w, p)) => (w, Rule::DawidSkene, Some(p), None, false),
                                None => {
                                    self.summary.below_threshold += 1;
                                    return None;
                                }
                            }
                        }
                    }
                }
            };
        if winner == TIE || level {
            self.summary.tie += 1;
            return None;
        }
        if rule.thresholded() && posterior.is_none_or(|p| !reaches(p, self.opts.threshold)) {
            self.summary.below_threshold += 1;
            return None;
        }
        if reference.is_none() && !v.by.iter().any(|x| x.label == winner) {
            // Only Dawid-Skene can get here: its confusion matrices may read every vote
            // as evidence for the other candidate.
            self.summary.against_votes += 1;
            return None;
        }
        let (chosen, rejected) = if winner == 0 {
            (&item.candidates[0], &item.candidates[1])
        } else {
            (&item.candidates[1], &item.candidates[0])
        };
        // Strength and criteria: the reviewer's or the gold answer's, else those of the
        // judgments that agree with the decided winner (median strength; majority per
        // criterion).
        let agreeing: Vec<&PrefVote<'_>> = match &reference {
            Some(p) => vec![p],
            None => {
                v.by.iter()
                    .filter(|x| x.label == winner)
                    .map(|x| &x.payload)
                    .collect()
            }
        };
        let mut strengths: Vec<i64> = agreeing.iter().filter_map(|p| p.strength).collect();
        strengths.sort_unstable();
        let strength = strengths
            .get(strengths.len().saturating_sub(1) / 2)
            .copied();
        let criteria = criteria_outcomes(&agreeing, &chosen.id, &rejected.id);
        let mut sources: Vec<&str> = j
            .judgments
            .iter()
            .filter_map(|r| r.external_source.as_deref())
            .collect();
        sources.sort_unstable();
        sources.dedup();
        let annotators = j.judgments.iter().filter(|r| r.annotator.is_some()).count();
        let rubric_version = j.judgments.iter().map(|r| r.rubric_version).max();
        let vote_weights =
            v.by.iter()
                .zip(&self.weights)
                .map(|(x, &(reliability, weight))| {
                    let (annotator, external_source) = match x.voter {
                        Voter::User(u) => (
                            self.reliabilities
                                .annotator(u)
                                .map(|a| a.pseudonym.as_str()),
                            None,
                        ),
                        Voter::External(s) => (None, Some(s)),
                    };
                    VoteWeight {
                        annotator,
                        choice: match item.candidates.get(x.label as usize) {
                            Some(c) => c.id.as_ref(),
                            None => "tie",
                        },
                        external_source,
                        reliability,
                        weight,
                    }
                })
                .collect();
        let decision = rule.as_str();
        let row = PairRow {
            chosen: [assistant(chosen)],
            criteria,
            item_id: &j.ext_id,
            margin: self.opts.reward.then(|| strength.map(|s| s as f64)),
            prompt: item
                .context
                .iter()
                .map(|t| Message {
                    content: t.content,
                    role: role_name(t.role),
                })
                .collect(),
            provenance: Provenance {
                annotator_judgments: annotators,
                chosen_id: &chosen.id,
                chosen_model: chosen.model.as_deref(),
                decision,
                external_sources: sources,
                method: self.opts.decision.as_str(),
                posterior,
                rejected_id: &rejected.id,
                rejected_model: rejected.model.as_deref(),
                rubric_version,
                vote_weights,
                votes: v.by.len(),
            },
            rejected: [assistant(rejected)],
            split: j.split.map(split_name),
            strength,
            tags: &item.tags,
        };
        let out = emit(&row);
        self.summary.exported += 1;
        match self.summary.by_decision.get_mut(decision) {
            Some(n) => *n += 1,
            None => {
                self.summary.by_decision.insert(decision.to_owned(), 1);
            }
        }
        Some(out)
    }
}

/// A candidate as a one-message assistant reply.
fn assistant<'a>(c: &CandidateView<'a>) -> Message<'a> {
    Message {
        content: c.content,
        role: "assistant",
    }
}

/// Majority per criterion over the agreeing payloads, in the chosen/rejected frame; a
/// criterion whose top count is shared (or whose verdict names neither) is a tie.
fn criteria_outcomes<'a>(agreeing: &[&PrefVote<'a>], chosen: &str, rejected: &str) -> Criteria<'a> {
    // Counts of chosen, rejected, tie by criterion key.
    let mut tallies: Vec<(Cow<'a, str>, [u32; 3])> = Vec::new();
    for p in agreeing {
        for (key, verdict) in &p.criteria {
            let side = match verdict.as_deref() {
                Some(x) if x == chosen => 0,
                Some(x) if x == rejected => 1,
                _ => 2,
            };
            match tallies.iter_mut().find(|(k, _)| k == key) {
                Some((_, t)) => t[side] += 1,
                None => {
                    let mut t = [0; 3];
                    t[side] = 1;
                    tallies.push((key.clone(), t));
                }
            }
        }
    }
    tallies.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Criteria(
        tallies
            .into_iter()
            .map(|(k, t)| {
                let best = t.iter().copied().max().unwrap_or(0);
                let leaders = t.iter().filter(|&&n| n == best).count();
                let side = match t.iter().position(|&n| n == best) {
                    Some(0) if leaders == 1 => "chosen",
                    Some(1) if leaders == 1 => "rejected",
                    _ => "tie",
                };
                (k, side)
            })
            .collect(),
    )
}

/// A pair row as a JSON value: the pair, or its SFT row.
pub fn row_value(row: &PairRow<'_>, sft: bool) -> Value {
    let v = if sft {
        serde_json::to_value(row.sft())
    } else {
        serde_json::to_value(row)
    };
    v.expect("a row of strings and numbers serializes")
}

impl PairWriter {
    /// Whether rows carry `margin`.
    pub fn reward(&self) -> bool {
        self.opts.reward
    }

    /// The options this writer decides with.
    pub fn options(&self) -> &PairOptions {
        &self.opts
    }
}

/// Where exported rows go (JSONL or Parquet).
pub trait RowSink: Send {
    /// Writes one row.
    fn write(&mut self, row: &Value) -> std::io::Result<()>;
    /// Writes one preference pair. Sinks of pairs write the typed row directly; the
    /// default goes through a `Value`.
    fn write_pair(&mut self, row: &PairRow<'_>) -> std::io::Result<()> {
        self.write(&row_value(row, false))
    }
    /// Flushes and closes the output.
    fn finish(&mut self) -> std::io::Result<()>;
}

/// One JSON object a line. Rows are written into a buffer of ours, handed to `out` a
/// mebibyte at a time: a `BufWriter` would copy every row a second time.
pub struct JsonlSink<W: std::io::Write + Send> {
    out: W,
    buf: Vec<u8>,
    /// The open-ended maps of the kind's rows, written as JSON text as in Parquet.
    json_text: Vec<crate::export_table::JsonText>,
}

const JSONL_BUFFER: usize = 1 << 20;

impl<W: std::io::Write + Send> JsonlSink<W> {
    /// Writes to `out`.
    pub fn new(out: W) -> Self {
        JsonlSink {
            out,
            buf: Vec::with_capacity(JSONL_BUFFER + (64 << 10)),
            json_text: Vec::new(),
        }
    }

    /// Writes `kind`'s rows to `out`, its open-ended maps as the JSON text its Parquet
    /// file holds (one schema a kind in both formats).
    pub fn for_kind(out: W, kind: crate::run::Kind) -> Self {
        let cols = match kind.rows() {
            Some(rk) => crate::export_table::columns(rk, &[]).unwrap_or_default(),
            None => Vec::new(),
        };
        JsonlSink {
            json_text: crate::export_table::json_text_paths(&cols),
            ..JsonlSink::new(out)
        }
    }

    fn spill(&mut self) -> std::io::Result<()> {
        if self.buf.len() >= JSONL_BUFFER {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }
}

impl<W: std::io::Write + Send> RowSink for JsonlSink<W> {
    fn write(&mut self, row: &Value) -> std::io::Result<()> {
        if self.json_text.is_empty() {
            serde_json::to_writer(&mut self.buf, row)?;
        } else {
            let row = crate::export_table::with_json_text(row, &self.json_text);
            serde_json::to_writer(&mut self.buf, &row)?;
        }
        self.buf.push(b'\n');
        self.spill()
    }

    fn write_pair(&mut self, row: &PairRow<'_>) -> std::io::Result<()> {
        row.write_jsonl(&mut self.buf);
        self.spill()
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        self.out.flush()
    }
}

/// One JSON array of rows (Label Studio reads its task imports so), written as rows
/// come: `[`, the rows separated by commas, `]`.
pub struct JsonArraySink<W: std::io::Write + Send> {
    out: std::io::BufWriter<W>,
    rows: u64,
}

impl<W: std::io::Write + Send> JsonArraySink<W> {
    /// Writes to `out`.
    pub fn new(out: W) -> Self {
        JsonArraySink {
            out: std::io::BufWriter::with_capacity(JSONL_BUFFER, out),
            rows: 0,
        }
    }
}

impl<W: std::io::Write + Send> RowSink for JsonArraySink<W> {
    fn write(&mut self, row: &Value) -> std::io::Result<()> {
        use std::io::Write;
        self.out
            .write_all(if self.rows == 0 { b"[\n" } else { b",\n" })?;
        serde_json::to_writer(&mut self.out, row)?;
        self.rows += 1;
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        use std::io::Write;
        self.out
            .write_all(if self.rows == 0 { b"[]\n" } else { b"\n]\n" })?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::{AnnotatorInfo, Annotators};
    use plumbline_domain::Level;
    use plumbline_store::{AnnotatorOutcomes, GoldScore, JudgmentRow};
    use proptest::prelude::*;
    use std::sync::Arc;

    fn body(id: &str) -> String {
        format!(
            r#"{{"id":"{id}","context":[{{"role":"system","content":"Be careful."}},{{"role":"user","content":"Close my account"}}],"candidates":[{{"id":"a","model":"m1","content":"A says"}},{{"id":"b","model":"m2","content":"B says"}}],"tags":["edge:bereavement"]}}"#
        )
    }

    fn vote_row(user: i64, winner: &str, strength: i64) -> JudgmentRow {
        JudgmentRow {
            annotator: Some(user),
            external_source: None,
            payload: format!(
                r#"{{"winner":"{winner}","strength":{strength},"criteria":{{"compliance":"{winner}","tone":"tie"}}}}"#
            ),
            rubric_version: 1,
            ..JudgmentRow::default()
        }
    }

    fn external_row(source: &str, winner: &str) -> JudgmentRow {
        JudgmentRow {
            annotator: None,
            external_source: Some(source.into()),
            payload: format!(r#"{{"winner":"{winner}","strength":1}}"#),
            rubric_version: 1,
            ..JudgmentRow::default()
        }
    }

    fn judged(id: &str, votes: &[(i64, &str, i64)], adjudication: Option<&str>) -> JudgedItem {
        JudgedItem {
            ext_id: id.into(),
            body: body(id),
            split: Some(Split::Train),
            adjudication: adjudication.map(str::to_owned),
            judgments: votes
                .iter()
                .map(|(user, winner, strength)| vote_row(*user, winner, *strength))
                .collect(),
            ..JudgedItem::default()
        }
    }

    /// Annotators 1–3 verified experts, 4–9 without verified expertise.
    fn team() -> Arc<Annotators> {
        Arc::new(
            (1..10)
                .map(|u| {
                    let info = AnnotatorInfo {
                        pseudonym: format!("ann-{u}"),
                        level: (u <= 3).then_some(Level::Expert),
                    };
                    (u, info)
                })
                .collect(),
        )
    }

    fn options(decision: DecisionMethod) -> PairOptions {
        PairOptions {
            decision,
            annotators: team(),
            ..PairOptions::default()
        }
    }

    fn reliabilities(opts: &PairOptions, gold: &[(i64, u64, u64)]) -> Reliabilities {
        let outcomes = AnnotatorOutcomes {
            gold: gold
                .iter()
                .map(|&(annotator, right, scored)| GoldScore {
                    annotator,
                    right,
                    scored,
                })
                .collect(),
            adjudicated: Vec::new(),
        };
        Reliabilities::new(&opts.annotators, &opts.pseudonym_key, &outcomes)
    }

    /// Both reads, as `run::export` drives them: rows in the order written.
    fn run_with(
        items: &[JudgedItem],
        opts: PairOptions,
        rel: Reliabilities,
    ) -> (Vec<Value>, PairSummary) {
        let sft = opts.sft;
        let mut w = PairWriter::new(opts, rel);
        let mut rows = Vec::new();
        for j in items {
            rows.extend(w.pair_in(j, Pass::Decided, None, |r| row_value(r, sft)));
        }
        if w.deferred() > 0 {
            w.fit_deferred().unwrap();
            for j in items {
                rows.extend(w.pair_in(j, Pass::Contested, None, |r| row_value(r, sft)));
            }
        }
        (rows, w.summary)
    }

    fn run(items: &[JudgedItem], opts: PairOptions) -> (Vec<Value>, PairSummary) {
        let rel = reliabilities(&opts, &[]);
        run_with(items, opts, rel)
    }

    fn by_id(rows: &[Value]) -> HashMap<&str, &Value> {
        rows.iter()
            .map(|r| (r["item_id"].as_str().unwrap(), r))
            .collect()
    }

    fn close(x: &Value, y: f64) -> bool {
        (x.as_f64().unwrap() - y).abs() < 1e-9
    }

    #[test]
    fn adjudication_then_gold_then_a_single_vote_then_the_method() {
        let mut gold = judged("gold", &[(1, "b", 3), (2, "b", 3)], None);
        gold.gold = Some(r#"{"winner":"a","strength":2,"criteria":{"compliance":"a"}}"#.into());
        gold.gold_rubric_version = Some(1);
        gold.is_gold = true;
        let items = vec![
            // Adjudicated for b although the annotators said a.
            judged(
                "adj",
                &[(1, "a", 1), (2, "a", 2)],
                Some(r#"{"winner":"b","strength":3,"criteria":{"compliance":"b"}}"#),
            ),
            gold,
            judged("single", &[(4, "b", 1)], None),
            judged("experts", &[(1, "b", 1), (2, "b", 3), (3, "b", 2)], None),
            judged("tie", &[(1, "tie", 0), (2, "tie", 0)], None),
            judged("level", &[(1, "a", 1), (2, "b", 1)], None),
            judged("crowd", &[(4, "a", 1), (5, "a", 1)], None),
            judged("none", &[], None),
        ];
        let (rows, summary) = run(&items, options(DecisionMethod::Reliability));
        let rows = by_id(&rows);
        let adj = rows["adj"];
        assert_eq!(
            adj["chosen"],
            json!([{"role": "assistant", "content": "B says"}])
        );
        assert_eq!(adj["strength"], 3);
        // An open-ended map: its JSON text, as in Parquet.
        let criteria: Value = serde_json::from_str(adj["criteria"].as_str().unwrap()).unwrap();
        assert_eq!(criteria, json!({"compliance": "chosen"}));
        assert_eq!(adj["provenance"]["decision"], "adjudicated");
        assert_eq!(adj["provenance"]["posterior"], Value::Null);
        assert_eq!(
            adj["prompt"][0],
            json!({"role": "system", "content": "Be careful."})
        );
        // A gold item exports its gold answer, against its votes, with the gold's strength.
        let g = rows["gold"];
        assert_eq!(g["chosen"][0]["content"], "A says");
        assert_eq!(g["provenance"]["decision"], "gold");
        assert_eq!(g["strength"], 2);
        assert_eq!(g["provenance"]["votes"], 2);
        // One vote: that vote, at its voter's reliability (the crowd prior, 0.65).
        let single = rows["single"];
        assert_eq!(single["chosen"][0]["content"], "B says");
        assert_eq!(single["provenance"]["decision"], "single");
        assert!(close(&single["provenance"]["posterior"], 0.65), "{single}");
        // Three experts (0.9 each): posterior 1 / (1 + (1/9)³).
        let experts = rows["experts"];
        assert_eq!(experts["provenance"]["decision"], "reliability");
        assert_eq!(experts["strength"], 2, "the median strength");
        assert!(close(&experts["provenance"]["posterior"], 729.0 / 730.0));
        // Two unverified voters agreeing (0.65 each) fall short of 0.9: unanimity of a crowd
        // is not proof.
        assert!(!rows.contains_key("crowd"));
        assert_eq!(summary.tie, 2, "all-tie votes, and two equal experts apart");
        assert_eq!(summary.below_threshold, 1);
        assert_eq!(summary.no_judgments, 1);
        assert_eq!(summary.exported, 4);
        assert_eq!(summary.method, Some(DecisionMethod::Reliability));
        for (d, n) in [
            ("adjudicated", 1),
            ("gold", 1),
            ("single", 1),
            ("reliability", 1),
        ] {
            assert_eq!(summary.by_decision[d], n, "{d}");
        }
        // A lower threshold lets the crowd's pair through; filters and reward as before.
        let lenient = PairOptions {
            threshold: 0.7,
            ..options(DecisionMethod::Reliability)
        };
        let (rows, _) = run(&items, lenient);
        let crowd = by_id(&rows)["crowd"];
        let p = 0.65f64 * 0.65 / (0.65 * 0.65 + 0.35 * 0.35);
        assert!(close(&crowd["provenance"]["posterior"], p));
        let eval_only = PairOptions {
            split: Some(Split::Eval),
            ..options(DecisionMethod::Reliability)
        };
        assert_eq!(run(&items, eval_only).1.filtered, 8);
        let tagged = PairOptions {
            tags: vec!["edge:other".into()],
            ..options(DecisionMethod::Reliability)
        };
        assert_eq!(run(&items, tagged).1.exported, 0);
        let reward = PairOptions {
            reward: true,
            ..options(DecisionMethod::Reliability)
        };
        assert_eq!(run(&items, reward).0[0]["margin"], 3.0);
        // Gold made under another rubric version than asked for is not used.
        let v2 = PairOptions {
            rubric_version: Some(2),
            ..options(DecisionMethod::Reliability)
        };
        let mut g2 = items[1].clone();
        g2.judgments.clear();
        assert_eq!(run(&[g2.clone()], v2).1.no_judgments, 1);
        assert_eq!(
            run(&[g2], options(DecisionMethod::Reliability))
                .1
                .by_decision["gold"],
            1,
            "a gold item needs no votes"
        );
    }

    #[test]
    fn a_single_vote_exports_as_itself_at_its_voters_reliability() {
        let opts = options(DecisionMethod::Reliability);
        // Annotator 4: 45 of 50 gold answers right; 5: 10 of 50 (well below chance).
        let rel = reliabilities(&opts, &[(4, 45, 50), (5, 10, 50)]);
        let r4 = rel.annotator(4).unwrap().reliability;
        assert!((r4 - (3.25 + 45.0) / 55.0).abs() < 1e-12);
        let items = [
            judged("good", &[(4, "a", 2)], None),
            judged("poor", &[(5, "b", 1)], None),
        ];
        for method in DecisionMethod::ALL {
            let (rows, s) = run_with(&items, options(method), rel.clone());
            assert_eq!(s.exported, 2, "{method}: {s:?}");
            let rows = by_id(&rows);
            assert_eq!(rows["good"]["chosen"][0]["content"], "A says", "{method}");
            assert_eq!(rows["good"]["provenance"]["decision"], "single");
            assert!(close(&rows["good"]["provenance"]["posterior"], r4));
            // A voter at or below chance carries no evidence: still their vote, at 1/2.
            assert_eq!(rows["poor"]["chosen"][0]["content"], "B says", "{method}");
            assert!(close(&rows["poor"]["provenance"]["posterior"], 0.5));
        }
    }

    #[test]
    fn one_expert_outweighs_three_crowd_voters_with_poor_gold_accuracy() {
        let opts = options(DecisionMethod::Reliability);
        // The expert right on 47 of 50 gold answers; the crowd on half of theirs.
        let gold = [(1, 47, 50), (4, 25, 50), (5, 26, 50), (6, 24, 50)];
        let rel = reliabilities(&opts, &gold);
        let items = [judged(
            "x",
            &[(4, "b", 3), (1, "a", 2), (5, "b", 3), (6, "b", 3)],
            None,
        )];
        let (rows, s) = run_with(&items, opts, rel.clone());
        assert_eq!(s.exported, 1, "{s:?}");
        let row = &rows[0];
        assert_eq!(row["chosen"][0]["content"], "A says");
        assert_eq!(row["provenance"]["decision"], "reliability");
        assert!(row["provenance"]["posterior"].as_f64().unwrap() >= 0.9);
        assert_eq!(row["strength"], 2, "the agreeing vote's strength");
        // Majority follows the crowd (and needs a lower threshold to say so).
        let majority = PairOptions {
            threshold: 0.7,
            ..options(DecisionMethod::Majority)
        };
        let (rows, _) = run_with(&items, majority, rel);
        assert_eq!(rows[0]["chosen"][0]["content"], "B says");
        assert_eq!(rows[0]["provenance"]["decision"], "majority");
        assert!(close(&rows[0]["provenance"]["posterior"], 0.75));
    }

    #[test]
    fn imported_prior_choices_export_as_themselves() {
        let mut items = Vec::new();
        for (i, (source, winner)) in [("hh-rlhf", "a"), ("csv", "b"), ("label-studio", "b")]
            .into_iter()
            .enumerate()
        {
            let mut j = judged(&format!("ext{i}"), &[], None);
            j.judgments.push(external_row(source, winner));
            items.push(j);
        }
        let with = PairOptions {
            include_external: true,
            ..options(DecisionMethod::Reliability)
        };
        let (rows, s) = run(&items, with);
        assert_eq!(s.exported, 3, "{s:?}");
        for (row, (source, chosen)) in rows.iter().zip([
            ("hh-rlhf", "A says"),
            ("csv", "B says"),
            ("label-studio", "B says"),
        ]) {
            assert_eq!(row["chosen"][0]["content"], chosen);
            let p = &row["provenance"];
            assert_eq!(p["decision"], "single");
            assert!(close(&p["posterior"], DEFAULT_EXTERNAL_RELIABILITY));
            assert_eq!(p["external_sources"], json!([source]));
            assert_eq!(p["vote_weights"][0]["external_source"], source);
            assert_eq!(p["vote_weights"][0]["annotator"], Value::Null);
            assert!(close(&p["vote_weights"][0]["reliability"], 0.7));
        }
        // Without `--include-external` they do not vote.
        let (rows, s) = run(&items, options(DecisionMethod::Reliability));
        assert!(rows.is_empty());
        assert_eq!(s.no_judgments, 3);
        // An annotator who disagrees with an imported choice: neither decides alone.
        let mut both = judged("both", &[(4, "b", 1)], None);
        both.judgments.push(external_row("hh-rlhf", "a"));
        let with = PairOptions {
            include_external: true,
            ..options(DecisionMethod::Reliability)
        };
        assert_eq!(run(&[both], with).1.below_threshold, 1);
    }

    use plumbline_quality::reliability::DEFAULT_EXTERNAL_RELIABILITY;

    #[test]
    fn majority_and_dawid_skene_stay_selectable() {
        let mut items = vec![judged("unan", &[(4, "b", 1), (5, "b", 3)], None)];
        // Reliable annotators 4–6 agree on many items; on `split` two of them outvote one.
        for i in 0..30 {
            let w = if i % 2 == 0 { "a" } else { "b" };
            let other = if w == "a" { "b" } else { "a" };
            items.push(judged(
                &format!("bulk{i}"),
                &[(4, w, 2), (5, w, 2), (6, other, 2)],
                None,
            ));
        }
        items.push(judged(
            "split",
            &[(4, "a", 2), (5, "a", 1), (6, "b", 3)],
            None,
        ));
        let (rows, s) = run(&items, options(DecisionMethod::DawidSkene));
        let rows = by_id(&rows);
        assert_eq!(rows["unan"]["provenance"]["decision"], "unanimous");
        assert_eq!(rows["unan"]["provenance"]["method"], "dawid-skene");
        let split = rows["split"];
        assert_eq!(split["provenance"]["decision"], "dawid_skene");
        assert!(split["provenance"]["posterior"].as_f64().unwrap() >= 0.9);
        assert_eq!(split["chosen"][0]["content"], "A says");
        assert_eq!(
            split["provenance"]["vote_weights"][0]["weight"],
            Value::Null
        );
        assert_eq!(s.method, Some(DecisionMethod::DawidSkene));
        // Majority: two of three is 0.67, below 0.9; unanimity is 1.
        let (rows, s) = run(&items, options(DecisionMethod::Majority));
        assert_eq!(s.below_threshold, 31, "{s:?}");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["provenance"]["decision"], "majority");
        assert_eq!(rows[0]["provenance"]["vote_weights"][1]["weight"], 1.0);
        // A 1–1 split is level under majority.
        let level = [judged("level", &[(4, "a", 1), (5, "b", 1)], None)];
        assert_eq!(run(&level, options(DecisionMethod::Majority)).1.tie, 1);
    }

    #[test]
    fn dawid_skene_never_exports_a_winner_nobody_voted_for() {
        // Annotator 6 always contradicts 4 and 5, so the model reads 6's vote as evidence
        // for the other candidate; on `flip` only 6 names a candidate.
        let mut items = Vec::new();
        for i in 0..40 {
            let w = if i % 2 == 0 { "a" } else { "b" };
            let other = if w == "a" { "b" } else { "a" };
            items.push(judged(
                &format!("bulk{i}"),
                &[(4, w, 2), (5, w, 2), (6, other, 2)],
                None,
            ));
        }
        items.push(judged("flip", &[(6, "a", 2), (7, "tie", 0)], None));
        let (rows, s) = run(&items, options(DecisionMethod::DawidSkene));
        assert!(!by_id(&rows).contains_key("flip"), "{s:?}");
        assert_eq!(s.against_votes, 1, "{s:?}");
    }

    #[test]
    fn an_imported_choice_without_strength_exports_null_strength_and_margin() {
        let mut j = judged("x", &[], None);
        let mut ext = external_row("hh-rlhf", "a");
        ext.payload = r#"{"criteria":{},"strength":null,"winner":"a"}"#.into();
        j.judgments.push(ext);
        let opts = PairOptions {
            include_external: true,
            reward: true,
            ..options(DecisionMethod::Reliability)
        };
        let (rows, _) = run(std::slice::from_ref(&j), opts);
        assert_eq!(rows[0]["strength"], Value::Null);
        // Present, and null: unknown, not 0.
        assert_eq!(rows[0].get("margin"), Some(&Value::Null));
    }

    #[test]
    fn provenance_names_the_method_the_posterior_and_each_votes_weight() {
        let mut j = judged("p", &[(1, "a", 2), (4, "b", 1), (2, "tie", 0)], None);
        j.judgments.push(external_row("hh-rlhf", "a"));
        // A resubmitted vote counts once, the latest.
        j.judgments.push(vote_row(1, "a", 3));
        let opts = PairOptions {
            include_external: true,
            ..options(DecisionMethod::Reliability)
        };
        let rel = reliabilities(&opts, &[]);
        let (rows, _) = run_with(std::slice::from_ref(&j), opts, rel);
        let p = &rows[0]["provenance"];
        assert_eq!(p["method"], "reliability");
        assert_eq!(p["decision"], "reliability");
        assert_eq!(p["votes"], 4);
        let expert = 9f64.ln();
        let crowd = (0.65f64 / 0.35).ln();
        let external = (0.7f64 / 0.3).ln();
        let weights = p["vote_weights"].as_array().unwrap();
        let expected = [
            (json!("ann-1"), "a", Value::Null, 0.9, expert),
            (json!("ann-4"), "b", Value::Null, 0.65, crowd),
            (json!("ann-2"), "tie", Value::Null, 0.9, 0.0),
            (Value::Null, "a", json!("hh-rlhf"), 0.7, external),
        ];
        for (w, (annotator, choice, source, r, weight)) in weights.iter().zip(expected) {
            assert_eq!(w["annotator"], annotator, "{w}");
            assert_eq!(w["choice"], choice);
            assert_eq!(w["external_source"], source);
            assert!(close(&w["reliability"], r), "{w}");
            assert!(close(&w["weight"], weight), "{w}");
        }
        let logit = expert - crowd + external;
        let posterior = 1.0 / (1.0 + (-logit).exp());
        assert!(close(&p["posterior"], posterior));
        // The SFT row carries the same decision.
        let sft = PairOptions {
            include_external: true,
            sft: true,
            ..options(DecisionMethod::Reliability)
        };
        let rel = reliabilities(&sft, &[]);
        let (rows, _) = run_with(&[j], sft, rel);
        let p = &rows[0]["provenance"];
        assert_eq!(p["source"], "preference winner");
        assert_eq!(p["method"], "reliability");
        assert!(close(&p["posterior"], posterior));
        assert_eq!(p["vote_weights"].as_array().unwrap().len(), 4);
    }

    fn any_item() -> impl Strategy<Value = Vec<(i64, u32)>> {
        proptest::collection::vec((1i64..8, 0u32..3), 0..6)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Without adjudication or gold, a pair is never exported against every one of its
        /// votes, whatever the method, the reliabilities or the threshold.
        #[test]
        fn no_pair_goes_against_every_vote(
            items in proptest::collection::vec(any_item(), 1..25),
            gold in proptest::collection::vec((1i64..8, 0u64..40, 0u64..40), 0..8),
            threshold in 0.0f64..1.0,
            external in proptest::bool::ANY,
        ) {
            let judged_items: Vec<JudgedItem> = items
                .iter()
                .enumerate()
                .map(|(i, votes)| {
                    let mut j = judged(&format!("i{i}"), &[], None);
                    for &(user, label) in votes {
                        let w = ["a", "b", "tie"][label as usize];
                        // Voter 7 stands for an imported source.
                        j.judgments.push(if user == 7 {
                            external_row("hh-rlhf", w)
                        } else {
                            vote_row(user, w, 1)
                        });
                    }
                    j
                })
                .collect();
            let gold: Vec<(i64, u64, u64)> =
                gold.into_iter().map(|(u, a, b)| (u, a.min(b), b)).collect();
            for method in DecisionMethod::ALL {
                let opts = PairOptions {
                    threshold,
                    include_external: external,
                    ..options(method)
                };
                let rel = reliabilities(&opts, &gold);
                let (rows, s) = run_with(&judged_items, opts, rel);
                prop_assert_eq!(
                    s.exported + s.tie + s.below_threshold + s.against_votes + s.no_judgments,
                    s.items,
                    "every item is counted once"
                );
                for row in &rows {
                    let chosen = row["provenance"]["chosen_id"].as_str().unwrap();
                    let named = row["provenance"]["vote_weights"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|v| v["choice"] == chosen);
                    prop_assert!(named, "{}: {}", method, row);
                }
            }
        }
    }
}

/// SFT rows of a demonstration item: the adjudicated response, else every annotator's
/// demonstration (external ones when `include_external`), each after the context.
///
/// The rubric-version and expertise filters apply; agreement is undefined for
/// demonstrations, so a `--min-agreement` leaves them all out.
pub fn demonstration_rows(j: &JudgedItem, opts: &PairOptions) -> Vec<Value> {
    if opts.min_agreement.is_some() {
        return Vec::new();
    }
    let filtered;
    let j = if crate::kinds::filters_judgments(opts) {
        filtered = crate::kinds::filter_judgments(j, opts, None);
        &filtered
    } else {
        j
    };
    let Some(item) = ItemView::parse(&j.body) else {
        return Vec::new();
    };
    if !wanted(&item, j, opts) {
        return Vec::new();
    }
    let response = |payload: &str| -> Option<String> {
        let v: Value = serde_json::from_str(payload).ok()?;
        Some(v.get("response")?.as_str()?.to_owned())
    };
    let mut picked: Vec<(String, &'static str)> = Vec::new();
    if let Some(r) = j.adjudication.as_deref().and_then(response) {
        picked.push((r, "adjudicated demonstration"));
    } else {
        for row in &j.judgments {
            if row.annotator.is_none() && !opts.include_external {
                continue;
            }
            if let Some(r) = response(&row.payload) {
                picked.push((r, "demonstration"));
            }
        }
    }
    let context: Vec<Value> = item
        .context
        .iter()
        .map(|t| json!({"role": role_name(t.role), "content": t.content.text()}))
        .collect();
    picked
        .into_iter()
        .map(|(r, source)| {
            let mut messages = context.clone();
            messages.push(json!({"role": "assistant", "content": r}));
            json!({
                "messages": messages,
                "item_id": j.ext_id,
                "split": j.split.map(split_name),
                "tags": item.tags,
                "provenance": {"source": source},
            })
        })
        .collect()
}

#[cfg(test)]
mod sft_tests {
    use super::*;
    use plumbline_store::JudgmentRow;

    #[test]
    fn demonstrations_follow_the_context() {
        let j = JudgedItem {
            ext_id: "d1".into(),
            body:
                r#"{"id":"d1","context":[{"role":"user","content":"Help"}],"task":"demonstration"}"#
                    .into(),
            split: None,
            adjudication: None,
            judgments: vec![JudgmentRow {
                annotator: Some(4),
                external_source: None,
                payload: r#"{"response":"Here is how.","based_on":null}"#.into(),
                rubric_version: 1,
                ..JudgmentRow::default()
            }],
            ..JudgedItem::default()
        };
        let rows = demonstration_rows(&j, &PairOptions::default());
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows[0]["messages"],
            json!([{"role": "user", "content": "Help"}, {"role": "assistant", "content": "Here is how."}])
        );
        let mut adj = j.clone();
        adj.adjudication = Some(r#"{"response":"Better."}"#.into());
        let rows = demonstration_rows(&adj, &PairOptions::default());
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["messages"][1]["content"], "Better.");
        assert_eq!(rows[0]["provenance"]["source"], "adjudicated demonstration");
    }
}
