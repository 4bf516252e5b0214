package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	kgzip "github.com/klauspost/compress/gzip"

	"tiltline/survey"
)

func apiCall(t *testing.T, a *App, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %s: not JSON (%d): %.200s", method, path, rec.Code, rec.Body.String())
	}
	return rec.Code, out
}

func errorCode(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func TestAPITokensAndTenantScoping(t *testing.T) {
	a, demo, _ := newTestApp(t)
	ctx := context.Background()
	cases := []struct {
		name, path, token string
		want              int
	}{
		{"no token", "/api/v1/campaigns", "", 401},
		{"malformed token", "/api/v1/campaigns", "nonsense", 401},
		{"unknown token", "/api/v1/campaigns", "tl_" + strings.Repeat("x", 43), 401},
		{"manager lists campaigns", "/api/v1/campaigns", demo.APIToken, 200},
		{"own campaign", fmt.Sprintf("/api/v1/campaigns/%d", demo.CampaignID), demo.APIToken, 200},
		{"unknown route", "/api/v1/nothing", demo.APIToken, 404},
		{"bad page", "/api/v1/campaigns?page=0", demo.APIToken, 400},
		{"bad per_page", "/api/v1/campaigns?per_page=abc", demo.APIToken, 400},
		{"model", "/api/v1/model", demo.APIToken, 200},
		{"unknown model version", "/api/v1/model?version=99", demo.APIToken, 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out := apiCall(t, a, http.MethodGet, tc.path, tc.token, "")
			if code != tc.want {
				t.Errorf("status %d, want %d: %v", code, tc.want, out)
			}
			if code >= 400 && errorCode(out) == "" {
				t.Errorf("error without a code: %v", out)
			}
		})
	}

	_, list := apiCall(t, a, http.MethodGet, "/api/v1/campaigns?per_page=1", demo.APIToken, "")
	if items, _ := list["items"].([]any); len(items) != 1 || list["total"].(float64) != 2 {
		t.Errorf("pagination: %v", list)
	}

	// Another organisation's token sees none of this organisation's campaigns.
	email, _ := otherOrgAdmin(t, a)
	other, err := survey.CreateAPIToken(ctx, a.db, email, "other")
	if err != nil {
		t.Fatal(err)
	}
	if code, out := apiCall(t, a, http.MethodGet, fmt.Sprintf("/api/v1/campaigns/%d", demo.CampaignID), other, ""); code != 404 || errorCode(out) != "not_found" {
		t.Errorf("other org's campaign: %d %v", code, out)
	}
	if _, out := apiCall(t, a, http.MethodGet, "/api/v1/campaigns", other, ""); out["total"].(float64) != 0 {
		t.Errorf("other org lists %v", out)
	}

	// A revoked token stops working at once.
	u, _ := survey.UserByEmail(ctx, a.db, demo.ManagerEmail)
	toks, _ := survey.APITokens(ctx, a.db, u.ID)
	if err := survey.RevokeAPIToken(ctx, a.db, u.ID, toks[len(toks)-1].ID); err != nil {
		t.Fatal(err)
	}
	if code, _ := apiCall(t, a, http.MethodGet, "/api/v1/campaigns", demo.APIToken, ""); code != 401 {
		t.Errorf("revoked token = %d", code)
	}
}

