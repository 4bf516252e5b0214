package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/gorilla/sessions"
	"github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"tiltline/survey"
)

// Sessions are signed and encrypted cookies (gorilla/sessions) keyed from the
// secret: no session table, and a new secret signs everybody out.
const sessionName = "tl_session"

// sessionLength is how long a sign-in lasts: 12 hours from signing in,
// absolute; using the site does not extend it. Three limits hold it: the
// cookie's Max-Age (the browser drops it), the codec's max age (the server
// refuses a cookie signed longer ago, whatever the browser kept), and the
// sign-in time inside the session (a cookie re-signed later, when a platform
// admin picks an organisation, still ends 12 hours after signing in).
const sessionLength = 12 * time.Hour

// sessionKey derives one of the session codec's keys from the secret.
func sessionKey(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

func newSessionStore(secret []byte, secure bool) *sessions.CookieStore {
	st := sessions.NewCookieStore(sessionKey(secret, "session-auth"), sessionKey(secret, "session-enc"))
	st.Options = &sessions.Options{Path: "/", HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode}
	// MaxAge sets the cookie's Max-Age and the codecs' limit together:
	// replacing Options alone left the codecs at gorilla's 30 days.
	st.MaxAge(int(sessionLength / time.Second))
	return st
}

// sessionCurrent says whether a session signed in at the Unix time at is
// still within its length.
func sessionCurrent(at int64, now time.Time) bool {
	signedIn := time.Unix(at, 0)
	return at > 0 && !signedIn.After(now.Add(time.Minute)) && now.Sub(signedIn) < sessionLength
}

// secureCookies says whether cookies must be Secure: the installation is
// served over https (its base URL says so, as for the session cookie), or
// this request came over TLS. A proxy that ends TLS may not say so.
func (a *App) secureCookies(c echo.Context) bool {
	return strings.HasPrefix(a.cfg.BaseURL, "https://") || c.Scheme() == "https"
}

const userKey = "user"

// viewer is the signed-in person as handlers and templates see them.
type viewer struct {
	*survey.User
	CSRF  string
	OrgID int64 // the organisation being managed: the user's own, or the one a platform admin picked
}

func (v *viewer) Is(roles ...string) bool { return v != nil && slices.Contains(roles, v.Role) }

// CanRead is true for people who may read their organisation's results.
func (v *viewer) CanRead() bool {
	return v.Is(survey.RolePlatformAdmin, survey.RoleOrgAdmin, survey.RoleManager)
}

// CanAdmin is true for people who manage an organisation's set-up.
func (v *viewer) CanAdmin() bool { return v.Is(survey.RolePlatformAdmin, survey.RoleOrgAdmin) }

func viewerOf(c echo.Context) *viewer {
	v, _ := c.Get(userKey).(*viewer)
	return v
}

// loadViewer reads the session, if any; it never rejects a request.
func (a *App) loadViewer(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Before(func() { privateAnswer(c) })
		s, _ := a.sessions.Get(c.Request(), sessionName)
		at, _ := s.Values["at"].(int64)
		if id, ok := s.Values["uid"].(int64); ok && sessionCurrent(at, time.Now()) {
			epoch, _ := s.Values["epoch"].(int)
			// A session from before the user signed out or changed the
			// password (an older epoch) counts as no session.
			u, err := survey.UserByID(c.Request().Context(), a.db, id)
			if err != nil && !errors.Is(err, survey.ErrNotFound) {
				// The database failed, not the session: the error page
				// (503 while storage is unavailable), never the sign-in
				// form, which would say the session had ended.
				return err
			}
			if err == nil && epoch == u.SessionEpoch {
				v := &viewer{User: u, CSRF: s.Values["csrf"].(string)}
				if u.OrganisationID != nil {
					v.OrgID = *u.OrganisationID
				} else if org, ok := s.Values["org"].(int64); ok && u.Role == survey.RolePlatformAdmin {
					v.OrgID = org
				}
				c.Set(userKey, v)
			}
		}
		return next(c)
	}
}

// privateAnswer keeps whatever answers a signed-in user, or an API token,
// out of every cache, shared or the browser's: results, reports and admin
// pages are theirs alone. It runs as the header is written, so it holds
// whatever a handler set. Static assets are the same for everyone and stay
// cacheable; visitors' portal pages keep their own caching.
func privateAnswer(c echo.Context) {
	if c.Path() == "/static/:file" {
		return
	}
	if viewerOf(c) != nil || strings.HasPrefix(c.Request().URL.Path, "/api/") {
		c.Response().Header().Set("Cache-Control", "private, no-store")
	}
}

