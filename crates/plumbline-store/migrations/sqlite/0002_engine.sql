-- The annotation engine: the work queue's index, gold scoring, qualification resets,
-- edge-case quota counters. New columns are nullable or defaulted so the import path
-- (which does not know them) is unchanged.

-- The rubric version a lease is judged under (fixed when it is leased).
ALTER TABLE assignments ADD COLUMN rubric_version INTEGER NOT NULL DEFAULT 1;
-- Score of a judgment on a gold item against the active gold: 1 right, 0 wrong, NULL not gold.
ALTER TABLE judgments ADD COLUMN gold_correct INTEGER;
-- Qualification assignments leased before this time (ms) belong to an earlier attempt.
ALTER TABLE qualifications ADD COLUMN since INTEGER NOT NULL DEFAULT 0;

-- The work queue: open, non-gold items, fullest first. Partial, so resolved items and
-- gold leave it; import appends at the end of the fill-0 range.
CREATE INDEX items_queue ON items (project_id, (judgments + leases) DESC, id)
    WHERE state = 'open' AND is_gold = 0;
-- Gold items and the adjudication queue are small; partial indexes keep them cheap.
CREATE INDEX items_gold ON items (project_id, id) WHERE is_gold = 1;
CREATE INDEX items_adjudication ON items (project_id, updated_at, id) WHERE state = 'adjudication';
CREATE INDEX judgments_user ON judgments (project_id, user_id) WHERE user_id IS NOT NULL;
CREATE INDEX adjudications_item ON adjudications (item_id);

-- Served work per project ('' = all work) and per edge-case quota tag.
CREATE TABLE serve_counts (
    project_id  INTEGER NOT NULL REFERENCES projects(id),
    tag         TEXT NOT NULL,
    served      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, tag)
) WITHOUT ROWID;
