package server

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"
	"time"

	"tiltline/survey"
)

// cloneSession gives a second client the same cookies, as a copied or
// stolen session cookie would.
func cloneSession(t *testing.T, f *flowClient) *flowClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(f.srv.URL)
	jar.SetCookies(u, f.http.Jar.Cookies(u))
	return &flowClient{t: t, srv: f.srv, http: &http.Client{Jar: jar, CheckRedirect: f.http.CheckRedirect}}
}

func TestSignOutEndsEveryCopyOfTheSession(t *testing.T) {
	a, demo, _ := newTestApp(t)
	f := managerFlow(t, a, demo)
	copied := cloneSession(t, f)
	if code, _ := copied.get("/results"); code != http.StatusOK {
		t.Fatalf("the copied session before sign-out = %d", code)
	}
	f.get("/results") // the page's CSRF token for the sign-out form
	if code, _ := f.post("/logout", nil); code != http.StatusSeeOther {
		t.Fatalf("sign out = %d", code)
	}
	if code, body, _ := copied.do(http.MethodGet, "/results", "", ""); code != http.StatusSeeOther {
		t.Errorf("a copy of the signed-out session still reads results: %d %.80s", code, body)
	}
	// Signing in again works, with a new session.
	g := managerFlow(t, a, demo)
	if code, _ := g.get("/results"); code != http.StatusOK {
		t.Errorf("signed in again = %d", code)
	}
}

func TestNewPasswordEndsOtherSessions(t *testing.T) {
	a, demo, _ := newTestApp(t)
	f := managerFlow(t, a, demo)
	var u survey.User
	a.db.Read.Where("email = ?", demo.ManagerEmail).First(&u)
	token, err := survey.NewPasswordToken(t.Context(), a.db, u.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := survey.UsePasswordToken(t.Context(), a.db, token, "a-new-long-password-42"); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := f.do(http.MethodGet, "/results", "", ""); code != http.StatusSeeOther {
		t.Errorf("a session from before the new password = %d, want the sign-in redirect", code)
	}
}
