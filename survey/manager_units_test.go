package survey_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

// A manager's limit fails closed: only known units of the organisation,
// at least one unless the whole organisation is chosen, and deleting a unit
// narrows access, never widens it.
func TestManagerUnitsFailClosed(t *testing.T) {
	ctx := t.Context()
	db := surveytest.Open(t, "sqlite")
	org, err := survey.SaveOrganisation(ctx, db, 0, survey.OrgInput{Name: "Limits Ltd"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := survey.SaveOrganisation(ctx, db, 0, survey.OrgInput{Name: "Other Ltd"})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := survey.AddUnit(ctx, db, org.ID, "A")
	b, _ := survey.AddUnit(ctx, db, org.ID, "B")
	theirs, _ := survey.AddUnit(ctx, db, other.ID, "Theirs")
	m, _, err := survey.CreateUser(ctx, db, "m@limits.example", survey.RoleManager, &org.ID)
	if err != nil {
		t.Fatal(err)
	}
	state := func() string {
		u, err := survey.UserByEmail(ctx, db, m.Email)
		if err != nil {
			t.Fatal(err)
		}
		ids, err := survey.ManagerUnits(ctx, db, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("all=%t units=%v", u.AllUnits, ids)
	}
	if got := state(); got != "all=false units=[]" {
		t.Errorf("a new manager: %s, want no access", got)
	}
	for _, c := range []struct {
		name  string
		units []int64
		want  error
	}{
		{"an unknown unit", []int64{a.ID, 999999}, survey.ErrUnknownUnit},
		{"another organisation's unit", []int64{theirs.ID}, survey.ErrUnknownUnit},
		{"no unit", nil, survey.ErrNoUnits},
	} {
		if err := survey.SetManagerUnits(ctx, db, org.ID, m.ID, false, c.units); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if got := state(); got != "all=false units=[]" {
			t.Errorf("%s changed the manager: %s", c.name, got)
		}
	}
	if err := survey.SetManagerUnits(ctx, db, org.ID, m.ID, false, []int64{b.ID, a.ID, a.ID}); err != nil {
		t.Fatal(err)
	}
	if got, want := state(), fmt.Sprintf("all=false units=%v", []int64{a.ID, b.ID}); got != want {
		t.Errorf("limited to A and B: %s, want %s", got, want)
	}
	for _, u := range []*survey.BusinessUnit{a, b} {
		if err := survey.DeleteUnit(ctx, db, org.ID, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	if got := state(); got != "all=false units=[]" {
		t.Errorf("after both units were deleted: %s, want no access (not the whole organisation)", got)
	}
	if err := survey.SetManagerUnits(ctx, db, org.ID, m.ID, true, []int64{theirs.ID}); err != nil {
		t.Fatal(err)
	}
	if got := state(); got != "all=true units=[]" {
		t.Errorf("whole organisation: %s", got)
	}
}

// Migration 00011 keeps today's access: managers without units read the
// whole organisation, as an empty list meant before; limited ones stay limited.
func TestMigrationKeepsManagersWithoutUnitsOnTheWholeOrganisation(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			db := surveytest.OpenAt(t, dialect, 10)
			for _, q := range []string{
				`INSERT INTO organisations (id, name) VALUES (1, 'Old Ltd')`,
				`INSERT INTO business_units (id, organisation_id, name) VALUES (1, 1, 'A')`,
				`INSERT INTO users (id, organisation_id, email, name, password_hash, role, locale) VALUES
				 (1, 1, 'whole@old.example', '', 'x', 'manager', 'en'),
				 (2, 1, 'limited@old.example', '', 'x', 'manager', 'en'),
				 (3, 1, 'admin@old.example', '', 'x', 'org-admin', 'en')`,
				`INSERT INTO manager_units (user_id, unit_id) VALUES (2, 1)`,
			} {
				if err := db.Write.Exec(q).Error; err != nil {
					t.Fatal(err)
				}
			}
			if err := db.MigrateTo(ctx, 11); err != nil {
				t.Fatal(err)
			}
			var all []string
			if err := db.Read.Model(&survey.User{}).Where("all_units").Order("email").Pluck("email", &all).Error; err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(all, []string{"whole@old.example"}) {
				t.Errorf("whole organisation after the migration: %v, want only the manager without units", all)
			}
		})
	}
}
