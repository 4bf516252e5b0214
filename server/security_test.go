package server

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"tiltline/portal"
	"tiltline/survey"
	"tiltline/survey/surveytest"
)

// ---- The database catalog, shared with anonymity_test.go -------------------

// tableNames lists the application's tables from the database's own
// catalog, so a table added later is covered without editing a test.
func tableNames(t testing.TB, db *survey.DB) []string {
	t.Helper()
	var names []string
	q := "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
	if db.Dialect == "postgres" {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
	}
	if err := db.Read.Raw(q).Scan(&names).Error; err != nil {
		t.Fatal(err)
	}
	if len(names) < 10 {
		t.Fatalf("catalog lists only %v", names)
	}
	return names
}

// tableColumn is one column as the catalog describes it.
type tableColumn struct{ Name, Type string }

func tableColumns(t testing.TB, db *survey.DB, table string) []tableColumn {
	t.Helper()
	var cols []tableColumn
	var err error
	if db.Dialect == "postgres" {
		err = db.Read.Raw("SELECT column_name AS name, data_type AS type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position", table).Scan(&cols).Error
	} else {
		err = db.Read.Raw("SELECT name, type FROM pragma_table_info(?)", table).Scan(&cols).Error
	}
	if err != nil || len(cols) == 0 {
		t.Fatalf("columns of %s: %v %v", table, cols, err)
	}
	return cols
}

// tableRows reads every row of a table as text cells, in a stable order.
func tableRows(t testing.TB, db *survey.DB, table string) [][]string {
	t.Helper()
	out := surveytest.Rows(t, db.Read, `SELECT * FROM "`+table+`"`)
	sort.Slice(out, func(i, j int) bool { return strings.Join(out[i], "\x00") < strings.Join(out[j], "\x00") })
	return out
}

// dbSnapshot fingerprints every table's content: equal snapshots mean
// nothing was written. Search index tables are left out: they hold the
// portal's pages and are rebuilt at start.
func dbSnapshot(t testing.TB, db *survey.DB) map[string]string {
	t.Helper()
	snap := map[string]string{}
	for _, table := range tableNames(t, db) {
		if strings.HasPrefix(table, "search") || strings.HasPrefix(table, "goose") {
			continue
		}
		h := sha256.New()
		for _, r := range tableRows(t, db, table) {
			h.Write([]byte(strings.Join(r, "\x00") + "\x01"))
		}
		snap[table] = hex.EncodeToString(h.Sum(nil))
	}
	return snap
}

func snapshotDiff(before, after map[string]string) []string {
	var changed []string
	for table, h := range after {
		if before[table] != h {
			changed = append(changed, table)
		}
	}
	sort.Strings(changed)
	return changed
}

// ---- Fixtures -----------------------------------------------------------------

// secFixture is the demo organisation (A) with one of everything a route
// can name by id, and a second organisation (B) with its own admin.
type secFixture struct {
	a    *App
	demo *survey.DemoResult
	ids  map[string]int64 // kind → one of organisation A's ids
	// more of A's objects, for routes that use them up
	spareUnit, spareUser, spareParticipant, spareToken int64
	slug, asset                                        string
	openKey                                            string
	markers                                            []string // text only organisation A's data contains
	bEmail, bPassword, bToken                          string
	platformEmail, platformPassword                    string
}

func newSecFixture(t *testing.T) *secFixture {
	t.Helper()
	a, demo := newFuzzAppLinks(t, nil, 12)
	ctx := context.Background()
	fx := &secFixture{a: a, demo: demo, ids: map[string]int64{}}
	var cp survey.Campaign
	a.db.Read.First(&cp, demo.CampaignID)
	orgID := cp.OrganisationID
	fx.ids["campaign"] = cp.ID
	fx.ids["org"] = orgID
	var unit survey.BusinessUnit
	a.db.Read.Where("organisation_id = ? AND name = ?", orgID, "Innovation Lab").First(&unit)
	fx.ids["unit"] = unit.ID
	var part survey.Participant
	a.db.Read.Where("campaign_id = ?", cp.ID).Order("id").First(&part)
	fx.ids["participant"] = part.ID
	mgr, _ := survey.UserByEmail(ctx, a.db, demo.ManagerEmail)
	fx.ids["user"] = mgr.ID
	toks, _ := survey.APITokens(ctx, a.db, mgr.ID)
	fx.ids["token"] = toks[0].ID
	m := a.models.Latest()
	fx.slug = m.Sections[0].Subsections[0].Slug
	case1, err := portal.Propose(ctx, a.db, m, mgr.ID, portal.CaseInput{Subsection: fx.slug, Locale: "en", Title: "Demo Bank case",
		Body: strings.Repeat("Demo Bank did a thing worth sharing. ", 10)})
	if err != nil {
		t.Fatal(err)
	}
	fx.ids["case"] = case1.ID
	u2, _ := survey.AddUnit(ctx, a.db, orgID, "Spare Unit of Demo Bank")
	fx.spareUnit = u2.ID
	spare, _ := survey.CreateUserWithPassword(ctx, a.db, "spare@demo-bank.example", "", survey.RoleManager, &orgID, "spare-password-123")
	fx.spareUser = spare.ID
	a.db.Read.Model(&survey.Participant{}).Where("campaign_id = ? AND id <> ?", cp.ID, part.ID).Order("id").Limit(1).Pluck("id", &fx.spareParticipant)
	survey.CreateAPIToken(ctx, a.db, spare.Email, "spare")
	toks, _ = survey.APITokens(ctx, a.db, spare.ID)
	fx.spareToken = toks[0].ID
	fx.asset, _ = a.assets.URL("css/app.css")
	fx.asset = strings.TrimPrefix(fx.asset, "/static/")
	fx.openKey = survey.NewOpenToken()
	a.db.Write.Model(&survey.Campaign{}).Where("id = ?", cp.ID).Updates(map[string]any{"open_link": true, "open_key": fx.openKey})
	cp.Name = "Zephyr Wave of Organisation A"
	a.db.Write.Model(&survey.Campaign{}).Where("id = ?", cp.ID).Update("name", cp.Name)
	fx.markers = []string{"Innovation Lab", survey.DemoOrgName, cp.Name, "demo-bank.example", part.Email}

	fx.bEmail, fx.bPassword = otherOrgAdmin(t, a)
	if fx.bToken, err = survey.CreateAPIToken(ctx, a.db, fx.bEmail, "b"); err != nil {
		t.Fatal(err)
	}
	// Used once already, so calls within the test leave last_used_at alone.
	if _, err := survey.UserByAPIToken(ctx, a.db, fx.bToken); err != nil {
		t.Fatal(err)
	}
	fx.platformEmail, fx.platformPassword = "root@platform.example", "platform-password-123"
	if _, err := survey.CreateUserWithPassword(ctx, a.db, fx.platformEmail, "", survey.RolePlatformAdmin, nil, fx.platformPassword); err != nil {
		t.Fatal(err)
	}
	return fx
}

