-- +goose Up
-- A manager reads the whole organisation only by an explicit choice; without
-- it they read only the units listed for them, and with none listed (new, or
-- every unit deleted) nothing. Before, an empty list meant the whole
-- organisation, so deleting a manager's last unit widened their access.
-- Managers who have no units today keep the whole organisation.
-- Keep in step with postgres/00011_manager_all_units.sql.
ALTER TABLE users ADD COLUMN all_units BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE users SET all_units = TRUE
 WHERE role = 'manager' AND NOT EXISTS (SELECT 1 FROM manager_units WHERE manager_units.user_id = users.id);

-- +goose Down
ALTER TABLE users DROP COLUMN all_units;
