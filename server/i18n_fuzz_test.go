package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"golang.org/x/text/language"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

// newFuzzApp is newTestApp for fuzz targets (and any testing.TB): the real
// App on a fresh SQLite file with the demo organisation, logs discarded
// unless a writer is given.
func newFuzzApp(tb testing.TB, logs io.Writer) (*App, *survey.DemoResult) {
	tb.Helper()
	if logs == nil {
		logs = io.Discard
	}
	cfg := &Config{DB: surveytest.SQLiteURL(tb), DataDir: tb.TempDir(), Addr: ":0", BaseURL: "http://test", KMin: 5, PublicPortal: true,
		Secret: []byte("test-secret-test-secret-test-secret!")}
	a, err := New(context.Background(), cfg, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.Close() })
	demo, err := survey.CreateDemo(context.Background(), a.db, a.models.Latest(), survey.DemoOptions{
		Responses: 20, Links: 2, BaseURL: cfg.BaseURL, Secret: cfg.Secret})
	if err != nil {
		tb.Fatal(err)
	}
	return a, demo
}

// FuzzNegotiateLocale: whatever ?lang=, lang cookie and Accept-Language a
// request carries, the page language is one Tiltline speaks; a supported
// ?lang= wins and is remembered in an HttpOnly, SameSite cookie, an
// unsupported one sets no cookie; a supported cookie beats the browser; and
// the browser's header alone decides the same way every time.
func FuzzNegotiateLocale(f *testing.F) {
	for _, s := range [][3]string{
		{"de", "", ""}, {"", "fr", "de"}, {"", "", "de-CH,de;q=0.9,en;q=0.5"}, {"xx", "xx", "ja"},
		{"", "", "%%%;q=abc"}, {"DE", "Fr", "FR-fr"}, {"de\x00", "de;", "*"}, {"", "", "fr;q=0,de;q=0.1"},
		{"en-US", "", strings.Repeat("de-DE-x-", 50)}, {"", "", "zh-Hant-TW;q=0.8, fr-CA;q=0.9"},
		{"", "", "i-klingon, x-pig-latin"}, {"", "", "de;q=1.0000001"}, {"", "", ",,,;;;q=,"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	tr, err := newTranslator()
	if err != nil {
		f.Fatal(err)
	}
	a := &App{i18n: tr, cfg: &Config{BaseURL: "http://test"}}
	e := echo.New()
	var got string
	h := a.negotiateLocale(func(c echo.Context) error { got = localeOf(c); return nil })
	f.Fuzz(func(t *testing.T, lang, cookie, accept string) {
		req := httptest.NewRequest(http.MethodGet, "/learn", nil)
		req.URL.RawQuery = url.Values{"lang": {lang}}.Encode()
		req.Header.Set("Accept-Language", accept)
		req.Header.Set("Cookie", langCookie+"="+cookie)
		rec := httptest.NewRecorder()
		got = ""
		if err := h(e.NewContext(req, rec)); err != nil {
			t.Fatalf("error %v", err)
		}
		if !slices.Contains(survey.Locales, got) {
			t.Fatalf("language %q", got)
		}
		var set *http.Cookie
		for _, c := range rec.Result().Cookies() {
			if c.Name == langCookie {
				set = c
			}
		}
		ck, ckErr := req.Cookie(langCookie)
		switch {
		case slices.Contains(survey.Locales, lang):
			if got != lang {
				t.Fatalf("?lang=%s gave %s", lang, got)
			}
			if set == nil || set.Value != lang || !set.HttpOnly || set.SameSite != http.SameSiteLaxMode || set.Path != "/" {
				t.Fatalf("?lang=%s remembered as %+v", lang, set)
			}
		case set != nil:
			t.Fatalf("unsupported ?lang=%q set cookie %+v", lang, set)
		case ckErr == nil && slices.Contains(survey.Locales, ck.Value):
			if got != ck.Value {
				t.Fatalf("cookie %s gave %s", ck.Value, got)
			}
		default:
			if want := tr.match(accept); got != want {
				t.Fatalf("Accept-Language %q gave %s, match says %s", accept, got, want)
			}
			// A supported language alone, or first in a well-formed list
			// without weights, wins.
			for _, l := range survey.Locales {
				if accept == l || strings.HasPrefix(accept, l+",") && !strings.Contains(accept, ";") && wellFormedAccept(accept) {
					if got != l {
						t.Fatalf("Accept-Language %q gave %s", accept, got)
					}
				}
			}
		}
	})
}

// wellFormedAccept is true when the whole header parses.
func wellFormedAccept(s string) bool {
	_, _, err := language.ParseAcceptLanguage(s)
	return err == nil
}
