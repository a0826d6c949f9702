//! The evaluation split: deterministic, stratified and leak-free. Pure: the caller
//! streams items in, gets one side per item and a report back.
//!
//! 1. **Deterministic.** Each item's rank is the first 8 bytes of
//!    SHA-256(`salt` ‖ 0 ‖ item id), so the same items and salt always give the same
//!    split, on every platform and version. The salt is the project's secret
//!    `split_salt`, or `seed:N` for a seed the caller names ([`seed_salt`]): then the
//!    split is a function of the items and the seed alone, the same in any database.
//! 2. **Stable.** An item whose own JSON fixes its split keeps it, and so (unless the
//!    caller asks to reassign) does an item split before: adding items never moves
//!    earlier ones between train and eval, which would leak what a model was tuned on.
//! 3. **Stratified.** Items are grouped by stratum — their expertise domains (from
//!    `requires`, else `metadata.domain`) and their edge-case tags. The evaluation set
//!    gets round(`eval_fraction` × N) items, shared among strata by largest remainder,
//!    so each stratum's share of the evaluation set matches its share of all items;
//!    within a stratum the lowest ranks go to eval. Every item counts in its own
//!    stratum, also when it is drawn with a cluster led from another one.
//! 4. **Leak-free.** Two prompts are near duplicates when the exact Jaccard similarity
//!    of their sets of word 3-shingles (of the normalised context: lower case, letters
//!    and digits only, single spaces; a prompt of fewer than three words is one
//!    shingle) is at least `threshold` (default 0.8: the same prompt with small edits;
//!    1.0 finds exact duplicates only). Prompts with equal shingle sets are grouped
//!    first. Candidates among the rest are found generously by MinHash LSH: 32 bands of
//!    r rows, r chosen from the threshold ([`rows_for`]: 3 at 0.8) so that a pair at the
//!    threshold shares no band with probability below 10⁻⁹ (at 0.8: 1.1 × 10⁻¹⁰); the
//!    caller then computes every candidate pair's exact Jaccard ([`shingles`],
//!    [`jaccard`]) and only pairs at or above the threshold count. Within a bucket every
//!    pair is a candidate up to [`WINDOW`] members; a larger bucket pairs each member
//!    with the [`WINDOW`] before it. Near duplicates form clusters (union-find), and a
//!    cluster is drawn whole: with pinned members (fixed or split before) it takes
//!    their side; otherwise its lowest-ranked member leads it into eval in rank order,
//!    only if every member fits in what is left of its own stratum's quota (else
//!    train), so a large family of duplicates never floods the evaluation set. The
//!    report lists every member whose side differs from its own draw ("moved"), with
//!    its nearest near duplicate, and counts items without duplicates displaced by a
//!    cluster. Pinned members on both sides of one cluster are a conflict: reported,
//!    not changed.

use plumbline_domain::{Item, Split};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

/// LSH bands; each band hashes `r` MinHash values ([`rows_for`]) into one key.
pub const BANDS: usize = 32;
/// The most MinHash values a band hashes.
pub const MAX_ROWS: usize = 3;
/// Buckets up to this size pair every two members; larger ones pair each member with
/// this many before it.
pub const WINDOW: usize = 64;

/// Default share of items held out for evaluation.
pub const DEFAULT_EVAL_FRACTION: f64 = 0.1;
/// Default exact Jaccard similarity at which two prompts are near duplicates.
pub const DEFAULT_THRESHOLD: f64 = 0.8;

/// The LSH band keys of a prompt (`None` for an empty context).
pub type BandKeys = Option<Box<[u32; BANDS]>>;

/// One item as the split sees it.
#[derive(Debug, Clone)]
pub struct SplitInput {
    /// The item's own id.
    pub id: String,
    /// Its stratum ([`stratum_of`]); callers may share one allocation per stratum.
    pub stratum: std::sync::Arc<str>,
    /// A hash of its set of shingles: equal sets, equal hashes (0 for an empty context).
    pub set_hash: u64,
    /// Its LSH band keys ([`band_keys`]).
    pub bands: BandKeys,
    /// A split the item's JSON fixes.
    pub fixed: Option<Split>,
    /// The split stored for it now (from its JSON or an earlier run).
    pub current: Option<Split>,
}

impl SplitInput {
    /// Reads what the split needs from an item, with its currently stored split, for a
    /// near-duplicate `threshold`.
    pub fn from_item(item: &Item, current: Option<Split>, threshold: f64) -> Self {
        SplitInput::from_parts(
            item.id.clone(),
            stratum_of(item).into(),
            &context_text(item),
            item.split,
            current,
            threshold,
        )
    }

    /// The same from the parts: id, stratum, context text ([`context_text`]), the split
    /// the item's JSON fixes and the stored one.
    pub fn from_parts(
        id: String,
        stratum: std::sync::Arc<str>,
        context: &str,
        fixed: Option<Split>,
        current: Option<Split>,
        threshold: f64,
    ) -> Self {
        let sh = shingles(context);
        SplitInput {
            id,
            stratum,
            set_hash: set_hash(&sh),
            bands: band_keys(&sh, rows_for(threshold)),
            fixed,
            current,
        }
    }
}

/// How to split.
#[derive(Debug, Clone)]
pub struct SplitConfig {
    /// The salt of the ranks: the project's split salt, or [`seed_salt`] of a seed.
    pub salt: String,
    /// Share of items for evaluation, in [0, 1].
    pub eval_fraction: f64,
    /// Exact Jaccard similarity at which prompts are near duplicates, in (0, 1].
    pub threshold: f64,
    /// Recompute items split before (items whose JSON fixes a split still keep it).
    pub reassign: bool,
    /// Production traffic's shares by class (an edge-case tag, or [`OTHER`] for items
    /// with none of the named tags), summing to 1: the evaluation set is drawn to these
    /// shares instead of the pool's. `None`: the pool's shares.
    pub production: Option<Vec<(String, f64)>>,
    /// Strata with fewer eval items than this are flagged as too small to evaluate.
    pub min_eval_items: u64,
}

