package faulttest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"tiltline/internal/smtpsink"
)

// TestSMTPOutage is R3: the SMTP server goes away for three seconds in the
// middle of a 2,000-mail invitation wave (SQLite; rate=0, 4 connections).
// Once it is back every invitation arrives exactly once: none lost, none
// sent twice, none given up on and no invitation marked bounced, since an
// outage of our own mail server is nobody's fault (survey.Release). The
// worker waits at most OutageBackoff (a minute) between tries, starting at
// a 32nd of it, so a short outage costs seconds: no knob needed.
func TestSMTPOutage(t *testing.T) {
	const mails = 2000
	sink, err := smtpsink.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	dbURL := "sqlite:" + t.TempDir() + "/tiltline.db"
	srv := newInstance(t, "server", dbURL, newSecret(), "TILTLINE_SMTP_URL="+sink.URL("rate=0&conns=4"))
	demo := srv.demo(0)
	token := srv.adminToken(demo.Admin)
	srv.start()

	emails := importAndQueue(t, srv.base, token, demo.CampaignID, mails, "r3")
	sink.Expect(emails)
	t0 := time.Now()
	waitMail(t, sink, mails/4, 60*time.Second)
	sink.Pause()
	pausedAt, atPause := time.Now(), sink.Count()
	time.Sleep(3 * time.Second)
	inPause := sink.Count() - atPause
	if err := sink.Resume(); err != nil {
		t.Fatal(err)
	}
	resumedAt := time.Now()
	waitMail(t, sink, mails, 60*time.Second)
	doneAt := time.Now()
	time.Sleep(time.Second) // for a mail sent twice to show

	checkOnce(t, sink, emails)
	if inPause > 4 {
		t.Errorf("%d mails arrived during the outage; at most the 4 in flight may", inPause)
	}
	log := srv.log()
	if !strings.Contains(log, "SMTP server unreachable") || !strings.Contains(log, "SMTP server reachable again") {
		t.Error("the log does not show the outage and the recovery")
	}
	checkOutbox(t, dbURL, mails)
	t.Logf("%d mails: paused after %d (%s), %d arrived during the 3 s outage, %d MAIL FROM refused; all in %s, the rest %s after the sink came back",
		mails, atPause, pausedAt.Sub(t0).Round(time.Millisecond), inPause, sink.Refused(),
		doneAt.Sub(t0).Round(time.Millisecond), doneAt.Sub(resumedAt).Round(time.Millisecond))
}

// TestTwoServersOneOutbox is R4: two server processes on one Postgres
// database share the outbox of a 10,000-invitation wave (each rate=0 with 4
// connections). Every invitation reaches the sink exactly once, and both
// servers sent a share (told apart by their sender address).
func TestTwoServersOneOutbox(t *testing.T) {
	const mails = 10_000
	dbURL := postgres(t).createDB(t)
	sink, err := smtpsink.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	secret := newSecret()
	smtpURL := "TILTLINE_SMTP_URL=" + sink.URL("rate=0&conns=4")
	a := newInstance(t, "server A", dbURL, secret, smtpURL, "TILTLINE_MAIL_FROM=Server A <a@tiltline.test>")
	b := newInstance(t, "server B", dbURL, secret, smtpURL, "TILTLINE_MAIL_FROM=Server B <b@tiltline.test>")
	demo := a.demo(0)
	token := a.adminToken(demo.Admin)
	a.start()
	b.start()

	emails := importAndQueue(t, a.base, token, demo.CampaignID, mails, "r4")
	sink.Expect(emails)
	t0 := time.Now()
	// Queueing again through B finds nothing new but wakes B's worker at
	// once, rather than at its next poll.
	if n := queue(t, b.base, token, demo.CampaignID); n != 0 {
		t.Errorf("queueing through B again queued %d", n)
	}
	waitMail(t, sink, mails, 120*time.Second)
	took := time.Since(t0)
	time.Sleep(time.Second)

	checkOnce(t, sink, emails)
	arrivals, _, sessions, _ := sink.Snapshot()
	byServer := map[string]int{}
	for _, a := range arrivals {
		byServer[a.From]++
	}
	if byServer["a@tiltline.test"] == 0 || byServer["b@tiltline.test"] == 0 {
		t.Errorf("mails by sender: %v; want both servers to send", byServer)
	}
	checkOutbox(t, dbURL, mails)
	t.Logf("%d mails in %s (%.0f/s): server A sent %d, server B %d, over %d SMTP connections",
		mails, took.Round(time.Millisecond), float64(mails)/took.Seconds(), byServer["a@tiltline.test"], byServer["b@tiltline.test"], sessions)
}

