package survey_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

var testSecret = surveytest.Secret

func createDemo(t *testing.T, db *survey.DB, responses int) *survey.DemoResult {
	t.Helper()
	return surveytest.Demo(t, db, responses)
}

func count(t *testing.T, db *survey.DB, model any, where string, args ...any) int64 {
	t.Helper()
	var n int64
	q := db.Read.Model(model)
	if where != "" {
		q = q.Where(where, args...)
	}
	if err := q.Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDemoCreatesTheContractAndRefreshesInPlace(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := surveytest.Open(t, dialect)
			first := createDemo(t, db, 200)
			// A second run keeps everything: the same campaign, logins, token and links.
			again := createDemo(t, db, 200)
			if !again.Kept || again.CampaignID != first.CampaignID || again.AdminPassword != first.AdminPassword ||
				again.APIToken != first.APIToken || strings.Join(again.Links, " ") != strings.Join(first.Links, " ") {
				t.Fatalf("a second run changed the demo:\n%+v\n%+v", first, again)
			}
			// A changed password and a revoked token are put back.
			db.Write.Model(&survey.User{}).Where("email = ?", first.AdminEmail).Update("password_hash", survey.HashPassword("changed-by-someone"))
			if err := db.Write.Exec("UPDATE api_tokens SET revoked_at = ? WHERE token_hash = ?", time.Now().UTC(), survey.HashToken(first.APIToken)).Error; err != nil {
				t.Fatal(err)
			}
			createDemo(t, db, 200)
			var u survey.User
			db.Read.Where("email = ?", first.AdminEmail).First(&u)
			if !survey.CheckPassword(u.PasswordHash, first.AdminPassword) {
				t.Error("a third run did not put the printed admin password back")
			}
			if n := count(t, db, &survey.APIToken{}, "token_hash = ? AND revoked_at IS NULL", survey.HashToken(first.APIToken)); n != 1 {
				t.Errorf("a third run left %d working demo tokens, want 1", n)
			}
			// --reset starts over, never doubling the organisation.
			res, err := survey.CreateDemo(context.Background(), db, surveytest.Model(t), survey.DemoOptions{
				Responses: 200, Links: 4, BaseURL: "http://example.test", Secret: testSecret, Reset: true,
			})
			if err != nil || res.Kept || res.CampaignID == first.CampaignID {
				t.Fatalf("reset: %v, %+v", err, res)
			}

			if count(t, db, &survey.Organisation{}, "name = ?", survey.DemoOrgName) != 1 {
				t.Error("demo organisation not unique after refresh")
			}
			// Every response is released, or waits sealed for a cell of k.
			for id, want := range map[int64]int64{res.CampaignID: 200, res.PreviousCampaignID: 160} {
				shown := count(t, db, &survey.Response{}, "campaign_id = ?", id)
				var waiting int64
				db.Read.Table("pending_responses").Where("campaign_id = ?", id).Count(&waiting)
				rel, err := survey.CurrentRelease(context.Background(), db, id)
				if err != nil || rel == nil || shown+waiting != want || int64(rel.Shown) != shown || int64(rel.HeldBack) != waiting || waiting > 10 {
					t.Errorf("campaign %d: %d released + %d waiting, want %d; release %+v", id, shown, waiting, want, rel)
				}
			}
			if got := count(t, db, &survey.Invitation{}, "campaign_id = ? AND status = ?", res.CampaignID, survey.InviteCompleted); got != 200 {
				t.Errorf("completed invitations = %d, want one per response", got)
			}
			var c survey.Campaign
			db.Read.First(&c, res.CampaignID)
			if c.Status != survey.StatusOpen || c.PreviousID == nil || *c.PreviousID != res.PreviousCampaignID {
				t.Errorf("open wave = %+v", c)
			}
			if len(res.Links) != 4 || res.Links[0] == first.Links[0] {
				t.Fatalf("links = %v", res.Links)
			}
			for _, link := range res.Links {
				token := strings.TrimPrefix(link, "http://example.test/s/")
				inv, camp, err := survey.FindInvitation(context.Background(), db, token)
				if err != nil || camp.ID != res.CampaignID || inv.Status == survey.InviteCompleted {
					t.Errorf("link %s: %v %+v", link, err, inv)
				}
			}
			if _, err := survey.CreateAPIToken(context.Background(), db, res.ManagerEmail, "x"); err != nil {
				t.Errorf("manager account missing: %v", err)
			}
			var admin survey.User
			db.Read.Where("email = ?", res.AdminEmail).First(&admin)
			if !survey.CheckPassword(admin.PasswordHash, res.AdminPassword) || survey.CheckPassword(admin.PasswordHash, "wrong") {
				t.Error("printed admin password does not match its hash")
			}
			var tok survey.APIToken
			if err := db.Read.Where("token_hash = ?", survey.HashToken(res.APIToken)).First(&tok).Error; err != nil {
				t.Errorf("printed api token not stored (hashed): %v", err)
			}
		})
	}
}