// newFuzzAppLinks is newFuzzApp with more open invitation links.
func newFuzzAppLinks(t testing.TB, logs io.Writer, links int) (*App, *survey.DemoResult) {
	a, demo := newFuzzApp(t, logs)
	if links <= len(demo.Links) {
		return a, demo
	}
	d, err := survey.CreateDemo(context.Background(), a.db, a.models.Latest(), survey.DemoOptions{
		Responses: 20, Links: links, BaseURL: a.cfg.BaseURL, Secret: a.cfg.Secret})
	if err != nil {
		t.Fatal(err)
	}
	return a, d
}

// idKind names what a route's :id stands for, from the segment before it.
func idKind(path string) (string, bool) {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if s != ":id" || i == 0 {
			continue
		}
		switch segs[i-1] {
		case "campaigns", "results":
			return "campaign", true
		case "units":
			return "unit", true
		case "users":
			return "user", true
		case "tokens":
			return "token", true
		case "orgs":
			return "org", true
		case "moderation":
			return "case", true
		}
		return segs[i-1], false
	}
	return "", true
}

// fill puts organisation A's real values into a route pattern.
func (fx *secFixture) fill(t *testing.T, path, token string) string {
	t.Helper()
	kind, ok := idKind(path)
	if !ok {
		t.Errorf("%s: unknown kind of id after %q: teach idKind what it names", path, kind)
	}
	return fillPath(path, func(name string) string {
		switch name {
		case "id":
			return strconv.FormatInt(fx.ids[kind], 10)
		case "pid":
			return strconv.FormatInt(fx.ids["participant"], 10)
		case "token":
			return token
		case "key":
			return fx.openKey
		case "page":
			return "1"
		case "org":
			return strconv.FormatInt(fx.ids["org"], 10)
		case "slug":
			return fx.slug
		case "file":
			return fx.asset
		case "*":
			return "nowhere"
		}
		t.Errorf("%s: no value for :%s", path, name)
		return "x"
	})
}

// session is a signed-in browser: cookie and CSRF token.
type session struct {
	cookie *http.Cookie
	csrf   string
}

func (fx *secFixture) signIn(t *testing.T, email, password string) session {
	t.Helper()
	rec := fx.serve(httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{"email": {email}, "password": {password}}.Encode())), "application/x-www-form-urlencoded")
	var s session
	for _, c := range rec.Result().Cookies() {
		if c.Name == sessionName {
			s.cookie = c
		}
	}
	if rec.Code != http.StatusSeeOther || s.cookie == nil {
		t.Fatalf("sign-in as %s: %d", email, rec.Code)
	}
	for _, page := range []string{"/admin/tokens", "/admin", "/learn/" + fx.slug} {
		r := httptest.NewRequest(http.MethodGet, page, nil)
		r.AddCookie(s.cookie)
		if m := csrfField.FindStringSubmatch(fx.serve(r, "").Body.String()); m != nil {
			s.csrf = m[1]
			return s
		}
	}
	t.Fatalf("no CSRF token for %s", email)
	return s
}

func (fx *secFixture) serve(req *http.Request, contentType string) *httptest.ResponseRecorder {
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	fx.a.Handler().ServeHTTP(rec, req)
	return rec
}

// ---- Headers --------------------------------------------------------------------

// cspDirectives parses a Content-Security-Policy header.
func cspDirectives(h string) map[string][]string {
	out := map[string][]string{}
	for _, d := range strings.Split(h, ";") {
		f := strings.Fields(d)
		if len(f) > 0 {
			out[strings.ToLower(f[0])] = f[1:]
		}
	}
	return out
}

func checkSecurityHeaders(h http.Header) []string {
	var bad []string
	csp := cspDirectives(h.Get("Content-Security-Policy"))
	script, ok := csp["script-src"]
	if !ok {
		script, ok = csp["default-src"]
	}
	if !ok || slices.ContainsFunc(script, func(s string) bool {
		s = strings.ToLower(s)
		return s == "'unsafe-inline'" || s == "'unsafe-eval'" || s == "*" || s == "data:" || s == "http:" || s == "https:"
	}) {
		bad = append(bad, fmt.Sprintf("script-src %v", script))
	}
	if fa := csp["frame-ancestors"]; len(fa) != 1 || fa[0] != "'none'" && fa[0] != "'self'" {
		bad = append(bad, fmt.Sprintf("frame-ancestors %v", fa))
	}
	if o := csp["object-src"]; len(o) != 1 || o[0] != "'none'" {
		bad = append(bad, fmt.Sprintf("object-src %v", o))
	}
	if b := csp["base-uri"]; len(b) == 0 {
		bad = append(bad, "no base-uri")
	}
	for name, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
		if got := h.Get(name); !strings.EqualFold(got, want) {
			bad = append(bad, fmt.Sprintf("%s = %q", name, got))
		}
	}
	return bad
}

