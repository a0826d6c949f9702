-- Each annotator's hidden-gold answers are counted on every lease (probation) and when
-- an item settles (reliability): a partial index of the scored judgments keeps that a
-- short index-only walk instead of a visit to every judgment of the annotator.
CREATE INDEX judgments_gold_user ON judgments (project_id, user_id, gold_correct)
    WHERE gold_correct IS NOT NULL;
