//! Judging a model against the experts: `plumbline eval --predictions FILE` scores a
//! reward model's or an LLM judge's choices on the evaluation split against the decided
//! labels (the preference export's rule: adjudication, gold, a single vote, else the
//! decision method at the project's threshold), with accuracy and its Wilson interval
//! overall, per tag and per criterion, and the judge's own position and length bias
//! beside the labels' on the same items.
//!
//! A predictions file is JSONL, one item a line: `item_id`, and either `chosen` (a
//! candidate id, or `tie`) or `scores` (a number for every candidate; the highest is the
//! choice, equal highest a tie); optionally `order`, the candidates in the order the
//! judge saw them (default: the item's order). Every refusal names the line and field.

use crate::export::{PairOptions, RowSink};
use crate::export_driver::{ExportRequest, Filters, RequestError, Target};
use crate::lines::{LineError, LineReader, RawLine};
use crate::pair_row::PairRow;
use crate::release::FileFormat;
use crate::run::{self, Kind};
use plumbline_domain::{Item, Split};
use plumbline_quality::bias::Share;
use plumbline_quality::gold::{Z_95, wilson_interval};
use plumbline_store::{Project, SplitRow, Store, StoreError};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Longest predictions line accepted, in bytes.
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// Candidates whose lengths differ by more than this many characters count for the
/// length bias (as in the quality table).
pub const LENGTH_MARGIN: usize = 30;

/// What the judge chose for one item.
#[derive(Debug, Clone, PartialEq)]
pub enum Choice {
    /// A candidate id, or `tie`.
    Chosen(String),
    /// A score per candidate id.
    Scores(Vec<(String, f64)>),
}

/// One line of a predictions file.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Its line number.
    pub line: u64,
    /// The item's own id.
    pub item_id: String,
    /// The judge's choice.
    pub choice: Choice,
    /// The candidates in the order the judge saw them, if given.
    pub order: Option<Vec<String>>,
}

