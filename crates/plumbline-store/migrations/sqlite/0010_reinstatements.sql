-- Probation and reinstatement. An annotator whose hidden-gold accuracy is provably below
-- the project's minimum is on probation until a lead reinstates them; from then on only
-- the hidden gold they judge after the latest reinstatement counts: judgments whose id
-- is above `after_judgment`, the highest judgment id when the reinstatement was written
-- (ids only grow, and the writer is one, so the cut is exact).

CREATE TABLE reinstatements (
    id              INTEGER PRIMARY KEY,
    project_id      INTEGER NOT NULL REFERENCES projects(id),
    user_id         INTEGER NOT NULL REFERENCES users(id),
    reinstated_by   INTEGER REFERENCES users(id),  -- NULL = the command line
    at              INTEGER NOT NULL,
    after_judgment  INTEGER NOT NULL,
    gold_correct    INTEGER NOT NULL,              -- the hidden-gold record set aside:
    gold_scored     INTEGER NOT NULL               -- right answers of scored ones
);
CREATE INDEX reinstatements_user ON reinstatements (project_id, user_id, id);

-- An annotator's gold-scored judgments in order, so the probation read walks only those
-- after the last reinstatement. Partial: only judgments of gold items (hidden gold and
-- qualification, a small share of the work) have an entry.
CREATE INDEX judgments_gold_scored ON judgments (project_id, user_id, id)
    WHERE gold_correct IS NOT NULL;
