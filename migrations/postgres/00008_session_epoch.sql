-- +goose Up
-- Sessions are signed cookies, kept by the browser. A session carries the
-- user's epoch from sign-in; signing out or setting a new password moves
-- the epoch on, and every cookie issued before stops working — also one
-- copied or stolen. Keep in step with sqlite/00008_session_epoch.sql.
ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE users DROP COLUMN session_epoch;
