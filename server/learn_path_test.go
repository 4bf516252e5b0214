package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"tiltline/survey"
)

// Tests of the portal linked with the results: "your organisation" on each
// page, the learning path and its read marks.

// learner creates a learner account in the organisation (none when orgID is
// 0) and returns a client signed in as them.
func learner(t *testing.T, a *App, email string, orgID int64) *flowClient {
	t.Helper()
	var org *int64
	if orgID != 0 {
		org = &orgID
	}
	if _, err := survey.CreateUserWithPassword(t.Context(), a.db, email, "", survey.RoleLearner, org, "learner-password-123"); err != nil {
		t.Fatal(err)
	}
	f := newFlow(t, a, "")
	if code, loc := f.post("/login", url.Values{"email": {email}, "password": {"learner-password-123"}}); code != http.StatusSeeOther || loc != "/learn/path" {
		t.Fatalf("sign-in as %s: %d %q", email, code, loc)
	}
	f.get("/learn/path") // picks up the session's CSRF token from a form
	return f
}

// demoOrg is the demo organisation's id.
func demoOrg(t *testing.T, a *App, demo *survey.DemoResult) int64 {
	t.Helper()
	cp, err := survey.CampaignOf(t.Context(), a.db, 0, demo.CampaignID)
	if err != nil {
		t.Fatal(err)
	}
	return cp.OrganisationID
}

// apiReport reads a campaign's organisation-wide report through the JSON
// API, as an integration would: the reference the portal must agree with.
func apiReport(t *testing.T, a *App, token string, campaignID int64) *survey.Report {
	t.Helper()
	r := get(t, a, fmt.Sprintf("/api/v1/campaigns/%d/report", campaignID), "Authorization", "Bearer "+token)
	b := body(t, r)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("report: %d %s", r.StatusCode, b)
	}
	var rep survey.Report
	if err := json.Unmarshal([]byte(b), &rep); err != nil {
		t.Fatal(err)
	}
	return &rep
}

// subMeans is a sub-section's score per dimension: the mean of its
// practices' scores in the report; ok is false when a dimension has none.
func subMeans(rep *survey.Report, slug string) (intention, reality float64, ok bool) {
	var ni, nr int
	for _, p := range rep.Practices {
		if p.Subsection != slug {
			continue
		}
		if p.Intention != nil {
			intention += *p.Intention
			ni++
		}
		if p.Reality != nil {
			reality += *p.Reality
			nr++
		}
	}
	if ni == 0 || nr == 0 {
		return 0, 0, false
	}
	return intention / float64(ni), reality / float64(nr), true
}

var pathSlugs = regexp.MustCompile(`<li id="path-[^"]+" tabindex="-1" data-slug="([^"]+)"`)

