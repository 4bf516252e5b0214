package survey_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

// respondents returns a store with the demo organisation and n fresh
// respondents of its open wave.
func respondents(t *testing.T, dialect string, n int) (*survey.DB, *survey.Model, []*survey.Respondent) {
	t.Helper()
	db := surveytest.Open(t, dialect)
	m := surveytest.Model(t)
	res, err := survey.CreateDemo(context.Background(), db, m, survey.DemoOptions{
		Responses: 0, Links: n, BaseURL: "http://x", Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	var rs []*survey.Respondent
	for _, link := range res.Links {
		r, err := survey.ResolveInvitation(context.Background(), db, testSecret, strings.TrimPrefix(link, "http://x/s/"))
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	return db, m, rs
}

func TestDraftBecomesAnAnonymousResponse(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			db, m, rs := respondents(t, dialect, 1)
			r := rs[0]
			if _, err := survey.StartDraft(ctx, db, m, r, survey.Profile{Role: "researcher", Seniority: "staff", Locale: "de", UnitID: r.Participant.UnitID}); err != nil {
				t.Fatal(err)
			}
			saver := survey.NewSaver(db)
			defer saver.Close()
			slots, _ := m.Slots([]survey.Answer{{Practice: "AP-01", Dimension: "intention", Level: 2}, {Practice: "TS-09", Dimension: "reality", Level: survey.AnswerValue(survey.DontKnow)}})
			if err := saver.Save(ctx, r.DraftKey, slots); err != nil {
				t.Fatal(err)
			}
			if err := survey.Submit(ctx, db, testSecret, r); err != nil {
				t.Fatal(err)
			}
			// The response waits sealed: nothing enters responses at submit.
			if n := count(t, db, &survey.Response{}, "campaign_id = ?", r.Campaign.ID); n != 0 {
				t.Errorf("%d responses stored at submit, want 0 until a release", n)
			}
			var row survey.PendingRow
			if err := db.Read.Where("campaign_id = ?", r.Campaign.ID).First(&row).Error; err != nil {
				t.Fatal(err)
			}
			pending, err := survey.LoadPending(db.Read, testSecret, r.Campaign.ID)
			if err != nil || len(pending) != 1 {
				t.Fatalf("pending = %d, %v", len(pending), err)
			}
			resp := pending[0]
			if bytes.Contains(row.Sealed, resp.Answers) || bytes.Contains(row.Sealed, []byte("researcher")) {
				t.Error("the pending row holds the answers or the profile in the clear")
			}
			if resp.Answers[0] != 2 || resp.Answers[m.AnswerSlots()-1] != survey.DontKnow || resp.Answers[1] != survey.Unanswered {
				t.Errorf("packed answers wrong: %v…%v", resp.Answers[:4], resp.Answers[len(resp.Answers)-2:])
			}
			if resp.Role != "researcher" || resp.Seniority != "staff" || resp.Locale != "de" || *resp.UnitID != *r.Participant.UnitID {
				t.Errorf("profile = %+v", resp)
			}
			if resp.ID != row.ID || resp.ID == r.Invitation.ID || resp.ID == r.DraftKey || len(resp.ID) != 36 {
				t.Errorf("pending id %q must be fresh and random", resp.ID)
			}
			if _, err := survey.LoadDraft(ctx, db, r.DraftKey); !errors.Is(err, survey.ErrNoDraft) {
				t.Errorf("draft survives submit: %v", err)
			}
			if _, err := survey.ResolveInvitation(ctx, db, testSecret, tokenOf(t, db, r)); !errors.Is(err, survey.ErrAlreadySubmitted) {
				t.Errorf("link after submit: %v, want ErrAlreadySubmitted", err)
			}
		})
	}
}

// tokenOf is not derivable from the database — that is the point — so the
// tests keep the link: here it is rebuilt from the secret like a reminder would.
func tokenOf(t *testing.T, db *survey.DB, r *survey.Respondent) string {
	t.Helper()
	return survey.InviteToken(testSecret, r.Invitation.ID)
}

