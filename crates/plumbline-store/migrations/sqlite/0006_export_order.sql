-- Exports merge a project's items with their judgments in item order
-- (`ExportStore::judged_items`). Without an index in that order SQLite sorted every
-- judgment of the project in a temporary b-tree on each export (time, and memory with
-- temp_store = MEMORY); this one is walked in order instead (rowid = judgment id).
CREATE INDEX judgments_export ON judgments (project_id, task, item_id);