// TestSecurityHeadersOnEveryGETRoute: every GET route of the table, with
// real values, as a visitor and as the organisation's admin, answers with
// a CSP that allows no inline script and no framing, nosniff, no referrer
// and no framing; respondent pages are not cached; every answer to a
// signed-in user or an API token is private, no-store, while static assets
// and the visitor's public portal stay cacheable.
func TestSecurityHeadersOnEveryGETRoute(t *testing.T) {
	fx := newSecFixture(t)
	admin := fx.signIn(t, fx.demo.AdminEmail, fx.demo.AdminPassword)
	token := strings.TrimPrefix(linkPath(fx.demo.Links[0]), "/s/")
	checked := 0
	for _, r := range routeTable(fx.a) {
		if r.Method != http.MethodGet && r.Method != "ANY" {
			continue
		}
		path := fx.fill(t, r.Path, token)
		for _, who := range []string{"visitor", "admin"} {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			if who == "admin" {
				req.AddCookie(admin.cookie)
			}
			req.Header.Set("Authorization", "Bearer "+fx.demo.APIToken)
			rec := fx.serve(req, "")
			for _, b := range checkSecurityHeaders(rec.Header()) {
				t.Errorf("GET %s as %s (%d): %s", path, who, rec.Code, b)
			}
			cc := rec.Header().Get("Cache-Control")
			switch {
			case r.Path == "/static/:file":
				if !strings.Contains(cc, "public") || !strings.Contains(cc, "immutable") {
					t.Errorf("GET %s as %s: Cache-Control %q, want a public, immutable asset", path, who, cc)
				}
			case who == "admin" || strings.HasPrefix(r.Path, "/api/"):
				if !strings.Contains(cc, "private") || !strings.Contains(cc, "no-store") {
					t.Errorf("GET %s as %s (%d): Cache-Control %q, want private, no-store for a signed-in user or an API token", path, who, rec.Code, cc)
				}
			case r.Path == "/learn" || r.Path == "/learn/:slug":
				if rec.Code == http.StatusOK && !strings.Contains(cc, "public") {
					t.Errorf("GET %s as a visitor: Cache-Control %q, want the public portal cacheable", path, cc)
				}
			}
			checked++
			if (strings.HasPrefix(r.Path, "/s/") || strings.HasPrefix(r.Path, "/o/")) && !strings.HasSuffix(r.Path, "*") {
				if rec.Code >= 400 {
					t.Errorf("GET %s = %d: the real link should work", path, rec.Code)
				}
				if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "no-store") {
					t.Errorf("GET %s: Cache-Control %q lets a shared cache keep a respondent page", path, cc)
				}
			}
		}
	}
	if checked < 40 {
		t.Errorf("only %d GET responses checked", checked)
	}
	// The checker itself must refuse what it is meant to refuse.
	weak := http.Header{"Content-Security-Policy": {"default-src 'self'; script-src 'self' 'unsafe-inline'"}}
	if len(checkSecurityHeaders(weak)) < 4 {
		t.Error("checkSecurityHeaders passes a weak policy")
	}
}

// ---- Cookies --------------------------------------------------------------------