func TestSubmitRules(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			db, m, rs := respondents(t, dialect, 4)
			start := func(r *survey.Respondent) {
				if _, err := survey.StartDraft(ctx, db, m, r, survey.Profile{Locale: "en"}); err != nil {
					t.Fatal(err)
				}
			}
			// Submits store sealed pending responses; responses is the release's.
			countResponses := func() int64 { return count(t, db, &survey.PendingRow{}, "campaign_id = ?", rs[0].Campaign.ID) }

			t.Run("submit twice stores one response", func(t *testing.T) {
				start(rs[0])
				before := countResponses()
				if err := survey.Submit(ctx, db, testSecret, rs[0]); err != nil {
					t.Fatal(err)
				}
				if err := survey.Submit(ctx, db, testSecret, rs[0]); !errors.Is(err, survey.ErrAlreadySubmitted) {
					t.Errorf("second submit: %v", err)
				}
				if got := countResponses() - before; got != 1 {
					t.Errorf("%d responses stored", got)
				}
			})
			t.Run("submit without a draft stores nothing", func(t *testing.T) {
				before := countResponses()
				if err := survey.Submit(ctx, db, testSecret, rs[1]); !errors.Is(err, survey.ErrNoDraft) {
					t.Errorf("got %v", err)
				}
				if countResponses() != before {
					t.Error("response stored")
				}
			})
			t.Run("concurrent submits store exactly one response", func(t *testing.T) {
				start(rs[2])
				before := countResponses()
				var wg sync.WaitGroup
				errs := make([]error, 8)
				for i := range errs {
					wg.Go(func() { errs[i] = survey.Submit(ctx, db, testSecret, rs[2]) })
				}
				wg.Wait()
				ok := 0
				for _, err := range errs {
					switch {
					case err == nil:
						ok++
					case errors.Is(err, survey.ErrAlreadySubmitted), errors.Is(err, survey.ErrNoDraft):
					default:
						t.Errorf("unexpected: %v", err)
					}
				}
				if ok != 1 || countResponses()-before != 1 {
					t.Errorf("%d submits succeeded, %d responses stored", ok, countResponses()-before)
				}
			})
			t.Run("closed campaign refuses submit and keeps the draft", func(t *testing.T) {
				start(rs[3])
				db.Write.Model(rs[3].Campaign).Update("status", survey.StatusClosed)
				rs[3].Campaign.Status = survey.StatusClosed
				if err := survey.Submit(ctx, db, testSecret, rs[3]); !errors.Is(err, survey.ErrCampaignClosed) {
					t.Errorf("got %v", err)
				}
				if _, err := survey.LoadDraft(ctx, db, rs[3].DraftKey); err != nil {
					t.Errorf("draft lost: %v", err)
				}
			})
		})
	}
}

func TestStartDraftValidatesTheProfile(t *testing.T) {
	ctx := context.Background()
	db, m, rs := respondents(t, "sqlite", 1)
	other := &survey.Organisation{Name: "Other"}
	db.Write.Create(other)
	foreign := &survey.BusinessUnit{OrganisationID: other.ID, Name: "Elsewhere"}
	db.Write.Create(foreign)
	for name, prof := range map[string]survey.Profile{
		"unknown role":        {Role: "astronaut"},
		"unknown seniority":   {Seniority: "intern"},
		"unit of another org": {UnitID: &foreign.ID},
	} {
		if _, err := survey.StartDraft(ctx, db, m, rs[0], prof); !errors.Is(err, survey.ErrInvalidProfile) {
			t.Errorf("%s: %v", name, err)
		}
	}
	d, err := survey.StartDraft(ctx, db, m, rs[0], survey.Profile{Role: "technologist"})
	if err != nil || len(d.Answers) != m.AnswerSlots() {
		t.Fatalf("valid profile: %v", err)
	}
	var inv survey.Invitation
	db.Read.First(&inv, "id = ?", rs[0].Invitation.ID)
	if inv.Status != survey.InviteOpened {
		t.Errorf("invitation status %q, want opened", inv.Status)
	}
	// Starting again keeps the answers and only updates the profile.
	saver := survey.NewSaver(db)
	defer saver.Close()
	slots, _ := m.Slots([]survey.Answer{{Practice: "AP-02", Dimension: "reality", Level: 4}})
	saver.Save(ctx, rs[0].DraftKey, slots)
	d, _ = survey.StartDraft(ctx, db, m, rs[0], survey.Profile{Role: "researcher"})
	if d.Role != "researcher" || d.Answers[slots[0].Slot] != 4 {
		t.Errorf("restart lost answers or profile: %q %v", d.Role, d.Answers[:4])
	}
}

