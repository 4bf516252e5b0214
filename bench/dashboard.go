package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
)

// dashboard is P4's second row: the manager's results page, which adds the
// benchmark, heatmaps, the practice table and the trend to the report, all
// rendered on the server. The manager signs in once; every worker then sends
// that session's cookie.
func (g *generator) dashboard(ctx context.Context, responses int) (scenario, error) {
	cookie, err := g.signIn(ctx, g.srv.managerEmail, g.srv.managerPassword)
	if err != nil {
		return scenario{}, err
	}
	u := fmt.Sprintf("%s/results/%d", g.srv.base, g.srv.campaignID)
	header := map[string]string{"Cookie": cookie}
	return scenario{name: fmt.Sprintf("P4 dashboard %dk", responses/1000), unit: "req", iter: func(ctx context.Context, w *worker) error {
		_, err := w.call(ctx, "GET /results/:id", http.MethodGet, u, "", nil, header, http.StatusOK, false)
		return err
	}}, nil
}

// signIn posts the login form as a browser does and returns the session's
// cookies as one Cookie header value.
func (g *generator) signIn(ctx context.Context, email, password string) (string, error) {
	if email == "" || password == "" {
		return "", errors.New("sign in: the demo printed no manager login")
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Transport: g.client.Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// The sign-in form is guarded by its origin (there is no session yet).
	form := url.Values{"email": {email}, "password": {password}}
	post, err := http.NewRequestWithContext(ctx, http.MethodPost, g.srv.base+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	post.Header.Set("Origin", g.srv.base)
	res, err := c.Do(post)
	if err != nil {
		return "", fmt.Errorf("POST /login: %w", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		return "", fmt.Errorf("POST /login: status %d, want 303", res.StatusCode)
	}
	base, _ := url.Parse(g.srv.base)
	var parts []string
	for _, ck := range jar.Cookies(base) {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	return strings.Join(parts, "; "), nil
}
