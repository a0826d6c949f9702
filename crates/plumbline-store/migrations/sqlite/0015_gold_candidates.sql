-- Proposed gold answers waiting for a lead: an imported annotation its tool marked as
-- ground truth (Label Studio's `ground_truth`), later a reviewer's proposal. Never gold by
-- itself: accepting one stores it through the gold path (its `gold.add` event and
-- version); rejecting keeps the row, decided, so a re-import does not propose it again.
CREATE TABLE gold_candidates (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects(id),
    item_id     INTEGER NOT NULL REFERENCES items(id),
    source      TEXT NOT NULL,          -- e.g. 'label-studio/ann-…'
    proposed_by INTEGER REFERENCES users(id),
    payload     TEXT NOT NULL,
    note        TEXT,
    state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'accepted', 'rejected')),
    decided_by  INTEGER REFERENCES users(id),
    decided_at  INTEGER,
    gold_id     INTEGER REFERENCES gold(id),
    created_at  INTEGER NOT NULL,
    UNIQUE (item_id, source, payload)
);
CREATE INDEX gold_candidates_by_project ON gold_candidates (project_id, state, id);