/// Why an evaluation is refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A bad line of the predictions file (the first, by line).
    #[error("{0}")]
    Line(LineError),
    /// Reading the file failed.
    #[error("reading the predictions: {0}")]
    Io(#[from] std::io::Error),
    /// The labels could not be decided.
    #[error("{0}")]
    Export(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<RequestError> for EvalError {
    fn from(e: RequestError) -> Self {
        match e {
            RequestError::Store(e) => EvalError::Store(e),
            e => EvalError::Export(e.to_string()),
        }
    }
}

fn bad(line: u64, field: &str, reason: impl Into<String>) -> EvalError {
    EvalError::Line(LineError::new(line, Some(field.to_owned()), reason))
}

/// Reads a predictions file; the first bad line is refused with its field and reason.
pub fn read_predictions<R: BufRead>(input: R) -> Result<Vec<Prediction>, EvalError> {
    let mut reader = LineReader::new(input, MAX_LINE_BYTES);
    let mut out = Vec::new();
    let mut first: HashMap<String, u64> = HashMap::new();
    while let Some(raw) = reader.next_line()? {
        let (line, text) = match raw {
            RawLine::Text(line, text) => (line, text),
            RawLine::Bad(e) => return Err(EvalError::Line(e)),
        };
        if text.trim().is_empty() {
            continue;
        }
        let p = parse_line(line, text)?;
        if let Some(earlier) = first.insert(p.item_id.clone(), line) {
            return Err(bad(
                line,
                "item_id",
                format!(
                    "item `{}` is predicted twice (first on line {earlier})",
                    p.item_id
                ),
            ));
        }
        out.push(p);
    }
    if out.is_empty() {
        return Err(EvalError::Line(LineError::new(
            0,
            None,
            "the predictions file holds no predictions (it is empty)",
        )));
    }
    Ok(out)
}

fn parse_line(line: u64, text: &str) -> Result<Prediction, EvalError> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| EvalError::Line(LineError::new(line, None, format!("not JSON: {e}"))))?;
    let Value::Object(map) = v else {
        return Err(EvalError::Line(LineError::new(
            line,
            None,
            "not a JSON object",
        )));
    };
    let (mut item_id, mut chosen, mut scores, mut order) = (None, None, None, None);
    for (k, v) in map {
        match k.as_str() {
            "item_id" => match v {
                Value::String(s) if !s.is_empty() => item_id = Some(s),
                _ => return Err(bad(line, "item_id", "must be a non-empty string")),
            },
            "chosen" => match v {
                Value::String(s) if !s.is_empty() => chosen = Some(s),
                _ => {
                    return Err(bad(
                        line,
                        "chosen",
                        "must be a candidate id or `tie`, as a string",
                    ));
                }
            },
            "scores" => {
                let Value::Object(m) = v else {
                    return Err(bad(
                        line,
                        "scores",
                        "must be an object of a number per candidate id",
                    ));
                };
                let mut s = Vec::with_capacity(m.len());
                for (id, x) in m {
                    match x.as_f64() {
                        Some(x) if x.is_finite() => s.push((id, x)),
                        _ => {
                            return Err(bad(
                                line,
                                &format!("scores.{id}"),
                                "must be a finite number",
                            ));
                        }
                    }
                }
                scores = Some(s);
            }
            "order" => {
                let ids: Option<Vec<String>> = match v {
                    Value::Array(a) => a
                        .into_iter()
                        .map(|x| match x {
                            Value::String(s) => Some(s),
                            _ => None,
                        })
                        .collect(),
                    _ => None,
                };
                let Some(ids) = ids else {
                    return Err(bad(line, "order", "must be a list of candidate ids"));
                };
                order = Some(ids);
            }
            other => {
                return Err(bad(
                    line,
                    other,
                    "unknown field (expected item_id, chosen or scores, and optionally order)",
                ));
            }
        }
    }
    let Some(item_id) = item_id else {
        return Err(bad(line, "item_id", "missing"));
    };
    let choice = match (chosen, scores) {
        (Some(c), None) => Choice::Chosen(c),
        (None, Some(s)) => Choice::Scores(s),
        (Some(_), Some(_)) => {
            return Err(bad(
                line,
                "scores",
                "give either chosen or scores, not both",
            ));
        }
        (None, None) => return Err(bad(line, "chosen", "missing (give chosen or scores)")),
    };
    Ok(Prediction {
        line,
        item_id,
        choice,
        order,
    })
}

/// Accuracy: correct out of scored, with the Wilson 95 % interval.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Accuracy {
    /// Choices equal to the label.
    pub correct: u64,
    /// Choices scored.
    pub scored: u64,
    /// correct / scored; null when nothing was scored.
    pub accuracy: Option<f64>,
    /// Lower end of the Wilson 95 % interval.
    pub lower: Option<f64>,
    /// Upper end of the Wilson 95 % interval.
    pub upper: Option<f64>,
}

impl Accuracy {
    fn new(correct: u64, scored: u64) -> Accuracy {
        let w = wilson_interval(correct, scored, Z_95);
        Accuracy {
            correct,
            scored,
            accuracy: (scored > 0).then(|| correct as f64 / scored as f64),
            lower: w.map(|w| w.0),
            upper: w.map(|w| w.1),
        }
    }
}

/// One bias of the judge beside the labels' on the same items.
#[derive(Debug, Clone, Serialize)]
pub struct BiasPair {
    /// The judge's picks (decisive choices only), with the exact binomial test against ½.
    pub judge: Share,
    /// The decided labels of the same items.
    pub labels: Share,
}

/// What an evaluation found.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    /// Lines of the predictions file.
    pub predictions: u64,
    /// Predictions scored: eval-split preference items with a decided label.
    pub scored: u64,
    /// Predictions of items in the train split or in none.
    pub not_eval: u64,
    /// Predictions of eval items that are not preference items (one pair of candidates).
    pub not_pairwise: u64,
    /// Predictions of eval preference items the decision rule leaves without a label
    /// (tie, below the threshold, no judgments).
    pub no_label: u64,
    /// Scored predictions that chose a tie (counted wrong).
    pub judge_ties: u64,
    /// Accuracy over every scored prediction.
    pub overall: Accuracy,
    /// Accuracy per tag of the items.
    pub by_tag: BTreeMap<String, Accuracy>,
    /// Accuracy against each criterion's decided winner (items where it is not a tie).
    pub by_criterion: BTreeMap<String, Accuracy>,
    /// Share of decisive picks of the candidate shown first.
    pub position: BiasPair,
    /// Share of decisive picks of the longer candidate (lengths differing by more than
    /// 30 characters).
    pub length: BiasPair,
    /// The decision threshold the labels were decided at.
    pub threshold: f64,
}

