//! Preference pairs for training code: TRL's conversational preference format (`prompt`
//! as a list of messages, `chosen` and `rejected` as one-message assistant lists) plus
//! `strength`, per-criterion outcomes, `item_id` and provenance.
//!
//! Which judgments make a pair is explicit, in this order:
//!
//! 1. **adjudicated** — a reviewer's latest decision on the item;
//! 2. **unanimous** — judgments by two or more annotators, all naming the same winner;
//! 3. **dawid_skene** — otherwise the item's Dawid-Skene posterior (fitted with
//!    `plumbline-quality` over every contested item of the export, categories "first
//!    candidate", "second candidate", "tie") for its most likely winner, if it is at
//!    least `threshold` (default 0.9).
//!
//! Items decided as a tie, below the threshold, or without judgments are left out and
//! counted in the summary. External prior judgments (imported from HH-RLHF, Label
//! Studio, …) count as votes only when asked, each source as one annotator.

use crate::pair_row::{
    CandidateView, Criteria, ItemLayout, ItemView, Message, PairRow, PrefVote, Provenance,
    role_name,
};
use plumbline_domain::Split;
use plumbline_quality::aggregate::{DawidSkeneConfig, dawid_skene_winners};
use plumbline_quality::{Judgment, LabelSet};
use plumbline_store::JudgedItem;
use plumbline_store::export::split_name;
use serde::Serialize;
use serde_json::{Value, json};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasherDefault;

/// Default Dawid-Skene posterior an item needs to make a pair.
pub const DEFAULT_THRESHOLD: f64 = 0.9;

/// Which items and judgments to export.
#[derive(Debug, Clone)]
pub struct PairOptions {
    /// Least Dawid-Skene posterior for an item decided neither by adjudication nor unanimously.
    pub threshold: f64,
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
    /// The project's secret salt, for pseudonyms of annotators not in `annotators`.
    pub salt: String,
}

impl Default for PairOptions {
    fn default() -> Self {
        PairOptions {
            threshold: DEFAULT_THRESHOLD,
            include_external: false,
            split: None,
            tags: Vec::new(),
            reward: false,
            sft: false,
            rubric_version: None,
            min_agreement: None,
            min_expertise: None,
            annotators: Default::default(),
            salt: String::new(),
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
    /// Left out: decided as a tie.
    pub tie: u64,
    /// Left out: Dawid-Skene posterior below the threshold.
    pub below_threshold: u64,
    /// Left out: item agreement below `--min-agreement` (or undefined).
    pub low_agreement: u64,
    /// Judgments left out: made under another rubric version than `--rubric-version`.
    pub judgments_other_rubric: u64,
    /// Judgments left out: annotator below `--min-expertise` (or external).
    pub judgments_below_expertise: u64,
    /// The threshold used.
    pub threshold: f64,
}

/// Who cast a vote: an annotator, or an external source (one voter per source).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Voter<'a> {
    User(i64),
    External(&'a str),
}

/// One counted vote: who, the candidate index (0, 1) or 2 for a tie, and the payload.
struct Vote<'a> {
    voter: Voter<'a>,
    label: u32,
    payload: PrefVote<'a>,
}

/// One item's counted votes, oldest first.
struct Votes<'a> {
    by: Vec<Vote<'a>>,
}

fn candidate_index(item: &ItemView<'_>, winner: &str) -> Option<u32> {
    if winner == "tie" {
        return Some(2);
    }
    item.candidates
        .iter()
        .position(|c| c.id == winner)
        .map(|p| p as u32)
}

fn votes<'a>(j: &'a JudgedItem, item: &ItemView<'_>, include_external: bool) -> Votes<'a> {
    let mut by = Vec::with_capacity(j.judgments.len());
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
        by.push(Vote {
            voter,
            label,
            payload,
        });
    }
    Votes { by }
}

fn wanted(item: &ItemView<'_>, j: &JudgedItem, opts: &PairOptions) -> bool {
    if opts.split.is_some() && j.split != opts.split {
        return false;
    }
    opts.tags.iter().all(|t| item.tags.contains(t))
}

