-- Annotator pseudonyms in exports become keyed hashes under a per-project secret of
-- their own (`PseudonymKey`): 32 random bytes made with the project, read by exports
-- only, never sent anywhere. Before, they hashed the project's `split_salt`, which the
-- project API sent to every member, so a member could re-identify the annotators of a
-- released `full.jsonl` from the member list.
--
-- Every project gets a new secret here, so pseudonyms change once: exports and
-- releases made after this migration name annotators differently from those made
-- before it, and stay stable from then on. (`randomblob` draws from SQLite's CSPRNG.)
-- As for `gold_secret`, triggers refuse a project without a 32-byte secret.
ALTER TABLE projects ADD COLUMN pseudonym_secret BLOB;
UPDATE projects SET pseudonym_secret = randomblob(32);

CREATE TRIGGER projects_pseudonym_secret_insert BEFORE INSERT ON projects
WHEN typeof(NEW.pseudonym_secret) <> 'blob' OR length(NEW.pseudonym_secret) <> 32
BEGIN
    SELECT RAISE(ABORT, 'a project needs a 32-byte pseudonym_secret');
END;

CREATE TRIGGER projects_pseudonym_secret_update BEFORE UPDATE OF pseudonym_secret ON projects
WHEN typeof(NEW.pseudonym_secret) <> 'blob' OR length(NEW.pseudonym_secret) <> 32
BEGIN
    SELECT RAISE(ABORT, 'a project needs a 32-byte pseudonym_secret');
END;
