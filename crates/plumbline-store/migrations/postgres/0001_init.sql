-- Plumbline schema v1 (PostgreSQL). Times are Unix milliseconds; JSON is stored as TEXT (parsed by the application).
-- Every entity of DESIGN.md's vocabulary has its table here; later features add
-- behaviour, and new columns arrive in new migrations, never by editing this one.

CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    password_hash TEXT,                      -- Argon2id PHC string; NULL = cannot log in
    is_admin      BOOLEAN NOT NULL DEFAULT FALSE,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT NOT NULL
);

CREATE TABLE projects (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    settings        TEXT NOT NULL,           -- ProjectSettings as JSON
    rubric_version  BIGINT NOT NULL,        -- current version
    split_salt      TEXT NOT NULL,
    retention       TEXT,                    -- retention policy as JSON, NULL = keep
    created_at      BIGINT NOT NULL
);

CREATE TABLE rubric_versions (
    project_id  BIGINT NOT NULL REFERENCES projects(id),
    version     BIGINT NOT NULL,
    rubric      TEXT NOT NULL,               -- Rubric as JSON
    created_by  BIGINT REFERENCES users(id),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (project_id, version)
);

CREATE TABLE members (
    project_id  BIGINT NOT NULL REFERENCES projects(id),
    user_id     BIGINT NOT NULL REFERENCES users(id),
    role        TEXT NOT NULL CHECK (role IN ('lead', 'reviewer', 'annotator', 'viewer')),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (project_id, user_id)
);

CREATE TABLE expertise (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users(id),
    domain       TEXT NOT NULL,
    level        TEXT NOT NULL CHECK (level IN ('novice', 'practitioner', 'expert')),
    proposed_by  BIGINT REFERENCES users(id),
    proposed_at  BIGINT NOT NULL,
    verified_by  BIGINT REFERENCES users(id),  -- NULL until a lead or admin verifies
    verified_at  BIGINT,
    UNIQUE (user_id, domain)
);

CREATE TABLE items (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id    BIGINT NOT NULL REFERENCES projects(id),
    ext_id        TEXT NOT NULL,             -- the item's own id
    task          TEXT NOT NULL,
    revision      BIGINT NOT NULL DEFAULT 1,
    content_hash  BYTEA NOT NULL,             -- SHA-256 of body
    body          TEXT NOT NULL,             -- canonical native JSON
    state         TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'adjudication', 'resolved')),
    split         TEXT CHECK (split IN ('train', 'eval')),
    is_gold       BOOLEAN NOT NULL DEFAULT FALSE,
    judgments     BIGINT NOT NULL DEFAULT 0, -- submitted judgments, kept with each submit
    leases        BIGINT NOT NULL DEFAULT 0, -- live leases, kept with each lease and expiry
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    resolved_at   BIGINT,
    purged_at     BIGINT,
    UNIQUE (project_id, ext_id)
);
-- Import order within a project: exports and listings page by it without sorting.
CREATE INDEX items_project_order ON items (project_id, id);

CREATE TABLE item_revisions (
    item_id       BIGINT NOT NULL REFERENCES items(id),
    revision      BIGINT NOT NULL,
    content_hash  BYTEA NOT NULL,
    body          TEXT NOT NULL,
    replaced_at   BIGINT NOT NULL,
    PRIMARY KEY (item_id, revision)
);

CREATE TABLE qualifications (
    project_id  BIGINT NOT NULL REFERENCES projects(id),
    user_id     BIGINT NOT NULL REFERENCES users(id),
    state       TEXT NOT NULL CHECK (state IN ('pending', 'passed', 'failed')),
    correct     BIGINT NOT NULL DEFAULT 0,
    total       BIGINT NOT NULL DEFAULT 0,
    updated_at  BIGINT NOT NULL,
    reset_by    BIGINT REFERENCES users(id),
    PRIMARY KEY (project_id, user_id)
);

CREATE TABLE assignments (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id     BIGINT NOT NULL REFERENCES projects(id),
    item_id        BIGINT NOT NULL REFERENCES items(id),
    user_id        BIGINT NOT NULL REFERENCES users(id),
    purpose        TEXT NOT NULL CHECK (purpose IN ('work', 'gold', 'qualification')),
    seq            BIGINT NOT NULL,          -- the annotator's n-th assignment in the project
    display_order  TEXT NOT NULL,             -- JSON list of candidate ids as shown
    state          TEXT NOT NULL CHECK (state IN ('leased', 'submitted', 'skipped', 'expired')),
    leased_at      BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    skip_reason    TEXT,
    UNIQUE (item_id, user_id)
);
CREATE INDEX assignments_live ON assignments (expires_at) WHERE state = 'leased';
CREATE INDEX assignments_user ON assignments (project_id, user_id, seq);

