-- +goose Up
-- Participants added to a campaign after it opened, as counts: anyone added
-- then may be someone the adder controls, answering only to fill a small
-- group around one real person (issue 12). Org admins and managers see these
-- rows; they never name who was added. by_name keeps the account's name as it
-- was, so deleting the account does not empty the trail. Keep in step with
-- sqlite/00013_participant_additions.sql.
CREATE TABLE participant_additions (
    id          BIGSERIAL PRIMARY KEY,
    campaign_id BIGINT      NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    added_at    TIMESTAMPTZ NOT NULL,
    added       INTEGER     NOT NULL CHECK (added > 0),
    user_id     BIGINT      REFERENCES users(id) ON DELETE SET NULL,
    by_name     TEXT        NOT NULL DEFAULT '',
    method      TEXT        NOT NULL CHECK (method IN ('import', 'manual'))
);
CREATE INDEX participant_additions_campaign ON participant_additions(campaign_id, added_at);

-- +goose Down
DROP TABLE participant_additions;
