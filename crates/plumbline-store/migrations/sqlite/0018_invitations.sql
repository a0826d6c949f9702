-- One-time links that let an invited user choose their password. Only the SHA-256 of
-- the link's random secret is kept, so the database never holds a usable link. A user
-- has at most one live invitation: issuing another revokes the earlier ones.
CREATE TABLE invitations (
    token_hash BLOB PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id INTEGER NOT NULL REFERENCES users (id),
    created_by INTEGER REFERENCES users (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    -- Set when the link was used to choose a password.
    used_at INTEGER,
    -- Set when a newer link for the same user replaced this one.
    revoked_at INTEGER
) WITHOUT ROWID;
CREATE INDEX invitations_user ON invitations (user_id);