func TestAPIReportFollowsSuppressionAndHoldsASingleNewResponse(t *testing.T) {
	a, demo, _ := newTestApp(t) // 20 demo responses, one unit of 3
	path := fmt.Sprintf("/api/v1/campaigns/%d/report", demo.CampaignID)
	code, rep := apiCall(t, a, http.MethodGet, path, demo.APIToken, "")
	// The release holds what cells of k can: of 20, at most a few wait.
	shown, practices := rep["responses"].(float64), fmt.Sprint(rep["practices"])
	if code != 200 || rep["suppressed"] != false || shown < 15 || shown > 20 || rep["preliminary"] != true {
		t.Fatalf("%d %v", code, rep["responses"])
	}
	release, _ := rep["release"].(map[string]any)
	if release == nil || release["seq"].(float64) != 1 || release["responses"] != shown || release["held_back"].(float64) != 20-shown {
		t.Fatalf("release %v", release)
	}
	var small survey.BusinessUnit
	a.db.Read.Where("name = ?", "Innovation Lab").First(&small)
	code, rep = apiCall(t, a, http.MethodGet, fmt.Sprintf("%s?unit=%d", path, small.ID), demo.APIToken, "")
	if code != 200 || rep["suppressed"] != true || rep["reason"] != "too_few" || rep["overall"] != nil || rep["responses"] != nil {
		t.Errorf("unit of 3: %v", rep)
	}
	for _, q := range []string{"?unit=999999", "?unit=abc", "?role=astronaut", "?seniority=intern"} {
		if code, out := apiCall(t, a, http.MethodGet, path+q, demo.APIToken, ""); code != 400 || errorCode(out) == "" {
			t.Errorf("%s: %d", q, code)
		}
	}
	// One new response changes nothing, even once a release is tried: a
	// reader who compares before and after learns nothing about it.
	f := newFlow(t, a, linkPath(demo.Links[0]))
	f.get("")
	f.post("/start", nil)
	f.post("/submit", nil)
	if err := a.publishNow(t.Context(), demo.CampaignID); err != nil {
		t.Fatal(err)
	}
	_, after := apiCall(t, a, http.MethodGet, path, demo.APIToken, "")
	if after["responses"] != shown || after["release"].(map[string]any)["seq"].(float64) != 1 || fmt.Sprint(after["practices"]) != practices {
		t.Errorf("after one submit: %v responses, release %v", after["responses"], after["release"])
	}
	email, _ := otherOrgAdmin(t, a)
	other, _ := survey.CreateAPIToken(t.Context(), a.db, email, "x")
	if code, _ := apiCall(t, a, http.MethodGet, path, other, ""); code != 404 {
		t.Errorf("another organisation's report = %d", code)
	}
}

func TestAPIReportRecommendsWithMovementSinceLastWave(t *testing.T) {
	a, demo, _ := newTestApp(t)
	_, rep := apiCall(t, a, http.MethodGet, fmt.Sprintf("/api/v1/campaigns/%d/report", demo.CampaignID), demo.APIToken, "")
	recs, _ := rep["recommendations"].([]any)
	if len(recs) == 0 || len(recs) > 10 {
		t.Fatalf("%d recommendations", len(recs))
	}
	first := recs[0].(map[string]any)
	if first["subsection"] == "" || first["movement"] == nil || len(first["kinds"].([]any)) == 0 {
		t.Errorf("recommendation lacks its page, reason or movement since the previous wave: %v", first)
	}
}

// A kept report body is compressed once, and so harder than the fastest
// level compressing on every request could afford: a client that takes
// gzip gets the stored form, which reads back to the very body a client
// without gzip gets.
func TestAPIReportServesItsKeptBodyCompressedOnce(t *testing.T) {
	a, demo, _ := newTestApp(t)
	path := fmt.Sprintf("/api/v1/campaigns/%d/report", demo.CampaignID)
	auth := "Bearer " + demo.APIToken
	first := get(t, a, path, "Authorization", auth) // builds and keeps the body
	plain := body(t, first)
	if first.StatusCode != http.StatusOK || !strings.Contains(plain, `"practices"`) {
		t.Fatalf("first: %d %.200s", first.StatusCode, plain)
	}
	for _, accept := range []string{"gzip", "br;q=1.0, gzip;q=0.8", "*"} {
		r := get(t, a, path, "Authorization", auth, "Accept-Encoding", accept)
		if r.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(r.Header.Get("Vary"), "Accept-Encoding") {
			t.Fatalf("Accept-Encoding %q: Content-Encoding %q, Vary %q", accept, r.Header.Get("Content-Encoding"), r.Header.Get("Vary"))
		}
		raw, _ := io.ReadAll(r.Body)
		var fast bytes.Buffer
		zw, _ := kgzip.NewWriterLevel(&fast, kgzip.BestSpeed) // what the server compresses pages with
		_, _ = zw.Write([]byte(plain))
		_ = zw.Close()
		if len(raw) >= fast.Len() {
			t.Errorf("Accept-Encoding %q: %d bytes, no smaller than the fastest level's %d: compressed per request?", accept, len(raw), fast.Len())
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		if err != nil || string(got) != plain {
			t.Fatalf("Accept-Encoding %q: the gzip body differs from the plain one (%v)", accept, err)
		}
	}
	for _, accept := range []string{"", "identity", "gzip;q=0", "deflate"} {
		r := get(t, a, path, "Authorization", auth, "Accept-Encoding", accept)
		if ce := r.Header.Get("Content-Encoding"); ce != "" || body(t, r) != plain {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, or a body other than the first", accept, ce)
		}
	}
}
