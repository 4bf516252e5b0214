-- +goose Up
-- Action plans (issue 16): what an organisation decided to do about its
-- results, who does it, by when, and whether the next wave moved. Managers'
-- words, not respondents': nothing here is anonymous, and nothing here
-- touches a response. Keep in step with postgres/00020_actions.sql.

-- An action is never deleted while its audit matters: deleting sets
-- deleted_at and deleted_by, and only org admins see it afterwards.
-- campaign_id and release_seq are the wave (and its release) the action was
-- created against: "did it work?" compares that wave with later ones.
-- whole_org false with no action_units left (their units deleted) is seen
-- only by readers of the whole organisation: a scope never widens.
CREATE TABLE actions (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id  INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    campaign_id      INTEGER REFERENCES campaigns(id) ON DELETE SET NULL,
    release_seq      INTEGER NOT NULL DEFAULT 0,
    title            TEXT    NOT NULL,
    body             TEXT    NOT NULL DEFAULT '',
    owner_id         INTEGER REFERENCES users(id) ON DELETE SET NULL,
    due_on           TIMESTAMP NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'planned'
                     CHECK (status IN ('planned', 'in_progress', 'done', 'dropped')),
    whole_org        BOOLEAN NOT NULL DEFAULT TRUE,
    created_by       INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at       TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at       TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    done_at          TIMESTAMP,
    last_reminded_at TIMESTAMP,
    deleted_at       TIMESTAMP,
    deleted_by       INTEGER REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX actions_org ON actions(organisation_id, deleted_at, due_on);
CREATE INDEX actions_owner ON actions(owner_id);

CREATE TABLE action_practices (
    action_id   INTEGER NOT NULL REFERENCES actions(id) ON DELETE CASCADE,
    practice_id TEXT    NOT NULL,
    PRIMARY KEY (action_id, practice_id)
);
CREATE INDEX action_practices_practice ON action_practices(practice_id);

CREATE TABLE action_units (
    action_id INTEGER NOT NULL REFERENCES actions(id) ON DELETE CASCADE,
    unit_id   INTEGER NOT NULL REFERENCES business_units(id) ON DELETE CASCADE,
    PRIMARY KEY (action_id, unit_id)
);

-- author_name keeps who wrote it readable after the account is gone.
CREATE TABLE action_comments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    action_id   INTEGER NOT NULL REFERENCES actions(id) ON DELETE CASCADE,
    author_id   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    author_name TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    created_at  TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX action_comments_action ON action_comments(action_id, id);

-- The audit: who created, changed or deleted an action, and when.
CREATE TABLE action_audit (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    action_id  INTEGER NOT NULL REFERENCES actions(id) ON DELETE CASCADE,
    user_id    INTEGER REFERENCES users(id) ON DELETE SET NULL,
    user_name  TEXT    NOT NULL,
    event      TEXT    NOT NULL CHECK (event IN ('created', 'changed', 'deleted')),
    detail     TEXT    NOT NULL DEFAULT '',
    at         TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX action_audit_action ON action_audit(action_id, id);

-- Targets for the next wave, set on a wave: per section, optionally per unit.
CREATE TABLE section_targets (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    section_id  TEXT    NOT NULL,
    unit_id     INTEGER REFERENCES business_units(id) ON DELETE CASCADE,
    target      REAL    NOT NULL CHECK (target >= 0 AND target <= 100),
    set_by      INTEGER REFERENCES users(id) ON DELETE SET NULL,
    updated_at  TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX section_targets_one ON section_targets(campaign_id, section_id, COALESCE(unit_id, 0));

-- Per organisation: the optional weekly digest of open actions to its admins.
CREATE TABLE action_settings (
    organisation_id INTEGER PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
    weekly_digest   BOOLEAN NOT NULL DEFAULT FALSE,
    last_digest_at  TIMESTAMP
);

-- The outbox learns the action mails. SQLite cannot change a CHECK in
-- place: the table is rebuilt with the same rows, columns and indexes,
-- plus action_id (an action's waiting mail goes with it).
CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT    NOT NULL CHECK (kind IN ('invite', 'reminder', 'password_reset',
                                                     'action_assigned', 'action_reminder', 'action_digest')),
    invitation_id   TEXT    REFERENCES invitations(id) ON DELETE CASCADE,
    recipient       TEXT    NOT NULL DEFAULT '',
    locale          TEXT    NOT NULL DEFAULT 'en',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    last_error      TEXT    NOT NULL DEFAULT '',
    sent_at         TIMESTAMP,
    claimed_by      TEXT    NOT NULL DEFAULT '',
    claimed_until   TIMESTAMP,
    created_at      TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    step            INTEGER NOT NULL DEFAULT 0,
    failed_at       TIMESTAMP,
    action_id       INTEGER REFERENCES actions(id) ON DELETE CASCADE
);
INSERT INTO outbox_new (id, kind, invitation_id, recipient, locale, attempts, next_attempt_at, last_error,
                        sent_at, claimed_by, claimed_until, created_at, step, failed_at)
    SELECT id, kind, invitation_id, recipient, locale, attempts, next_attempt_at, last_error,
           sent_at, claimed_by, claimed_until, created_at, step, failed_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(sent_at, next_attempt_at);
CREATE UNIQUE INDEX outbox_one_invite ON outbox(invitation_id) WHERE kind = 'invite';
CREATE UNIQUE INDEX outbox_one_waiting_reminder ON outbox(invitation_id)
    WHERE kind = 'reminder' AND sent_at IS NULL AND failed_at IS NULL;
CREATE UNIQUE INDEX outbox_one_reminder_step ON outbox(invitation_id, step) WHERE kind = 'reminder' AND step > 0;
CREATE INDEX outbox_invitation ON outbox(invitation_id, kind);
CREATE UNIQUE INDEX outbox_one_waiting_password ON outbox(recipient)
    WHERE kind = 'password_reset' AND sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX outbox_action ON outbox(action_id);

-- +goose Down
DELETE FROM outbox WHERE kind LIKE 'action_%';
CREATE TABLE outbox_old (
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
    created_at      TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    step            INTEGER NOT NULL DEFAULT 0,
    failed_at       TIMESTAMP
);
INSERT INTO outbox_old SELECT id, kind, invitation_id, recipient, locale, attempts, next_attempt_at, last_error,
    sent_at, claimed_by, claimed_until, created_at, step, failed_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_old RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(sent_at, next_attempt_at);
CREATE UNIQUE INDEX outbox_one_invite ON outbox(invitation_id) WHERE kind = 'invite';
CREATE UNIQUE INDEX outbox_one_waiting_reminder ON outbox(invitation_id)
    WHERE kind = 'reminder' AND sent_at IS NULL AND failed_at IS NULL;
CREATE UNIQUE INDEX outbox_one_reminder_step ON outbox(invitation_id, step) WHERE kind = 'reminder' AND step > 0;
CREATE INDEX outbox_invitation ON outbox(invitation_id, kind);
CREATE UNIQUE INDEX outbox_one_waiting_password ON outbox(recipient)
    WHERE kind = 'password_reset' AND sent_at IS NULL AND failed_at IS NULL;
DROP TABLE action_settings;
DROP INDEX section_targets_one;
DROP TABLE section_targets;
DROP TABLE action_audit;
DROP TABLE action_comments;
DROP TABLE action_units;
DROP TABLE action_practices;
DROP TABLE actions;
