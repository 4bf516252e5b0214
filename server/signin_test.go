package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"tiltline/survey"
)

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
