-- +goose Up
-- A submit no longer writes to responses. It seals the response (AES-GCM
-- under a key derived from the server secret) into pending_responses, in the
-- same transaction that completes the invitation; a release later moves
-- pending responses into responses, in its own transaction and a shuffled
-- order, and deletes them here. A read-only SQL user who pairs rows by
-- xmin, ctid or insertion order pairs an invitation with ciphertext only.
-- The id is a fresh random UUID, unrelated to the response's id.
-- Keep in step with migrations/sqlite_00010.go.
CREATE TABLE pending_responses (
    id          TEXT   PRIMARY KEY,
    campaign_id BIGINT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    sealed      BYTEA  NOT NULL
);
CREATE INDEX pending_responses_campaign ON pending_responses(campaign_id);

-- +goose Down
DROP TABLE pending_responses;