// TestCookieFlags: under an https base URL every cookie the app sets, the
// session, the language and the open-link draft cookie, is HttpOnly,
// SameSite and Secure, even when TLS ends at a proxy in front of the app.
func TestCookieFlags(t *testing.T) {
	a, demo := newFuzzApp(t, nil)
	a.cfg.BaseURL = "https://tiltline.example"
	a.sessions = newSessionStore(a.cfg.Secret, true) // as New builds it for an https base URL
	key := survey.NewOpenToken()
	a.db.Write.Model(&survey.Campaign{}).Where("id = ?", demo.CampaignID).Updates(map[string]any{"open_link": true, "open_key": key})

	cookies := map[string]*http.Cookie{}
	collect := func(rec *httptest.ResponseRecorder) {
		for _, c := range rec.Result().Cookies() {
			cookies[c.Name] = c
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{"email": {demo.AdminEmail}, "password": {demo.AdminPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, req)
	collect(rec)
	rec = httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/o/"+key+"?lang=de", nil))
	collect(rec)
	for _, name := range []string{sessionName, langCookie, openCookie} {
		c := cookies[name]
		if c == nil {
			t.Errorf("cookie %s not set", name)
			continue
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode && c.SameSite != http.SameSiteStrictMode || !c.Secure {
			t.Errorf("cookie %s: HttpOnly %v, SameSite %v, Secure %v", name, c.HttpOnly, c.SameSite, c.Secure)
		}
	}
	// Over plain http (a development set-up) the session cookie must still
	// be HttpOnly and SameSite.
	b, demoB := newFuzzApp(t, nil)
	req = httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{"email": {demoB.AdminEmail}, "password": {demoB.AdminPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec = httptest.NewRecorder()
	b.Handler().ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.Name == sessionName && (!c.HttpOnly || c.SameSite == http.SameSiteNoneMode || c.SameSite == http.SameSiteDefaultMode) {
			t.Errorf("session cookie over http: %+v", c)
		}
	}
}

// ---- CSRF -----------------------------------------------------------------------

// TestCSRFOnEveryStateChangingRoute takes every POST, PUT, PATCH and DELETE
// route of the table and sends it without a CSRF token, with a wrong one,
// with the valid one in the query string only (tokens count only from the
// form body or the X-CSRF-Token header), and with a valid one from another
// site (Origin or Sec-Fetch-Site): each is refused with 403 and changes
// nothing in the database. The same request with the valid token from this
// site is then not refused with 403, so the refusals are the CSRF check's,
// and its answer to a signed-in user is kept out of caches (private,
// no-store). The API takes no cookies: a signed-in browser without a bearer
// token gets 401. A route this test cannot classify fails it.
func TestCSRFOnEveryStateChangingRoute(t *testing.T) {
	fx := newSecFixture(t)
	a := fx.a
	platform := fx.signIn(t, fx.platformEmail, fx.platformPassword)
	// The platform admin manages organisation A, so every admin route is open to it.
	req := httptest.NewRequest(http.MethodPost, fmt.Sprintf("/admin/orgs/%d/manage", fx.ids["org"]), strings.NewReader("csrf="+url.QueryEscape(platform.csrf)))
	req.AddCookie(platform.cookie)
	rec := fx.serve(req, "application/x-www-form-urlencoded")
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("manage organisation: %d", rec.Code)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == sessionName {
			platform.cookie = c
		}
	}
	links := fx.demo.Links
	nextLink := 0
	resetToken, err := survey.NewPasswordToken(context.Background(), a.db, fx.spareUser, time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	type attempt struct {
		name   string
		csrf   string
		header []string
	}
	const inQuery = "(in the query)" // an attempt's header list starting so sends the token in the query only
	routes := routeTable(a)
	// Respondent routes first: the admin routes' controls may close the campaign.
	sort.SliceStable(routes, func(i, j int) bool {
		ri := strings.HasPrefix(routes[i].Path, "/s/") || strings.HasPrefix(routes[i].Path, "/o/")
		rj := strings.HasPrefix(routes[j].Path, "/s/") || strings.HasPrefix(routes[j].Path, "/o/")
		return ri && !rj
	})
	checked := 0
	for _, r := range routes {
		switch r.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		default:
			continue
		}
		p := r.Path
		var (
			cookie    *http.Cookie
			validCSRF string
			path      string
			// refused is what a forged request gets: 403, or for the set-up
			// link, 404 (it does not confirm the link exists).
			refused = http.StatusForbidden
			// tokenless: the route has no CSRF token, only the origin check.
			tokenless bool
			// noControl: a right request cannot succeed here either (the
			// set-up link works only while there is no account at all).
			noControl bool
		)
		switch {
		case p == "/s/:token/optout":
			// RFC 8058 one-click unsubscribe: mail clients POST from
			// anywhere without a form token; the link token is the key.
			// It can only stop reminders to that link's own holder.
			continue
		case strings.HasPrefix(p, "/s/:token") || strings.HasPrefix(p, "/o/:key"):
			token := strings.TrimPrefix(linkPath(links[nextLink%len(links)]), "/s/")
			nextLink++
			key := token
			if strings.HasPrefix(p, "/o/") {
				key = survey.NewOpenToken() // the browser's open-link cookie
				cookie = &http.Cookie{Name: openCookie, Value: key}
			}
			resp, _ := survey.ResolveInvitation(context.Background(), a.db, a.cfg.Secret, token)
			if strings.HasPrefix(p, "/o/") {
				var cp survey.Campaign
				a.db.Read.First(&cp, fx.ids["campaign"])
				resp = &survey.Respondent{Campaign: &cp, DraftKey: survey.DraftKey(a.cfg.Secret, "open:"+key)}
			}
			if _, err := survey.StartDraft(context.Background(), a.db, a.models.Latest(), resp, survey.Profile{Locale: "en"}); err != nil {
				t.Fatal(err)
			}
			validCSRF = a.csrfToken(resp.DraftKey)
			path = fx.fill(t, p, token)
		case strings.HasPrefix(p, "/api/"):
			// Bearer tokens only: a browser's cookies open nothing.
			path = fx.fill(t, p, "")
			before := dbSnapshot(t, a.db)
			req := httptest.NewRequest(r.Method, path, strings.NewReader("csrf="+url.QueryEscape(platform.csrf)))
			req.AddCookie(platform.cookie)
			rec := fx.serve(req, "application/x-www-form-urlencoded")
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("%s %s with a session cookie and no bearer token = %d, want 401", r.Method, path, rec.Code)
			}
			if d := snapshotDiff(before, dbSnapshot(t, a.db)); len(d) > 0 {
				t.Errorf("%s %s without a bearer token changed %v", r.Method, path, d)
			}
			checked++
			continue
		case p == "/login" || p == "/password/forgot":
			path, tokenless = p, true
		case p == "/password/:token":
			path, tokenless = "/password/"+resetToken, true
		case p == "/setup/:token":
			link := a.offerSetup(context.Background())
			if link == "" { // accounts exist: arm the link as a fresh installation would
				tok := survey.NewOpenToken()
				a.setupHash.Store(survey.HashToken(tok))
				link = "/setup/" + tok
			}
			path, tokenless, refused, noControl = strings.TrimPrefix(link, a.cfg.BaseURL), true, http.StatusNotFound, true
		case strings.HasPrefix(p, "/admin") || strings.HasPrefix(p, "/results") || strings.HasPrefix(p, "/learn") || p == "/logout":
			cookie, validCSRF = platform.cookie, platform.csrf
			path = fx.fill(t, p, "")
			path = strings.Replace(path, "/users/"+strconv.FormatInt(fx.ids["user"], 10)+"/delete", "/users/"+strconv.FormatInt(fx.spareUser, 10)+"/delete", 1)
			path = strings.Replace(path, "/units/"+strconv.FormatInt(fx.ids["unit"], 10)+"/delete", "/units/"+strconv.FormatInt(fx.spareUnit, 10)+"/delete", 1)
			path = strings.Replace(path, "/tokens/"+strconv.FormatInt(fx.ids["token"], 10)+"/revoke", "/tokens/"+strconv.FormatInt(fx.spareToken, 10)+"/revoke", 1)
			path = strings.Replace(path, "/participants/"+strconv.FormatInt(fx.ids["participant"], 10)+"/delete", "/participants/"+strconv.FormatInt(fx.spareParticipant, 10)+"/delete", 1)
		default:
			t.Errorf("%s %s: not classified for CSRF: add it to this test", r.Method, p)
			continue
		}
		form := url.Values{"email": {fx.demo.ManagerEmail}, "password": {"wrong-password-123"}, "confirm": {"wrong-password-123"}, "name": {"X"},
			"status": {"closed"}, "AP-01.intention": {"2"}, "title": {"T"}, "body": {strings.Repeat("b", 300)}, "unit": {"1"}, "role": {"manager"}}
		body := func(csrf string) (string, string) {
			if r.Method == http.MethodPut {
				return `{"practice":"AP-01","dimension":"intention","level":2}`, "application/json"
			}
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			if csrf != "" {
				f.Set("csrf", csrf)
			}
			return f.Encode(), "application/x-www-form-urlencoded"
		}
		send := func(csrf string, header ...string) *httptest.ResponseRecorder {
			b, ct := body(csrf)
			target := path
			if len(header) > 0 && header[0] == inQuery { // the token only in the query string
				b, ct = body("")
				target += "?csrf=" + url.QueryEscape(csrf)
				csrf, header = "", header[1:]
			}
			req := httptest.NewRequest(r.Method, target, strings.NewReader(b))
			if cookie != nil {
				req.AddCookie(cookie)
			}
			if r.Method == http.MethodPut && csrf != "" {
				req.Header.Set("X-CSRF-Token", csrf)
			}
			for i := 0; i+1 < len(header); i += 2 {
				req.Header.Set(header[i], header[i+1])
			}
			return fx.serve(req, ct)
		}
		attempts := []attempt{
			{"a valid token from another site (Origin)", validCSRF, []string{"Origin", "https://evil.example"}},
			{"a valid token from another site (Sec-Fetch-Site)", validCSRF, []string{"Sec-Fetch-Site", "cross-site"}},
			{"a valid token from a sibling site (Sec-Fetch-Site)", validCSRF, []string{"Sec-Fetch-Site", "same-site"}},
		}
		if !tokenless {
			attempts = append(attempts, attempt{"no token", "", nil}, attempt{"a wrong token", wrongToken(validCSRF), nil},
				attempt{"another session's token", randomToken(), nil},
				attempt{"the valid token in the query string only", validCSRF, []string{inQuery}})
		}
		before := dbSnapshot(t, a.db)
		for _, at := range attempts {
			if rec := send(at.csrf, at.header...); rec.Code != refused {
				t.Errorf("%s %s with %s = %d, want %d", r.Method, path, at.name, rec.Code, refused)
			}
		}
		if d := snapshotDiff(before, dbSnapshot(t, a.db)); len(d) > 0 {
			t.Errorf("%s %s: refused requests changed %v", r.Method, path, d)
		}
		// The control: the same request, done right, passes the check.
		rec := send(validCSRF, "Origin", "http://example.com", "Sec-Fetch-Site", "same-origin")
		if !noControl && (rec.Code == http.StatusForbidden || rec.Code == refused) {
			t.Errorf("%s %s with a valid token from this site = %d: the refusals above prove nothing", r.Method, path, rec.Code)
		}
		if cc := rec.Header().Get("Cache-Control"); cookie == platform.cookie && (!strings.Contains(cc, "private") || !strings.Contains(cc, "no-store")) {
			t.Errorf("%s %s answers a signed-in user with Cache-Control %q, want private, no-store", r.Method, path, cc)
		}
		checked++
	}
	t.Logf("%d state-changing routes checked", checked)
	if checked < 30 {
		t.Errorf("only %d state-changing routes checked", checked)
	}
}

// wrongToken is valid with its first character changed: "x" + valid[1:]
// was valid itself when valid began with an x.
func wrongToken(valid string) string {
	if strings.HasPrefix(valid, "x") {
		return "y" + valid[1:]
	}
	return "x" + valid[1:]
}

// ---- Sessions -------------------------------------------------------------------

// TestSessionFixation: a session cookie planted before sign-in (one the
// attacker holds, with a CSRF token the attacker knows) is not what the
// user is signed in with: the cookie, and the CSRF token, change at
// sign-in, and each sign-in starts a fresh session.
func TestSessionFixation(t *testing.T) {
	fx := newSecFixture(t)
	a := fx.a
	plant := httptest.NewRequest(http.MethodGet, "/", nil)
	rec := httptest.NewRecorder()
	s, _ := a.sessions.New(plant, sessionName)
	s.Values["csrf"] = "attacker-knows-this-token"
	s.Values["org"] = fx.ids["org"]
	if err := s.Save(plant, rec); err != nil {
		t.Fatal(err)
	}
	planted := rec.Result().Cookies()[0]

	login := func(cookie *http.Cookie) session {
		req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{"email": {fx.demo.AdminEmail}, "password": {fx.demo.AdminPassword}}.Encode()))
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := fx.serve(req, "application/x-www-form-urlencoded")
		var got session
		for _, c := range rec.Result().Cookies() {
			if c.Name == sessionName {
				got.cookie = c
			}
		}
		if rec.Code != http.StatusSeeOther || got.cookie == nil {
			t.Fatalf("sign-in with a planted cookie: %d, no new session cookie", rec.Code)
		}
		r := httptest.NewRequest(http.MethodGet, "/admin/tokens", nil)
		r.AddCookie(got.cookie)
		if m := csrfField.FindStringSubmatch(fx.serve(r, "").Body.String()); m != nil {
			got.csrf = m[1]
		}
		return got
	}
	first := login(planted)
	if first.cookie.Value == planted.Value {
		t.Error("the planted session cookie survived sign-in")
	}
	if first.csrf == "" || first.csrf == "attacker-knows-this-token" {
		t.Errorf("CSRF token after sign-in = %q: the planted session's token was kept", first.csrf)
	}
	second := login(first.cookie)
	if second.cookie.Value == first.cookie.Value || second.csrf == first.csrf {
		t.Error("signing in again kept the old session")
	}
	// The planted cookie itself signs nobody in.
	r := httptest.NewRequest(http.MethodGet, "/admin", nil)
	r.AddCookie(planted)
	if rec := fx.serve(r, ""); rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/login") {
		t.Errorf("planted cookie opened /admin: %d", rec.Code)
	}
}

