-- Live leases found by (project, annotator) and by (project, expiry), never by walking
-- an annotator's history (PostgreSQL only; SQLite's `assignments_live` loses an entry
-- the moment its row stops being `leased`, so walking the live leases is short there).
--
-- `next` asks whether the annotator already holds a live lease (`held_or_next`), and it
-- answered along `assignments_user (project_id, user_id, seq)`, filtering every one of
-- the annotator's assignments on the heap: 287 buffers a `next` at 300 assignments,
-- growing with every judgment they ever made. Along this partial index it is one.
CREATE INDEX assignments_held ON assignments (project_id, user_id) WHERE state = 'leased';

-- Reclaim asks for a project's expired leases. With the index above the planner took it
-- for that too (its leading column is the project) and filtered every live lease of the
-- project on the heap; keyed by (project, expiry) the expired ones are a range.
DROP INDEX assignments_live;
CREATE INDEX assignments_live ON assignments (project_id, expires_at) WHERE state = 'leased';
