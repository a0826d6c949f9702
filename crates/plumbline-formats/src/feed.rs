//! What every importer shares: the project's settings, the record it produces (an item
//! with its external prior judgments), and the [`Feeder`] that validates records,
//! batches them onto the store's import channel and keeps the error count.

use crate::lines::LineError;
use plumbline_domain::{Item, Scale, TaskKind};
use plumbline_store::{BATCH, ExternalJudgment, ImportMsg, NewItem};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use tokio::sync::mpsc;

/// How to read a file into a project (every format).
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Task kind of items that name none (the project's).
    pub default_task: TaskKind,
    /// Edge-case keys of the project's rubric; `edge:` tags must name one of them.
    pub edge_cases: HashSet<String>,
    /// The rubric's criteria and their scales (HelpSteer2 ratings are checked against them).
    pub criteria: BTreeMap<String, Scale>,
    /// Longest line (or CSV record) accepted, in bytes.
    pub max_line_bytes: usize,
    /// Largest whole-document input accepted (Label Studio's JSON array), in bytes.
    pub max_document_bytes: u64,
    /// Report up to this many bad records instead of stopping at the first.
    pub report_errors: usize,
    /// Where audio files named by items are found; `None` refuses items that name one
    /// by path (an API body has no directory).
    pub media: Option<crate::media::MediaOptions>,
}

/// Default line cap: 16 MiB, far above any real item and small enough to bound memory.
pub const DEFAULT_MAX_LINE_BYTES: usize = 16 << 20;

/// Default cap of a document read whole: 512 MiB.
pub const DEFAULT_MAX_DOCUMENT_BYTES: u64 = 512 << 20;

impl ReadOptions {
    /// Options for a project whose default task kind is `default_task`, with no rubric
    /// edge cases or criteria and the default caps.
    pub fn new(default_task: TaskKind) -> Self {
        ReadOptions {
            default_task,
            edge_cases: HashSet::new(),
            criteria: BTreeMap::new(),
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            max_document_bytes: DEFAULT_MAX_DOCUMENT_BYTES,
            report_errors: 0,
            media: None,
        }
    }
}

/// What a reader saw.
#[derive(Debug, Default)]
pub struct ReadSummary {
    /// Records that held an item (good or bad).
    pub records: u64,
    /// Source rows read that made no item of their own (oasst1 messages, HelpSteer2
    /// rows grouped under one prompt, deleted messages).
    pub rows: u64,
    /// Rows or subtrees left out on purpose, with the reason, counted by reason.
    pub skipped: BTreeMap<String, u64>,
    /// External prior judgments sent with the items.
    pub external_judgments: u64,
    /// The bad records reported (at most `report_errors`, at least the first).
    pub errors: Vec<LineError>,
    /// How many records were bad in all.
    pub error_count: u64,
    /// Whether the store stopped listening early (it found a conflict).
    pub store_stopped: bool,
}

/// One item as a format produced it, with the prior judgments it carries.
#[derive(Debug, Clone)]
pub struct Record {
    /// Line (or record) number in the source, for messages.
    pub line: u64,
    /// The item (not yet validated).
    pub item: Item,
    /// Judgments from the source; payloads are built by the importer for the item's kind.
    pub external: Vec<ExternalJudgment>,
}

/// Turns a validated item into the store's input: canonical JSON and its SHA-256.
pub fn encode_item(item: &Item, line: u64, default_task: TaskKind) -> NewItem {
    let body = serde_json::to_string(item).expect("an item always serializes");
    let content_hash: [u8; 32] = Sha256::digest(body.as_bytes()).into();
    NewItem {
        line,
        ext_id: item.id.clone(),
        task: item.task_or(default_task),
        split: item.split,
        body,
        content_hash,
        external: Vec::new(),
        media_sha256: item
            .media
            .as_ref()
            .and_then(|m| m.sha256.as_deref())
            .and_then(sha_from_hex),
        media: None,
    }
}

/// The 32 bytes of a 64-digit hex SHA-256 (validated by the domain before this).
fn sha_from_hex(hex: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Checks an item against the project: its own rules, then its edge-case tags.
pub fn check_item(item: &Item, line: u64, opts: &ReadOptions) -> Result<(), LineError> {
    item.validate(opts.default_task)
        .map_err(|f| LineError::new(line, Some(f.field), f.reason))?;
    for (i, tag) in item.tags.iter().enumerate() {
        if let Some(key) = tag.strip_prefix(plumbline_domain::item::EDGE_TAG_PREFIX)
            && !opts.edge_cases.contains(key)
        {
            return Err(LineError::new(
                line,
                Some(format!("tags[{i}]")),
                format!("edge case `{key}` is not defined by the project's rubric"),
            ));
        }
    }
    Ok(())
}

/// Audio bytes one batch may carry: a batch of 1,024 calls would otherwise hold
/// gigabytes in the channel.
const MAX_BATCH_MEDIA_BYTES: usize = 64 << 20;

/// Validates records and sends them in batches; after the first bad record it sends no
/// more items (nothing will be stored) but keeps counting up to `report_errors`.
pub struct Feeder<'a> {
    sink: &'a mpsc::Sender<ImportMsg>,
    opts: &'a ReadOptions,
    batch: Vec<NewItem>,
    batch_media_bytes: usize,
    keep: usize,
    /// What was seen so far.
    pub summary: ReadSummary,
}

