package server

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tiltline/survey"
)

// Browser tests of the compact respondent layout (issue 14): the height of
// a whole survey on a phone and a desktop, the scale's direction, the
// section menu, the submit confirmation and the thank-you page. One server
// and one browser serve them all, to keep the run short.

// surveyHeights opens every page of a link — welcome, each section, review
// — at each width and sums document.documentElement.scrollHeight per width.
// The welcome page is measured first, while the link has no draft yet.
func surveyHeights(t *testing.T, ctx context.Context, link, lang string, sections int, widths [][2]int64) []int {
	t.Helper()
	height := func() int {
		return read(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollHeight`))
	}
	sums := make([]int, len(widths))
	each := make([][]int, len(widths))
	pages := []string{""}
	for n := 1; n <= sections; n++ {
		pages = append(pages, "/p/"+strconv.Itoa(n))
	}
	pages = append(pages, "/review")
	for _, p := range pages {
		for i, w := range widths {
			do(t, ctx, chromedp.EmulateViewport(w[0], w[1]))
			if p == "" && i > 0 {
				// The welcome page was opened at the first width; opening the
				// link again would resume on a section once a draft exists.
				h := height()
				sums[i] += h
				each[i] = append(each[i], h)
				continue
			}
			if status := open(t, ctx, link+p+"?lang="+lang); status != 200 {
				t.Fatalf("%s%s: status %d", lang, p, status)
			}
			h := height()
			sums[i] += h
			each[i] = append(each[i], h)
		}
	}
	for i, w := range widths {
		t.Logf("%s at %d px, page by page (welcome, sections, review): %v", lang, w[0], each[i])
	}
	do(t, ctx, chromedp.ResetViewport())
	return sums
}

// testLogo is a small PNG, as an admin would upload.
func testLogo(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 120, 40))
	for x := range 120 {
		for y := range 40 {
			img.Set(x, y, color.RGBA{11, 87, 164, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// brandDemo gives the demo campaign a logo, a contact person and a name in
// German and French, as the respondent pages show them.
func brandDemo(t *testing.T, ts *testServer) survey.Campaign {
	t.Helper()
	var camp survey.Campaign
	if err := ts.App.db.Read.First(&camp, ts.Demo.CampaignID).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := survey.SaveOrgLogo(context.Background(), ts.App.db, camp.OrganisationID, "image/png", testLogo(t)); err != nil {
		t.Fatal(err)
	}
	ts.App.sections.forgetBrand(camp.OrganisationID)
	err := ts.App.db.Write.Model(&survey.Campaign{}).Where("id = ?", camp.ID).Updates(map[string]any{
		"contact_name": "Dana Reyes", "contact_email": "dana.reyes@demo-bank.test",
		"names": `{"de":"Kundenbarometer","fr":"Baromètre client"}`}).Error
	if err != nil {
		t.Fatal(err)
	}
	return camp
}

func TestBrowserCompactSurvey(t *testing.T) {
	js, err := os.ReadFile("testdata/axe/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	axeJS := string(js)
	ts := startTestServer(t, 0)
	m := ts.App.models.Latest()
	camp := brandDemo(t, ts)
	ctx := newBrowser(t, "en")

	widths := [][2]int64{{375, 800}, {1280, 900}}
	limits := []int{32000, 24000}
	for i, lang := range []string{"en", "de", "fr"} {
		sums := surveyHeights(t, ctx, ts.Demo.Links[i], lang, len(m.Sections), widths)
		for j, w := range widths {
			t.Logf("%s at %d×%d: whole survey %d px", lang, w[0], w[1], sums[j])
			if sums[j] > limits[j] {
				t.Errorf("%s at %d×%d: whole survey is %d px tall, want ≤ %d", lang, w[0], w[1], sums[j], limits[j])
			}
		}
	}
	// A section page at both widths, for a reviewer to look at.
	dir := t.TempDir()
	open(t, ctx, ts.Demo.Links[0]+"/p/1?lang=en")
	for _, w := range widths {
		do(t, ctx, chromedp.EmulateViewport(w[0], w[1]))
		shot := read(t, ctx, chromedp.FullScreenshot(100))
		name := filepath.Join(dir, fmt.Sprintf("section-1-%dpx.png", w[0]))
		if err := os.WriteFile(name, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot of section 1 at %d px: %s", w[0], name)
	}
	do(t, ctx, chromedp.ResetViewport())

	// Whose survey this is: the organisation's logo and name, the campaign
	// in the page's language and its contact; no "Sign in"; a favicon.
	link := ts.Demo.Links[0]
	open(t, ctx, link+"/p/1?lang=de")
	type header struct {
		Logo, Org, Foot, Mailto, Icon string
		SignIn                        int
	}
	h := read(t, ctx, chromedp.Evaluate[header](`({
		logo: document.querySelector('header img.logo')?.getAttribute('src') || '',
		org: document.querySelector('header .brand')?.textContent.trim() || '',
		foot: document.querySelector('footer .campaign')?.textContent.trim() || '',
		mailto: document.querySelector('footer a[href^="mailto:"]')?.getAttribute('href') || '',
		icon: document.querySelector('link[rel=icon]')?.getAttribute('href') || '',
		signIn: document.querySelectorAll('a[href="/login"]').length,
	})`))
	if !strings.HasPrefix(h.Logo, fmt.Sprintf("/brand/%d/logo.", camp.OrganisationID)) || h.Org != "Demo Bank" {
		t.Errorf("header: logo %q, organisation %q", h.Logo, h.Org)
	}
	if !strings.Contains(h.Foot, "Kundenbarometer") || !strings.Contains(h.Foot, "Dana Reyes") || h.Mailto != "mailto:dana.reyes@demo-bank.test" {
		t.Errorf("footer: %q, mailto %q", h.Foot, h.Mailto)
	}
	if h.SignIn != 0 || h.Icon == "" {
		t.Errorf("%d sign-in links, favicon %q", h.SignIn, h.Icon)
	}
	if loaded := read(t, ctx, chromedp.Evaluate[bool](`document.querySelector('header img.logo').naturalWidth === 120`)); !loaded {
		t.Error("the logo did not load")
	}
	res, err := http.Get(ts.URL + h.Logo)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" || !strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("logo: %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"))
	}

	// The phone's section menu: collapsed to where the respondent is, and
	// each section's state in words when opened.
	open(t, ctx, link+"/p/1?lang=en")
	do(t, ctx, chromedp.EmulateViewport(375, 800))
	if got := visibleText(t, ctx, "details.secmenu summary"); got != "Section 1 of 13 · Analysis and planning" {
		t.Errorf("menu summary = %q", got)
	}
	if n := read(t, ctx, chromedp.Evaluate[int](`[...document.querySelectorAll('details.secmenu li')].filter(li => li.checkVisibility()).length`)); n != 0 {
		t.Errorf("the closed menu shows %d sections", n)
	}

	// The rightmost choice is the most: level 1 as stored. The leftmost is 5.
	ids := practicesOnPage(t, ctx)
	rightmost := read(t, ctx, chromedp.Evaluate[string](fmt.Sprintf(`(() => {
		const inputs = [...document.querySelectorAll('fieldset[data-practice=%q][data-dimension=intention] .scale input')];
		const levels = inputs.filter(i => i.value !== 'dk');
		const right = levels.reduce((a, b) => b.getBoundingClientRect().left > a.getBoundingClientRect().left ? b : a);
		const top = new Set(levels.map(i => Math.round(i.getBoundingClientRect().top)));
		return top.size === 1 ? right.id : 'not one row';
	})()`, ids[0])))
	if rightmost != ids[0]+"-intention-1" {
		t.Fatalf("the rightmost level choice is %q, want %s-intention-1", rightmost, ids[0])
	}
	do(t, ctx, chromedp.Click(chromedp.ID(rightmost), chromedp.NodeVisible))
	do(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`fieldset[data-practice=%q][data-dimension=reality] .opt:first-child input`, ids[0])), chromedp.NodeVisible))
	waitSaveStatus(t, ctx, "saved", 10*time.Second)
	stored := draftOf(t, ts, link)
	first, _ := m.Practice(ids[0])
	if got := stored[m.Slot(first, survey.Intention)]; got != 1 {
		t.Errorf("rightmost choice stored %d, want 1", got)
	}
	if got := stored[m.Slot(first, survey.Reality)]; got != 5 {
		t.Errorf("leftmost choice stored %d, want 5", got)
	}
	if got := visibleText(t, ctx, fmt.Sprintf(`fieldset[data-practice=%q][data-dimension=intention] .chosen`, ids[0])); !strings.HasPrefix(got, m.Dimensions[0].Levels[0].Title.In("en")) {
		t.Errorf("under the row: %q, want the chosen level's title and text", got)
	}

	// Reopened, the menu says section 1 is started and the others not.
	do(t, ctx, chromedp.Reload())
	do(t, ctx, chromedp.Click(chromedp.CSS(`details.secmenu summary`), chromedp.NodeVisible))
	// The states are words (with a mark that screen readers skip), not a tint.
	states := read(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('details.secmenu li')].filter(li => li.checkVisibility()).map(li => li.innerText.replace(/\s+/g, ' ').trim())`))
	want := []string{"◐ Analysis and planning started", "○ The proposition not started"}
	if len(states) != len(m.Sections)+1 || states[0] != want[0] || states[1] != want[1] || states[len(m.Sections)] != "Review and submit" {
		t.Errorf("open menu: %q, want %q, … and the review", states, want)
	}
	checkAccessibility(t, ctx, axeJS, "section with the menu open", 375, 1280)

	// Review: open ratings folded by section, with a count and a way to the first.
	open(t, ctx, link+"/review?lang=en")
	if n := read(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('details.missing:not([open])').length`)); n != len(m.Sections) {
		t.Errorf("review: %d folded sections with open ratings, want %d", n, len(m.Sections))
	}
	if got := visibleText(t, ctx, "details.missing summary .count"); got != fmt.Sprintf("%d open", 2*len(m.Sections[0].Practices())-2) {
		t.Errorf("first section's count: %q", got)
	}
	checkAccessibility(t, ctx, axeJS, "review", 375, 1280)
	do(t, ctx, chromedp.EmulateViewport(375, 800))
	if status := follow(t, ctx, chromedp.Click(chromedp.CSS(`a.first-open`), chromedp.NodeVisible)); status != 200 {
		t.Fatalf("first open question: status %d", status)
	}
	if loc := read(t, ctx, chromedp.Evaluate[string](`location.pathname + location.hash`)); loc != ts.pathOf(t, link)+"/p/1#"+ids[1] {
		t.Errorf("go to the first open question landed on %s, want …/p/1#%s", loc, ids[1])
	}

	// Submitting with nearly everything open asks once, then thanks.
	open(t, ctx, link+"/review?lang=en")
	if status := follow(t, ctx, chromedp.Click(chromedp.CSS(`form.submit-form button[type=submit]`), chromedp.NodeVisible)); status != 200 {
		t.Fatalf("submit: status %d", status)
	}
	if h1 := visibleText(t, ctx, "h1"); h1 != "Submit with ratings still open?" {
		t.Fatalf("after the first submit: h1 = %q, want the confirmation", h1)
	}
	if draftOf(t, ts, link) == nil {
		t.Fatal("the confirmation page submitted already")
	}
	checkAccessibility(t, ctx, axeJS, "submit confirmation", 375, 1280)
	do(t, ctx, chromedp.EmulateViewport(375, 800))
	if status := follow(t, ctx, chromedp.Click(chromedp.CSS(`form.confirm-form button[type=submit]`), chromedp.NodeVisible)); status != 200 {
		t.Fatalf("submit anyway: status %d", status)
	}
	if h1 := visibleText(t, ctx, "h1"); h1 != "Thank you!" {
		t.Errorf("after submit: h1 = %q, want the thank-you page", h1)
	}
	if text := visibleText(t, ctx, "main"); !strings.Contains(text, "What happens next") || !strings.Contains(text, "at least 5 people") || !strings.Contains(text, "Demo Bank") {
		t.Errorf("thank-you page: %q", text)
	}
	checkAccessibility(t, ctx, axeJS, "thank-you", 375, 1280)
	if draftOf(t, ts, link) != nil {
		t.Error("the draft is still there after submit")
	}
	// Opened again later, the link says it was submitted.
	open(t, ctx, link+"?lang=en")
	if h1 := visibleText(t, ctx, "h1"); !strings.HasPrefix(h1, "Already submitted") {
		t.Errorf("link opened again: h1 = %q", h1)
	}
	checkAccessibility(t, ctx, axeJS, "already submitted", 375, 1280)
}
