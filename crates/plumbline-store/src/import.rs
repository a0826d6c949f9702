//! What an import does the same on every backend: counting a conflict, the stored
//! name of a split, the audit event of a committed import.

use crate::model::{ImportConflict, ImportOptions, ImportOutcome};
use plumbline_domain::{ProjectId, UserId};

/// Records a conflict; true when the import should stop listening.
pub(crate) fn record_conflict(
    outcome: &mut ImportOutcome,
    options: &ImportOptions,
    line: u64,
    id: String,
) -> bool {
    let reason = format!(
        "item `{id}` exists already with other content (use --update to store a new revision)"
    );
    record_refusal(outcome, options, line, id, reason)
}

/// Records an item the store refuses for `reason`; true when the import should stop
/// listening.
pub(crate) fn record_refusal(
    outcome: &mut ImportOutcome,
    options: &ImportOptions,
    line: u64,
    id: String,
    reason: String,
) -> bool {
    outcome.conflict_count += 1;
    if outcome.conflicts.len() < options.report_errors.max(1) {
        outcome.conflicts.push(ImportConflict { line, reason, id });
    }
    outcome.conflict_count as usize >= options.report_errors.max(1)
}

/// Why an item naming audio that is not stored is refused.
pub(crate) fn missing_media(id: &str, sha: &[u8; 32]) -> String {
    format!(
        "item `{id}` names audio {} that is not stored; import it with `media.path` or upload it first",
        crate::hex(sha)
    )
}

/// Whether an item arriving as `new` (its canonical JSON, with `new_split`) is the item
/// stored as `old` with split `stored`: the same JSON but for the split field (an items
/// export writes the stored split into each item), and no other split than the stored
/// one. So re-importing an items export changes nothing; a file that moves an item to
/// the other side is a change like any other.
pub(crate) fn same_but_split(
    old: &str,
    stored: Option<plumbline_domain::Split>,
    new: &str,
    new_split: Option<plumbline_domain::Split>,
) -> bool {
    /// The body without its split: the split is the last field of an item's JSON.
    fn base(body: &str) -> &str {
        for own in [r#","split":"train"}"#, r#","split":"eval"}"#] {
            if let Some(rest) = body.strip_suffix(own) {
                return rest;
            }
        }
        body.strip_suffix('}').unwrap_or(body)
    }
    (new_split.is_none() || new_split == stored) && base(old) == base(new)
}

/// How a stored external judgment is told from a new one: the same source (one voter),
/// kind and payload is the same judgment imported again, whatever its note says (two
/// export shapes of one tool may word it differently).
pub(crate) type ExternalKey = (String, String, String);

/// The external judgments of `item` not among `stored`, in the item's order (each
/// judgment once, even when the source repeats it).
pub(crate) fn new_external<'a>(
    item: &'a crate::model::NewItem,
    stored: &[ExternalKey],
) -> Vec<&'a crate::model::ExternalJudgment> {
    let mut seen: std::collections::HashSet<ExternalKey> = stored.iter().cloned().collect();
    item.external
        .iter()
        .filter(|j| {
            seen.insert((
                j.source.clone(),
                j.task.as_str().to_owned(),
                j.payload.clone(),
            ))
        })
        .collect()
}

pub(crate) fn split_str(s: plumbline_domain::Split) -> &'static str {
    match s {
        plumbline_domain::Split::Train => "train",
        plumbline_domain::Split::Eval => "eval",
    }
}

/// The audit event of a committed import: the counts, not the items.
pub(crate) fn import_event(
    actor: Option<UserId>,
    project: ProjectId,
    outcome: &ImportOutcome,
) -> crate::audit::AuditEvent {
    let candidates = if outcome.gold_candidates == 0 {
        String::new()
    } else {
        format!(", gold candidates {}", outcome.gold_candidates)
    };
    crate::audit::AuditEvent::new(crate::audit::AuditAction::ItemsImport, "items")
        .by(actor)
        .object(if outcome.external_judgments == 0 {
            format!(
                "imported {}, updated {}, unchanged {}",
                outcome.imported, outcome.updated, outcome.unchanged
            )
        } else {
            format!(
                "imported {}, updated {}, unchanged {}, annotated {}, external judgments {}",
                outcome.imported,
                outcome.updated,
                outcome.unchanged,
                outcome.annotated,
                outcome.external_judgments
            ) + &candidates
        })
        .in_project(project)
}
