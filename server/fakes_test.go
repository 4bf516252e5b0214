package server

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"tiltline/survey"
)

// Fake respondents (issue 12, attack class 5): whoever can answer an open
// link again and again can add k−1 known answers next to one person's.

// TestManagersNeverReceiveTheOpenLink walks every GET route as a manager,
// signed in and with their API token, and finds the campaign's open-link key
// in no body and no header; the organisation's admin does get it.
func TestManagersNeverReceiveTheOpenLink(t *testing.T) {
	fx := newSecFixture(t)
	mgr := fx.signIn(t, fx.demo.ManagerEmail, fx.demo.ManagerPassword)
	token := strings.TrimPrefix(linkPath(fx.demo.Links[0]), "/s/")
	id := fx.ids["campaign"]
	checked := 0
	for _, r := range routeTable(fx.a) {
		if r.Method != http.MethodGet && r.Method != "ANY" {
			continue
		}
		if slices.ContainsFunc(respondentPrefixes, func(pre string) bool { return strings.HasPrefix(r.Path, pre) }) {
			continue // the respondent's own pages: reached only with the key
		}
		path := fx.fill(t, r.Path, token)
		for _, q := range []string{"", "?unit=" + fmt.Sprint(fx.ids["unit"]), "?lang=de"} {
			for _, how := range []string{"session", "token"} {
				req := httptest.NewRequest(http.MethodGet, path+q, nil)
				if how == "session" {
					req.AddCookie(mgr.cookie)
				} else {
					req.Header.Set("Authorization", "Bearer "+fx.demo.APIToken)
				}
				rec := fx.serve(req, "")
				if strings.Contains(rec.Body.String(), fx.openKey) {
					t.Errorf("GET %s%s as manager (%s, %d) shows the open-link key", path, q, how, rec.Code)
				}
				for name, vs := range rec.Header() {
					if strings.Contains(strings.Join(vs, " "), fx.openKey) {
						t.Errorf("GET %s%s as manager (%s): header %s carries the open-link key", path, q, how, name)
					}
				}
				if rec.Code == http.StatusOK {
					checked++
				}
			}
		}
	}
	t.Logf("%d manager responses checked", checked)
	if checked < 20 {
		t.Errorf("only %d manager responses with status 200: the walk reaches too little", checked)
	}

	// The check is real: the admin sees the link on the campaign page and in the API.
	admin := fx.signIn(t, fx.demo.AdminEmail, fx.demo.AdminPassword)
	req := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/admin/campaigns/%d", id), nil)
	req.AddCookie(admin.cookie)
	if body := fx.serve(req, "").Body.String(); !strings.Contains(body, "/o/"+fx.openKey) {
		t.Error("the org admin's campaign page lacks the open link")
	}
	adminToken, err := survey.CreateAPIToken(context.Background(), fx.a.db, fx.demo.AdminEmail, "admin")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fmt.Sprintf("/api/v1/campaigns/%d", id), "/api/v1/campaigns"} {
		if code, out := apiCall(t, fx.a, http.MethodGet, path, adminToken, ""); code != 200 || !strings.Contains(fmt.Sprint(out), fx.openKey) {
			t.Errorf("GET %s with the admin's token = %d, lacks open_link_url", path, code)
		}
	}
}

// openCampaign adds an open-link campaign to the demo organisation.
func openCampaign(t *testing.T, a *App, demo *survey.DemoResult) (key string, id int64) {
	t.Helper()
	var prev survey.Campaign
	if err := a.db.Read.First(&prev, demo.CampaignID).Error; err != nil {
		t.Fatal(err)
	}
	key = survey.NewOpenToken()
	c := &survey.Campaign{OrganisationID: prev.OrganisationID, Name: "Pulse", ModelVersion: prev.ModelVersion, KMin: 5,
		Status: survey.StatusOpen, OpenLink: true, OpenKey: &key, Locales: "en,de,fr", AskRole: true}
	if err := a.db.Write.Create(c).Error; err != nil {
		t.Fatal(err)
	}
	return key, c.ID
}