/// The production class of items carrying none of the tags a production mix names.
pub const OTHER: &str = "other";
/// Default least number of eval items a stratum needs to be evaluated on its own.
pub const DEFAULT_MIN_EVAL_ITEMS: u64 = 30;

/// The salt of a split drawn with a seed the caller names.
pub fn seed_salt(seed: u64) -> String {
    format!("seed:{seed}")
}

/// A pair of inputs (by index) whose prompts are near duplicates, with their exact
/// Jaccard similarity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NearPair {
    /// One input.
    pub a: usize,
    /// The other.
    pub b: usize,
    /// Exact Jaccard similarity of their shingle sets.
    pub similarity: f64,
}

/// One stratum's counts, before and after.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct StratumRow {
    /// Domains and edge cases.
    pub stratum: String,
    /// Items in it.
    pub items: u64,
    /// Its share of all items.
    pub share_all: f64,
    /// Items in train.
    pub train: u64,
    /// Items in eval.
    pub eval: u64,
    /// Its share of the evaluation set.
    pub share_eval: f64,
}

/// An item moved to keep near duplicates on one side.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Moved {
    /// The item.
    pub id: String,
    /// Where the stratified draw put it.
    pub from: Split,
    /// Where its cluster is.
    pub to: Split,
    /// Its nearest near duplicate.
    pub duplicate_of: String,
    /// Exact Jaccard similarity of their prompts' word 3-shingles.
    pub similarity: f64,
}

/// What the split did.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct SplitReport {
    /// Items considered.
    pub items: u64,
    /// Asked share of eval.
    pub eval_fraction: f64,
    /// Near-duplicate threshold used (exact Jaccard).
    pub threshold: f64,
    /// Items in train / eval after the split.
    pub train: u64,
    /// Items in eval after the split.
    pub eval: u64,
    /// Items whose split was kept (fixed by their JSON, or split before).
    pub pinned: u64,
    /// Items whose stored split changes.
    pub changed: u64,
    /// Per stratum: the whole set beside the evaluation set.
    pub strata: Vec<StratumRow>,
    /// Clusters of near-duplicate prompts (two items or more).
    pub duplicate_clusters: u64,
    /// Items in those clusters.
    pub duplicate_items: u64,
    /// Near duplicates whose side differs from their own draw (their cluster's side).
    pub moved: Vec<Moved>,
    /// Items without near duplicates whose side differs from their own draw because
    /// a cluster, drawn whole, took or left their stratum's eval places.
    pub displaced: u64,
    /// Clusters whose pinned members sit on both sides (left as they are), by member ids.
    pub conflicts: Vec<Vec<String>>,
    /// With a production mix: per class, the pool's, train's, eval's and production's
    /// shares side by side.
    pub production: Vec<ClassRow>,
    /// Strata with fewer eval items than the minimum, too small to evaluate on their own.
    pub small_strata: Vec<String>,
    /// The minimum used for `small_strata`.
    pub min_eval_items: u64,
}

/// One production class beside the pool, train and eval.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct ClassRow {
    /// An edge-case tag, or `other`.
    pub class: String,
    /// Items of the class.
    pub items: u64,
    /// Its eval items.
    pub eval: u64,
    /// Its share of all items.
    pub share_pool: f64,
    /// Its share of train.
    pub share_train: f64,
    /// Its share of eval.
    pub share_eval: f64,
    /// The production share asked for.
    pub share_production: f64,
}

/// The split of every input (same order) and the report.
#[derive(Debug, Clone)]
pub struct SplitPlan {
    /// One side per input.
    pub sides: Vec<Split>,
    /// What was done.
    pub report: SplitReport,
}

/// Refuses settings out of range.
pub fn check_config(cfg: &SplitConfig) -> Result<(), String> {
    if !(0.0..=1.0).contains(&cfg.eval_fraction) {
        return Err(format!(
            "the eval fraction must lie in [0, 1], got {}",
            cfg.eval_fraction
        ));
    }
    if !(cfg.threshold > 0.0 && cfg.threshold <= 1.0) {
        return Err(format!(
            "the near-duplicate threshold must lie in (0, 1], got {}",
            cfg.threshold
        ));
    }
    if let Some(mix) = &cfg.production {
        let mut seen = std::collections::HashSet::new();
        for (class, share) in mix {
            if class != OTHER && !class.starts_with(plumbline_domain::item::EDGE_TAG_PREFIX) {
                return Err(format!(
                    "production share `{class}`: name an edge-case tag (edge:…) or `{OTHER}`"
                ));
            }
            if !(share.is_finite() && (0.0..=1.0).contains(share)) {
                return Err(format!(
                    "production share of `{class}` must lie in [0, 1], got {share}"
                ));
            }
            if !seen.insert(class.as_str()) {
                return Err(format!("production share of `{class}` is given twice"));
            }
        }
        let sum: f64 = mix.iter().map(|(_, s)| s).sum();
        if (sum - 1.0).abs() > 1e-6 {
            return Err(format!(
                "production shares must sum to 1, they sum to {sum} (give `{OTHER}` for items without the named tags)"
            ));
        }
    }
    Ok(())
}

/// The stratum of an item: its domains and edge cases, e.g. `banking | edge:bereavement`.
pub fn stratum_of(item: &Item) -> String {
    stratum_from(
        item.requires.iter().map(|e| e.domain.to_string()).collect(),
        item.metadata.get("domain").and_then(|v| v.as_str()),
        &item.tags,
    )
}

