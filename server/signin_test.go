package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"tiltline/survey"
)

// browserTarget is where a browser goes when it follows a Location header
// on http://test/: as the URL standard reads it, tabs and line breaks are
// dropped, leading and trailing C0 controls and spaces trimmed, "\" is
// "/" in an http URL, and any run of two or more slashes starts a host. A test that only asked url.Parse would miss what the
// browser does.
func browserTarget(t *testing.T, loc string) *url.URL {
	t.Helper()
	loc = strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\r':
			return -1
		case '\\':
			return '/'
		}
		return r
	}, loc)
	loc = strings.TrimFunc(loc, func(r rune) bool { return r <= ' ' })
	if strings.HasPrefix(loc, "//") { // any run of slashes starts a host
		loc = "//" + strings.TrimLeft(loc, "/")
	}
	base, _ := url.Parse("http://test/login")
	ref, err := url.Parse(loc)
	if err != nil {
		return &url.URL{Host: "unparsable"}
	}
	return base.ResolveReference(ref)
}

// offSiteNexts are next= values that lead off the site, or would once
// decoded again or normalised by a browser.
var offSiteNexts = []string{
	"//evil.example", "///evil.example", "////evil.example", "//evil.example/%2e%2e",
	"/\\evil.example", "\\\\evil.example", "/\\/evil.example", "\\/evil.example",
	"/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "/\r/evil.example", "\t//evil.example",
	"/%09/evil.example", "/%0a/evil.example", "/%0d%0a/evil.example", "/%0D/evil.example",
	"/%5Cevil.example", "/%5c%5cevil.example", "/%2F/evil.example", "/%2f%2fevil.example",
	"/%2509/evil.example", "/%255C/evil.example",
	"/\x00/evil.example", "/%00/evil.example", "/\x7f/evil.example", "/\u0085/evil.example",
	"https://evil.example", "http:evil.example", "http:/evil.example", "javascript:alert(1)",
	"//user@evil.example", "evil.example", "",
}

// TestNextStaysOnTheSite: a next= parameter that a browser would follow to
// another site, raw or after its own normalisation (tabs and line breaks
// dropped, "\" read as "/") or after a second decoding, is not followed:
// not by /login for a signed-in user, not by the sign-in form for a
// signed-out one (the page does not carry it on, and the form's POST
// ignores it). Paths of the site still pass everywhere.
func TestNextStaysOnTheSite(t *testing.T) {
	a, demo := newFuzzApp(t, nil)
	serve := func(req *http.Request) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		a.Handler().ServeHTTP(rec, req)
		return rec
	}
	login := func(next string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{
			"email": {demo.AdminEmail}, "password": {demo.AdminPassword}, "next": {next}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return serve(req)
	}
	rec := login("")
	var cookie *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == sessionName {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatalf("sign-in: %d", rec.Code)
	}
	nextField := regexp.MustCompile(`name="next" value="([^"]*)"`)

	// The browser model agrees that these lead away: the checks below
	// test what they mean to.
	for _, v := range []string{"/\t/evil.example", "/\\evil.example", "\\\\evil.example", "///evil.example"} {
		if h := browserTarget(t, v).Host; h != "evil.example" {
			t.Errorf("browser model: %q goes to %q, want evil.example", v, h)
		}
	}

	check := func(next, want string) {
		t.Helper()
		q := "/login?" + url.Values{"next": {next}}.Encode()
		// Signed in: /login sends the user on at once.
		req := httptest.NewRequest(http.MethodGet, q, nil)
		req.AddCookie(cookie)
		rec := serve(req)
		loc := rec.Header().Get("Location")
		if rec.Code != http.StatusSeeOther || loc != want || browserTarget(t, loc).Host != "test" {
			t.Errorf("signed in, GET /login?next=%q = %d to %q, want %q", next, rec.Code, loc, want)
		}
		// Signed out: the form carries next on only if it is the site's.
		rec = serve(httptest.NewRequest(http.MethodGet, q, nil))
		m := nextField.FindStringSubmatch(rec.Body.String())
		carried := ""
		if m != nil {
			carried = m[1]
		}
		if wantCarried := strings.TrimPrefix(want, "/admin"); want == "/admin" && carried != "" || want != "/admin" && carried == "" {
			t.Errorf("signed out, GET /login?next=%q: the form carries next %q (want %q)", next, carried, wantCarried)
		}
		// Signed out, posting the form with it.
		rec = login(next)
		loc = rec.Header().Get("Location")
		if rec.Code != http.StatusSeeOther || loc != want || browserTarget(t, loc).Host != "test" {
			t.Errorf("POST /login with next=%q = %d to %q, want %q", next, rec.Code, loc, want)
		}
	}
	for _, next := range offSiteNexts {
		check(next, "/admin") // the admin's own start page
	}
	// The controls: the site's own paths pass, query and all.
	for _, next := range []string{"/admin/users", "/results/7?unit=3&lang=de", "/learn/search?q=voice%20of%20customer", "/learn/winback#reading"} {
		check(next, next)
	}

	// A page that sends a signed-out visitor to sign in passes its own
	// path, escaped, and the round trip lands back on it.
	rec = serve(httptest.NewRequest(http.MethodGet, "/admin/users?x=1&next=//evil.example", nil))
	loc := rec.Header().Get("Location")
	if rec.Code != http.StatusSeeOther || loc != "/login?next="+url.QueryEscape("/admin/users?x=1&next=//evil.example") {
		t.Fatalf("signed out, GET /admin/users = %d to %q", rec.Code, loc)
	}
	u, _ := url.Parse(loc)
	if rec := login(u.Query().Get("next")); rec.Header().Get("Location") != "/admin/users?x=1&next=//evil.example" {
		t.Errorf("after signing in: to %q", rec.Header().Get("Location"))
	}
	a.cfg.PublicPortal = false
	rec = serve(httptest.NewRequest(http.MethodGet, "/learn/search?q=a&next=//evil.example", nil))
	if loc := rec.Header().Get("Location"); loc != "/login?next="+url.QueryEscape("/learn/search?q=a&next=//evil.example") {
		t.Errorf("closed portal: GET /learn/search sends to %q", loc)
	}
}

