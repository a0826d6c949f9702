-- Plumbline schema v1 (SQLite). Times are Unix milliseconds; JSON is stored as TEXT.
-- Every entity of DESIGN.md's vocabulary has its table here; later features add
-- behaviour, and new columns arrive in new migrations, never by editing this one.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    password_hash TEXT,                      -- Argon2id PHC string; NULL = cannot log in
    is_admin      INTEGER NOT NULL DEFAULT 0,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

CREATE TABLE projects (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    settings        TEXT NOT NULL,           -- ProjectSettings as JSON
    rubric_version  INTEGER NOT NULL,        -- current version
    split_salt      TEXT NOT NULL,
    retention       TEXT,                    -- retention policy as JSON, NULL = keep
    created_at      INTEGER NOT NULL
);

CREATE TABLE rubric_versions (
    project_id  INTEGER NOT NULL REFERENCES projects(id),
    version     INTEGER NOT NULL,
    rubric      TEXT NOT NULL,               -- Rubric as JSON
    created_by  INTEGER REFERENCES users(id),
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (project_id, version)
) WITHOUT ROWID;

CREATE TABLE members (
    project_id  INTEGER NOT NULL REFERENCES projects(id),
    user_id     INTEGER NOT NULL REFERENCES users(id),
    role        TEXT NOT NULL CHECK (role IN ('lead', 'reviewer', 'annotator', 'viewer')),
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (project_id, user_id)
) WITHOUT ROWID;

CREATE TABLE expertise (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    domain       TEXT NOT NULL,
    level        TEXT NOT NULL CHECK (level IN ('novice', 'practitioner', 'expert')),
    proposed_by  INTEGER REFERENCES users(id),
    proposed_at  INTEGER NOT NULL,
    verified_by  INTEGER REFERENCES users(id),  -- NULL until a lead or admin verifies
    verified_at  INTEGER,
    UNIQUE (user_id, domain)
);

CREATE TABLE items (
    id            INTEGER PRIMARY KEY,
    project_id    INTEGER NOT NULL REFERENCES projects(id),
    ext_id        TEXT NOT NULL,             -- the item's own id
    task          TEXT NOT NULL,
    revision      INTEGER NOT NULL DEFAULT 1,
    content_hash  BLOB NOT NULL,             -- SHA-256 of body
    body          TEXT NOT NULL,             -- canonical native JSON
    state         TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'adjudication', 'resolved')),
    split         TEXT CHECK (split IN ('train', 'eval')),
    is_gold       INTEGER NOT NULL DEFAULT 0,
    judgments     INTEGER NOT NULL DEFAULT 0, -- submitted judgments, kept with each submit
    leases        INTEGER NOT NULL DEFAULT 0, -- live leases, kept with each lease and expiry
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    resolved_at   INTEGER,
    purged_at     INTEGER,
    UNIQUE (project_id, ext_id)
);
-- Import order within a project: exports and listings page by it without sorting.
CREATE INDEX items_project_order ON items (project_id, id);

CREATE TABLE item_revisions (
    item_id       INTEGER NOT NULL REFERENCES items(id),
    revision      INTEGER NOT NULL,
    content_hash  BLOB NOT NULL,
    body          TEXT NOT NULL,
    replaced_at   INTEGER NOT NULL,
    PRIMARY KEY (item_id, revision)
) WITHOUT ROWID;

CREATE TABLE qualifications (
    project_id  INTEGER NOT NULL REFERENCES projects(id),
    user_id     INTEGER NOT NULL REFERENCES users(id),
    state       TEXT NOT NULL CHECK (state IN ('pending', 'passed', 'failed')),
    correct     INTEGER NOT NULL DEFAULT 0,
    total       INTEGER NOT NULL DEFAULT 0,
    updated_at  INTEGER NOT NULL,
    reset_by    INTEGER REFERENCES users(id),
    PRIMARY KEY (project_id, user_id)
) WITHOUT ROWID;

CREATE TABLE assignments (
    id             INTEGER PRIMARY KEY,
    project_id     INTEGER NOT NULL REFERENCES projects(id),
    item_id        INTEGER NOT NULL REFERENCES items(id),
    user_id        INTEGER NOT NULL REFERENCES users(id),
    purpose        TEXT NOT NULL CHECK (purpose IN ('work', 'gold', 'qualification')),
    seq            INTEGER NOT NULL,          -- the annotator's n-th assignment in the project
    display_order  TEXT NOT NULL,             -- JSON list of candidate ids as shown
    state          TEXT NOT NULL CHECK (state IN ('leased', 'submitted', 'skipped', 'expired')),
    leased_at      INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    skip_reason    TEXT,
    UNIQUE (item_id, user_id)
);
CREATE INDEX assignments_live ON assignments (expires_at) WHERE state = 'leased';
CREATE INDEX assignments_user ON assignments (project_id, user_id, seq);