// answerOpen goes through an open link once in f's browser and returns the
// submit's Set-Cookie header.
func answerOpen(t *testing.T, f *flowClient) string {
	t.Helper()
	if code, _ := f.get(""); code != 200 {
		t.Fatalf("welcome: %d", code)
	}
	if code, _ := f.post("/start", url.Values{"role": {"researcher"}}); code != 303 {
		t.Fatalf("start: %d", code)
	}
	if code, _ := f.put(`{"practice":"PR-01","dimension":"reality","level":5}`); code != 204 {
		t.Fatalf("autosave: %d", code)
	}
	code, _, h := f.do(http.MethodPost, "/submit", "application/x-www-form-urlencoded", url.Values{"csrf": {f.csrf}}.Encode())
	if code != 303 {
		t.Fatalf("submit: %d", code)
	}
	return h.Get("Set-Cookie")
}

// countResponses counts a campaign's submitted responses: released, or
// waiting sealed for a release.
func countResponses(t *testing.T, a *App, campaignID int64) int64 {
	t.Helper()
	return stored(t, a, campaignID)
}

// TestOpenLinkAnswersOncePerBrowser: after submitting, the browser keeps a
// signed marker for a year and gets the thank-you page, not a fresh survey;
// the marker is the campaign's own.
func TestOpenLinkAnswersOncePerBrowser(t *testing.T) {
	a, demo, _ := newTestApp(t)
	key, id := openCampaign(t, a, demo)
	f := newFlow(t, a, "/o/"+key)
	setCookie := answerOpen(t, f)
	ck, err := http.ParseSetCookie(setCookie)
	if err != nil || ck.Name != openCookie || !strings.HasPrefix(ck.Value, "done.") || ck.MaxAge < 365*24*3600 || ck.Path != "/o/"+key {
		t.Fatalf("after submit the browser keeps %q, want a year-long signed marker for the campaign's path", setCookie)
	}
	for _, path := range []string{"", "/p/1", "/review"} {
		if code, body := f.get(path); !strings.Contains(body, "Already submitted") || strings.Contains(body, `name="role"`) {
			t.Errorf("GET %s after submit = %d, want the thank-you page", path, code)
		}
	}
	if code, loc := f.post("/start", url.Values{"role": {"researcher"}}); code != 303 || loc != "/o/"+key+"/thanks" {
		t.Errorf("starting again after submit = %d %q, want back to the thank-you page", code, loc)
	}
	if code, _ := f.put(`{"practice":"PR-01","dimension":"reality","level":1}`); code != http.StatusConflict {
		t.Errorf("autosave after submit = %d, want 409", code)
	}
	if n := countResponses(t, a, id); n != 1 {
		t.Errorf("%d responses, want 1", n)
	}

	// The marker is signed for its campaign: on another campaign's link, or
	// forged, it counts for nothing.
	key2, _ := openCampaign(t, a, demo)
	for _, v := range []string{ck.Value, "submitted", "done.forged"} {
		r := get(t, a, "/o/"+key2, "Cookie", openCookie+"="+v)
		if b := body(t, r); r.StatusCode != 200 || !strings.Contains(b, `name="role"`) {
			t.Errorf("marker %q on another campaign: %d, want a fresh welcome page", v, r.StatusCode)
		}
	}
	r := get(t, a, "/o/"+key, "Cookie", openCookie+"="+ck.Value)
	if b := body(t, r); !strings.Contains(b, "Already submitted") {
		t.Errorf("the marker alone, in a fresh browser: %d, want the thank-you page", r.StatusCode)
	}
}

// from sends f's requests as if from ip, through the trusted proxy.
func (f *flowClient) from(ip string) []string { return []string{"X-Forwarded-For", ip} }

func (f *flowClient) postForm(path string, header []string) (int, string, http.Header) {
	f.t.Helper()
	return f.do(http.MethodPost, path, "application/x-www-form-urlencoded", url.Values{"csrf": {f.csrf}, "role": {"researcher"}}.Encode(), header...)
}

