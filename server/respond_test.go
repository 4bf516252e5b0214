package server

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"tiltline/survey"
)

// flowClient drives the respondent flow over real HTTP, without following
// redirects, so each step's status and Location can be asserted.
type flowClient struct {
	t    *testing.T
	srv  *httptest.Server
	http *http.Client
	base string // "/s/TOKEN" or "/o/KEY"
	csrf string
}

func newFlow(t *testing.T, a *App, base string) *flowClient {
	t.Helper()
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	return &flowClient{t: t, srv: srv, base: base, http: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (f *flowClient) do(method, path, contentType, body string, header ...string) (int, string, http.Header) {
	f.t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+f.base+path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := f.http.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if m := csrfField.FindSubmatch(b); m != nil {
		f.csrf = string(m[1])
	}
	return res.StatusCode, string(b), res.Header
}

func (f *flowClient) get(path string) (int, string) {
	code, body, _ := f.do(http.MethodGet, path, "", "")
	return code, body
}

// post sends a form with the page's CSRF token and returns status and Location.
func (f *flowClient) post(path string, form url.Values) (int, string) {
	if form == nil {
		form = url.Values{}
	}
	if form.Get("csrf") == "" {
		form.Set("csrf", f.csrf)
	}
	code, _, h := f.do(http.MethodPost, path, "application/x-www-form-urlencoded", form.Encode())
	return code, strings.TrimPrefix(h.Get("Location"), f.srv.URL)
}

func (f *flowClient) put(body string, header ...string) (int, string) {
	code, b, _ := f.do(http.MethodPut, "/answers", "application/json", body, append([]string{"X-CSRF-Token", f.csrf}, header...)...)
	return code, b
}

func linkPath(link string) string { return strings.TrimPrefix(link, "http://test") }

func draftAnswers(t *testing.T, a *App, token string) []byte {
	t.Helper()
	d, err := survey.LoadDraft(context.Background(), a.db, survey.DraftKey(a.cfg.Secret, token))
	if err != nil {
		t.Fatal(err)
	}
	return d.Answers
}

func TestFlowWithoutJavaScript(t *testing.T) {
	a, demo, logs := newTestApp(t)
	base := linkPath(demo.Links[0])
	token := strings.TrimPrefix(base, "/s/")
	f := newFlow(t, a, base)

	if code, body := f.get(""); code != 200 || !strings.Contains(body, "Welcome") || f.csrf == "" {
		t.Fatalf("welcome: %d", code)
	}
	if code, loc := f.post("/start", nil); code != http.StatusSeeOther || loc != base+"/p/1" {
		t.Fatalf("start: %d %q", code, loc)
	}
	if code, loc := f.post("/p/1", url.Values{"AP-01.intention": {"2"}, "AP-01.reality": {"dk"}, "go": {"next"}}); code != http.StatusSeeOther || loc != base+"/p/2" {
		t.Fatalf("next: %d %q", code, loc)
	}
	a1 := draftAnswers(t, a, token)
	if a1[0] != 2 || a1[1] != survey.DontKnow {
		t.Errorf("page answers not saved: %v", a1[:2])
	}
	if code, body := f.get("/p/1"); code != 200 || !strings.Contains(body, `id="AP-01-intention-2" name="AP-01.intention" value="2" aria-describedby="lvl-intention-2" checked`) {
		t.Errorf("saved answer not checked on the page (%d)", code)
	}
	if code, loc := f.post("/p/2", url.Values{"go": {"prev"}}); loc != base+"/p/1" {
		t.Errorf("prev: %d %q", code, loc)
	}
	if code, loc := f.post("/p/5", url.Values{"go": {"review"}}); loc != base+"/review" {
		t.Errorf("review: %d %q", code, loc)
	}
	if code, loc := f.post("/p/13", url.Values{"go": {"next"}}); loc != base+"/review" {
		t.Errorf("last page next: %d %q", code, loc)
	}
	// Leaving and coming back resumes at the first page with open questions.
	if code, _, h := f.do(http.MethodGet, "", "", ""); code != http.StatusSeeOther || !strings.Contains(h.Get("Location"), base+"/p/1") {
		t.Errorf("resume: %d %v", code, h.Get("Location"))
	}
	// A second device, with no language cookie, resumes in the language the draft was answered in.
	other := newFlow(t, a, base)
	if code, _, h := other.do(http.MethodGet, "", "", "", "Accept-Language", "fr", "Cookie", ""); code != http.StatusSeeOther || !strings.HasSuffix(h.Get("Location"), base+"/p/1?lang=en") {
		t.Errorf("resume on a second device: %d %v", code, h.Get("Location"))
	}
	code, body := f.get("/review")
	if code != 200 || !strings.Contains(body, base+"/p/1#AP-02") {
		t.Errorf("review must link back to unanswered AP-02 (%d)", code)
	}
	// The review page's form (ask=1) with nearly everything open asks once,
	// on a page of its own; that page's form submits.
	code, _, _ = f.do(http.MethodPost, "/submit", "application/x-www-form-urlencoded", url.Values{"csrf": {f.csrf}, "ask": {"1"}}.Encode())
	if code != http.StatusOK || stored(t, a, demo.CampaignID) != 20 {
		t.Fatalf("submit with 207 of 208 ratings open: %d, want the confirmation page and nothing stored", code)
	}
	_, body = f.get("/review")
	if !strings.Contains(body, `name="ask" value="1"`) {
		t.Error("the review page's submit form does not ask for the confirmation")
	}
	if code, loc := f.post("/submit", nil); code != http.StatusSeeOther || loc != base+"/thanks" {
		t.Fatalf("submit: %d %q", code, loc)
	}
	if code, body := f.get("/thanks"); code != 200 || !strings.Contains(body, "Thank you!") || !strings.Contains(body, "What happens next") || strings.Contains(body, "<form") {
		t.Errorf("right after submit: %d, want the thank-you page", code)
	}
	if code, body := f.get(""); code != 200 || !strings.Contains(body, "Already submitted") || strings.Contains(body, "<form") || strings.Contains(body, "What happens next") {
		t.Errorf("after submit the link must only say it was submitted: %d", code)
	}
	if code, loc := f.post("/submit", nil); code != http.StatusSeeOther || loc != base+"/thanks" {
		t.Errorf("double submit: %d %q", code, loc)
	}
	if n := stored(t, a, demo.CampaignID); n != 21 {
		t.Errorf("responses and pending responses = %d, want 20 demo + 1", n)
	}
	if code, _ := f.put(`{"practice":"AP-01","dimension":"intention","level":1}`); code != http.StatusConflict {
		t.Errorf("autosave after submit: %d, want 409", code)
	}
	if strings.Contains(logs.String(), token) {
		t.Error("token in the log")
	}
}

// stored counts a campaign's responses, released or still sealed in
// pending_responses: a submit adds one.
func stored(t *testing.T, a *App, campaignID int64) int64 {
	t.Helper()
	return count(t, a, &survey.Response{}, "campaign_id = ?", campaignID) + count(t, a, &survey.PendingRow{}, "campaign_id = ?", campaignID)
}

// pendingOf opens a campaign's submitted, not yet released responses.
func pendingOf(t *testing.T, a *App, campaignID int64) []survey.PendingResponse {
	t.Helper()
	ps, err := survey.LoadPending(a.db.Read, a.cfg.Secret, campaignID)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func count(t *testing.T, a *App, model any, where string, args ...any) int64 {
	t.Helper()
	var n int64
	a.db.Read.Model(model).Where(where, args...).Count(&n)
	return n
}

func TestAutosaveRejectsBadInput(t *testing.T) {
	a, demo, _ := newTestApp(t)
	base := linkPath(demo.Links[0])
	f := newFlow(t, a, base)
	f.get("")
	f.post("/start", nil)
	good := `{"practice":"AP-01","dimension":"intention","level":4}`
	cases := []struct {
		name   string
		body   string
		header []string
		want   int
	}{
		{"unknown practice", `{"practice":"ZZ-01","dimension":"intention","level":1}`, nil, 400},
		{"unknown dimension", `{"practice":"AP-01","dimension":"dream","level":1}`, nil, 400},
		{"level out of range", `{"practice":"AP-01","dimension":"intention","level":9}`, nil, 400},
		{"one bad answer in a list", `[` + good + `,{"practice":"AP-01","dimension":"reality","level":0}]`, nil, 400},
		{"broken JSON", `{"practice":`, nil, 400},
		{"missing CSRF token", good, []string{"X-CSRF-Token", "forged"}, 403},
		{"cross-site request", good, []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"foreign origin", good, []string{"Origin", "https://evil.example"}, 403},
		{"oversized body", `[` + strings.Repeat(good+",", 2000) + good + `]`, nil, 413},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := f.put(tc.body, tc.header...)
			if code != tc.want || !strings.Contains(body, `"error"`) {
				t.Errorf("status %d, body %s", code, body)
			}
		})
	}
	if a := draftAnswers(t, a, strings.TrimPrefix(base, "/s/")); a[0] != 0 || a[1] != 0 {
		t.Errorf("a rejected request stored something: %v", a[:2])
	}
	code, _, _ := f.do(http.MethodPut, "/answers", "text/plain", good, "X-CSRF-Token", f.csrf)
	if code != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain autosave = %d, want 415", code)
	}
	if code, _ := f.put(good); code != http.StatusNoContent {
		t.Fatalf("good autosave = %d", code)
	}
	if a := draftAnswers(t, a, strings.TrimPrefix(base, "/s/")); a[0] != 4 {
		t.Errorf("good autosave not stored: %v", a[:2])
	}
}