/// A decided label, captured from the preference export.
#[derive(Debug, Clone, Default)]
struct Label {
    chosen: String,
    rejected: String,
    criteria: Vec<(String, &'static str)>,
    chosen_model: Option<String>,
    rejected_model: Option<String>,
    tags: Vec<String>,
}

/// A sink keeping the labels of pairs instead of writing them.
struct Labels(Arc<Mutex<HashMap<String, Label>>>);

impl RowSink for Labels {
    fn write(&mut self, _row: &Value) -> std::io::Result<()> {
        Err(std::io::Error::other("only pairs are labels"))
    }
    fn write_pair(&mut self, row: &PairRow<'_>) -> std::io::Result<()> {
        let label = Label {
            chosen: row.provenance.chosen_id.to_owned(),
            rejected: row.provenance.rejected_id.to_owned(),
            criteria: row
                .criteria
                .0
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            chosen_model: row.provenance.chosen_model.map(str::to_owned),
            rejected_model: row.provenance.rejected_model.map(str::to_owned),
            tags: row.tags.to_vec(),
        };
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("labels poisoned"))?
            .insert(row.item_id.to_owned(), label);
        Ok(())
    }
    fn finish(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What an item's prediction needs from the item.
struct Seen {
    split: Option<Split>,
    tags: Vec<String>,
    /// Candidate ids and lengths in characters, in the item's order.
    candidates: Vec<(String, usize)>,
}

/// How the labels are decided: as the preference export would with these options.
#[derive(Debug, Clone, Default)]
pub struct LabelOptions {
    /// Imported prior judgments vote (each source one voter at reliability 0.7).
    pub include_external: bool,
    /// The posterior a label decided by the method needs (default: the project's
    /// `decision_threshold`).
    pub threshold: Option<f64>,
}

/// Scores `predictions` against `project`'s decided labels on the eval split; a
/// prediction naming an unknown item or candidate is refused with its line and field.
pub async fn evaluate<S: Store>(
    store: &S,
    project: &Project,
    predictions: Vec<Prediction>,
    labels_by: LabelOptions,
) -> Result<EvalReport, EvalError> {
    // The items the predictions name, checked as they stream by.
    let wanted: Arc<HashMap<String, usize>> = Arc::new(
        predictions
            .iter()
            .enumerate()
            .map(|(i, p)| (p.item_id.clone(), i))
            .collect(),
    );
    let preds = Arc::new(predictions);
    let (tx, mut rx) = mpsc::channel::<Vec<SplitRow>>(4);
    let (w, p) = (wanted.clone(), preds.clone());
    let reader = tokio::task::spawn_blocking(move || -> Result<Vec<Option<Seen>>, EvalError> {
        let mut seen: Vec<Option<Seen>> = (0..p.len()).map(|_| None).collect();
        let mut first_bad: Option<LineError> = None;
        while let Some(batch) = rx.blocking_recv() {
            for row in batch {
                let Some(&i) = w.get(&row.ext_id) else {
                    continue;
                };
                let item: Item = serde_json::from_str(&row.body).map_err(|e| {
                    EvalError::Export(format!("stored item `{}` does not parse: {e}", row.ext_id))
                })?;
                let s = Seen {
                    split: row.split,
                    tags: item.tags.clone(),
                    candidates: item
                        .candidates
                        .iter()
                        .map(|c| (c.id.clone(), c.content.chars().count()))
                        .collect(),
                };
                if let Err(e) = check(&p[i], &s)
                    && first_bad.as_ref().is_none_or(|f| e.line < f.line)
                {
                    first_bad = Some(e);
                }
                seen[i] = Some(s);
            }
        }
        if let Some(e) = first_bad {
            return Err(EvalError::Line(e));
        }
        Ok(seen)
    });
    let sent = store.split_rows(project.id, tx).await;
    let seen = reader
        .await
        .map_err(|e| EvalError::Export(format!("the item reader failed: {e}")))??;
    sent?;
    if let Some(p) = preds
        .iter()
        .zip(&seen)
        .find(|(_, s)| s.is_none())
        .map(|(p, _)| p)
    {
        return Err(bad(
            p.line,
            "item_id",
            format!("no item `{}` in project {}", p.item_id, project.name),
        ));
    }

    let (labels, threshold) = decided_labels(store, project, labels_by).await?;
    Ok(score(&preds, &seen, &labels, threshold))
}

/// The decided labels of the eval split's preference items, by the preference export's
/// rule, by item id; and the threshold they were decided at.
async fn decided_labels<S: Store>(
    store: &S,
    project: &Project,
    labels_by: LabelOptions,
) -> Result<(HashMap<String, Label>, f64), EvalError> {
    let export = ExportRequest {
        target: Target::Rows(Kind::Preference),
        format: FileFormat::Jsonl,
        filters: Filters {
            split: Some(Split::Eval),
            include_external: labels_by.include_external,
            threshold: labels_by.threshold,
            ..Filters::default()
        },
    }
    .validate(store, project)
    .await?;
    let threshold = export.opts.threshold;
    let labels = Arc::new(Mutex::new(HashMap::new()));
    let sink_labels = labels.clone();
    let opts: PairOptions = export.opts;
    run::export(
        store,
        project,
        Kind::Preference,
        opts,
        Box::new(move || Ok(Box::new(Labels(sink_labels)) as Box<dyn RowSink>)),
        false,
    )
    .await
    .map_err(EvalError::Export)?;
    let labels = std::mem::take(&mut *labels.lock().expect("labels"));
    Ok((labels, threshold))
}

/// One model's Bradley-Terry strength with its 95 % interval.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct ModelStrength {
    /// The candidates' `model`.
    pub model: String,
    /// Log-strength, the models' mean at zero.
    pub log_strength: f64,
    /// Its standard error.
    pub std_error: f64,
    /// log_strength − 1.96 · std_error.
    pub lower: f64,
    /// log_strength + 1.96 · std_error.
    pub upper: f64,
    /// Wins (ties half).
    pub wins: f64,
    /// Pairs it took part in.
    pub comparisons: u64,
}

/// One leaderboard: models by strength, or why there is none.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Board {
    /// Pairs between two different models it rests on.
    pub pairs: u64,
    /// Models, strongest first.
    pub models: Vec<ModelStrength>,
    /// Why no strengths were fitted (fewer than two models, a model that never lost…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undefined: Option<String>,
}