/// Pass one: the Dawid-Skene posteriors of contested items (neither adjudicated nor
/// unanimous), by item id. Call with every item, then [`PairWriter::new`].
#[derive(Default)]
pub struct Contested {
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
pub struct Posteriors(HashMap<u64, Option<(u32, f32)>, BuildHasherDefault<IdHasher>>);

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
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Looks at one item.
    pub fn add(&mut self, j: &JudgedItem, opts: &PairOptions) {
        let filtered;
        let j = if crate::kinds::filters_judgments(opts) {
            filtered = crate::kinds::filter_judgments(j, opts, None);
            &filtered
        } else {
            j
        };
        let Some(item) = ItemView::parse(&j.body) else {
            return;
        };
        if item.candidates.len() != 2 || !wanted(&item, j, opts) || adjudicated(j, &item).is_some()
        {
            return;
        }
        let v = votes(j, &item, opts.include_external);
        if v.by.is_empty() || unanimous(&v).is_some() || !agrees(&v, opts) {
            return;
        }
        self.add_votes(id_hash(&j.ext_id), &v);
    }

    /// Adds a contested item's votes: one label per voter, the latest.
    fn add_votes(&mut self, id: u64, v: &Votes<'_>) {
        let idx = self.items.len() as u32;
        self.items.push(id);
        let start = self.labels.len();
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
            let label = Judgment {
                item: idx,
                annotator,
                label: vote.label,
            };
            match self.labels[start..]
                .iter_mut()
                .find(|l| l.annotator == annotator)
            {
                Some(l) => *l = label,
                None => self.labels.push(label),
            }
        }
    }

    /// How many items are contested.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether no item is contested.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Fits the model: the most likely winner and its posterior, by item id. The labels
    /// are dropped once grouped, and the fit keeps only each item's winner, so memory
    /// holds about 80 bytes a contested item (three votes) at the peak.
    pub fn fit(self) -> Result<Posteriors, String> {
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

/// Whether the votes meet `--min-agreement` (the modal share of the latest vote of
/// each voter).
fn agrees(v: &Votes<'_>, opts: &PairOptions) -> bool {
    let Some(min) = opts.min_agreement else {
        return true;
    };
    let mut latest: HashMap<Voter<'_>, u32> = HashMap::new();
    for vote in &v.by {
        latest.insert(vote.voter, vote.label);
    }
    crate::kinds::modal_share(latest.into_values()).is_some_and(|a| a >= min)
}

/// The winner when two or more distinct voters all name it.
fn unanimous(v: &Votes<'_>) -> Option<u32> {
    let first = v.by.first()?;
    let all_same = v.by.iter().all(|x| x.label == first.label);
    let two_voters = v.by.iter().any(|x| x.voter != first.voter);
    (all_same && two_voters).then_some(first.label)
}

/// Which items a call of [`PairWriter::pair_in`] decides.
///
/// A one-pass export writes every adjudicated or unanimous pair at once and only
/// collects the contested items ([`Pass::Decided`]); when there were any, Dawid-Skene is
/// fitted over them and a second read writes just those ([`Pass::Contested`]). When no
/// item is contested — the usual case — the items are read once and no model is fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Decide every item with the posteriors given to [`PairWriter::new`].
    All,
    /// Decide adjudicated and unanimous items; collect contested ones for later.
    Decided,
    /// Decide only the items collected as contested, with their fitted posteriors.
    Contested,
}

/// Pass two: decides each item and renders its pair.
pub struct PairWriter {
    opts: PairOptions,
    posteriors: Posteriors,
    /// Contested items collected in [`Pass::Decided`].
    deferred: Contested,
    /// Whether the last item given was deferred ([`Pass::Decided`]) or decided in
    /// [`Pass::Contested`].
    last_contested: bool,
    /// What was done so far.
    pub summary: PairSummary,
}