func countDrafts(t *testing.T, a *App, campaignID int64) int64 {
	t.Helper()
	var n int64
	if err := a.db.Read.Model(&survey.Draft{}).Where("campaign_id = ?", campaignID).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// TestOpenLinkLimitPerAddress: a browser that drops its cookie gets a fresh
// survey, but one address starts at most N answers a campaign a day; the
// N+1st gets a localised 429 that keeps nothing and says when to come back.
func TestOpenLinkLimitPerAddress(t *testing.T) {
	const n = 3
	a, demo, logs := newTestAppWith(t, func(c *Config) { c.OpenLinkPerIP = n })
	key, id := openCampaign(t, a, demo)
	for i := range n {
		answerOpen(t, newFlow(t, a, "/o/"+key)) // a fresh browser each time: no cookie
		if got := countResponses(t, a, id); got != int64(i+1) {
			t.Fatalf("%d responses after %d browsers", got, i+1)
		}
	}
	f := newFlow(t, a, "/o/"+key)
	if code, _ := f.get(""); code != 200 {
		t.Fatalf("the welcome page keeps nothing and stays open: %d", code)
	}
	drafts := countDrafts(t, a, id)
	for _, step := range []struct{ method, path, lang, want string }{
		{http.MethodPost, "/start", "en", "at most 3 new answers a day"},
		{http.MethodGet, "/p/1", "de", "höchstens 3 neue Antworten pro Tag"},
		{http.MethodGet, "/review", "fr", "au plus 3 nouvelles réponses par jour"},
	} {
		code, b, h := f.do(step.method, step.path+"?lang="+step.lang, "application/x-www-form-urlencoded",
			url.Values{"csrf": {f.csrf}, "role": {"researcher"}}.Encode())
		if code != http.StatusTooManyRequests || !strings.Contains(b, step.want) {
			t.Errorf("%s %s over the limit = %d, want 429 saying %q", step.method, step.path, code, step.want)
		}
		if ra, err := strconv.Atoi(h.Get("Retry-After")); err != nil || ra < 3600 || ra > 24*3600/n+1 {
			t.Errorf("Retry-After %q, want the seconds until the next of %d a day", h.Get("Retry-After"), n)
		}
		if !strings.Contains(b, "hours") && !strings.Contains(b, "Stunden") && !strings.Contains(b, "heures") {
			t.Errorf("%s %s: the page does not say when to try again", step.method, step.path)
		}
	}
	if code, b := f.put(`{"practice":"PR-01","dimension":"reality","level":5}`); code != http.StatusTooManyRequests || !strings.Contains(b, "au plus 3") { // the language chosen last
		t.Errorf("autosave starting a draft over the limit = %d %s", code, b)
	}
	if got := countDrafts(t, a, id); got != drafts {
		t.Errorf("drafts %d → %d: a refused start kept something", drafts, got)
	}
	if got := countResponses(t, a, id); got != n {
		t.Errorf("%d responses, want %d", got, n)
	}
	// Per campaign: the same address answers another open link.
	key2, id2 := openCampaign(t, a, demo)
	answerOpen(t, newFlow(t, a, "/o/"+key2))
	if got := countResponses(t, a, id2); got != 1 {
		t.Errorf("another campaign from the same address: %d responses, want 1", got)
	}
	// Without a trusted proxy, X-Forwarded-For is anyone's to write: ignored.
	g := newFlow(t, a, "/o/"+key)
	g.get("")
	if code, _, _ := g.postForm("/start", g.from("203.0.113.7")); code != http.StatusTooManyRequests {
		t.Errorf("a forged X-Forwarded-For escaped the limit: %d", code)
	}
	if strings.Contains(logs.String(), "127.0.0.1") || strings.Contains(logs.String(), "203.0.113.7") {
		t.Error("the log names a client address")
	}
}

// TestOpenLinkLimitBehindTrustedProxy: behind the configured proxy each
// client counts by its own address; submits have their own limit, and a
// refused submit keeps the draft for later.
func TestOpenLinkLimitBehindTrustedProxy(t *testing.T) {
	const n = 2
	a, demo, logs := newTestAppWith(t, func(c *Config) { c.OpenLinkPerIP, c.TrustedProxies = n, "127.0.0.1, 10.0.0.0/8" })
	key, id := openCampaign(t, a, demo)
	var fs []*flowClient
	for i := range n + 1 { // each starts from its own address …
		f := newFlow(t, a, "/o/"+key)
		f.do(http.MethodGet, "", "", "", f.from(fmt.Sprintf("203.0.113.%d", i+1))...)
		if code, _, _ := f.postForm("/start", f.from(fmt.Sprintf("203.0.113.%d", i+1))); code != 303 {
			t.Fatalf("start from its own address behind the proxy: %d", code)
		}
		fs = append(fs, f)
	}
	for i, f := range fs { // … and all submit from one (the proxy's hop list is read right to left)
		hop := f.from("198.51.100.9, 10.1.2.3")
		code, b, _ := f.postForm("/submit", hop)
		switch {
		case i < n && code != 303:
			t.Errorf("submit %d: %d", i+1, code)
		case i == n && (code != http.StatusTooManyRequests || !strings.Contains(b, "Your answers so far are saved")):
			t.Errorf("submit %d over the limit = %d, want 429 keeping the draft", i+1, code)
		}
	}
	if got := countResponses(t, a, id); got != n {
		t.Errorf("%d responses, want %d", got, n)
	}
	if got := countDrafts(t, a, id); got != 1 {
		t.Errorf("%d drafts left, want the refused one", got)
	}
	if strings.Contains(logs.String(), "198.51.100.9") || strings.Contains(logs.String(), "203.0.113.") {
		t.Error("the log names a client address")
	}
}

func TestOpenLimitsCountPerAddressAndForget(t *testing.T) {
	l := newOpenLimits(5)
	for i := range 5 {
		if _, ok := l.take("start", 1, "192.0.2.1"); !ok {
			t.Fatalf("start %d refused", i+1)
		}
	}
	wait, ok := l.take("start", 1, "192.0.2.1")
	if ok || wait < 4*time.Hour || wait > 5*time.Hour {
		t.Errorf("6th start: ok=%v, wait %v; want refused for about 24h/5", ok, wait)
	}
	if _, ok := l.take("submit", 1, "192.0.2.1"); !ok {
		t.Error("submits are counted apart from starts")
	}
	if _, ok := l.take("start", 2, "192.0.2.1"); !ok {
		t.Error("another campaign is counted apart")
	}
	// One IPv6 subscriber holds a /64: its addresses count together.
	for i := range 5 {
		l.take("start", 1, fmt.Sprintf("2001:db8:1:2::%x", i+1))
	}
	if _, ok := l.take("start", 1, "2001:db8:1:2:ffff::1"); ok {
		t.Error("addresses of one /64 are counted apart")
	}
	if _, ok := l.take("start", 1, "2001:db8:1:3::1"); !ok {
		t.Error("the next /64 is someone else")
	}
	for i := range openLimitKeys + 100 {
		l.take("start", 3, fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
	}
	if l.lru.Len() > openLimitKeys {
		t.Errorf("%d keys kept, bound %d", l.lru.Len(), openLimitKeys)
	}
	if _, ok := newOpenLimits(0).take("start", 1, "192.0.2.1"); !ok {
		t.Error("0 means no limit")
	}
}

func TestTrustedProxiesSetting(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"", 0, true}, {"127.0.0.1", 1, true}, {"10.0.0.0/8, fd00::/8 ,::1", 3, true},
		{"proxy.local", 0, false}, {"10.0.0.0/33", 0, false},
	} {
		got, err := parseProxies(tc.in)
		if (err == nil) != tc.ok || len(got) != tc.want {
			t.Errorf("parseProxies(%q) = %d ranges, %v", tc.in, len(got), err)
		}
		if err != nil && !errors.Is(err, ErrUsage) {
			t.Errorf("parseProxies(%q): %v is not a usage error", tc.in, err)
		}
	}
}

