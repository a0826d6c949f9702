//! Plumbline's statistics: agreement, aggregation, annotator reliability, decisions, bias and
//! drift over judgments.
//!
//! Architecture invariant: this crate does no IO. Callers (the CLI, the server) read files or
//! the store, map names to dense indices, and hand over plain slices; results are plain structs
//! that serialize with serde. An undefined statistic is an [`Estimate::Undefined`] with a
//! reason, never a `NaN`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod aggregate;
pub mod agreement;
pub mod bias;
pub mod bootstrap;
pub mod bradley_terry;
pub mod decision;
pub mod drift;
mod error;
mod estimate;
pub mod gold;
mod labels;
pub mod reliability;
pub mod rng;
pub mod special;

pub use error::QualityError;
pub use estimate::{Estimate, Undefined};
pub use labels::{Judgment, LabelSet};
