//! OpenAssistant oasst1: one message a row (`message_id`, `parent_id`,
//! `message_tree_id`, `role` `prompter`/`assistant`, `text`, `lang`, `rank`, `deleted`,
//! …), as in the dataset's JSONL and Parquet files.
//!
//! Trees are rebuilt from `parent_id`, one tree at a time (the rows of a tree must be
//! contiguous, as the released files keep them; memory holds one tree). Every prompter
//! message with two or more live assistant replies becomes one `ranking` item whose
//! context is the path from the tree's root to that message and whose candidates are
//! the sibling replies (candidate id = the reply's `message_id`). When every sibling
//! has a `rank` (0 = best), the ranks become an external ranking judgment (`source`
//! `oasst1`). Deleted messages and their subtrees are left out and counted; a prompter
//! message with fewer than two replies makes no item. A row whose parent is not in its
//! tree is refused with its line.

use crate::feed::{Feeder, Record};
use crate::lines::LineError;
use crate::rows::{Fields, Row};
use plumbline_domain::{Candidate, Item, RankingPayload, Role, TaskKind, Turn};
use plumbline_store::ExternalJudgment;
use std::collections::{BTreeMap, HashMap, HashSet};

/// The `external_source` of judgments this importer stores.
pub const SOURCE: &str = "oasst1";

struct Message {
    line: u64,
    id: String,
    parent: Option<String>,
    role: Role,
    text: String,
    lang: Option<String>,
    rank: Option<i64>,
    deleted: bool,
}

/// Groups rows by tree and turns each finished tree into items.
#[derive(Default)]
pub struct Trees {
    current: Option<String>,
    first_line: u64,
    messages: Vec<Message>,
    done: HashSet<String>,
}

impl Trees {
    /// A fresh reader.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one row; false when reading should stop.
    pub fn on_row(&mut self, feed: &mut Feeder<'_>, line: u64, row: &Row) -> bool {
        feed.summary.rows += 1;
        let message = match parse(line, row) {
            Ok(m) => m,
            Err(e) => return feed.refuse(e),
        };
        let tree = message.1;
        if self.current.as_deref() != Some(tree.as_str()) {
            if !self.flush(feed) {
                return false;
            }
            if self.done.contains(&tree) {
                return feed.refuse(LineError::new(
                    line,
                    Some("message_tree_id".into()),
                    format!(
                        "the rows of tree `{tree}` are not contiguous (the tree appeared before \
                         and another tree followed); sort the file by message_tree_id"
                    ),
                ));
            }
            self.current = Some(tree);
            self.first_line = line;
        }
        self.messages.push(message.0);
        true
    }

    /// Turns the tree being read into items; false when reading should stop.
    pub fn flush(&mut self, feed: &mut Feeder<'_>) -> bool {
        let Some(tree) = self.current.take() else {
            return true;
        };
        let messages = std::mem::take(&mut self.messages);
        let go_on = tree_items(&tree, &messages, feed);
        self.done.insert(tree);
        go_on
    }
}

fn parse(line: u64, row: &Row) -> Result<(Message, String), LineError> {
    let f = Fields::new(line, row);
    let id = f.str("message_id")?.to_owned();
    let tree = f.str("message_tree_id")?.to_owned();
    let parent = f.opt_str("parent_id")?.map(str::to_owned);
    let role = match f.str("role")? {
        "prompter" => Role::User,
        "assistant" => Role::Assistant,
        other => {
            return Err(f.error(
                "role",
                format!("unknown role `{other}` (expected `prompter` or `assistant`)"),
            ));
        }
    };
    if parent.is_none() && id != tree {
        return Err(f.error(
            "parent_id",
            format!("is null, but the message is not the root of tree `{tree}`"),
        ));
    }
    Ok((
        Message {
            line,
            id,
            parent,
            role,
            text: f.str("text")?.to_owned(),
            lang: f.opt_str("lang")?.map(str::to_owned),
            rank: f.opt_int("rank")?,
            deleted: f.flag("deleted")?,
        },
        tree,
    ))
}

