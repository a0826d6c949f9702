-- One index of an annotator's gold-scored judgments instead of two near-duplicates
-- (0010's `judgments_gold_scored` on (project, user, id) for probation since the latest
-- reinstatement, 0011's `judgments_gold_user` on (project, user, gold_correct) for the
-- reliability counts at settle). Ordered by id, carrying gold_correct: both reads are
-- short index-only walks, and every judgment of a gold item updates one index, not two.

DROP INDEX IF EXISTS judgments_gold_user;
DROP INDEX IF EXISTS judgments_gold_scored;
CREATE INDEX judgments_gold_scored ON judgments (project_id, user_id, id) INCLUDE (gold_correct)
    WHERE gold_correct IS NOT NULL;