// TestParticipantsAddedAfterOpeningAreShown: managers and admins read, on
// the results page and the campaign page, how many people were added after
// the campaign opened, when, by whom and how; never who.
func TestParticipantsAddedAfterOpeningAreShown(t *testing.T) {
	a, demo, _ := newTestApp(t)
	admin := signedIn(t, a, demo.AdminEmail, demo.AdminPassword)
	mgr := newFlow(t, a, "")
	if code, loc := mgr.post("/login", url.Values{"email": {demo.ManagerEmail}, "password": {demo.ManagerPassword}}); code != 303 || loc != "/results" {
		t.Fatalf("manager sign-in: %d %q", code, loc)
	}
	results := fmt.Sprintf("/results/%d", demo.CampaignID)
	if code, b := mgr.get(results + "?lang=en"); code != 200 || strings.Contains(b, "after the campaign opened") {
		t.Fatalf("results before any addition: %d", code) // and its fragment is now cached
	}

	// Twelve through the API by the admin's token, one by hand on the page.
	token, err := survey.CreateAPIToken(context.Background(), a.db, demo.AdminEmail, "hr")
	if err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("email,name\n")
	for i := range 12 {
		fmt.Fprintf(&csv, "late%d@example.com,Latecomer Number%d\n", i, i)
	}
	if code, out := apiCall(t, a, http.MethodPost, fmt.Sprintf("/api/v1/campaigns/%d/participants", demo.CampaignID), token, csv.String()); code != 200 || out["added"] != 12.0 {
		t.Fatalf("API import: %d %v", code, out)
	}
	if code, _ := admin.post(fmt.Sprintf("/admin/campaigns/%d/participants/add", demo.CampaignID), url.Values{"email": {"solo@example.com"}, "name": {"Solo Latecomer"}}); code != 303 {
		t.Fatalf("add one: %d", code)
	}

	now := time.Now().UTC()
	month := func(lang string) string {
		return a.i18n.T(lang, "mail.month."+strconv.Itoa(int(now.Month())), nil)
	}
	wants := map[string][]string{
		"en": {fmt.Sprintf("12 participants were added on %d %s %d by Ada Admin after the campaign opened (file import).", now.Day(), month("en"), now.Year()),
			fmt.Sprintf("1 participant was added on %d %s %d by Ada Admin after the campaign opened (entered by hand).", now.Day(), month("en"), now.Year())},
		"de": {fmt.Sprintf("12 Teilnehmende wurden am %d. %s %d von Ada Admin hinzugefügt, nachdem die Kampagne geöffnet war (Import aus einer Datei).", now.Day(), month("de"), now.Year())},
		"fr": {fmt.Sprintf("12 participants ont été ajoutés le %d %s %d par Ada Admin après l’ouverture de la campagne (import d’un fichier).", now.Day(), month("fr"), now.Year())},
	}
	for _, lang := range []string{"en", "de", "fr"} {
		for who, f := range map[string]*flowClient{"manager": mgr, "admin": admin} {
			for _, page := range []string{results, fmt.Sprintf("/admin/campaigns/%d", demo.CampaignID)} {
				if who == "manager" && strings.HasPrefix(page, "/admin") {
					continue
				}
				code, b := f.get(page + "?lang=" + lang)
				if code != 200 {
					t.Errorf("%s %s in %s: %d", who, page, lang, code)
					continue
				}
				for _, want := range wants[lang] {
					if !strings.Contains(b, html.EscapeString(want)) {
						t.Errorf("%s %s in %s lacks %q", who, page, lang, want)
					}
				}
				for _, name := range []string{"Latecomer", "late0@example.com", "solo@example.com"} {
					if strings.Contains(b, name) {
						t.Errorf("%s %s in %s names someone added: %q", who, page, lang, name)
					}
				}
			}
		}
	}
}