func TestFormPostsRejectBadInput(t *testing.T) {
	a, demo, _ := newTestApp(t)
	base := linkPath(demo.Links[0])
	f := newFlow(t, a, base)
	f.get("")
	if code, _ := f.post("/start", url.Values{"csrf": {"wrong"}}); code != http.StatusForbidden {
		t.Errorf("start with a wrong CSRF token = %d", code)
	}
	f.post("/start", nil)
	if code, _ := f.post("/p/1", url.Values{"AP-01.intention": {"7"}}); code != http.StatusBadRequest {
		t.Errorf("level 7 = %d, want 400", code)
	}
	for _, p := range []string{"/p/0", "/p/14", "/p/x", "/p/-1", "/nowhere"} {
		if code, _ := f.get(p); code != http.StatusNotFound {
			t.Errorf("%s = %d, want 404", p, code)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+base+"/p/1", strings.NewReader("csrf="+f.csrf))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if res, _ := f.http.Do(req); res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site form post = %d", res.StatusCode)
	}
}

func TestWelcomeAsksWhatTheListLacksAndKeepsInputOnError(t *testing.T) {
	a, demo, _ := newTestApp(t)
	a.db.Write.Model(&survey.Campaign{}).Where("id = ?", demo.CampaignID).Updates(map[string]any{"ask_role": true, "ask_seniority": true})
	base := linkPath(demo.Links[0])
	f := newFlow(t, a, base)
	_, body := f.get("?lang=de")
	if !strings.Contains(body, `name="role"`) || !strings.Contains(body, `name="seniority"`) || strings.Contains(body, `name="unit"`) {
		t.Fatal("welcome must ask role and seniority, and not the unit the list gave")
	}
	code, errPage, _ := f.do(http.MethodPost, "/start", "application/x-www-form-urlencoded",
		url.Values{"csrf": {f.csrf}, "role": {"wizard"}, "seniority": {"manager"}}.Encode())
	if code != http.StatusUnprocessableEntity || !strings.Contains(errPage, "Bitte wählen Sie") || !strings.Contains(errPage, `value="manager" checked`) {
		t.Errorf("invalid role = %d: the error must be localized and keep the seniority already chosen", code)
	}
	if code, _ := f.get(""); code != http.StatusOK {
		t.Errorf("a refused start must leave the survey unstarted: %d", code)
	}
	if code, loc := f.post("/start", url.Values{"role": {"technologist"}, "seniority": {"staff"}}); code != 303 || loc != base+"/p/1" {
		t.Fatalf("valid profile: %d %q", code, loc)
	}
	d, _ := survey.LoadDraft(context.Background(), a.db, survey.DraftKey(a.cfg.Secret, strings.TrimPrefix(base, "/s/")))
	if d.Role != "technologist" || d.Seniority != "staff" || d.UnitID == nil || d.Locale != "de" {
		t.Errorf("draft profile = %+v", d)
	}
}

