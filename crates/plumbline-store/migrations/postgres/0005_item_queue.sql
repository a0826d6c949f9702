-- The work queue moves off the wide item row. Every lease, submission, skip and expiry
-- changed `items.judgments`/`items.leases`, which were in the key of the queue index, so
-- each was a non-HOT update that copied the ~1.6 KB row and added an entry to every index
-- of `items` (and left a dead copy for vacuum). `item_queue` holds one narrow row per item:
-- the counters, and copies of the two columns the queue's condition needs (`state`,
-- `is_gold`, kept equal to the item's by the triggers below, whoever writes them). A lease
-- locks the item's queue row; the item row is only read.

CREATE TABLE item_queue (
    item_id     BIGINT PRIMARY KEY REFERENCES items(id),
    project_id  BIGINT NOT NULL REFERENCES projects(id),
    state       TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'adjudication', 'resolved')),
    is_gold     BOOLEAN NOT NULL DEFAULT FALSE,
    judgments   BIGINT NOT NULL DEFAULT 0,   -- submitted judgments, kept with each submit
    leases      BIGINT NOT NULL DEFAULT 0    -- live leases, kept with each lease and expiry
);

INSERT INTO item_queue (item_id, project_id, state, is_gold, judgments, leases)
    SELECT id, project_id, state, is_gold, judgments, leases FROM items;

-- The work queue: open, non-gold items, fullest first (FOR NO KEY UPDATE SKIP LOCKED walks it).
CREATE INDEX item_queue_pick ON item_queue (project_id, (judgments + leases) DESC, item_id)
    WHERE state = 'open' AND NOT is_gold;

-- The counters live in `item_queue` only now (dropping them drops `items_queue`).
ALTER TABLE items DROP COLUMN judgments, DROP COLUMN leases;

-- Every new item gets its queue row (one statement-level trigger per COPY or INSERT).
CREATE FUNCTION item_queue_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO item_queue (item_id, project_id, state, is_gold)
        SELECT id, project_id, state, is_gold FROM new_items;
    RETURN NULL;
END $$;
CREATE TRIGGER items_queue_insert AFTER INSERT ON items
    REFERENCING NEW TABLE AS new_items FOR EACH STATEMENT EXECUTE FUNCTION item_queue_insert();

-- An item's state or gold flag changing (consensus, adjudication, gold) moves its queue row.
CREATE FUNCTION item_queue_mirror() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE item_queue SET state = NEW.state, is_gold = NEW.is_gold WHERE item_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER items_queue_mirror AFTER UPDATE OF state, is_gold ON items
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.is_gold IS DISTINCT FROM NEW.is_gold)
    EXECUTE FUNCTION item_queue_mirror();

-- The queue table was filled in this transaction; give the planner its statistics now.
ANALYZE item_queue;