// importAndQueue imports n participants (prefix.00001@faulttest.example …)
// into the campaign through the API and queues their invitations.
func importAndQueue(t *testing.T, base, token string, campaignID int64, n int, prefix string) map[string]bool {
	t.Helper()
	var csv bytes.Buffer
	csv.WriteString("email;locale\n")
	emails := make(map[string]bool, n)
	for i := range n {
		e := fmt.Sprintf("%s.%05d@faulttest.example", prefix, i+1)
		emails[e] = true
		fmt.Fprintf(&csv, "%s;%s\n", e, []string{"en", "de", "fr"}[i%3])
	}
	var imported struct {
		Added    int   `json:"added"`
		Problems []any `json:"problems"`
	}
	api(t, base, token, fmt.Sprintf("/api/v1/campaigns/%d/participants", campaignID), "text/csv; charset=utf-8", csv.Bytes(), http.StatusOK, &imported)
	if imported.Added != n || len(imported.Problems) > 0 {
		t.Fatalf("import added %d of %d participants, %d problems", imported.Added, n, len(imported.Problems))
	}
	if q := queue(t, base, token, campaignID); q != n {
		t.Fatalf("queued %d invitations, want %d", q, n)
	}
	return emails
}

func queue(t *testing.T, base, token string, campaignID int64) int {
	t.Helper()
	var queued struct {
		Queued int `json:"queued"`
	}
	api(t, base, token, fmt.Sprintf("/api/v1/campaigns/%d/invitations", campaignID), "", nil, http.StatusAccepted, &queued)
	return queued.Queued
}

func api(t *testing.T, base, token, path, ctype string, body []byte, want int, out any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	client := &http.Client{Timeout: 60 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("POST %s: status %d, want %d: %.300s", path, res.StatusCode, want, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
}

// waitMail waits until n expected recipients have had mail; it fails when
// none arrives for 30 s or limit passes.
func waitMail(t *testing.T, sink *smtpsink.Sink, n int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	last, lastAt := -1, time.Now()
	for {
		got := sink.Received()
		switch {
		case got >= n:
			return
		case got > last:
			last, lastAt = got, time.Now()
		case time.Since(lastAt) > 30*time.Second || time.Now().After(deadline):
			t.Fatalf("%d of %d mails arrived; none for %s", got, n, time.Since(lastAt).Round(time.Second))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkOnce checks that every expected recipient had exactly one mail and
// nobody else any.
func checkOnce(t *testing.T, sink *smtpsink.Sink, emails map[string]bool) {
	t.Helper()
	arrivals, perRcpt, _, _ := sink.Snapshot()
	twice, missing, stray := 0, 0, 0
	for e := range emails {
		switch perRcpt[e] {
		case 0:
			missing++
		case 1:
		default:
			twice++
		}
	}
	for rcpt := range perRcpt {
		if !emails[rcpt] {
			stray++
		}
	}
	if twice > 0 || missing > 0 || stray > 0 || len(arrivals) != len(emails) {
		t.Errorf("%d mails for %d recipients: %d got more than one, %d none, %d unexpected recipients", len(arrivals), len(emails), twice, missing, stray)
	}
}

// checkOutbox checks that the outbox recorded every invitation as sent and
// gave up on none.
func checkOutbox(t *testing.T, dbURL string, mails int) {
	t.Helper()
	db := openDB(t, dbURL)
	var c []struct{ Sent, Waiting, Failed, Bounced int }
	err := db.Read.WithContext(context.Background()).Raw(`SELECT
			(SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL) AS sent,
			(SELECT count(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL) AS waiting,
			(SELECT count(*) FROM outbox WHERE failed_at IS NOT NULL) AS failed,
			(SELECT count(*) FROM invitations WHERE status = 'bounced') AS bounced`).Scan(&c).Error
	if err != nil || len(c) != 1 {
		t.Fatalf("read the outbox: %v", err)
	}
	if got := c[0]; got.Waiting != 0 || got.Failed != 0 || got.Bounced != 0 || got.Sent < mails {
		t.Errorf("outbox: %d sent, %d waiting, %d given up, %d invitations bounced; want %d sent and nothing else", got.Sent, got.Waiting, got.Failed, got.Bounced, mails)
	}
}