func TestClosedCampaignSaysSo(t *testing.T) {
	a, demo, _ := newTestApp(t)
	base := linkPath(demo.Links[0])
	f := newFlow(t, a, base)
	f.get("")
	f.post("/start", nil)
	a.db.Write.Model(&survey.Campaign{}).Where("id = ?", demo.CampaignID).Update("status", survey.StatusClosed)
	before := stored(t, a, demo.CampaignID)
	_, page, _ := f.do(http.MethodPost, "/submit", "application/x-www-form-urlencoded", "csrf="+f.csrf+"&lang=en")
	if !strings.Contains(page, "This survey is closed") || stored(t, a, demo.CampaignID) != before {
		t.Error("submit right after closing must be refused, even while the link is cached")
	}
	a.links.lru.Purge() // what a few seconds do: cached links expire
	for _, p := range []string{"", "/p/3", "/review"} {
		if code, body := f.get(p + "?lang=fr"); code != http.StatusOK || !strings.Contains(body, "Cette enquête est close") || !strings.Contains(body, demo.AdminEmail) {
			t.Errorf("%s: %d", p, code)
		}
	}
	if code, _ := f.put(`{"practice":"AP-01","dimension":"intention","level":1}`); code != http.StatusGone {
		t.Errorf("autosave on a closed campaign = %d, want 410", code)
	}
}

