-- +goose Up
-- The same index as on Postgres (see postgres/00007_invitation_order.sql,
-- where status must leave the index so completing an invitation does not
-- move its row). SQLite updates rows in place.
DROP INDEX invitations_campaign_status;
CREATE INDEX invitations_campaign ON invitations(campaign_id);

-- +goose Down
DROP INDEX invitations_campaign;
CREATE INDEX invitations_campaign_status ON invitations(campaign_id, status);
