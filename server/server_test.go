package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

// newTestApp builds the real App on a fresh SQLite file with a small demo,
// and returns it with its log output and the demo's printed data.
func newTestApp(t *testing.T) (*App, *survey.DemoResult, *bytes.Buffer) {
	t.Helper()
	return newTestAppWith(t, func(*Config) {})
}

// newTestAppWith is newTestApp with settings changed first.
func newTestAppWith(t *testing.T, set func(*Config)) (*App, *survey.DemoResult, *bytes.Buffer) {
	t.Helper()
	logs := &bytes.Buffer{}
	cfg := &Config{DB: surveytest.SQLiteURL(t), DataDir: t.TempDir(), Addr: ":0", BaseURL: "http://test", KMin: 5, PublicPortal: true,
		Secret: []byte("test-secret-test-secret-test-secret!")}
	set(cfg)
	a, err := New(context.Background(), cfg, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	demo, err := survey.CreateDemo(context.Background(), a.db, a.models.Latest(), survey.DemoOptions{
		Responses: 20, Links: 2, BaseURL: cfg.BaseURL, Secret: cfg.Secret})
	if err != nil {
		t.Fatal(err)
	}
	return a, demo, logs
}

func get(t *testing.T, a *App, target string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEveryMessageExistsInEveryLocale(t *testing.T) {
	en, err := messageIDs("en")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range survey.Locales[1:] {
		other, err := messageIDs(l)
		if err != nil {
			t.Fatal(err)
		}
		for id := range en {
			if other[id] == "" {
				t.Errorf("%s.yaml misses %q", l, id)
			}
		}
		for id := range other {
			if _, ok := en[id]; !ok {
				t.Errorf("%s.yaml has %q, which en.yaml does not", l, id)
			}
		}
	}
}

// Every message id used in a template must exist, or a page shows a raw key.
func TestTemplatesUseOnlyKnownMessages(t *testing.T) {
	en, _ := messageIDs("en")
	used := regexp.MustCompile(`\.T "([a-z_.]+)"`)
	files, _ := templateFS.ReadDir("templates")
	for _, f := range files {
		b, _ := templateFS.ReadFile("templates/" + f.Name())
		for _, m := range used.FindAllStringSubmatch(string(b), -1) {
			if _, ok := en[m[1]]; !ok {
				t.Errorf("%s uses unknown message %q", f.Name(), m[1])
			}
		}
	}
}

func TestSurveyLinkNegotiatesLanguage(t *testing.T) {
	a, demo, _ := newTestApp(t)
	link := strings.TrimPrefix(demo.Links[0], "http://test") + "/p/1"
	cases := []struct {
		name, target, accept, wantLang, wantText string
	}{
		{"German browser", link, "de-CH,de;q=0.9,en;q=0.5", "de", "Bereich 1 von 13"},
		{"French browser", link, "fr-FR", "fr", "Domaine 1 sur 13"},
		{"query beats browser", link + "?lang=en", "de", "en", "Section 1 of 13"},
		{"unknown lang falls back to English", link + "?lang=xx", "", "en", "Section 1 of 13"},
		{"unsupported browser language falls back to English", link, "ja", "en", "Section 1 of 13"},
		{"garbage Accept-Language falls back to English", link, "%%%;q=abc", "en", "Section 1 of 13"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := get(t, a, tc.target, "Accept-Language", tc.accept)
			b := body(t, r)
			if r.StatusCode != 200 || !strings.Contains(b, `<html lang="`+tc.wantLang+`"`) || !strings.Contains(b, tc.wantText) {
				t.Errorf("status %d, lang/text missing: want %s %q", r.StatusCode, tc.wantLang, tc.wantText)
			}
			if n := strings.Count(b, `type="radio"`); n != 12*len(a.models.Latest().Sections[0].Practices()) {
				t.Errorf("%d radios, want 6 per dimension per practice", n)
			}
		})
	}
}

func TestLanguageChoiceSticksInACookie(t *testing.T) {
	a, _, _ := newTestApp(t)
	r := get(t, a, "/?lang=de")
	var cookie *http.Cookie
	for _, c := range r.Cookies() {
		if c.Name == langCookie {
			cookie = c
		}
	}
	if cookie == nil || cookie.Value != "de" || !cookie.HttpOnly {
		t.Fatalf("lang cookie = %+v", cookie)
	}
	r = get(t, a, "/", "Cookie", "lang=de", "Accept-Language", "fr")
	if b := body(t, r); !strings.Contains(b, `<html lang="de"`) {
		t.Error("cookie should beat Accept-Language")
	}
}

func TestBadLinksGetALocalizedNotFoundPage(t *testing.T) {
	a, _, logs := newTestApp(t)
	for _, target := range []string{
		"/s/short",
		"/s/" + strings.Repeat("A", 43),         // well formed, unknown
		"/s/" + strings.Repeat("A", 42) + "%2F", // encoded slash
		"/s/..%2F..%2Fetc%2Fpasswd",             // traversal
		"/nowhere",
	} {
		r := get(t, a, target, "Accept-Language", "de")
		b := body(t, r)
		if r.StatusCode != http.StatusNotFound || !strings.Contains(b, "Seite nicht gefunden") {
			t.Errorf("%s: status %d", target, r.StatusCode)
		}
	}
	if strings.Contains(logs.String(), strings.Repeat("A", 43)) {
		t.Error("a token reached the log")
	}
}

func TestLogsCarryRouteNotToken(t *testing.T) {
	a, demo, logs := newTestApp(t)
	link := strings.TrimPrefix(demo.Links[0], "http://test")
	if r := get(t, a, link); r.StatusCode != 200 {
		t.Fatal(r.StatusCode)
	}
	token := strings.TrimPrefix(link, "/s/")
	if strings.Contains(logs.String(), token) {
		t.Error("token in log")
	}
	if !strings.Contains(logs.String(), `"route":"/s/:token"`) {
		t.Errorf("route pattern not logged: %s", logs.String())
	}
}

func TestSubmittedAndClosedLinksSayWhy(t *testing.T) {
	a, demo, _ := newTestApp(t)
	link := strings.TrimPrefix(demo.Links[0], "http://test")
	inv, c, err := survey.FindInvitation(context.Background(), a.db, strings.TrimPrefix(link, "/s/"))
	if err != nil {
		t.Fatal(err)
	}
	a.db.Write.Model(inv).Update("status", survey.InviteCompleted)
	if b := body(t, get(t, a, link+"?lang=en")); !strings.Contains(b, "Already submitted") || strings.Contains(b, `type="radio"`) {
		t.Error("a completed link must show only the thank-you notice")
	}
	other := strings.TrimPrefix(demo.Links[1], "http://test")
	a.db.Write.Model(c).Update("status", survey.StatusClosed)
	if b := body(t, get(t, a, other+"?lang=en")); !strings.Contains(b, "This survey is closed") || !strings.Contains(b, demo.AdminEmail) {
		t.Error("a closed campaign must say so and name the contact")
	}
}

func TestOperationsEndpoints(t *testing.T) {
	a, _, _ := newTestApp(t)
	if r := get(t, a, "/healthz"); r.StatusCode != 200 {
		t.Errorf("healthz %d", r.StatusCode)
	}
	if r := get(t, a, "/readyz"); r.StatusCode != 200 || !strings.Contains(body(t, r), `"status":"ok"`) {
		t.Errorf("readyz %d", r.StatusCode)
	}
	get(t, a, "/")
	a.cfg.MetricsToken = "operations-metrics-token" // without one /metrics is closed (TestMetricsNeedATokenOrTheirOwnAddress)
	if b := body(t, get(t, a, "/metrics", "Authorization", "Bearer "+a.cfg.MetricsToken)); !strings.Contains(b, `tiltline_http_requests_total{code="200",method="GET",route="/"}`) {
		t.Error("metrics miss the request counter")
	}
	a.db.Close()
	if r := get(t, a, "/readyz"); r.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("readyz with the database gone = %d, want 503", r.StatusCode)
	}
}

