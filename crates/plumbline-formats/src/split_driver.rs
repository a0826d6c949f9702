//! The one split driver of the command line and the API: checks a [`SplitRequest`],
//! reads the project's items twice (once for ranks, strata and LSH band keys; once
//! more for the exact shingle sets of the few items in candidate pairs), plans the
//! split ([`crate::split`]) and stores what changed in one transaction with its audit
//! event.

use crate::split::{
    self, NearPair, SplitConfig, SplitInput, SplitReport, context_text, jaccard, shingles,
};
use plumbline_domain::{Item, Split, UserId};
use plumbline_store::{Project, SplitRow, Store, StoreError};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::mpsc;

/// A split as asked for, not yet checked.
#[derive(Debug, Clone)]
pub struct SplitRequest {
    /// Share of items held out for evaluation, in [0, 1].
    pub eval_fraction: f64,
    /// Exact Jaccard similarity at which prompts are near duplicates, in (0, 1].
    pub threshold: f64,
    /// Recompute items split before.
    pub reassign: bool,
    /// Plan and report without storing.
    pub dry_run: bool,
    /// The seed, as given (a whole number); `None`: the project's own secret seed.
    pub seed: Option<String>,
    /// Production traffic's shares by edge-case tag (and `other`), summing to 1.
    pub production: Option<Vec<(String, f64)>>,
    /// Strata with fewer eval items are flagged as too small to evaluate.
    pub min_eval_items: u64,
}

impl Default for SplitRequest {
    fn default() -> Self {
        SplitRequest {
            eval_fraction: split::DEFAULT_EVAL_FRACTION,
            threshold: split::DEFAULT_THRESHOLD,
            reassign: false,
            dry_run: false,
            seed: None,
            production: None,
            min_eval_items: split::DEFAULT_MIN_EVAL_ITEMS,
        }
    }
}

/// Why a split is refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum SplitError {
    /// A setting out of range, a seed that is not a number, a project without items.
    #[error("{0}")]
    Invalid(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored item does not parse, or a reader thread failed.
    #[error("{0}")]
    Internal(String),
}

/// Parses production shares: `edge:a=0.05,edge:b=0.1,other=0.85` (shares summing to 1;
/// checked with the split's settings).
pub fn parse_shares(s: &str) -> Result<Vec<(String, f64)>, String> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p
                .split_once('=')
                .ok_or_else(|| format!("production share `{p}`: write TAG=SHARE"))?;
            let v: f64 = v
                .trim()
                .parse()
                .map_err(|_| format!("production share `{p}`: `{}` is not a number", v.trim()))?;
            Ok((k.trim().to_owned(), v))
        })
        .collect()
}

/// Production shares from production items' tags, one item's tags at a time: each
/// edge-case tag seen is a class, and an item counts for the first of its edge-case
/// tags in name order (the order of the returned mix, so the pool's items are classed
/// by the same rule); items without one count as `other`. Shares are the classes'
/// fractions of the items.
pub fn shares_from_tag_lists<I, T>(items: I) -> Result<Vec<(String, f64)>, String>
where
    I: IntoIterator<Item = T>,
    T: IntoIterator<Item = String>,
{
    let mut edge_sets: Vec<Vec<String>> = Vec::new();
    for tags in items {
        let mut edges: Vec<String> = tags
            .into_iter()
            .filter(|t| t.starts_with(plumbline_domain::item::EDGE_TAG_PREFIX))
            .collect();
        edges.sort();
        edges.dedup();
        edge_sets.push(edges);
    }
    if edge_sets.is_empty() {
        return Err("production tags: no production item given".to_owned());
    }
    let total = edge_sets.len() as f64;
    let mut counts: std::collections::BTreeMap<String, u64> = Default::default();
    let mut other = 0u64;
    for edges in &edge_sets {
        match edges.first() {
            Some(first) => *counts.entry(first.clone()).or_default() += 1,
            None => other += 1,
        }
    }
    let mut mix: Vec<(String, f64)> = counts
        .into_iter()
        .map(|(class, n)| (class, n as f64 / total))
        .collect();
    if other > 0 {
        mix.push((split::OTHER.to_owned(), other as f64 / total));
    }
    Ok(mix)
}

