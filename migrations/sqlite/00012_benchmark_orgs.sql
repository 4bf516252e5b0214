-- +goose Up
-- The benchmark pool counts organisations, not entries (issue 12): one
-- entry per organisation and year, comparison views from at least 10
-- organisations, and never the viewer's own entries. Each entry names its
-- organisation for that; the id is never shown. Keep in step with
-- postgres/00012_benchmark_orgs.sql.
ALTER TABLE benchmark_entries ADD COLUMN organisation_id INTEGER REFERENCES organisations(id) ON DELETE CASCADE;
UPDATE benchmark_entries SET organisation_id = (SELECT organisation_id FROM campaigns WHERE campaigns.id = benchmark_entries.campaign_id)
 WHERE source = 'pool';
-- Only campaigns with at least 30 responses stay in the pool.
DELETE FROM benchmark_entries WHERE source = 'pool'
   AND (SELECT COUNT(*) FROM responses WHERE responses.campaign_id = benchmark_entries.campaign_id) < 30;
CREATE INDEX benchmark_entries_org ON benchmark_entries(organisation_id, year);

-- +goose Down
DROP INDEX benchmark_entries_org;
ALTER TABLE benchmark_entries DROP COLUMN organisation_id;
