-- +goose Up
-- Open-link campaigns are reached at /o/{open_key}: a random key, so the
-- campaign's numeric id is not a guessable public URL.
ALTER TABLE campaigns ADD COLUMN open_key TEXT;
CREATE UNIQUE INDEX campaigns_open_key ON campaigns(open_key);

-- +goose Down
DROP INDEX campaigns_open_key;
ALTER TABLE campaigns DROP COLUMN open_key;
