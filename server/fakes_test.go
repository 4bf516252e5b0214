package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
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
