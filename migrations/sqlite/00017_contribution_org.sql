-- +goose Up
-- A case names its author's organisation from the account, not from a text
-- field anyone could fill with another company's name (issue 13). A case
-- whose typed name was its author's own organisation keeps it, linked; any
-- other typed name is dropped and the case reads as shared anonymously.
-- Keep in step with postgres/00017_contribution_org.sql.
ALTER TABLE contributions ADD COLUMN organisation_id INTEGER REFERENCES organisations(id) ON DELETE SET NULL;
UPDATE contributions SET organisation_id = (
    SELECT o.id FROM users u JOIN organisations o ON o.id = u.organisation_id
    WHERE u.id = contributions.author_id AND lower(trim(o.name)) = lower(trim(contributions.org_name)))
WHERE trim(org_name) <> '';
ALTER TABLE contributions DROP COLUMN org_name;

-- +goose Down
-- SQLite cannot drop a column that is a foreign key: organisation_id stays,
-- unused by the older code.
ALTER TABLE contributions ADD COLUMN org_name TEXT NOT NULL DEFAULT '';
UPDATE contributions SET org_name = COALESCE((SELECT name FROM organisations WHERE id = contributions.organisation_id), '');
