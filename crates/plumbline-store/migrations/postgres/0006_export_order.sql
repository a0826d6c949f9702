-- Exports merge a project's items with their judgments in item order
-- (`ExportStore::judged_items`, a portal in a repeatable-read transaction); this index
-- gives that order without sorting every judgment of the project.
CREATE INDEX judgments_export ON judgments (project_id, task, item_id, id);
