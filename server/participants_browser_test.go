package server

import (
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"tiltline/survey"
)

// TestBrowserParticipantsSearch: an admin finds a participant by part of
// the address, narrows the list by unit, language and delivery state, and
// reads titles, not keys, in the table.
func TestBrowserParticipantsSearch(t *testing.T) {
	js, err := os.ReadFile("testdata/axe/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	ts := startTestServer(t, 20)
	ctx := newBrowser(t, "en")
	signInAsAdmin(t, ts, ctx)
	list := fmt.Sprintf("%s/admin/campaigns/%d/participants", ts.URL, ts.Demo.CampaignID)
	if status := open(t, ctx, list); status != http.StatusOK {
		t.Fatalf("participants: %d", status)
	}
	emails := func() []string {
		return read(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('table.data tbody tr td:first-child')].map(td => td.innerText.trim())`))
	}
	all := emails()
	if len(all) < 20 {
		t.Fatalf("the demo lists %d participants", len(all))
	}
	// Roles and languages read as words, never as keys such as crm-leader.
	cells := read(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('table.data tbody tr')].flatMap(r => [r.cells[3].innerText, r.cells[5].innerText, r.cells[6].innerText])`))
	key := regexp.MustCompile(`^[a-z]+(-[a-z]+)+$|^(en|de|fr)$|_`)
	for _, c := range cells {
		if key.MatchString(strings.TrimSpace(c)) {
			t.Errorf("a table cell shows a key: %q", c)
		}
	}
	checkAccessibility(t, ctx, string(js), "participants list", 1280, 375)

	// A part of one address.
	want := all[3]
	do(t, ctx, chromedp.SendKeys(chromedp.ID("f-q"), strings.ToUpper(want[:len("person00004")]), chromedp.NodeVisible))
	follow(t, ctx, chromedp.Click(byText("button", "Show"), chromedp.NodeVisible))
	if got := emails(); len(got) != 1 || got[0] != want {
		t.Errorf("search for %q found %v", want[:11], got)
	}
	if status := visibleText(t, ctx, "#plist-count"); !strings.HasPrefix(status, fmt.Sprintf("1 of %d match.", len(all))) {
		t.Errorf("count line %q", status)
	}

	// A unit, then a language too: the list is what the database holds for them.
	var retail survey.BusinessUnit
	ts.App.db.Read.Where("name = ?", "Retail Banking").First(&retail)
	var inUnit, inUnitDE int64
	ts.App.db.Read.Model(&survey.Participant{}).Where("campaign_id = ? AND unit_id = ?", ts.Demo.CampaignID, retail.ID).Count(&inUnit)
	ts.App.db.Read.Model(&survey.Participant{}).Where("campaign_id = ? AND unit_id = ? AND locale = 'de'", ts.Demo.CampaignID, retail.ID).Count(&inUnitDE)
	follow(t, ctx, chromedp.Click(byText("a", "Clear the filters"), chromedp.NodeVisible))
	do(t, ctx, chromedp.SetValue(chromedp.ID("f-unit"), fmt.Sprint(retail.ID)))
	follow(t, ctx, chromedp.Click(byText("button", "Show"), chromedp.NodeVisible))
	if got := emails(); int64(len(got)) != inUnit || inUnit == 0 {
		t.Errorf("Retail Banking lists %d, the database %d", len(got), inUnit)
	}
	do(t, ctx, chromedp.SetValue(chromedp.ID("f-locale"), "de"))
	follow(t, ctx, chromedp.Click(byText("button", "Show"), chromedp.NodeVisible))
	if got := emails(); int64(len(got)) != inUnitDE {
		t.Errorf("Retail Banking in German lists %d, the database %d", len(got), inUnitDE)
	}
	if u := read(t, ctx, chromedp.Value(chromedp.ID("f-unit"))); u != fmt.Sprint(retail.ID) {
		t.Errorf("the unit filter did not stay chosen: %q", u)
	}

	// Delivery: every demo invitation went out, answered or not, so all are
	// "Delivered" and none is told apart by having answered.
	open(t, ctx, list+"?delivery=delivered")
	if got := emails(); len(got) != len(all) {
		t.Errorf("delivered lists %d of %d", len(got), len(all))
	}
	states := read(t, ctx, chromedp.Evaluate[[]string](`[...new Set([...document.querySelectorAll('table.data tbody tr')].map(r => r.cells[6].innerText.trim()))]`))
	if len(states) != 1 || states[0] != "Delivered" {
		t.Errorf("delivery column shows %v, want only Delivered", states)
	}
	open(t, ctx, list+"?delivery=bounced")
	if body := visibleText(t, ctx, "main"); !strings.Contains(body, "Nobody matches these filters.") {
		t.Errorf("no bounced participants, but the page says:\n%s", body)
	}
	checkAccessibility(t, ctx, string(js), "participants list with no match", 1280, 375)
}
