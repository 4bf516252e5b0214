-- +goose Up
-- Whose survey is this (issue 14): an organisation's logo, uploaded by its
-- admin and shown on every respondent page and in the mails, and a
-- campaign's name in each of its languages. The logo has a table of its
-- own so that loading organisations never drags its bytes along; hash is
-- the content hash its URL carries. names is a JSON object of locale →
-- name; the campaign's name column stays the fallback.
-- Keep in step with sqlite/00018_branding.sql.
CREATE TABLE organisation_logos (
    organisation_id BIGINT PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
    content_type    TEXT   NOT NULL,
    hash            TEXT   NOT NULL,
    body            BYTEA  NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
ALTER TABLE campaigns ADD COLUMN names TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE campaigns DROP COLUMN names;
DROP TABLE organisation_logos;
