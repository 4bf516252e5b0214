package server

import (
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tiltline/survey"
	"tiltline/survey/outbox"
	"tiltline/survey/surveytest"
)

// slowSMTP is a mail server that accepts connections and then says nothing
// for a long time: the worst a request that talks SMTP could meet.
func slowSMTP(t *testing.T) (addr string, conns *atomic.Int64) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	conns = &atomic.Int64{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() { time.Sleep(3 * time.Second); c.Close() }()
		}
	}()
	return ln.Addr().String(), conns
}

// "Forgot password" only queues: the same status and page for a known and
// an unknown address, whether the mail server is down or slow, with no
// SMTP connection made while the request runs.
func TestForgotPasswordAnswersAlikeAndNeverTalksSMTP(t *testing.T) {
	slow, conns := slowSMTP(t)
	down, _ := net.Listen("tcp", "127.0.0.1:0")
	downAddr := down.Addr().String()
	down.Close() // nothing listens there: connections are refused
	for name, smtpAddr := range map[string]string{"slow": slow, "down": downAddr} {
		t.Run(name, func(t *testing.T) {
			a, _ := newMailApp(t, surveytest.SQLiteURL(t), "smtp://"+smtpAddr+"?tls=none&rate=0")
			if _, err := survey.CreateUserWithPassword(t.Context(), a.db, "known@example.com", "", survey.RolePlatformAdmin, nil, "old-password-123"); err != nil {
				t.Fatal(err)
			}
			f := newFlow(t, a, "")
			strip := regexp.MustCompile(`(known|ghost)@example\.com|value="[^"]*"`)
			var pages [2]string
			for round := range 2 { // 4 requests: within the per-address throttle
				for i, email := range []string{"known@example.com", "ghost@example.com"} {
					start := time.Now()
					code, page, _ := f.do(http.MethodPost, "/password/forgot", "application/x-www-form-urlencoded", url.Values{"email": {email}}.Encode())
					took := time.Since(start)
					if code != http.StatusOK {
						t.Fatalf("round %d, %s: status %d, want 200", round, email, code)
					}
					if took > time.Second {
						t.Errorf("round %d, %s: took %v: the request waits for the mail server", round, email, took)
					}
					pages[i] = strip.ReplaceAllString(page, "")
				}
				if pages[0] != pages[1] {
					t.Errorf("round %d: the page differs between a known and an unknown address", round)
				}
			}
			if n := conns.Load(); name == "slow" && n != 0 {
				t.Errorf("%d SMTP connections during the requests, want none", n)
			}
			var waiting int64
			a.db.Read.Raw("SELECT count(*) FROM outbox WHERE kind = ?", "password_reset").Scan(&waiting)
			if waiting != 2 {
				t.Errorf("%d password jobs waiting, want one per address (asking twice queues once)", waiting)
			}
		})
	}
}

// The worker sends the link to an account's owner and drops the job of an
// address without an account, sending nothing and keeping nothing.
func TestPasswordMailGoesOnlyToAccounts(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) { testPasswordMailGoesOnlyToAccounts(t, dialect) })
	}
}

