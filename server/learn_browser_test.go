package server

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"tiltline/survey"
)

// Browser test of the learning portal as people reach it: from a survey
// question to its portal page, through search, signed in to mark a page read
// and to follow the learning path; with axe-core on each kind of page.

// clickIntoNewTab clicks a link that opens in a new tab and returns a
// context of that tab, closed at the end of the test.
func clickIntoNewTab(t *testing.T, ctx context.Context, css string) context.Context {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, browserStep)
	defer cancel()
	opened := chromedp.WaitNewTarget(wctx, func(info *target.Info) bool { return info.Type == "page" })
	do(t, ctx, chromedp.Click(chromedp.CSS(css), chromedp.NodeVisible))
	var id target.ID
	select {
	case id = <-opened:
	case <-wctx.Done():
	}
	if id == "" {
		t.Fatalf("clicking %s opened no tab", css)
	}
	tab, closeTab := chromedp.NewContext(ctx, chromedp.WithTargetID(id))
	t.Cleanup(closeTab)
	// The first action attaches to the tab and binds it to tab: no timeout.
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("attach to the new tab: %v", err)
	}
	return tab
}

func TestBrowserFromSurveyToLearningPath(t *testing.T) {
	js, err := os.ReadFile("testdata/axe/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	axeJS := string(js)
	ts := startTestServer(t, 20)
	ctx := t.Context()
	cp, err := survey.CampaignOf(ctx, ts.App.db, 0, ts.Demo.CampaignID)
	if err != nil {
		t.Fatal(err)
	}
	const email, password = "lea@demo-bank.example", "learner-password-123"
	if _, err := survey.CreateUserWithPassword(ctx, ts.App.db, email, "Lea Learner", survey.RoleLearner, &cp.OrganisationID, password); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, "en")

	// A survey question's "learn more" opens its portal page in a new tab, at
	// the practice.
	open(t, b, ts.Demo.Links[0])
	if status := follow(t, b, chromedp.Click(chromedp.CSS(`form.profile button[type=submit]`), chromedp.NodeVisible)); status != http.StatusOK {
		t.Fatalf("start: status %d", status)
	}
	practice := practicesOnPage(t, b)[0]
	p, ok := ts.App.models.Latest().Practice(practice)
	if !ok {
		t.Fatalf("unknown practice %s", practice)
	}
	tab := clickIntoNewTab(t, b, "#"+practice+" a.learn")
	if h1 := visibleText(t, tab, "h1"); h1 != p.Subsection.Title.In("en") {
		t.Errorf("the portal page's h1 = %q, want %q", h1, p.Subsection.Title.In("en"))
	}
	if loc, want := ts.pathOf(t, read(t, tab, chromedp.Location())), "/learn/"+p.Subsection.Slug+"#"+practice; loc != want {
		t.Errorf("learn more led to %s, want %s", loc, want)
	}
	if target := read(t, tab, chromedp.Evaluate[string](`document.querySelector(':target')?.id || ''`)); target != practice {
		t.Errorf("the page's target is %q, want the practice %s", target, practice)
	}

	// The search box finds a page by a word of its text.
	do(t, tab, chromedp.SendKeys(chromedp.ID("q"), "winback"))
	if status := follow(t, tab, chromedp.Submit(chromedp.ID("q"))); status != http.StatusOK {
		t.Fatalf("search: status %d", status)
	}
	if got := visibleText(t, tab, "main [role=status]"); !strings.Contains(got, "found for “winback”") {
		t.Errorf("search status = %q", got)
	}
	if status := follow(t, tab, chromedp.Click(chromedp.CSS(`ol.hits a[href^="/learn/winback"]`), chromedp.NodeVisible)); status != http.StatusOK {
		t.Fatalf("search hit: status %d", status)
	}
	if h1 := visibleText(t, tab, "h1"); h1 != "Winback" {
		t.Fatalf("the search hit led to %q", h1)
	}
	if n := read(t, tab, chromedp.Evaluate[int](`document.querySelectorAll('#reading').length`)); n != 0 {
		t.Error("an anonymous reader gets the read mark box")
	}

	// Signed in, the page shows the organisation's figures and can be marked read.
	open(t, tab, ts.URL+"/login?next=/learn/winback")
	do(t, tab,
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), password))
	if status := follow(t, tab, chromedp.Submit(chromedp.ID("password"))); status != http.StatusOK {
		t.Fatalf("sign-in: status %d", status)
	}
	if loc := ts.pathOf(t, read(t, tab, chromedp.Location())); loc != "/learn/winback" {
		t.Fatalf("after sign-in at %s, want /learn/winback", loc)
	}
	if got := visibleText(t, tab, "#reading .org-figures"); !strings.HasPrefix(got, "Your organisation: intention ") {
		t.Errorf("figures = %q", got)
	}
	checkAccessibility(t, tab, axeJS, "portal page, signed in", 1280, 375)
	if status := follow(t, tab, chromedp.Click(chromedp.CSS(`#reading button[type=submit]`), chromedp.NodeVisible)); status != http.StatusOK {
		t.Fatalf("mark read: status %d", status)
	}
	if loc := ts.pathOf(t, read(t, tab, chromedp.Location())); loc != "/learn/winback#reading" {
		t.Errorf("after marking at %s, want /learn/winback#reading", loc)
	}
	if got := visibleText(t, tab, `#reading button[type=submit]`); got != "Mark as unread" {
		t.Errorf("after marking, the button says %q", got)
	}

	// The path shows the progress.
	if status := follow(t, tab, chromedp.Click(chromedp.CSS(`#reading a[href="/learn/path"]`), chromedp.NodeVisible)); status != http.StatusOK {
		t.Fatalf("path: status %d", status)
	}
	if got := visibleText(t, tab, `label[for=path-progress]`); got != "1 of 41 read" {
		t.Errorf("progress = %q, want 1 of 41 read", got)
	}
	if v := read(t, tab, chromedp.Evaluate[float64](`document.getElementById('path-progress').value`)); v != 1 {
		t.Errorf("<progress> value = %v, want 1", v)
	}
	if n := read(t, tab, chromedp.Evaluate[int](`document.querySelectorAll('ol.path > li').length`)); n != 41 {
		t.Errorf("the path lists %d pages, want 41", n)
	}
	checkAccessibility(t, tab, axeJS, "learning path", 1280, 375)

	// Marking from the path comes back to the same entry, keyboard only.
	first := read(t, tab, chromedp.Evaluate[string](`document.querySelector('ol.path > li:not(#path-winback)').dataset.slug`))
	do(t, tab, chromedp.Focus(chromedp.CSS(`#path-`+first+` button[type=submit]`)))
	sctx, cancel := context.WithTimeout(tab, browserStep)
	_, err = chromedp.RunResponse(sctx, chromedp.KeyEvent("\r"))
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	if loc := ts.pathOf(t, read(t, tab, chromedp.Location())); loc != "/learn/path#path-"+first {
		t.Errorf("after marking on the path at %s, want /learn/path#path-%s", loc, first)
	}
	if got := visibleText(t, tab, `label[for=path-progress]`); got != "2 of 41 read" {
		t.Errorf("progress = %q, want 2 of 41 read", got)
	}

	open(t, tab, ts.URL+"/learn")
	checkAccessibility(t, tab, axeJS, "library index", 1280, 375)

	// The demo's learner signs in and lands on the path, whose "next up" is
	// its most urgent topic; once that is read, the next one takes its place.
	follow(t, tab, chromedp.Click(chromedp.CSS(`header button.link`), chromedp.NodeVisible)) // sign out
	signInWith(t, ts, tab, ts.Demo.LearnerEmail, ts.Demo.LearnerPassword, "/learn/path")
	if nav := strings.Join(strings.Fields(visibleText(t, tab, "header nav.learnnav")), " "); nav != "Library My learning path" {
		t.Errorf("learner's header links %q", nav)
	}
	nextUp := func() string {
		return read(t, tab, chromedp.Evaluate[string](`new URL(document.querySelector('.next-up .next-title a').href).pathname`))
	}
	firstUnread := func() string {
		return read(t, tab, chromedp.Evaluate[string](`[...document.querySelectorAll('ol.path > li')].find(li => !li.querySelector('.status')).dataset.slug`))
	}
	top := firstUnread()
	if got := nextUp(); got != "/learn/"+top {
		t.Errorf("next up is %s, want the path's first unread topic %s", got, top)
	}
	if why := visibleText(t, tab, ".next-up"); !strings.Contains(why, "min of reading") || strings.Contains(why, "priority") {
		t.Errorf("next up card = %q", why)
	}
	if n := read(t, tab, chromedp.Evaluate[int](`document.querySelectorAll('section.path-section').length`)); n < 5 {
		t.Errorf("the path has %d sections", n)
	}
	checkAccessibility(t, tab, axeJS, "learning path with next up", 1280, 375)
	follow(t, tab, chromedp.Click(chromedp.CSS(`#path-`+top+` button[type=submit]`), chromedp.NodeVisible))
	next := nextUp()
	unread := read(t, tab, chromedp.Evaluate[bool](fmt.Sprintf(`!document.querySelector('#path-%s .status')`, strings.TrimPrefix(next, "/learn/"))))
	if next == "/learn/"+top || !unread {
		t.Errorf("after reading %s, next up is %s (unread: %v), want another unread topic", top, next, unread)
	}
}
