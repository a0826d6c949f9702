//! A statistic that is either a number or undefined with a reason; never `NaN`.

use serde::ser::{Serialize, SerializeMap, Serializer};
use std::fmt;

/// Why a statistic has no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undefined {
    /// No data at all.
    NoData,
    /// No unit carries two or more values, so nothing can be paired.
    NoPairableValues,
    /// Every pairable value is the same, so expected disagreement is zero.
    NoVariation,
    /// Fewer than two annotators.
    OneAnnotator,
    /// Chance agreement is one (every rating in one category), so kappa divides by zero.
    ChanceAgreementOne,
    /// No item was rated by both annotators.
    NoCommonItems,
    /// Weighted kappa over a single category has no weights.
    OneCategory,
    /// No judgment records which option was shown first.
    NoPositionData,
    /// No judgment has known lengths differing by more than the threshold.
    NoLengthData,
    /// No judgment compares a candidate with a hard violation against one without.
    NoViolationData,
    /// No judgment records whether it was a priority inversion.
    NoInversionData,
    /// Every judgment considered was a tie.
    AllTies,
    /// Every bootstrap replicate was undefined.
    AllReplicatesUndefined,
    /// Too few gold judgments.
    NoGold,
    /// The arithmetic did not give a finite number (overflow on extreme input).
    NotFinite,
}

impl Undefined {
    /// The human-readable reason, as printed by the CLI and stored in JSON.
    pub fn reason(self) -> &'static str {
        match self {
            Undefined::NoData => "no data",
            Undefined::NoPairableValues => {
                "no unit has two or more values, so nothing can be paired"
            }
            Undefined::NoVariation => {
                "all pairable values are equal, so expected disagreement is zero"
            }
            Undefined::OneAnnotator => "fewer than two annotators",
            Undefined::ChanceAgreementOne => {
                "chance agreement is 1 (all ratings in one category), so kappa divides by zero"
            }
            Undefined::NoCommonItems => "no item was rated by both annotators",
            Undefined::OneCategory => "only one category, so weights are undefined",
            Undefined::NoPositionData => "no judgment records which option was shown first",
            Undefined::NoLengthData => {
                "no non-tie judgment has lengths that differ by more than the threshold"
            }
            Undefined::NoViolationData => {
                "no non-tie judgment compares a candidate with a hard violation against one without"
            }
            Undefined::NoInversionData => "no judgment records a priority-inversion flag",
            Undefined::AllTies => "every judgment considered was a tie",
            Undefined::AllReplicatesUndefined => "every bootstrap replicate was undefined",
            Undefined::NoGold => "no gold judgments",
            Undefined::NotFinite => "the computation did not give a finite number",
        }
    }
}

impl fmt::Display for Undefined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

impl Serialize for Undefined {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.reason())
    }
}

/// A statistic's value, or the reason it has none.
///
/// Serializes as `{"value": 0.81, "undefined_reason": null}` or
/// `{"value": null, "undefined_reason": "..."}`; flatten it into a result struct.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Estimate {
    /// A finite value.
    Value(f64),
    /// No value, with the reason.
    Undefined(Undefined),
}

impl Estimate {
    /// Wraps a value, turning a non-finite one into `Undefined(NotFinite)` as a last guard.
    pub fn from_f64(v: f64) -> Estimate {
        if v.is_finite() {
            Estimate::Value(v)
        } else {
            Estimate::Undefined(Undefined::NotFinite)
        }
    }

    /// The value, if defined.
    pub fn value(&self) -> Option<f64> {
        match self {
            Estimate::Value(v) => Some(*v),
            Estimate::Undefined(_) => None,
        }
    }

    /// The reason, if undefined.
    pub fn undefined_reason(&self) -> Option<Undefined> {
        match self {
            Estimate::Value(_) => None,
            Estimate::Undefined(u) => Some(*u),
        }
    }
}

impl fmt::Display for Estimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Estimate::Value(v) => write!(f, "{v:.6}"),
            Estimate::Undefined(u) => write!(f, "undefined: {u}"),
        }
    }
}

impl Serialize for Estimate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("value", &self.value())?;
        m.serialize_entry("undefined_reason", &self.undefined_reason())?;
        m.end()
    }
}
