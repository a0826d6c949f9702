//! The export kinds beside preference pairs — `ranking`, `rating` (HelpSteer-like
//! per-criterion scores), `red_team` and `full` (every judgment) — and the filters every
//! kind shares: rubric version, minimum expertise and minimum agreement.
//!
//! Rows are built from one [`JudgedItem`] at a time, so an export streams in constant
//! memory. Which judgments decide a row is documented per kind in `docs/EXPORTS.md`.

use crate::export::{PairOptions, PairSummary};
use plumbline_domain::{Item, Level, Role, Split, TaskKind};
use plumbline_store::{JudgedItem, JudgmentRow, PseudonymKey};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

/// What an export knows of one annotator: a pseudonym and the verified level in the
/// project's domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnotatorInfo {
    /// Stable within the project, not reversible without the database (see [`pseudonym`]).
    pub pseudonym: String,
    /// Highest verified level in the project's domains; `None` when unverified.
    pub level: Option<Level>,
}

/// Annotators by user id.
pub type Annotators = HashMap<i64, AnnotatorInfo>;

/// The pseudonymous id of `user` in a project: SHA-256 of a fixed label, the project's
/// pseudonym key and the user id. Stable across exports of the project, different across
/// projects, and not reversible without the key, which only the database holds and no
/// API sends.
pub fn pseudonym(key: &PseudonymKey, user: i64) -> String {
    let mut h = Sha256::new();
    h.update(b"plumbline annotator pseudonym\0");
    h.update(key.as_bytes());
    h.update(b"\0");
    h.update(user.to_string().as_bytes());
    let d = h.finalize();
    let mut out = String::from("ann-");
    for b in &d[..8] {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// The export kinds that are not preference pairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// One row an item: the consensus order of its candidates.
    Ranking,
    /// One row a candidate: its score on each criterion.
    Rating,
    /// One row a red-team judgment.
    RedTeam,
    /// One row a judgment of any kind.
    Full,
}

impl RowKind {
    /// The task kinds whose items this export reads.
    pub fn tasks(self) -> &'static [TaskKind] {
        match self {
            RowKind::Ranking => &[TaskKind::Ranking],
            RowKind::Rating => &[TaskKind::Rating],
            RowKind::RedTeam => &[TaskKind::RedTeam],
            RowKind::Full => &TaskKind::ALL,
        }
    }
}

/// Whether the options drop judgments (and so need a filtered copy of an item).
pub fn filters_judgments(opts: &PairOptions) -> bool {
    opts.rubric_version.is_some() || opts.min_expertise.is_some()
}

/// A copy of `j` with only the judgments the rubric-version and expertise filters admit;
/// left-out judgments are counted in `summary` when given. The adjudication and the gold
/// answer stay only if made under the wanted rubric version (neither is subject to the
/// annotator expertise filter). External judgments have no verified expertise, so a
/// minimum expertise leaves them out.
pub fn filter_judgments(
    j: &JudgedItem,
    opts: &PairOptions,
    mut summary: Option<&mut PairSummary>,
) -> JudgedItem {
    let mut out = JudgedItem {
        ext_id: j.ext_id.clone(),
        body: j.body.clone(),
        split: j.split,
        adjudication: j.adjudication.clone(),
        adjudication_rubric_version: j.adjudication_rubric_version,
        is_gold: j.is_gold,
        gold: j.gold.clone(),
        gold_rubric_version: j.gold_rubric_version,
        judgments: Vec::with_capacity(j.judgments.len()),
    };
    if let Some(v) = opts.rubric_version {
        if j.adjudication_rubric_version != Some(v) {
            out.adjudication = None;
            out.adjudication_rubric_version = None;
        }
        if j.gold_rubric_version != Some(v) {
            out.gold = None;
            out.gold_rubric_version = None;
        }
    }
    for row in &j.judgments {
        if opts.rubric_version.is_some_and(|v| row.rubric_version != v) {
            if let Some(s) = summary.as_deref_mut() {
                s.judgments_other_rubric += 1;
            }
            continue;
        }
        if let Some(min) = opts.min_expertise {
            let level = row
                .annotator
                .and_then(|a| opts.annotators.get(&a))
                .and_then(|a| a.level);
            if level.is_none_or(|l| l < min) {
                if let Some(s) = summary.as_deref_mut() {
                    s.judgments_below_expertise += 1;
                }
                continue;
            }
        }
        out.judgments.push(row.clone());
    }
    out
}