// pathOrder is the order of the pages on a /learn/path page.
func pathOrder(page string) []string {
	var out []string
	for _, m := range pathSlugs.FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

func modelOrder(a *App) []string {
	var out []string
	for _, s := range a.models.Latest().Subsections() {
		out = append(out, s.Slug)
	}
	return out
}

// wantPath is the learning path a report gives: first the pages its
// recommendations name, in their order (biggest priority first), then the
// others by (100 − sub-section CEM), largest first.
func wantPath(t *testing.T, a *App, rep *survey.Report) []string {
	t.Helper()
	var want []string
	for _, r := range rep.Recommendations {
		if !slices.Contains(want, r.Subsection) {
			want = append(want, r.Subsection)
		}
	}
	var rest []string
	for _, slug := range modelOrder(a) {
		if !slices.Contains(want, slug) {
			rest = append(rest, slug)
		}
	}
	cem := func(slug string) float64 {
		i, r, ok := subMeans(rep, slug)
		if !ok {
			t.Fatalf("%s has no score in the demo", slug)
		}
		return (i + r) / 2
	}
	slices.SortStableFunc(rest, func(x, y string) int {
		dx, dy := 100-cem(x), 100-cem(y)
		switch {
		case dx > dy:
			return -1
		case dx < dy:
			return 1
		}
		return 0
	})
	return groupBySection(a, append(want, rest...))
}

// groupBySection keeps an order but puts each section's pages together,
// the sections in the order their first page comes.
func groupBySection(a *App, order []string) []string {
	section := map[string]string{}
	for _, s := range a.models.Latest().Subsections() {
		section[s.Slug] = s.Section.ID
	}
	var sections []string
	bySection := map[string][]string{}
	for _, slug := range order {
		id := section[slug]
		if _, ok := bySection[id]; !ok {
			sections = append(sections, id)
		}
		bySection[id] = append(bySection[id], slug)
	}
	var out []string
	for _, id := range sections {
		out = append(out, bySection[id]...)
	}
	return out
}

func TestLearningPathFollowsTheRecommendations(t *testing.T) {
	a, demo, _ := newTestApp(t)
	rep := apiReport(t, a, demo.APIToken, demo.CampaignID)
	if rep.Suppressed || len(rep.Recommendations) == 0 {
		t.Fatalf("the demo's open wave has no recommendations (suppressed %v)", rep.Suppressed)
	}
	want := wantPath(t, a, rep)
	var named []string // the pages the recommendations name
	for _, r := range rep.Recommendations {
		if !slices.Contains(named, r.Subsection) {
			named = append(named, r.Subsection)
		}
	}
	recommended := len(named)

	f := learner(t, a, "lea@demo-bank.example", demoOrg(t, a, demo))
	code, page := f.get("/learn/path")
	if code != http.StatusOK {
		t.Fatalf("path: %d", code)
	}
	got := pathOrder(page)
	if len(got) != 41 {
		t.Fatalf("path lists %d pages, want all 41", len(got))
	}
	if !slices.Equal(got, want) {
		t.Errorf("path order\n got %v\nwant %v", got, want)
	}
	if slices.Equal(got, modelOrder(a)) {
		t.Error("the path is in model order although the organisation has results")
	}
	// Each recommended page says why in one line; the others don't.
	if n := strings.Count(page, `<p class="why hint">`); n != recommended {
		t.Errorf("%d reason lines, want one for each of the %d recommended pages", n, recommended)
	}
	first := rep.Recommendations[0]
	// A learner reads no practice codes or priority numbers.
	if strings.Contains(page, "— practices ") || regexp.MustCompile(`priority \d`).MatchString(page) {
		t.Error("the learner's path shows practice codes or priorities")
	}
	// Next up: the most urgent topic, why in plain words, and its reading time.
	if !strings.Contains(page, `<h2 id="next-h">Next up</h2>`) || !strings.Contains(page, `<p class="next-title"><a href="/learn/`+first.Subsection+`?from=path">`) {
		t.Errorf("next up is not %s", first.Subsection)
	}
	if !regexp.MustCompile(`About \d+ min of reading`).MatchString(page) {
		t.Error("next up has no reading time")
	}
	if !strings.Contains(page, "The survey is still open, so this order is preliminary.") {
		t.Error("an open wave's order is not marked preliminary")
	}
	if strings.Contains(page, `href="/results/`) {
		t.Error("a learner is offered the results page, which they may not read")
	}
	if !strings.Contains(page, "0 of 41 read") || !strings.Contains(page, `<progress id="path-progress" max="41" value="0">`) {
		t.Error("progress of a new learner is not 0 of 41")
	}

	// A manager gets the same order, the evidence and a link to the results.
	mgr := newFlow(t, a, "")
	mgr.post("/login", url.Values{"email": {demo.ManagerEmail}, "password": {demo.ManagerPassword}})
	_, page = mgr.get("/learn/path")
	if !strings.Contains(page, "— practices "+first.Practice) || !strings.Contains(page, fmt.Sprintf("priority %.1f", first.Priority)) {
		t.Errorf("the manager's first page's line does not name %s and its priority %.1f", first.Practice, first.Priority)
	}
	// German writes the priority with a decimal comma.
	_, de := mgr.get("/learn/path?lang=de")
	if want := "Priorität " + strings.Replace(fmt.Sprintf("%.1f", first.Priority), ".", ",", 1); !strings.Contains(de, want) {
		t.Errorf("the German path lacks %q", want)
	}
	if got := pathOrder(page); !slices.Equal(got, want) {
		t.Errorf("manager's path order differs: %v", got)
	}
	if !strings.Contains(page, fmt.Sprintf(`href="/results/%d"`, demo.CampaignID)) {
		t.Error("the manager's path has no link to the results")
	}
}

func TestMarkingReadChangesProgressPerUser(t *testing.T) {
	a, demo, _ := newTestApp(t)
	org := demoOrg(t, a, demo)
	ann := learner(t, a, "ann@demo-bank.example", org)
	bob := learner(t, a, "bob@demo-bank.example", org)

	// The form needs the session's CSRF token, a signed-in user and a real page.
	if code, _ := ann.post("/learn/winback/read", url.Values{"csrf": {"forged"}, "read": {"1"}}); code != http.StatusForbidden {
		t.Errorf("wrong CSRF token: %d, want 403", code)
	}
	if code, _, _ := ann.do(http.MethodPost, "/learn/winback/read", "application/x-www-form-urlencoded", "read=1"); code != http.StatusForbidden {
		t.Errorf("no CSRF token: %d, want 403", code)
	}
	if code, _ := newFlow(t, a, "").post("/learn/winback/read", url.Values{"read": {"1"}}); code != http.StatusUnauthorized {
		t.Errorf("anonymous: %d, want 401", code)
	}
	if code, _ := ann.post("/learn/no-such-topic/read", url.Values{"read": {"1"}}); code != http.StatusNotFound {
		t.Errorf("unknown page: %d, want 404", code)
	}
	if _, page := ann.get("/learn/path"); !strings.Contains(page, "0 of 41 read") {
		t.Fatal("a refused mark was stored")
	}

	// From the page: back to the page, which now offers "mark as unread".
	_, before, h := ann.do(http.MethodGet, "/learn/winback", "", "")
	etag := h.Get("ETag")
	if !strings.Contains(before, ">Mark as read</button>") {
		t.Error("the page offers no 'mark as read'")
	}
	if code, loc := ann.post("/learn/winback/read", url.Values{"read": {"1"}}); code != http.StatusSeeOther || loc != "/learn/winback#reading" {
		t.Fatalf("mark read: %d %q", code, loc)
	}
	code, after, _ := ann.do(http.MethodGet, "/learn/winback", "", "", "If-None-Match", etag)
	if code != http.StatusOK || !strings.Contains(after, ">Mark as unread</button>") || !strings.Contains(after, "You have marked this page as read.") {
		t.Errorf("after marking, the page (%d) does not show it as read; a cached copy must not be reused", code)
	}
	// From the path: back to the same entry of the path.
	if code, loc := ann.post("/learn/conversion/read", url.Values{"read": {"1"}, "back": {"path"}}); code != http.StatusSeeOther || loc != "/learn/path#path-conversion" {
		t.Fatalf("mark read from the path: %d %q", code, loc)
	}
	ann.post("/learn/conversion/read", url.Values{"read": {"1"}, "back": {"path"}}) // twice is still one
	_, page := ann.get("/learn/path")
	if !strings.Contains(page, "2 of 41 read") || !strings.Contains(page, `value="2">`) {
		t.Errorf("ann's progress is not 2 of 41")
	}
	if !regexp.MustCompile(`data-slug="winback">\s*<a href="/learn/winback\?from=path">[^<]+</a> <span class="status">read</span>`).MatchString(page) {
		t.Error("the path does not show winback as read")
	}
	// Bob has read nothing.
	if _, page := bob.get("/learn/path"); !strings.Contains(page, "0 of 41 read") {
		t.Error("bob's progress shows ann's marks")
	}
	if _, page := bob.get("/learn/winback"); !strings.Contains(page, ">Mark as read</button>") {
		t.Error("bob's page shows ann's mark")
	}
	// Unmarking counts down.
	if code, loc := ann.post("/learn/winback/read", url.Values{"read": {"0"}, "back": {"path"}}); code != http.StatusSeeOther || loc != "/learn/path#path-winback" {
		t.Fatalf("unmark: %d %q", code, loc)
	}
	if _, page := ann.get("/learn/path"); !strings.Contains(page, "1 of 41 read") {
		t.Error("unmarking did not lower ann's progress to 1 of 41")
	}
}

func TestPortalPageShowsTheOrganisationsFigures(t *testing.T) {
	a, demo, _ := newTestApp(t)
	rep := apiReport(t, a, demo.APIToken, demo.CampaignID)
	lea := learner(t, a, "lea@demo-bank.example", demoOrg(t, a, demo))
	figures := regexp.MustCompile(`<p class="org-figures"><strong>Your organisation: intention (\d+) %, reality (\d+) %</strong></p>`)
	for _, sub := range a.models.Latest().Subsections() {
		_, page := lea.get("/learn/" + sub.Slug)
		m := figures.FindStringSubmatch(page)
		if m == nil {
			t.Errorf("%s: no 'your organisation' figures", sub.Slug)
			continue
		}
		i, r, ok := subMeans(rep, sub.Slug)
		if !ok {
			t.Fatalf("%s has no score in the demo", sub.Slug)
		}
		if want := []string{fmt.Sprintf("%.0f", i), fmt.Sprintf("%.0f", r)}; m[1] != want[0] || m[2] != want[1] {
			t.Errorf("%s: intention %s, reality %s; the mean of the report's practices is %s, %s", sub.Slug, m[1], m[2], want[0], want[1])
		}
	}
	_, page := lea.get("/learn/winback")
	if !strings.Contains(page, "which is still open: preliminary figures") {
		t.Error("figures of an open wave are not marked preliminary")
	}
	if strings.Contains(page, `href="/results/`) {
		t.Error("a learner is offered the results page")
	}
	// A filter in the query must not turn "your organisation" into a unit.
	if code, filtered := lea.get("/learn/winback?unit=999999&role=nobody"); code != http.StatusOK || figures.FindString(filtered) != figures.FindString(page) {
		t.Errorf("with a filter in the query: %d, figures %q, want %q", code, figures.FindString(filtered), figures.FindString(page))
	}
	// A manager sees the same figures and a link to the results.
	mgr := newFlow(t, a, "")
	mgr.post("/login", url.Values{"email": {demo.ManagerEmail}, "password": {demo.ManagerPassword}})
	_, mpage := mgr.get("/learn/winback")
	if figures.FindString(mpage) != figures.FindString(page) || !strings.Contains(mpage, fmt.Sprintf(`<a href="/results/%d">See your organisation’s results</a>`, demo.CampaignID)) {
		t.Error("the manager's page lacks the figures or the link to the results")
	}
	// A manager limited to one unit sees that unit's figures instead
	// (TestPortalFiguresFollowTheReadersUnits).
	units, err := survey.Units(t.Context(), a.db, demoOrg(t, a, demo))
	if err != nil || len(units) == 0 {
		t.Fatal(units, err)
	}
	mgrUser, err := survey.UserByEmail(t.Context(), a.db, demo.ManagerEmail)
	if err != nil {
		t.Fatal(err)
	}
	if err := survey.SetManagerUnits(t.Context(), a.db, demoOrg(t, a, demo), mgrUser.ID, false, []int64{units[0].ID}); err != nil {
		t.Fatal(err)
	}
	if code, upage := mgr.get("/learn/winback"); code != http.StatusOK || figures.MatchString(upage) || !strings.Contains(upage, "Your units") {
		t.Errorf("a unit-limited manager: %d, figures %q, want their units' instead of the organisation's", code, figures.FindString(upage))
	}
	// Anonymous readers see no organisation at all.
	if b := body(t, get(t, a, "/learn/winback")); strings.Contains(b, "Your organisation") || strings.Contains(b, "Mark as read") {
		t.Error("an anonymous reader sees organisation figures or read marks")
	}

	// After the wave closes, the figures are no longer preliminary.
	if err := a.db.Write.Model(&survey.Campaign{}).Where("id = ?", demo.CampaignID).Update("status", survey.StatusClosed).Error; err != nil {
		t.Fatal(err)
	}
	_, page = lea.get("/learn/winback")
	if !strings.Contains(page, "From the survey “Customer management assessment · ") || strings.Contains(page, "preliminary") {
		t.Error("a closed wave's figures are marked preliminary or unnamed")
	}
}

func TestSuppressedOrganisationShowsNoNumbers(t *testing.T) {
	a, _, _ := newTestApp(t)
	ctx := t.Context()
	m := a.models.Latest()
	org, err := survey.SaveOrganisation(ctx, a.db, 0, survey.OrgInput{Name: "Small Shop"})
	if err != nil {
		t.Fatal(err)
	}
	lone := learner(t, a, "lone@small.example", org.ID)
	// Without any campaign: model order, and why.
	_, page := lone.get("/learn/path")
	if !slices.Equal(pathOrder(page), modelOrder(a)) || !strings.Contains(page, "Your organisation has no survey results yet") {
		t.Error("an organisation without results: the path is not in model order with the reason")
	}
	if _, page := lone.get("/learn/winback"); strings.Contains(page, "Your organisation") {
		t.Error("a page shows organisation figures without any results")
	}

	// An open wave with 3 responses, fewer than k = 5.
	cp := &survey.Campaign{OrganisationID: org.ID, Name: "First look", WaveLabel: "2026", ModelVersion: m.Version,
		Locales: "en", KMin: 5, Status: survey.StatusOpen}
	if err := a.db.Write.Create(cp).Error; err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		answers := make([]byte, m.AnswerSlots())
		for j := range answers {
			answers[j] = byte(1 + (i+j)%5)
		}
		if err := a.db.Write.Create(&survey.Response{ID: uuid.NewString(), CampaignID: cp.ID, Answers: answers}).Error; err != nil {
			t.Fatal(err)
		}
	}
	number := regexp.MustCompile(`\d+ %`)
	for _, slug := range []string{"winback", "customer-management-strategy"} {
		_, page := lone.get("/learn/" + slug)
		box, _, _ := strings.Cut(page[strings.Index(page, `id="reading"`)+1:], "</section>")
		if !strings.Contains(box, "Your organisation: not enough responses yet.") {
			t.Errorf("%s: the box does not say 'not enough responses yet'", slug)
		}
		// The page's other figures are the benchmark's, about other organisations.
		if number.MatchString(box) || strings.Contains(box, "intention ") {
			t.Errorf("%s shows numbers of a suppressed organisation: %q", slug, number.FindString(box))
		}
	}
	_, page = lone.get("/learn/path")
	if !slices.Equal(pathOrder(page), modelOrder(a)) || !strings.Contains(page, "fewer than 5 responses so far") {
		t.Error("a suppressed organisation: the path is not in model order with the reason")
	}
	if number.MatchString(page) || strings.Contains(page, `class="why`) {
		t.Error("the path of a suppressed organisation shows numbers or reasons")
	}
}

