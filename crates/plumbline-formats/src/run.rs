//! Running an export over a store: read the project's judged items as a stream, decide
//! rows with the kind's writer on a blocking thread, write them to a [`RowSink`]. Pair
//! kinds first read every annotator's scored outcomes (a few rows each) for their
//! reliabilities, then the items once, deciding each as it comes; only under Dawid-Skene,
//! when some item is contested, is the model fitted and are the items read a second
//! time to write those (after the others).
//! Shared by `plumbline export`, `plumbline release create` and the API, so every
//! entry point decides rows the same way. Memory holds a few batches of items, the
//! reliabilities, the Dawid-Skene pass's labels (when asked for) and, for releases, the
//! statistics of [`Stats`].

use crate::export::{PairOptions, PairSummary, PairWriter, Pass, RowSink};
use crate::kinds::{AnnotatorInfo, Annotators, RowKind, RowWriter, pseudonym};
use crate::pair_row::ItemLayout;
use crate::reliabilities::Reliabilities;
use plumbline_domain::{Level, TaskKind};
use plumbline_store::{JudgedItem, Project, Store};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use tokio::sync::mpsc;

/// What an export writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// TRL conversational preference pairs.
    Preference,
    /// Pairs with a scalar margin.
    Reward,
    /// Messages for supervised fine-tuning.
    Sft,
    /// Consensus orders of ranked candidates.
    Ranking,
    /// Per-criterion scores of rated candidates.
    Rating,
    /// Red-team attacks and outcomes.
    RedTeam,
    /// Every judgment.
    Full,
    /// Label Studio task JSON with the decided labels as predictions.
    #[serde(rename = "label-studio")]
    LabelStudio,
}

impl Kind {
    /// Every kind, in the order messages list them.
    pub const ALL: [Kind; 8] = [
        Kind::Preference,
        Kind::Reward,
        Kind::Sft,
        Kind::Ranking,
        Kind::Rating,
        Kind::RedTeam,
        Kind::Full,
        Kind::LabelStudio,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Preference => "preference",
            Kind::Reward => "reward",
            Kind::Sft => "sft",
            Kind::Ranking => "ranking",
            Kind::Rating => "rating",
            Kind::RedTeam => "red_team",
            Kind::Full => "full",
            Kind::LabelStudio => "label-studio",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Result<Kind, String> {
        Ok(match s {
            "preference" => Kind::Preference,
            "reward" => Kind::Reward,
            "sft" => Kind::Sft,
            "ranking" => Kind::Ranking,
            "rating" => Kind::Rating,
            "red_team" => Kind::RedTeam,
            "full" => Kind::Full,
            "label-studio" | "label_studio" => Kind::LabelStudio,
            _ => {
                return Err(format!(
                    "unknown export kind `{s}` (expected preference, reward, sft, ranking, rating, red_team, full or label-studio)"
                ));
            }
        })
    }

    /// Whether rows are preference pairs decided by the decision rule (adjudication,
    /// gold, a single vote, else the method and its threshold; SFT takes the winner of
    /// such a pair).
    pub fn decides_pairs(self) -> bool {
        self.rows().is_none()
    }

    pub(crate) fn rows(self) -> Option<RowKind> {
        match self {
            Kind::Ranking => Some(RowKind::Ranking),
            Kind::Rating => Some(RowKind::Rating),
            Kind::RedTeam => Some(RowKind::RedTeam),
            Kind::Full => Some(RowKind::Full),
            Kind::LabelStudio => Some(RowKind::LabelStudio),
            _ => None,
        }
    }
}

/// The pseudonyms and verified levels of a project's members. The level is the highest
/// verified one in the project's domains (those of its required expertise); a project
/// that requires none counts the highest verified level in any domain.
pub async fn annotators<S: Store>(store: &S, project: &Project) -> Result<Annotators, String> {
    let domains: HashSet<&str> = project
        .settings
        .required_expertise
        .iter()
        .map(|e| e.domain.as_str())
        .collect();
    let members = store
        .members(project.id)
        .await
        .map_err(|e| format!("reading members: {e}"))?;
    let key = store
        .pseudonym_key(project.id)
        .await
        .map_err(|e| format!("reading the pseudonym key: {e}"))?;
    let mut out = HashMap::new();
    for m in members {
        let claims = store
            .expertise(m.user.id)
            .await
            .map_err(|e| format!("reading expertise: {e}"))?;
        let level = claims
            .iter()
            .filter(|c| c.verified_by.is_some() || c.verified_at.is_some())
            .filter(|c| domains.is_empty() || domains.contains(c.expertise.domain.as_str()))
            .map(|c| c.expertise.level)
            .max();
        out.insert(
            m.user.id.0,
            AnnotatorInfo {
                pseudonym: pseudonym(&key, m.user.id.0),
                level,
            },
        );
    }
    Ok(out)
}

/// What a finished export reports.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Counts of what was written and left out.
    pub summary: PairSummary,
    /// Ids of the items that gave at least one row (when asked for).
    pub items: Vec<String>,
    /// Statistics for a datasheet (when asked for).
    pub stats: Option<Stats>,
}