// score turns a packed level into points (DESIGN.md: (5 − level) / 4 × 100).
func score(level byte) (float64, bool) {
	if level < 1 || level > 5 {
		return 0, false
	}
	return float64(5-level) / 4 * 100, true
}

type mean struct{ sum, n float64 }

func (m *mean) add(v float64) { m.sum += v; m.n++ }
func (m mean) value() float64 { return m.sum / m.n }

func TestDemoDistributionShowsTheSeedsPatterns(t *testing.T) {
	db := surveytest.Open(t, "sqlite")
	res := createDemo(t, db, 3000)
	var resps []survey.Response
	if err := db.Read.Where("campaign_id = ?", res.CampaignID).Find(&resps).Error; err != nil {
		t.Fatal(err)
	}
	m := surveytest.Model(t)
	var overall, intention, reality, seniorReality, staffReality mean
	var dk, slots float64
	units, pooled := map[int64]int{}, 0
	for _, r := range resps {
		if len(r.Answers) != m.AnswerSlots() {
			t.Fatalf("packed answers have %d bytes, want %d", len(r.Answers), m.AnswerSlots())
		}
		if r.UnitID != nil {
			units[*r.UnitID]++
		} else {
			pooled++
		}
		for i, b := range r.Answers {
			slots++
			if b == survey.DontKnow {
				dk++
			}
			s, ok := score(b)
			if !ok {
				continue
			}
			overall.add(s)
			if i%2 == 0 {
				intention.add(s)
				continue
			}
			reality.add(s)
			switch r.Seniority {
			case "senior-manager":
				seniorReality.add(s)
			case "staff":
				staffReality.add(s)
			}
		}
	}
	t.Logf("overall %.1f, intention %.1f, reality %.1f, senior−staff reality %.1f, don't know %.1f%%",
		overall.value(), intention.value(), reality.value(), seniorReality.value()-staffReality.value(), 100*dk/slots)
	if v := overall.value(); v < 30 || v > 40 {
		t.Errorf("overall mean %.1f %%, want around 35", v)
	}
	if intention.value() <= reality.value() {
		t.Error("intention should run ahead of reality")
	}
	if d := seniorReality.value() - staffReality.value(); d < 10 || d > 15 {
		t.Errorf("senior managers rate reality %.1f points above staff, want 10 to 15", d)
	}
	if r := dk / slots; r < 0.02 || r > 0.10 {
		t.Errorf("don't-know rate %.3f, want some but not many", r)
	}
	// The generator's unit of 3 is stored only among the pooled units:
	// released responses keep their cell's profile, never a unit under k.
	for id, n := range units {
		if n < 5 {
			t.Errorf("unit %d is stored with %d responses", id, n)
		}
	}
	if pooled < 3 || len(units) != 6 {
		t.Errorf("%d responses under pooled units, units %v; want the unit of 3 among them and 6 units of their own", pooled, units)
	}
}
