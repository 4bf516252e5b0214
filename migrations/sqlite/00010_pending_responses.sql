-- +goose Up
-- PLACEHOLDER (lead): replaced by the sealed-storage branch's migration.
CREATE TABLE pending_responses (
    id          TEXT PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    sealed      BLOB NOT NULL
);
CREATE INDEX pending_responses_campaign ON pending_responses(campaign_id);

-- +goose Down
DROP TABLE pending_responses;