fn tree_items(tree: &str, messages: &[Message], feed: &mut Feeder<'_>) -> bool {
    let mut by_id: HashMap<&str, usize> = HashMap::with_capacity(messages.len());
    for (i, m) in messages.iter().enumerate() {
        if by_id.insert(m.id.as_str(), i).is_some() {
            return feed.refuse(LineError::new(
                m.line,
                Some("message_id".into()),
                format!("message `{}` appears twice in tree `{tree}`", m.id),
            ));
        }
    }
    let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, m) in messages.iter().enumerate() {
        let Some(parent) = &m.parent else { continue };
        let Some(&p) = by_id.get(parent.as_str()) else {
            return feed.refuse(LineError::new(
                m.line,
                Some("parent_id".into()),
                format!(
                    "parent message `{parent}` is not in tree `{tree}` (an orphan: the parent \
                     row is missing)"
                ),
            ));
        };
        children.entry(p).or_default().push(i);
    }
    // Every chain of parents must reach the root; a cycle would never end.
    for (i, m) in messages.iter().enumerate() {
        let mut at = i;
        let mut steps = 0;
        while let Some(p) = &messages[at].parent {
            at = by_id[p.as_str()];
            steps += 1;
            if steps > messages.len() {
                return feed.refuse(LineError::new(
                    m.line,
                    Some("parent_id".into()),
                    format!(
                        "the parents of message `{}` form a cycle in tree `{tree}`",
                        m.id
                    ),
                ));
            }
        }
    }
    // A message is live when neither it nor an ancestor is deleted.
    let live = |mut i: usize| loop {
        if messages[i].deleted {
            return false;
        }
        match &messages[i].parent {
            None => return true,
            Some(p) => i = by_id[p.as_str()],
        }
    };
    for (i, m) in messages.iter().enumerate() {
        if m.deleted {
            feed.skip("deleted oasst1 message");
        }
        if m.role != Role::User || !live(i) {
            continue;
        }
        let replies: Vec<&Message> = children
            .get(&i)
            .into_iter()
            .flatten()
            .map(|&c| &messages[c])
            .filter(|c| c.role == Role::Assistant && !c.deleted)
            .collect();
        if replies.len() < 2 {
            if !replies.is_empty() {
                feed.skip("oasst1 prompt with a single reply");
            }
            continue;
        }
        let mut path = vec![i];
        while let Some(p) = &messages[*path.last().expect("not empty")].parent {
            path.push(by_id[p.as_str()]);
        }
        path.reverse();
        let context = path
            .iter()
            .map(|&j| Turn {
                role: messages[j].role,
                content: messages[j].text.clone(),
                speaker: None,
                start: None,
                end: None,
                asr_confidence: None,
                interrupted: false,
                overlap: false,
                redacted: Vec::new(),
            })
            .collect();
        let candidates = replies
            .iter()
            .map(|r| Candidate {
                id: r.id.clone(),
                model: None,
                content: r.text.clone(),
            })
            .collect();
        let mut metadata = serde_json::Map::new();
        metadata.insert("source".into(), SOURCE.into());
        metadata.insert("message_tree_id".into(), tree.into());
        metadata.insert("prompt_message_id".into(), m.id.clone().into());
        let item = Item {
            id: format!("oasst1-{}", m.id),
            context,
            candidates,
            task: Some(TaskKind::Ranking),
            tags: m.lang.iter().map(|l| format!("lang:{l}")).collect(),
            requires: Vec::new(),
            metadata,
            split: None,
            media: None,
        };
        let external = ranking(&replies).into_iter().collect();
        if !feed.accept(Ok(Record {
            line: m.line,
            item,
            external,
        })) {
            return false;
        }
    }
    true
}

/// The ranks of sibling replies as a ranking payload, when every reply has one.
fn ranking(replies: &[&Message]) -> Option<ExternalJudgment> {
    let mut groups: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for r in replies {
        groups.entry(r.rank?).or_default().push(r.id.clone());
    }
    let payload = RankingPayload {
        order: groups.into_values().collect(),
        violations: Default::default(),
        rationale: String::new(),
        edge_cases: Vec::new(),
        priority_override: false,
    };
    Some(ExternalJudgment {
        source: SOURCE.into(),
        task: TaskKind::Ranking,
        payload: serde_json::to_string(&payload).expect("a payload serializes"),
        rationale: Some("oasst1 reply ranks (0 = best)".into()),
        time_ms: None,
        gold_candidate: false,
    })
}