func TestOpenLinkCampaignKeepsTheDraftInACookie(t *testing.T) {
	a, demo, _ := newTestApp(t)
	key := survey.NewOpenToken()
	c := &survey.Campaign{OrganisationID: 0, Name: "Pulse", ModelVersion: 1, KMin: 5, Status: survey.StatusOpen, OpenLink: true, OpenKey: &key, Locales: "en,de,fr"}
	var prev survey.Campaign
	a.db.Read.First(&prev, demo.CampaignID)
	c.OrganisationID = prev.OrganisationID
	if err := a.db.Write.Create(c).Error; err != nil {
		t.Fatal(err)
	}
	f := newFlow(t, a, "/o/"+key)
	if code, body := f.get(""); code != 200 || !strings.Contains(body, `name="unit"`) {
		t.Fatalf("open-link welcome must ask for the unit: %d", code)
	}
	if code, loc := f.post("/start", url.Values{"role": {"researcher"}}); code != 303 || loc != "/o/"+key+"/p/1" {
		t.Fatalf("start: %d %q", code, loc)
	}
	if code, _ := f.put(`{"practice":"PR-01","dimension":"reality","level":5}`); code != 204 {
		t.Fatalf("autosave: %d", code)
	}
	if code, loc := f.post("/submit", nil); code != 303 || loc != "/o/"+key+"/thanks" {
		t.Fatalf("submit: %d %q", code, loc)
	}
	if code, body := f.get(""); code != 200 || !strings.Contains(body, "Already submitted") {
		t.Errorf("after submit: %d", code)
	}
	if ps := pendingOf(t, a, c.ID); len(ps) != 1 || ps[0].Role != "researcher" {
		t.Errorf("open-link response: %+v", ps)
	}
	// Another browser starts its own draft.
	g := newFlow(t, a, "/o/"+key)
	if code, body := g.get(""); code != 200 || !strings.Contains(body, "Welcome") {
		t.Errorf("second browser: %d", code)
	}
	if code, _ := newFlow(t, a, "/o/"+strings.Repeat("x", 43)).get(""); code != 404 {
		t.Errorf("unknown open key = %d", code)
	}
}