CREATE TABLE judgments (
    id                  INTEGER PRIMARY KEY,
    project_id          INTEGER NOT NULL REFERENCES projects(id),
    item_id             INTEGER NOT NULL REFERENCES items(id),
    assignment_id       INTEGER UNIQUE REFERENCES assignments(id), -- NULL for external judgments
    user_id             INTEGER REFERENCES users(id),               -- NULL for external judgments
    source              TEXT NOT NULL DEFAULT 'annotator' CHECK (source IN ('annotator', 'external')),
    external_source     TEXT,                -- e.g. 'hh-rlhf' for imported prior judgments
    rubric_version      INTEGER NOT NULL,
    task                TEXT NOT NULL,
    payload             TEXT NOT NULL,       -- the kind's payload as JSON
    rationale           TEXT,
    display_order       TEXT,                -- JSON list of candidate ids as shown
    priority_inversion  INTEGER NOT NULL DEFAULT 0,
    time_ms             INTEGER,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
CREATE INDEX judgments_item ON judgments (item_id);
CREATE INDEX judgments_project_time ON judgments (project_id, created_at);

CREATE TABLE judgment_history (
    id           INTEGER PRIMARY KEY,
    judgment_id  INTEGER NOT NULL REFERENCES judgments(id),
    payload      TEXT NOT NULL,
    rationale    TEXT,
    time_ms      INTEGER,
    replaced_at  INTEGER NOT NULL
);

CREATE TABLE gold (
    id                  INTEGER PRIMARY KEY,
    project_id          INTEGER NOT NULL REFERENCES projects(id),
    item_id             INTEGER NOT NULL REFERENCES items(id),
    version             INTEGER NOT NULL,    -- gold of an item is versioned
    rubric_version      INTEGER NOT NULL,
    payload             TEXT NOT NULL,
    rationale           TEXT,
    origin              TEXT NOT NULL CHECK (origin IN ('expert', 'adjudication', 'import')),
    created_by          INTEGER REFERENCES users(id),
    created_at          INTEGER NOT NULL,
    active              INTEGER NOT NULL DEFAULT 1,
    needs_revalidation  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (item_id, version)
);

CREATE TABLE adjudications (
    id              INTEGER PRIMARY KEY,
    project_id      INTEGER NOT NULL REFERENCES projects(id),
    item_id         INTEGER NOT NULL REFERENCES items(id),
    reviewer_id     INTEGER REFERENCES users(id),
    rubric_version  INTEGER NOT NULL,
    payload         TEXT NOT NULL,
    rationale       TEXT NOT NULL,
    gold_id         INTEGER REFERENCES gold(id), -- set when promoted to gold
    created_at      INTEGER NOT NULL
);

CREATE TABLE releases (
    id               INTEGER PRIMARY KEY,
    project_id       INTEGER NOT NULL REFERENCES projects(id),
    kind             TEXT NOT NULL,
    format           TEXT NOT NULL,
    manifest_sha256  TEXT NOT NULL,
    location         TEXT NOT NULL,
    filters          TEXT NOT NULL,           -- JSON
    counts           TEXT NOT NULL,           -- JSON
    created_by       INTEGER REFERENCES users(id),
    created_at       INTEGER NOT NULL
);

CREATE TABLE release_items (
    release_id  INTEGER NOT NULL REFERENCES releases(id),
    item_id     INTEGER NOT NULL REFERENCES items(id),
    PRIMARY KEY (release_id, item_id)
) WITHOUT ROWID;

CREATE TABLE sessions (
    token_hash   BLOB PRIMARY KEY,            -- SHA-256 of the cookie value
    user_id      INTEGER NOT NULL REFERENCES users(id),
    csrf_token   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,            -- absolute expiry
    revoked_at   INTEGER
) WITHOUT ROWID;

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    token_hash   BLOB NOT NULL UNIQUE,        -- SHA-256 of the secret
    scopes       TEXT NOT NULL,               -- comma-separated
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER,
    last_used    INTEGER
);

CREATE TABLE login_throttle (
    name           TEXT PRIMARY KEY,
    failures       INTEGER NOT NULL,
    last_failure   INTEGER NOT NULL,
    locked_until   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE audit_events (
    seq          INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,
    actor        INTEGER REFERENCES users(id), -- NULL = the system or the command line
    action       TEXT NOT NULL,
    object_type  TEXT NOT NULL,
    object_id    TEXT,
    project_id   INTEGER,
    digest       TEXT,                        -- SHA-256 of the content, never the content
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);
