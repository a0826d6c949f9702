-- The annotation engine: the work queue's index, gold scoring, qualification resets,
-- edge-case quota counters. New columns are nullable or defaulted so the import path
-- (which does not know them) is unchanged.

ALTER TABLE assignments ADD COLUMN rubric_version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE judgments ADD COLUMN gold_correct BOOLEAN;
ALTER TABLE qualifications ADD COLUMN since BIGINT NOT NULL DEFAULT 0;

-- The work queue: open, non-gold items, fullest first (FOR UPDATE SKIP LOCKED walks it).
CREATE INDEX items_queue ON items (project_id, (judgments + leases) DESC, id)
    WHERE state = 'open' AND NOT is_gold;
CREATE INDEX items_gold ON items (project_id, id) WHERE is_gold;
CREATE INDEX items_adjudication ON items (project_id, updated_at, id) WHERE state = 'adjudication';
CREATE INDEX judgments_user ON judgments (project_id, user_id) WHERE user_id IS NOT NULL;
CREATE INDEX adjudications_item ON adjudications (item_id);
CREATE INDEX gold_item ON gold (item_id) WHERE active;

CREATE TABLE serve_counts (
    project_id  BIGINT NOT NULL REFERENCES projects(id),
    tag         TEXT NOT NULL,
    served      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, tag)
);
