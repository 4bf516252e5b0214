-- +goose Up
-- Action plans (issue 16): what an organisation decided to do about its
-- results, who does it, by when, and whether the next wave moved. Managers'
-- words, not respondents': nothing here is anonymous, and nothing here
-- touches a response. Keep in step with sqlite/00020_actions.sql.

-- An action is never deleted while its audit matters: deleting sets
-- deleted_at and deleted_by, and only org admins see it afterwards.
-- campaign_id and release_seq are the wave (and its release) the action was
-- created against: "did it work?" compares that wave with later ones.
-- whole_org false with no action_units left (their units deleted) is seen
-- only by readers of the whole organisation: a scope never widens.
CREATE TABLE actions (
    id               BIGSERIAL PRIMARY KEY,
    organisation_id  BIGINT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    campaign_id      BIGINT REFERENCES campaigns(id) ON DELETE SET NULL,
    release_seq      INTEGER NOT NULL DEFAULT 0,
    title            TEXT    NOT NULL,
    body             TEXT    NOT NULL DEFAULT '',
    owner_id         BIGINT REFERENCES users(id) ON DELETE SET NULL,
    due_on           TIMESTAMPTZ NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'planned'
                     CHECK (status IN ('planned', 'in_progress', 'done', 'dropped')),
    whole_org        BOOLEAN NOT NULL DEFAULT TRUE,
    created_by       BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    done_at          TIMESTAMPTZ,
    last_reminded_at TIMESTAMPTZ,
    deleted_at       TIMESTAMPTZ,
    deleted_by       BIGINT REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX actions_org ON actions(organisation_id, deleted_at, due_on);
CREATE INDEX actions_owner ON actions(owner_id);

CREATE TABLE action_practices (
    action_id   BIGINT NOT NULL REFERENCES actions(id) ON DELETE CASCADE,
    practice_id TEXT    NOT NULL,
    PRIMARY KEY (action_id, practice_id)
);
CREATE INDEX action_practices_practice ON action_practices(practice_id);

CREATE TABLE action_units (
    action_id BIGINT NOT NULL REFERENCES actions(id) ON DELETE CASCADE,
    unit_id   BIGINT NOT NULL REFERENCES business_units(id) ON DELETE CASCADE,
    PRIMARY KEY (action_id, unit_id)
);

-- author_name keeps who wrote it readable after the account is gone.
CREATE TABLE action_comments (
    id          BIGSERIAL PRIMARY KEY,
    action_id   BIGINT NOT NULL REFERENCES actions(id) ON DELETE CASCADE,
    author_id   BIGINT REFERENCES users(id) ON DELETE SET NULL,
    author_name TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX action_comments_action ON action_comments(action_id, id);

-- The audit: who created, changed or deleted an action, and when.
CREATE TABLE action_audit (
    id         BIGSERIAL PRIMARY KEY,
    action_id  BIGINT NOT NULL REFERENCES actions(id) ON DELETE CASCADE,
    user_id    BIGINT REFERENCES users(id) ON DELETE SET NULL,
    user_name  TEXT    NOT NULL,
    event      TEXT    NOT NULL CHECK (event IN ('created', 'changed', 'deleted')),
    detail     TEXT    NOT NULL DEFAULT '',
    at         TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX action_audit_action ON action_audit(action_id, id);

-- Targets for the next wave, set on a wave: per section, optionally per unit.
CREATE TABLE section_targets (
    id          BIGSERIAL PRIMARY KEY,
    campaign_id BIGINT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    section_id  TEXT    NOT NULL,
    unit_id     BIGINT REFERENCES business_units(id) ON DELETE CASCADE,
    target      DOUBLE PRECISION    NOT NULL CHECK (target >= 0 AND target <= 100),
    set_by      BIGINT REFERENCES users(id) ON DELETE SET NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX section_targets_one ON section_targets(campaign_id, section_id, COALESCE(unit_id, 0));

-- Per organisation: the optional weekly digest of open actions to its admins.
CREATE TABLE action_settings (
    organisation_id BIGINT PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
    weekly_digest   BOOLEAN NOT NULL DEFAULT FALSE,
    last_digest_at  TIMESTAMPTZ
);

-- The outbox learns the action mails; an action's waiting mail goes with it.
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('invite', 'reminder', 'password_reset',
    'action_assigned', 'action_reminder', 'action_digest'));
ALTER TABLE outbox ADD COLUMN action_id BIGINT REFERENCES actions(id) ON DELETE CASCADE;
CREATE INDEX outbox_action ON outbox(action_id);

-- +goose Down
DELETE FROM outbox WHERE kind LIKE 'action_%';
DROP INDEX outbox_action;
ALTER TABLE outbox DROP COLUMN action_id;
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('invite', 'reminder', 'password_reset'));
DROP TABLE action_settings;
DROP TABLE section_targets;
DROP TABLE action_audit;
DROP TABLE action_comments;
DROP TABLE action_units;
DROP TABLE action_practices;
DROP TABLE actions;