/// Opens the output on the writer thread.
pub type SinkFactory = Box<dyn FnOnce() -> io::Result<Box<dyn RowSink>> + Send>;

/// Streams the rows of `kind` of `project` into the sink `open` makes. With `collect`,
/// also returns the ids of the exported items and the datasheet statistics. On error the
/// sink is dropped unfinished; the caller removes what it wrote.
pub async fn export<S: Store>(
    store: &S,
    project: &Project,
    kind: Kind,
    mut opts: PairOptions,
    open: SinkFactory,
    collect: bool,
) -> Result<Outcome, String> {
    opts.reward = kind == Kind::Reward;
    opts.sft = kind == Kind::Sft;
    opts.pseudonym_key = store
        .pseudonym_key(project.id)
        .await
        .map_err(|e| format!("reading the pseudonym key: {e}"))?;
    let tasks: Vec<TaskKind> = match kind.rows() {
        Some(r) => r.tasks().to_vec(),
        None if kind == Kind::Sft => vec![TaskKind::Preference, TaskKind::Demonstration],
        None => vec![TaskKind::Preference],
    };
    let pair_kind = kind.decides_pairs();
    // Every voter's reliability, read before the items, so every item of the export is
    // decided with the same ones.
    let reliabilities = if pair_kind {
        let outcomes = store
            .annotator_outcomes(project.id)
            .await
            .map_err(|e| format!("reading the annotators' outcomes: {e}"))?;
        Reliabilities::new(&opts.annotators, &opts.pseudonym_key, &outcomes)
    } else {
        Reliabilities::default()
    };
    // Two batches queued for the writer keep it busy; more would only hold memory.
    let (tx, mut rx) = mpsc::channel::<Msg>(2);
    let stats_opts = opts.clone();
    let write = tokio::task::spawn_blocking(move || -> Result<Outcome, String> {
        let mut sink = open().map_err(|e| format!("cannot open the output: {e}"))?;
        let mut out = Outcome::default();
        let mut stats = collect.then(|| Stats::new(&stats_opts));
        let mut pairs = pair_kind.then(|| PairWriter::new(opts.clone(), reliabilities));
        let mut rows = kind.rows().map(|k| RowWriter::new(k, opts.clone()));
        let mut demo_summary = PairSummary::default();
        while let Some(msg) = rx.blocking_recv() {
            let (task, batch, layouts, pass, recycle) = match msg {
                Msg::Batch {
                    task,
                    items,
                    layouts,
                    pass,
                    recycle,
                } => (task, items, layouts, pass, recycle),
                Msg::EndOfFirstPass(reply) => {
                    let deferred = pairs.as_ref().map_or(0, PairWriter::deferred);
                    if deferred > 0
                        && let Some(p) = pairs.as_mut()
                    {
                        p.fit_deferred().map_err(|e| format!("Dawid-Skene: {e}"))?;
                    }
                    let _ = reply.send(deferred);
                    continue;
                }
            };
            for (at, j) in batch.iter().enumerate() {
                let mut counted = true;
                let exported = match (&mut pairs, &mut rows) {
                    (_, Some(w)) => write_all(sink.as_mut(), &w.rows(task, j))?,
                    (Some(p), None) if task == TaskKind::Preference => {
                        let sft = opts.sft;
                        let sink = sink.as_mut();
                        let layout = layouts.get(at).and_then(Option::as_ref);
                        let written = p.pair_in(j, pass, layout, |row| {
                            if sft {
                                sink.write(&crate::export::row_value(row, true))
                            } else {
                                sink.write_pair(row)
                            }
                        });
                        // A deferred item is counted when the second pass decides it;
                        // the second pass counts only the items it decides.
                        counted = (pass == Pass::Contested) == p.last_contested();
                        match written {
                            Some(r) => {
                                r.map_err(|e| format!("writing: {e}"))?;
                                true
                            }
                            None => false,
                        }
                    }
                    _ => {
                        let r = crate::export::demonstration_rows(j, &opts);
                        demo_summary.exported += r.len() as u64;
                        write_all(sink.as_mut(), &r)?
                    }
                };
                if counted {
                    if let Some(s) = stats.as_mut() {
                        s.add(task, j, exported);
                    }
                    if collect && exported {
                        out.items.push(j.ext_id.clone());
                    }
                }
            }
            // Back to the reader, to be refilled (dropped if it has enough).
            let _ = recycle.try_send(batch);
        }
        sink.finish().map_err(|e| format!("writing: {e}"))?;
        out.summary = match (pairs, rows) {
            (_, Some(w)) => w.summary,
            (Some(p), None) => p.summary,
            _ => PairSummary::default(),
        };
        if demo_summary.exported > 0 {
            out.summary.exported += demo_summary.exported;
            *out.summary
                .by_decision
                .entry("demonstration".into())
                .or_default() += demo_summary.exported;
        }
        out.stats = stats;
        Ok(out)
    });
    let first = if pair_kind { Pass::Decided } else { Pass::All };
    let mut sent = stream(store, project, &tasks, first, &tx).await;
    if sent.is_ok() && pair_kind {
        let (reply, deferred) = tokio::sync::oneshot::channel();
        if tx.send(Msg::EndOfFirstPass(reply)).await.is_ok() && deferred.await.unwrap_or(0) > 0 {
            sent = stream(
                store,
                project,
                &[TaskKind::Preference],
                Pass::Contested,
                &tx,
            )
            .await;
        }
    }
    drop(tx);
    let written = write
        .await
        .map_err(|e| format!("the writer thread failed: {e}"))?;
    // The writer's error explains a stopped stream better than the stream's own.
    let out = written?;
    sent.map_err(|e| format!("reading judgments: {e}"))?;
    Ok(out)
}

