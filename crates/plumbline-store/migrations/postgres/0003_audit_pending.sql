-- Audit events wait here, written in the transaction of the change they record, until
-- the sealer links them into `audit_events` (a hash chain) in commit order. Holding
-- the chain's tail under a lock through every commit serialised all writers of all
-- server processes behind one fsync at a time; the sealer links many events per
-- transaction instead. No foreign key on `actor`: `audit_events` checks it on sealing,
-- and a key-share lock on the user row in every transaction buys nothing.
CREATE TABLE audit_pending (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           BIGINT NOT NULL,
    actor        BIGINT,
    action       TEXT NOT NULL,
    object_type  TEXT NOT NULL,
    object_id    TEXT,
    project_id   BIGINT,
    digest       TEXT
);