/// Share of votes that name the most common value; `None` with fewer than two votes
/// (agreement is undefined for one voice).
pub fn modal_share<K: std::hash::Hash + Eq>(values: impl IntoIterator<Item = K>) -> Option<f64> {
    let mut counts: HashMap<K, u32> = HashMap::new();
    let mut n = 0u32;
    for v in values {
        *counts.entry(v).or_default() += 1;
        n += 1;
    }
    if n < 2 {
        return None;
    }
    let top = counts.values().copied().max().unwrap_or(0);
    Some(f64::from(top) / f64::from(n))
}

/// One counted vote: the voter's label and the parsed payload.
pub(crate) struct Vote<'a> {
    pub voter: String,
    pub row: &'a JudgmentRow,
    pub payload: Value,
}

/// The latest judgment of each counted voter, in first-vote order: annotators always,
/// external sources (each one voter) when `include_external`.
pub(crate) fn latest_votes<'a>(j: &'a JudgedItem, include_external: bool) -> Vec<Vote<'a>> {
    let mut out: Vec<Vote<'a>> = Vec::new();
    for row in &j.judgments {
        let voter = match (&row.annotator, &row.external_source) {
            (Some(u), _) => format!("user:{u}"),
            (None, Some(src)) if include_external => format!("external:{src}"),
            _ => continue,
        };
        let Ok(payload) = serde_json::from_str::<Value>(&row.payload) else {
            continue;
        };
        match out.iter_mut().find(|v| v.voter == voter) {
            Some(v) => {
                v.row = row;
                v.payload = payload;
            }
            None => out.push(Vote {
                voter,
                row,
                payload,
            }),
        }
    }
    out
}

/// Agreement of an item's votes, by task kind: the modal share of the winner
/// (preference), of the whole order (ranking), of the outcome (red team); for ratings
/// the mean over (candidate, criterion) cells rated twice or more of each cell's modal
/// share. `None` when undefined (fewer than two votes; demonstrations).
pub(crate) fn agreement(task: TaskKind, votes: &[Vote<'_>]) -> Option<f64> {
    let key = |field: &str| -> Vec<String> {
        votes
            .iter()
            .filter_map(|v| v.payload.get(field).map(Value::to_string))
            .collect()
    };
    match task {
        TaskKind::Preference => modal_share(key("winner")),
        TaskKind::Ranking => modal_share(key("order")),
        TaskKind::RedTeam => modal_share(key("outcome")),
        TaskKind::Demonstration => None,
        TaskKind::Rating => {
            let mut cells: BTreeMap<(String, String), Vec<i64>> = BTreeMap::new();
            for v in votes {
                if let Some(Value::Object(scores)) = v.payload.get("scores") {
                    for (cand, row) in scores {
                        if let Value::Object(row) = row {
                            for (crit, s) in row {
                                if let Some(s) = s.as_i64() {
                                    cells
                                        .entry((cand.clone(), crit.clone()))
                                        .or_default()
                                        .push(s);
                                }
                            }
                        }
                    }
                }
            }
            let shares: Vec<f64> = cells.into_values().filter_map(modal_share).collect();
            (!shares.is_empty()).then(|| shares.iter().sum::<f64>() / shares.len() as f64)
        }
    }
}

/// `role` as written in message lists.
pub(crate) fn role_name(r: Role) -> &'static str {
    match r {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
    }
}

pub(crate) fn split_name(s: Option<Split>) -> Value {
    match s {
        Some(Split::Train) => Value::from("train"),
        Some(Split::Eval) => Value::from("eval"),
        None => Value::Null,
    }
}

fn prompt(item: &Item) -> Value {
    Value::Array(
        item.context
            .iter()
            .map(|t| json!({"role": role_name(t.role), "content": t.content}))
            .collect(),
    )
}

fn candidates(item: &Item) -> Value {
    Value::Array(
        item.candidates
            .iter()
            .map(|c| json!({"id": c.id, "model": c.model, "content": c.content}))
            .collect(),
    )
}

/// Builds the rows of one kind, item by item, keeping the summary.
pub struct RowWriter {
    kind: RowKind,
    opts: PairOptions,
    /// What was done so far.
    pub summary: PairSummary,
}

impl RowWriter {
    /// A writer of `kind` rows.
    pub fn new(kind: RowKind, opts: PairOptions) -> Self {
        let summary = PairSummary {
            threshold: opts.threshold,
            ..PairSummary::default()
        };
        RowWriter {
            kind,
            opts,
            summary,
        }
    }

