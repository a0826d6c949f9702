//! The item browser and item comments: a lead's or reviewer's filtered, paginated view
//! of a project's items, and the thread of comments on one item.
//!
//! Filtering happens in the database: a page reads at most its own rows (keyset
//! pagination in import order), whatever the project's size.

use crate::work::ItemState;
use crate::{Result, StoredItem};
use plumbline_domain::{CommentBody, ItemId, ProjectId, UserId};
use serde::Serialize;
use std::future::Future;

/// Items on one page of the browser.
pub const BROWSE_PAGE: u32 = 50;

/// Which part of the evaluation split a listing keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitFilter {
    /// Items in the training part.
    Train,
    /// Items held out for evaluation.
    Eval,
    /// Items not split yet.
    Unsplit,
}

impl SplitFilter {
    /// Every value, in the order a form offers them.
    pub const ALL: &'static [SplitFilter] =
        &[SplitFilter::Train, SplitFilter::Eval, SplitFilter::Unsplit];

    /// The name in URLs and forms.
    pub fn as_str(self) -> &'static str {
        match self {
            SplitFilter::Train => "train",
            SplitFilter::Eval => "eval",
            SplitFilter::Unsplit => "none",
        }
    }

    /// Parses [`SplitFilter::as_str`].
    pub fn parse(s: &str) -> Option<SplitFilter> {
        SplitFilter::ALL.iter().copied().find(|f| f.as_str() == s)
    }
}

/// Whether an item's judgments agreed, as far as the stored states tell cheaply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgreementFilter {
    /// Resolved without a reviewer: the judgments settled it.
    Agreed,
    /// Sent to adjudication: waiting for a reviewer, or decided by one.
    Disputed,
}

impl AgreementFilter {
    /// Every value, in the order a form offers them.
    pub const ALL: &'static [AgreementFilter] =
        &[AgreementFilter::Agreed, AgreementFilter::Disputed];

    /// The name in URLs and forms.
    pub fn as_str(self) -> &'static str {
        match self {
            AgreementFilter::Agreed => "agreed",
            AgreementFilter::Disputed => "disputed",
        }
    }

    /// Parses [`AgreementFilter::as_str`].
    pub fn parse(s: &str) -> Option<AgreementFilter> {
        AgreementFilter::ALL
            .iter()
            .copied()
            .find(|f| f.as_str() == s)
    }
}

/// What the item browser keeps; every field narrows, `None` keeps all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BrowseFilter {
    /// An item's own id or database id exactly, or text found (case-insensitively) in
    /// its stored JSON: prompt, candidates, context.
    pub search: Option<String>,
    /// Only items in this state.
    pub state: Option<ItemState>,
    /// Only items carrying this tag.
    pub tag: Option<String>,
    /// Only items of this part of the split.
    pub split: Option<SplitFilter>,
    /// Only agreed or disputed items.
    pub agreement: Option<AgreementFilter>,
    /// Only items this user submitted a judgment of.
    pub annotator: Option<UserId>,
}

impl BrowseFilter {
    /// The search text as it appears inside the stored JSON, lower-cased: quotes and
    /// backslashes escaped the way the canonical JSON escapes them.
    pub(crate) fn needle(&self) -> Option<String> {
        let s = self.search.as_deref()?.trim();
        if s.is_empty() {
            return None;
        }
        let quoted = serde_json::to_string(&s.to_lowercase()).ok()?;
        Some(quoted[1..quoted.len() - 1].to_owned())
    }

    /// The search text as an item's own id (exact, untrimmed but for white space).
    pub(crate) fn exact_id(&self) -> Option<String> {
        self.search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    }

    /// The search text as a database id, when it is a number.
    pub(crate) fn database_id(&self) -> Option<i64> {
        self.search.as_deref()?.trim().parse().ok()
    }
}

/// One row of the item browser.
#[derive(Debug, Clone, Serialize)]
pub struct BrowsedItem {
    /// The item.
    pub item: StoredItem,
    /// `train`, `eval`, or `None` before the split.
    pub split: Option<String>,
    /// Whether it is a gold item.
    pub gold: bool,
    /// Submitted annotator judgments.
    pub judgments: i64,
    /// Comments in its thread.
    pub comments: i64,
}

/// A comment on an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ItemComment {
    /// Database id; comments of an item are in id order.
    pub id: i64,
    /// The item's own id.
    pub item: String,
    /// Who wrote it.
    #[schema(value_type = i64)]
    pub author: UserId,
    /// Their user name.
    pub author_name: String,
    /// The text (checked by [`CommentBody`]).
    pub body: String,
    /// When it was written, Unix milliseconds.
    pub created_at: i64,
}

/// The browser's reads and the comment thread.
pub trait BrowseStore: Send + Sync {
    /// A page of `project`'s items that pass `filter`, in import order after `after`.
    fn browse_items(
        &self,
        project: ProjectId,
        filter: BrowseFilter,
        after: Option<ItemId>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<BrowsedItem>>> + Send;

    /// Adds `body` to the thread of `item` (its own id) and appends `comment.add`
    /// (object: the item, digest: the text), in one transaction. The caller checks
    /// that `author` may take part in the thread. Not found for an unknown item.
    fn add_comment(
        &self,
        author: UserId,
        project: ProjectId,
        item: &str,
        body: CommentBody,
    ) -> impl Future<Output = Result<ItemComment>> + Send;

    /// The thread of `item` (its own id), oldest first. Not found for an unknown item.
    fn comments_of_item(
        &self,
        project: ProjectId,
        item: &str,
    ) -> impl Future<Output = Result<Vec<ItemComment>>> + Send;
}

/// The audit event of a new comment: the item and a keyed digest of the text.
pub(crate) fn comment_event(
    author: UserId,
    project: ProjectId,
    item: &str,
    body: &CommentBody,
) -> crate::audit::AuditEvent {
    crate::audit::AuditEvent::new(crate::audit::AuditAction::CommentAdd, "item")
        .by(Some(author))
        .object(item)
        .in_project(project)
        .digest_of(body.as_str().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_needle_matches_the_stored_json() {
        let f = BrowseFilter {
            search: Some(r#"  Say "Hi" \ Ölçü "#.into()),
            ..BrowseFilter::default()
        };
        assert_eq!(f.needle().unwrap(), r#"say \"hi\" \\ ölçü"#);
        assert_eq!(f.exact_id().unwrap(), r#"Say "Hi" \ Ölçü"#);
        assert_eq!(f.database_id(), None);
        let blank = BrowseFilter {
            search: Some("  ".into()),
            ..BrowseFilter::default()
        };
        assert_eq!((blank.needle(), blank.exact_id()), (None, None));
        for s in SplitFilter::ALL {
            assert_eq!(SplitFilter::parse(s.as_str()), Some(*s));
        }
        for a in AgreementFilter::ALL {
            assert_eq!(AgreementFilter::parse(a.as_str()), Some(*a));
        }
    }
}