/// The stratum from an item's required domains, its `metadata.domain` (used when it
/// requires none) and its tags.
pub fn stratum_from(
    mut domains: Vec<String>,
    meta_domain: Option<&str>,
    tags: &[String],
) -> String {
    if domains.is_empty()
        && let Some(d) = meta_domain
    {
        domains.push(d.to_owned());
    }
    domains.sort();
    domains.dedup();
    let mut edges: Vec<&str> = tags
        .iter()
        .filter(|t| t.starts_with(plumbline_domain::item::EDGE_TAG_PREFIX))
        .map(String::as_str)
        .collect();
    edges.sort_unstable();
    edges.dedup();
    let d = if domains.is_empty() {
        "-".to_owned()
    } else {
        domains.join("+")
    };
    let e = if edges.is_empty() {
        "-".to_owned()
    } else {
        edges.join(",")
    };
    format!("{d} | {e}")
}

/// The text of an item's context, turns joined by newlines.
pub fn context_text(item: &Item) -> String {
    let mut s = String::new();
    for t in &item.context {
        s.push_str(&t.content);
        s.push('\n');
    }
    s
}

/// Lower case, letters and digits only, words separated by one space.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = true;
    for c in text.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// FNV-1a with a SplitMix64 finish: a fixed, portable 64-bit hash.
fn hash64(bytes: &[u8], seed: u64) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for &b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix(h)
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The hashes of a prompt's word 3-shingles (a prompt of fewer than three words is
/// one shingle), sorted and without repeats: the set whose exact Jaccard similarity
/// decides near duplicates. Empty when the normalised text is.
pub fn shingles(text: &str) -> Vec<u64> {
    let norm = normalize(text);
    if norm.is_empty() {
        return Vec::new();
    }
    let words: Vec<u64> = norm.split(' ').map(|w| hash64(w.as_bytes(), 0)).collect();
    let of = |shingle: &[u64]| shingle.iter().fold(0u64, |h, &w| mix(h ^ w));
    let mut out: Vec<u64> = if words.len() < 3 {
        vec![of(&words)]
    } else {
        words.windows(3).map(of).collect()
    };
    out.sort_unstable();
    out.dedup();
    out
}

/// A hash of a shingle set (0 for the empty set).
pub fn set_hash(shingles: &[u64]) -> u64 {
    shingles
        .iter()
        .fold(0u64, |h, &s| mix(h.wrapping_add(s)))
        .max(u64::from(!shingles.is_empty()))
}

/// Exact Jaccard similarity of two sorted shingle sets: |A ∩ B| / |A ∪ B| (1 for two
/// empty sets).
pub fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let (mut i, mut j, mut both) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                both += 1;
                i += 1;
                j += 1;
            }
        }
    }
    both as f64 / (a.len() + b.len() - both) as f64
}

/// Rows per band for a near-duplicate threshold: the most (up to [`MAX_ROWS`]) with which
/// a pair at the threshold shares none of the [`BANDS`] bands with probability at most
/// 10⁻⁹, i.e. (1 − tʳ)^32 ≤ 10⁻⁹; at least 1.
pub fn rows_for(threshold: f64) -> usize {
    (1..=MAX_ROWS)
        .rev()
        .find(|&r| (1.0 - threshold.powi(r as i32)).powi(BANDS as i32) <= 1e-9)
        .unwrap_or(1)
}

/// The LSH band keys of a shingle set: `BANDS × rows` MinHash values, each band's
/// `rows` hashed into one key; `None` for the empty set.
pub fn band_keys(shingles: &[u64], rows: usize) -> BandKeys {
    if shingles.is_empty() {
        return None;
    }
    let rows = rows.clamp(1, MAX_ROWS);
    let mut sig = [u32::MAX; BANDS * MAX_ROWS];
    let sig = &mut sig[..BANDS * rows];
    for &h in shingles {
        // Kirsch–Mitzenmacher: g_i = a + i·b (mod 2³²) stands for independent hashes;
        // in 32 bits the loop runs on vector lanes.
        let (a, b) = ((h >> 32) as u32, (h as u32) | 1);
        for (i, slot) in sig.iter_mut().enumerate() {
            let g = a.wrapping_add((i as u32).wrapping_mul(b));
            *slot = (*slot).min(g);
        }
    }
    let mut keys = Box::new([0u32; BANDS]);
    for (band, key) in keys.iter_mut().enumerate() {
        let mut h = band as u64;
        for &v in &sig[band * rows..(band + 1) * rows] {
            h = mix(h ^ u64::from(v));
        }
        *key = h as u32;
    }
    Some(keys)
}

