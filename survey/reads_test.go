package survey_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

func TestPageReads(t *testing.T) {
	for _, d := range surveytest.Dialects() {
		t.Run(d, func(t *testing.T) {
			db := surveytest.Open(t, d)
			ctx := context.Background()
			ann, err := survey.CreateUserWithPassword(ctx, db, "ann@example.com", "", survey.RoleLearner, nil, "ann-password-123")
			if err != nil {
				t.Fatal(err)
			}
			bob, err := survey.CreateUserWithPassword(ctx, db, "bob@example.com", "", survey.RoleLearner, nil, "bob-password-123")
			if err != nil {
				t.Fatal(err)
			}
			slugs := func(id int64) []string {
				t.Helper()
				got, err := survey.ReadSlugs(ctx, db, id)
				if err != nil {
					t.Fatal(err)
				}
				return slices.Sorted(maps.Keys(got))
			}
			if got := slugs(ann.ID); len(got) != 0 {
				t.Fatalf("a new user has read %v", got)
			}

			first := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
			for _, s := range []string{"winback", "retention"} {
				if err := survey.MarkRead(ctx, db, ann.ID, s, first); err != nil {
					t.Fatal(err)
				}
			}
			// Marking again succeeds and keeps the first date.
			if err := survey.MarkRead(ctx, db, ann.ID, "winback", first.Add(48*time.Hour)); err != nil {
				t.Fatalf("second mark: %v", err)
			}
			all, err := survey.ReadSlugs(ctx, db, ann.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 2 || !all["winback"].Equal(first) {
				t.Errorf("ann's marks = %v, want winback and retention, winback read at %s", all, first)
			}
			// Marks are per user.
			if got := slugs(bob.ID); len(got) != 0 {
				t.Errorf("bob sees ann's marks: %v", got)
			}
			if err := survey.MarkRead(ctx, db, bob.ID, "winback", first); err != nil {
				t.Fatal(err)
			}

			if err := survey.MarkUnread(ctx, db, ann.ID, "winback"); err != nil {
				t.Fatal(err)
			}
			if err := survey.MarkUnread(ctx, db, ann.ID, "winback"); err != nil {
				t.Errorf("unmarking an unread page: %v", err)
			}
			if got := slugs(ann.ID); !slices.Equal(got, []string{"retention"}) {
				t.Errorf("after unmarking, ann has read %v, want [retention]", got)
			}
			if got := slugs(bob.ID); !slices.Equal(got, []string{"winback"}) {
				t.Errorf("ann's unmark touched bob's marks: %v", got)
			}

			for _, bad := range []string{"", string(make([]byte, 101))} {
				if err := survey.MarkRead(ctx, db, ann.ID, bad, first); !errors.Is(err, survey.ErrBadSlug) {
					t.Errorf("MarkRead(%q) = %v, want ErrBadSlug", bad, err)
				}
			}
			// A mark needs a user, and goes when the account goes.
			if err := survey.MarkRead(ctx, db, 987654, "winback", first); err == nil {
				t.Error("a mark for a user that does not exist was stored")
			}
			if err := db.Write.Delete(&survey.User{}, bob.ID).Error; err != nil {
				t.Fatal(err)
			}
			var left int64
			db.Read.Model(&survey.PageRead{}).Where("user_id = ?", bob.ID).Count(&left)
			if left != 0 {
				t.Errorf("%d marks outlive their deleted user", left)
			}
		})
	}
}
