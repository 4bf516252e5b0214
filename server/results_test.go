package server

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"tiltline/survey"
)

func TestManagerSeesResultsUnderSuppression(t *testing.T) {
	a, demo, _ := newTestApp(t)
	f := newFlow(t, a, "")
	if code, loc := f.post("/login", url.Values{"email": {demo.ManagerEmail}, "password": {demo.ManagerPassword}}); code != 303 || loc != "/results" {
		t.Fatalf("manager sign-in lands on %q (%d)", loc, code)
	}
	path := fmt.Sprintf("/results/%d", demo.CampaignID)
	code, page := f.get(path)
	if code != 200 {
		t.Fatalf("results = %d", code)
	}
	for _, want := range []string{`<svg class="chart radar"`, `<svg class="chart bars"`, "Do leaders see what staff see?", `href="/learn/`, "Preliminary", "Other units (pooled)", "Results as of ", "Scores per section (data of the charts above)"} {
		if !strings.Contains(page, want) {
			t.Errorf("results page lacks %q", want)
		}
	}
	var small survey.BusinessUnit
	a.db.Read.Where("name = ?", "Innovation Lab").First(&small)
	_, page = f.get(fmt.Sprintf("%s?unit=%d&lang=de", path, small.ID))
	if !strings.Contains(page, "Nicht genug Antworten") || strings.Contains(page, "<svg") {
		t.Error("the unit of 3 must show the suppression message and no chart")
	}
	if code, _ := f.get(path + "?role=astronaut"); code != http.StatusBadRequest {
		t.Errorf("unknown role filter = %d", code)
	}
	email, password := otherOrgAdmin(t, a)
	g := signedIn(t, a, email, password)
	if code, _ := g.get(path); code != http.StatusNotFound {
		t.Errorf("another organisation's results = %d", code)
	}
}

func TestExportCSVThroughAPIAndPage(t *testing.T) {
	a, demo, _ := newTestApp(t)
	req := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/api/v1/campaigns/%d/export.csv", demo.CampaignID), nil)
	req.Header.Set("Authorization", "Bearer "+demo.APIToken)
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, req)
	lines := strings.Count(rec.Body.String(), "\r\n")
	shown, _ := survey.CountResponses(t.Context(), a.db, demo.CampaignID)
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") || lines != int(shown)+1 || shown < 15 {
		t.Fatalf("export: %d, %d lines", rec.Code, lines)
	}
	// The unit column carries each row's cell: the unit of 3 only pooled.
	if !strings.HasPrefix(rec.Body.String(), "response,unit,role,seniority,") || strings.Contains(rec.Body.String(), "Innovation Lab") {
		t.Error("the export lacks the cells' profile columns, or names the unit of 3")
	}
	f := newFlow(t, a, "")
	f.post("/login", url.Values{"email": {demo.ManagerEmail}, "password": {demo.ManagerPassword}})
	if code, body := f.get(fmt.Sprintf("/results/%d/export.csv", demo.CampaignID)); code != 200 || !strings.HasPrefix(body, "response,") {
		t.Errorf("export from the page = %d", code)
	}
}

// A dashboard served from the cache goes out as its layout compressed per
// request around the content kept deflated; it must read as the page sent
// plain, and the second reader must get it from the kept run.
func TestCachedDashboardIsTheSameGzippedOrNot(t *testing.T) {
	a, demo, _ := newTestApp(t)
	f := newFlow(t, a, "")
	if code, _ := f.post("/login", url.Values{"email": {demo.ManagerEmail}, "password": {demo.ManagerPassword}}); code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", code)
	}
	path := fmt.Sprintf("/results/%d", demo.CampaignID)
	for _, lang := range []string{"en", "fr"} {
		f.do(http.MethodGet, path, "", "", "Accept-Encoding", "identity", "Accept-Language", lang) // builds and keeps the view
		code, plain, _ := f.do(http.MethodGet, path, "", "", "Accept-Encoding", "identity", "Accept-Language", lang)
		if code != http.StatusOK || !strings.Contains(plain, `<svg class="chart radar"`) {
			t.Fatalf("%s: plain dashboard %d", lang, code)
		}
		code, body, h := f.do(http.MethodGet, path, "", "", "Accept-Encoding", "gzip", "Accept-Language", lang)
		if code != http.StatusOK || h.Get("Content-Encoding") != "gzip" || h.Get("Content-Length") != strconv.Itoa(len(body)) {
			t.Fatalf("%s: gzipped dashboard %d, Content-Encoding %q, Content-Length %q for %d bytes", lang, code, h.Get("Content-Encoding"), h.Get("Content-Length"), len(body))
		}
		if got := gunzipped(t, lang, body); got != plain {
			t.Errorf("%s: the gzipped dashboard differs from the plain one\n%s", lang, firstDifference(got, plain))
		}
	}
}
