package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"tiltline/survey"
	"tiltline/survey/outbox"
	"tiltline/survey/surveytest"
)

var outboxSecret = []byte("outbox-test-secret-outbox-test-secret")

// seedCampaign creates an open campaign with n participants, each with a
// pending invitation, and returns the campaign and the invitation ids in
// participant order. Locales cycle through locales.
func seedCampaign(t testing.TB, db *survey.DB, n int, locales ...string) (*survey.Campaign, []string) {
	t.Helper()
	ctx := context.Background()
	org := &survey.Organisation{Name: fmt.Sprintf("Org %d", time.Now().UnixNano())}
	if err := db.Write.WithContext(ctx).Create(org).Error; err != nil {
		t.Fatal(err)
	}
	c := &survey.Campaign{OrganisationID: org.ID, Name: "Wave", ModelVersion: 1, Locales: "en,de,fr", KMin: 5,
		Status: survey.StatusOpen, ContactName: "Ada Admin", ContactEmail: "ada@example.com"}
	if err := db.Write.WithContext(ctx).Create(c).Error; err != nil {
		t.Fatal(err)
	}
	if len(locales) == 0 {
		locales = []string{"en"}
	}
	parts := make([]survey.Participant, n)
	for i := range parts {
		parts[i] = survey.Participant{CampaignID: c.ID, Email: fmt.Sprintf("p%05d@c%d.example", i, c.ID), Name: fmt.Sprintf("Person %d", i), Locale: locales[i%len(locales)]}
	}
	if n > 0 {
		if err := db.Write.WithContext(ctx).CreateInBatches(&parts, 1000).Error; err != nil {
			t.Fatal(err)
		}
	}
	invs := make([]survey.Invitation, n)
	ids := make([]string, n)
	for i, p := range parts {
		ids[i] = fmt.Sprintf("inv-%d-%05d", c.ID, i)
		invs[i] = survey.Invitation{ID: ids[i], ParticipantID: p.ID, CampaignID: c.ID,
			TokenHash: survey.HashToken(survey.InviteToken(outboxSecret, ids[i])), Status: survey.InvitePending}
	}
	if n > 0 {
		if err := db.Write.WithContext(ctx).CreateInBatches(&invs, 1000).Error; err != nil {
			t.Fatal(err)
		}
	}
	return c, ids
}

// drain claims and marks every due job sent, returning them.
func drain(t testing.TB, db *survey.DB) []outbox.Job {
	t.Helper()
	var all []outbox.Job
	for {
		jobs, err := outbox.ClaimJobs(context.Background(), db, "test", 500, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) == 0 {
			return all
		}
		for _, j := range jobs {
			if err := outbox.MarkSent(context.Background(), db, j); err != nil {
				t.Fatal(err)
			}
		}
		all = append(all, jobs...)
	}
}

// age moves every delivered mail back by d, as if sent that long ago.
func age(t testing.TB, db *survey.DB, d time.Duration) {
	t.Helper()
	if err := db.Write.Exec("UPDATE outbox SET sent_at = ? WHERE sent_at IS NOT NULL", time.Now().UTC().Add(-d)).Error; err != nil {
		t.Fatal(err)
	}
}

