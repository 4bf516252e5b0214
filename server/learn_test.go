package server

import (
	"net/http"
	"strings"
	"testing"

	"tiltline/survey"
)

func TestEveryPortalPageRendersInEveryLanguage(t *testing.T) {
	a, _, _ := newTestApp(t)
	m := a.models.Latest()
	for _, l := range survey.Locales {
		for _, sub := range m.Subsections() {
			r := get(t, a, "/learn/"+sub.Slug+"?lang="+l)
			b := body(t, r)
			if r.StatusCode != 200 || !strings.Contains(b, `<html lang="`+l+`"`) || !strings.Contains(b, "<h1>"+htmlEscape(sub.Title.In(l))+"</h1>") {
				t.Errorf("%s/%s: %d", l, sub.Slug, r.StatusCode)
			}
			for _, p := range sub.Practices {
				if !strings.Contains(b, `id="`+p.ID+`"`) {
					t.Errorf("%s/%s lacks the anchor %s that survey questions link to", l, sub.Slug, p.ID)
				}
			}
		}
		if r := get(t, a, "/learn?lang="+l); r.StatusCode != 200 {
			t.Errorf("index %s: %d", l, r.StatusCode)
		}
	}
	if r := get(t, a, "/learn/no-such-topic?lang=de"); r.StatusCode != 404 || !strings.Contains(body(t, r), "Seite nicht gefunden") {
		t.Errorf("unknown slug: %d", r.StatusCode)
	}
}

func TestPortalPagesAreCacheable(t *testing.T) {
	a, _, _ := newTestApp(t)
	r := get(t, a, "/learn/winback?lang=en")
	etag := r.Header.Get("ETag")
	if etag == "" || !strings.Contains(r.Header.Get("Cache-Control"), "public") {
		t.Fatalf("headers %v", r.Header)
	}
	if r := get(t, a, "/learn/winback?lang=en", "If-None-Match", etag); r.StatusCode != http.StatusNotModified {
		t.Errorf("conditional get = %d", r.StatusCode)
	}
	if r := get(t, a, "/learn/winback?lang=de", "If-None-Match", etag); r.StatusCode != 200 {
		t.Errorf("another language must not match the English ETag: %d", r.StatusCode)
	}
}

func TestPrivatePortalNeedsSignIn(t *testing.T) {
	a, _, _ := newTestApp(t)
	a.cfg.PublicPortal = false
	if r := get(t, a, "/learn/winback"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("private portal without sign-in = %d", r.StatusCode)
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}

func TestPortalSearchPage(t *testing.T) {
	a, _, _ := newTestApp(t)
	b := body(t, get(t, a, "/learn/search?q=Rückgewinnung&lang=de"))
	if !strings.Contains(b, `href="/learn/winback"`) || !strings.Contains(b, "<mark>") {
		t.Error("German search does not find the winback page with a highlight")
	}
	for _, q := range []string{"%3Cscript%3Ealert(1)%3C%2Fscript%3E", "%22*%29+OR", strings.Repeat("x", 500)} {
		r := get(t, a, "/learn/search?q="+q)
		if b := body(t, r); r.StatusCode != 200 || strings.Contains(b, "<script>alert") {
			t.Errorf("%q: %d", q, r.StatusCode)
		}
	}
}