/// The pairs of inputs (by index, smaller first, sorted) whose prompts may be near
/// duplicates: inputs with equal shingle sets are represented by the first of them, and
/// representatives sharing an LSH band key are paired (every two in a bucket of up to
/// [`WINDOW`], else each with the [`WINDOW`] before it). The caller keeps the pairs whose
/// exact Jaccard reaches the threshold; [`exact_duplicates`] gives the equal sets.
pub fn candidates(items: &[SplitInput]) -> Vec<(u32, u32)> {
    let reps: Vec<u32> = representatives(items);
    let mut pairs: Vec<u64> = Vec::new();
    let mut keyed: Vec<(u32, u32)> = Vec::with_capacity(reps.len());
    for band in 0..BANDS {
        keyed.clear();
        keyed.extend(
            reps.iter()
                .filter_map(|&i| items[i as usize].bands.as_ref().map(|keys| (keys[band], i))),
        );
        keyed.sort_unstable();
        let mut start = 0;
        while start < keyed.len() {
            let mut end = start + 1;
            while end < keyed.len() && keyed[end].0 == keyed[start].0 {
                end += 1;
            }
            let bucket = &keyed[start..end];
            for (k, &(_, i)) in bucket.iter().enumerate() {
                for &(_, j) in &bucket[k.saturating_sub(WINDOW)..k] {
                    pairs.push((u64::from(j.min(i)) << 32) | u64::from(j.max(i)));
                }
            }
            start = end;
        }
        if pairs.len() > (1 << 20) {
            pairs.sort_unstable();
            pairs.dedup();
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    pairs
        .into_iter()
        .map(|p| ((p >> 32) as u32, p as u32))
        .collect()
}

/// The first input of each distinct non-empty shingle set, by index.
fn representatives(items: &[SplitInput]) -> Vec<u32> {
    let mut seen: HashMap<u64, ()> = HashMap::with_capacity(items.len());
    (0..items.len() as u32)
        .filter(|&i| {
            let it = &items[i as usize];
            it.bands.is_some() && seen.insert(it.set_hash, ()).is_none()
        })
        .collect()
}

/// Pairs of inputs with equal non-empty shingle sets (each with the first of its set):
/// near duplicates at similarity 1 without further checks.
pub fn exact_duplicates(items: &[SplitInput]) -> Vec<NearPair> {
    let mut first: HashMap<u64, usize> = HashMap::with_capacity(items.len());
    let mut out = Vec::new();
    for (i, it) in items.iter().enumerate() {
        if it.bands.is_none() {
            continue;
        }
        match first.get(&it.set_hash) {
            Some(&f) => out.push(NearPair {
                a: f,
                b: i,
                similarity: 1.0,
            }),
            None => {
                first.insert(it.set_hash, i);
            }
        }
    }
    out
}

/// Splits near-duplicate detection end to end for inputs whose shingle sets are at hand
/// (`sets[i]` for `items[i]`): equal sets, then every candidate pair verified exactly.
pub fn near_pairs(items: &[SplitInput], sets: &[Vec<u64>], threshold: f64) -> Vec<NearPair> {
    let mut out = exact_duplicates(items);
    for (a, b) in candidates(items) {
        let (a, b) = (a as usize, b as usize);
        let similarity = jaccard(&sets[a], &sets[b]);
        if similarity >= threshold {
            out.push(NearPair { a, b, similarity });
        }
    }
    out
}

/// The rank of an item: the first 8 bytes of SHA-256(salt ‖ 0 ‖ id).
pub fn rank(salt: &str, id: &str) -> u64 {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update([0u8]);
    h.update(id.as_bytes());
    let d = h.finalize();
    u64::from_be_bytes(d[..8].try_into().expect("8 bytes"))
}

struct UnionFind(Vec<usize>);

impl UnionFind {
    fn find(&mut self, mut x: usize) -> usize {
        while self.0[x] != x {
            self.0[x] = self.0[self.0[x]];
            x = self.0[x];
        }
        x
    }
    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            self.0[hi] = lo;
        }
    }
}