impl<'a> Feeder<'a> {
    /// A feeder onto `sink`.
    pub fn new(sink: &'a mpsc::Sender<ImportMsg>, opts: &'a ReadOptions) -> Self {
        Feeder {
            sink,
            opts,
            batch: Vec::with_capacity(BATCH),
            batch_media_bytes: 0,
            keep: opts.report_errors.max(1),
            summary: ReadSummary::default(),
        }
    }

    /// The options records are checked against.
    pub fn options(&self) -> &'a ReadOptions {
        self.opts
    }

    /// True once a record was bad (no more items are sent).
    pub fn failed(&self) -> bool {
        self.summary.error_count > 0
    }

    /// Takes one record or refusal; false when reading should stop (enough errors
    /// reported, or the store stopped listening).
    pub fn accept(&mut self, record: Result<Record, LineError>) -> bool {
        self.summary.records += 1;
        let failed = self.failed();
        let checked = record.and_then(|mut r| {
            check_item(&r.item, r.line, self.opts)?;
            // Audio of a file that will not be stored is not read (after a bad record,
            // only the refusals are still counted).
            let media = if failed {
                None
            } else {
                crate::media::attach(&mut r.item, r.line, self.opts.media.as_ref())?
            };
            Ok((r, media))
        });
        match checked {
            Ok((r, media)) if !self.failed() => {
                let mut new = encode_item(&r.item, r.line, self.opts.default_task);
                if let Some(m) = &media {
                    self.batch_media_bytes += m.bytes.len();
                }
                new.media = media;
                self.summary.external_judgments += r.external.len() as u64;
                new.external = r.external;
                self.batch.push(new);
                if self.batch.len() == BATCH || self.batch_media_bytes >= MAX_BATCH_MEDIA_BYTES {
                    self.batch_media_bytes = 0;
                    let full = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
                    if self.sink.blocking_send(ImportMsg::Items(full)).is_err() {
                        self.summary.store_stopped = true;
                        return false;
                    }
                }
                true
            }
            Ok(_) => true,
            Err(e) => self.refuse(e),
        }
    }

    /// Records a refusal that is not tied to one item (a bad row, a broken file);
    /// false when reading should stop.
    pub fn refuse(&mut self, e: LineError) -> bool {
        self.summary.error_count += 1;
        self.batch.clear();
        self.batch_media_bytes = 0;
        if self.summary.errors.len() < self.keep {
            self.summary.errors.push(e);
        }
        (self.summary.error_count as usize) < self.keep
    }

    /// Counts a row left out on purpose.
    pub fn skip(&mut self, reason: &str) {
        *self.summary.skipped.entry(reason.to_owned()).or_default() += 1;
    }

    /// Sends the last batch and the finish message (commit only when every record was
    /// good and at least one item was read).
    pub fn finish(mut self) -> ReadSummary {
        if self.summary.store_stopped {
            return self.summary;
        }
        if self.summary.records == 0 && self.summary.error_count == 0 {
            self.summary.error_count = 1;
            self.summary.errors.push(LineError::new(
                0,
                None,
                "the file holds no items (it is empty)",
            ));
        }
        let clean = self.summary.error_count == 0;
        let batch = std::mem::take(&mut self.batch);
        if clean && !batch.is_empty() && self.sink.blocking_send(ImportMsg::Items(batch)).is_err() {
            self.summary.store_stopped = true;
            return self.summary;
        }
        if self
            .sink
            .blocking_send(ImportMsg::Finish { commit: clean })
            .is_err()
        {
            self.summary.store_stopped = true;
        }
        self.summary
    }
}

/// `prefix-` and the first 16 hex digits of the SHA-256 of `parts` joined by NUL: a
/// stable id for records whose source has none, so a re-import is recognised.
pub fn content_id(prefix: &str, parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h.update([0u8]);
        }
        h.update(p.as_bytes());
    }
    let digest = h.finalize();
    format!("{prefix}-{}", plumbline_store::hex(&digest[..8]))
}

/// The payload of an imported preference choice. `strength` is `null` when the source
/// records none (HH-RLHF, a CSV winner column, TRL rows): unknown, not 0 ("negligible"),
/// so exports write `strength` and `margin` as null for it. Annotators' and reviewers'
/// payloads always carry a strength; only imported ones may lack it.
pub fn imported_preference(
    winner: &plumbline_domain::judgment::Choice,
    strength: Option<i64>,
    criteria: serde_json::Map<String, serde_json::Value>,
    rationale: Option<&str>,
) -> String {
    let mut p = serde_json::Map::new();
    p.insert("criteria".into(), criteria.into());
    if let Some(r) = rationale.filter(|r| !r.trim().is_empty()) {
        p.insert("rationale".into(), r.into());
    }
    p.insert("strength".into(), strength.into());
    p.insert("winner".into(), winner.to_string().into());
    serde_json::Value::Object(p).to_string()
}
