-- +goose Up
-- Postgres gains tiltline_patch_answers here (postgres/00022_patch_answers.sql);
-- SQLite's saver reads and writes drafts in one local transaction and needs
-- nothing. The version exists in both so the numbers stay in step.
SELECT 1;

-- +goose Down
SELECT 1;
