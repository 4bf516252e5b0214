-- +goose Up
-- Every batch of invitations or reminders an admin (or an API token) sent by
-- hand: when, how many, how many the reminder cool-down held back, and the
-- reason given when the cool-down was overridden. The campaign page shows
-- the latest; nothing here names a participant. Keep in step with
-- postgres/00021_campaign_mailings.sql.
CREATE TABLE campaign_mailings (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id     INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    kind            TEXT    NOT NULL CHECK (kind IN ('invite', 'reminder')),
    queued          INTEGER NOT NULL DEFAULT 0,
    held_back       INTEGER NOT NULL DEFAULT 0,
    override_reason TEXT    NOT NULL DEFAULT '',
    user_id         INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX campaign_mailings_campaign ON campaign_mailings(campaign_id, kind, created_at);

-- +goose Down
DROP TABLE campaign_mailings;