// Many concurrent autosaves, interleaved on the same drafts, all land: the
// group commit loses no update and acknowledges only what it stored.
func TestSaverStoresEveryConcurrentAnswer(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			db, m, rs := respondents(t, dialect, 4)
			for _, r := range rs {
				if _, err := survey.StartDraft(ctx, db, m, r, survey.Profile{}); err != nil {
					t.Fatal(err)
				}
			}
			saver := survey.NewSaver(db)
			defer saver.Close()
			var wg sync.WaitGroup
			ps := m.Practices()
			for i, p := range ps {
				for _, dim := range survey.Dimensions {
					wg.Go(func() {
						r := rs[i%len(rs)]
						lvl := survey.AnswerValue(1 + i%5)
						slots, _ := m.Slots([]survey.Answer{{Practice: p.ID, Dimension: dim, Level: lvl}})
						if err := saver.Save(ctx, r.DraftKey, slots); err != nil {
							t.Error(err)
						}
					})
				}
			}
			wg.Wait()
			for ri, r := range rs {
				d, err := survey.LoadDraft(ctx, db, r.DraftKey)
				if err != nil {
					t.Fatal(err)
				}
				for i, p := range ps {
					want := byte(0)
					if i%len(rs) == ri {
						want = byte(1 + i%5)
					}
					for _, dim := range survey.Dimensions {
						if got := d.Answers[m.Slot(p, dim)]; got != want {
							t.Fatalf("draft %d %s %s = %d, want %d", ri, p.ID, dim, got, want)
						}
					}
				}
			}
			if err := saver.Save(ctx, "no-such-draft", []survey.SlotValue{{Slot: 0, Value: 1}}); !errors.Is(err, survey.ErrNoDraft) {
				t.Errorf("save to unknown draft: %v", err)
			}
		})
	}
}

func TestOpenLinkCampaignLookup(t *testing.T) {
	db := surveytest.Open(t, "sqlite")
	org := &survey.Organisation{Name: "Open Org"}
	db.Write.Create(org)
	key := survey.NewOpenToken()
	c := &survey.Campaign{OrganisationID: org.ID, Name: "Pulse", ModelVersion: 1, KMin: 5, Status: survey.StatusOpen, OpenLink: true, OpenKey: &key, Locales: "en"}
	if err := db.Write.Create(c).Error; err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if got, err := survey.FindOpenCampaign(ctx, db, key); err != nil || got.ID != c.ID {
		t.Errorf("lookup: %v", err)
	}
	for _, bad := range []string{"", "short", strings.Repeat("A", 43), key + "x"} {
		if _, err := survey.FindOpenCampaign(ctx, db, bad); !errors.Is(err, survey.ErrNotFound) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	db.Write.Model(c).Update("open_link", false)
	if _, err := survey.FindOpenCampaign(ctx, db, key); !errors.Is(err, survey.ErrNotFound) {
		t.Error(fmt.Sprint("a campaign no longer open-link still answers: ", err))
	}
}