/// Splits `items`, keeping each cluster of `near` (pairs of near duplicates, from
/// [`near_pairs`] or the caller's own exact check of [`candidates`]) on one side.
pub fn plan(
    items: &[SplitInput],
    cfg: &SplitConfig,
    near: &[NearPair],
) -> Result<SplitPlan, String> {
    check_config(cfg)?;
    let n = items.len();
    let ranks: Vec<u64> = items.iter().map(|i| rank(&cfg.salt, &i.id)).collect();
    let pinned: Vec<Option<Split>> = items
        .iter()
        .map(|i| i.fixed.or(if cfg.reassign { None } else { i.current }))
        .collect();

    // Stratified draw: eval quota per stratum by largest remainder.
    let mut strata: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, it) in items.iter().enumerate() {
        strata.entry(&it.stratum).or_default().push(i);
    }
    let total_eval = (cfg.eval_fraction * n as f64).round() as usize;
    let mut quotas: Vec<(&str, usize, f64)> = strata
        .iter()
        .map(|(s, members)| {
            let exact = cfg.eval_fraction * members.len() as f64;
            (*s, exact.floor() as usize, exact - exact.floor())
        })
        .collect();
    let mut left = total_eval.saturating_sub(quotas.iter().map(|q| q.1).sum());
    let mut order: Vec<usize> = (0..quotas.len()).collect();
    // Largest remainder first; ties by the stratum's salted hash, not its name.
    order.sort_by(|&a, &b| {
        quotas[b]
            .2
            .total_cmp(&quotas[a].2)
            .then_with(|| rank(&cfg.salt, quotas[a].0).cmp(&rank(&cfg.salt, quotas[b].0)))
    });
    for k in order {
        if left == 0 {
            break;
        }
        if quotas[k].2 > 0.0 {
            quotas[k].1 += 1;
            left -= 1;
        }
    }
    let mut quota_of: HashMap<&str, usize> = quotas.iter().map(|(s, q, _)| (*s, *q)).collect();
    let class_of = |stratum: &str| -> String {
        let edges = stratum.split_once(" | ").map_or("", |(_, e)| e);
        cfg.production
            .iter()
            .flatten()
            .map(|(c, _)| c)
            .find(|c| *c != OTHER && edges.split(',').any(|e| e == *c))
            .cloned()
            .unwrap_or_else(|| OTHER.to_owned())
    };
    if let Some(mix) = &cfg.production {
        // Eval places by class at the production shares (largest remainder, at most
        // the class's items), then within a class by its strata's sizes.
        let size_of = |class: &str| -> usize {
            strata
                .iter()
                .filter(|(s, _)| class_of(s) == class)
                .map(|(_, m)| m.len())
                .sum()
        };
        for (class, _) in mix {
            if size_of(class) == 0 && mix.iter().any(|(c, sh)| c == class && *sh > 0.0) {
                return Err(format!(
                    "production share of `{class}`: no item {}",
                    if class == OTHER {
                        "lacks every named tag".to_owned()
                    } else {
                        format!("carries {class}")
                    }
                ));
            }
        }
        let weights: Vec<f64> = mix.iter().map(|(_, s)| *s).collect();
        let caps: Vec<usize> = mix.iter().map(|(c, _)| size_of(c)).collect();
        let by_class = apportion(total_eval, &weights, &caps);
        for ((class, _), q) in mix.iter().zip(by_class) {
            let members: Vec<(&str, usize)> = strata
                .iter()
                .filter(|(s, _)| class_of(s) == *class)
                .map(|(s, m)| (*s, m.len()))
                .collect();
            let weights: Vec<f64> = members.iter().map(|(_, n)| *n as f64).collect();
            let caps: Vec<usize> = members.iter().map(|(_, n)| *n).collect();
            for ((s, _), k) in members.iter().zip(apportion(q, &weights, &caps)) {
                quota_of.insert(s, k);
            }
        }
    }

    // Each item's own draw, as if it had no near duplicate: within its stratum the
    // lowest ranks fill the stratum's quota. The report compares the result with it.
    let mut draw = vec![Split::Train; n];
    for (s, members) in &strata {
        let have = members
            .iter()
            .filter(|&&i| pinned[i] == Some(Split::Eval))
            .count();
        let mut free: Vec<usize> = Vec::new();
        for &i in members {
            match pinned[i] {
                Some(side) => draw[i] = side,
                None => free.push(i),
            }
        }
        free.sort_by_key(|&i| (ranks[i], i));
        let want = quota_of[s].saturating_sub(have);
        for (k, &i) in free.iter().enumerate() {
            if k < want {
                draw[i] = Split::Eval;
            }
        }
    }

    // Near duplicates: union the verified pairs; each item remembers its nearest one.
    let mut uf = UnionFind((0..n).collect());
    let mut nearest: HashMap<usize, (usize, f64)> = HashMap::new();
    for p in near {
        if p.a >= n || p.b >= n || p.a == p.b {
            return Err(format!(
                "near-duplicate pair ({}, {}) is out of range",
                p.a, p.b
            ));
        }
        uf.union(p.a, p.b);
        for (x, y) in [(p.a, p.b), (p.b, p.a)] {
            let better = match nearest.get(&x) {
                None => true,
                Some(&(k, s)) => p.similarity > s || (p.similarity == s && y < k),
            };
            if better {
                nearest.insert(x, (y, p.similarity));
            }
        }
    }
    // Clusters as runs of `order` (members by root, then index): no allocation per item.
    let roots: Vec<u32> = (0..n).map(|i| uf.find(i) as u32).collect();
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_unstable_by_key(|&i| (roots[i as usize], i));
    drop(roots);

    // Clusters are drawn whole. A cluster with pinned members takes their side (the
    // majority; ties: train); the others, led by their lowest-ranked member, fill
    // their members' strata's quotas in rank order, each only if it fits whole, so a
    // large family of duplicates never floods the evaluation set.
    #[derive(Clone, Copy)]
    struct Unit {
        start: u32,
        len: u32,
        leader: u32,
        side: Option<Split>,
    }
    let members_of = |u: &Unit| -> &[u32] { &order[u.start as usize..(u.start + u.len) as usize] };
    let mut conflicts = Vec::new();
    let mut units: Vec<Unit> = Vec::new();
    let mut start = 0usize;
    while start < n {
        let root = uf.find(order[start] as usize);
        let mut end = start + 1;
        while end < n && uf.find(order[end] as usize) == root {
            end += 1;
        }
        let members = &order[start..end];
        let (mut pinned_n, mut evals) = (0usize, 0usize);
        for &i in members {
            if let Some(side) = pinned[i as usize] {
                pinned_n += 1;
                evals += usize::from(side == Split::Eval);
            }
        }
        let side = if pinned_n == 0 {
            None
        } else {
            if evals > 0 && evals < pinned_n {
                conflicts.push(
                    members
                        .iter()
                        .map(|&i| items[i as usize].id.clone())
                        .collect(),
                );
            }
            Some(if evals * 2 > pinned_n {
                Split::Eval
            } else {
                Split::Train
            })
        };
        let leader = *members
            .iter()
            .filter(|&&i| side.is_none() || pinned[i as usize] == side)
            .min_by_key(|&&i| (ranks[i as usize], i))
            .unwrap_or(&members[0]);
        units.push(Unit {
            start: start as u32,
            len: (end - start) as u32,
            leader,
            side,
        });
        start = end;
    }
    // Every eval place counts in the member's own stratum.
    let mut sides = vec![Split::Train; n];
    let mut filled: HashMap<&str, usize> = HashMap::new();
    for u in units.iter().filter(|u| u.side.is_some()) {
        for &i in members_of(u) {
            let i = i as usize;
            // Pinned members keep their own side, even in a conflict.
            sides[i] = pinned[i].or(u.side).expect("a pinned unit has a side");
            if sides[i] == Split::Eval {
                *filled.entry(&items[i].stratum).or_default() += 1;
            }
        }
    }
    let mut free: Vec<&Unit> = units.iter().filter(|u| u.side.is_none()).collect();
    free.sort_by_key(|u| (ranks[u.leader as usize], u.leader));
    let mut wants: BTreeMap<&str, usize> = BTreeMap::new();
    for u in free {
        wants.clear();
        for &i in members_of(u) {
            *wants.entry(&items[i as usize].stratum).or_default() += 1;
        }
        let fits = wants
            .iter()
            .all(|(s, k)| filled.get(s).copied().unwrap_or(0) + k <= quota_of[s]);
        let side = if fits {
            for (s, k) in &wants {
                *filled.entry(s).or_default() += k;
            }
            Split::Eval
        } else {
            Split::Train
        };
        for &i in members_of(u) {
            sides[i as usize] = side;
        }
    }
    let mut moved = Vec::new();
    let (mut dup_clusters, mut dup_items, mut displaced) = (0u64, 0u64, 0u64);
    for u in &units {
        let members = members_of(u);
        if members.len() == 1 {
            let i = members[0] as usize;
            if sides[i] != draw[i] {
                displaced += 1;
            }
            continue;
        }
        dup_clusters += 1;
        dup_items += members.len() as u64;
        for &i in members {
            let i = i as usize;
            if sides[i] != draw[i] {
                let (j, similarity) = nearest[&i];
                moved.push(Moved {
                    id: items[i].id.clone(),
                    from: draw[i],
                    to: sides[i],
                    duplicate_of: items[j].id.clone(),
                    similarity,
                });
            }
        }
    }

    let eval_total = sides.iter().filter(|s| **s == Split::Eval).count() as u64;
    let rows: Vec<StratumRow> = strata
        .iter()
        .map(|(s, members)| {
            let eval = members.iter().filter(|&&i| sides[i] == Split::Eval).count() as u64;
            let count = members.len() as u64;
            StratumRow {
                stratum: (*s).to_owned(),
                items: count,
                share_all: share(count, n as u64),
                train: count - eval,
                eval,
                share_eval: share(eval, eval_total),
            }
        })
        .collect();
    let small_strata: Vec<String> = rows
        .iter()
        .filter(|r| r.eval < cfg.min_eval_items)
        .map(|r| r.stratum.clone())
        .collect();
    let production_rows: Vec<ClassRow> = match &cfg.production {
        None => Vec::new(),
        Some(mix) => {
            let train_total = n as u64 - eval_total;
            mix.iter()
                .map(|(class, asked)| {
                    let (items_c, eval_c) = rows
                        .iter()
                        .filter(|r| class_of(&r.stratum) == *class)
                        .fold((0, 0), |(a, b), r| (a + r.items, b + r.eval));
                    ClassRow {
                        class: class.clone(),
                        items: items_c,
                        eval: eval_c,
                        share_pool: share(items_c, n as u64),
                        share_train: share(items_c - eval_c, train_total),
                        share_eval: share(eval_c, eval_total),
                        share_production: *asked,
                    }
                })
                .collect()
        }
    };
    let changed = items
        .iter()
        .zip(&sides)
        .filter(|(it, s)| it.current != Some(**s))
        .count() as u64;
    Ok(SplitPlan {
        report: SplitReport {
            items: n as u64,
            eval_fraction: cfg.eval_fraction,
            threshold: cfg.threshold,
            train: n as u64 - eval_total,
            eval: eval_total,
            pinned: pinned.iter().filter(|p| p.is_some()).count() as u64,
            changed,
            strata: rows,
            duplicate_clusters: dup_clusters,
            duplicate_items: dup_items,
            moved,
            displaced,
            conflicts,
            production: production_rows,
            small_strata,
            min_eval_items: cfg.min_eval_items,
        },
        sides,
    })
}

