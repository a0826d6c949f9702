-- A thread of comments on an item among its reviewers, leads and (after they submitted)
-- its annotators. Purge deletes an item's comments with its text.
CREATE TABLE item_comments (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects(id),
    item_id     INTEGER NOT NULL REFERENCES items(id),
    author_id   INTEGER NOT NULL REFERENCES users(id),
    body        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
-- A thread in order, and the item browser's comment counts.
CREATE INDEX item_comments_item ON item_comments (item_id, id);

-- The item browser's annotator filter probes (annotator, item) per listed item.
CREATE INDEX judgments_user_item ON judgments (user_id, item_id) WHERE user_id IS NOT NULL;
