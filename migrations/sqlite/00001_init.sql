-- +goose Up
-- The whole data design of DESIGN.md in one step, so later features add
-- columns rather than a second design. Keep in step with postgres/00001_init.sql:
-- a test compares both schemas table by table, column by column.

CREATE TABLE organisations (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    name             TEXT    NOT NULL,
    sector           TEXT    NOT NULL DEFAULT '',
    region           TEXT    NOT NULL DEFAULT '',
    size_band        TEXT    NOT NULL DEFAULT '',
    benchmark_opt_in BOOLEAN NOT NULL DEFAULT FALSE,
    created_at       TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE business_units (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    parent_id       INTEGER REFERENCES business_units(id) ON DELETE SET NULL,
    name            TEXT    NOT NULL,
    UNIQUE (organisation_id, name)
);

CREATE TABLE users (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id INTEGER REFERENCES organisations(id) ON DELETE CASCADE,
    email           TEXT    NOT NULL UNIQUE,
    name            TEXT    NOT NULL DEFAULT '',
    password_hash   TEXT    NOT NULL DEFAULT '',
    role            TEXT    NOT NULL,
    locale          TEXT    NOT NULL DEFAULT 'en',
    created_at      TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- A user who works for several organisations (a consultant) holds a membership in each.
CREATE TABLE memberships (
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    organisation_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    role            TEXT    NOT NULL,
    PRIMARY KEY (user_id, organisation_id)
);

CREATE TABLE manager_units (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    unit_id INTEGER NOT NULL REFERENCES business_units(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, unit_id)
);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT    NOT NULL DEFAULT '',
    token_hash   TEXT    NOT NULL UNIQUE,
    created_at   TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    last_used_at TIMESTAMP,
    revoked_at   TIMESTAMP
);

CREATE TABLE campaigns (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    name            TEXT    NOT NULL,
    wave_label      TEXT    NOT NULL DEFAULT '',
    model_version   INTEGER NOT NULL,
    opens_at        TIMESTAMP,
    closes_at       TIMESTAMP,
    locales         TEXT    NOT NULL DEFAULT 'en,de,fr',
    k_min           INTEGER NOT NULL DEFAULT 5 CHECK (k_min >= 3),
    status          TEXT    NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'open', 'closed')),
    open_link       BOOLEAN NOT NULL DEFAULT FALSE,
    ask_unit        BOOLEAN NOT NULL DEFAULT FALSE,
    ask_role        BOOLEAN NOT NULL DEFAULT FALSE,
    ask_seniority   BOOLEAN NOT NULL DEFAULT FALSE,
    contact_name    TEXT    NOT NULL DEFAULT '',
    contact_email   TEXT    NOT NULL DEFAULT '',
    previous_id     INTEGER REFERENCES campaigns(id) ON DELETE SET NULL,
    created_at      TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX campaigns_organisation ON campaigns(organisation_id);

CREATE TABLE participants (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    email       TEXT    NOT NULL,
    name        TEXT    NOT NULL DEFAULT '',
    unit_id     INTEGER REFERENCES business_units(id) ON DELETE SET NULL,
    role        TEXT    NOT NULL DEFAULT '',
    seniority   TEXT    NOT NULL DEFAULT '',
    locale      TEXT    NOT NULL DEFAULT '',
    UNIQUE (campaign_id, email)
);

-- The token is HMAC(secret, "invite:"+id); only sha256(token) is stored.
-- No completion timestamp, on purpose: it could be matched to a response.
CREATE TABLE invitations (
    id             TEXT    PRIMARY KEY,
    participant_id INTEGER NOT NULL UNIQUE REFERENCES participants(id) ON DELETE CASCADE,
    campaign_id    INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    token_hash     TEXT    NOT NULL UNIQUE,
    status         TEXT    NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'sent', 'opened', 'completed', 'bounced')),
    reminders_sent INTEGER NOT NULL DEFAULT 0,
    opted_out      BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX invitations_campaign_status ON invitations(campaign_id, status);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT    NOT NULL CHECK (kind IN ('invite', 'reminder', 'password_reset')),
    invitation_id   TEXT    REFERENCES invitations(id) ON DELETE CASCADE,
    recipient       TEXT    NOT NULL DEFAULT '',
    locale          TEXT    NOT NULL DEFAULT 'en',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    last_error      TEXT    NOT NULL DEFAULT '',
    sent_at         TIMESTAMP,
    claimed_by      TEXT    NOT NULL DEFAULT '',
    claimed_until   TIMESTAMP,
    created_at      TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX outbox_due ON outbox(sent_at, next_attempt_at);

-- Keyed by HMAC(secret, "draft:"+token): reachable only from the link. Deleted at submit.
CREATE TABLE drafts (
    key         TEXT    PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    answers     BLOB    NOT NULL,
    unit_id     INTEGER REFERENCES business_units(id) ON DELETE SET NULL,
    role        TEXT    NOT NULL DEFAULT '',
    seniority   TEXT    NOT NULL DEFAULT '',
    locale      TEXT    NOT NULL DEFAULT '',
    last_page   INTEGER NOT NULL DEFAULT 0,
    updated_at  TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- No timestamp, user, invitation, IP or user agent: only the campaign dates a response.
-- answers: one byte per (practice, dimension) in model order; 0 unanswered, 1..5 level, 6 don't know.
CREATE TABLE responses (
    id          TEXT    PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    unit_id     INTEGER REFERENCES business_units(id) ON DELETE SET NULL,
    role        TEXT    NOT NULL DEFAULT '',
    seniority   TEXT    NOT NULL DEFAULT '',
    locale      TEXT    NOT NULL DEFAULT '',
    answers     BLOB    NOT NULL
);
CREATE INDEX responses_campaign ON responses(campaign_id);

-- Optional evidence per section, stored apart from responses and shown shuffled, only for groups of k or more.
CREATE TABLE comments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    section_id  TEXT    NOT NULL,
    unit_id     INTEGER REFERENCES business_units(id) ON DELETE SET NULL,
    body        TEXT    NOT NULL
);

CREATE TABLE benchmark_entries (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    source         TEXT    NOT NULL CHECK (source IN ('pool', 'reference')),
    campaign_id    INTEGER UNIQUE REFERENCES campaigns(id) ON DELETE CASCADE,
    sector         TEXT    NOT NULL DEFAULT '',
    region         TEXT    NOT NULL DEFAULT '',
    year           INTEGER NOT NULL,
    size_band      TEXT    NOT NULL DEFAULT '',
    overall        REAL    NOT NULL,
    section_scores TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX benchmark_entries_filter ON benchmark_entries(source, sector, region, year);

CREATE TABLE contributions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    author_id     INTEGER REFERENCES users(id) ON DELETE SET NULL,
    subsection    TEXT    NOT NULL,
    locale        TEXT    NOT NULL,
    title         TEXT    NOT NULL,
    body          TEXT    NOT NULL,
    org_name      TEXT    NOT NULL DEFAULT '',
    status        TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'published', 'rejected')),
    moderator_id  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    reject_reason TEXT    NOT NULL DEFAULT '',
    created_at    TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- +goose Down
DROP TABLE contributions;
DROP TABLE benchmark_entries;
DROP TABLE comments;
DROP TABLE responses;
DROP TABLE drafts;
DROP TABLE outbox;
DROP TABLE invitations;
DROP TABLE participants;
DROP TABLE campaigns;
DROP TABLE api_tokens;
DROP TABLE manager_units;
DROP TABLE memberships;
DROP TABLE users;
DROP TABLE business_units;
DROP TABLE organisations;