/// `total` whole places shared by `weights` (largest remainder, ties to the earlier),
/// each at most its cap; places a capped share cannot take go to the others.
fn apportion(total: usize, weights: &[f64], caps: &[usize]) -> Vec<usize> {
    let mut out = vec![0usize; weights.len()];
    let mut left = total.min(caps.iter().sum());
    let mut open: Vec<usize> = (0..weights.len()).filter(|&i| caps[i] > 0).collect();
    while left > 0 && !open.is_empty() {
        let sum: f64 = open.iter().map(|&i| weights[i]).sum();
        let exact: Vec<(usize, f64)> = open
            .iter()
            .map(|&i| {
                let w = if sum > 0.0 {
                    weights[i] / sum
                } else {
                    1.0 / open.len() as f64
                };
                (i, w * left as f64)
            })
            .collect();
        // Shares that reach their cap take it; the rest is shared again among the others.
        let capped: Vec<usize> = exact
            .iter()
            .filter(|&&(i, x)| x >= caps[i] as f64)
            .map(|&(i, _)| i)
            .collect();
        if !capped.is_empty() {
            for i in capped {
                left -= caps[i];
                out[i] = caps[i];
            }
            open.retain(|&i| out[i] < caps[i]);
            continue;
        }
        let mut given = 0;
        for &(i, x) in &exact {
            out[i] = x.floor() as usize;
            given += out[i];
        }
        let mut rest: Vec<(usize, f64)> = exact.iter().map(|&(i, x)| (i, x - x.floor())).collect();
        rest.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        for (i, _) in rest.into_iter().take(left - given) {
            out[i] += 1;
        }
        break;
    }
    out
}

fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An input with its shingle set.
    fn input(id: &str, stratum: &str, text: &str) -> (SplitInput, Vec<u64>) {
        let sh = shingles(text);
        let input = SplitInput {
            id: id.into(),
            stratum: stratum.into(),
            set_hash: set_hash(&sh),
            bands: band_keys(&sh, rows_for(DEFAULT_THRESHOLD)),
            fixed: None,
            current: None,
        };
        (input, sh)
    }

    /// Plans inputs given with their shingle sets, near duplicates verified exactly.
    fn plan_of(items: &[(SplitInput, Vec<u64>)], cfg: &SplitConfig) -> SplitPlan {
        let (inputs, sets): (Vec<SplitInput>, Vec<Vec<u64>>) = items.iter().cloned().unzip();
        let near = near_pairs(&inputs, &sets, cfg.threshold);
        plan(&inputs, cfg, &near).unwrap()
    }

    fn cfg() -> SplitConfig {
        SplitConfig {
            salt: "salt".into(),
            eval_fraction: 0.2,
            threshold: DEFAULT_THRESHOLD,
            reassign: false,
            production: None,
            min_eval_items: DEFAULT_MIN_EVAL_ITEMS,
        }
    }

    #[test]
    fn normalization_and_similarity() {
        assert_eq!(normalize("  Hello,  WORLD!\nÇa va? "), "hello world ça va");
        let a = shingles("I want to close my late husband's account today please");
        let b = shingles("i want to close my late husband's account today, please!");
        assert_eq!(jaccard(&a, &b), 1.0);
        assert_eq!(set_hash(&a), set_hash(&b));
        let c = shingles("What is the interest rate on a fixed mortgage this year");
        assert!(jaccard(&a, &c) < 0.2);
        assert!(shingles(" ?! ").is_empty());
        assert!(band_keys(&[], 3).is_none());
        // 10 shingles within 12: 10 / 12.
        let x = shingles("w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12");
        let y = shingles("w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14");
        assert_eq!((x.len(), y.len()), (10, 12));
        assert_eq!(jaccard(&x, &y), 10.0 / 12.0);
        assert_eq!(rows_for(0.8), 3);
        assert_eq!(rows_for(0.7), 2);
        assert_eq!(rows_for(0.5), 1);
    }

    #[test]
    fn strata_get_their_share_of_eval() {
        let mut items = Vec::new();
        for i in 0..800 {
            items.push(input(
                &format!("a{i}"),
                "banking | -",
                &format!("question number {i} about accounts"),
            ));
        }
        for i in 0..200 {
            items.push(input(
                &format!("b{i}"),
                "banking | edge:bereavement",
                &format!("my relative {i} died what now"),
            ));
        }
        let p = plan_of(&items, &cfg());
        assert_eq!(p.report.eval, 200);
        let rows: Vec<(u64, u64)> = p.report.strata.iter().map(|r| (r.items, r.eval)).collect();
        assert_eq!(rows, [(800, 160), (200, 40)]);
        // Deterministic, and another salt gives another draw.
        assert_eq!(plan_of(&items, &cfg()).sides, p.sides);
        let other = SplitConfig {
            salt: "pepper".into(),
            ..cfg()
        };
        assert_ne!(plan_of(&items, &other).sides, p.sides);
    }

    #[test]
    fn near_duplicates_never_straddle() {
        let mut items = Vec::new();
        for i in 0..300 {
            items.push(input(
                &format!("x{i}"),
                "s",
                &format!("please help me with request {i} regarding the account statement"),
            ));
        }
        // Fifty copies of one prompt, with small edits.
        for i in 0..50 {
            let tail = if i % 2 == 0 { "thanks" } else { "thank you" };
            items.push(input(
                &format!("dup{i}"),
                "s",
                &format!("How do I close the account of my husband who died last month? {tail}"),
            ));
        }
        let p = plan_of(&items, &cfg());
        let dup_sides: Vec<Split> = (300..350).map(|i| p.sides[i]).collect();
        assert!(
            dup_sides.iter().all(|s| *s == dup_sides[0]),
            "{dup_sides:?}"
        );
        assert!(p.report.duplicate_items >= 50);
        assert!(!p.report.moved.is_empty());
        for m in &p.report.moved {
            assert!(m.similarity >= DEFAULT_THRESHOLD, "{m:?}");
        }
    }

    /// Pairs of prompts of exactly known Jaccard around the threshold: a prompt of 102
    /// distinct words has 100 shingles; appending k new words adds k, so the pair's
    /// Jaccard is 100 / (100 + k): k = 24 gives 0.806, k = 25 exactly 0.8, k = 26 0.794.
    /// Every pair at or above the threshold is clustered (one side), none below is.
    #[test]
    fn every_pair_at_the_threshold_is_kept_together_and_none_below() {
        let mut items = Vec::new();
        let mut expected = Vec::new();
        let mut word = 0u64;
        let mut next = || {
            word += 1;
            format!("t{word}")
        };
        for family in 0..300 {
            let base: Vec<String> = (0..102).map(|_| next()).collect();
            let k = [24usize, 25, 26][family % 3];
            let mut edited = base.clone();
            edited.extend((0..k).map(|_| next()));
            let (a, b) = (base.join(" "), edited.join(" "));
            let exact = 100.0 / (100.0 + k as f64);
            assert_eq!(jaccard(&shingles(&a), &shingles(&b)), exact);
            items.push(input(&format!("f{family}a"), "s", &a));
            items.push(input(&format!("f{family}b"), "s", &b));
            expected.push(exact >= DEFAULT_THRESHOLD);
        }
        let cfg = SplitConfig {
            eval_fraction: 0.5,
            ..cfg()
        };
        let (inputs, sets): (Vec<SplitInput>, Vec<Vec<u64>>) = items.iter().cloned().unzip();
        let near = near_pairs(&inputs, &sets, cfg.threshold);
        let p = plan(&inputs, &cfg, &near).unwrap();
        let mut straddling_below = 0;
        for (family, together) in expected.iter().enumerate() {
            let linked = near
                .iter()
                .any(|n| (n.a, n.b) == (2 * family, 2 * family + 1));
            assert_eq!(linked, *together, "family {family}");
            if *together {
                assert_eq!(
                    p.sides[2 * family],
                    p.sides[2 * family + 1],
                    "family {family}"
                );
            } else if p.sides[2 * family] != p.sides[2 * family + 1] {
                straddling_below += 1;
            }
        }
        assert_eq!(p.report.duplicate_clusters, 200);
        assert_eq!(p.report.duplicate_items, 400);
        // Pairs below the threshold are drawn independently: some straddle.
        assert!(straddling_below > 0);
        for m in &p.report.moved {
            assert!(m.similarity >= DEFAULT_THRESHOLD, "{m:?}");
        }
    }

    /// A cluster whose members sit in two strata takes eval places from each member's
    /// own stratum, so the report's per-stratum counts are the quotas.
    #[test]
    fn a_cluster_across_strata_counts_in_each_members_stratum() {
        let mut items = Vec::new();
        for i in 0..40 {
            items.push(input(
                &format!("a{i}"),
                "A",
                &format!("alpha question {i} about the account of number {i}"),
            ));
            items.push(input(
                &format!("b{i}"),
                "B",
                &format!("beta question {i} about the card with code {i}"),
            ));
        }
        for i in 0..6 {
            let stratum = if i % 2 == 0 { "A" } else { "B" };
            items.push(input(
                &format!("d{i}"),
                stratum,
                "the same prompt shared by both strata word for word",
            ));
        }
        let p = plan_of(&items, &cfg());
        for row in &p.report.strata {
            // 43 items each, quota round(0.2 × 43) = 9 by largest remainder (17 in all).
            assert!(row.eval <= 9, "{row:?}");
        }
        assert_eq!(
            p.report.eval,
            p.report.strata.iter().map(|r| r.eval).sum::<u64>()
        );
        let dup: Vec<Split> = (80..86).map(|i| p.sides[i]).collect();
        assert!(dup.iter().all(|s| *s == dup[0]), "{dup:?}");
    }

    /// The eval split drawn to production's shares, not the pool's: each class gets its
    /// share of the eval places (a class too small gives the rest to the others), the
    /// report puts pool, train, eval and production side by side and flags small strata.
    #[test]
    fn production_shares_shape_the_eval_set() {
        let mut items = Vec::new();
        for (stratum, n) in [("- | -", 900), ("- | edge:a", 80), ("- | edge:b", 20)] {
            for i in 0..n {
                items.push(input(
                    &format!("{stratum}{i}"),
                    stratum,
                    &format!("prompt {i} of stratum {stratum} with its own words"),
                ));
            }
        }
        let mix = |shares: &[(&str, f64)]| SplitConfig {
            eval_fraction: 0.1,
            production: Some(shares.iter().map(|(c, s)| (c.to_string(), *s)).collect()),
            ..cfg()
        };
        let p = plan_of(
            &items,
            &mix(&[("edge:a", 0.3), ("edge:b", 0.1), (OTHER, 0.6)]),
        );
        let evals: Vec<(String, u64, f64)> = p
            .report
            .production
            .iter()
            .map(|c| (c.class.clone(), c.eval, c.share_production))
            .collect();
        assert_eq!(
            evals,
            [
                ("edge:a".to_owned(), 30, 0.3),
                ("edge:b".to_owned(), 10, 0.1),
                (OTHER.to_owned(), 60, 0.6)
            ]
        );
        let a = &p.report.production[0];
        assert_eq!((a.share_pool, a.share_eval), (0.08, 0.3));
        assert_eq!(a.share_train, 50.0 / 900.0);
        assert_eq!(p.report.small_strata, ["- | edge:b"]);
        // edge:b asks for 50 places and has 20 items: the other 30 go by share.
        let p = plan_of(
            &items,
            &mix(&[("edge:b", 0.5), ("edge:a", 0.1), (OTHER, 0.4)]),
        );
        let evals: Vec<u64> = p.report.production.iter().map(|c| c.eval).collect();
        assert_eq!(evals, [20, 16, 64]);
        assert_eq!(p.report.eval, 100);
        // Refused: shares off 1, a class that is no edge tag, a tag no item carries.
        let refused = |c: SplitConfig| plan_of_err(&items, &c);
        assert_eq!(
            refused(mix(&[("edge:a", 0.3), (OTHER, 0.6)])),
            "production shares must sum to 1, they sum to 0.8999999999999999 (give `other` for items without the named tags)"
        );
        assert!(refused(mix(&[("banking", 0.5), (OTHER, 0.5)])).contains("name an edge-case tag"));
        assert_eq!(
            refused(mix(&[("edge:zz", 0.5), (OTHER, 0.5)])),
            "production share of `edge:zz`: no item carries edge:zz"
        );
        assert_eq!(apportion(10, &[0.5, 0.3, 0.2], &[100, 100, 100]), [5, 3, 2]);
        assert_eq!(apportion(10, &[0.5, 0.3, 0.2], &[100, 1, 100]), [6, 1, 3]);
        assert_eq!(apportion(10, &[1.0], &[4]), [4]);
    }

    fn plan_of_err(items: &[(SplitInput, Vec<u64>)], cfg: &SplitConfig) -> String {
        let (inputs, _): (Vec<SplitInput>, Vec<Vec<u64>>) = items.iter().cloned().unzip();
        plan(&inputs, cfg, &[]).unwrap_err()
    }

    #[test]
    fn pinned_items_keep_their_side_and_conflicts_are_reported() {
        let mut items: Vec<(SplitInput, Vec<u64>)> = (0..20)
            .map(|i| {
                input(
                    &format!("i{i}"),
                    "s",
                    &format!("distinct prompt number {i} with words"),
                )
            })
            .collect();
        items[0].0.current = Some(Split::Eval);
        items[1].0.fixed = Some(Split::Train);
        let p = plan_of(&items, &cfg());
        assert_eq!((p.sides[0], p.sides[1]), (Split::Eval, Split::Train));
        assert_eq!(p.report.pinned, 2);
        let re = SplitConfig {
            reassign: true,
            ..cfg()
        };
        assert_eq!(plan_of(&items, &re).report.pinned, 1);
        let mut dups = vec![
            input("d1", "s", "same prompt here ok"),
            input("d2", "s", "same prompt here ok"),
        ];
        dups[0].0.fixed = Some(Split::Eval);
        dups[1].0.fixed = Some(Split::Train);
        let p = plan_of(&dups, &cfg());
        assert_eq!(
            p.report.conflicts,
            vec![vec!["d1".to_owned(), "d2".to_owned()]]
        );
        assert_eq!((p.sides[0], p.sides[1]), (Split::Eval, Split::Train));
    }

    #[test]
    fn config_is_checked() {
        let bad = SplitConfig {
            eval_fraction: 1.5,
            ..cfg()
        };
        assert!(plan(&[], &bad, &[]).is_err());
        let bad = SplitConfig {
            threshold: 0.0,
            ..cfg()
        };
        assert!(plan(&[], &bad, &[]).is_err());
        assert_eq!(plan(&[], &cfg(), &[]).unwrap().report.items, 0);
    }
}