// TestLoginThrottling: five wrong passwords for an email from one address
// lock that address out of that account (429 even for the right
// password), but not the owner signing in from another address, however
// long the attacker goes on; an address that fails 20 times is refused for
// every account; X-Forwarded-For from an untrusted peer changes nothing;
// and failures for one email from many addresses only slow its sign-in
// down, never refuse it.
func TestLoginThrottling(t *testing.T) {
	fx := newSecFixture(t)
	try := func(from, email, password string, header ...string) (int, bool) {
		t.Helper()
		req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{"email": {email}, "password": {password}}.Encode()))
		req.RemoteAddr = from + ":40000"
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		rec := fx.serve(req, "application/x-www-form-urlencoded")
		for _, c := range rec.Result().Cookies() {
			if c.Name == sessionName && c.Value != "" && c.MaxAge >= 0 {
				return rec.Code, true
			}
		}
		return rec.Code, false
	}
	const attacker, owner = "203.0.113.9", "198.51.100.7"
	mgr, mgrPassword := fx.demo.ManagerEmail, fx.demo.ManagerPassword
	for i := range 5 {
		if code, _ := try(attacker, mgr, "wrong-password-"+strconv.Itoa(i)); code != http.StatusUnauthorized {
			t.Fatalf("attempt %d = %d, want 401", i+1, code)
		}
	}
	if code, session := try(attacker, mgr, mgrPassword); code != http.StatusTooManyRequests || session {
		t.Errorf("sixth attempt from the same address, right password = %d (session %v), want 429 and none", code, session)
	}
	if code, session := try(attacker, strings.ToUpper(mgr), mgrPassword); code != http.StatusTooManyRequests || session {
		t.Errorf("the same email in capitals = %d (session %v), want 429", code, session)
	}
	if code, session := try(attacker, mgr, mgrPassword, "X-Forwarded-For", "192.0.2.77"); code != http.StatusTooManyRequests || session {
		t.Errorf("the same address claiming another in X-Forwarded-For = %d (session %v), want 429", code, session)
	}
	// The owner, elsewhere, is not locked out, while the attacker goes on.
	if code, session := try(owner, mgr, mgrPassword); code != http.StatusSeeOther || !session {
		t.Errorf("the owner from another address = %d (session %v), want 303 and a session", code, session)
	}
	for range 30 {
		if code, _ := try(attacker, mgr, "still-guessing-123"); code != http.StatusTooManyRequests {
			t.Fatalf("the attacker's next guess = %d, want 429", code)
		}
	}
	if code, session := try(owner, mgr, mgrPassword); code != http.StatusSeeOther || !session {
		t.Errorf("the owner after 30 more guesses = %d (session %v), want 303 and a session", code, session)
	}
	// Other accounts from the attacker's address: refused after 20 failures in all.
	for i := range 15 {
		if code, _ := try(attacker, "nobody"+strconv.Itoa(i)+"@example.com", "wrong-password-123"); code != http.StatusUnauthorized {
			t.Fatalf("failure %d of the address = %d, want 401", 6+i, code)
		}
	}
	if code, session := try(attacker, fx.demo.AdminEmail, fx.demo.AdminPassword); code != http.StatusTooManyRequests || session {
		t.Errorf("another account from an address with 20 failures = %d (session %v), want 429", code, session)
	}
	if code, session := try(owner, fx.demo.AdminEmail, fx.demo.AdminPassword); code != http.StatusSeeOther || !session {
		t.Errorf("that account from another address = %d (session %v), want 303", code, session)
	}
	// Many addresses, one email: a slowdown, never a lock.
	fx.a.logins.step, fx.a.logins.maxWait = 5*time.Millisecond, 40*time.Millisecond
	for i := range 25 {
		try("192.0.2."+strconv.Itoa(10+i), fx.bEmail, "wrong-password-123")
	}
	_, wait, ok := fx.a.logins.begin("192.0.2.200", fx.bEmail)
	if !ok || wait <= 0 || wait > 40*time.Millisecond {
		t.Errorf("after 25 failures from 25 addresses: allowed %v, wait %v; want allowed, slowed, at most the cap", ok, wait)
	}
	if code, session := try(owner, fx.bEmail, fx.bPassword); code != http.StatusSeeOther || !session {
		t.Errorf("the owner of an email failed from 25 addresses = %d (session %v), want 303", code, session)
	}
	if d := newLoginLimiter(); d.maxWait > 5*time.Second {
		t.Errorf("the email slowdown waits up to %v", d.maxWait)
	}
}

