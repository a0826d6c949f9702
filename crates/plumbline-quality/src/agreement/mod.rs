//! Inter-annotator agreement: Krippendorff's alpha, Fleiss' and Cohen's kappa, percent agreement.

mod cohen;
mod fleiss;
mod krippendorff;
mod percent;

pub use cohen::{CohenReport, KappaWeights, cohen_kappa, cohen_kappa_from_table};
pub use fleiss::{FleissReport, fleiss_kappa, fleiss_kappa_from_table};
pub use krippendorff::{
    AlphaReport, Level, Metric, Scale, coincidence_matrix, krippendorff_alpha,
    krippendorff_alpha_values,
};
pub(crate) use krippendorff::{UnitSummaries, alpha_core};
pub use percent::{AnnotatorAgreement, PercentAgreement, percent_agreement};
