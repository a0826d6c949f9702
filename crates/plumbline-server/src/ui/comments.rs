//! The comment thread of an item, drawn on the item page and under each case of the
//! review page: author, time (shown in the reader's time zone by `app.js`), the text
//! (escaped, line breaks kept by CSS), and a form that `comments.js` posts to
//! `POST /api/v1/projects/{p}/items/{item}/comments`. Who may see it is decided by the
//! caller with [`crate::api::comments::may_discuss`]; nothing here is drawn otherwise.

use super::dashboard::iso_utc;
use maud::{Markup, html};
use plumbline_domain::MAX_COMMENT_CHARS;
use plumbline_store::ItemComment;

/// Where a thread is drawn: its heading level and the prefix of its element ids.
#[derive(Debug, Clone, Copy)]
pub struct ThreadPlace<'a> {
    /// Prefix making the ids unique on the page (`case2-` on the review page).
    pub ids: &'a str,
    /// Drawn under an `h2` (review page cases): its own heading is an `h3`.
    pub nested: bool,
}

/// One comment.
fn comment(c: &ItemComment) -> Markup {
    let at = iso_utc(c.created_at);
    html! {
        li.comment {
            p.meta {
                strong { (c.author_name) } " · "
                time datetime=(at) data-local { (at.replace('T', " ").replace('Z', " UTC")) }
            }
            p.cbody { (c.body) }
        }
    }
}

/// The thread of `item` in `project` with its post form.
pub fn thread(project: &str, item: &str, comments: &[ItemComment], place: ThreadPlace) -> Markup {
    let field = format!("{}comment", place.ids);
    let title = html! { "Comments (" span.count { (comments.len()) } ")" };
    html! {
        section.thread data-project=(project) data-item=(item) aria-label={ "Comments on item " (item) } {
            @if place.nested { h3 { (title) } } @else { h2 { (title) } }
            p.muted.none hidden[!comments.is_empty()] { "No comments yet." }
            ol.comments {
                @for c in comments { (comment(c)) }
            }
            form.comment-form.stack novalidate {
                label for=(field) { "Add a comment" }
                textarea id=(field) name="body" rows="3" maxlength=(MAX_COMMENT_CHARS) {}
                p.error role="alert" hidden {}
                p.actions { button type="submit" { "Post comment" } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_escaped_and_ids_prefixed() {
        let c = ItemComment {
            id: 1,
            item: "it-1".into(),
            author: plumbline_domain::UserId(2),
            author_name: "<ada>".into(),
            body: "b is <script>alert(1)</script> wrong".into(),
            created_at: 1_796_678_608_000,
        };
        let html = thread(
            "p",
            "it-1",
            &[c],
            ThreadPlace {
                ids: "case3-",
                nested: true,
            },
        )
        .into_string();
        assert!(!html.contains("<script>") && html.contains("&lt;script&gt;"));
        assert!(html.contains("&lt;ada&gt;"));
        assert!(html.contains("id=\"case3-comment\"") && html.contains("<h3>"));
        assert!(html.contains("2026-12-07 21:23:28 UTC"));
    }
}
