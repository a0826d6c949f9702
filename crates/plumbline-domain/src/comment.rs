//! The text of a comment on an item: what the thread among an item's reviewers, leads
//! and annotators accepts.

use std::fmt;

/// The longest comment, in characters: a paragraph or a few, not a document.
pub const MAX_COMMENT_CHARS: usize = 5_000;

/// A comment's text: not blank, at most [`MAX_COMMENT_CHARS`] characters, free of
/// control characters other than line breaks and tabs. Stored trimmed, with `\r\n`
/// read as `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentBody(String);

/// Why a comment's text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommentError {
    /// Nothing but white space.
    #[error("the comment is empty")]
    Empty,
    /// Longer than the limit.
    #[error("the comment has {0} characters; at most {max} are allowed", max = MAX_COMMENT_CHARS)]
    TooLong(usize),
    /// A control character other than a line break or a tab.
    #[error(
        "the comment has a control character (U+{code:04X}) at character {at}; only line breaks and tabs are allowed"
    )]
    Control {
        /// The character's code point.
        code: u32,
        /// Its position in the trimmed text, from 1.
        at: usize,
    },
}

impl CommentBody {
    /// Checks and normalizes `text`.
    pub fn parse(text: &str) -> Result<Self, CommentError> {
        let text = text.replace("\r\n", "\n");
        let text = text.trim();
        if text.is_empty() {
            return Err(CommentError::Empty);
        }
        let chars = text.chars().count();
        if chars > MAX_COMMENT_CHARS {
            return Err(CommentError::TooLong(chars));
        }
        if let Some((i, c)) = text
            .chars()
            .enumerate()
            .find(|(_, c)| c.is_control() && *c != '\n' && *c != '\t')
        {
            return Err(CommentError::Control {
                code: u32::from(c),
                at: i + 1,
            });
        }
        Ok(CommentBody(text.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CommentBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_trimmed_bounded_and_printable() {
        assert_eq!(
            CommentBody::parse("  Is b right?\r\nI doubt it.\t ")
                .unwrap()
                .as_str(),
            "Is b right?\nI doubt it."
        );
        assert_eq!(CommentBody::parse(" \n\t "), Err(CommentError::Empty));
        let long = "é".repeat(MAX_COMMENT_CHARS + 1);
        assert_eq!(
            CommentBody::parse(&long),
            Err(CommentError::TooLong(MAX_COMMENT_CHARS + 1))
        );
        assert!(CommentBody::parse(&"é".repeat(MAX_COMMENT_CHARS)).is_ok());
        let bell = CommentBody::parse("ok\u{7}no").unwrap_err();
        assert_eq!(bell, CommentError::Control { code: 7, at: 3 });
        assert!(bell.to_string().contains("U+0007"));
    }
}
