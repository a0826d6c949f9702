//! Long-format categorical judgments, grouped by item: the input of agreement and aggregation.

use crate::QualityError;

/// One judgment in dense indices: annotator `annotator` gave item `item` the category `label`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Judgment {
    /// Item (unit) index, below the set's number of items.
    pub item: u32,
    /// Annotator (coder) index, below the set's number of annotators.
    pub annotator: u32,
    /// Category index, below the set's number of categories; for ordered levels, in scale order.
    pub label: u32,
}

/// Judgments grouped by item (compressed rows), checked once at construction.
///
/// Building is a counting sort, linear in judgments plus items; each (item, annotator) pair
/// appears at most once. Memory is two `u32` per judgment plus one offset per item.
#[derive(Debug, Clone)]
pub struct LabelSet {
    n_items: usize,
    n_annotators: usize,
    n_categories: usize,
    offsets: Vec<usize>,
    annotators: Vec<u32>,
    labels: Vec<u32>,
}

impl LabelSet {
    /// Groups `judgments` by item, refusing out-of-range indices and duplicate (item, annotator) pairs.
    pub fn new(
        n_items: usize,
        n_annotators: usize,
        n_categories: usize,
        judgments: &[Judgment],
    ) -> Result<LabelSet, QualityError> {
        let mut counts = vec![0usize; n_items + 1];
        for j in judgments {
            if j.item as usize >= n_items {
                return Err(QualityError::ItemOutOfRange {
                    index: j.item,
                    count: n_items,
                });
            }
            if j.annotator as usize >= n_annotators {
                return Err(QualityError::AnnotatorOutOfRange {
                    index: j.annotator,
                    count: n_annotators,
                });
            }
            if j.label as usize >= n_categories {
                return Err(QualityError::CategoryOutOfRange {
                    index: j.label,
                    count: n_categories,
                });
            }
            counts[j.item as usize + 1] += 1;
        }
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
        let offsets = counts;
        let mut cursor = offsets.clone();
        let mut annotators = vec![0u32; judgments.len()];
        let mut labels = vec![0u32; judgments.len()];
        for j in judgments {
            let slot = &mut cursor[j.item as usize];
            annotators[*slot] = j.annotator;
            labels[*slot] = j.label;
            *slot += 1;
        }
        let set = LabelSet {
            n_items,
            n_annotators,
            n_categories,
            offsets,
            annotators,
            labels,
        };
        set.check_duplicates()?;
        Ok(set)
    }

    /// Builds a set from Krippendorff's layout: `rows[coder][unit]`, `None` for a missing value.
    ///
    /// Every row must have the same length (the number of units).
    pub fn from_coder_rows(
        rows: &[Vec<Option<u32>>],
        n_categories: usize,
    ) -> Result<LabelSet, QualityError> {
        let n_units = rows.first().map_or(0, Vec::len);
        let mut judgments = Vec::new();
        for (coder, row) in rows.iter().enumerate() {
            if row.len() != n_units {
                return Err(QualityError::RaggedTable {
                    row: coder,
                    found: row.len(),
                    expected: n_units,
                });
            }
            for (unit, v) in row.iter().enumerate() {
                if let Some(label) = v {
                    judgments.push(Judgment {
                        item: unit as u32,
                        annotator: coder as u32,
                        label: *label,
                    });
                }
            }
        }
        LabelSet::new(n_units, rows.len(), n_categories, &judgments)
    }

    fn check_duplicates(&self) -> Result<(), QualityError> {
        // Items carry few judgments; a linear scan beats sorting up to a few dozen.
        let mut seen: Vec<u32> = Vec::new();
        for item in 0..self.n_items {
            let anns = self.annotators_of(item);
            if anns.len() <= 32 {
                for (k, a) in anns.iter().enumerate() {
                    if anns[..k].contains(a) {
                        return Err(QualityError::DuplicateJudgment {
                            item: item as u32,
                            annotator: *a,
                        });
                    }
                }
            } else {
                seen.clear();
                seen.extend_from_slice(anns);
                seen.sort_unstable();
                if let Some(w) = seen.windows(2).find(|w| w[0] == w[1]) {
                    return Err(QualityError::DuplicateJudgment {
                        item: item as u32,
                        annotator: w[0],
                    });
                }
            }
        }
        Ok(())
    }

    /// Number of items (units), including items without judgments.
    pub fn n_items(&self) -> usize {
        self.n_items
    }

    /// Number of annotators declared.
    pub fn n_annotators(&self) -> usize {
        self.n_annotators
    }

    /// Number of categories declared.
    pub fn n_categories(&self) -> usize {
        self.n_categories
    }

    /// Number of judgments.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no judgments.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The labels given to item `item`, in input order.
    pub fn labels_of(&self, item: usize) -> &[u32] {
        &self.labels[self.offsets[item]..self.offsets[item + 1]]
    }

    /// The annotators of item `item`, parallel to [`LabelSet::labels_of`].
    pub fn annotators_of(&self, item: usize) -> &[u32] {
        &self.annotators[self.offsets[item]..self.offsets[item + 1]]
    }

    /// Number of distinct annotators who gave at least one judgment.
    pub fn active_annotators(&self) -> usize {
        let mut seen = vec![false; self.n_annotators];
        for &a in &self.annotators {
            seen[a as usize] = true;
        }
        seen.iter().filter(|s| **s).count()
    }

    /// Judgments per annotator.
    pub fn judgments_per_annotator(&self) -> Vec<usize> {
        let mut n = vec![0usize; self.n_annotators];
        for &a in &self.annotators {
            n[a as usize] += 1;
        }
        n
    }

    /// Count of each category over all judgments.
    pub fn category_counts(&self) -> Vec<usize> {
        let mut n = vec![0usize; self.n_categories];
        for &l in &self.labels {
            n[l as usize] += 1;
        }
        n
    }
}
