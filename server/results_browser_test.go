package server

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestBrowserResultsDashboardIsAccessible(t *testing.T) {
	js, err := os.ReadFile("testdata/axe/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	ts := startTestServer(t, 80)
	ctx := newBrowser(t, "en")
	signInAsAdmin(t, ts, ctx)
	if status := open(t, ctx, fmt.Sprintf("%s/results/%d", ts.URL, ts.Demo.CampaignID)); status != http.StatusOK {
		t.Fatalf("results: status %d", status)
	}
	if h := visibleText(t, ctx, "#leaders-h"); !strings.Contains(h, "Do leaders see") {
		t.Errorf("leaders heading = %q", h)
	}
	if h := visibleText(t, ctx, "#recs-h"); h != "What to do first" {
		t.Errorf("recommendations heading = %q", h)
	}
	checkAccessibility(t, ctx, string(js), "results dashboard", 1280, 375)
	// On a phone the page itself never scrolls sideways: wide tables and
	// heatmaps scroll inside their own boxes.
	do(t, ctx, chromedp.EmulateViewport(375, 800))
	if w := read(t, ctx, chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, document.documentElement.clientWidth]`)); w[0] > w[1] {
		wide := read(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1 && !e.closest('.table-scroll')).slice(0, 5).map(e => e.tagName + ' ' + e.className)`))
		t.Errorf("at 375 px the page scrolls sideways: %d > %d px; too wide: %v", w[0], w[1], wide)
	}
	do(t, ctx, chromedp.ResetViewport())
}

// The manager's journey: sign in, see the radar with the benchmark's band
// and the heatmaps, narrow to the unit of 3 and get the suppression message
// instead of numbers, sort the practice table by gap.
func TestBrowserManagerJourney(t *testing.T) {
	ts := startTestServer(t, 120)
	ctx := newBrowser(t, "en")
	signInWith(t, ts, ctx, ts.Demo.ManagerEmail, ts.Demo.ManagerPassword, "/results")
	if status := open(t, ctx, fmt.Sprintf("%s/results/%d", ts.URL, ts.Demo.CampaignID)); status != http.StatusOK {
		t.Fatalf("results: status %d", status)
	}
	counts := read(t, ctx, chromedp.Evaluate[[]int](`[
		document.querySelectorAll('svg.chart.radar path.series').length,
		document.querySelectorAll('svg.chart.radar path.series.bench.band').length,
		document.querySelectorAll('#heat-units tbody tr').length,
		[...document.querySelectorAll('#heat-units tbody th')].filter(th => th.textContent.includes('(pooled)')).length,
		document.querySelector('svg.chart.radar').getBoundingClientRect().width > 200 ? 1 : 0]`))
	if counts[0] != 3 || counts[1] != 1 || counts[2] < 5 || counts[3] != 1 || counts[4] != 1 {
		t.Errorf("radar series, benchmark band, heatmap rows, pooled rows, radar shown = %v", counts)
	}
	if note := visibleText(t, ctx, "#bench-h + p"); !strings.HasPrefix(note, "Illustrative reference set: 650 generated assessments") {
		t.Errorf("benchmark label = %q", note)
	}

	// Narrow to the unit of 3 with the filter form.
	do(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => {
		const s = document.getElementById('f-unit');
		s.value = [...s.options].find(o => o.text === 'Innovation Lab').value;
	})()`))
	if status := follow(t, ctx, chromedp.Click(chromedp.CSS(`form.filters[aria-label="Filter the results"] button`), chromedp.NodeVisible)); status != http.StatusOK {
		t.Fatalf("filter: status %d", status)
	}
	if h := visibleText(t, ctx, "section.notice h2"); h != "Not enough responses to show this" {
		t.Errorf("small unit heading = %q", h)
	}
	if n := read(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('svg.chart.radar, .heatmap, dl.headline').length`)); n != 0 {
		t.Errorf("the small unit still shows %d charts or figures", n)
	}

	// Back to everyone; open the practice table and sort it by gap.
	if status := open(t, ctx, fmt.Sprintf("%s/results/%d", ts.URL, ts.Demo.CampaignID)); status != http.StatusOK {
		t.Fatalf("results: status %d", status)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS(`details.practices-box summary`), chromedp.NodeVisible))
	if status := follow(t, ctx, chromedp.Click(byTextPrefix("a", "Gap"), chromedp.NodeVisible)); status != http.StatusOK {
		t.Fatalf("sort: status %d", status)
	}
	gaps := read(t, ctx, chromedp.Evaluate[[]float64](`[...document.querySelectorAll('table.practices tbody tr')].map(r => parseFloat(r.cells[3].innerText)).filter(x => !isNaN(x))`))
	if len(gaps) < 50 {
		t.Fatalf("sorted gaps: %v", gaps)
	}
	for i := 1; i < len(gaps); i++ {
		if gaps[i] > gaps[i-1] {
			t.Fatalf("gaps not sorted largest first at %d: %v", i, gaps[:i+1])
		}
	}
	if s := read(t, ctx, chromedp.Evaluate[string](`document.querySelector('table.practices th[aria-sort="descending"]').innerText`)); !strings.HasPrefix(s, "Gap") {
		t.Errorf("aria-sort on %q", s)
	}
	js, err := os.ReadFile("testdata/axe/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	checkAccessibility(t, ctx, string(js), "results with the practice table open", 1280, 375)
}
