-- Dataset releases (the `releases` and `release_items` tables exist since 0001): the
-- lookups that `release list`, `release verify` by id and retention make.

-- A release is quoted by its manifest hash; list a project's releases newest first.
CREATE INDEX releases_project_manifest ON releases (project_id, manifest_sha256);
CREATE INDEX releases_project_time ON releases (project_id, created_at);
-- Retention joins an item to its first release.
CREATE INDEX release_items_item ON release_items (item_id);