func statusOf(t testing.TB, db *survey.DB, id string) survey.Invitation {
	t.Helper()
	var inv survey.Invitation
	if err := db.Read.First(&inv, "id = ?", id).Error; err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestQueueInvitationsOncePerInvitation(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := surveytest.Open(t, dialect)
			ctx := context.Background()
			c, ids := seedCampaign(t, db, 30, "en", "de", "fr", "", "es")
			n, err := outbox.QueueInvitations(ctx, db, c.ID)
			if err != nil || n != 30 {
				t.Fatalf("queued %d, %v; want 30", n, err)
			}
			if n, err := outbox.QueueInvitations(ctx, db, c.ID); err != nil || n != 0 {
				t.Fatalf("second queue %d, %v; want 0", n, err)
			}
			if st := statusOf(t, db, ids[0]); st.Status != survey.InvitePending {
				t.Errorf("queued invitation is %s; it must stay pending until delivered", st.Status)
			}
			jobs := drain(t, db)
			if len(jobs) != 30 {
				t.Fatalf("claimed %d jobs, want 30", len(jobs))
			}
			locales := map[string]int{}
			for _, j := range jobs {
				locales[j.Locale]++
				if j.Kind != outbox.MailInvite || j.CampaignID != c.ID || j.Name == "" || j.Recipient == "" {
					t.Fatalf("job %+v", j)
				}
			}
			// "" and "es" are not campaign languages: they fall back to the first one.
			if locales["en"] != 18 || locales["de"] != 6 || locales["fr"] != 6 {
				t.Errorf("locales %v", locales)
			}
			if st := statusOf(t, db, ids[0]); st.Status != survey.InviteSent {
				t.Errorf("delivered invitation is %s, want sent", st.Status)
			}
			// A newcomer gets an invitation; everyone else does not get a second.
			p := &survey.Participant{CampaignID: c.ID, Email: "late@example.com", Locale: "de"}
			db.Write.Create(p)
			db.Write.Create(&survey.Invitation{ID: "late", ParticipantID: p.ID, CampaignID: c.ID, TokenHash: "late", Status: survey.InvitePending})
			if n, _ := outbox.QueueInvitations(ctx, db, c.ID); n != 1 {
				t.Errorf("with one newcomer queued %d, want 1", n)
			}
			if got := drain(t, db); len(got) != 1 || got[0].InvitationID != "late" {
				t.Errorf("after delivery claimed %+v; a sent job must never come back", got)
			}
			mc, err := outbox.CampaignMailCounts(ctx, db, c.ID)
			if err != nil || mc != (outbox.MailCounts{Sent: 31}) {
				t.Errorf("counts %+v, %v", mc, err)
			}
		})
	}
}

func TestQueueRefusesCampaignsNobodyCanAnswer(t *testing.T) {
	db := surveytest.Open(t, "sqlite")
	ctx := context.Background()
	c, _ := seedCampaign(t, db, 3)
	db.Write.Model(c).Update("status", survey.StatusDraft)
	if _, err := outbox.QueueInvitations(ctx, db, c.ID); !errors.Is(err, survey.ErrCampaignNotOpen) {
		t.Errorf("draft: %v", err)
	}
	db.Write.Model(c).Update("status", survey.StatusClosed)
	if _, err := outbox.QueueReminders(ctx, db, c.ID, ""); !errors.Is(err, survey.ErrCampaignClosed) {
		t.Errorf("closed: %v", err)
	}
	if _, err := outbox.QueueInvitations(ctx, db, 999999); !errors.Is(err, survey.ErrNotFound) {
		t.Errorf("unknown campaign: %v", err)
	}
}

func TestQueueing10000InvitationsIsFast(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := surveytest.Open(t, dialect)
			c, _ := seedCampaign(t, db, 10_000, "en", "de", "fr")
			start := time.Now()
			n, err := outbox.QueueInvitations(context.Background(), db, c.ID)
			took := time.Since(start)
			if err != nil || n != 10_000 {
				t.Fatalf("queued %d, %v", n, err)
			}
			t.Logf("%s: queued 10,000 invitations in %v", dialect, took.Round(time.Millisecond))
			if took > 2*time.Second {
				t.Errorf("queueing 10,000 took %v, want well under 2 s", took)
			}
			start = time.Now()
			jobs, err := outbox.ClaimJobs(context.Background(), db, "w", 100, time.Minute)
			if err != nil || len(jobs) != 100 {
				t.Fatalf("claim %d, %v", len(jobs), err)
			}
			t.Logf("%s: claimed 100 of 10,000 in %v", dialect, time.Since(start).Round(time.Microsecond))
		})
	}
}

