//! One conformance suite, run against every backend: a fresh SQLite file and a fresh
//! PostgreSQL database (from `PLUMBLINE_TEST_POSTGRES_URL`) per test.

mod cases;
mod cases_audit;
mod cases_browse;
mod cases_experts;
mod cases_export;
mod cases_identity;
mod cases_invitations;
mod cases_leads;
mod cases_media;
mod cases_tamper;
mod cases_work;
mod support;

/// Cases of one backend's own features.
mod sqlite_only {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_backup_under_load_restores_whole() {
        let store = crate::support::sqlite().await;
        crate::cases::sqlite_backup_under_load_restores_whole(store).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_files_are_private() {
        let store = crate::support::sqlite().await;
        crate::cases::sqlite_files_are_private(store).await;
    }
}

/// Timings of the item browser over 100,000 items, run by hand (`--ignored`).
mod browse_scale {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore]
    async fn sqlite_item_browser_at_100k() {
        crate::cases::item_browser_at_100k(crate::support::sqlite().await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore]
    async fn postgres_item_browser_at_100k() {
        let Some(db) = crate::support::postgres().await else {
            return;
        };
        crate::cases::item_browser_at_100k(db.store.clone()).await;
        db.drop_database().await;
    }
}

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
    each_project_has_its_own_pseudonym_key,
    integrity_check_passes,
    external_judgments_come_and_go_with_their_items,
    reimport_adds_only_new_external_judgments,
    gold_candidates_wait_for_a_lead,
    splits_are_stored_streamed_and_all_or_nothing,
    judged_items_merge_judgments_in_item_order,
    exports_read_gold_and_annotator_outcomes,
    users_members_and_expertise,
    tokens_live_expire_and_revoke,
    passwords_members_and_throttles,
    invitations_are_single_use_replaceable_and_expire,
    audit_chain_records_every_mutation,
    audit_chain_stays_whole_under_concurrent_writers,
    purge_removes_text_and_keeps_ids_and_hashes,
    leases_fill_items_closest_to_completion_first,
    submit_validates_and_settles_by_consensus,
    resubmission_keeps_history_and_expiry_refuses,
    routing_needs_verified_expertise,
    waiting_counts_what_each_annotator_could_still_be_given,
    qualification_passes_fails_and_resets,
    hidden_gold_follows_the_rate_and_is_scored,
    edge_case_quotas_come_first,
    gold_is_versioned_and_revalidated,
    adjudication_decides_and_promotes,
    concurrent_annotators_keep_the_overlap,
    held_lease_comes_back_until_submitted_skipped_or_expired,
    held_or_next_and_the_queue_follow_every_path,
    every_engine_path_writes_the_same_events,
    experts_come_first_and_decide_escalated_items,
    without_experts_disagreement_goes_to_adjudication,
    clearly_inaccurate_annotators_are_put_on_probation,
    qualification_misses_do_not_count_toward_probation,
    the_first_submission_fixes_the_gold_score,
    training_feedback_only_after_a_qualification_miss,
    settings_change_whole_or_not_at_all,
    reinstatement_resets_what_probation_counts,
    item_browser_filters_in_the_store,
);

/// Declares each case that compares two fresh databases of one backend.
macro_rules! conformance_pairs {
    ($($case:ident),* $(,)?) => {
        mod sqlite_pairs {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let (one, two) = (crate::support::sqlite().await, crate::support::sqlite().await);
                    crate::cases::$case(one, two).await;
                }
            )*
        }
        mod postgres_pairs {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(one) = crate::support::postgres().await else { return };
                    let Some(two) = crate::support::postgres().await else { return };
                    crate::cases::$case(one.store.clone(), two.store.clone()).await;
                    one.drop_database().await;
                    two.drop_database().await;
                }
            )*
        }
    };
}

conformance_pairs!(gold_draw_and_order_need_the_secret);

/// Declares each case that also tampers with the database directly.
macro_rules! conformance_raw {
    ($($case:ident),* $(,)?) => {
        mod sqlite_raw {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let store = crate::support::sqlite().await;
                    let raw = crate::support::Raw::Sqlite(store.path().to_owned());
                    crate::cases_tamper::$case(store, raw).await;
                }
            )*
        }
        mod postgres_raw {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(db) = crate::support::postgres().await else { return };
                    let raw = crate::support::Raw::Postgres(db.url.clone());
                    crate::cases_tamper::$case(db.store.clone(), raw).await;
                    db.drop_database().await;
                }
            )*
        }
    };
}

/// Declares each case of call audio, which also reads the database directly.
macro_rules! conformance_media {
    ($($case:ident),* $(,)?) => {
        mod sqlite_media {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let store = crate::support::sqlite().await;
                    let raw = crate::support::Raw::Sqlite(store.path().to_owned());
                    crate::cases_media::$case(store, raw).await;
                }
            )*
        }
        mod postgres_media {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(db) = crate::support::postgres().await else { return };
                    let raw = crate::support::Raw::Postgres(db.url.clone());
                    crate::cases_media::$case(db.store.clone(), raw).await;
                    db.drop_database().await;
                }
            )*
        }
    };
}

conformance_raw!(
    untampered_chain_verifies_against_its_anchor,
    deleting_the_tail_is_detected,
    a_forged_event_with_an_unkeyed_hash_is_detected,
    an_edit_with_the_rest_recomputed_is_detected,
    reordered_events_are_detected,
    a_forged_insert_in_the_middle_is_detected,
    an_edited_anchor_or_a_missing_head_is_detected,
    a_chain_from_before_the_key_still_verifies,
    purge_removes_skip_reasons,
);

conformance_media!(media_is_chunked_deduplicated_ranged_and_purged);