// csrfSent is the CSRF token a request carries: from the form body or the
// X-CSRF-Token header only. A token in the query string would be written to
// proxy logs and browser history and sent on in links; it is not read.
func csrfSent(c echo.Context) string {
	if t := c.Request().PostFormValue("csrf"); t != "" {
		return t
	}
	return c.Request().Header.Get("X-CSRF-Token")
}

// requireRole admits signed-in users of the given roles; others go to the
// sign-in page (pages) or get 401/403 (forms).
func (a *App) requireRole(roles ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			v := viewerOf(c)
			if v == nil {
				if c.Request().Method == http.MethodGet {
					return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request().URL.RequestURI()))
				}
				return echo.ErrUnauthorized
			}
			if !v.Is(roles...) {
				return echo.ErrNotFound // do not confirm that the page exists
			}
			if c.Request().Method != http.MethodGet && c.Request().Method != http.MethodHead {
				if !sameOrigin(c) || !hmac.Equal([]byte(csrfSent(c)), []byte(v.CSRF)) {
					return echo.NewHTTPError(http.StatusForbidden, "form expired")
				}
			}
			return next(c)
		}
	}
}

// requireOrg admits only viewers who manage an organisation right now.
func requireOrg(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if v := viewerOf(c); v == nil || v.OrgID == 0 {
			return c.Redirect(http.StatusSeeOther, "/admin/orgs")
		}
		return next(c)
	}
}

// readerUnits is what limits a results reader: limited is false for
// everyone who reads the whole organisation (admins, and managers given
// it); a limited manager reads only units, of which none may exist any more.
// It is read once per request.
func (a *App) readerUnits(c echo.Context) (units []int64, limited bool, err error) {
	v := viewerOf(c)
	if v == nil || !v.Is(survey.RoleManager) || v.AllUnits {
		return nil, false, nil
	}
	const memo = "reader-units"
	if ids, ok := c.Get(memo).([]int64); ok {
		return ids, true, nil
	}
	ids, err := survey.ManagerUnits(c.Request().Context(), a.db, v.ID)
	if err != nil {
		return nil, true, err
	}
	c.Set(memo, ids)
	return ids, true, nil
}

// requireUnits refuses results, exports and API reads to a manager limited
// to units of which none exist any more: they see nothing, not even the
// list of campaigns, and are told to ask their organisation's admin.
func (a *App) requireUnits(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, err := a.unitLimit(c); err != nil {
			return err
		}
		return next(c)
	}
}

func (a *App) signIn(c echo.Context, u *survey.User) error {
	s, _ := a.sessions.New(c.Request(), sessionName) // always a fresh session: no fixation
	s.Values["uid"] = u.ID
	s.Values["epoch"] = u.SessionEpoch
	s.Values["csrf"] = randomToken()
	s.Values["at"] = time.Now().Unix()
	return s.Save(c.Request(), c.Response())
}

func randomToken() string { return survey.NewOpenToken()[:32] }

// Sign-in throttling, in memory, per instance. Attempts are counted in three
// buckets that fill again over time:
//   - a client address (an IPv6 address by its /64): 20 failures, then one
//     more every 15 seconds;
//   - an address together with an email: 5 failures, then one a minute;
//   - an email alone, from anywhere: never a lock, or anyone could lock its
//     owner out; after 10 failures each attempt waits half a second per
//     failure beyond them, at most 3 seconds.
//
// Over either of the first two the answer is 429, even for the right
// password. A successful sign-in gives its attempt back. The address is the
// one clientIP finds: X-Forwarded-For counts only behind trusted proxies.
type loginRule struct {
	burst float64       // attempts a fresh bucket holds
	every time.Duration // one more after each of these
}

var (
	loginPerAddress = loginRule{20, 15 * time.Second}
	loginPerPair    = loginRule{5, time.Minute}
	loginPerEmail   = loginRule{10, 30 * time.Second}
)

type loginBucket struct {
	rule   loginRule
	tokens float64
	at     time.Time
}

func (b *loginBucket) fill(now time.Time) {
	if now.After(b.at) {
		b.tokens = min(b.rule.burst, b.tokens+float64(now.Sub(b.at))/float64(b.rule.every))
		b.at = now
	}
}