func testPasswordMailGoesOnlyToAccounts(t *testing.T, dialect string) {
	sink := startSink(t)
	a, _ := newMailApp(t, surveytest.URL(t, dialect), sink.URL(""))
	ctx := t.Context()
	if _, err := survey.CreateUserWithPassword(ctx, a.db, "owner@example.com", "", survey.RolePlatformAdmin, nil, "old-password-123"); err != nil {
		t.Fatal(err)
	}
	f := newFlow(t, a, "")
	f.post("/password/forgot", url.Values{"email": {"nobody@example.com"}})
	f.post("/password/forgot", url.Values{"email": {"Owner@Example.com"}})
	startMailer(t, a, nil)
	mails := sink.Wait(1, 5*time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for {
		var left int64
		a.db.Read.Raw("SELECT count(*) FROM outbox").Scan(&left)
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d password jobs left in the outbox, want none", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if mails = sink.Mails(); len(mails) != 1 || len(mails[0].To) != 1 || mails[0].To[0] != "owner@example.com" {
		t.Fatalf("mails %+v, want one to the owner", mails)
	}
	link := regexp.MustCompile(`http://test(/password/[A-Za-z0-9_-]+)`).FindSubmatch(mails[0].Data)
	if link == nil {
		t.Fatal("no link in the mail")
	}
	if code, _ := f.post(string(link[1]), url.Values{"password": {"new-password-456"}, "confirm": {"new-password-456"}}); code != http.StatusSeeOther {
		t.Errorf("the mailed link does not work: %d", code)
	}
	if strings.Contains(string(mails[0].Data), "nobody@") {
		t.Error("the unknown address shows in the mail")
	}
}

// A line break in the contact's name is refused by the campaign form, with
// the typed values kept.
func TestCampaignContactNameMustBeOneLine(t *testing.T) {
	a, demo, _ := newTestApp(t)
	admin := signedIn(t, a, demo.AdminEmail, demo.AdminPassword)
	form := url.Values{"name": {"Wave with a bad contact"}, "wave_label": {"2027"}, "locales": {"en"}, "k_min": {"5"},
		"contact_name": {"Ada\r\nBcc: everyone@example.com"}, "contact_email": {"ada@demo-bank.example"}, "csrf": {admin.csrf}}
	code, page, _ := admin.do(http.MethodPost, "/admin/campaigns", "application/x-www-form-urlencoded", form.Encode())
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422", code)
	}
	if !strings.Contains(page, a.i18n.T("en", "form.error.one_line", nil)) || !strings.Contains(page, "Wave with a bad contact") {
		t.Error("the form does not say what is wrong, or lost what was typed")
	}
	var n int64
	a.db.Read.Raw("SELECT count(*) FROM campaigns WHERE name = ?", "Wave with a bad contact").Scan(&n)
	if n != 0 {
		t.Error("the campaign was saved")
	}
}