/// Writes `rows` to `sink`; whether there were any.
fn write_all(sink: &mut dyn RowSink, rows: &[serde_json::Value]) -> Result<bool, String> {
    for row in rows {
        sink.write(row).map_err(|e| format!("writing: {e}"))?;
    }
    Ok(!rows.is_empty())
}

/// What the store side sends the writer thread.
enum Msg {
    /// Items of one task kind, for one pass.
    Batch {
        task: TaskKind,
        items: Vec<JudgedItem>,
        /// The items' layouts, when found beside the writer (else empty).
        layouts: Vec<Option<ItemLayout>>,
        pass: Pass,
        /// Where to return the batch for refilling.
        recycle: std::sync::mpsc::SyncSender<Vec<JudgedItem>>,
    },
    /// The first pass is over: fit the deferred items, answer how many there were.
    EndOfFirstPass(tokio::sync::oneshot::Sender<usize>),
}

/// Streams the items of `tasks` to the writer, tagged with `pass`.
async fn stream<S: Store>(
    store: &S,
    project: &Project,
    tasks: &[TaskKind],
    pass: Pass,
    tx: &mpsc::Sender<Msg>,
) -> plumbline_store::Result<u64> {
    let mut total = 0;
    for &task in tasks {
        let (btx, mut brx) = mpsc::channel::<Vec<JudgedItem>>(2);
        // Batches in flight: two queued for the forwarder, one being parsed, two queued
        // for the writer and its own; two returned ones waiting to be refilled keep the
        // reader supplied (a batch returned beyond them is dropped).
        let (rtx, rrx) = std::sync::mpsc::sync_channel(2);
        let fwd = tx.clone();
        // The first read of pair kinds parses every item: that parse runs here, on the
        // blocking pool beside the writer, which then only slices the texts out (the
        // writer was the busier of the reading and writing threads). The second read
        // writes few items and skips the rest, so it parses its own.
        let find_layouts = pass == Pass::Decided && task == TaskKind::Preference;
        let forward = tokio::spawn(async move {
            while let Some(items) = brx.recv().await {
                let (items, layouts) = if find_layouts {
                    let found = tokio::task::spawn_blocking(move || {
                        let layouts = items.iter().map(|j| ItemLayout::of(&j.body)).collect();
                        (items, layouts)
                    })
                    .await;
                    match found {
                        Ok(found) => found,
                        Err(_) => break,
                    }
                } else {
                    (items, Vec::new())
                };
                let msg = Msg::Batch {
                    task,
                    items,
                    layouts,
                    pass,
                    recycle: rtx.clone(),
                };
                if fwd.send(msg).await.is_err() {
                    break;
                }
            }
        });
        let sent = store.judged_items(project.id, task, btx, Some(rrx)).await;
        let _ = forward.await;
        total += sent?;
    }
    Ok(total)
}

