-- Live leases by project and annotator. `assignments_live` held them by expiry alone, so
-- "does this annotator hold a live lease" (asked by every `next`) walked the annotator's
-- whole history in `assignments_user` and filtered it: ~150 buffer reads a lease after a
-- few hundred assignments, growing with the history. Live leases are few (about one per
-- active annotator), so the same partial index also serves the reclaim of expired
-- leases, which scans the project's live leases for `expires_at < now`.
DROP INDEX assignments_live;
CREATE INDEX assignments_held ON assignments (project_id, user_id, expires_at) WHERE state = 'leased';
