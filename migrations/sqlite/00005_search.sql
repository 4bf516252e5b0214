-- +goose Up
-- Full-text index of the portal: the embedded pages (re-indexed at start)
-- and published contributions. English gets the Porter stemmer; German and
-- French, which SQLite cannot stem, are matched by word prefix with accents
-- folded.
CREATE VIRTUAL TABLE search_docs USING fts5(
    kind UNINDEXED, ref UNINDEXED, locale UNINDEXED, title, body,
    tokenize = 'porter unicode61 remove_diacritics 2'
);

-- +goose Down
DROP TABLE search_docs;
