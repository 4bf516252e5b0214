-- +goose Up
-- Completing an invitation must not move it. A Postgres UPDATE that touches
-- an indexed column, or finds no room on the row's page, writes the new
-- version at the end of the table, so the completed invitations' physical
-- order followed the order of submission, as the responses' insert order
-- does: someone with the database files could pair the two. Without status
-- in an index and with room left on every page (fillfactor), status changes
-- are heap-only updates that stay on their page, in import order.
-- Keep in step with sqlite/00007_invitation_order.sql.
DROP INDEX invitations_campaign_status;
CREATE INDEX invitations_campaign ON invitations(campaign_id);
ALTER TABLE invitations SET (fillfactor = 60);

-- +goose Down
ALTER TABLE invitations RESET (fillfactor);
DROP INDEX invitations_campaign;
CREATE INDEX invitations_campaign_status ON invitations(campaign_id, status);