type loginLimiter struct {
	mu  sync.Mutex // a check and its count are one step
	lru *expirable.LRU[string, *loginBucket]
	// others limits other account forms (password links) by key; see allow.
	others *expirable.LRU[string, *rate.Limiter]
	now    func() time.Time
	// The email's slowdown: step per failure beyond its bucket, at most max.
	step, maxWait time.Duration
}

func newLoginLimiter() *loginLimiter {
	return &loginLimiter{lru: expirable.NewLRU[string, *loginBucket](100_000, nil, 30*time.Minute),
		others: expirable.NewLRU[string, *rate.Limiter](50_000, nil, 15*time.Minute),
		now:    time.Now, step: 500 * time.Millisecond, maxWait: 3 * time.Second}
}

func (l *loginLimiter) bucket(key string, rule loginRule, now time.Time) *loginBucket {
	b, ok := l.lru.Get(key)
	if !ok {
		b = &loginBucket{rule: rule, tokens: rule.burst, at: now}
		l.lru.Add(key, b)
	}
	b.fill(now)
	return b
}

// loginAttempt is one attempt's hold on its buckets.
type loginAttempt struct {
	l       *loginLimiter
	buckets []*loginBucket
}

// begin takes one attempt for a client address and an email. ok is false
// when the address, or the address with this email, has none left;
// otherwise wait is how long the attempt must wait first, for the email's
// failures from anywhere.
func (l *loginLimiter) begin(addr, email string) (at *loginAttempt, wait time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	addr, email = addressKey(addr), strings.ToLower(email)
	perAddr := l.bucket("addr:"+addr, loginPerAddress, now)
	perPair := l.bucket("pair:"+addr+" "+email, loginPerPair, now)
	if perAddr.tokens < 1 || perPair.tokens < 1 {
		return nil, 0, false
	}
	perEmail := l.bucket("email:"+email, loginPerEmail, now)
	if perEmail.tokens < 1 {
		wait = min(l.maxWait, time.Duration((1-perEmail.tokens)*float64(l.step)))
	}
	perAddr.tokens--
	perPair.tokens--
	// The email's debt stops where the wait stops growing, so it clears
	// within minutes of an attack ending.
	perEmail.tokens = max(perEmail.tokens-1, -float64(l.maxWait/l.step))
	return &loginAttempt{l: l, buckets: []*loginBucket{perAddr, perPair, perEmail}}, wait, true
}

// succeeded gives the attempt back: the right password costs nothing.
func (at *loginAttempt) succeeded() {
	at.l.mu.Lock()
	defer at.l.mu.Unlock()
	for _, b := range at.buckets {
		b.tokens = min(b.rule.burst, b.tokens+1)
	}
}

// allow takes one attempt from each key's limit, five a minute with a
// burst of five: for forms other than sign-in (asking for a password link).
func (l *loginLimiter) allow(keys ...string) bool {
	ok := true
	for _, k := range keys {
		lim, found := l.others.Get(k)
		if !found {
			lim = rate.NewLimiter(rate.Every(12*time.Second), 5)
			l.others.Add(k, lim)
		}
		if !lim.Allow() {
			ok = false
		}
	}
	return ok
}

type loginForm struct {
	Email, Next string
	Error       string
	CSRF        string
}

// localPath says whether next leads to a page of this site when a browser
// follows it in a Location header. Browsers drop tabs and line breaks from a
// URL and read "\" as "/", so "/\t/evil.example" and "/\\evil.example" both
// lead to another site. A path passes only if it starts with one "/", holds
// no control character or backslash, and still does once percent-decoded
// (a proxy or a later redirect may decode it again), and url.Parse finds no
// scheme and no host in it.
func localPath(next string) bool {
	if len(next) > 2048 || !strings.HasPrefix(next, "/") {
		return false
	}
	for p, i := next, 0; ; i++ {
		if strings.HasPrefix(p, "//") || strings.ContainsFunc(p, func(r rune) bool { return r == '\\' || unicode.IsControl(r) }) {
			return false
		}
		d, err := url.PathUnescape(p)
		if err != nil || i == 3 {
			return false // "%2509" is a tab after two decodings; deeper is no path of ours
		}
		if d == p {
			break
		}
		p = d
	}
	u, err := url.Parse(next)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil && u.Opaque == "" && strings.HasPrefix(u.Path, "/")
}

// safeNext keeps post-login redirects on this site; without one, each role
// lands where its work is.
func safeNext(next string, u *survey.User) string {
	if localPath(next) {
		return next
	}
	switch {
	case u == nil:
		return "/"
	case u.Role == survey.RoleManager:
		return "/results"
	case u.Role == survey.RoleLearner:
		return "/learn/path"
	}
	return "/admin"
}