/// Reads production items' tags from a file's lines: a JSON object per line with a
/// `tags` list (any native item JSONL or items export; a line without `tags` is an item
/// without tags), a JSON list of tags, or plain text with one item's tags separated by
/// commas or spaces (`-` for none). Blank lines are skipped. Errors name the line.
pub fn production_tags_from_lines(
    mut input: impl std::io::BufRead,
) -> Result<Vec<Vec<String>>, String> {
    let mut items = Vec::new();
    let mut line = String::new();
    let mut number = 0u64;
    loop {
        line.clear();
        let read = input
            .read_line(&mut line)
            .map_err(|e| format!("line {}: {e}", number + 1))?;
        if read == 0 {
            break;
        }
        number += 1;
        let text = line.trim().trim_start_matches('\u{feff}');
        if text.is_empty() {
            continue;
        }
        let tags = if text.starts_with('{') || text.starts_with('[') {
            let value: serde_json::Value =
                serde_json::from_str(text).map_err(|e| format!("line {number}: not JSON: {e}"))?;
            let list = match &value {
                serde_json::Value::Object(o) => match o.get("tags") {
                    None | Some(serde_json::Value::Null) => Vec::new(),
                    Some(serde_json::Value::Array(a)) => a.clone(),
                    Some(_) => {
                        return Err(format!(
                            "line {number}: field `tags` must be a list of strings"
                        ));
                    }
                },
                serde_json::Value::Array(a) => a.clone(),
                _ => {
                    return Err(format!(
                        "line {number}: expected an object with `tags` or a list of tags"
                    ));
                }
            };
            list.into_iter()
                .map(|t| match t {
                    serde_json::Value::String(s) => Ok(s),
                    other => Err(format!(
                        "line {number}: field `tags`: `{other}` is not a string"
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?
        } else {
            text.split([',', ' ', '\t'])
                .map(str::trim)
                .filter(|t| !t.is_empty() && *t != "-")
                .map(str::to_owned)
                .collect()
        };
        items.push(tags);
    }
    Ok(items)
}

/// Parses a seed: a whole number from 0 to 2⁶⁴ − 1.
pub fn parse_seed(s: &str) -> Result<u64, String> {
    s.trim().parse::<u64>().map_err(|_| {
        format!(
            "seed `{s}` is not a number (expected a whole number from 0 to {})",
            u64::MAX
        )
    })
}

/// What a split did: the report, how it was seeded and whether it was stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SplitOutcome {
    /// The plan's report.
    #[serde(flatten)]
    pub report: SplitReport,
    /// The seed given; `None`: the project's own secret seed.
    pub seed: Option<u64>,
    /// How to draw the same split again (never the secret itself).
    pub reproduce: String,
    /// Whether the changes were stored (false for a dry run).
    pub stored: bool,
}

/// Plans the split of `project`'s items and, unless a dry run, stores what changed
/// (`actor` in the audit event; `None`: the command line).
pub async fn run<S: Store>(
    store: &S,
    actor: Option<UserId>,
    project: &Project,
    req: SplitRequest,
) -> Result<SplitOutcome, SplitError> {
    let seed = match req.seed.as_deref() {
        None => None,
        Some(s) => Some(parse_seed(s).map_err(SplitError::Invalid)?),
    };
    let cfg = SplitConfig {
        salt: match seed {
            Some(seed) => split::seed_salt(seed),
            None => project.split_salt.clone(),
        },
        eval_fraction: req.eval_fraction,
        threshold: req.threshold,
        reassign: req.reassign,
        production: req.production.clone(),
        min_eval_items: req.min_eval_items,
    };
    split::check_config(&cfg).map_err(SplitError::Invalid)?;
    let threshold = cfg.threshold;
    // One allocation per stratum, shared by its items.
    let mut strata: HashMap<String, Arc<str>> = HashMap::new();
    let mut text = String::new();
    let inputs = read(store, project, move |row| {
        let v: SplitView = serde_json::from_str(&row.body).map_err(|e| {
            SplitError::Internal(format!("stored item `{}` does not parse: {e}", row.ext_id))
        })?;
        let name = split::stratum_from(
            v.requires.iter().map(|e| e.domain.to_string()).collect(),
            v.metadata.domain.as_ref().and_then(|d| d.as_str()),
            &v.tags,
        );
        let stratum = match strata.get(&name) {
            Some(s) => s.clone(),
            None => {
                let s: Arc<str> = name.as_str().into();
                strata.insert(name, s.clone());
                s
            }
        };
        text.clear();
        for t in &v.context {
            text.push_str(&t.content);
            text.push('\n');
        }
        Ok(Some(SplitInput::from_parts(
            row.ext_id, stratum, &text, v.split, row.split, threshold,
        )))
    })
    .await?;
    if inputs.is_empty() {
        return Err(SplitError::Invalid(format!(
            "project `{}` holds no items to split",
            project.name
        )));
    }
    let near = near_pairs(store, project, &inputs, threshold).await?;
    let plan = split::plan(&inputs, &cfg, &near).map_err(SplitError::Invalid)?;
    // The ids move into the changes; nothing else needs the inputs now.
    let changes: Vec<(String, Split)> = inputs
        .into_iter()
        .zip(&plan.sides)
        .filter(|(i, s)| i.current != Some(**s))
        .map(|(i, s)| (i.id, *s))
        .collect();
    let report = plan.report;
    let seeded = match seed {
        Some(seed) => format!("seed {seed}"),
        None => "the project's secret seed".to_owned(),
    };
    if !req.dry_run && !changes.is_empty() {
        let summary = format!(
            "eval {} of {} (fraction {}, threshold {}, {seeded}), {} changed, {} moved as near duplicates",
            report.eval,
            report.items,
            report.eval_fraction,
            report.threshold,
            changes.len(),
            report.moved.len()
        );
        store
            .set_splits(actor, project.id, changes, summary)
            .await?;
    }
    let reproduce = match seed {
        Some(seed) => format!(
            "the split is a function of the items and seed {seed}: the same items split with \
             --seed {seed} --eval-fraction {} --threshold {} give the same sides in any database",
            report.eval_fraction, report.threshold
        ),
        None => format!(
            "drawn with the project's own secret seed: running it again here gives the same \
             sides; elsewhere, import an items export (each item carries its split), or split \
             both with --seed N --eval-fraction {} --threshold {}",
            report.eval_fraction, report.threshold
        ),
    };
    Ok(SplitOutcome {
        report,
        seed,
        reproduce,
        stored: !req.dry_run,
    })
}

/// What the split reads of an item: its id, context, tags, domains and own split
/// (the candidates are skipped without being kept).
#[derive(serde::Deserialize)]
struct SplitView {
    #[serde(default)]
    context: Vec<TurnText>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    requires: Vec<plumbline_domain::Expertise>,
    #[serde(default)]
    metadata: MetaView,
    #[serde(default)]
    split: Option<Split>,
}

#[derive(serde::Deserialize)]
struct TurnText {
    content: String,
}

#[derive(serde::Deserialize, Default)]
struct MetaView {
    #[serde(default)]
    domain: Option<serde_json::Value>,
}

fn parse(row: &SplitRow) -> Result<Item, SplitError> {
    serde_json::from_str(&row.body).map_err(|e| {
        SplitError::Internal(format!("stored item `{}` does not parse: {e}", row.ext_id))
    })
}

/// Streams the project's items through `keep` on a blocking thread, collecting what it
/// keeps.
async fn read<S, T, F>(store: &S, project: &Project, mut keep: F) -> Result<Vec<T>, SplitError>
where
    S: Store,
    T: Send + 'static,
    F: FnMut(SplitRow) -> Result<Option<T>, SplitError> + Send + 'static,
{
    let (tx, mut rx) = mpsc::channel::<Vec<SplitRow>>(4);
    let reduce = tokio::task::spawn_blocking(move || -> Result<Vec<T>, SplitError> {
        let mut out = Vec::new();
        while let Some(batch) = rx.blocking_recv() {
            for row in batch {
                if let Some(t) = keep(row)? {
                    out.push(t);
                }
            }
        }
        Ok(out)
    });
    let sent = store.split_rows(project.id, tx).await;
    let kept = reduce
        .await
        .map_err(|e| SplitError::Internal(format!("the split reader failed: {e}")))?;
    sent?;
    kept
}

/// The near-duplicate pairs of `inputs`: equal shingle sets, and every LSH candidate
/// pair whose exact Jaccard (from a second read of just those items) reaches the
/// threshold.
async fn near_pairs<S: Store>(
    store: &S,
    project: &Project,
    inputs: &[SplitInput],
    threshold: f64,
) -> Result<Vec<NearPair>, SplitError> {
    let mut near = split::exact_duplicates(inputs);
    let pairs = split::candidates(inputs);
    if pairs.is_empty() {
        return Ok(near);
    }
    let mut wanted: HashMap<String, u32> = HashMap::new();
    for &(a, b) in &pairs {
        for i in [a, b] {
            wanted.insert(inputs[i as usize].id.clone(), i);
        }
    }
    let sets: HashMap<u32, Vec<u64>> = read(store, project, move |row| {
        let Some(&i) = wanted.get(&row.ext_id) else {
            return Ok(None);
        };
        let item = parse(&row)?;
        Ok(Some((i, shingles(&context_text(&item)))))
    })
    .await?
    .into_iter()
    .collect();
    for (a, b) in pairs {
        // An item gone since the first read is no duplicate.
        if let (Some(x), Some(y)) = (sets.get(&a), sets.get(&b)) {
            let similarity = jaccard(x, y);
            if similarity >= threshold {
                near.push(NearPair {
                    a: a as usize,
                    b: b as usize,
                    similarity,
                });
            }
        }
    }
    Ok(near)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(lines: &str) -> Result<Vec<Vec<String>>, String> {
        production_tags_from_lines(lines.as_bytes())
    }

    #[test]
    fn shares_are_the_classes_fractions_with_other_for_the_rest() {
        let items = tags(
            "{\"id\":\"p1\",\"tags\":[\"edge:fraud\",\"billing\"]}\n\
             [\"edge:bereavement\"]\n\
             edge:fraud, urgent\n\
             -\n\
             \n\
             {\"id\":\"p5\"}\n",
        )
        .unwrap();
        assert_eq!(items.len(), 5, "the blank line is skipped, `-` is an item");
        let mix = shares_from_tag_lists(items).unwrap();
        assert_eq!(
            mix,
            vec![
                ("edge:bereavement".to_owned(), 0.2),
                ("edge:fraud".to_owned(), 0.4),
                ("other".to_owned(), 0.4),
            ]
        );
        let sum: f64 = mix.iter().map(|(_, s)| s).sum();
        assert!((sum - 1.0).abs() < 1e-12);
    }

    #[test]
    fn an_item_with_several_edge_tags_counts_for_the_first_in_name_order() {
        let mix = shares_from_tag_lists(vec![
            vec!["edge:z".to_owned(), "edge:a".to_owned()],
            vec!["edge:z".to_owned()],
        ])
        .unwrap();
        assert_eq!(
            mix,
            vec![("edge:a".to_owned(), 0.5), ("edge:z".to_owned(), 0.5)],
            "no `other` class when every item carries an edge tag"
        );
    }

    #[test]
    fn bad_lines_are_named() {
        let e = tags("edge:a\n{\"tags\": \"edge:a\"}\n").unwrap_err();
        assert!(e.contains("line 2") && e.contains("`tags`"), "{e}");
        let e = tags("{\"tags\": [1]}\n").unwrap_err();
        assert!(e.contains("line 1") && e.contains("not a string"), "{e}");
        let e = tags("{not json\n").unwrap_err();
        assert!(e.contains("line 1: not JSON"), "{e}");
        let e = shares_from_tag_lists(Vec::<Vec<String>>::new()).unwrap_err();
        assert!(e.contains("no production item"), "{e}");
    }
}
