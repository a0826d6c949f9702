-- The hidden-gold draw and the order gold is served in become keyed hashes under a
-- per-project secret (`engine::GoldSecret`): 32 random bytes made with the project, read
-- by `next` only, never sent anywhere. Before, both hashed ids an annotator knows (the
-- project, their user id, their assignment count), so anyone could tell which of their
-- next tasks would be gold.
--
-- Existing projects get a secret here: a volatile default is evaluated once per row as
-- the column is added (two random UUIDs, 244 random bits from the server's strong random
-- source, hashed to 32 bytes). The default is then dropped: new projects get their
-- secret from the server's random source at creation, and an insert without one fails.
ALTER TABLE projects ADD COLUMN gold_secret BYTEA NOT NULL
    DEFAULT sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8'));
ALTER TABLE projects ALTER COLUMN gold_secret DROP DEFAULT;
ALTER TABLE projects ADD CONSTRAINT projects_gold_secret_length CHECK (length(gold_secret) = 32);