// ---- Tenant isolation -------------------------------------------------------------

// publicRoutes are the routes outside any organisation, each with why. Every
// other route must be org- or user-scoped and is checked below: a new
// route that is neither fails the test.
var publicRoutes = map[string]string{
	"/healthz":         "operations: process up",
	"/readyz":          "operations: database reachable",
	"/metrics":         "operations: counters by route pattern; 404 unless TILTLINE_METRICS_TOKEN is set, then only with it",
	"/static/:file":    "embedded assets",
	"/":                "home page",
	"/learn":           "public portal",
	"/learn/search":    "public portal: pages and published cases",
	"/learn/:slug":     "public portal page and its published cases",
	"/learn/*":         "portal not-found handler",
	"/login":           "sign-in",
	"/logout":          "sign-out of one's own session",
	"/setup/:token":    "one-time installation link",
	"/password/forgot": "asks for a link by address, answers the same for all",
	"/password/:token": "one-time link of one account",
}

// respondentPrefixes are keyed by an unguessable link token or open-link
// key, not by a signed-in user.
var respondentPrefixes = []string{"/s/:token", "/o/:key"}

// TestTenantIsolationOnEveryRoute: an admin of organisation B, signed in
// with a valid CSRF token, and B's API token, try every org-scoped route
// with organisation A's ids. Each answers 403 or 404 and changes nothing;
// routes without an id answer with nothing of A's. The route table drives
// it, and a route neither public nor checkable fails it.
func TestTenantIsolationOnEveryRoute(t *testing.T) {
	fx := newSecFixture(t)
	a := fx.a
	b := fx.signIn(t, fx.bEmail, fx.bPassword)
	token := strings.TrimPrefix(linkPath(fx.demo.Links[0]), "/s/")
	checked := 0
	for _, r := range routeTable(a) {
		p := r.Path
		if _, ok := publicRoutes[p]; ok {
			continue
		}
		if slices.ContainsFunc(respondentPrefixes, func(pre string) bool { return strings.HasPrefix(p, pre) }) {
			continue
		}
		scoped := strings.HasPrefix(p, "/admin") || strings.HasPrefix(p, "/results") || strings.HasPrefix(p, "/api/v1") || strings.HasPrefix(p, "/learn/")
		if !scoped {
			t.Errorf("%s %s is neither public nor org- or user-scoped: classify it in this test", r.Method, p)
			continue
		}
		method := r.Method
		if method == "ANY" {
			method = http.MethodGet
		}
		path := fx.fill(t, p, token)
		hasID := strings.Contains(p, ":id") || strings.Contains(p, ":pid")
		before := dbSnapshot(t, a.db)
		req := httptest.NewRequest(method, path, strings.NewReader(url.Values{"csrf": {b.csrf}, "name": {"B was here"}, "status": {"closed"}}.Encode()))
		if strings.HasPrefix(p, "/api/") {
			req.Header.Set("Authorization", "Bearer "+fx.bToken)
		} else {
			req.AddCookie(b.cookie)
		}
		ct := "application/x-www-form-urlencoded"
		if strings.HasSuffix(p, "/participants") && strings.HasPrefix(p, "/api/") {
			ct = "text/csv"
			req.Body = io.NopCloser(strings.NewReader("email,name\nb-was-here@b.example,B\n"))
		}
		rec := fx.serve(req, ct)
		body := rec.Body.String()
		if hasID {
			if rec.Code != http.StatusNotFound && rec.Code != http.StatusForbidden {
				t.Errorf("%s %s as organisation B = %d, want 403 or 404", method, path, rec.Code)
			}
			if method != http.MethodGet {
				if d := snapshotDiff(before, dbSnapshot(t, a.db)); len(d) > 0 {
					t.Errorf("%s %s as organisation B changed %v", method, path, d)
				}
			}
		} else if rec.Code >= 500 {
			t.Errorf("%s %s as organisation B = %d", method, path, rec.Code)
		}
		for _, m := range fx.markers {
			if strings.Contains(body, m) {
				t.Errorf("%s %s as organisation B shows %q of organisation A", method, path, m)
			}
		}
		checked++
	}
	t.Logf("%d org- or user-scoped routes checked", checked)
	if checked < 40 {
		t.Errorf("only %d routes checked", checked)
	}
	// The markers are real: A's own admin sees them.
	admin := fx.signIn(t, fx.demo.AdminEmail, fx.demo.AdminPassword)
	req := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/admin/campaigns/%d/participants", fx.ids["campaign"]), nil)
	req.AddCookie(admin.cookie)
	if body := fx.serve(req, "").Body.String(); !strings.Contains(body, fx.markers[4]) || !strings.Contains(body, fx.markers[2]) {
		t.Error("organisation A's own admin does not see the markers: the check above proves nothing")
	}
}