func (a *App) loginPage(c echo.Context) error {
	next := c.QueryParam("next")
	if viewerOf(c) != nil {
		return c.Redirect(http.StatusSeeOther, safeNext(next, viewerOf(c).User))
	}
	if !localPath(next) {
		next = "" // the form does not carry it on
	}
	return a.render(c, http.StatusOK, "login", a.page(c, "auth.login.title", loginForm{Next: next}))
}

func (a *App) login(c echo.Context) error {
	f := loginForm{Email: strings.TrimSpace(c.FormValue("email")), Next: c.FormValue("next")}
	if !sameOrigin(c) {
		return echo.NewHTTPError(http.StatusForbidden)
	}
	if !localPath(f.Next) {
		f.Next = ""
	}
	attempt, wait, ok := a.logins.begin(c.RealIP(), f.Email)
	if !ok {
		f.Error = "auth.error.throttled"
		return a.render(c, http.StatusTooManyRequests, "login", a.page(c, "auth.login.title", f))
	}
	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-c.Request().Context().Done():
			t.Stop()
			return c.Request().Context().Err()
		}
	}
	u, err := survey.Authenticate(c.Request().Context(), a.db, f.Email, c.FormValue("password"))
	if errors.Is(err, survey.ErrBadCredentials) {
		f.Error = "auth.error.credentials"
		return a.render(c, http.StatusUnauthorized, "login", a.page(c, "auth.login.title", f))
	}
	if err != nil {
		return err
	}
	attempt.succeeded()
	if err := a.signIn(c, u); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, safeNext(f.Next, u))
}

func (a *App) logout(c echo.Context) error {
	v := viewerOf(c)
	if !sameOrigin(c) || v != nil && !hmac.Equal([]byte(csrfSent(c)), []byte(v.CSRF)) {
		return echo.NewHTTPError(http.StatusForbidden)
	}
	if v != nil { // this cookie and every copy of it stop working
		if err := survey.EndSessions(c.Request().Context(), a.db, v.ID); err != nil {
			return err
		}
	}
	s, _ := a.sessions.Get(c.Request(), sessionName)
	s.Options.MaxAge = -1
	s.Values = map[any]any{}
	if err := s.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/")
}

// setupToken is printed at start while the installation has no account; it
// lets the operator (and only them) create the platform admin in the browser.
func (a *App) checkSetupToken(token string) bool {
	want, _ := a.setupHash.Load().(string)
	if want == "" || token == "" {
		return false
	}
	return hmac.Equal([]byte(survey.HashToken(token)), []byte(want))
}

type setupForm struct {
	Token, Email, Name string
	Errors             map[string]string
}

func (a *App) setupPage(c echo.Context) error {
	if !a.checkSetupToken(c.Param("token")) {
		return echo.ErrNotFound
	}
	return a.render(c, http.StatusOK, "setup", a.page(c, "auth.setup.title", setupForm{Token: c.Param("token")}))
}

func (a *App) setup(c echo.Context) error {
	token := c.Param("token")
	if !a.checkSetupToken(token) || !sameOrigin(c) {
		return echo.ErrNotFound
	}
	ctx := c.Request().Context()
	if n, err := survey.CountUsers(ctx, a.db); err != nil || n > 0 {
		a.setupHash.Store("")
		return echo.ErrNotFound
	}
	f := setupForm{Token: token, Email: strings.TrimSpace(c.FormValue("email")), Name: strings.TrimSpace(c.FormValue("name")), Errors: map[string]string{}}
	password := c.FormValue("password")
	if _, err := survey.NormaliseEmail(f.Email); err != nil {
		f.Errors["email"] = "form.error.email"
	}
	if len([]rune(password)) < survey.MinPasswordLength {
		f.Errors["password"] = "auth.error.weak"
	}
	if len(f.Errors) > 0 {
		return a.render(c, http.StatusUnprocessableEntity, "setup", a.page(c, "auth.setup.title", f))
	}
	u, err := survey.CreateUserWithPassword(ctx, a.db, f.Email, f.Name, survey.RolePlatformAdmin, nil, password)
	if err != nil {
		return err
	}
	a.setupHash.Store("")
	if err := a.signIn(c, u); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin")
}

// csrfOf is the token the current viewer's forms carry.
func csrfOf(c echo.Context) string {
	if v := viewerOf(c); v != nil {
		return v.CSRF
	}
	return ""
}
