package outbox_test

import (
	"context"
	"testing"
	"time"

	"tiltline/survey/outbox"
	"tiltline/survey/surveytest"
)

// TestReminderCooldown: a reminder by hand skips people mailed within 48
// hours, the plan says so beforehand, an override with a reason sends to
// them too, and the campaign's log keeps who sent how many and why.
func TestReminderCooldown(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := surveytest.Open(t, dialect)
			ctx := context.Background()
			c, ids := seedCampaign(t, db, 6, "en", "de", "fr")
			p, err := outbox.PlanInvitations(ctx, db, c.ID)
			if err != nil || p.Total != 6 || len(p.ByLocale) != 3 || p.ByLocale[1] != (outbox.LocaleCount{Locale: "de", N: 2}) {
				t.Fatalf("invitation plan %+v, %v", p, err)
			}
			if n, _ := outbox.QueueInvitations(ctx, db, c.ID); n != 6 {
				t.Fatalf("queued %d invitations", n)
			}
			if p, _ := outbox.PlanInvitations(ctx, db, c.ID); p.Total != 0 {
				t.Fatalf("plan after queueing: %+v, want nothing left to invite", p)
			}
			drain(t, db)
			// Two were invited three days ago, four just now.
			db.Write.Exec("UPDATE outbox SET sent_at = ? WHERE invitation_id IN ?", time.Now().UTC().Add(-72*time.Hour), ids[:2])

			p, err = outbox.PlanReminders(ctx, db, c.ID, time.Now())
			if err != nil || p.Total != 2 || p.HeldBack != 4 {
				t.Fatalf("reminder plan %+v, %v; want 2 to send, 4 held back", p, err)
			}
			b, err := outbox.QueueReminders(ctx, db, c.ID, "")
			if err != nil || b != (outbox.Batch{Queued: 2, HeldBack: 4}) {
				t.Fatalf("reminders %+v, %v", b, err)
			}
			if err := outbox.RecordMailing(ctx, db, c.ID, outbox.MailReminder, 0, b, ""); err != nil {
				t.Fatal(err)
			}
			drain(t, db)
			// Everyone was mailed within two days now: nothing goes without a reason.
			if b, _ := outbox.QueueReminders(ctx, db, c.ID, ""); b.Queued != 0 || b.HeldBack != 6 {
				t.Fatalf("second round without a reason %+v", b)
			}
			b, err = outbox.QueueReminders(ctx, db, c.ID, "The deadline moved up")
			if err != nil || b.Queued != 6 {
				t.Fatalf("override queued %+v, %v", b, err)
			}
			if err := outbox.RecordMailing(ctx, db, c.ID, outbox.MailReminder, 0, b, "  The deadline\nmoved up "); err != nil {
				t.Fatal(err)
			}
			ms, err := outbox.CampaignMailings(ctx, db, c.ID)
			if err != nil || len(ms) != 2 {
				t.Fatalf("mailings %+v, %v", ms, err)
			}
			inv, rem := ms[0], ms[1]
			if inv.Sent != 6 || inv.LastSentAt.IsZero() || !inv.QueuedAt.IsZero() {
				t.Errorf("invitations %+v: want 6 delivered and no batch recorded", inv)
			}
			if rem.Queued != 6 || rem.OverrideReason != "The deadline moved up" || rem.QueuedAt.IsZero() || rem.Sent != 2 || rem.LastSentAt.IsZero() {
				t.Errorf("reminders %+v", rem)
			}
			if time.Since(rem.LastSentAt) > time.Hour {
				t.Errorf("last reminder delivered %v", rem.LastSentAt)
			}
		})
	}
}
