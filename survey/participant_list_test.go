package survey_test

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

// TestFindParticipants: the participants list finds people by part of
// their name or address in any case, filters by unit, role, language and
// delivery state, and never tells an answered invitation from a delivered one.
func TestFindParticipants(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			db, _, c := importFixture(t, dialect)
			rows := []survey.ImportRow{
				{Email: "ann@example.com", Name: "Ann Müller", Unit: "Retail Banking", Role: "crm-leader", Locale: "de"},
				{Email: "bob@example.com", Name: "Bob 100%", Unit: "Marketing", Role: "business-analyst", Locale: "en"},
				{Email: "cleo@example.com", Name: "Cleo", Locale: "fr"},
				{Email: "dan@example.com", Name: "Dan", Unit: "Retail Banking", Locale: "en"},
				{Email: "eve@example.com", Name: "Eve", Locale: "en"},
			}
			ids := map[string]int64{}
			for _, r := range rows {
				p, err := survey.AddParticipant(ctx, db, testSecret, c, r, nil)
				if err != nil {
					t.Fatal(err)
				}
				ids[r.Email] = p.ID
			}
			set := func(email, status string, optedOut bool) {
				if err := db.Write.Model(&survey.Invitation{}).Where("participant_id = ?", ids[email]).
					Updates(map[string]any{"status": status, "opted_out": optedOut}).Error; err != nil {
					t.Fatal(err)
				}
			}
			set("ann@example.com", survey.InviteCompleted, false) // answered
			set("bob@example.com", survey.InviteSent, false)
			set("cleo@example.com", survey.InviteBounced, false)
			set("dan@example.com", survey.InviteOpened, true)
			var eve survey.Invitation
			db.Read.Where("participant_id = ?", ids["eve@example.com"]).First(&eve)
			now := time.Now().UTC()
			if err := db.Write.Exec(`INSERT INTO outbox (kind, invitation_id, recipient, locale, next_attempt_at, created_at) VALUES ('invite', ?, 'eve@example.com', 'en', ?, ?)`, eve.ID, now, now).Error; err != nil {
				t.Fatal(err)
			}
			var retail survey.BusinessUnit
			db.Read.Where("name = ?", "Retail Banking").First(&retail)

			for _, tc := range []struct {
				name string
				q    survey.ParticipantQuery
				want []string
			}{
				{"everyone, by address", survey.ParticipantQuery{}, []string{"ann", "bob", "cleo", "dan", "eve"}},
				{"part of a name, any case", survey.ParticipantQuery{Search: "MÜLLER"}, []string{"ann"}},
				{"part of an address", survey.ParticipantQuery{Search: "eve@"}, []string{"eve"}},
				{"a percent sign is a character, not a wildcard", survey.ParticipantQuery{Search: "100%"}, []string{"bob"}},
				{"a unit", survey.ParticipantQuery{Unit: itoa(retail.ID)}, []string{"ann", "dan"}},
				{"no unit", survey.ParticipantQuery{Unit: "none"}, []string{"cleo", "eve"}},
				{"a role", survey.ParticipantQuery{Role: "business-analyst"}, []string{"bob"}},
				{"a language", survey.ParticipantQuery{Locale: "en"}, []string{"bob", "dan", "eve"}},
				{"delivered: answered or not, alike", survey.ParticipantQuery{Delivery: survey.DeliveryDelivered}, []string{"ann", "bob"}},
				{"bounced", survey.ParticipantQuery{Delivery: survey.DeliveryBounced}, []string{"cleo"}},
				{"opted out", survey.ParticipantQuery{Delivery: survey.DeliveryOptedOut}, []string{"dan"}},
				{"queued", survey.ParticipantQuery{Delivery: survey.DeliveryQueued}, []string{"eve"}},
				{"filters combine", survey.ParticipantQuery{Locale: "en", Unit: "none"}, []string{"eve"}},
				{"a page", survey.ParticipantQuery{Offset: 2, Limit: 2}, []string{"cleo", "dan"}},
			} {
				got, total, err := survey.FindParticipants(ctx, db, c.ID, tc.q)
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				var names []string
				for _, r := range got {
					names = append(names, r.Email[:len(r.Email)-len("@example.com")])
				}
				if !slices.Equal(names, tc.want) || tc.q.Limit == 0 && int(total) != len(tc.want) {
					t.Errorf("%s: %v (total %d), want %v", tc.name, names, total, tc.want)
				}
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