    /// The options this writer decides with.
    pub fn options(&self) -> &PairOptions {
        &self.opts
    }

    /// The rows of one item of task kind `task` (several for rating, red team and
    /// full); an item left out is counted.
    pub fn rows(&mut self, task: TaskKind, j: &JudgedItem) -> Vec<Value> {
        self.summary.items += 1;
        let filtered;
        let j = if filters_judgments(&self.opts) {
            filtered = filter_judgments(j, &self.opts, Some(&mut self.summary));
            &filtered
        } else {
            j
        };
        let Ok(item) = serde_json::from_str::<Item>(&j.body) else {
            self.summary.filtered += 1;
            return Vec::new();
        };
        let split_ok = self.opts.split.is_none() || j.split == self.opts.split;
        if !split_ok || !self.opts.tags.iter().all(|t| item.tags.contains(t)) {
            self.summary.filtered += 1;
            return Vec::new();
        }
        let votes = latest_votes(j, self.opts.include_external);
        if let Some(min) = self.opts.min_agreement
            && agreement(task, &votes).is_none_or(|a| a < min)
        {
            self.summary.low_agreement += 1;
            return Vec::new();
        }
        let rows = match self.kind {
            RowKind::Ranking => self.ranking(&item, j, &votes).into_iter().collect(),
            RowKind::Rating => self.rating(&item, j, &votes),
            RowKind::RedTeam => self.red_team(&item, j),
            RowKind::Full => self.full(task, &item, j),
        };
        if rows.is_empty() && self.kind != RowKind::Ranking {
            self.summary.no_judgments += 1;
        }
        self.summary.exported += rows.len() as u64;
        rows
    }

    fn count(&mut self, decision: &str, n: u64) {
        if n > 0 {
            *self
                .summary
                .by_decision
                .entry(decision.to_owned())
                .or_default() += n;
        }
    }

    fn annotator(&self, row: &JudgmentRow) -> Value {
        match row.annotator {
            Some(a) => match self.opts.annotators.get(&a) {
                Some(info) => Value::from(info.pseudonym.clone()),
                None => Value::from(pseudonym(&self.opts.pseudonym_key, a)),
            },
            None => Value::Null,
        }
    }

    fn pseudonyms(&self, votes: &[Vote<'_>]) -> Vec<Value> {
        votes
            .iter()
            .filter(|v| v.row.annotator.is_some())
            .map(|v| self.annotator(v.row))
            .collect()
    }

    /// Adjudicated order, else the unanimous order of two or more voters, else the
    /// order by mean fractional rank (Borda); one voter's order is `single`.
    fn ranking(&mut self, item: &Item, j: &JudgedItem, votes: &[Vote<'_>]) -> Option<Value> {
        let ids: Vec<&str> = item.candidates.iter().map(|c| c.id.as_str()).collect();
        let valid_order = |p: &Value| -> Option<Vec<Vec<String>>> {
            let order: Vec<Vec<String>> = serde_json::from_value(p.get("order")?.clone()).ok()?;
            let mut seen: Vec<&str> = order.iter().flatten().map(String::as_str).collect();
            seen.sort_unstable();
            let mut want = ids.clone();
            want.sort_unstable();
            (seen == want && order.iter().all(|g| !g.is_empty())).then_some(order)
        };
        let orders: Vec<Vec<Vec<String>>> = votes
            .iter()
            .filter_map(|v| valid_order(&v.payload))
            .collect();
        // Fractional rank of each candidate in each vote: ties share the mean position.
        let mut mean_rank: BTreeMap<&str, f64> = BTreeMap::new();
        for order in &orders {
            let mut before = 0usize;
            for group in order {
                let rank = before as f64 + (group.len() as f64 + 1.0) / 2.0;
                for id in group {
                    if let Some(k) = ids.iter().find(|k| **k == id.as_str()) {
                        *mean_rank.entry(k).or_default() += rank / orders.len() as f64;
                    }
                }
                before += group.len();
            }
        }
        let adjudicated = j
            .adjudication
            .as_deref()
            .and_then(|a| serde_json::from_str::<Value>(a).ok())
            .and_then(|p| valid_order(&p));
        let (order, decision) = if let Some(o) = adjudicated {
            (o, "adjudicated")
        } else if orders.is_empty() {
            self.summary.no_judgments += 1;
            return None;
        } else if orders.len() == 1 {
            (orders[0].clone(), "single")
        } else if orders.iter().all(|o| *o == orders[0]) {
            (orders[0].clone(), "unanimous")
        } else {
            let mut by: Vec<(&str, f64)> = mean_rank.iter().map(|(k, r)| (*k, *r)).collect();
            by.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(b.0)));
            let mut groups: Vec<Vec<String>> = Vec::new();
            let mut last = f64::NAN;
            for (id, r) in by {
                if (r - last).abs() < 1e-9 {
                    groups.last_mut().expect("a group").push(id.to_owned());
                } else {
                    groups.push(vec![id.to_owned()]);
                }
                last = r;
            }
            (groups, "borda")
        };
        self.count(decision, 1);
        let mean: Map<String, Value> = mean_rank
            .into_iter()
            .map(|(k, r)| (k.to_owned(), json!(r)))
            .collect();
        Some(json!({
            "prompt": prompt(item),
            "candidates": candidates(item),
            "order": order,
            "item_id": j.ext_id,
            "split": split_name(j.split),
            "tags": item.tags,
            "provenance": {
                "decision": decision,
                "votes": orders.len(),
                "mean_rank": mean,
                "agreement": agreement(TaskKind::Ranking, votes),
                "annotators": self.pseudonyms(votes),
                "rubric_version": j.judgments.iter().map(|r| r.rubric_version).max(),
            },
        }))
    }