// A blank section page goes out as the kept deflated body between a head
// and a tail compressed per request. Whatever the client takes, it must
// read the same page, and a page with something checked must not use it.
func TestSectionPageIsTheSameGzippedOrNot(t *testing.T) {
	a, demo, _ := newTestApp(t)
	f := newFlow(t, a, linkPath(demo.Links[0]))
	f.get("")
	if code, _ := f.post("/start", nil); code != http.StatusSeeOther {
		t.Fatalf("start: %d", code)
	}
	raw := func(path string, header ...string) (string, http.Header) {
		t.Helper()
		code, body, h := f.do(http.MethodGet, path, "", "", header...)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d", path, code)
		}
		return body, h
	}
	gunzip := func(path, lang string) string {
		t.Helper()
		body, h := raw(path, "Accept-Encoding", "gzip", "Accept-Language", lang)
		if h.Get("Content-Encoding") != "gzip" {
			t.Fatalf("GET %s with gzip: Content-Encoding %q", path, h.Get("Content-Encoding"))
		}
		if v := h.Values("Vary"); len(v) != 1 {
			t.Errorf("Vary %q, want Accept-Encoding once", v)
		}
		return gunzipped(t, path, body)
	}
	for _, lang := range []string{"en", "de"} {
		for _, page := range []string{"/p/2", "/p/13"} {
			plain, _ := raw(page, "Accept-Encoding", "identity", "Accept-Language", lang)
			if got := gunzip(page, lang); got != plain {
				t.Errorf("%s %s: the gzipped page differs from the plain one (%d vs %d bytes)", lang, page, len(got), len(plain))
			}
			if strings.Contains(plain, string(middleMark)) || !strings.Contains(plain, `type="radio"`) {
				t.Errorf("%s %s: the page lost its body", lang, page)
			}
		}
	}
	f.post("/p/2", url.Values{"PR-01.intention": {"3"}, "go": {"next"}})
	plain, _ := raw("/p/2", "Accept-Encoding", "identity")
	if got := gunzip("/p/2", "en"); got != plain || !strings.Contains(got, `value="3" aria-describedby="lvl-intention-3" checked`) {
		t.Errorf("a page with an answer: gzipped equal %v, checked shown %v", got == plain, strings.Contains(got, " checked"))
	}
}

// A section page written from its shell must be the page the template
// writes, for any progress, language and link.
func TestSectionPageFromItsShellIsTheTemplatesPage(t *testing.T) {
	a, demo, _ := newTestApp(t)
	pages := func(f *flowClient, lang string) []string {
		var out []string
		for _, page := range []string{"/p/1", "/p/2", "/p/13"} {
			code, body, _ := f.do(http.MethodGet, page, "", "", "Accept-Language", lang)
			if code != http.StatusOK {
				t.Fatalf("GET %s: %d", page, code)
			}
			out = append(out, body)
		}
		return out
	}
	for i, lang := range []string{"en", "fr"} {
		f := newFlow(t, a, linkPath(demo.Links[i]))
		f.get("")
		f.post("/start", nil)
		for step := range 2 {
			a.sections.noShells = false
			fromShell := pages(f, lang)
			a.sections.noShells = true
			fromTemplate := pages(f, lang)
			a.sections.noShells = false
			for k := range fromShell {
				if fromShell[k] != fromTemplate[k] {
					t.Errorf("%s, step %d, page %d: the shell's page differs from the template's\n%s", lang, step, k, firstDifference(fromShell[k], fromTemplate[k]))
				}
			}
			if !strings.Contains(fromShell[1], f.base+"/p/2") || !strings.Contains(fromShell[1], f.csrf) {
				t.Errorf("%s: the page lacks its own link or CSRF token", lang)
			}
			// Answers change the menu, the count and the progress line.
			f.post("/p/2", url.Values{"PR-01.intention": {"3"}, "PR-01.reality": {"dk"}, "PR-02.intention": {"1"}, "go": {"next"}})
		}
	}
	if a.sections.shells.Len() == 0 {
		t.Error("no shell was kept: the test compared the template with itself")
	}
}

// gunzipped decodes a gzipped response body; Go's reader checks the CRC
// and the length.
func gunzipped(t *testing.T, what, body string) string {
	t.Helper()
	zr, err := gzip.NewReader(strings.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: gzip stream: %v", what, err)
	}
	return string(plain)
}

// firstDifference shows where two texts part.
func firstDifference(x, y string) string {
	i := 0
	for i < len(x) && i < len(y) && x[i] == y[i] {
		i++
	}
	from := max(0, i-80)
	return "…" + x[from:min(len(x), i+80)] + "\n…" + y[from:min(len(y), i+80)]
}
