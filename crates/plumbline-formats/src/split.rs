//! The evaluation split: deterministic, stratified and leak-free. Pure: the caller
//! streams items in, gets one side per item and a report back.
//!
//! 1. **Deterministic.** Each item's rank is the first 8 bytes of
//!    SHA-256(`salt` ‖ 0 ‖ item id) — the project's `split_salt` — so the same items and
//!    salt always give the same split, on every platform and version.
//! 2. **Stable.** An item whose own JSON fixes its split keeps it, and so (unless the
//!    caller asks to reassign) does an item split before: adding items never moves
//!    earlier ones between train and eval, which would leak what a model was tuned on.
//! 3. **Stratified.** Items are grouped by stratum — their expertise domains (from
//!    `requires`, else `metadata.domain`) and their edge-case tags. The evaluation set
//!    gets round(`eval_fraction` × N) items, shared among strata by largest remainder,
//!    so each stratum's share of the evaluation set matches its share of all items;
//!    within a stratum the lowest ranks go to eval.
//! 4. **Leak-free.** Near-duplicate prompts are found by MinHash over word 3-shingles of
//!    the normalised context (lower case, letters and digits only, single spaces): 64
//!    hash values per item, LSH with 16 bands of 4 rows to find candidates, kept when
//!    the estimated Jaccard similarity is at least `threshold` (default 0.8: the same
//!    prompt with small edits; 1.0 finds exact duplicates only). Within a bucket each
//!    item is compared with the bucket's first item and its predecessor, which keeps
//!    the work linear when thousands of prompts are equal. Near duplicates form
//!    clusters (union-find), and a cluster is drawn whole: with pinned members (fixed
//!    or split before) it takes their side; otherwise its lowest-ranked member leads it
//!    into its stratum's eval places in rank order, only if the whole cluster fits in
//!    what is left of the quota (else train), so a large family of duplicates never
//!    floods the evaluation set. The report lists every member whose side differs
//!    from its own draw ("moved"), and counts items without duplicates displaced by a
//!    cluster. Pinned members on both sides of one cluster are a conflict: reported,
//!    not changed.

use plumbline_domain::{Item, Split};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

/// Hash values per MinHash signature.
pub const SIGNATURE_LEN: usize = 64;
const BANDS: usize = 16;
const ROWS: usize = SIGNATURE_LEN / BANDS;

/// Default share of items held out for evaluation.
pub const DEFAULT_EVAL_FRACTION: f64 = 0.1;
/// Default estimated Jaccard similarity at which two prompts are near duplicates.
pub const DEFAULT_THRESHOLD: f64 = 0.8;

/// A MinHash signature of a prompt (`None` for an empty context).
pub type Signature = Option<Box<[u32; SIGNATURE_LEN]>>;

/// One item as the split sees it.
#[derive(Debug, Clone)]
pub struct SplitInput {
    /// The item's own id.
    pub id: String,
    /// Its stratum ([`stratum_of`]).
    pub stratum: String,
    /// MinHash of its normalised context ([`signature`]).
    pub signature: Signature,
    /// A split the item's JSON fixes.
    pub fixed: Option<Split>,
    /// The split stored for it now (from its JSON or an earlier run).
    pub current: Option<Split>,
}

impl SplitInput {
    /// Reads what the split needs from an item, with its currently stored split.
    pub fn from_item(item: &Item, current: Option<Split>) -> Self {
        SplitInput {
            id: item.id.clone(),
            stratum: stratum_of(item),
            signature: signature(&context_text(item)),
            fixed: item.split,
            current,
        }
    }
}

/// How to split.
#[derive(Debug, Clone)]
pub struct SplitConfig {
    /// The project's split salt.
    pub salt: String,
    /// Share of items for evaluation, in [0, 1].
    pub eval_fraction: f64,
    /// Estimated Jaccard similarity at which prompts are near duplicates, in (0, 1].
    pub threshold: f64,
    /// Recompute items split before (items whose JSON fixes a split still keep it).
    pub reassign: bool,
}

/// One stratum's counts, before and after.
#[derive(Debug, Clone, Serialize, PartialEq)]
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
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Moved {
    /// The item.
    pub id: String,
    /// Where the stratified draw put it.
    pub from: Split,
    /// Where its cluster is.
    pub to: Split,
    /// The cluster member it follows.
    pub duplicate_of: String,
    /// Estimated Jaccard similarity of their prompts.
    pub similarity: f64,
}

/// What the split did.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SplitReport {
    /// Items considered.
    pub items: u64,
    /// Asked share of eval.
    pub eval_fraction: f64,
    /// Near-duplicate threshold used.
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
    Ok(())
}