CREATE TABLE judgments (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id          BIGINT NOT NULL REFERENCES projects(id),
    item_id             BIGINT NOT NULL REFERENCES items(id),
    assignment_id       BIGINT UNIQUE REFERENCES assignments(id), -- NULL for external judgments
    user_id             BIGINT REFERENCES users(id),               -- NULL for external judgments
    source              TEXT NOT NULL DEFAULT 'annotator' CHECK (source IN ('annotator', 'external')),
    external_source     TEXT,                -- e.g. 'hh-rlhf' for imported prior judgments
    rubric_version      BIGINT NOT NULL,
    task                TEXT NOT NULL,
    payload             TEXT NOT NULL,       -- the kind's payload as JSON
    rationale           TEXT,
    display_order       TEXT,                -- JSON list of candidate ids as shown
    priority_inversion  BOOLEAN NOT NULL DEFAULT FALSE,
    time_ms             BIGINT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX judgments_item ON judgments (item_id);
CREATE INDEX judgments_project_time ON judgments (project_id, created_at);

CREATE TABLE judgment_history (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    judgment_id  BIGINT NOT NULL REFERENCES judgments(id),
    payload      TEXT NOT NULL,
    rationale    TEXT,
    time_ms      BIGINT,
    replaced_at  BIGINT NOT NULL
);

CREATE TABLE gold (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id          BIGINT NOT NULL REFERENCES projects(id),
    item_id             BIGINT NOT NULL REFERENCES items(id),
    version             BIGINT NOT NULL,    -- gold of an item is versioned
    rubric_version      BIGINT NOT NULL,
    payload             TEXT NOT NULL,
    rationale           TEXT,
    origin              TEXT NOT NULL CHECK (origin IN ('expert', 'adjudication', 'import')),
    created_by          BIGINT REFERENCES users(id),
    created_at          BIGINT NOT NULL,
    active              BOOLEAN NOT NULL DEFAULT TRUE,
    needs_revalidation  BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (item_id, version)
);

CREATE TABLE adjudications (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id      BIGINT NOT NULL REFERENCES projects(id),
    item_id         BIGINT NOT NULL REFERENCES items(id),
    reviewer_id     BIGINT REFERENCES users(id),
    rubric_version  BIGINT NOT NULL,
    payload         TEXT NOT NULL,
    rationale       TEXT NOT NULL,
    gold_id         BIGINT REFERENCES gold(id), -- set when promoted to gold
    created_at      BIGINT NOT NULL
);

CREATE TABLE releases (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id       BIGINT NOT NULL REFERENCES projects(id),
    kind             TEXT NOT NULL,
    format           TEXT NOT NULL,
    manifest_sha256  TEXT NOT NULL,
    location         TEXT NOT NULL,
    filters          TEXT NOT NULL,           -- JSON
    counts           TEXT NOT NULL,           -- JSON
    created_by       BIGINT REFERENCES users(id),
    created_at       BIGINT NOT NULL
);

CREATE TABLE release_items (
    release_id  BIGINT NOT NULL REFERENCES releases(id),
    item_id     BIGINT NOT NULL REFERENCES items(id),
    PRIMARY KEY (release_id, item_id)
);

CREATE TABLE sessions (
    token_hash   BYTEA PRIMARY KEY,            -- SHA-256 of the cookie value
    user_id      BIGINT NOT NULL REFERENCES users(id),
    csrf_token   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen    BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,            -- absolute expiry
    revoked_at   BIGINT
);

CREATE TABLE api_tokens (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users(id),
    token_hash   BYTEA NOT NULL UNIQUE,        -- SHA-256 of the secret
    scopes       TEXT NOT NULL,               -- comma-separated
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    revoked_at   BIGINT,
    last_used    BIGINT
);

CREATE TABLE login_throttle (
    name           TEXT PRIMARY KEY,
    failures       BIGINT NOT NULL,
    last_failure   BIGINT NOT NULL,
    locked_until   BIGINT NOT NULL
);

CREATE TABLE audit_events (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           BIGINT NOT NULL,
    actor        BIGINT REFERENCES users(id), -- NULL = the system or the command line
    action       TEXT NOT NULL,
    object_type  TEXT NOT NULL,
    object_id    TEXT,
    project_id   BIGINT,
    digest       TEXT,                        -- SHA-256 of the content, never the content
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);