// Mail the campaign's settings make unwritable is given up at once with a
// reason on the mail page, never retried forever; a contact name with a
// line break (stored before the form refused it) no longer stops mail.
func TestUnsendableMailIsGivenUpWithAReason(t *testing.T) {
	sink := startSink(t)
	a, _ := newMailApp(t, surveytest.SQLiteURL(t), sink.URL(""))
	ctx := t.Context()
	broken := seedMailCampaign(t, a, 3, "en")
	a.db.Write.Exec("UPDATE campaigns SET contact_email = ? WHERE id = ?", "ada at org", broken.campaign.ID)
	multiline := seedMailCampaign(t, a, 2, "en")
	a.db.Write.Exec("UPDATE campaigns SET contact_name = ? WHERE id = ?", "Ada\r\nAdmin", multiline.campaign.ID)
	outbox.QueueInvitations(ctx, a.db, broken.campaign.ID)
	outbox.QueueInvitations(ctx, a.db, multiline.campaign.ID)
	startMailer(t, a, nil)

	mails := sink.Wait(2, 5*time.Second)
	for _, m := range mails {
		if !strings.Contains(string(m.Data), "Reply-To: \"Ada Admin\" <ada@org.example>") {
			t.Errorf("reply-to not one clean line:\n%s", m.Data)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		var failed int64
		a.db.Read.Raw(`SELECT count(*) FROM outbox o JOIN invitations i ON i.id = o.invitation_id
			WHERE i.campaign_id = ? AND o.failed_at IS NOT NULL AND o.last_error = 'mail.failed.contact'`, broken.campaign.ID).Scan(&failed)
		if failed == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 3 unwritable mails given up", failed)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st := invitationStatuses(t, a, broken.campaign.ID); st[survey.InvitePending] != 3 {
		t.Errorf("statuses %v: the campaign's fault must not bounce its participants", st)
	}

	// The admin sees why on the campaign's mail page …
	var org int64
	a.db.Read.Raw("SELECT organisation_id FROM campaigns WHERE id = ?", broken.campaign.ID).Scan(&org)
	if _, err := survey.CreateUserWithPassword(ctx, a.db, "admin@mail.example", "", survey.RoleOrgAdmin, &org, "mail-admin-password"); err != nil {
		t.Fatal(err)
	}
	admin := signedIn(t, a, "admin@mail.example", "mail-admin-password")
	_, page := admin.get(fmt.Sprintf("/admin/campaigns/%d/mail", broken.campaign.ID))
	if !strings.Contains(page, html.EscapeString(a.i18n.T("en", "mail.failed.contact", nil))) {
		t.Error("the mail page does not say why mail was given up")
	}
	// … corrects the contact, and sends the invitations again.
	a.db.Write.Exec("UPDATE campaigns SET contact_email = ? WHERE id = ?", "ada@org.example", broken.campaign.ID)
	if n, err := outbox.QueueInvitations(ctx, a.db, broken.campaign.ID); err != nil || n != 3 {
		t.Fatalf("queued again: %d %v, want 3", n, err)
	}
	sink.Wait(5, 5*time.Second)
}

// Participant names that would break an address are cleaned at import, and
// a name already stored never makes the mail bounce or reach anyone else.
func TestParticipantNamesNeverBreakTheAddress(t *testing.T) {
	m := surveytest.Model(t)
	p, err := survey.ParseParticipants(strings.NewReader("email;name\n"+
		"a@x.example;\"Jane \"\"JJ\"\" <Doe>\"\n"+
		"b@x.example;\"Doe, John\"\n"+
		"c@x.example;\"Bob\\\\ \u2028Smith\"\n"), m, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Jane JJ Doe", "Doe, John", "Bob Smith"}
	for i, r := range p.Rows {
		if r.Name != want[i] {
			t.Errorf("line %d: name %q, want %q", r.Line, r.Name, want[i])
		}
	}

	sink := startSink(t)
	a, _ := newMailApp(t, surveytest.SQLiteURL(t), sink.URL(""))
	s := seedMailCampaign(t, a, 2, "en")
	a.db.Write.Exec("UPDATE participants SET name = ? WHERE email = ?", `x" <evil@example.com>, "y`, s.emails[0])
	a.db.Write.Exec("UPDATE participants SET name = ? WHERE email = ?", "Doe, \"J\"\r\nBcc: evil@example.com", s.emails[1])
	outbox.QueueInvitations(t.Context(), a.db, s.campaign.ID)
	startMailer(t, a, nil)
	mails := sink.Wait(2, 5*time.Second)
	for _, m := range mails {
		if len(m.To) != 1 || strings.Contains(m.To[0], "evil") {
			t.Errorf("delivered to %v", m.To)
		}
	}
	waitStatus(t, a, s.campaign.ID, survey.InviteSent, 2)
}

// The API's import errors say the line they are about.
func TestAPIImportErrorsNameTheLine(t *testing.T) {
	a, demo, _ := newTestApp(t)
	token, err := survey.CreateAPIToken(t.Context(), a.db, demo.AdminEmail, "hr")
	if err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/api/v1/campaigns/%d/participants", demo.CampaignID)
	code, out := apiCall(t, a, http.MethodPost, path, token, "email;name\nok@x.example;Ok\nbad@x.example;\xff\n")
	msg, _ := out["error"].(map[string]any)["message"].(string)
	if code != http.StatusUnprocessableEntity || !strings.Contains(msg, "Line 3") || strings.Contains(msg, "no value") {
		t.Errorf("file error: %d %q, want 422 naming line 3", code, msg)
	}
	code, out = apiCall(t, a, http.MethodPost, path, token, "email;role\nok2@x.example;\nnot-an-address;\n")
	probs, _ := out["problems"].([]any)
	if code != http.StatusOK || len(probs) != 1 {
		t.Fatalf("import: %d %v", code, out)
	}
	if msg := probs[0].(map[string]any)["message"].(string); !strings.Contains(msg, "Line 3") || !strings.Contains(msg, "not-an-address") {
		t.Errorf("line problem: %q, want it to name line 3 and the value", msg)
	}
}