impl PairWriter {
    /// A writer using the posteriors of pass one.
    pub fn new(opts: PairOptions, posteriors: Posteriors) -> Self {
        let summary = PairSummary {
            threshold: opts.threshold,
            ..PairSummary::default()
        };
        PairWriter {
            opts,
            posteriors,
            deferred: Contested::new(),
            last_contested: false,
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

    /// The pair of one item as a JSON value (the SFT row for SFT exports), or `None`
    /// (counted) when it makes none.
    pub fn pair(&mut self, j: &JudgedItem) -> Option<Value> {
        let sft = self.opts.sft;
        self.pair_in(j, Pass::All, None, |row| row_value(row, sft))
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
        let (winner, decision, posterior, adjudication) =
            if let Some((w, p)) = adjudicated(j, &item) {
                (w, "adjudicated", None, Some(p))
            } else if let Some(w) = unanimous(&v) {
                (w, "unanimous", None, None)
            } else if v.by.is_empty() {
                self.summary.no_judgments += 1;
                return None;
            } else if pass == Pass::Decided {
                // Collected as it is now, filters applied: the same votes as `add` sees.
                self.deferred.add_votes(id_hash(&j.ext_id), &v);
                self.last_contested = true;
                return None;
            } else {
                match self.posteriors.get(&j.ext_id).flatten() {
                    Some((w, p)) if p >= self.opts.threshold => (w, "dawid_skene", Some(p), None),
                    _ => {
                        self.summary.below_threshold += 1;
                        return None;
                    }
                }
            };
        if winner == 2 {
            self.summary.tie += 1;
            return None;
        }
        let (chosen, rejected) = if winner == 0 {
            (&item.candidates[0], &item.candidates[1])
        } else {
            (&item.candidates[1], &item.candidates[0])
        };
        // Strength and criteria: the adjudication's, else those of the judgments that
        // agree with the decided winner (median strength; majority per criterion).
        let agreeing: Vec<&PrefVote<'_>> = match &adjudication {
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
        let row = PairRow {
            chosen: [assistant(chosen)],
            criteria,
            item_id: &j.ext_id,
            margin: self.opts.reward.then(|| strength.unwrap_or(0) as f64),
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
                posterior,
                rejected_id: &rejected.id,
                rejected_model: rejected.model.as_deref(),
                rubric_version,
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
}

const JSONL_BUFFER: usize = 1 << 20;

impl<W: std::io::Write + Send> JsonlSink<W> {
    /// Writes to `out`.
    pub fn new(out: W) -> Self {
        JsonlSink {
            out,
            buf: Vec::with_capacity(JSONL_BUFFER + (64 << 10)),
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
        serde_json::to_writer(&mut self.buf, row)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use plumbline_store::JudgmentRow;

    fn body(id: &str) -> String {
        format!(
            r#"{{"id":"{id}","context":[{{"role":"system","content":"Be careful."}},{{"role":"user","content":"Close my account"}}],"candidates":[{{"id":"a","model":"m1","content":"A says"}},{{"id":"b","model":"m2","content":"B says"}}],"tags":["edge:bereavement"]}}"#
        )
    }

    fn judged(id: &str, votes: &[(i64, &str, i64)], adjudication: Option<&str>) -> JudgedItem {
        JudgedItem {
            ext_id: id.into(),
            body: body(id),
            split: Some(Split::Train),
            adjudication: adjudication.map(str::to_owned),
            judgments: votes
                .iter()
                .map(|(user, winner, strength)| JudgmentRow {
                    annotator: Some(*user),
                    external_source: None,
                    payload: format!(
                        r#"{{"winner":"{winner}","strength":{strength},"criteria":{{"compliance":"{winner}","tone":"tie"}}}}"#
                    ),
                    rubric_version: 1,
                    ..JudgmentRow::default()
                })
                .collect(),
            ..JudgedItem::default()
        }
    }

    fn run(items: &[JudgedItem], opts: PairOptions) -> (Vec<Value>, PairSummary) {
        let mut c = Contested::new();
        for j in items {
            c.add(j, &opts);
        }
        let mut w = PairWriter::new(opts, c.fit().unwrap());
        let rows = items.iter().filter_map(|j| w.pair(j)).collect();
        (rows, w.summary)
    }

    #[test]
    fn pairs_follow_adjudication_then_unanimity_then_dawid_skene() {
        let mut items = vec![
            // Adjudicated for b although the annotators said a.
            judged(
                "adj",
                &[(1, "a", 1), (2, "a", 2)],
                Some(r#"{"winner":"b","strength":3,"criteria":{"compliance":"b"}}"#),
            ),
            judged("unan", &[(1, "b", 1), (2, "b", 3), (3, "b", 2)], None),
            judged("tie", &[(1, "tie", 0), (2, "tie", 0)], None),
            judged("none", &[], None),
        ];
        // Reliable annotators 1–3 agree on many items; on `split` two of them outvote one.
        for i in 0..30 {
            let w = if i % 2 == 0 { "a" } else { "b" };
            items.push(judged(
                &format!("bulk{i}"),
                &[(1, w, 2), (2, w, 2), (3, w, 2)],
                None,
            ));
        }
        items.push(judged(
            "split",
            &[(1, "a", 2), (2, "a", 1), (3, "b", 3)],
            None,
        ));
        let (rows, summary) = run(&items, PairOptions::default());
        let by_id: HashMap<&str, &Value> = rows
            .iter()
            .map(|r| (r["item_id"].as_str().unwrap(), r))
            .collect();
        let adj = by_id["adj"];
        assert_eq!(
            adj["chosen"],
            json!([{"role": "assistant", "content": "B says"}])
        );
        assert_eq!(adj["strength"], 3);
        assert_eq!(adj["criteria"]["compliance"], "chosen");
        assert_eq!(adj["provenance"]["decision"], "adjudicated");
        assert_eq!(
            adj["prompt"][0],
            json!({"role": "system", "content": "Be careful."})
        );
        let unan = by_id["unan"];
        assert_eq!(unan["strength"], 2, "the median strength");
        assert_eq!(unan["provenance"]["decision"], "unanimous");
        let split = by_id["split"];
        assert_eq!(split["provenance"]["decision"], "dawid_skene");
        assert!(split["provenance"]["posterior"].as_f64().unwrap() >= 0.9);
        assert_eq!(split["chosen"][0]["content"], "A says");
        assert_eq!(summary.tie, 1);
        assert_eq!(summary.no_judgments, 1);
        assert_eq!(summary.exported, 33);
        // A threshold of 1 leaves the contested item out, counted.
        let strict = PairOptions {
            threshold: 1.0,
            ..PairOptions::default()
        };
        let (_, s) = run(&items, strict);
        assert_eq!(s.below_threshold, 1);
        // Filters.
        let eval_only = PairOptions {
            split: Some(Split::Eval),
            ..PairOptions::default()
        };
        assert_eq!(run(&items, eval_only).1.filtered, 35);
        let tagged = PairOptions {
            tags: vec!["edge:other".into()],
            ..PairOptions::default()
        };
        assert_eq!(run(&items, tagged).1.exported, 0);
        let reward = PairOptions {
            reward: true,
            ..PairOptions::default()
        };
        assert_eq!(run(&items, reward).0[0]["margin"], 3.0);
    }

    #[test]
    fn external_judgments_count_only_when_asked() {
        let mut j = judged("ext", &[], None);
        j.judgments.push(JudgmentRow {
            annotator: None,
            external_source: Some("hh-rlhf".into()),
            payload: r#"{"winner":"b","strength":0}"#.into(),
            rubric_version: 1,
            ..JudgmentRow::default()
        });
        let (rows, s) = run(std::slice::from_ref(&j), PairOptions::default());
        assert!(rows.is_empty());
        assert_eq!(s.no_judgments, 1);
        let with = PairOptions {
            include_external: true,
            ..PairOptions::default()
        };
        let (rows, _) = run(&[j], with);
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows[0]["provenance"]["external_sources"],
            json!(["hh-rlhf"])
        );
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