func TestLearningPathWithoutOrganisationOrSignIn(t *testing.T) {
	a, _, _ := newTestApp(t)
	// Anonymous readers are asked to sign in; nothing to tick off.
	r := get(t, a, "/learn/path")
	b := body(t, r)
	if r.StatusCode != http.StatusOK || !strings.Contains(b, `<a href="/login?next=/learn/path">Sign in to follow your learning path</a>`) || strings.Contains(b, "<progress") {
		t.Errorf("anonymous path: %d, no sign-in invitation", r.StatusCode)
	}
	if !strings.Contains(body(t, get(t, a, "/learn")), `href="/learn/path"`) {
		t.Error("the library index does not lead to the path")
	}
	// Signed in without an organisation: model order, and why.
	f := learner(t, a, "free@example.com", 0)
	_, page := f.get("/learn/path")
	if !slices.Equal(pathOrder(page), modelOrder(a)) || !strings.Contains(page, "does not belong to an organisation") {
		t.Error("without an organisation the path is not in model order with the reason")
	}
	// In German too.
	_, page = f.get("/learn/path?lang=de")
	if !strings.Contains(page, "0 von 41 gelesen") || !strings.Contains(page, "Ihr Lernpfad") {
		t.Error("the German path is not translated")
	}
	// A private portal sends anonymous readers to sign in first.
	a.cfg.PublicPortal = false
	if r := get(t, a, "/learn/path"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("private portal, anonymous path: %d", r.StatusCode)
	}
}

