//! Seeded simulations shared by the tests.

use plumbline_quality::rng::Rng;
use plumbline_quality::{Judgment, LabelSet};

/// A pairwise task where "longer" is independent of "better".
///
/// Category 0 = left is better, 1 = right is better. Each item's truth and which side is
/// longer are fair coins, drawn independently. Accurate annotators give the truth with their
/// accuracy; length-biased annotators pick the longer side with their bias, whatever the truth.
/// Everyone judges every item; the first `n_gold` items carry their truth as gold.
pub struct LengthBiasedPool {
    /// Judgments of everyone.
    pub labels: LabelSet,
    /// True category per item.
    pub truth: Vec<u32>,
    /// Gold answers (the truth on the first `n_gold` items).
    pub gold: Vec<Option<u32>>,
    /// Accuracy of each accurate annotator (indices `0..accurate.len()`).
    pub accurate: Vec<f64>,
    /// First item index that is not gold.
    pub n_gold: usize,
}

impl LengthBiasedPool {
    /// Simulates the pool.
    pub fn simulate(
        seed: u64,
        n_items: usize,
        n_gold: usize,
        accurate: &[f64],
        biased: &[f64],
    ) -> LengthBiasedPool {
        let mut rng = Rng::new(seed);
        let n_ann = accurate.len() + biased.len();
        let mut truth = Vec::with_capacity(n_items);
        let mut judgments = Vec::with_capacity(n_items * n_ann);
        for item in 0..n_items {
            let t = rng.below(2) as u32;
            let longer = rng.below(2) as u32;
            truth.push(t);
            for (a, acc) in accurate.iter().enumerate() {
                let label = if rng.chance(*acc) { t } else { 1 - t };
                judgments.push(Judgment {
                    item: item as u32,
                    annotator: a as u32,
                    label,
                });
            }
            for (b, bias) in biased.iter().enumerate() {
                let label = if rng.chance(*bias) {
                    longer
                } else {
                    1 - longer
                };
                let annotator = (accurate.len() + b) as u32;
                judgments.push(Judgment {
                    item: item as u32,
                    annotator,
                    label,
                });
            }
        }
        let gold = (0..n_items)
            .map(|i| (i < n_gold).then_some(truth[i]))
            .collect();
        LengthBiasedPool {
            labels: LabelSet::new(n_items, n_ann, 2, &judgments).unwrap(),
            truth,
            gold,
            accurate: accurate.to_vec(),
            n_gold,
        }
    }

    /// Accuracy of `labels` on the items that are not gold.
    pub fn accuracy(&self, labels: impl Fn(usize) -> Option<u32>) -> f64 {
        let eval = self.n_gold..self.truth.len();
        let right = eval
            .clone()
            .filter(|i| labels(*i) == Some(self.truth[*i]))
            .count();
        right as f64 / eval.len() as f64
    }

    /// The best achievable accuracy on the non-gold items: the Bayes-optimal rule that knows
    /// every annotator's true confusion matrix and the true prior (1/2).
    ///
    /// A length-biased annotator's true confusion matrix is uniform (P(says left | truth) =
    /// b/2 + (1 − b)/2 = 1/2, since length is independent of truth), so the rule gives them
    /// zero weight; an accurate annotator votes with weight ln(acc / (1 − acc)). Applied to the
    /// same simulated votes, so sampling noise is shared with the methods it is compared with.
    pub fn oracle_accuracy(&self) -> f64 {
        self.accuracy(|i| {
            let mut score = 0.0;
            for (&a, &l) in self
                .labels
                .annotators_of(i)
                .iter()
                .zip(self.labels.labels_of(i))
            {
                if let Some(acc) = self.accurate.get(a as usize) {
                    let w = (acc / (1.0 - acc)).ln();
                    score += if l == 1 { w } else { -w };
                }
            }
            Some(u32::from(score > 0.0))
        })
    }
}

/// Random categorical judgments: `items` × `annotators`, `k` categories, a share missing.
pub fn random_labels(seed: u64, items: usize, annotators: usize, k: u32, missing: f64) -> LabelSet {
    let mut rng = Rng::new(seed);
    let mut judgments = Vec::new();
    for item in 0..items {
        for a in 0..annotators {
            if !rng.chance(missing) {
                let label = rng.below(u64::from(k)) as u32;
                judgments.push(Judgment {
                    item: item as u32,
                    annotator: a as u32,
                    label,
                });
            }
        }
    }
    LabelSet::new(items, annotators, k as usize, &judgments).unwrap()
}