func TestClaimsAreExclusiveAndLeasesExpire(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := surveytest.Open(t, dialect)
			ctx := context.Background()
			c, _ := seedCampaign(t, db, 10)
			outbox.QueueInvitations(ctx, db, c.ID)
			a, err := outbox.ClaimJobs(ctx, db, "a", 6, time.Second)
			if err != nil || len(a) != 6 {
				t.Fatalf("a claimed %d, %v", len(a), err)
			}
			b, _ := outbox.ClaimJobs(ctx, db, "b", 10, time.Minute)
			if len(b) != 4 {
				t.Fatalf("b claimed %d, want the 4 a did not hold", len(b))
			}
			if again, _ := outbox.ClaimJobs(ctx, db, "c", 10, time.Minute); len(again) != 0 {
				t.Fatalf("claimed %d held jobs", len(again))
			}
			// Worker a "crashes" after sending one: the rest come back once its lease runs out.
			if err := outbox.MarkSent(ctx, db, a[0]); err != nil {
				t.Fatal(err)
			}
			time.Sleep(1100 * time.Millisecond)
			c2, _ := outbox.ClaimJobs(ctx, db, "c", 10, time.Minute)
			if len(c2) != 5 {
				t.Fatalf("after lease expiry claimed %d, want 5 (a's unsent ones)", len(c2))
			}
			for _, j := range c2 {
				if j.ID == a[0].ID {
					t.Fatal("a sent job was handed out again")
				}
			}
		})
	}
}

// Many workers claiming at once, as several server instances would: every
// job is handed out exactly once.
func TestConcurrentClaimsNeverShareAJob(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := surveytest.Open(t, dialect)
			ctx := context.Background()
			c, _ := seedCampaign(t, db, 600)
			outbox.QueueInvitations(ctx, db, c.ID)
			var mu sync.Mutex
			seen := map[int64]string{}
			var wg sync.WaitGroup
			for w := range 6 {
				wg.Go(func() {
					name := fmt.Sprintf("w%d", w)
					for {
						jobs, err := outbox.ClaimJobs(ctx, db, name, 7, time.Minute)
						if err != nil {
							t.Error(err)
							return
						}
						if len(jobs) == 0 {
							return
						}
						for _, j := range jobs {
							mu.Lock()
							if other, dup := seen[j.ID]; dup {
								t.Errorf("job %d claimed by %s and %s", j.ID, other, name)
							}
							seen[j.ID] = name
							mu.Unlock()
							if err := outbox.MarkSent(ctx, db, j); err != nil {
								t.Error(err)
							}
						}
					}
				})
			}
			wg.Wait()
			if len(seen) != 600 {
				t.Errorf("%d jobs handed out, want 600", len(seen))
			}
		})
	}
}

func TestFailuresBackOffThenBounce(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := surveytest.Open(t, dialect)
			ctx := context.Background()
			c, ids := seedCampaign(t, db, 1)
			outbox.QueueInvitations(ctx, db, c.ID)
			p := outbox.RetryPolicy{MaxAttempts: 3, Base: 400 * time.Millisecond, Max: time.Second}
			for attempt := 1; attempt <= 3; attempt++ {
				var jobs []outbox.Job
				deadline := time.Now().Add(5 * time.Second)
				for len(jobs) == 0 && time.Now().Before(deadline) {
					jobs, _ = outbox.ClaimJobs(ctx, db, "w", 10, time.Minute)
					if len(jobs) == 0 {
						time.Sleep(20 * time.Millisecond)
					}
				}
				if len(jobs) != 1 || jobs[0].Attempts != attempt-1 {
					t.Fatalf("attempt %d: jobs %+v", attempt, jobs)
				}
				bounced, err := outbox.MarkFailed(ctx, db, jobs[0], errors.New("550 5.1.1 no such user"), p)
				if err != nil || bounced != (attempt == 3) {
					t.Fatalf("attempt %d: bounced %v, %v", attempt, bounced, err)
				}
				if attempt < 3 {
					// Backing off: not due at once.
					if again, _ := outbox.ClaimJobs(ctx, db, "w", 10, time.Minute); len(again) != 0 {
						t.Fatalf("attempt %d: retried without backoff", attempt)
					}
				}
			}
			if st := statusOf(t, db, ids[0]); st.Status != survey.InviteBounced {
				t.Errorf("status %s, want bounced", st.Status)
			}
			time.Sleep(time.Second)
			if again, _ := outbox.ClaimJobs(ctx, db, "w", 10, time.Minute); len(again) != 0 {
				t.Error("a given-up job was claimed again")
			}
			var lastErr string
			db.Read.Raw("SELECT last_error FROM outbox").Scan(&lastErr)
			if lastErr != "550 5.1.1 no such user" {
				t.Errorf("last_error %q", lastErr)
			}
		})
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	p := outbox.RetryPolicy{MaxAttempts: 10, Base: time.Minute, Max: 10 * time.Minute}
	for attempts, want := range map[int]time.Duration{1: time.Minute, 2: 2 * time.Minute, 3: 4 * time.Minute, 4: 8 * time.Minute, 5: 10 * time.Minute, 9: 10 * time.Minute} {
		got := p.Backoff(attempts)
		if got < want*8/10 || got > want*12/10 {
			t.Errorf("backoff after %d = %v, want %v ±20 %%", attempts, got, want)
		}
	}
}