// The kinds of recommendation are shown through printf'd message ids, which
// the template check cannot see: each needs a message in every language.
func TestEveryRecommendationKindHasAMessage(t *testing.T) {
	for _, l := range survey.Locales {
		ids, err := messageIDs(l)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{survey.StrategyGap, survey.ExecutionGap, survey.HiddenStrength, survey.VerifyFirst, survey.Unknown} {
			if ids["learn.kind."+k] == "" {
				t.Errorf("%s: no message learn.kind.%s", l, k)
			}
		}
	}
}

// A signed-in page carries the session's CSRF token in its forms: no cache
// keeps it, and a new session must get a fresh page, not a 304 for the old
// one.
func TestSignedInPortalPagesRenewWithTheSession(t *testing.T) {
	a, demo, _ := newTestApp(t)
	lea := learner(t, a, "lea@demo-bank.example", demoOrg(t, a, demo))
	for _, path := range []string{"/learn", "/learn/winback"} {
		_, _, h := lea.do(http.MethodGet, path, "", "")
		etag := h.Get("ETag")
		if cc := h.Get("Cache-Control"); cc != "private, no-store" {
			t.Errorf("%s: Cache-Control %q for a signed-in reader, want private, no-store", path, cc)
		}
		if code, _, _ := lea.do(http.MethodGet, path, "", "", "If-None-Match", etag); code != http.StatusNotModified {
			t.Errorf("%s: same session, same page: %d, want 304", path, code)
		}
		again := newFlow(t, a, "")
		again.post("/login", url.Values{"email": {"lea@demo-bank.example"}, "password": {"learner-password-123"}})
		if code, _, _ := again.do(http.MethodGet, path, "", "", "If-None-Match", etag); code != http.StatusOK {
			t.Errorf("%s: a new session got %d for the old session's ETag, want 200", path, code)
		}
	}
}

