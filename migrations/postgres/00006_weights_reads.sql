-- +goose Up
-- Section weights per campaign (recommendation priority) and the learning
-- path's read marks. Keep in step with sqlite/00006_weights_reads.sql.

-- Comma-separated "SECTION=weight" pairs, e.g. "AP=2,TS=0.5"; empty means
-- equal weights. Sections not named weigh 1.
ALTER TABLE campaigns ADD COLUMN section_weights TEXT NOT NULL DEFAULT '';

-- A signed-in user marked a portal page (sub-section slug) as read.
CREATE TABLE page_reads (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    slug    TEXT    NOT NULL,
    read_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (user_id, slug)
);

-- +goose Down
DROP TABLE page_reads;
ALTER TABLE campaigns DROP COLUMN section_weights;