/// Per-model Bradley-Terry leaderboards from the eval split's decided labels: overall
/// (the decided winner), per edge-case tag, and per criterion (its decided winner, a tie
/// half a win each).
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Leaderboard {
    /// Decided eval pairs.
    pub labels: u64,
    /// Of them, pairs without a model on both sides or of one model against itself.
    pub without_two_models: u64,
    /// Every decided pair.
    pub overall: Board,
    /// Pairs of items carrying each edge-case tag.
    pub by_tag: BTreeMap<String, Board>,
    /// Each criterion's decided winner.
    pub by_criterion: BTreeMap<String, Board>,
    /// The decision threshold of the labels.
    pub threshold: f64,
}

/// The leaderboard of `project`'s models on its eval split.
pub async fn leaderboard<S: Store>(
    store: &S,
    project: &Project,
    labels_by: LabelOptions,
) -> Result<Leaderboard, EvalError> {
    use plumbline_quality::bradley_terry::Winner;
    let (labels, threshold) = decided_labels(store, project, labels_by).await?;
    let mut ids: BTreeMap<String, u32> = BTreeMap::new();
    let mut overall = Vec::new();
    let mut by_tag: BTreeMap<String, Vec<(u32, u32, Winner)>> = BTreeMap::new();
    let mut by_criterion: BTreeMap<String, Vec<(u32, u32, Winner)>> = BTreeMap::new();
    let mut without = 0u64;
    let mut ordered: Vec<(&String, &Label)> = labels.iter().collect();
    ordered.sort_by(|a, b| a.0.cmp(b.0));
    for (_, l) in ordered {
        let (Some(c), Some(r)) = (&l.chosen_model, &l.rejected_model) else {
            without += 1;
            continue;
        };
        if c == r {
            without += 1;
            continue;
        }
        let mut id = |m: &String| {
            let next = ids.len() as u32;
            *ids.entry(m.clone()).or_insert(next)
        };
        let (a, b) = (id(c), id(r));
        overall.push((a, b, Winner::Left));
        for t in l
            .tags
            .iter()
            .filter(|t| t.starts_with(plumbline_domain::item::EDGE_TAG_PREFIX))
        {
            by_tag
                .entry(t.clone())
                .or_default()
                .push((a, b, Winner::Left));
        }
        for (criterion, outcome) in &l.criteria {
            let w = match *outcome {
                "chosen" => Winner::Left,
                "rejected" => Winner::Right,
                _ => Winner::Tie,
            };
            by_criterion
                .entry(criterion.clone())
                .or_default()
                .push((a, b, w));
        }
    }
    let names: Vec<String> = {
        let mut v = vec![String::new(); ids.len()];
        for (m, i) in &ids {
            v[*i as usize] = m.clone();
        }
        v
    };
    let board = |pairs: &[(u32, u32, Winner)]| board(&names, pairs);
    Ok(Leaderboard {
        labels: labels.len() as u64,
        without_two_models: without,
        overall: board(&overall),
        by_tag: by_tag.iter().map(|(k, v)| (k.clone(), board(v))).collect(),
        by_criterion: by_criterion
            .iter()
            .map(|(k, v)| (k.clone(), board(v)))
            .collect(),
        threshold,
    })
}