/// What a datasheet reports of the exported data, gathered in one pass with memory
/// proportional to the judgments of exported items (12 bytes each for agreement).
#[derive(Debug)]
pub struct Stats {
    opts: PairOptions,
    /// Items that gave rows, by task kind.
    pub items_by_task: BTreeMap<String, u64>,
    /// Counted judgments of exported items, by task kind.
    pub judgments_by_task: BTreeMap<String, u64>,
    /// Exported items carrying each tag.
    pub tags: BTreeMap<String, u64>,
    /// Distinct annotators of exported items by verified level (`unverified` when none).
    pub annotators_by_level: BTreeMap<String, u64>,
    /// Judgments of exported items by their annotator's level (`external` for imports).
    pub judgments_by_level: BTreeMap<String, u64>,
    seen_annotators: HashSet<i64>,
    /// Gold-scored judgments among the exported kinds' items: right, total.
    pub gold: (u64, u64),
    /// Preference judgments with a known display order and a winner: first shown won, total.
    pub position: (u64, u64),
    /// Preference judgments whose candidates differ in length by more than the threshold:
    /// the longer won, total.
    pub length: (u64, u64),
    /// Nominal labels for Krippendorff's alpha: (unit, voter, label).
    labels: Vec<plumbline_quality::Judgment>,
    label_names: HashMap<String, u32>,
    voters: HashMap<String, u32>,
    units: u32,
}

impl Stats {
    /// Statistics of nothing.
    pub fn empty() -> Stats {
        Stats::new(&PairOptions::default())
    }

    fn new(opts: &PairOptions) -> Stats {
        Stats {
            opts: opts.clone(),
            items_by_task: BTreeMap::new(),
            judgments_by_task: BTreeMap::new(),
            tags: BTreeMap::new(),
            annotators_by_level: BTreeMap::new(),
            judgments_by_level: BTreeMap::new(),
            seen_annotators: HashSet::new(),
            gold: (0, 0),
            position: (0, 0),
            length: (0, 0),
            labels: Vec::new(),
            label_names: HashMap::new(),
            voters: HashMap::new(),
            units: 0,
        }
    }