// ---- Tokens -----------------------------------------------------------------------

// TestAPITokenLifetimeOnEveryAPIRoute: every route under /api/ refuses,
// with 401 and no change to the data, a token that expired (code
// token_expired), one an admin revoked, one whose owner set a new password,
// and one whose owner was removed; the same routes open to a live token of
// the same user, so the refusals are the token's. A new API route cannot
// skip the lifetime check.
func TestAPITokenLifetimeOnEveryAPIRoute(t *testing.T) {
	fx := newSecFixture(t)
	a := fx.a
	ctx := context.Background()
	admin, _ := survey.UserByEmail(ctx, a.db, fx.demo.AdminEmail)
	issue := func(email string) (string, int64) {
		tok, err := survey.CreateAPIToken(ctx, a.db, email, "lifetime")
		if err != nil {
			t.Fatal(err)
		}
		var id int64
		a.db.Read.Model(&survey.APIToken{}).Where("token_hash = ?", survey.HashToken(tok)).Pluck("id", &id)
		return tok, id
	}
	live, _ := issue(admin.Email)
	expired, expiredID := issue(admin.Email)
	a.db.Write.Model(&survey.APIToken{}).Where("id = ?", expiredID).Update("expires_at", time.Now().UTC().Add(-time.Minute))
	revoked, revokedID := issue(admin.Email)
	if err := survey.RevokeOrgAPIToken(ctx, a.db, fx.ids["org"], revokedID); err != nil {
		t.Fatal(err)
	}
	resetUser, _ := survey.CreateUserWithPassword(ctx, a.db, "reset@demo-bank.example", "", survey.RoleOrgAdmin, admin.OrganisationID, "reset-password-123")
	reset, _ := issue(resetUser.Email)
	link, _ := survey.NewPasswordToken(ctx, a.db, resetUser.ID, time.Hour)
	if _, err := survey.UsePasswordToken(ctx, a.db, link, "another-password-123"); err != nil {
		t.Fatal(err)
	}
	goneUser, _ := survey.CreateUserWithPassword(ctx, a.db, "gone@demo-bank.example", "", survey.RoleOrgAdmin, admin.OrganisationID, "gone-password-1234")
	gone, _ := issue(goneUser.Email)
	if err := survey.DeleteUser(ctx, a.db, fx.ids["org"], goneUser.ID); err != nil {
		t.Fatal(err)
	}
	refused := []struct{ name, token, code string }{
		{"an expired token", expired, "token_expired"},
		{"a revoked token", revoked, "unauthorized"},
		{"a token from before a password reset", reset, "unauthorized"},
		{"a removed user's token", gone, "unauthorized"},
	}
	call := func(method, path, token string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader("email,name\nlifetime@demo-bank.example,L\n"))
		req.Header.Set("Authorization", "Bearer "+token)
		return fx.serve(req, "text/csv")
	}
	// Reading first, so the live token's control calls come after every refusal.
	checked := 0
	for _, r := range routeTable(a) {
		if !strings.HasPrefix(r.Path, "/api/") {
			continue
		}
		method := r.Method
		if method == "ANY" {
			method = http.MethodGet
		}
		path := fx.fill(t, r.Path, "")
		before := dbSnapshot(t, a.db)
		for _, tc := range refused {
			rec := call(method, path, tc.token)
			if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), `"code":"`+tc.code+`"`) {
				t.Errorf("%s %s with %s = %d %.200s, want 401 %s", method, path, tc.name, rec.Code, rec.Body.String(), tc.code)
			}
		}
		if d := snapshotDiff(before, dbSnapshot(t, a.db)); len(d) > 0 {
			t.Errorf("%s %s: refused tokens changed %v", method, path, d)
		}
		checked++
	}
	for _, r := range routeTable(a) {
		if !strings.HasPrefix(r.Path, "/api/v1/") || r.Method != http.MethodGet {
			continue
		}
		if rec := call(http.MethodGet, fx.fill(t, r.Path, ""), live); rec.Code == http.StatusUnauthorized {
			t.Errorf("GET %s with a live token = 401: the refusals above prove nothing", r.Path)
		}
	}
	t.Logf("%d API routes checked", checked)
	if checked < 10 {
		t.Errorf("only %d API routes checked", checked)
	}
}

