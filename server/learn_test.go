package server

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"tiltline/portal"
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

// Under the levels heading each dimension is a table whose rows pair a
// level with what it looks like in this topic, in every language; a sign
// for two adjacent levels spans both rows, and no paragraph follows.
func TestPortalPageShowsWhatEachLevelLooksLikeInTheTopic(t *testing.T) {
	a, _, _ := newTestApp(t)
	cases := map[string]struct{ caption, lowest, spanned string }{
		"en": {"Reality — ", "Nobody knows which acquisition channels bring customers who stay.", "All acquisition plans are built on agreed profiles"},
		"de": {"Realität — ", "Hier weiß niemand, welche Gewinnungskanäle Kunden bringen, die bleiben.", "Alle Akquisitionspläne beruhen auf vereinbarten Profilen"},
		"fr": {"Réalité — ", "Personne ne sait quels canaux d&rsquo;acquisition amènent des clients qui restent.", "Tous les plans d&rsquo;acquisition reposent sur des profils partagés"},
	}
	for lang, tc := range cases {
		b := body(t, get(t, a, "/learn/acquisition-planning?lang="+lang))
		_, levels, _ := strings.Cut(b, `<h2 id="levels">`)
		levels, _, _ = strings.Cut(levels, `<h2 id="pitfalls">`)
		if strings.Count(levels, `<table class="data levels">`) != 2 || strings.Count(levels, `<th scope="row">`) != 10 {
			t.Errorf("%s: the levels part lacks its two tables of five rows", lang)
		}
		_, reality, _ := strings.Cut(levels, "<caption>"+tc.caption)
		rows := strings.Split(reality, "<tr>")
		if len(rows) < 7 || !strings.Contains(rows[2], "<td>"+tc.lowest+"</td>") {
			t.Errorf("%s: the lowest reality row lacks the topic's sign %q", lang, tc.lowest)
		}
		if len(rows) < 7 || !strings.Contains(rows[5], `<td rowspan="2">`+tc.spanned) || strings.Contains(rows[6], "<td") {
			t.Errorf("%s: the sign for the two highest reality levels does not span their rows", lang)
		}
		if rest := levels[strings.LastIndex(levels, "</table>")+len("</table>"):]; strings.TrimSpace(rest) != "" {
			t.Errorf("%s: after the level tables comes %.200q", lang, rest)
		}
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

// TestPortalSearchFallsBackAcrossLanguages: a word only the English pages
// use, searched in German, shows the English hits, linked to the German
// pages; a word no page uses gets tips and the sections to browse.
func TestPortalSearchFallsBackAcrossLanguages(t *testing.T) {
	a, _, _ := newTestApp(t)
	b := body(t, get(t, a, "/learn/search?q=bucket&lang=de"))
	if !strings.Contains(b, "Keine Treffer für „bucket“ auf Deutsch; 1 auf Englisch.") || !strings.Contains(b, `<a href="/learn/winback">Rückgewinnung</a>`) {
		t.Errorf("German search for an English word:\n%s", b)
	}
	b = body(t, get(t, a, "/learn/search?q=bucket&lang=fr"))
	if !strings.Contains(b, "Aucun résultat pour « bucket » en français ; 1 en anglais.") {
		t.Errorf("French search for an English word lacks the fallback line")
	}
	b = body(t, get(t, a, "/learn/search?q=xylophone&lang=en"))
	if !strings.Contains(b, "Nothing found for “xylophone” in any language.") || !strings.Contains(b, `href="/learn#sec-`) || !strings.Contains(b, "NPS, churn") {
		t.Errorf("zero results: no tips or sections:\n%s", b)
	}
	if b := body(t, get(t, a, "/learn/search?q=Kundenr%C3%BCckgewinnung&lang=de")); !strings.Contains(b, `href="/learn/winback"`) {
		t.Error("Kundenrückgewinnung does not find the winback page")
	}
}

func TestCaseGoesThroughModerationToPublication(t *testing.T) {
	a, demo, _ := newTestApp(t)
	ctx := t.Context()
	if _, err := survey.CreateUserWithPassword(ctx, a.db, "root@example.com", "", survey.RolePlatformAdmin, nil, "platform-password"); err != nil {
		t.Fatal(err)
	}
	author := signedIn(t, a, demo.AdminEmail, demo.AdminPassword)
	author.get("/learn/winback")
	caseBody := strings.Repeat("We called every customer who left within a week and asked why. ", 5) +
		"<script>alert('x')</script> [more](javascript:alert(1)) Our **winback** rate doubled."
	code, page, _ := author.do(http.MethodPost, "/learn/winback/cases", "application/x-www-form-urlencoded",
		url.Values{"csrf": {author.csrf}, "title": {"Calling within a week"}, "body": {"too short"}, "name_org": {"1"}}.Encode())
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, `value="Calling within a week"`) || !strings.Contains(page, `name="name_org" value="1" checked`) {
		t.Errorf("short case = %d; the title and the organisation choice must stay", code)
	}
	if code, loc := author.post("/learn/winback/cases", url.Values{"title": {"Calling within a week"}, "body": {caseBody}, "name_org": {"1"}}); code != 303 || !strings.Contains(loc, "proposed=1") {
		t.Fatalf("propose: %d %q", code, loc)
	}
	if _, page := newFlow(t, a, "").get("/learn/winback"); strings.Contains(page, "Calling within a week") {
		t.Fatal("a pending case is visible")
	}
	// Only a platform admin moderates.
	if code, _ := author.get("/admin/moderation"); code != http.StatusNotFound {
		t.Errorf("org admin sees moderation: %d", code)
	}
	mod := newFlow(t, a, "")
	mod.post("/login", url.Values{"email": {"root@example.com"}, "password": {"platform-password"}})
	_, queue := mod.get("/admin/moderation")
	id := regexp.MustCompile(`/admin/moderation/(\d+)`).FindStringSubmatch(queue)
	if id == nil || strings.Contains(queue, "<script>alert") {
		t.Fatal("pending case not listed, or listed unsafely")
	}
	if code, _ := mod.post("/admin/moderation/"+id[1], url.Values{"decision": {"reject"}}); code != http.StatusUnprocessableEntity {
		t.Errorf("reject without a reason = %d", code)
	}
	if code, _ := mod.post("/admin/moderation/"+id[1], url.Values{"decision": {"publish"}}); code != 303 {
		t.Fatalf("publish = %d", code)
	}
	if code, _ := mod.post("/admin/moderation/"+id[1], url.Values{"decision": {"reject"}, "reason": {"late"}}); code != http.StatusConflict {
		t.Errorf("second decision = %d, want 409", code)
	}
	_, page = newFlow(t, a, "").get("/learn/winback")
	if !strings.Contains(page, "Calling within a week") || strings.Contains(page, "<script>alert") || strings.Contains(page, "javascript:") {
		t.Error("the published case is missing or unsafe on the page")
	}
	if b := body(t, get(t, a, "/learn/search?q=doubled+winback")); !strings.Contains(b, "/learn/winback#case-") {
		t.Error("the published case is not found by search")
	}
}

// A case names its author's organisation from the account; a posted
// organisation name is ignored (issue 13: anyone could publish a case in
// another company's name). Without the box ticked the case is anonymous.
func TestCaseNamesTheAuthorsOwnOrganisationOnly(t *testing.T) {
	a, demo, _ := newTestApp(t)
	author := signedIn(t, a, demo.AdminEmail, demo.AdminPassword)
	_, form := author.get("/learn/winback")
	if !strings.Contains(form, `name="name_org"`) || !strings.Contains(form, "Name my organisation, Demo Bank, with this case") || strings.Contains(form, `name="org_name"`) {
		t.Error("the form does not offer the account's organisation, or still has a text field")
	}
	caseBody := strings.Repeat("We called every customer who left within a week and asked why. ", 5)
	for _, v := range []url.Values{
		{"title": {"Named"}, "body": {caseBody}, "name_org": {"1"}, "org_name": {"Evil Corp"}, "organisation_id": {"999"}},
		{"title": {"Anonymous"}, "body": {caseBody}, "org_name": {"Evil Corp"}},
	} {
		if code, loc := author.post("/learn/winback/cases", v); code != 303 {
			t.Fatalf("propose %s: %d %q", v.Get("title"), code, loc)
		}
	}
	cs, err := portal.PendingCases(t.Context(), a.db)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range cs {
		got[c.Title] = c.OrgName
	}
	if got["Named"] != survey.DemoOrgName || got["Anonymous"] != "" || len(got) != 2 {
		t.Errorf("cases name %v; want Demo Bank for the named one, nothing for the other", got)
	}
	if _, err := survey.CreateUserWithPassword(t.Context(), a.db, "root@example.com", "", survey.RolePlatformAdmin, nil, "platform-password"); err != nil {
		t.Fatal(err)
	}
	mod := signedIn(t, a, "root@example.com", "platform-password")
	if _, queue := mod.get("/admin/moderation"); strings.Contains(queue, "Evil Corp") || !strings.Contains(queue, survey.DemoOrgName) {
		t.Error("the moderation queue shows the typed name, or not the account's")
	}
}
