-- +goose Up
-- A case names its author's organisation from the account, not from a text
-- field anyone could fill with another company's name (issue 13). A case
-- whose typed name was its author's own organisation keeps it, linked; any
-- other typed name is dropped and the case reads as shared anonymously.
-- Keep in step with sqlite/00017_contribution_org.sql.
ALTER TABLE contributions ADD COLUMN organisation_id BIGINT REFERENCES organisations(id) ON DELETE SET NULL;
UPDATE contributions c SET organisation_id = o.id
FROM users u JOIN organisations o ON o.id = u.organisation_id
WHERE u.id = c.author_id AND trim(c.org_name) <> '' AND lower(trim(o.name)) = lower(trim(c.org_name));
ALTER TABLE contributions DROP COLUMN org_name;

-- +goose Down
ALTER TABLE contributions ADD COLUMN org_name TEXT NOT NULL DEFAULT '';
UPDATE contributions c SET org_name = o.name FROM organisations o WHERE o.id = c.organisation_id;
ALTER TABLE contributions DROP COLUMN organisation_id;