func TestReleaseDoesNotCountAnAttempt(t *testing.T) {
	db := surveytest.Open(t, "sqlite")
	ctx := context.Background()
	c, _ := seedCampaign(t, db, 2)
	outbox.QueueInvitations(ctx, db, c.ID)
	jobs, _ := outbox.ClaimJobs(ctx, db, "w", 10, time.Minute)
	if err := outbox.ReleaseJobs(ctx, db, jobs, time.Now()); err != nil {
		t.Fatal(err)
	}
	again, _ := outbox.ClaimJobs(ctx, db, "w", 10, time.Minute)
	if len(again) != 2 || again[0].Attempts != 0 {
		t.Errorf("after release: %+v", again)
	}
}

func TestRemindersGoOnlyToThoseStillExpected(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := surveytest.Open(t, dialect)
			ctx := context.Background()
			c, ids := seedCampaign(t, db, 8)
			// Not invited yet: no reminders.
			if b, _ := outbox.QueueReminders(ctx, db, c.ID, ""); b.Queued != 0 {
				t.Fatalf("reminded %d uninvited", b.Queued)
			}
			outbox.QueueInvitations(ctx, db, c.ID)
			drain(t, db)
			age(t, db, 72*time.Hour)
			db.Write.Exec("UPDATE invitations SET status = ? WHERE id = ?", survey.InviteCompleted, ids[0])
			db.Write.Exec("UPDATE invitations SET status = ? WHERE id = ?", survey.InviteBounced, ids[1])
			db.Write.Exec("UPDATE invitations SET status = ? WHERE id = ?", survey.InviteOpened, ids[2])
			if err := outbox.OptOut(ctx, db, survey.InviteToken(outboxSecret, ids[3])); err != nil {
				t.Fatal(err)
			}
			b, err := outbox.QueueReminders(ctx, db, c.ID, "")
			if n := b.Queued; err != nil || n != 5 {
				t.Fatalf("queued %d reminders, %v; want 5 (8 minus completed, bounced, opted out)", n, err)
			}
			if b, _ := outbox.QueueReminders(ctx, db, c.ID, "because"); b.Queued != 0 {
				t.Fatalf("a second click queued %d while the first wait", b.Queued)
			}
			// One opts out while the reminder waits: it is cancelled.
			outbox.OptOut(ctx, db, survey.InviteToken(outboxSecret, ids[4]))
			sent := drain(t, db)
			if len(sent) != 4 {
				t.Fatalf("sent %d reminders, want 4", len(sent))
			}
			for _, j := range sent {
				if j.Kind != outbox.MailReminder {
					t.Fatalf("kind %s", j.Kind)
				}
			}
			if inv := statusOf(t, db, ids[2]); inv.RemindersSent != 1 || inv.Status != survey.InviteOpened {
				t.Errorf("reminded invitation %+v", inv)
			}
			// Once sent, a later round reminds again, after the cool-down.
			age(t, db, 72*time.Hour)
			if b, _ := outbox.QueueReminders(ctx, db, c.ID, ""); b.Queued != 4 {
				t.Errorf("second round queued %d, want 4", b.Queued)
			}
		})
	}
}

