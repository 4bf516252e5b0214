package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
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

func TestBrowserCompactSurvey(t *testing.T) {
	ts := startTestServer(t, 0)
	m := ts.App.models.Latest()
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
		png := read(t, ctx, chromedp.FullScreenshot(100))
		name := filepath.Join(dir, fmt.Sprintf("section-1-%dpx.png", w[0]))
		if err := os.WriteFile(name, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot of section 1 at %d px: %s", w[0], name)
		if os.Getenv("TILTLINE_SHOTS") != "" {
			os.WriteFile(filepath.Join(os.Getenv("TILTLINE_SHOTS"), filepath.Base(name)), png, 0o644)
			t.Log(read(t, ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('header, .sticky, h1, .progress-text, .summary, details.levels, .subsection h2, article.practice, .pager, footer')].slice(0,12).map(e => e.tagName + '.' + e.className + '=' + Math.round(e.getBoundingClientRect().height)).join(' ')`)))
		}
	}
	do(t, ctx, chromedp.ResetViewport())
}
