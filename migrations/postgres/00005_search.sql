-- +goose Up
-- Full-text index of the portal: the embedded pages (re-indexed at start)
-- and published contributions, stemmed per language by Postgres's own
-- english/german/french configurations.
CREATE TABLE search_docs (
    kind   TEXT NOT NULL,
    ref    TEXT NOT NULL,
    locale TEXT NOT NULL,
    title  TEXT NOT NULL,
    body   TEXT NOT NULL,
    config REGCONFIG NOT NULL,
    tsv    TSVECTOR GENERATED ALWAYS AS (setweight(to_tsvector(config, title), 'A') || setweight(to_tsvector(config, body), 'B')) STORED,
    PRIMARY KEY (kind, ref, locale)
);
CREATE INDEX search_docs_tsv ON search_docs USING GIN (tsv);

-- +goose Down
DROP TABLE search_docs;