func TestOptOutOfUnknownToken(t *testing.T) {
	db := surveytest.Open(t, "sqlite")
	for _, tok := range []string{"short", survey.InviteToken(outboxSecret, "nobody")} {
		if err := outbox.OptOut(context.Background(), db, tok); !errors.Is(err, survey.ErrNotFound) {
			t.Errorf("%q: %v", tok, err)
		}
	}
}

func TestScheduledReminders(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := surveytest.Open(t, dialect)
			ctx := context.Background()
			c, ids := seedCampaign(t, db, 5)
			if err := outbox.SaveMailSettings(ctx, db, c.ID, outbox.MailSettings{ReminderDays: []int{12, 7}}); err != nil {
				t.Fatal(err)
			}
			outbox.QueueInvitations(ctx, db, c.ID)
			drain(t, db)
			db.Write.Exec("UPDATE invitations SET status = ? WHERE id = ?", survey.InviteCompleted, ids[0])
			now := time.Now()
			day := 24 * time.Hour
			due := func(at time.Duration) int {
				n, err := outbox.DueScheduledReminders(ctx, db, now.Add(at))
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			if n := due(6 * day); n != 0 {
				t.Fatalf("day 6: %d", n)
			}
			if n := due(7*day + time.Hour); n != 4 {
				t.Fatalf("day 7: %d, want 4", n)
			}
			if n := due(8 * day); n != 0 {
				t.Fatalf("day 8 again: %d", n)
			}
			if got := drain(t, db); len(got) != 4 || got[0].Step != 1 {
				t.Fatalf("sent %d (step %d)", len(got), got[0].Step)
			}
			if n := due(11 * day); n != 0 {
				t.Fatalf("day 11: %d", n)
			}
			db.Write.Exec("UPDATE invitations SET opted_out = ? WHERE id = ?", true, ids[1])
			if n := due(12*day + time.Hour); n != 3 {
				t.Fatalf("day 12: %d, want 3", n)
			}
			drain(t, db)
			if n := due(40 * day); n != 0 {
				t.Fatalf("after the schedule: %d", n)
			}
			if inv := statusOf(t, db, ids[2]); inv.RemindersSent != 2 {
				t.Errorf("reminders_sent %d", inv.RemindersSent)
			}

			// A schedule set late sends only the latest due step, once.
			c2, _ := seedCampaign(t, db, 2)
			outbox.SaveMailSettings(ctx, db, c2.ID, outbox.MailSettings{ReminderDays: []int{3, 5}})
			outbox.QueueInvitations(ctx, db, c2.ID)
			drain(t, db)
			if n := due(10 * day); n != 2 {
				t.Fatalf("late schedule: %d", n)
			}
			drain(t, db)
			if n := due(11 * day); n != 0 {
				t.Fatalf("late schedule sent step 1 after step 2: %d", n)
			}
		})
	}
}

