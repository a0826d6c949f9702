//! The life-cycle states the engine moves things through, as types. Their string
//! forms exist for the database columns and the JSON API only: code compares the
//! enums, never the strings.

/// Declares a stored enum: its variants with their stored names, `as_str`, `Display`,
/// and a `FromStr` that names the unknown value.
macro_rules! stored_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// Parses a stored name.
            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, String> {
                $name::parse(s).ok_or_else(|| {
                    let known: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                    format!("unknown {} `{s}` (expected one of: {})", $what, known.join(", "))
                })
            }
        }
    };
}
pub(crate) use stored_enum;

stored_enum! {
    /// Where an item stands in its life.
    ItemState, "item state" {
        /// Waiting for judgments.
        Open = "open",
        /// Judgments disagree; waiting for a reviewer.
        Adjudication = "adjudication",
        /// Settled by consensus or adjudication.
        Resolved = "resolved",
    }
}

stored_enum! {
    /// Where a lease stands.
    AssignmentState, "assignment state" {
        /// Held by the annotator until it expires.
        Leased = "leased",
        /// Judged (a resubmission inside the lease keeps it submitted).
        Submitted = "submitted",
        /// Given back with a reason.
        Skipped = "skipped",
        /// Returned to the pool after its expiry.
        Expired = "expired",
    }
}

stored_enum! {
    /// An annotator's qualification in a project.
    QualificationState, "qualification state" {
        /// Still answering the qualification set (or never started).
        Pending = "pending",
        /// Passed: regular work is open to them.
        Passed = "passed",
        /// Failed: no work until a lead resets them.
        Failed = "failed",
    }
}

stored_enum! {
    /// Why an assignment was made: qualification, hidden gold, or regular work.
    Purpose, "assignment purpose" {
        /// Regular work that counts toward an item's overlap.
        Work = "work",
        /// A hidden gold check, served at the project's gold rate.
        Gold = "gold",
        /// Part of the annotator's qualification set.
        Qualification = "qualification",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_round_trip_and_unknown_names_are_named() {
        for s in ItemState::ALL {
            assert_eq!(s.as_str().parse::<ItemState>(), Ok(*s));
        }
        for s in AssignmentState::ALL {
            assert_eq!(AssignmentState::parse(s.as_str()), Some(*s));
        }
        for s in QualificationState::ALL {
            assert_eq!(QualificationState::parse(s.as_str()), Some(*s));
        }
        let e = "done".parse::<ItemState>().unwrap_err();
        assert!(e.contains("`done`") && e.contains("adjudication"), "{e}");
        assert_eq!(
            serde_json::to_string(&QualificationState::Passed).unwrap(),
            "\"passed\""
        );
    }
}
