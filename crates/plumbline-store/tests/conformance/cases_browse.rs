//! The item browser's filters (each alone, together, paged) and the comment thread:
//! ordered, audited without its text, refused for an unknown item, gone after purge.

use crate::cases_work::{import, item, pref, project_with, settings, submission, take, user};
use plumbline_domain::{CommentBody, Split};
use plumbline_store::*;

async fn ids<S: Store>(store: &S, p: &Project, filter: BrowseFilter) -> Vec<String> {
    store
        .browse_items(p.id, filter, None, BROWSE_PAGE)
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.item.ext_id)
        .collect()
}

fn search(s: &str) -> BrowseFilter {
    BrowseFilter {
        search: Some(s.into()),
        ..BrowseFilter::default()
    }
}

pub async fn item_browser_filters_in_the_store<S: Store>(store: S) {
    let p = project_with(&store, settings()).await;
    let mut items: Vec<NewItem> = vec![
        item(0, r#","tags":["billing"]"#),
        item(1, ""),
        item(2, r#","metadata":{"note":"say \"Zebra\" twice"}"#),
        item(3, ""),
        item(4, r#","tags":["billing","vip"]"#),
        item(5, ""),
    ];
    items[3].split = Some(Split::Train);
    items[5].split = Some(Split::Eval);
    import(&store, &p, items).await;
    let (ann, bob, rev) = (
        user(&store, "ann").await,
        user(&store, "bob").await,
        user(&store, "rev").await,
    );
    // Item 0: both pick a (consensus); item 1: they differ (adjudication).
    for (a, b) in [("a", "a"), ("a", "b")] {
        let ta = take(&store, ann, &p).await;
        let tb = take(&store, bob, &p).await;
        assert_eq!(ta.item, tb.item);
        store
            .submit(ann, p.id, ta.assignment, submission(pref(a)))
            .await
            .unwrap();
        store
            .submit(bob, p.id, tb.assignment, submission(pref(b)))
            .await
            .unwrap();
    }
    let all = ids(&store, &p, BrowseFilter::default()).await;
    assert_eq!(
        all,
        [
            "it-00000", "it-00001", "it-00002", "it-00003", "it-00004", "it-00005"
        ]
    );
    // Keyset pages in import order.
    let first = store
        .browse_items(p.id, BrowseFilter::default(), None, 4)
        .await
        .unwrap();
    assert_eq!(first.len(), 4);
    assert_eq!(first[0].judgments, 2);
    let rest = store
        .browse_items(p.id, BrowseFilter::default(), Some(first[3].item.id), 4)
        .await
        .unwrap();
    assert_eq!(
        rest.iter()
            .map(|b| b.item.ext_id.as_str())
            .collect::<Vec<_>>(),
        ["it-00004", "it-00005"]
    );
    // Text, case-insensitively, quotes included; an own id; a database id.
    assert_eq!(ids(&store, &p, search("QUESTION 3")).await, ["it-00003"]);
    assert_eq!(ids(&store, &p, search("\"zebra\"")).await, ["it-00002"]);
    assert_eq!(ids(&store, &p, search(" it-00004 ")).await, ["it-00004"]);
    assert!(ids(&store, &p, search("no such words")).await.is_empty());
    let db_id = rest[1].item.id.0.to_string();
    assert!(
        ids(&store, &p, search(&db_id))
            .await
            .contains(&"it-00005".to_owned())
    );
    // Tag (whole tags only), state, split, agreement, annotator.
    let tag = |t: &str| BrowseFilter {
        tag: Some(t.into()),
        ..BrowseFilter::default()
    };
    assert_eq!(
        ids(&store, &p, tag("billing")).await,
        ["it-00000", "it-00004"]
    );
    assert_eq!(ids(&store, &p, tag("vip")).await, ["it-00004"]);
    assert!(ids(&store, &p, tag("bill")).await.is_empty());
    let state = |s: ItemState| BrowseFilter {
        state: Some(s),
        ..BrowseFilter::default()
    };
    assert_eq!(
        ids(&store, &p, state(ItemState::Resolved)).await,
        ["it-00000"]
    );
    assert_eq!(
        ids(&store, &p, state(ItemState::Adjudication)).await,
        ["it-00001"]
    );
    let split = |s: SplitFilter| BrowseFilter {
        split: Some(s),
        ..BrowseFilter::default()
    };
    assert_eq!(
        ids(&store, &p, split(SplitFilter::Train)).await,
        ["it-00003"]
    );
    assert_eq!(
        ids(&store, &p, split(SplitFilter::Eval)).await,
        ["it-00005"]
    );
    assert_eq!(
        ids(&store, &p, split(SplitFilter::Unsplit)).await,
        ["it-00000", "it-00001", "it-00002", "it-00004"]
    );
    let agreement = |a: AgreementFilter| BrowseFilter {
        agreement: Some(a),
        ..BrowseFilter::default()
    };
    assert_eq!(
        ids(&store, &p, agreement(AgreementFilter::Agreed)).await,
        ["it-00000"]
    );
    assert_eq!(
        ids(&store, &p, agreement(AgreementFilter::Disputed)).await,
        ["it-00001"]
    );
    let by = |u| BrowseFilter {
        annotator: Some(u),
        ..BrowseFilter::default()
    };
    assert_eq!(ids(&store, &p, by(ann)).await, ["it-00000", "it-00001"]);
    assert!(ids(&store, &p, by(rev)).await.is_empty());
    // Filters narrow together.
    let both = BrowseFilter {
        annotator: Some(bob),
        state: Some(ItemState::Adjudication),
        tag: None,
        ..search("question")
    };
    assert_eq!(ids(&store, &p, both).await, ["it-00001"]);

    // The thread: in order, with author names; an unknown item is not found.
    let c1 = store
        .add_comment(
            rev,
            p.id,
            "it-00001",
            CommentBody::parse("Is b right? <b>").unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        (c1.author, c1.author_name.as_str(), c1.body.as_str()),
        (rev, "rev", "Is b right? <b>")
    );
    let c2 = store
        .add_comment(
            ann,
            p.id,
            "it-00001",
            CommentBody::parse("I read it so").unwrap(),
        )
        .await
        .unwrap();
    let thread = store.comments_of_item(p.id, "it-00001").await.unwrap();
    assert_eq!(thread, [c1.clone(), c2]);
    assert!(
        store
            .comments_of_item(p.id, "it-00000")
            .await
            .unwrap()
            .is_empty()
    );
    for err in [
        store.comments_of_item(p.id, "nope").await.unwrap_err(),
        store
            .add_comment(rev, p.id, "nope", CommentBody::parse("x").unwrap())
            .await
            .unwrap_err(),
    ] {
        assert!(matches!(err, StoreError::NotFound(_)), "{err}");
    }
    let listed = ids(&store, &p, search("it-00001")).await;
    assert_eq!(listed, ["it-00001"]);
    let row = &store
        .browse_items(p.id, search("it-00001"), None, 10)
        .await
        .unwrap()[0];
    assert_eq!(row.comments, 2);
    // Audited with the item and a digest, never the text.
    let events = store.audit_events(0, 1000).await.unwrap();
    let added: Vec<_> = events
        .iter()
        .filter(|e| e.action == "comment.add")
        .collect();
    assert_eq!(added.len(), 2);
    assert_eq!(added[0].object_id.as_deref(), Some("it-00001"));
    assert_eq!(added[0].actor, Some(rev.0));
    assert!(
        added[0]
            .digest
            .as_deref()
            .is_some_and(|d| !d.contains("right"))
    );
    // Purge takes the thread with the item's text.
    let report = store
        .purge(None, p.id, PurgeScope::Everything, false)
        .await
        .unwrap();
    assert_eq!(report.comments, 2);
    assert!(
        store
            .comments_of_item(p.id, "it-00001")
            .await
            .unwrap()
            .is_empty()
    );
    store.check_integrity().await.unwrap();
}

/// How long the browser's pages take over 100,000 items (run by hand with
/// `--ignored --nocapture`): the first page unfiltered, a search that matches nothing
/// (the whole project read), one that matches the last item, and the annotator and
/// state filters that match nothing.
pub async fn item_browser_at_100k<S: Store>(store: S) {
    let p = project_with(&store, settings()).await;
    let n = 100_000;
    import(
        &store,
        &p,
        (0..n).map(|i| item(i, r#","tags":["t"]"#)).collect(),
    )
    .await;
    let ghost = user(&store, "ghost").await;
    let cases = [
        ("first page, no filter", BrowseFilter::default()),
        ("text matching nothing", search("no such words anywhere")),
        ("text matching the last item", search("question 99999")),
        ("an id", search("it-54321")),
        (
            "annotator with no judgments",
            BrowseFilter {
                annotator: Some(ghost),
                ..BrowseFilter::default()
            },
        ),
        (
            "state with no items",
            BrowseFilter {
                state: Some(ItemState::Adjudication),
                ..BrowseFilter::default()
            },
        ),
        (
            "tag absent",
            BrowseFilter {
                tag: Some("absent".into()),
                ..BrowseFilter::default()
            },
        ),
    ];
    for (what, filter) in cases {
        let mut times = Vec::new();
        for _ in 0..5 {
            let t = std::time::Instant::now();
            store
                .browse_items(p.id, filter.clone(), None, BROWSE_PAGE + 1)
                .await
                .unwrap();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        println!("{} {what}: median {:.1} ms", store.backend(), times[2]);
    }
}
