-- The hidden-gold draw and the order gold is served in become keyed hashes under a
-- per-project secret (`engine::GoldSecret`): 32 random bytes made with the project, read
-- by `next` only, never sent anywhere. Before, both hashed ids an annotator knows (the
-- project, their user id, their assignment count), so anyone could tell which of their
-- next tasks would be gold.
--
-- Existing projects get a secret here (`randomblob` draws from SQLite's CSPRNG, seeded
-- from the operating system); new ones from the server's random source at creation.
-- SQLite adds a NOT NULL column only with a constant default (one secret for every
-- project), so triggers refuse a project without a 32-byte secret instead.
ALTER TABLE projects ADD COLUMN gold_secret BLOB;
UPDATE projects SET gold_secret = randomblob(32);

CREATE TRIGGER projects_gold_secret_insert BEFORE INSERT ON projects
WHEN typeof(NEW.gold_secret) <> 'blob' OR length(NEW.gold_secret) <> 32
BEGIN
    SELECT RAISE(ABORT, 'a project needs a 32-byte gold_secret');
END;

CREATE TRIGGER projects_gold_secret_update BEFORE UPDATE OF gold_secret ON projects
WHEN typeof(NEW.gold_secret) <> 'blob' OR length(NEW.gold_secret) <> 32
BEGIN
    SELECT RAISE(ABORT, 'a project needs a 32-byte gold_secret');
END;
