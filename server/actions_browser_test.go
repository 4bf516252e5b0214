package server

import (
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var actionPathRe = regexp.MustCompile(`^/actions/(\d+)$`)

// TestBrowserActionFromRecommendationToDone: a manager reading last year's
// wave plans an action from its first recommendation in two clicks, giving
// it to a colleague; the colleague gets the mail (a real SMTP server),
// opens the action from it and marks it done; this year's results then
// show whether its practice moved. axe-core checks the board and the action
// page at 375 and 1280 px.
func TestBrowserActionFromRecommendationToDone(t *testing.T) {
	axeJS, err := os.ReadFile("testdata/axe/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	sink := startSink(t)
	ts := startTestServerWith(t, testServerOptions{Responses: 40, SMTPURL: sink.URL("")})
	ctx := newBrowser(t, "en")
	signInWith(t, ts, ctx, ts.Demo.ManagerEmail, ts.Demo.ManagerPassword, "/results")

	if status := open(t, ctx, fmt.Sprintf("%s/results/%d", ts.URL, ts.Demo.PreviousCampaignID)); status != http.StatusOK {
		t.Fatalf("last year's results: %d", status)
	}
	// Click 1: "Plan an action" on the first recommendation.
	practice := strings.TrimSpace(read(t, ctx, chromedp.Text(chromedp.CSS("ol.recs li strong"), chromedp.NodeVisible)))
	if status := follow(t, ctx, chromedp.Click(chromedp.CSS(`ol.recs li a[href^="/actions/new"]`), chromedp.NodeVisible)); status != http.StatusOK {
		t.Fatalf("plan an action: %d", status)
	}
	if h1 := visibleText(t, ctx, "h1"); h1 != "Plan an action" {
		t.Fatalf("form h1 = %q", h1)
	}
	if !read(t, ctx, chromedp.Evaluate[bool](fmt.Sprintf(`document.getElementById('p-%s').checked`, practice))) {
		t.Fatalf("the form does not start from the recommendation's practice %s", practice)
	}
	// Assign it: the owner is a choice in the form, not a click.
	do(t, ctx, chromedp.SetValue(chromedp.ID("owner"), ownerOption(t, ts, ts.Demo.LearnerEmail), chromedp.NodeVisible))
	// Click 2: create it.
	if status := follow(t, ctx, chromedp.Click(byText("button", "Create the action"), chromedp.NodeVisible)); status != http.StatusOK {
		t.Fatalf("create the action: %d", status)
	}
	m := actionPathRe.FindStringSubmatch(pagePath(t, ts, ctx))
	if m == nil {
		t.Fatalf("after creating, the browser is on %s", pagePath(t, ts, ctx))
	}
	title := visibleText(t, ctx, "h1")
	if owner := visibleText(t, ctx, "dl.facts dd"); owner != "Lea Learner" {
		t.Errorf("owner shown %q", owner)
	}
	checkAccessibility(t, ctx, string(axeJS), "action page", 1280, 375)

	// The owner's mail, from a real SMTP server.
	mails := sink.Wait(1, 20*time.Second)
	var mail string
	for _, ml := range mails {
		if len(ml.To) == 1 && ml.To[0] == ts.Demo.LearnerEmail {
			mail = string(undoQuotedPrintable(ml.Data))
		}
	}
	if !strings.Contains(mail, "Subject: An action for you") || !strings.Contains(mail, ts.URL+m[0]) {
		t.Fatalf("the owner's mail lacks the subject or the link to %s:\n%.600s", m[0], mail)
	}

	// The board, as the manager sees it.
	if status := open(t, ctx, ts.URL+"/actions"); status != http.StatusOK {
		t.Fatalf("board: %d", status)
	}
	if !strings.Contains(visibleText(t, ctx, "table.board"), title) {
		t.Error("the board does not list the new action")
	}
	checkAccessibility(t, ctx, string(axeJS), "action board", 1280, 375)

	// The owner signs in, follows the mail's link and marks it done.
	follow(t, ctx, chromedp.Click(byText("button", "Sign out"), chromedp.NodeVisible))
	signInWith(t, ts, ctx, ts.Demo.LearnerEmail, ts.Demo.LearnerPassword, "/learn/path") // learners land on their path
	if status := open(t, ctx, ts.URL+m[0]); status != http.StatusOK {
		t.Fatalf("the owner opens the action: %d", status)
	}
	if status := follow(t, ctx, chromedp.Click(byText("button", "Mark as done"), chromedp.NodeVisible)); status != http.StatusOK {
		t.Fatalf("mark as done: %d", status)
	}
	if s := visibleText(t, ctx, "main .status"); s != "Done" {
		t.Errorf("status after marking done: %q", s)
	}

	// This year's wave says whether it worked.
	follow(t, ctx, chromedp.Click(byText("button", "Sign out"), chromedp.NodeVisible))
	signInWith(t, ts, ctx, ts.Demo.ManagerEmail, ts.Demo.ManagerPassword, "/results")
	if status := open(t, ctx, fmt.Sprintf("%s/results/%d", ts.URL, ts.Demo.CampaignID)); status != http.StatusOK {
		t.Fatalf("this year's results: %d", status)
	}
	did := visibleText(t, ctx, "section.did-it-work")
	if !strings.Contains(did, "Did it work?") || !strings.Contains(did, title) || !strings.Contains(did, practice) {
		t.Errorf("did-it-work does not show the action on %s:\n%s", practice, did)
	}
}

// ownerOption is the value of an account in the owner list.
func ownerOption(t *testing.T, ts *testServer, email string) string {
	t.Helper()
	var id int64
	if err := ts.App.db.Read.Raw(`SELECT id FROM users WHERE email = ?`, email).Scan(&id).Error; err != nil || id == 0 {
		t.Fatalf("no account %s: %v", email, err)
	}
	return fmt.Sprint(id)
}
