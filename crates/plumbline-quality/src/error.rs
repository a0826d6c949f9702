//! The crate's error type: input that no statistic can be computed on.

use thiserror::Error;

/// Input that a statistic refuses; indices are the caller's dense indices.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum QualityError {
    /// A judgment names an item index at or past the number of items.
    #[error("item index {index} is out of range (there are {count} items)")]
    ItemOutOfRange {
        /// The offending index.
        index: u32,
        /// The number of items declared.
        count: usize,
    },
    /// A judgment names an annotator index at or past the number of annotators.
    #[error("annotator index {index} is out of range (there are {count} annotators)")]
    AnnotatorOutOfRange {
        /// The offending index.
        index: u32,
        /// The number of annotators declared.
        count: usize,
    },
    /// A judgment names a category index at or past the number of categories.
    #[error("category index {index} is out of range (there are {count} categories)")]
    CategoryOutOfRange {
        /// The offending index.
        index: u32,
        /// The number of categories declared.
        count: usize,
    },
    /// One annotator judged one item twice.
    #[error("annotator {annotator} judged item {item} more than once")]
    DuplicateJudgment {
        /// Item index.
        item: u32,
        /// Annotator index.
        annotator: u32,
    },
    /// A numeric scale whose values are not finite and strictly increasing.
    #[error("scale values must be finite and strictly increasing (value {position} is {value})")]
    BadScale {
        /// Position of the first bad value.
        position: usize,
        /// The bad value.
        value: f64,
    },
    /// The ratio metric needs non-negative values.
    #[error("the ratio metric needs non-negative values, got {value}")]
    NegativeRatioValue {
        /// The negative value.
        value: f64,
    },
    /// A scale whose length differs from the number of categories.
    #[error("the scale has {scale} values but there are {categories} categories")]
    ScaleLength {
        /// Values in the scale.
        scale: usize,
        /// Categories in the label set.
        categories: usize,
    },
    /// Cohen's kappa takes exactly two annotators.
    #[error("Cohen's kappa needs exactly two annotators, found {found}")]
    NotTwoAnnotators {
        /// Annotators found.
        found: usize,
    },
    /// Fleiss' kappa needs the same number of ratings on every item.
    #[error(
        "Fleiss' kappa needs the same number of ratings on every item: item {first_item} has {first_count}, item {item} has {count} (use Krippendorff's alpha for missing ratings)"
    )]
    UnequalRatings {
        /// The first item seen.
        first_item: u32,
        /// Its number of ratings.
        first_count: usize,
        /// An item with a different number.
        item: u32,
        /// Its number of ratings.
        count: usize,
    },
    /// A contingency or count table that is not rectangular (or square where required).
    #[error("table row {row} has {found} cells, expected {expected}")]
    RaggedTable {
        /// Row index.
        row: usize,
        /// Cells found.
        found: usize,
        /// Cells expected.
        expected: usize,
    },
    /// A weight that is negative, infinite or NaN, or a weight vector of the wrong length.
    #[error("{0}")]
    BadWeights(String),
    /// A comparison of an option with itself.
    #[error("comparison {index} compares option {option} with itself")]
    SelfComparison {
        /// Position of the comparison.
        index: usize,
        /// The option.
        option: u32,
    },
    /// A comparison naming an option index out of range.
    #[error("option index {index} is out of range (there are {count} options)")]
    OptionOutOfRange {
        /// The offending index.
        index: u32,
        /// The number of options.
        count: usize,
    },
    /// Bradley-Terry strengths are infinite: the beat graph is not strongly connected.
    #[error(
        "option {option} {} so the maximum-likelihood strengths are not finite (every option must beat and lose to the others through some chain of comparisons)",
        if *beaten { "never beats option 0, even through a chain of other options," } else { "is never beaten by option 0, even through a chain of other options," }
    )]
    StrengthNotFinite {
        /// An option cut off from option 0.
        option: u32,
        /// True if the option never beats option 0's group; false if it is never beaten by it.
        beaten: bool,
    },
    /// A configuration value outside its domain.
    #[error("invalid setting: {0}")]
    InvalidConfig(String),
}
