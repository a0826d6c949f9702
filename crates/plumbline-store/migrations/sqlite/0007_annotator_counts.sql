-- Per-annotator figures move from two indexes to one narrow row per (project, annotator).
-- `assignments_user (project_id, user_id, seq)` served `max(seq) + 1` for every lease, and
-- `judgments_user (project_id, user_id)` the gold and inversion counts of a judgment's
-- author. Each annotator's entries sit on their own leaf page of both, so a group commit
-- of 64 annotators' writes rewrote up to 64 leaves of each: 37 % of the WAL frames under
-- `bench serve` (16 KiB each). The rows below are some 30 bytes, all of a project's
-- annotators on one or two pages. Triggers keep them equal to `assignments` and
-- `judgments`, whoever writes those.

CREATE TABLE annotator_counts (
    project_id    INTEGER NOT NULL REFERENCES projects(id),
    user_id       INTEGER NOT NULL REFERENCES users(id),
    seq           INTEGER NOT NULL DEFAULT 0, -- highest assignment sequence number so far
    judgments     INTEGER NOT NULL DEFAULT 0, -- judgments by the annotator in the project
    gold_correct  INTEGER NOT NULL DEFAULT 0, -- of them, scored right against gold
    gold_scored   INTEGER NOT NULL DEFAULT 0, -- of them, scored against gold at all
    inversions    INTEGER NOT NULL DEFAULT 0, -- of them, priority inversions
    PRIMARY KEY (project_id, user_id)
) WITHOUT ROWID;

INSERT INTO annotator_counts (project_id, user_id, seq)
    SELECT project_id, user_id, max(seq) FROM assignments GROUP BY project_id, user_id;
INSERT INTO annotator_counts (project_id, user_id, judgments, gold_correct, gold_scored, inversions)
    SELECT project_id, user_id, count(*), coalesce(sum(gold_correct = 1), 0),
           count(gold_correct), coalesce(sum(priority_inversion), 0)
    FROM judgments WHERE user_id IS NOT NULL GROUP BY project_id, user_id
    ON CONFLICT (project_id, user_id) DO UPDATE SET judgments = excluded.judgments,
        gold_correct = excluded.gold_correct, gold_scored = excluded.gold_scored,
        inversions = excluded.inversions;

CREATE TRIGGER annotator_counts_lease AFTER INSERT ON assignments BEGIN
    INSERT INTO annotator_counts (project_id, user_id, seq) VALUES (NEW.project_id, NEW.user_id, NEW.seq)
        ON CONFLICT (project_id, user_id) DO UPDATE SET seq = max(seq, excluded.seq);
END;

CREATE TRIGGER annotator_counts_judge AFTER INSERT ON judgments WHEN NEW.user_id IS NOT NULL BEGIN
    INSERT INTO annotator_counts (project_id, user_id, judgments, gold_correct, gold_scored, inversions)
        VALUES (NEW.project_id, NEW.user_id, 1, coalesce(NEW.gold_correct = 1, 0),
                NEW.gold_correct IS NOT NULL, NEW.priority_inversion)
        ON CONFLICT (project_id, user_id) DO UPDATE SET judgments = judgments + 1,
            gold_correct = gold_correct + excluded.gold_correct,
            gold_scored = gold_scored + excluded.gold_scored,
            inversions = inversions + excluded.inversions;
END;

-- A resubmission rescores the judgment (and a purge or a future edit may move it).
CREATE TRIGGER annotator_counts_rejudge
    AFTER UPDATE OF project_id, user_id, gold_correct, priority_inversion ON judgments
    WHEN OLD.project_id IS NOT NEW.project_id OR OLD.user_id IS NOT NEW.user_id
      OR OLD.gold_correct IS NOT NEW.gold_correct OR OLD.priority_inversion IS NOT NEW.priority_inversion
BEGIN
    UPDATE annotator_counts SET judgments = judgments - 1,
        gold_correct = gold_correct - coalesce(OLD.gold_correct = 1, 0),
        gold_scored = gold_scored - (OLD.gold_correct IS NOT NULL),
        inversions = inversions - OLD.priority_inversion
    WHERE project_id = OLD.project_id AND user_id = OLD.user_id;
    INSERT INTO annotator_counts (project_id, user_id, judgments, gold_correct, gold_scored, inversions)
        SELECT NEW.project_id, NEW.user_id, 1, coalesce(NEW.gold_correct = 1, 0),
               NEW.gold_correct IS NOT NULL, NEW.priority_inversion
        WHERE NEW.user_id IS NOT NULL
        ON CONFLICT (project_id, user_id) DO UPDATE SET judgments = judgments + 1,
            gold_correct = gold_correct + excluded.gold_correct,
            gold_scored = gold_scored + excluded.gold_scored,
            inversions = inversions + excluded.inversions;
END;

CREATE TRIGGER annotator_counts_unjudge AFTER DELETE ON judgments WHEN OLD.user_id IS NOT NULL BEGIN
    UPDATE annotator_counts SET judgments = judgments - 1,
        gold_correct = gold_correct - coalesce(OLD.gold_correct = 1, 0),
        gold_scored = gold_scored - (OLD.gold_correct IS NOT NULL),
        inversions = inversions - OLD.priority_inversion
    WHERE project_id = OLD.project_id AND user_id = OLD.user_id;
END;

-- Qualification leases are counted per annotator; they are a few per annotator, so a
-- partial index keeps that count cheap without an entry for every other lease.
CREATE INDEX assignments_qualification ON assignments (project_id, user_id, leased_at)
    WHERE purpose = 'qualification';

DROP INDEX assignments_user;
DROP INDEX judgments_user;
