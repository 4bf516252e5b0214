package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"tiltline/survey"
)

// Fake respondents (issue 12, attack class 5): whoever can answer an open
// link again and again can add k−1 known answers next to one person's.

// TestManagersNeverReceiveTheOpenLink walks every GET route as a manager,
// signed in and with their API token, and finds the campaign's open-link key
// in no body and no header; the organisation's admin does get it.
func TestManagersNeverReceiveTheOpenLink(t *testing.T) {
	fx := newSecFixture(t)
	mgr := fx.signIn(t, fx.demo.ManagerEmail, fx.demo.ManagerPassword)
	token := strings.TrimPrefix(linkPath(fx.demo.Links[0]), "/s/")
	id := fx.ids["campaign"]
	checked := 0
	for _, r := range routeTable(fx.a) {
		if r.Method != http.MethodGet && r.Method != "ANY" {
			continue
		}
		if slices.ContainsFunc(respondentPrefixes, func(pre string) bool { return strings.HasPrefix(r.Path, pre) }) {
			continue // the respondent's own pages: reached only with the key
		}
		path := fx.fill(t, r.Path, token)
		for _, q := range []string{"", "?unit=" + fmt.Sprint(fx.ids["unit"]), "?lang=de"} {
			for _, how := range []string{"session", "token"} {
				req := httptest.NewRequest(http.MethodGet, path+q, nil)
				if how == "session" {
					req.AddCookie(mgr.cookie)
				} else {
					req.Header.Set("Authorization", "Bearer "+fx.demo.APIToken)
				}
				rec := fx.serve(req, "")
				if strings.Contains(rec.Body.String(), fx.openKey) {
					t.Errorf("GET %s%s as manager (%s, %d) shows the open-link key", path, q, how, rec.Code)
				}
				for name, vs := range rec.Header() {
					if strings.Contains(strings.Join(vs, " "), fx.openKey) {
						t.Errorf("GET %s%s as manager (%s): header %s carries the open-link key", path, q, how, name)
					}
				}
				if rec.Code == http.StatusOK {
					checked++
				}
			}
		}
	}
	t.Logf("%d manager responses checked", checked)
	if checked < 20 {
		t.Errorf("only %d manager responses with status 200: the walk reaches too little", checked)
	}

	// The check is real: the admin sees the link on the campaign page and in the API.
	admin := fx.signIn(t, fx.demo.AdminEmail, fx.demo.AdminPassword)
	req := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/admin/campaigns/%d", id), nil)
	req.AddCookie(admin.cookie)
	if body := fx.serve(req, "").Body.String(); !strings.Contains(body, "/o/"+fx.openKey) {
		t.Error("the org admin's campaign page lacks the open link")
	}
	adminToken, err := survey.CreateAPIToken(context.Background(), fx.a.db, fx.demo.AdminEmail, "admin")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fmt.Sprintf("/api/v1/campaigns/%d", id), "/api/v1/campaigns"} {
		if code, out := apiCall(t, fx.a, http.MethodGet, path, adminToken, ""); code != 200 || !strings.Contains(fmt.Sprint(out), fx.openKey) {
			t.Errorf("GET %s with the admin's token = %d, lacks open_link_url", path, code)
		}
	}
}

// openCampaign adds an open-link campaign to the demo organisation.
func openCampaign(t *testing.T, a *App, demo *survey.DemoResult) (key string, id int64) {
	t.Helper()
	var prev survey.Campaign
	if err := a.db.Read.First(&prev, demo.CampaignID).Error; err != nil {
		t.Fatal(err)
	}
	key = survey.NewOpenToken()
	c := &survey.Campaign{OrganisationID: prev.OrganisationID, Name: "Pulse", ModelVersion: prev.ModelVersion, KMin: 5,
		Status: survey.StatusOpen, OpenLink: true, OpenKey: &key, Locales: "en,de,fr", AskRole: true}
	if err := a.db.Write.Create(c).Error; err != nil {
		t.Fatal(err)
	}
	return key, c.ID
}

// answerOpen goes through an open link once in f's browser and returns the
// submit's Set-Cookie header.
func answerOpen(t *testing.T, f *flowClient) string {
	t.Helper()
	if code, _ := f.get(""); code != 200 {
		t.Fatalf("welcome: %d", code)
	}
	if code, _ := f.post("/start", url.Values{"role": {"researcher"}}); code != 303 {
		t.Fatalf("start: %d", code)
	}
	if code, _ := f.put(`{"practice":"PR-01","dimension":"reality","level":5}`); code != 204 {
		t.Fatalf("autosave: %d", code)
	}
	code, _, h := f.do(http.MethodPost, "/submit", "application/x-www-form-urlencoded", url.Values{"csrf": {f.csrf}}.Encode())
	if code != 303 {
		t.Fatalf("submit: %d", code)
	}
	return h.Get("Set-Cookie")
}

func countResponses(t *testing.T, a *App, campaignID int64) int64 {
	t.Helper()
	var n int64
	if err := a.db.Read.Model(&survey.Response{}).Where("campaign_id = ?", campaignID).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// TestOpenLinkAnswersOncePerBrowser: after submitting, the browser keeps a
// signed marker for a year and gets the thank-you page, not a fresh survey;
// the marker is the campaign's own.
func TestOpenLinkAnswersOncePerBrowser(t *testing.T) {
	a, demo, _ := newTestApp(t)
	key, id := openCampaign(t, a, demo)
	f := newFlow(t, a, "/o/"+key)
	setCookie := answerOpen(t, f)
	ck, err := http.ParseSetCookie(setCookie)
	if err != nil || ck.Name != openCookie || !strings.HasPrefix(ck.Value, "done.") || ck.MaxAge < 365*24*3600 || ck.Path != "/o/"+key {
		t.Fatalf("after submit the browser keeps %q, want a year-long signed marker for the campaign's path", setCookie)
	}
	for _, path := range []string{"", "/p/1", "/review"} {
		if code, body := f.get(path); !strings.Contains(body, "Already submitted") || strings.Contains(body, `name="role"`) {
			t.Errorf("GET %s after submit = %d, want the thank-you page", path, code)
		}
	}
	if code, loc := f.post("/start", url.Values{"role": {"researcher"}}); code != 303 || loc != "/o/"+key {
		t.Errorf("starting again after submit = %d %q, want back to the thank-you page", code, loc)
	}
	if code, _ := f.put(`{"practice":"PR-01","dimension":"reality","level":1}`); code != http.StatusConflict {
		t.Errorf("autosave after submit = %d, want 409", code)
	}
	if n := countResponses(t, a, id); n != 1 {
		t.Errorf("%d responses, want 1", n)
	}

	// The marker is signed for its campaign: on another campaign's link, or
	// forged, it counts for nothing.
	key2, _ := openCampaign(t, a, demo)
	for _, v := range []string{ck.Value, "submitted", "done.forged"} {
		r := get(t, a, "/o/"+key2, "Cookie", openCookie+"="+v)
		if b := body(t, r); r.StatusCode != 200 || !strings.Contains(b, `name="role"`) {
			t.Errorf("marker %q on another campaign: %d, want a fresh welcome page", v, r.StatusCode)
		}
	}
	r := get(t, a, "/o/"+key, "Cookie", openCookie+"="+ck.Value)
	if b := body(t, r); !strings.Contains(b, "Already submitted") {
		t.Errorf("the marker alone, in a fresh browser: %d, want the thank-you page", r.StatusCode)
	}
}
