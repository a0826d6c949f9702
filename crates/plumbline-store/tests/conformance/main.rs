//! One conformance suite, run against every backend: a fresh SQLite file and a fresh
//! PostgreSQL database (from `PLUMBLINE_TEST_POSTGRES_URL`) per test.

mod cases;
mod cases_identity;
mod support;

/// Declares each case once per backend.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let store = crate::support::sqlite().await;
                    crate::cases::$case(store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(db) = crate::support::postgres().await else { return };
                    crate::cases::$case(db.store.clone()).await;
                    db.drop_database().await;
                }
            )*
        }
    };
}

conformance!(
    projects_are_created_listed_and_unique,
    rubric_versions_are_immutable_and_numbered,
    import_stores_everything_and_exports_in_order,
    reimport_of_same_content_changes_nothing,
    conflicting_content_stores_nothing_without_update,
    update_keeps_revision_history,
    duplicate_ids_within_one_source,
    unfinished_or_refused_source_stores_nothing,
    report_errors_counts_every_conflict,
    items_page_by_keyset,
    unknown_project_is_not_found,
    integrity_check_passes,
    external_judgments_come_and_go_with_their_items,
    users_members_and_expertise,
    tokens_live_expire_and_revoke,
    audit_chain_records_every_mutation,
    purge_removes_text_and_keeps_ids_and_hashes,
);
