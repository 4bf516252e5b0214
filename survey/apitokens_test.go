package survey_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

// The token's lifecycle on both databases: expiry, last use at most once a
// minute, revocation by a new password, and an organisation's admin scope.
func TestAPITokenLifecycle(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			db := surveytest.Open(t, dialect)
			orgA, _ := survey.SaveOrganisation(ctx, db, 0, survey.OrgInput{Name: "A"})
			orgB, _ := survey.SaveOrganisation(ctx, db, 0, survey.OrgInput{Name: "B"})
			ua, err := survey.CreateUserWithPassword(ctx, db, "a@a.example", "", survey.RoleManager, &orgA.ID, "a-password-123")
			if err != nil {
				t.Fatal(err)
			}
			ub, _ := survey.CreateUserWithPassword(ctx, db, "b@b.example", "", survey.RoleManager, &orgB.ID, "b-password-123")

			week, err := survey.IssueAPIToken(ctx, db, ua.ID, "week", 7)
			if err != nil || week.ExpiresAt == nil || week.ExpiresAt.Sub(time.Now().AddDate(0, 0, 7)).Abs() > time.Minute {
				t.Fatalf("7-day token: %v %v", week.ExpiresAt, err)
			}
			forever, _ := survey.IssueAPIToken(ctx, db, ua.ID, "forever", 0)
			if forever.ExpiresAt != nil {
				t.Errorf("0 days gave expiry %v", forever.ExpiresAt)
			}
			for _, bad := range []int{-1, survey.MaxAPITokenDays + 1} {
				if _, err := survey.IssueAPIToken(ctx, db, ua.ID, "bad", bad); !errors.Is(err, survey.ErrTokenLifetime) {
					t.Errorf("%d days: %v", bad, err)
				}
			}
			if _, err := survey.UserByAPIToken(ctx, db, week.Token); err != nil {
				t.Fatal(err)
			}
			var row survey.APIToken
			db.Read.Where("token_hash = ?", survey.HashToken(week.Token)).First(&row)
			if row.LastUsedAt == nil {
				t.Fatal("last_used_at not written")
			}
			first := *row.LastUsedAt
			survey.UserByAPIToken(ctx, db, week.Token)
			db.Read.First(&row, row.ID)
			if !row.LastUsedAt.Equal(first) {
				t.Errorf("a second use within a minute rewrote last_used_at: %v then %v", first, row.LastUsedAt)
			}
			db.Write.Model(&row).Update("last_used_at", time.Now().UTC().Add(-2*time.Minute))
			survey.UserByAPIToken(ctx, db, week.Token)
			db.Read.First(&row, row.ID)
			if time.Since(*row.LastUsedAt) > 10*time.Second {
				t.Errorf("a use after two minutes left last_used_at at %v", row.LastUsedAt)
			}
			db.Write.Model(&row).Update("expires_at", time.Now().UTC().Add(-time.Second))
			if _, err := survey.UserByAPIToken(ctx, db, week.Token); !errors.Is(err, survey.ErrAPITokenExpired) {
				t.Errorf("expired token: %v", err)
			}

			// The organisation's admin scope.
			bTok, _ := survey.IssueAPIToken(ctx, db, ub.ID, "b", 30)
			var bID int64
			db.Read.Model(&survey.APIToken{}).Where("token_hash = ?", survey.HashToken(bTok.Token)).Pluck("id", &bID)
			list, err := survey.OrgAPITokens(ctx, db, orgA.ID)
			if err != nil || len(list) != 2 || list[0].Email != "a@a.example" {
				t.Fatalf("A's tokens: %+v %v", list, err)
			}
			if err := survey.RevokeOrgAPIToken(ctx, db, orgA.ID, bID); !errors.Is(err, survey.ErrNotFound) {
				t.Errorf("A revokes B's token: %v, want not found", err)
			}
			if _, err := survey.UserByAPIToken(ctx, db, bTok.Token); err != nil {
				t.Errorf("B's token after A's attempt: %v", err)
			}
			if err := survey.RevokeOrgAPIToken(ctx, db, orgB.ID, bID); err != nil {
				t.Fatal(err)
			}
			if err := survey.RevokeOrgAPIToken(ctx, db, orgB.ID, bID); err != nil {
				t.Errorf("revoking twice: %v", err)
			}
			if _, err := survey.UserByAPIToken(ctx, db, bTok.Token); !errors.Is(err, survey.ErrBadCredentials) {
				t.Errorf("revoked token: %v", err)
			}

			// A new password revokes the rest.
			link, _ := survey.NewPasswordToken(ctx, db, ua.ID, time.Hour)
			if _, err := survey.UsePasswordToken(ctx, db, link, "a-new-password-123"); err != nil {
				t.Fatal(err)
			}
			if _, err := survey.UserByAPIToken(ctx, db, forever.Token); !errors.Is(err, survey.ErrBadCredentials) {
				t.Errorf("token after a password reset: %v", err)
			}
		})
	}
}

// Migration 00015 gives tokens made before it 90 days from the upgrade and
// leaves revoked ones alone; the stored date reads back as a time.
func TestMigrationGivesExistingTokensNinetyDays(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			db := surveytest.OpenAt(t, dialect, 13)
			old := survey.NewAPIToken()
			for _, q := range []string{
				`INSERT INTO organisations (id, name) VALUES (1, 'Old Ltd')`,
				`INSERT INTO users (id, organisation_id, email, name, password_hash, role, locale) VALUES (1, 1, 'old@old.example', '', 'x', 'manager', 'en')`,
				`INSERT INTO api_tokens (id, user_id, name, token_hash) VALUES (1, 1, 'live', '` + survey.HashToken(old) + `')`,
				`INSERT INTO api_tokens (id, user_id, name, token_hash, revoked_at) VALUES (2, 1, 'revoked', 'h2', CURRENT_TIMESTAMP)`,
			} {
				if err := db.Write.Exec(q).Error; err != nil {
					t.Fatal(err)
				}
			}
			if err := db.MigrateTo(ctx, 15); err != nil {
				t.Fatal(err)
			}
			var rows []survey.APIToken
			if err := db.Read.Order("id").Find(&rows).Error; err != nil {
				t.Fatal(err)
			}
			if len(rows) != 2 || rows[0].ExpiresAt == nil || rows[0].ExpiresAt.Sub(time.Now().AddDate(0, 0, 90)).Abs() > 5*time.Minute {
				t.Fatalf("live token after the migration expires %v, want in 90 days", rows[0].ExpiresAt)
			}
			if rows[1].ExpiresAt != nil {
				t.Errorf("revoked token got expiry %v", rows[1].ExpiresAt)
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if u, err := survey.UserByAPIToken(ctx, db, old); err != nil || u.Email != "old@old.example" {
				t.Errorf("an old token after the upgrade: %v %v", u, err)
			}
		})
	}
}