/// A pairwise pool where each item is judged by a few annotators drawn at random: a handful of
/// experts who are right with their accuracy, and a crowd who pick the longer answer with their
/// bias, length independent of truth (so every crowd member is right half the time, and they
/// agree with each other far more often than with the truth).
///
/// Category 0 = left is better, 1 = right is better. The first `n_gold` items carry their truth
/// as gold. Experts are annotators `0..experts.len()`, the crowd follows.
pub struct OverlapPool {
    /// Every judgment.
    pub labels: LabelSet,
    /// True category per item.
    pub truth: Vec<u32>,
    /// Gold answers (the truth on the first `n_gold` items).
    pub gold: Vec<Option<u32>>,
    /// Number of experts (annotator indices below it).
    pub n_experts: usize,
    /// First item index that is not gold.
    pub n_gold: usize,
}

impl OverlapPool {
    /// Simulates `n_items` items with `overlap` distinct annotators each.
    pub fn simulate(
        seed: u64,
        n_items: usize,
        overlap: usize,
        n_gold: usize,
        experts: &[f64],
        crowd_bias: &[f64],
    ) -> OverlapPool {
        let mut rng = Rng::new(seed);
        let n_ann = experts.len() + crowd_bias.len();
        assert!(overlap <= n_ann);
        let mut truth = Vec::with_capacity(n_items);
        let mut judgments = Vec::with_capacity(n_items * overlap);
        let mut chosen: Vec<usize> = Vec::with_capacity(overlap);
        for item in 0..n_items {
            let t = rng.below(2) as u32;
            let longer = rng.below(2) as u32;
            truth.push(t);
            chosen.clear();
            while chosen.len() < overlap {
                let a = rng.below(n_ann as u64) as usize;
                if !chosen.contains(&a) {
                    chosen.push(a);
                }
            }
            for &a in &chosen {
                let label = match experts.get(a) {
                    Some(acc) => {
                        if rng.chance(*acc) {
                            t
                        } else {
                            1 - t
                        }
                    }
                    None => {
                        if rng.chance(crowd_bias[a - experts.len()]) {
                            longer
                        } else {
                            1 - longer
                        }
                    }
                };
                judgments.push(Judgment {
                    item: item as u32,
                    annotator: a as u32,
                    label,
                });
            }
        }
        let gold = (0..n_items)
            .map(|i| (i < n_gold).then_some(truth[i]))
            .collect();
        OverlapPool {
            labels: LabelSet::new(n_items, n_ann, 2, &judgments).unwrap(),
            truth,
            gold,
            n_experts: experts.len(),
            n_gold,
        }
    }

    /// Non-gold items with at least one expert vote.
    pub fn expert_items(&self) -> Vec<usize> {
        (self.n_gold..self.truth.len())
            .filter(|i| {
                self.labels
                    .annotators_of(*i)
                    .iter()
                    .any(|a| (*a as usize) < self.n_experts)
            })
            .collect()
    }

    /// Share of `items` whose label is the truth.
    pub fn accuracy_on(&self, items: &[usize], labels: impl Fn(usize) -> Option<u32>) -> f64 {
        let right = items
            .iter()
            .filter(|i| labels(**i) == Some(self.truth[**i]))
            .count();
        right as f64 / items.len() as f64
    }

    /// Majority of the experts' votes alone, per item (`None` without an expert vote).
    pub fn experts_majority(&self) -> Vec<Option<u32>> {
        let js: Vec<Judgment> = (0..self.truth.len())
            .flat_map(|i| {
                self.labels
                    .annotators_of(i)
                    .iter()
                    .zip(self.labels.labels_of(i))
                    .filter(|(a, _)| (**a as usize) < self.n_experts)
                    .map(move |(&annotator, &label)| Judgment {
                        item: i as u32,
                        annotator,
                        label,
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        let set = LabelSet::new(self.truth.len(), self.n_experts, 2, &js).unwrap();
        plumbline_quality::aggregate::majority_vote(&set)
            .items
            .iter()
            .map(|l| l.label)
            .collect()
    }
}