// A scheduled reminder keeps the cool-down of a manual one: nobody gets one
// within 48 hours of their last invitation or reminder. It waits, and goes
// out once the 48 hours have passed.
func TestScheduledRemindersKeepTheCoolDown(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := surveytest.Open(t, dialect)
			ctx := context.Background()
			hour := time.Hour
			due := func(at time.Time) int {
				n, err := outbox.DueScheduledReminders(ctx, db, at)
				if err != nil {
					t.Fatal(err)
				}
				return n
			}

			// A reminder one day after the invitation waits for the second day to end.
			c, _ := seedCampaign(t, db, 3)
			outbox.SaveMailSettings(ctx, db, c.ID, outbox.MailSettings{ReminderDays: []int{1}})
			outbox.QueueInvitations(ctx, db, c.ID)
			drain(t, db)
			invited := time.Now()
			if n := due(invited.Add(30 * hour)); n != 0 {
				t.Errorf("30 hours after the invitation: %d reminders, want 0", n)
			}
			if n := due(invited.Add(47 * hour)); n != 0 {
				t.Errorf("47 hours after the invitation: %d reminders, want 0", n)
			}
			if n := due(invited.Add(49 * hour)); n != 3 {
				t.Errorf("49 hours after the invitation: %d reminders, want 3", n)
			}
			drain(t, db)

			// A reminder sent by hand (with a reason) holds the next scheduled one back for 48 hours.
			c2, ids := seedCampaign(t, db, 2)
			outbox.SaveMailSettings(ctx, db, c2.ID, outbox.MailSettings{ReminderDays: []int{5}})
			outbox.QueueInvitations(ctx, db, c2.ID)
			drain(t, db)
			t0 := time.Now()
			if b, err := outbox.QueueReminders(ctx, db, c2.ID, "deadline moved"); err != nil || b.Queued != 2 {
				t.Fatalf("manual reminders %+v, %v", b, err)
			}
			drain(t, db)
			// Pretend the manual reminder to the first person went out on day 4.
			db.Write.Exec("UPDATE outbox SET sent_at = ?, created_at = ? WHERE kind = ? AND invitation_id = ?",
				t0.Add(96*hour).UTC(), t0.Add(96*hour).UTC(), outbox.MailReminder, ids[0])
			if n := due(t0.Add(121 * hour)); n != 1 {
				t.Errorf("day 5: %d reminders, want 1 (the person reminded by hand on day 4 waits)", n)
			}
			if n := due(t0.Add(145 * hour)); n != 1 {
				t.Errorf("day 6, 49 hours after the manual reminder: %d, want 1", n)
			}
		})
	}
}

func TestMailSettings(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := surveytest.Open(t, dialect)
			ctx := context.Background()
			c, _ := seedCampaign(t, db, 0)
			in := outbox.MailSettings{ReminderDays: []int{12, 7, 7}, Texts: map[string]outbox.MailTexts{
				"de": {InviteSubject: "  Ihre Sicht\n zählt ", InviteIntro: "Liebe alle,\r\n\r\nbitte antworten Sie."},
				"fr": {ReminderSubject: "Rappel"},
				"en": {}, // all defaults: no row
				"xx": {InviteSubject: "no such language"},
			}}
			if err := outbox.SaveMailSettings(ctx, db, c.ID, in); err != nil {
				t.Fatal(err)
			}
			s, err := outbox.CampaignMailSettings(ctx, db, c.ID)
			if err != nil || fmt.Sprint(s.ReminderDays) != "[7 12]" || len(s.Texts) != 2 {
				t.Fatalf("%+v, %v", s, err)
			}
			if de := s.In("de"); de.InviteSubject != "Ihre Sicht zählt" || de.InviteIntro != "Liebe alle,\n\nbitte antworten Sie." || de.ReminderSubject != "" {
				t.Errorf("German texts %+v", de)
			}
			if fr, en := s.In("fr"), s.In("en"); fr.ReminderSubject != "Rappel" || fr.InviteSubject != "" || !en.Empty() {
				t.Errorf("French %+v, English %+v", fr, en)
			}
			// Saving one language leaves the others as they were; emptying one removes it.
			if err := outbox.SaveMailSettings(ctx, db, c.ID, outbox.MailSettings{Texts: map[string]outbox.MailTexts{"fr": {}}}); err != nil {
				t.Fatal(err)
			}
			if s, _ := outbox.CampaignMailSettings(ctx, db, c.ID); s.In("de").InviteSubject != "Ihre Sicht zählt" || !s.In("fr").Empty() || len(s.ReminderDays) != 0 {
				t.Errorf("after saving French alone: %+v", s)
			}

			// Each error names its field and language; nothing is stored.
			var fe survey.FieldErrors
			err = outbox.SaveMailSettings(ctx, db, c.ID, outbox.MailSettings{ReminderDays: []int{0}, Texts: map[string]outbox.MailTexts{
				"de": {InviteSubject: strings.Repeat("ä", outbox.MaxSubject+1)},
				"fr": {ReminderIntro: strings.Repeat("x", outbox.MaxIntro+1)},
				"en": {InviteSubject: strings.Repeat("é", outbox.MaxSubject)}, // 200 letters, 400 bytes: fits
			}})
			if !errors.As(err, &fe) || len(fe) != 3 || fe["reminder_days"] == "" ||
				fe["invite_subject_de"] != "mail.error.subject_too_long" || fe["reminder_intro_fr"] != "mail.error.intro_too_long" {
				t.Errorf("errors %v", err)
			}
			if s, _ := outbox.CampaignMailSettings(ctx, db, c.ID); s.In("de").InviteSubject != "Ihre Sicht zählt" || !s.In("en").Empty() {
				t.Errorf("a refused save changed the texts: %+v", s)
			}
		})
	}
	for _, bad := range []string{"x", "7,400", "1,2,3,4,5,6"} {
		if _, err := outbox.ParseReminderDays(bad); err == nil {
			t.Errorf("ParseReminderDays(%q) accepted", bad)
		}
	}
	if d, err := outbox.ParseReminderDays(" 7, 12 ,"); err != nil || fmt.Sprint(d) != "[7 12]" {
		t.Errorf("%v %v", d, err)
	}
}

