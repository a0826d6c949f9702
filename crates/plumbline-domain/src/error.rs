//! The one shape of a validation failure: which field, and why.

use std::fmt;

/// A validation failure that names the offending field (a JSON path such as
/// `candidates[1].id`) and says what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the field, e.g. `context[2].asr_confidence`; empty for the whole value.
    pub field: String,
    /// What is wrong, phrased for a person to act on.
    pub reason: String,
}

impl FieldError {
    /// A failure of `field` for `reason`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.reason)
        } else {
            write!(f, "field `{}`: {}", self.field, self.reason)
        }
    }
}

impl std::error::Error for FieldError {}
