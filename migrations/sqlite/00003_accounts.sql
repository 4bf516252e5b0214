-- +goose Up
-- One-time links for setting or resetting a password. Only the token's hash is kept.
CREATE TABLE password_tokens (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at TIMESTAMP NOT NULL,
    used       BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX password_tokens_user ON password_tokens(user_id);

-- +goose Down
DROP TABLE password_tokens;
