-- Annotator pseudonyms in exports become keyed hashes under a per-project secret of
-- their own (`PseudonymKey`): 32 random bytes made with the project, read by exports
-- only, never sent anywhere. Before, they hashed the project's `split_salt`, which the
-- project API sent to every member, so a member could re-identify the annotators of a
-- released `full.jsonl` from the member list.
--
-- Every project gets a new secret here (a volatile default, evaluated once per row, as
-- in 0009), so pseudonyms change once: exports and releases made after this migration
-- name annotators differently from those made before it, and stay stable from then on.
ALTER TABLE projects ADD COLUMN pseudonym_secret BYTEA NOT NULL
    DEFAULT sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8'));
ALTER TABLE projects ALTER COLUMN pseudonym_secret DROP DEFAULT;
ALTER TABLE projects ADD CONSTRAINT projects_pseudonym_secret_length CHECK (length(pseudonym_secret) = 32);