    fn add(&mut self, task: TaskKind, j: &JudgedItem, exported: bool) {
        let filtered;
        let j = if crate::kinds::filters_judgments(&self.opts) {
            filtered = crate::kinds::filter_judgments(j, &self.opts, None);
            &filtered
        } else {
            j
        };
        for row in &j.judgments {
            if let Some(ok) = row.gold_correct {
                self.gold.1 += 1;
                self.gold.0 += u64::from(ok);
            }
        }
        if !exported {
            return;
        }
        *self.items_by_task.entry(task.as_str().into()).or_default() += 1;
        let item: Option<plumbline_domain::Item> = serde_json::from_str(&j.body).ok();
        if let Some(item) = &item {
            for t in &item.tags {
                *self.tags.entry(t.clone()).or_default() += 1;
            }
        }
        let votes = crate::kinds::latest_votes(j, self.opts.include_external);
        *self
            .judgments_by_task
            .entry(task.as_str().into())
            .or_default() += votes.len() as u64;
        let unit = self.units;
        self.units += 1;
        for v in &votes {
            let level = match v.row.annotator {
                Some(a) => {
                    let l = self
                        .opts
                        .annotators
                        .get(&a)
                        .and_then(|i| i.level)
                        .map_or("unverified", Level::as_str);
                    if self.seen_annotators.insert(a) {
                        *self.annotators_by_level.entry(l.into()).or_default() += 1;
                    }
                    l
                }
                None => "external",
            };
            *self.judgments_by_level.entry(level.into()).or_default() += 1;
            // The label agreement is measured on: the winner, the whole order, the outcome.
            let field = match task {
                TaskKind::Preference => "winner",
                TaskKind::Ranking => "order",
                TaskKind::RedTeam => "outcome",
                TaskKind::Rating => "scores",
                TaskKind::Demonstration => continue,
            };
            if let Some(label) = v.payload.get(field) {
                let n = self.label_names.len() as u32;
                let label = *self.label_names.entry(label.to_string()).or_insert(n);
                let n = self.voters.len() as u32;
                let voter = *self.voters.entry(v.voter.clone()).or_insert(n);
                self.labels.push(plumbline_quality::Judgment {
                    item: unit,
                    annotator: voter,
                    label,
                });
            }
        }
        if task == TaskKind::Preference
            && let Some(item) = &item
            && item.candidates.len() == 2
        {
            let (a, b) = (&item.candidates[0], &item.candidates[1]);
            for v in &votes {
                let winner = v.payload.get("winner").and_then(|w| w.as_str());
                let Some(w) = winner.filter(|w| *w == a.id || *w == b.id) else {
                    continue;
                };
                let shown_first: Option<String> = v
                    .row
                    .display_order
                    .as_deref()
                    .and_then(|d| serde_json::from_str::<Vec<String>>(d).ok())
                    .and_then(|d| d.into_iter().next());
                if let Some(first) = shown_first {
                    self.position.1 += 1;
                    self.position.0 += u64::from(first == w);
                }
                let (la, lb) = (a.content.chars().count(), b.content.chars().count());
                let threshold = plumbline_quality::bias::DEFAULT_LENGTH_THRESHOLD as usize;
                if la.abs_diff(lb) > threshold {
                    let longer = if la > lb { &a.id } else { &b.id };
                    self.length.1 += 1;
                    self.length.0 += u64::from(longer == w);
                }
            }
        }
    }

    /// Krippendorff's alpha (nominal) over the labels of exported items: the winner
    /// (preference), the whole order (ranking), the outcome (red team), the whole score
    /// sheet (rating). Undefined, with the reason, when no item has two labels.
    pub fn alpha(&self) -> Result<plumbline_quality::Estimate, String> {
        use plumbline_quality::agreement::{Metric, krippendorff_alpha};
        if self.labels.is_empty() {
            return Ok(plumbline_quality::Estimate::Undefined(
                plumbline_quality::Undefined::NoData,
            ));
        }
        let set = plumbline_quality::LabelSet::new(
            self.units as usize,
            self.voters.len(),
            self.label_names.len().max(2),
            &self.labels,
        )
        .map_err(|e| e.to_string())?;
        krippendorff_alpha(&set, Metric::Nominal)
            .map(|r| r.alpha)
            .map_err(|e| e.to_string())
    }
}

/// A sink factory writing `kind` rows as `format` to the file `path` (created on the
/// writer thread). `criteria` are the rating columns of a Parquet rating export.
pub fn file_sink(
    kind: Kind,
    format: crate::release::FileFormat,
    path: std::path::PathBuf,
    criteria: Vec<String>,
) -> Result<SinkFactory, String> {
    use crate::export_table::{TableParquetSink, columns, sft_columns};
    use crate::release::FileFormat;
    Ok(match (format, kind.rows()) {
        (FileFormat::Jsonl, Some(RowKind::LabelStudio)) => Box::new(move || {
            let f = plumbline_store::files::create(&path)?;
            Ok(Box::new(crate::export::JsonArraySink::new(f)) as Box<dyn RowSink>)
        }),
        (FileFormat::Jsonl, _) => Box::new(move || {
            let f = plumbline_store::files::create(&path)?;
            Ok(Box::new(crate::export::JsonlSink::for_kind(f, kind)) as Box<dyn RowSink>)
        }),
        (FileFormat::Parquet, Some(rk)) => {
            let cols = columns(rk, &criteria)?;
            Box::new(move || {
                Ok(Box::new(TableParquetSink::create(&path, cols)?) as Box<dyn RowSink>)
            })
        }
        (FileFormat::Parquet, None) if kind == Kind::Sft => Box::new(move || {
            Ok(Box::new(TableParquetSink::create(&path, sft_columns())?) as Box<dyn RowSink>)
        }),
        (FileFormat::Parquet, None) => {
            let reward = kind == Kind::Reward;
            Box::new(move || {
                Ok(Box::new(crate::export_parquet::PairParquetSink::create(
                    &path, reward,
                )?) as Box<dyn RowSink>)
            })
        }
    })
}
