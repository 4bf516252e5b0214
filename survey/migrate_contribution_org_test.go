package survey_test

import (
	"context"
	"testing"

	"tiltline/survey/surveytest"
)

// Migration 17 replaces a case's typed organisation name by its author's
// organisation: a typed name that was the author's own organisation
// (spacing and case aside) becomes the link, any other is dropped.
func TestMigrationLinksCasesToTheAuthorsOwnOrganisationOnly(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			db := surveytest.OpenAt(t, dialect, 13)
			for _, s := range []string{
				"INSERT INTO organisations (id, name) VALUES (1, 'Acme Bank'), (2, 'Other Co')",
				"INSERT INTO users (id, email, name, role, organisation_id, password_hash) VALUES (1, 'a@example.com', 'A', 'manager', 1, 'x'), (2, 'b@example.com', 'B', 'learner', NULL, 'x')",
				`INSERT INTO contributions (id, author_id, subsection, locale, title, body, org_name, status) VALUES
				 (1, 1, 's', 'en', 'own', 'b', ' acme BANK ', 'published'),
				 (2, 1, 's', 'en', 'another', 'b', 'Other Co', 'published'),
				 (3, 2, 's', 'en', 'no org', 'b', 'Acme Bank', 'pending'),
				 (4, 1, 's', 'en', 'anonymous', 'b', '', 'pending'),
				 (5, NULL, 's', 'en', 'author gone', 'b', 'Acme Bank', 'published')`,
			} {
				if err := db.Write.Exec(s).Error; err != nil {
					t.Fatalf("%s: %v", s, err)
				}
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			type row struct {
				ID             int64
				OrganisationID *int64
			}
			var rows []row
			if err := db.Read.Raw("SELECT id, organisation_id FROM contributions ORDER BY id").Scan(&rows).Error; err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				linked := r.OrganisationID != nil && *r.OrganisationID == 1
				if linked != (r.ID == 1) || (r.OrganisationID != nil && !linked) {
					t.Errorf("case %d: organisation %v", r.ID, r.OrganisationID)
				}
			}
			if len(rows) != 5 {
				t.Errorf("%d cases after the migration", len(rows))
			}
			if err := db.Read.Exec("SELECT org_name FROM contributions").Error; err == nil {
				t.Error("the typed org_name column is still there")
			}
		})
	}
}