/// The stratum of an item: its domains and edge cases, e.g. `banking | edge:bereavement`.
pub fn stratum_of(item: &Item) -> String {
    let mut domains: Vec<String> = item.requires.iter().map(|e| e.domain.to_string()).collect();
    if domains.is_empty()
        && let Some(d) = item.metadata.get("domain").and_then(|v| v.as_str())
    {
        domains.push(d.to_owned());
    }
    domains.sort();
    domains.dedup();
    let mut edges: Vec<&str> = item
        .tags
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

/// The MinHash signature of a prompt's word 3-shingles (a prompt of fewer than three
/// words is one shingle); `None` when the normalised text is empty.
pub fn signature(text: &str) -> Signature {
    let norm = normalize(text);
    if norm.is_empty() {
        return None;
    }
    let words: Vec<&str> = norm.split(' ').collect();
    let mut sig = Box::new([u32::MAX; SIGNATURE_LEN]);
    let mut add = |shingle: &[&str]| {
        let mut h1 = 0u64;
        for w in shingle {
            h1 = mix(h1 ^ hash64(w.as_bytes(), 0));
        }
        let h2 = mix(h1 ^ 0x9e37_79b9_7f4a_7c15) | 1;
        // Kirsch–Mitzenmacher: g_i = h1 + i·h2 stands for 64 independent hashes.
        for (i, slot) in sig.iter_mut().enumerate() {
            let g = (h1.wrapping_add((i as u64).wrapping_mul(h2)) >> 32) as u32;
            if g < *slot {
                *slot = g;
            }
        }
    };
    if words.len() < 3 {
        add(&words);
    } else {
        for w in words.windows(3) {
            add(w);
        }
    }
    Some(sig)
}

/// Estimated Jaccard similarity: the share of equal signature values.
pub fn similarity(a: &[u32; SIGNATURE_LEN], b: &[u32; SIGNATURE_LEN]) -> f64 {
    let same = a.iter().zip(b.iter()).filter(|(x, y)| x == y).count();
    same as f64 / SIGNATURE_LEN as f64
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

/// Splits `items`.
pub fn plan(items: &[SplitInput], cfg: &SplitConfig) -> Result<SplitPlan, String> {
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
        strata.entry(it.stratum.as_str()).or_default().push(i);
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
    let quota_of: HashMap<&str, usize> = quotas.iter().map(|(s, q, _)| (*s, *q)).collect();

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

    // Near duplicates: LSH buckets, verified by the estimated similarity.
    let mut uf = UnionFind((0..n).collect());
    for band in 0..BANDS {
        let mut buckets: HashMap<u64, Vec<usize>> = HashMap::new();
        for (i, it) in items.iter().enumerate() {
            if let Some(sig) = &it.signature {
                let mut h = band as u64;
                for &v in &sig[band * ROWS..(band + 1) * ROWS] {
                    h = mix(h ^ u64::from(v));
                }
                buckets.entry(h).or_default().push(i);
            }
        }
        for members in buckets.values().filter(|m| m.len() > 1) {
            let first = members[0];
            for w in 1..members.len() {
                let i = members[w];
                for j in [first, members[w - 1]] {
                    if let (Some(a), Some(b)) = (&items[i].signature, &items[j].signature)
                        && similarity(a, b) >= cfg.threshold
                    {
                        uf.union(i, j);
                    }
                }
            }
        }
    }
    let mut clusters: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..n {
        let root = uf.find(i);
        clusters.entry(root).or_default().push(i);
    }

    // Clusters are drawn whole. A cluster with pinned members takes their side (the
    // majority; ties: train); the others, led by their lowest-ranked member, fill
    // their leader's stratum's quota in rank order, each only if it fits whole, so a
    // large family of duplicates never floods the evaluation set.
    struct Unit {
        members: Vec<usize>,
        leader: usize,
        side: Option<Split>,
    }
    let mut conflicts = Vec::new();
    let mut units: Vec<Unit> = Vec::with_capacity(clusters.len());
    for members in clusters.into_values() {
        let pinned_sides: Vec<Split> = members.iter().filter_map(|&i| pinned[i]).collect();
        let side = if pinned_sides.is_empty() {
            None
        } else {
            let evals = pinned_sides.iter().filter(|s| **s == Split::Eval).count();
            if evals > 0 && evals < pinned_sides.len() {
                conflicts.push(members.iter().map(|&i| items[i].id.clone()).collect());
            }
            Some(if evals * 2 > pinned_sides.len() {
                Split::Eval
            } else {
                Split::Train
            })
        };
        let leader = *members
            .iter()
            .filter(|&&i| side.is_none() || pinned[i] == side)
            .min_by_key(|&&i| (ranks[i], i))
            .unwrap_or(&members[0]);
        units.push(Unit {
            members,
            leader,
            side,
        });
    }
    let mut sides = vec![Split::Train; n];
    let mut filled: HashMap<&str, usize> = HashMap::new();
    for u in units.iter().filter(|u| u.side.is_some()) {
        for &i in &u.members {
            // Pinned members keep their own side, even in a conflict.
            sides[i] = pinned[i].or(u.side).expect("a pinned unit has a side");
            if sides[i] == Split::Eval {
                *filled.entry(items[u.leader].stratum.as_str()).or_default() += 1;
            }
        }
    }
    let mut free: Vec<&Unit> = units.iter().filter(|u| u.side.is_none()).collect();
    free.sort_by_key(|u| (ranks[u.leader], u.leader));
    for u in free {
        let stratum = items[u.leader].stratum.as_str();
        let have = filled.entry(stratum).or_default();
        let side = if *have + u.members.len() <= quota_of[stratum] {
            *have += u.members.len();
            Split::Eval
        } else {
            Split::Train
        };
        for &i in &u.members {
            sides[i] = side;
        }
    }
    let mut moved = Vec::new();
    let (mut dup_clusters, mut dup_items, mut displaced) = (0u64, 0u64, 0u64);
    for u in &units {
        if u.members.len() == 1 {
            let i = u.members[0];
            if sides[i] != draw[i] {
                displaced += 1;
            }
            continue;
        }
        dup_clusters += 1;
        dup_items += u.members.len() as u64;
        for &i in &u.members {
            if sides[i] != draw[i] {
                let sim = match (&items[i].signature, &items[u.leader].signature) {
                    (Some(a), Some(b)) => similarity(a, b),
                    _ => 0.0,
                };
                moved.push(Moved {
                    id: items[i].id.clone(),
                    from: draw[i],
                    to: sides[i],
                    duplicate_of: items[u.leader].id.clone(),
                    similarity: sim,
                });
            }
        }
    }

    let eval_total = sides.iter().filter(|s| **s == Split::Eval).count() as u64;
    let rows = strata
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
        },
        sides,
    })
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

    fn input(id: &str, stratum: &str, text: &str) -> SplitInput {
        SplitInput {
            id: id.into(),
            stratum: stratum.into(),
            signature: signature(text),
            fixed: None,
            current: None,
        }
    }

    fn cfg() -> SplitConfig {
        SplitConfig {
            salt: "salt".into(),
            eval_fraction: 0.2,
            threshold: DEFAULT_THRESHOLD,
            reassign: false,
        }
    }

    #[test]
    fn normalization_and_similarity() {
        assert_eq!(normalize("  Hello,  WORLD!\nÇa va? "), "hello world ça va");
        let a = signature("I want to close my late husband's account today please").unwrap();
        let b = signature("i want to close my late husband's account today, please!").unwrap();
        assert_eq!(similarity(&a, &b), 1.0);
        let c = signature("What is the interest rate on a fixed mortgage this year").unwrap();
        assert!(similarity(&a, &c) < 0.2);
        assert!(signature(" ?! ").is_none());
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
        let p = plan(&items, &cfg()).unwrap();
        assert_eq!(p.report.eval, 200);
        let rows: Vec<(u64, u64)> = p.report.strata.iter().map(|r| (r.items, r.eval)).collect();
        assert_eq!(rows, [(800, 160), (200, 40)]);
        // Deterministic, and another salt gives another draw.
        assert_eq!(plan(&items, &cfg()).unwrap().sides, p.sides);
        let other = SplitConfig {
            salt: "pepper".into(),
            ..cfg()
        };
        assert_ne!(plan(&items, &other).unwrap().sides, p.sides);
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
        let p = plan(&items, &cfg()).unwrap();
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

    #[test]
    fn pinned_items_keep_their_side_and_conflicts_are_reported() {
        let mut items: Vec<SplitInput> = (0..20)
            .map(|i| {
                input(
                    &format!("i{i}"),
                    "s",
                    &format!("distinct prompt number {i} with words"),
                )
            })
            .collect();
        items[0].current = Some(Split::Eval);
        items[1].fixed = Some(Split::Train);
        let p = plan(&items, &cfg()).unwrap();
        assert_eq!((p.sides[0], p.sides[1]), (Split::Eval, Split::Train));
        assert_eq!(p.report.pinned, 2);
        let re = SplitConfig {
            reassign: true,
            ..cfg()
        };
        assert_eq!(plan(&items, &re).unwrap().report.pinned, 1);
        let mut dups = vec![
            input("d1", "s", "same prompt here ok"),
            input("d2", "s", "same prompt here ok"),
        ];
        dups[0].fixed = Some(Split::Eval);
        dups[1].fixed = Some(Split::Train);
        let p = plan(&dups, &cfg()).unwrap();
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
        assert!(plan(&[], &bad).is_err());
        let bad = SplitConfig {
            threshold: 0.0,
            ..cfg()
        };
        assert!(plan(&[], &bad).is_err());
        assert_eq!(plan(&[], &cfg()).unwrap().report.items, 0);
    }
}