// FuzzLocalPath: whatever next= holds, a path localPath lets through stays
// on the site when a browser follows it.
func FuzzLocalPath(f *testing.F) {
	for _, s := range offSiteNexts {
		f.Add(s)
	}
	f.Add("/results/1?x=%2F%2F")
	f.Fuzz(func(t *testing.T, next string) {
		if localPath(next) {
			if u := browserTarget(t, next); u.Host != "test" || u.Scheme != "http" {
				t.Errorf("localPath(%q) passed, a browser goes to %s", next, u)
			}
		}
	})
}

// resign signs a session cookie's content again, with the server's own key,
// as if the codec had written it at the Unix time ts (securecookie's format:
// base64 of "time|value|mac", the MAC over "name|time|value").
func resign(t *testing.T, secret []byte, cookie string, ts int64) string {
	t.Helper()
	raw, err := base64.URLEncoding.DecodeString(cookie)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.SplitN(string(raw), "|", 3)
	if len(parts) != 3 {
		t.Fatalf("session cookie has %d parts", len(parts))
	}
	signed := fmt.Sprintf("%s|%d|%s", sessionName, ts, parts[1])
	m := hmac.New(sha256.New, sessionKey(secret, "session-auth"))
	m.Write([]byte(signed))
	return base64.URLEncoding.EncodeToString(append([]byte(fmt.Sprintf("%d|%s|", ts, parts[1])), m.Sum(nil)...))
}

// TestSessionLifetime: a session lasts 12 hours from signing in. A cookie
// whose signature is older (re-signed with the server's key and an old
// time, as a cookie kept past its Max-Age would be) is refused, and so is a
// freshly signed session whose sign-in is older; younger ones still work.
func TestSessionLifetime(t *testing.T) {
	a, demo := newFuzzApp(t, nil)
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{"email": {demo.AdminEmail}, "password": {demo.AdminPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, req)
	var cookie *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == sessionName {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatalf("sign-in: %d", rec.Code)
	}
	if cookie.MaxAge != 12*3600 {
		t.Errorf("cookie Max-Age = %d, want %d", cookie.MaxAge, 12*3600)
	}
	signedIn := func(value string) bool {
		req := httptest.NewRequest(http.MethodGet, "/admin", nil)
		req.AddCookie(&http.Cookie{Name: sessionName, Value: value})
		rec := httptest.NewRecorder()
		a.Handler().ServeHTTP(rec, req)
		return rec.Code == http.StatusOK
	}
	now := time.Now()
	for _, c := range []struct {
		age  time.Duration
		want bool
	}{
		{time.Minute, true}, // the control: re-signing itself works
		{11 * time.Hour, true},
		{12*time.Hour + time.Minute, false},
		{20 * 24 * time.Hour, false}, // inside gorilla's default 30 days
		{29 * 24 * time.Hour, false},
	} {
		if got := signedIn(resign(t, a.cfg.Secret, cookie.Value, now.Add(-c.age).Unix())); got != c.want {
			t.Errorf("cookie signed %v ago: signed in %v, want %v", c.age, got, c.want)
		}
	}

	// Re-signing (a platform admin picking an organisation saves the
	// session again) does not extend it: the sign-in time inside counts.
	u, _ := survey.UserByEmail(t.Context(), a.db, demo.AdminEmail)
	for _, c := range []struct {
		age  time.Duration
		want bool
	}{{time.Hour, true}, {12*time.Hour + time.Minute, false}, {3 * 24 * time.Hour, false}} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		w := httptest.NewRecorder()
		s, _ := a.sessions.New(r, sessionName)
		s.Values["uid"], s.Values["epoch"], s.Values["csrf"] = u.ID, u.SessionEpoch, randomToken()
		s.Values["at"] = now.Add(-c.age).Unix()
		if err := s.Save(r, w); err != nil {
			t.Fatal(err)
		}
		if got := signedIn(w.Result().Cookies()[0].Value); got != c.want {
			t.Errorf("session signed in %v ago, cookie fresh: signed in %v, want %v", c.age, got, c.want)
		}
	}
}

// TestSessionCurrent: the sign-in time is checked at both ends.
func TestSessionCurrent(t *testing.T) {
	now := time.Now()
	for at, want := range map[int64]bool{
		0: false, now.Unix(): true, now.Add(-11 * time.Hour).Unix(): true,
		now.Add(-12 * time.Hour).Unix(): false, now.Add(time.Hour).Unix(): false,
	} {
		if got := sessionCurrent(at, now); got != want {
			t.Errorf("sessionCurrent(%s) = %v", strconv.FormatInt(at-now.Unix(), 10)+"s", got)
		}
	}
}