// TestPageFromThePathFollowsIt: a page opened from the path leads to the
// path's previous and next topics, lists its parts, shows the five levels
// of each dimension as tables and offers "mark as read" at its end too.
func TestPageFromThePathFollowsIt(t *testing.T) {
	a, demo, _ := newTestApp(t)
	f := learner(t, a, "lea@demo-bank.example", demoOrg(t, a, demo))
	_, path := f.get("/learn/path")
	order := pathOrder(path)
	if len(order) < 3 {
		t.Fatalf("path of %d topics", len(order))
	}
	_, page := f.get("/learn/" + order[1] + "?from=path")
	for _, want := range []string{
		`<a rel="prev" href="/learn/` + order[0] + `?from=path">`,
		`<a rel="next" href="/learn/` + order[2] + `?from=path">`,
		`<h2 id="toc-h">On this page</h2>`, `<a href="#levels">`,
		`<caption>Intention — The five levels</caption>`, `<caption>Reality — The five levels</caption>`,
		`id="mark-read-end"`, `<input type="hidden" name="back" value="path">`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page from the path lacks %s", want)
		}
	}
	// The levels are the tables alone, in every language: no paragraph
	// under them lists the five levels again.
	for lang, caption := range map[string]string{"en": "Intention — ", "de": "Absicht — ", "fr": "Intention — "} {
		_, p := f.get("/learn/winback?lang=" + lang)
		_, levels, _ := strings.Cut(p, `<h2 id="levels">`)
		levels, _, _ = strings.Cut(levels, `<h2 id="pitfalls">`)
		if !strings.Contains(levels, `<caption>`+caption) || strings.Count(levels, `<table class="data levels">`) != 2 {
			t.Errorf("%s: the levels part lacks its two tables", lang)
		}
		if rest := levels[strings.LastIndex(levels, "</table>")+len("</table>"):]; strings.TrimSpace(rest) != "" {
			t.Errorf("%s: after the level tables comes %.200q", lang, rest)
		}
	}
	// Without ?from=path, previous and next are the model's.
	_, plain := f.get("/learn/" + order[1])
	if strings.Contains(plain, "?from=path") && strings.Contains(plain, `rel="next" href="/learn/`+order[2]+`?from=path"`) {
		t.Error("a page not opened from the path follows the path")
	}
}
