-- Call audio lives in the database, beside the transcript it belongs to, so backups,
-- purge and many server processes need nothing else. A file is stored once, named by
-- the SHA-256 of its bytes (two items with the same recording share it), in chunks
-- small enough that a range request reads only the chunks it covers.
CREATE TABLE media (
    sha256 BLOB PRIMARY KEY CHECK (length(sha256) = 32),
    content_type TEXT NOT NULL,
    byte_len INTEGER NOT NULL CHECK (byte_len > 0),
    duration REAL NOT NULL,
    sample_rate INTEGER NOT NULL,
    -- The waveform's min/max pairs as JSON; NULL where no decoder reads the codec (Opus).
    peaks TEXT,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE media_chunks (
    sha256 BLOB NOT NULL REFERENCES media (sha256) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    PRIMARY KEY (sha256, seq)
) WITHOUT ROWID;

-- Which items (any revision) use which audio: what purge follows to remove the bytes
-- no remaining item needs.
CREATE TABLE item_media (
    item_id INTEGER NOT NULL REFERENCES items (id),
    sha256 BLOB NOT NULL REFERENCES media (sha256),
    PRIMARY KEY (item_id, sha256)
) WITHOUT ROWID;
CREATE INDEX item_media_sha256 ON item_media (sha256);
