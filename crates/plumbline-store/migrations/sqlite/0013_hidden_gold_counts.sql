-- Probation reads an annotator's hidden-gold record on every lease. Counting it from
-- `judgments` (each gold-scored judgment since the latest reinstatement, and its
-- assignment's purpose) cost two b-tree lookups per gold judgment the annotator ever
-- made: 15 % of the server's CPU under `bench serve` at 1M items. The counts join the
-- per-annotator row of migration 0007, kept by its triggers; a reinstatement's record
-- set aside is subtracted (their sum is the record up to the latest one).

ALTER TABLE annotator_counts ADD COLUMN hidden_correct INTEGER NOT NULL DEFAULT 0;
ALTER TABLE annotator_counts ADD COLUMN hidden_scored INTEGER NOT NULL DEFAULT 0;

UPDATE annotator_counts SET
    hidden_correct = (SELECT coalesce(sum(j.gold_correct = 1), 0)
                      FROM judgments j JOIN assignments a ON a.id = j.assignment_id
                      WHERE j.project_id = annotator_counts.project_id
                        AND j.user_id = annotator_counts.user_id
                        AND j.gold_correct IS NOT NULL AND a.purpose = 'gold'),
    hidden_scored = (SELECT count(*)
                     FROM judgments j JOIN assignments a ON a.id = j.assignment_id
                     WHERE j.project_id = annotator_counts.project_id
                       AND j.user_id = annotator_counts.user_id
                       AND j.gold_correct IS NOT NULL AND a.purpose = 'gold');

DROP TRIGGER annotator_counts_judge;
DROP TRIGGER annotator_counts_rejudge;
DROP TRIGGER annotator_counts_unjudge;

-- `hidden` of a judgment: scored against gold on an assignment served as hidden gold.
CREATE TRIGGER annotator_counts_judge AFTER INSERT ON judgments WHEN NEW.user_id IS NOT NULL BEGIN
    INSERT INTO annotator_counts (project_id, user_id, judgments, gold_correct, gold_scored, inversions,
                                  hidden_correct, hidden_scored)
        SELECT NEW.project_id, NEW.user_id, 1, coalesce(NEW.gold_correct = 1, 0),
               NEW.gold_correct IS NOT NULL, NEW.priority_inversion,
               h.hidden AND coalesce(NEW.gold_correct = 1, 0), h.hidden
        FROM (SELECT coalesce(NEW.gold_correct IS NOT NULL AND
                              (SELECT a.purpose = 'gold' FROM assignments a WHERE a.id = NEW.assignment_id), 0)
                     AS hidden) h
        WHERE true
        ON CONFLICT (project_id, user_id) DO UPDATE SET judgments = judgments + 1,
            gold_correct = gold_correct + excluded.gold_correct,
            gold_scored = gold_scored + excluded.gold_scored,
            inversions = inversions + excluded.inversions,
            hidden_correct = hidden_correct + excluded.hidden_correct,
            hidden_scored = hidden_scored + excluded.hidden_scored;
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
        inversions = inversions - OLD.priority_inversion,
        hidden_correct = hidden_correct - h.hidden * coalesce(OLD.gold_correct = 1, 0),
        hidden_scored = hidden_scored - h.hidden
    FROM (SELECT coalesce(OLD.gold_correct IS NOT NULL AND
                          (SELECT a.purpose = 'gold' FROM assignments a WHERE a.id = OLD.assignment_id), 0)
                 AS hidden) h
    WHERE project_id = OLD.project_id AND user_id = OLD.user_id;
    INSERT INTO annotator_counts (project_id, user_id, judgments, gold_correct, gold_scored, inversions,
                                  hidden_correct, hidden_scored)
        SELECT NEW.project_id, NEW.user_id, 1, coalesce(NEW.gold_correct = 1, 0),
               NEW.gold_correct IS NOT NULL, NEW.priority_inversion,
               h.hidden AND coalesce(NEW.gold_correct = 1, 0), h.hidden
        FROM (SELECT coalesce(NEW.gold_correct IS NOT NULL AND
                              (SELECT a.purpose = 'gold' FROM assignments a WHERE a.id = NEW.assignment_id), 0)
                     AS hidden) h
        WHERE NEW.user_id IS NOT NULL
        ON CONFLICT (project_id, user_id) DO UPDATE SET judgments = judgments + 1,
            gold_correct = gold_correct + excluded.gold_correct,
            gold_scored = gold_scored + excluded.gold_scored,
            inversions = inversions + excluded.inversions,
            hidden_correct = hidden_correct + excluded.hidden_correct,
            hidden_scored = hidden_scored + excluded.hidden_scored;
END;

CREATE TRIGGER annotator_counts_unjudge AFTER DELETE ON judgments WHEN OLD.user_id IS NOT NULL BEGIN
    UPDATE annotator_counts SET judgments = judgments - 1,
        gold_correct = gold_correct - coalesce(OLD.gold_correct = 1, 0),
        gold_scored = gold_scored - (OLD.gold_correct IS NOT NULL),
        inversions = inversions - OLD.priority_inversion,
        hidden_correct = hidden_correct - h.hidden * coalesce(OLD.gold_correct = 1, 0),
        hidden_scored = hidden_scored - h.hidden
    FROM (SELECT coalesce(OLD.gold_correct IS NOT NULL AND
                          (SELECT a.purpose = 'gold' FROM assignments a WHERE a.id = OLD.assignment_id), 0)
                 AS hidden) h
    WHERE project_id = OLD.project_id AND user_id = OLD.user_id;
END;
