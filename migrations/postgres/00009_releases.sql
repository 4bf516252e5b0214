-- +goose Up
-- Results are published as releases (survey/release.go, survey/cells). A
-- release records the partition of (unit, role, seniority) into cells of at
-- least k that every view of it is built from, and how many responses of
-- each (unit, role, seniority) it added; responses holds exactly the
-- released ones (submitted ones wait sealed in pending_responses), so no
-- column says which release, or when, showed a response.
-- Keep in step with sqlite/00009_releases.sql.
CREATE TABLE releases (
    campaign_id BIGINT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    k           INTEGER NOT NULL,
    shown       INTEGER NOT NULL,
    held_back   INTEGER NOT NULL,
    cells       TEXT    NOT NULL,
    added       TEXT    NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (campaign_id, seq)
);

-- +goose Down
DROP TABLE releases;