/// Fits one board over the models that appear in `pairs`.
fn board(
    names: &[String],
    pairs: &[(u32, u32, plumbline_quality::bradley_terry::Winner)],
) -> Board {
    use plumbline_quality::bradley_terry::{BradleyTerryConfig, Comparison, bradley_terry};
    // Only the models in these pairs, renumbered.
    let mut local: BTreeMap<u32, u32> = BTreeMap::new();
    for &(a, b, _) in pairs {
        for m in [a, b] {
            let next = local.len() as u32;
            local.entry(m).or_insert(next);
        }
    }
    let none = |why: &str| Board {
        pairs: pairs.len() as u64,
        models: Vec::new(),
        undefined: Some(why.to_owned()),
    };
    if local.len() < 2 {
        return none("fewer than two models compared");
    }
    let comparisons: Vec<Comparison> = pairs
        .iter()
        .map(|&(a, b, winner)| Comparison {
            left: local[&a],
            right: local[&b],
            winner,
        })
        .collect();
    let fit = match bradley_terry(local.len(), &comparisons, BradleyTerryConfig::default()) {
        Ok(fit) => fit,
        Err(e) => return none(&e.to_string()),
    };
    let mut back = vec![0u32; local.len()];
    for (global, l) in &local {
        back[*l as usize] = *global;
    }
    let mut models: Vec<ModelStrength> = fit
        .options
        .iter()
        .map(|o| ModelStrength {
            model: names[back[o.option as usize] as usize].clone(),
            log_strength: o.log_strength,
            std_error: o.std_error,
            lower: o.log_strength - Z_95 * o.std_error,
            upper: o.log_strength + Z_95 * o.std_error,
            wins: o.wins,
            comparisons: o.comparisons,
        })
        .collect();
    models.sort_by(|a, b| {
        b.log_strength
            .total_cmp(&a.log_strength)
            .then(a.model.cmp(&b.model))
    });
    Board {
        pairs: pairs.len() as u64,
        models,
        undefined: None,
    }
}