func TestStaticFilesAreFingerprintedAndCachedForever(t *testing.T) {
	a, _, _ := newTestApp(t)
	b := body(t, get(t, a, "/"))
	href := regexp.MustCompile(`/static/app\.[0-9a-f]{10}\.css`).FindString(b)
	if href == "" {
		t.Fatal("page does not link the fingerprinted stylesheet")
	}
	r := get(t, a, href)
	if r.StatusCode != 200 || !strings.Contains(r.Header.Get("Cache-Control"), "immutable") || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/css") {
		t.Errorf("asset %d %v", r.StatusCode, r.Header)
	}
	if r := get(t, a, href, "If-None-Match", r.Header.Get("ETag")); r.StatusCode != http.StatusNotModified {
		t.Errorf("conditional get = %d", r.StatusCode)
	}
	if r := get(t, a, "/static/app.css"); r.StatusCode != 404 {
		t.Errorf("unhashed name = %d, want 404", r.StatusCode)
	}
}

func TestSecurityHeadersAndGzip(t *testing.T) {
	a, _, _ := newTestApp(t)
	r := get(t, a, "/", "Accept-Encoding", "gzip")
	for h, want := range map[string]string{
		"Referrer-Policy":         "no-referrer",
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "script-src 'self'",
		"Content-Encoding":        "gzip",
		"X-Request-Id":            "",
	} {
		if got := r.Header.Get(h); got == "" || !strings.Contains(got, want) {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
}

func TestPanicsBecomeAFriendly500(t *testing.T) {
	a, _, logs := newTestApp(t)
	a.echo.GET("/boom", func(echo.Context) error { panic("kaboom") })
	r := get(t, a, "/boom", "Accept-Language", "fr")
	b := body(t, r)
	if r.StatusCode != 500 || !strings.Contains(b, "de notre côté") || strings.Contains(b, "kaboom") {
		t.Errorf("status %d, page leaks or is not localized", r.StatusCode)
	}
	if !strings.Contains(logs.String(), "kaboom") {
		t.Error("panic not logged")
	}
}

func TestOversizedBodiesAreRefused(t *testing.T) {
	a, _, _ := newTestApp(t)
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(make([]byte, 2<<20)))
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("2 MiB body = %d, want 413", rec.Code)
	}
}
