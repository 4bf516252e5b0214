-- +goose Up
-- API tokens expire (issue 13): a token copied into a script or a ticket
-- should not open the API for ever. NULL means no expiry, chosen on purpose
-- at creation. Tokens made before this migration get 90 days from the
-- upgrade, the new default, so integrations keep working while their owners
-- replace them (the token list shows the date). Keep in step with
-- sqlite/00015_api_token_expiry.sql.
ALTER TABLE api_tokens ADD COLUMN expires_at TIMESTAMPTZ;
UPDATE api_tokens SET expires_at = now() + interval '90 days' WHERE revoked_at IS NULL;

-- +goose Down
ALTER TABLE api_tokens DROP COLUMN expires_at;
