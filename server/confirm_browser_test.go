package server

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserConfirmations: sending invitations, sending a reminder,
// closing the campaign and deleting each ask first, saying what will
// happen; cancelling sends and changes nothing, confirming acts once. The
// reminder cool-down holds back people mailed minutes ago until the admin
// gives a reason, which the campaign page then shows. One browser, one
// server, one SMTP sink.
func TestBrowserConfirmations(t *testing.T) {
	js, err := os.ReadFile("testdata/axe/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	axeJS := string(js)
	sink := startSink(t)
	ts := startTestServerWith(t, testServerOptions{SMTPURL: sink.URL("")})
	// The demo's three open invitations, not yet mailed.
	if err := ts.App.db.Write.Exec("UPDATE invitations SET status = 'pending' WHERE campaign_id = ?", ts.Demo.CampaignID).Error; err != nil {
		t.Fatal(err)
	}
	ctx := newBrowser(t, "en")
	signInAsAdmin(t, ts, ctx)
	campaign := fmt.Sprintf("/admin/campaigns/%d", ts.Demo.CampaignID)
	open(t, ctx, ts.URL+campaign)
	quiet := func(want int, what string) {
		t.Helper()
		time.Sleep(400 * time.Millisecond) // the worker polls every 50 ms
		if n := len(sink.Mails()); n != want {
			t.Fatalf("%s: %d mails at the sink, want %d", what, n, want)
		}
	}
	primary := func() string {
		return read(t, ctx, chromedp.Evaluate[string](`(document.querySelector('main .actions .primary') || {}).innerText || ''`))
	}

	// Invitations: the main action while anyone is not yet invited.
	if p := primary(); p != "Send invitations (3)" {
		t.Errorf("primary action of an open campaign with 3 not invited = %q", p)
	}
	follow(t, ctx, chromedp.Click(chromedp.ID("send-invitations"), chromedp.NodeVisible))
	if h1 := visibleText(t, ctx, "h1"); !strings.HasPrefix(h1, "Send 3 invitations in ") || !strings.HasSuffix(h1, "?") {
		t.Errorf("invitation question = %q", h1)
	}
	checkAccessibility(t, ctx, axeJS, "invitation confirmation", 1280, 375)
	follow(t, ctx, chromedp.Click(chromedp.ID("cancel"), chromedp.NodeVisible))
	if p := pagePath(t, ts, ctx); p != campaign {
		t.Fatalf("cancel leads to %s", p)
	}
	quiet(0, "cancelled invitations")
	follow(t, ctx, chromedp.Click(chromedp.ID("send-invitations"), chromedp.NodeVisible))
	follow(t, ctx, chromedp.Click(chromedp.ID("confirm"), chromedp.NodeVisible))
	if notice := visibleText(t, ctx, "p.notice"); notice != "3 mails are on their way." {
		t.Errorf("notice after confirming = %q", notice)
	}
	sink.Wait(3, 10*time.Second)
	quiet(3, "confirmed invitations")
	// Going back to the question: there is nothing left to confirm.
	open(t, ctx, ts.URL+campaign+"/invite")
	if body := visibleText(t, ctx, "main"); !strings.Contains(body, "Everyone on the list has been invited already") {
		t.Errorf("the invitation page once all are invited:\n%s", body)
	}

	// Everyone invited: the reminder is the main action, not invitations.
	for deadline := time.Now().Add(10 * time.Second); ; {
		open(t, ctx, ts.URL+campaign)
		if strings.Contains(visibleText(t, ctx, "ul.mailings"), "3 delivered") || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if p := primary(); !strings.HasPrefix(p, "Send a reminder") {
		t.Errorf("primary action once everyone is invited = %q", p)
	}
	if got := visibleText(t, ctx, "ul.mailings"); !strings.Contains(got, "Invitations: 3 delivered, the last on") || !strings.Contains(got, "last sent by hand on") {
		t.Errorf("mail log = %q", got)
	}

	// A reminder minutes after the invitation: held back, unless a reason is given.
	follow(t, ctx, chromedp.Click(chromedp.ID("send-reminder"), chromedp.NodeVisible))
	if body := visibleText(t, ctx, "main"); !strings.Contains(body, "Nobody is due a reminder now") || !strings.Contains(body, "Held back: 3 people") {
		t.Errorf("reminder page within the cool-down:\n%s", body)
	}
	checkAccessibility(t, ctx, axeJS, "reminder confirmation with the cool-down", 1280, 375)
	do(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('form.override').noValidate = true`))
	if status := follow(t, ctx, chromedp.Click(chromedp.ID("override"), chromedp.NodeVisible)); status != http.StatusUnprocessableEntity {
		t.Errorf("override without a reason: status %d, want 422", status)
	}
	if msg := visibleText(t, ctx, "#reason-error"); msg != "Give a reason to remind people mailed so recently." {
		t.Errorf("override without a reason: %q", msg)
	}
	quiet(3, "an override without a reason")
	follow(t, ctx, chromedp.Click(chromedp.ID("cancel"), chromedp.NodeVisible))
	quiet(3, "a cancelled reminder")
	follow(t, ctx, chromedp.Click(chromedp.ID("send-reminder"), chromedp.NodeVisible))
	do(t, ctx, chromedp.SendKeys(chromedp.ID("override_reason"), "The deadline moved to Friday", chromedp.NodeVisible))
	follow(t, ctx, chromedp.Click(chromedp.ID("override"), chromedp.NodeVisible))
	sink.Wait(6, 10*time.Second)
	quiet(6, "the overridden reminder")
	if got := visibleText(t, ctx, "ul.mailings"); !strings.Contains(got, "“The deadline moved to Friday”") {
		t.Errorf("mail log after an override = %q", got)
	}

	// Closing: cancel keeps it open, confirm closes it.
	follow(t, ctx, chromedp.Click(chromedp.ID("close-campaign"), chromedp.NodeVisible))
	if h1 := visibleText(t, ctx, "h1"); !strings.HasPrefix(h1, "Close “") {
		t.Errorf("close question = %q", h1)
	}
	follow(t, ctx, chromedp.Click(chromedp.ID("cancel"), chromedp.NodeVisible))
	if h1 := visibleText(t, ctx, "h1"); !strings.Contains(h1, "open") {
		t.Errorf("after cancelling the close: %q", h1)
	}
	follow(t, ctx, chromedp.Click(chromedp.ID("close-campaign"), chromedp.NodeVisible))
	follow(t, ctx, chromedp.Click(chromedp.ID("confirm"), chromedp.NodeVisible))
	if h1 := visibleText(t, ctx, "h1"); !strings.Contains(h1, "closed") {
		t.Errorf("after confirming the close: %q", h1)
	}
	if p := primary(); p != "Start the next wave" {
		t.Errorf("primary action of a closed campaign = %q", p)
	}

	// Deleting a participant, a unit and an account.
	count := func() string { return visibleText(t, ctx, "h1 .muted") }
	open(t, ctx, ts.URL+campaign+"/participants")
	before := count()
	follow(t, ctx, chromedp.Click(byTextPrefix("a", "Delete"), chromedp.NodeVisible))
	if h1 := visibleText(t, ctx, "h1"); !strings.HasPrefix(h1, "Remove ") {
		t.Errorf("participant question = %q", h1)
	}
	checkAccessibility(t, ctx, axeJS, "participant delete confirmation", 1280, 375)
	follow(t, ctx, chromedp.Click(chromedp.ID("cancel"), chromedp.NodeVisible))
	if c := count(); c != before {
		t.Errorf("cancel removed a participant: %s → %s", before, c)
	}
	follow(t, ctx, chromedp.Click(byTextPrefix("a", "Delete"), chromedp.NodeVisible))
	follow(t, ctx, chromedp.Click(chromedp.ID("confirm"), chromedp.NodeVisible))
	if c := count(); c != "(2)" || before != "(3)" {
		t.Errorf("participants %s → %s, want (3) → (2)", before, c)
	}
	for _, page := range []string{"/admin/units", "/admin/users"} {
		open(t, ctx, ts.URL+page)
		n := read(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('main a[href$="/delete"]').length`))
		follow(t, ctx, chromedp.Click(chromedp.CSS(`main a[href$="/delete"]`), chromedp.NodeVisible))
		if h1 := visibleText(t, ctx, "h1"); !strings.HasPrefix(h1, "Delete ") {
			t.Errorf("%s: question %q", page, h1)
		}
		follow(t, ctx, chromedp.Click(chromedp.ID("cancel"), chromedp.NodeVisible))
		if m := read(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('main a[href$="/delete"]').length`)); m != n {
			t.Errorf("%s: cancel deleted one (%d → %d)", page, n, m)
		}
		follow(t, ctx, chromedp.Click(chromedp.CSS(`main a[href$="/delete"]`), chromedp.NodeVisible))
		follow(t, ctx, chromedp.Click(chromedp.ID("confirm"), chromedp.NodeVisible))
		if m := read(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('main a[href$="/delete"]').length`)); m != n-1 {
			t.Errorf("%s: confirm left %d of %d", page, m, n)
		}
	}
}