// TestTokensAre256BitAndComparedInConstantTime: link tokens, open-link
// keys, API tokens, password and set-up links carry 256 random bits; and no
// code outside tests compares a token, hash, secret or CSRF value with ==:
// they go through hmac.Equal, subtle.ConstantTimeCompare, or a lookup by
// hash.
func TestTokensAre256BitAndComparedInConstantTime(t *testing.T) {
	fx := newSecFixture(t)
	bits := func(name, tok string) {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(b) < 32 {
			t.Errorf("%s %q: %d bytes, %v; want 32", name, tok, len(b), err)
		}
	}
	for _, l := range fx.demo.Links {
		bits("link token", strings.TrimPrefix(linkPath(l), "/s/"))
	}
	bits("open-link key", survey.NewOpenToken())
	bits("API token", strings.TrimPrefix(fx.demo.APIToken, "tl_"))
	reset, _ := survey.NewPasswordToken(context.Background(), fx.a.db, fx.spareUser, time.Hour)
	bits("password link", reset)
	fx.a.db.Write.Exec("DELETE FROM users")
	bits("set-up link", strings.TrimPrefix(fx.a.offerSetup(context.Background()), fx.a.cfg.BaseURL+"/setup/"))
	seen := map[string]bool{}
	for range 1000 {
		tok := survey.NewOpenToken()
		if seen[tok] {
			t.Fatal("a random token repeated")
		}
		seen[tok] = true
	}

	// Source audit: == and != on secrets leak their prefix through timing.
	// (A password compared with its confirmation from the same form is
	// no secret against a stored one, so "password" is not in the list.)
	secretName := regexp.MustCompile(`(?i)token|csrf|secret|hash|digest|\bmac\b`)
	var files []string
	for _, dir := range []string{".", "../survey", "../portal"} {
		fs, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range fs {
			if !strings.HasSuffix(f, "_test.go") {
				files = append(files, f)
			}
		}
	}
	fset := token.NewFileSet()
	consts := map[string]bool{}
	var parsed []*ast.File
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		af, err := parser.ParseFile(fset, f, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, af)
		for _, d := range af.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.CONST {
				for _, s := range g.Specs {
					for _, n := range s.(*ast.ValueSpec).Names {
						consts[n.Name] = true
					}
				}
			}
		}
	}
	// harmless is an operand that is no secret: a literal, nil, a
	// constant, a length or a comparison of a field that names no secret.
	harmless := func(e ast.Expr) bool {
		switch e := e.(type) {
		case *ast.BasicLit:
			return true
		case *ast.Ident:
			return e.Name == "nil" || consts[e.Name]
		case *ast.SelectorExpr:
			return consts[e.Sel.Name]
		case *ast.CallExpr:
			if id, ok := e.Fun.(*ast.Ident); ok && (id.Name == "len" || id.Name == "cap") {
				return true
			}
		}
		return false
	}
	src := func(e ast.Expr) string {
		var sb strings.Builder
		ast.Inspect(e, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok {
				sb.WriteString(id.Name + ".")
			}
			return true
		})
		return sb.String()
	}
	calls := map[string]int{}
	for _, af := range parsed {
		ast.Inspect(af, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BinaryExpr:
				if n.Op != token.EQL && n.Op != token.NEQ {
					return true
				}
				if harmless(n.X) || harmless(n.Y) {
					return true
				}
				if secretName.MatchString(src(n.X)) || secretName.MatchString(src(n.Y)) {
					t.Errorf("%s: %s %s %s compares a secret with %s; use hmac.Equal or a lookup by hash",
						fset.Position(n.Pos()), src(n.X), n.Op, src(n.Y), n.Op)
				}
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
					if x, ok := sel.X.(*ast.Ident); ok {
						calls[x.Name+"."+sel.Sel.Name]++
					}
				}
			}
			return true
		})
	}
	if calls["hmac.Equal"]+calls["subtle.ConstantTimeCompare"] < 3 {
		t.Errorf("constant-time comparisons found: %v", calls)
	}
}