/// Checks a prediction against its item: candidates it names exist, scores cover every
/// candidate, the order is the candidates'.
fn check(p: &Prediction, s: &Seen) -> Result<(), LineError> {
    let known = |id: &str| s.candidates.iter().any(|(c, _)| c == id);
    let ids = || {
        s.candidates
            .iter()
            .map(|(c, _)| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let err = |field: String, reason: String| Err(LineError::new(p.line, Some(field), reason));
    match &p.choice {
        Choice::Chosen(c) if c != "tie" && !known(c) => {
            return err(
                "chosen".into(),
                format!(
                    "item `{}` has no candidate `{c}` (it has {}, or say `tie`)",
                    p.item_id,
                    ids()
                ),
            );
        }
        Choice::Chosen(_) => {}
        Choice::Scores(scores) => {
            for (id, _) in scores {
                if !known(id) {
                    return err(
                        format!("scores.{id}"),
                        format!(
                            "item `{}` has no candidate `{id}` (it has {})",
                            p.item_id,
                            ids()
                        ),
                    );
                }
            }
            if let Some((c, _)) = s
                .candidates
                .iter()
                .find(|(c, _)| !scores.iter().any(|(id, _)| id == c))
            {
                return err(
                    "scores".into(),
                    format!("no score for candidate `{c}` of item `{}`", p.item_id),
                );
            }
        }
    }
    if let Some(order) = &p.order {
        let mut a: Vec<&str> = order.iter().map(String::as_str).collect();
        let mut b: Vec<&str> = s.candidates.iter().map(|(c, _)| c.as_str()).collect();
        a.sort_unstable();
        b.sort_unstable();
        if a != b {
            return err(
                "order".into(),
                format!(
                    "must list each candidate of item `{}` once ({})",
                    p.item_id,
                    ids()
                ),
            );
        }
    }
    Ok(())
}

/// The judge's pick: a candidate id, or `None` for a tie.
fn pick(p: &Prediction) -> Option<&str> {
    match &p.choice {
        Choice::Chosen(c) if c == "tie" => None,
        Choice::Chosen(c) => Some(c),
        Choice::Scores(s) => {
            let best = s.iter().map(|(_, x)| *x).fold(f64::NEG_INFINITY, f64::max);
            let mut top = s.iter().filter(|(_, x)| *x == best);
            match (top.next(), top.next()) {
                (Some((id, _)), None) => Some(id),
                _ => None,
            }
        }
    }
}

#[derive(Default, Clone, Copy)]
struct Tally {
    correct: u64,
    scored: u64,
}

impl Tally {
    fn add(&mut self, right: bool) {
        self.scored += 1;
        self.correct += u64::from(right);
    }
}

fn score(
    preds: &[Prediction],
    seen: &[Option<Seen>],
    labels: &HashMap<String, Label>,
    threshold: f64,
) -> EvalReport {
    let mut overall = Tally::default();
    let mut by_tag: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_criterion: BTreeMap<String, Tally> = BTreeMap::new();
    let (mut not_eval, mut not_pairwise, mut no_label, mut ties) = (0, 0, 0, 0);
    // (hits, n) of the judge and of the labels: first shown, longer.
    let (mut pos_j, mut pos_l, mut len_j, mut len_l) = ((0, 0), (0, 0), (0, 0), (0, 0));
    for (p, s) in preds.iter().zip(seen) {
        let s = s.as_ref().expect("every prediction's item was seen");
        if s.split != Some(Split::Eval) {
            not_eval += 1;
            continue;
        }
        if s.candidates.len() != 2 {
            not_pairwise += 1;
            continue;
        }
        let Some(label) = labels.get(&p.item_id) else {
            no_label += 1;
            continue;
        };
        let choice = pick(p);
        if choice.is_none() {
            ties += 1;
        }
        let right = choice == Some(label.chosen.as_str());
        overall.add(right);
        for t in &s.tags {
            by_tag.entry(t.clone()).or_default().add(right);
        }
        for (criterion, outcome) in &label.criteria {
            let winner = match *outcome {
                "chosen" => &label.chosen,
                "rejected" => &label.rejected,
                _ => continue,
            };
            by_criterion
                .entry(criterion.clone())
                .or_default()
                .add(choice == Some(winner.as_str()));
        }
        // Position: the first shown, by the judge's order or the item's.
        let first = p
            .order
            .as_ref()
            .and_then(|o| o.first())
            .map_or(s.candidates[0].0.as_str(), String::as_str);
        if let Some(c) = choice {
            pos_j.1 += 1;
            pos_j.0 += u64::from(c == first);
        }
        pos_l.1 += 1;
        pos_l.0 += u64::from(label.chosen == first);
        let (a, b) = (&s.candidates[0], &s.candidates[1]);
        if a.1.abs_diff(b.1) > LENGTH_MARGIN {
            let longer = if a.1 > b.1 { &a.0 } else { &b.0 };
            if let Some(c) = choice {
                len_j.1 += 1;
                len_j.0 += u64::from(c == longer);
            }
            len_l.1 += 1;
            len_l.0 += u64::from(&label.chosen == longer);
        }
    }
    let acc = |t: Tally| Accuracy::new(t.correct, t.scored);
    EvalReport {
        predictions: preds.len() as u64,
        scored: overall.scored,
        not_eval,
        not_pairwise,
        no_label,
        judge_ties: ties,
        overall: acc(overall),
        by_tag: by_tag.into_iter().map(|(k, t)| (k, acc(t))).collect(),
        by_criterion: by_criterion.into_iter().map(|(k, t)| (k, acc(t))).collect(),
        position: BiasPair {
            judge: Share::tested(pos_j.0, pos_j.1),
            labels: Share::tested(pos_l.0, pos_l.1),
        },
        length: BiasPair {
            judge: Share::tested(len_j.0, len_j.1),
            labels: Share::tested(len_l.0, len_l.1),
        },
        threshold,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<Prediction>, String> {
        read_predictions(text.as_bytes()).map_err(|e| e.to_string())
    }

    #[test]
    fn lines_are_read_and_refusals_name_line_and_field() {
        let p = read(
            "{\"item_id\":\"x\",\"chosen\":\"a\"}\n\n{\"item_id\":\"y\",\"scores\":{\"a\":1,\"b\":2.5},\"order\":[\"b\",\"a\"]}\n",
        )
        .unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].line, 3);
        assert_eq!(pick(&p[1]), Some("b"));
        assert_eq!(
            read("{\"item_id\":\"x\",\"chosen\":\"a\"}\n{\"item_id\":\"x\",\"chosen\":\"b\"}")
                .unwrap_err(),
            "line 2: field `item_id`: item `x` is predicted twice (first on line 1)"
        );
        assert_eq!(
            read("{\"item_id\":\"x\",\"winner\":\"a\"}").unwrap_err(),
            "line 1: field `winner`: unknown field (expected item_id, chosen or scores, and optionally order)"
        );
        assert_eq!(
            read("{\"item_id\":\"x\",\"scores\":{\"a\":\"high\"}}").unwrap_err(),
            "line 1: field `scores.a`: must be a finite number"
        );
        assert_eq!(
            read("{\"chosen\":\"a\"}").unwrap_err(),
            "line 1: field `item_id`: missing"
        );
        assert!(
            read("not json")
                .unwrap_err()
                .starts_with("line 1: not JSON")
        );
        assert!(read("").unwrap_err().contains("holds no predictions"));
        let tie = read("{\"item_id\":\"x\",\"scores\":{\"a\":1,\"b\":1}}").unwrap();
        assert_eq!(pick(&tie[0]), None);
    }

    #[test]
    fn candidates_are_checked_against_the_item() {
        let seen = Seen {
            split: Some(Split::Eval),
            tags: vec![],
            candidates: vec![("a".into(), 3), ("b".into(), 40)],
        };
        let p = read(
            "{\"item_id\":\"x\",\"chosen\":\"c\"}\n{\"item_id\":\"y\",\"scores\":{\"a\":1}}\n{\"item_id\":\"z\",\"scores\":{\"a\":1,\"q\":2}}\n{\"item_id\":\"w\",\"chosen\":\"a\",\"order\":[\"a\"]}",
        )
        .unwrap();
        let errs: Vec<String> = p
            .iter()
            .map(|p| check(p, &seen).unwrap_err().to_string())
            .collect();
        assert_eq!(
            errs,
            [
                "line 1: field `chosen`: item `x` has no candidate `c` (it has `a`, `b`, or say `tie`)",
                "line 2: field `scores`: no score for candidate `b` of item `y`",
                "line 3: field `scores.q`: item `z` has no candidate `q` (it has `a`, `b`)",
                "line 4: field `order`: must list each candidate of item `w` once (`a`, `b`)",
            ]
        );
    }

    #[test]
    fn accuracy_bias_and_counts() {
        let preds = read(
            "{\"item_id\":\"1\",\"chosen\":\"a\"}\n{\"item_id\":\"2\",\"chosen\":\"b\"}\n{\"item_id\":\"3\",\"chosen\":\"tie\"}\n{\"item_id\":\"4\",\"chosen\":\"a\"}\n{\"item_id\":\"5\",\"chosen\":\"a\"}",
        )
        .unwrap();
        let eval = |tags: &[&str]| {
            Some(Seen {
                split: Some(Split::Eval),
                tags: tags.iter().map(|t| t.to_string()).collect(),
                candidates: vec![("a".into(), 10), ("b".into(), 100)],
            })
        };
        let mut seen = vec![
            eval(&["edge:x"]),
            eval(&[]),
            eval(&["edge:x"]),
            eval(&[]),
            eval(&[]),
        ];
        seen[3].as_mut().unwrap().split = Some(Split::Train);
        let label = |chosen: &str, rejected: &str, c: &'static str| Label {
            chosen: chosen.into(),
            rejected: rejected.into(),
            criteria: vec![("safety".into(), c)],
            ..Label::default()
        };
        let labels: HashMap<String, Label> = [
            ("1".to_owned(), label("a", "b", "chosen")),
            ("2".to_owned(), label("a", "b", "rejected")),
            ("3".to_owned(), label("b", "a", "tie")),
        ]
        .into_iter()
        .collect();
        let r = score(&preds, &seen, &labels, 0.9);
        assert_eq!(
            (r.scored, r.not_eval, r.no_label, r.judge_ties),
            (3, 1, 1, 1)
        );
        assert_eq!((r.overall.correct, r.overall.scored), (1, 3));
        let (lo, hi) = (r.overall.lower.unwrap(), r.overall.upper.unwrap());
        assert!(lo < 1.0 / 3.0 && 1.0 / 3.0 < hi);
        assert_eq!(r.by_tag["edge:x"].correct, 1);
        assert_eq!(r.by_tag["edge:x"].scored, 2);
        // Safety: item 1 a (judge a, right), item 2 b (judge b, right), item 3 a tie.
        assert_eq!(
            (
                r.by_criterion["safety"].correct,
                r.by_criterion["safety"].scored
            ),
            (2, 2)
        );
        // Decisive picks: a (first, shorter), b (second, longer).
        assert_eq!((r.position.judge.hits, r.position.judge.n), (1, 2));
        assert_eq!((r.length.judge.hits, r.length.judge.n), (1, 2));
        assert_eq!((r.position.labels.hits, r.position.labels.n), (2, 3));
    }

    #[test]
    fn models_are_ranked_with_intervals() {
        use plumbline_quality::bradley_terry::Winner;
        let names: Vec<String> = ["a-v1", "b-v2", "c-v3"].map(String::from).to_vec();
        let mut pairs = Vec::new();
        for (x, y, wins) in [(0u32, 1u32, 8), (1, 2, 7), (0, 2, 9)] {
            for k in 0..10 {
                let w = if k < wins {
                    Winner::Left
                } else {
                    Winner::Right
                };
                pairs.push((x, y, w));
            }
        }
        let b = board(&names, &pairs);
        assert_eq!(b.pairs, 30);
        let order: Vec<&str> = b.models.iter().map(|m| m.model.as_str()).collect();
        assert_eq!(order, ["a-v1", "b-v2", "c-v3"]);
        for m in &b.models {
            assert!(
                m.lower < m.log_strength && m.log_strength < m.upper,
                "{m:?}"
            );
            assert_eq!(m.comparisons, 20);
        }
        let one = board(&names, &[]);
        assert_eq!(
            one.undefined.as_deref(),
            Some("fewer than two models compared")
        );
    }
}
