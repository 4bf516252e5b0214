package server

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

// The end-to-end promise, through the API: 300 participants, 300
// invitations delivered by real SMTP, one survey completed from its mail,
// then reminders to exactly the 299 others — and the same from the pages.
func TestInviteCompleteRemindThroughAPIAndPages(t *testing.T) {
	sink := startSink(t)
	a, _ := newMailApp(t, surveytest.SQLiteURL(t), sink.URL(""))
	a.cfg.PublicPortal = true
	a.mail.opts.Poll = 50 * time.Millisecond
	stop := a.mail.start(t.Context())
	t.Cleanup(stop)
	ctx := t.Context()

	org, _ := survey.SaveOrganisation(ctx, a.db, 0, survey.OrgInput{Name: "Acme"})
	for _, u := range []string{"Sales", "Service", "Back Office"} {
		survey.AddUnit(ctx, a.db, org.ID, u)
	}
	if _, err := survey.CreateUserWithPassword(ctx, a.db, "admin@acme.example", "", survey.RoleOrgAdmin, &org.ID, "acme-admin-password"); err != nil {
		t.Fatal(err)
	}
	token, _ := survey.CreateAPIToken(ctx, a.db, "admin@acme.example", "hr")
	cp, err := survey.CreateCampaign(ctx, a.db, org.ID, 1, survey.CampaignInput{Name: "Wave", Locales: []string{"en", "de"}, KMin: 5})
	if err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("email;unit;locale\n")
	units := []string{"Sales", "Service", "Back Office"}
	for i := range 300 {
		fmt.Fprintf(&csv, "p%03d@acme.example;%s;%s\n", i, units[i%3], []string{"en", "de"}[i%2])
	}
	path := fmt.Sprintf("/api/v1/campaigns/%d", cp.ID)
	if code, out := apiCall(t, a, http.MethodPost, path+"/participants", token, csv.String()); code != 200 || out["added"].(float64) != 300 {
		t.Fatalf("import: %d %v", code, out)
	}
	if code, out := apiCall(t, a, http.MethodPost, path+"/invitations", token, ""); code != http.StatusConflict {
		t.Errorf("invitations for a draft campaign = %d %v, want 409", code, out)
	}
	survey.SetCampaignStatus(ctx, a.db, cp, survey.StatusOpen)
	if code, out := apiCall(t, a, http.MethodPost, path+"/invitations", token, ""); code != http.StatusAccepted || out["queued"].(float64) != 300 {
		t.Fatalf("invitations: %d %v", code, out)
	}
	mails := sink.Wait(300, 20*time.Second)
	links := map[string]bool{}
	linkRe := regexp.MustCompile(`http://test(/s/[A-Za-z0-9_-]{43})`)
	var first string
	for _, m := range mails {
		l := linkRe.FindSubmatch(m.Data)
		if l == nil {
			t.Fatal("a mail without a survey link")
		}
		links[string(l[1])] = true
		if first == "" {
			first = string(l[1])
		}
	}
	if len(links) != 300 {
		t.Errorf("%d distinct links in 300 mails", len(links))
	}
	if code, out := apiCall(t, a, http.MethodPost, path+"/invitations", token, ""); code != http.StatusAccepted || out["queued"].(float64) != 0 {
		t.Errorf("inviting again queued %v", out)
	}

	// One person answers from the mail.
	f := newFlow(t, a, first)
	if code, body := f.get(""); code != 200 || !strings.Contains(body, "csrf") {
		t.Fatalf("the mailed link does not open the survey: %d", code)
	}
	f.post("/start", nil)
	f.post("/p/1", url.Values{"AP-01.intention": {"2"}})
	if code, _ := f.post("/submit", nil); code != http.StatusSeeOther {
		t.Fatalf("submit from the mailed link: %d", code)
	}

	// Everyone was invited a moment ago: the cool-down holds every reminder
	// back until a reason is given.
	if code, out := apiCall(t, a, http.MethodPost, path+"/reminders", token, ""); code != http.StatusAccepted || out["queued"].(float64) != 0 || out["held_back"].(float64) != 299 {
		t.Fatalf("reminders within the cool-down: %d %v, want 0 queued, 299 held back", code, out)
	}
	if code, out := apiCall(t, a, http.MethodPost, path+"/reminders?override_reason=Deadline+moved", token, ""); code != http.StatusAccepted || out["queued"].(float64) != 299 {
		t.Fatalf("reminders: %d %v, want 299 queued", code, out)
	}
	all := sink.Wait(599, 20*time.Second)
	if len(all) != 599 {
		t.Fatalf("%d mails in all, want 300 invitations + 299 reminders", len(all))
	}

	// The same from the campaign page: a second reminder round, by the admin.
	admin := signedIn(t, a, "admin@acme.example", "acme-admin-password")
	if code, loc := admin.post(fmt.Sprintf("/admin/campaigns/%d/remind", cp.ID), url.Values{"confirmed": {"1"}, "override": {"1"}, "override_reason": {"Second round"}}); code != 303 || !strings.Contains(loc, "n=299") {
		t.Errorf("reminders from the page: %d %q", code, loc)
	}
	sink.Wait(898, 20*time.Second)
	// The sink has the mail a moment before the worker records it as sent.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, page := admin.get(fmt.Sprintf("/admin/campaigns/%d", cp.ID))
		if strings.Contains(page, "sent: 898") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("campaign page does not count the mail sent")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestPasswordLinksAreMailed(t *testing.T) {
	sink := startSink(t)
	a, logs := newMailApp(t, surveytest.SQLiteURL(t), sink.URL(""))
	ctx := t.Context()
	if _, err := survey.CreateUserWithPassword(ctx, a.db, "forgetful@example.com", "", survey.RolePlatformAdmin, nil, "old-password-123"); err != nil {
		t.Fatal(err)
	}
	f := newFlow(t, a, "")
	f.post("/password/forgot", url.Values{"email": {"forgetful@example.com"}})
	startMailer(t, a, nil)
	mails := sink.Wait(1, 5*time.Second)
	if len(mails) != 1 {
		t.Fatalf("%d mails", len(mails))
	}
	link := regexp.MustCompile(`http://test(/password/[A-Za-z0-9_-]+)`).FindSubmatch(mails[0].Data)
	if link == nil {
		t.Fatalf("no link in %s", mails[0].Data)
	}
	if code, _ := f.post(string(link[1]), url.Values{"password": {"new-password-456"}, "confirm": {"new-password-456"}}); code != 303 {
		t.Errorf("the mailed link does not work: %d", code)
	}
	if strings.Contains(logs.String(), string(link[1])) {
		t.Error("the password link reached the log")
	}
}