    /// One row a rated candidate: the adjudicated scores, else the mean of the voters'
    /// scores per criterion (`single` with one voter), with each criterion's spread.
    fn rating(&mut self, item: &Item, j: &JudgedItem, votes: &[Vote<'_>]) -> Vec<Value> {
        let adjudicated = j
            .adjudication
            .as_deref()
            .and_then(|a| serde_json::from_str::<Value>(a).ok())
            .filter(|p| p.get("scores").is_some_and(Value::is_object));
        let sources: Vec<&Value> = match &adjudicated {
            Some(p) => vec![p],
            None => votes.iter().map(|v| &v.payload).collect(),
        };
        let decision = match (&adjudicated, sources.len()) {
            (Some(_), _) => "adjudicated",
            (None, 1) => "single",
            _ => "mean",
        };
        let mut rows = Vec::new();
        for cand in &item.candidates {
            let mut cells: BTreeMap<String, Vec<i64>> = BTreeMap::new();
            for p in &sources {
                if let Some(Value::Object(row)) = p.get("scores").and_then(|s| s.get(&cand.id)) {
                    for (crit, s) in row {
                        if let Some(s) = s.as_i64() {
                            cells.entry(crit.clone()).or_default().push(s);
                        }
                    }
                }
            }
            if cells.is_empty() {
                continue;
            }
            let mut scores = Map::new();
            let mut spread = Map::new();
            let mut raters = 0usize;
            for (crit, s) in cells {
                let mean = s.iter().sum::<i64>() as f64 / s.len() as f64;
                let lo = s.iter().min().copied().unwrap_or(0);
                let hi = s.iter().max().copied().unwrap_or(0);
                raters = raters.max(s.len());
                scores.insert(crit.clone(), json!(mean));
                spread.insert(crit, json!(hi - lo));
            }
            rows.push(json!({
                "prompt": prompt(item),
                "response": cand.content,
                "candidate_id": cand.id,
                "model": cand.model,
                "scores": scores,
                "item_id": j.ext_id,
                "split": split_name(j.split),
                "tags": item.tags,
                "provenance": {
                    "decision": decision,
                    "raters": raters,
                    "spread": spread,
                    "agreement": agreement(TaskKind::Rating, votes),
                    "annotators": self.pseudonyms(votes),
                },
            }));
        }
        self.count(decision, rows.len() as u64);
        rows
    }

    /// One row a red-team judgment (each attack is its own example), with the
    /// reviewer's adjudicated outcome when there is one.
    fn red_team(&mut self, item: &Item, j: &JudgedItem) -> Vec<Value> {
        let adjudicated = j
            .adjudication
            .as_deref()
            .and_then(|a| serde_json::from_str::<Value>(a).ok());
        let mut rows = Vec::new();
        for row in &j.judgments {
            if row.annotator.is_none() && !self.opts.include_external {
                continue;
            }
            let Ok(p) = serde_json::from_str::<Value>(&row.payload) else {
                continue;
            };
            let Some(attack) = p.get("attack").and_then(Value::as_str) else {
                continue;
            };
            rows.push(json!({
                "prompt": prompt(item),
                "attack": attack,
                "tactic": p.get("tactic").and_then(Value::as_str).unwrap_or(""),
                "outcome": p.get("outcome"),
                "severity": p.get("severity").and_then(Value::as_i64),
                "violations": p.get("violations").cloned().unwrap_or_else(|| json!({})),
                "edge_cases": p.get("edge_cases").cloned().unwrap_or_else(|| json!([])),
                "annotator": self.annotator(row),
                "external_source": row.external_source,
                "item_id": j.ext_id,
                "split": split_name(j.split),
                "tags": item.tags,
                "provenance": {
                    "rubric_version": row.rubric_version,
                    "adjudicated_outcome": adjudicated.as_ref().and_then(|a| a.get("outcome")),
                    "adjudicated_severity": adjudicated.as_ref().and_then(|a| a.get("severity")),
                },
            }));
        }
        self.count("judgment", rows.len() as u64);
        rows
    }

    /// Every judgment of the item (external ones when `include_external`), with the
    /// annotator's pseudonym and expertise, rubric version, gold status, time on task and
    /// display order.
    fn full(&mut self, task: TaskKind, item: &Item, j: &JudgedItem) -> Vec<Value> {
        let mut rows = Vec::new();
        for row in &j.judgments {
            if row.annotator.is_none() && !self.opts.include_external {
                continue;
            }
            let payload: Value = serde_json::from_str(&row.payload).unwrap_or(Value::Null);
            let display_order: Value = row
                .display_order
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok())
                .unwrap_or(Value::Null);
            let expertise = row
                .annotator
                .and_then(|a| self.opts.annotators.get(&a))
                .and_then(|a| a.level)
                .map(Level::as_str);
            rows.push(json!({
                "item_id": j.ext_id,
                "task": task.as_str(),
                "annotator": self.annotator(row),
                "external_source": row.external_source,
                "expertise": expertise,
                "rubric_version": row.rubric_version,
                "gold": j.is_gold,
                "gold_correct": row.gold_correct,
                "time_ms": row.time_ms,
                "display_order": display_order,
                "payload": payload,
                "prompt": prompt(item),
                "candidates": candidates(item),
                "split": split_name(j.split),
                "tags": item.tags,
            }));
        }
        self.count("judgment", rows.len() as u64);
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn row(user: i64, payload: &str) -> JudgmentRow {
        JudgmentRow {
            annotator: Some(user),
            payload: payload.into(),
            rubric_version: 1,
            ..JudgmentRow::default()
        }
    }

    fn item(id: &str, task: &str, cands: &[&str], rows: Vec<JudgmentRow>) -> JudgedItem {
        let cands: Vec<String> = cands
            .iter()
            .map(|c| format!(r#"{{"id":"{c}","content":"{c} says"}}"#))
            .collect();
        JudgedItem {
            ext_id: id.into(),
            body: format!(
                r#"{{"id":"{id}","task":"{task}","context":[{{"role":"user","content":"Q"}}],"candidates":[{}],"tags":["edge:x"]}}"#,
                cands.join(",")
            ),
            judgments: rows,
            ..JudgedItem::default()
        }
    }

    #[test]
    fn pseudonyms_are_stable_per_project_and_differ_across_projects() {
        let (s1, s2) = (
            PseudonymKey::from_bytes([1; 32]),
            PseudonymKey::from_bytes([2; 32]),
        );
        assert_eq!(pseudonym(&s1, 7), pseudonym(&s1, 7));
        assert_ne!(pseudonym(&s1, 7), pseudonym(&s2, 7));
        assert_ne!(pseudonym(&s1, 7), pseudonym(&s1, 8));
        assert!(pseudonym(&s1, 7).starts_with("ann-"));
        assert_eq!(pseudonym(&s1, 7).len(), 20);
    }

    #[test]
    fn ranking_uses_unanimity_then_borda() {
        let o = |s: &str| format!(r#"{{"order":{s}}}"#);
        let unan = item(
            "u",
            "ranking",
            &["a", "b", "c"],
            vec![
                row(1, &o(r#"[["b"],["a","c"]]"#)),
                row(2, &o(r#"[["b"],["a","c"]]"#)),
            ],
        );
        let borda = item(
            "m",
            "ranking",
            &["a", "b", "c"],
            vec![
                row(1, &o(r#"[["a"],["b"],["c"]]"#)),
                row(2, &o(r#"[["a"],["c"],["b"]]"#)),
                row(3, &o(r#"[["b"],["a"],["c"]]"#)),
            ],
        );
        let mut w = RowWriter::new(RowKind::Ranking, PairOptions::default());
        let r = w.rows(TaskKind::Ranking, &unan);
        assert_eq!(r[0]["order"], json!([["b"], ["a", "c"]]));
        assert_eq!(r[0]["provenance"]["decision"], "unanimous");
        let r = w.rows(TaskKind::Ranking, &borda);
        // Mean ranks: a 4/3, b 2, c 8/3.
        assert_eq!(r[0]["order"], json!([["a"], ["b"], ["c"]]));
        assert_eq!(r[0]["provenance"]["decision"], "borda");
        let strict = PairOptions {
            min_agreement: Some(0.5),
            ..PairOptions::default()
        };
        let mut w = RowWriter::new(RowKind::Ranking, strict);
        assert_eq!(w.rows(TaskKind::Ranking, &unan).len(), 1);
        assert!(w.rows(TaskKind::Ranking, &borda).is_empty());
        assert_eq!(w.summary.low_agreement, 1);
    }

    #[test]
    fn rating_means_per_criterion_and_filters_by_expertise() {
        let s = |a: i64, b: i64| format!(r#"{{"scores":{{"a":{{"helpful":{a},"safe":{b}}}}}}}"#);
        let j = item(
            "r",
            "rating",
            &["a"],
            vec![row(1, &s(4, 2)), row(2, &s(2, 2))],
        );
        let mut w = RowWriter::new(RowKind::Rating, PairOptions::default());
        let r = w.rows(TaskKind::Rating, &j);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0]["scores"], json!({"helpful": 3.0, "safe": 2.0}));
        assert_eq!(r[0]["provenance"]["spread"]["helpful"], 2);
        assert_eq!(r[0]["response"], "a says");
        let annotators: Annotators = [
            (
                1,
                AnnotatorInfo {
                    pseudonym: "ann-1".into(),
                    level: Some(Level::Expert),
                },
            ),
            (
                2,
                AnnotatorInfo {
                    pseudonym: "ann-2".into(),
                    level: Some(Level::Novice),
                },
            ),
        ]
        .into();
        let experts = PairOptions {
            min_expertise: Some(Level::Practitioner),
            annotators: Arc::new(annotators),
            ..PairOptions::default()
        };
        let mut w = RowWriter::new(RowKind::Rating, experts);
        let r = w.rows(TaskKind::Rating, &j);
        assert_eq!(r[0]["scores"], json!({"helpful": 4.0, "safe": 2.0}));
        assert_eq!(r[0]["provenance"]["decision"], "single");
        assert_eq!(w.summary.judgments_below_expertise, 1);
    }

    #[test]
    fn full_rows_carry_every_judgment_with_its_context() {
        let mut r1 = row(1, r#"{"winner":"a","strength":2}"#);
        r1.time_ms = Some(4200);
        r1.display_order = Some(r#"["b","a"]"#.into());
        r1.gold_correct = Some(true);
        let mut r2 = row(2, r#"{"winner":"b","strength":1}"#);
        r2.rubric_version = 2;
        let mut j = item("f", "preference", &["a", "b"], vec![r1, r2]);
        j.is_gold = true;
        let opts = PairOptions {
            pseudonym_key: PseudonymKey::from_bytes([5; 32]),
            ..PairOptions::default()
        };
        let mut w = RowWriter::new(RowKind::Full, opts.clone());
        let r = w.rows(TaskKind::Preference, &j);
        assert_eq!(r.len(), 2);
        assert_eq!(
            r[0]["annotator"],
            pseudonym(&PseudonymKey::from_bytes([5; 32]), 1)
        );
        assert_eq!(r[0]["time_ms"], 4200);
        assert_eq!(r[0]["display_order"], json!(["b", "a"]));
        assert_eq!(r[0]["gold"], true);
        assert_eq!(r[0]["gold_correct"], true);
        assert_eq!(r[0]["payload"]["winner"], "a");
        let v2 = PairOptions {
            rubric_version: Some(2),
            ..opts
        };
        let mut w = RowWriter::new(RowKind::Full, v2);
        let r = w.rows(TaskKind::Preference, &j);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0]["rubric_version"], 2);
        assert_eq!(w.summary.judgments_other_rubric, 1);
    }
}