// Migration 23 keeps the one text every participant used to get as each
// language's text: after the upgrade a campaign's mail reads as before.
func TestMigrationKeepsTheMailTextsInEveryLanguage(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			db := surveytest.OpenAt(t, dialect, 22)
			for _, q := range []string{
				"INSERT INTO organisations (id, name) VALUES (1, 'O')",
				`INSERT INTO campaigns (id, organisation_id, name, model_version, invite_subject, reminder_intro, reminder_days)
				 VALUES (1, 1, 'Written', 1, 'Our survey', 'Please answer.', '7'), (2, 1, 'Defaults', 1, '', '', '')`,
			} {
				if err := db.Write.Exec(q).Error; err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			s, err := outbox.CampaignMailSettings(ctx, db, 1)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range survey.Locales {
				if got := s.In(l); got != (outbox.MailTexts{InviteSubject: "Our survey", ReminderIntro: "Please answer."}) {
					t.Errorf("%s: %+v", l, got)
				}
			}
			if fmt.Sprint(s.ReminderDays) != "[7]" {
				t.Errorf("reminder days %v", s.ReminderDays)
			}
			if s, _ := outbox.CampaignMailSettings(ctx, db, 2); len(s.Texts) != 0 {
				t.Errorf("a campaign on the defaults got texts: %+v", s.Texts)
			}
			if err := db.Read.Exec("SELECT invite_subject FROM campaigns").Error; err == nil {
				t.Error("the single-language column is still there")
			}
		})
	}
}

// A reminder that became pointless because its person answered leaves no
// row behind: a timed "cancelled, completed" would date the answer.
func TestObsoleteRemindersLeaveNoTrace(t *testing.T) {
	db := surveytest.Open(t, "sqlite")
	ctx := context.Background()
	c, ids := seedCampaign(t, db, 2)
	outbox.QueueInvitations(ctx, db, c.ID)
	drain(t, db)
	outbox.QueueReminders(ctx, db, c.ID, "test")
	db.Write.Exec("UPDATE invitations SET status = ? WHERE id = ?", survey.InviteCompleted, ids[0])
	jobs, _ := outbox.ClaimJobs(ctx, db, "w", 10, time.Minute)
	if len(jobs) != 2 {
		t.Fatalf("claimed %d", len(jobs))
	}
	for _, j := range jobs {
		reason := j.Obsolete(c, time.Now())
		if (j.InvitationID == ids[0]) != (reason == "completed") {
			t.Fatalf("%s: obsolete %q", j.InvitationID, reason)
		}
		if reason != "" {
			if err := outbox.Cancel(ctx, db, j); err != nil {
				t.Fatal(err)
			}
		}
	}
	var n int64
	db.Read.Raw("SELECT count(*) FROM outbox WHERE invitation_id = ? AND kind = 'reminder'", ids[0]).Scan(&n)
	if n != 0 {
		t.Errorf("%d reminder rows left for the completed invitation", n)
	}
	closed := *c
	closed.Status = survey.StatusClosed
	if r := jobs[1].Obsolete(&closed, time.Now()); r != "campaign closed" {
		t.Errorf("closed campaign: %q", r)
	}
}
