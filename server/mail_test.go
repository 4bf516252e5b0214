package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"tiltline/survey"
	"tiltline/survey/outbox"
	"tiltline/survey/surveytest"
)

// ---- An SMTP sink: a real SMTP server in the test process -----------------

// smtpSink is an in-process SMTP server (emersion/go-smtp) on a random local
// port that keeps every mail it accepts. It can refuse recipients, and go
// down and come back on the same port.
type smtpSink struct {
	t    testing.TB
	addr string

	mu      sync.Mutex
	ln      net.Listener
	servers []*smtp.Server
	down    bool
	mails   []sinkMail
	reject  map[string]bool // RCPT TO refused with 550
	rcpts   map[string]int  // RCPT TO attempts per address
	changed chan struct{}   // closed and replaced on every accepted mail
}

type sinkMail struct {
	From string
	To   []string
	Data []byte
}

func startSink(t testing.TB) *smtpSink {
	t.Helper()
	s := &smtpSink{t: t, reject: map[string]bool{}, rcpts: map[string]int{}, changed: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	s.serve(ln)
	t.Cleanup(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, srv := range s.servers {
			srv.Close()
		}
	})
	return s
}

func (s *smtpSink) serve(ln net.Listener) {
	srv := smtp.NewServer(s)
	srv.Domain = "sink.test"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	s.mu.Lock()
	s.ln, s.down = ln, false
	s.servers = append(s.servers, srv)
	s.mu.Unlock()
	go srv.Serve(ln)
}

// URL is the TILTLINE_SMTP_URL of the sink; extra is appended to the query.
func (s *smtpSink) URL(extra string) string {
	return "smtp://" + s.addr + "?tls=none&rate=0" + extra
}

// Stop takes the sink down like a restarting server: no new connections,
// and open ones answer 421 to the next mail. A mail already being
// transferred completes.
func (s *smtpSink) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = true
	s.ln.Close()
}

// Start brings the sink back on the same port.
func (s *smtpSink) Start() {
	var ln net.Listener
	var err error
	for range 50 { // the port may take a moment to be free again
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatal(err)
	}
	s.serve(ln)
}

func (s *smtpSink) Reject(addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reject[addr] = true
}

func (s *smtpSink) Mails() []sinkMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sinkMail(nil), s.mails...)
}

func (s *smtpSink) RcptAttempts(addr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rcpts[addr]
}

// Wait returns once the sink holds n mails, failing the test after timeout.
func (s *smtpSink) Wait(n int, timeout time.Duration) []sinkMail {
	s.t.Helper()
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		got, changed := len(s.mails), s.changed
		s.mu.Unlock()
		if got >= n {
			return s.Mails()
		}
		select {
		case <-changed:
		case <-deadline:
			s.t.Fatalf("sink has %d mails after %v, want %d", got, timeout, n)
		}
	}
}

// NewSession implements smtp.Backend.
func (s *smtpSink) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{sink: s}, nil }

type sinkSession struct {
	sink *smtpSink
	from string
	to   []string
}

func (ss *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	ss.sink.mu.Lock()
	defer ss.sink.mu.Unlock()
	if ss.sink.down {
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "shutting down"}
	}
	ss.from = from
	return nil
}

func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.sink.mu.Lock()
	defer ss.sink.mu.Unlock()
	ss.sink.rcpts[to]++
	if ss.sink.reject[to] {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user: " + to}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.sink.mu.Lock()
	defer ss.sink.mu.Unlock()
	ss.sink.mails = append(ss.sink.mails, sinkMail{From: ss.from, To: ss.to, Data: b})
	close(ss.sink.changed)
	ss.sink.changed = make(chan struct{})
	return nil
}

func (ss *sinkSession) Reset()        { ss.from, ss.to = "", nil }
func (ss *sinkSession) Logout() error { return nil }

// ---- Reading mails ----------------------------------------------------------

type parsedMail struct {
	Header      mail.Header
	ContentType string
	Text, HTML  string
}

// parseMail reads a multipart/alternative mail and decodes its parts.
func parseMail(t testing.TB, data []byte) parsedMail {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	pm := parsedMail{Header: msg.Header}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	pm.ContentType = mt
	if !strings.HasPrefix(mt, "multipart/") {
		t.Fatalf("content type %s, want multipart", mt)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = p
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			r = quotedprintable.NewReader(p)
		}
		// multipart.Reader already decodes quoted-printable and drops the header.
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		switch ct {
		case "text/plain":
			pm.Text = string(b)
		case "text/html":
			pm.HTML = string(b)
		}
	}
	return pm
}

func (pm parsedMail) Subject(t testing.TB) string {
	s, err := new(mime.WordDecoder).DecodeHeader(pm.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var linkRE = regexp.MustCompile(`http://test/s/([A-Za-z0-9_-]{43})\?lang=([a-z]{2})`)

// ---- Test fixtures ------------------------------------------------------------

// syncBuffer is a log sink the mail goroutines and the test may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var mailTestSecret = []byte("mail-test-secret-mail-test-secret-0123")

// newMailApp builds the real App on the given database with the given SMTP
// URL ("" writes .eml files). Several apps on one database act as several
// server instances.
func newMailApp(t testing.TB, dbURL, smtpURL string) (*App, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	cfg := &Config{DB: dbURL, DataDir: t.TempDir(), Addr: ":0", BaseURL: "http://test", KMin: 5,
		SMTPURL: smtpURL, MailFrom: "Tiltline <no-reply@tiltline.test>", Secret: mailTestSecret}
	a, err := New(context.Background(), cfg, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a, logs
}

// startMailer builds the app's mailer with short waits for tests, routes the
// opt-out pages, and starts it; it stops at cleanup, before the app closes.
func startMailer(t testing.TB, a *App, tune func(*mailOptions)) *mailer {
	t.Helper()
	m, err := newMailer(a)
	if err != nil {
		t.Fatal(err)
	}
	m.opts.Poll, m.opts.Schedule, m.opts.OutageBackoff = 50*time.Millisecond, time.Hour, 400*time.Millisecond
	m.opts.Retry = outbox.RetryPolicy{MaxAttempts: 3, Base: 100 * time.Millisecond, Max: time.Second}
	if tune != nil {
		tune(&m.opts)
	}
	stop := m.start(context.Background())
	t.Cleanup(stop)
	return m
}

type seeded struct {
	campaign    *survey.Campaign
	emails      []string // participant order
	locales     []string
	invitations []string
}

// seedMailCampaign creates an organisation with an open campaign of n
// participants (locales cycling through the given ones) and pending invitations.
func seedMailCampaign(t testing.TB, a *App, n int, locales ...string) *seeded {
	t.Helper()
	db := a.db
	org := &survey.Organisation{Name: "Mail Org " + randomHex(4)}
	if err := db.Write.Create(org).Error; err != nil {
		t.Fatal(err)
	}
	closes := time.Date(2099, 12, 14, 0, 0, 0, 0, time.UTC)
	c := &survey.Campaign{OrganisationID: org.ID, Name: "CX check", WaveLabel: "2026", ModelVersion: a.models.Latest().Version,
		Locales: "en,de,fr", KMin: 5, Status: survey.StatusOpen, ClosesAt: &closes, ContactName: "Ada Admin", ContactEmail: "ada@org.example"}
	if err := db.Write.Create(c).Error; err != nil {
		t.Fatal(err)
	}
	s := &seeded{campaign: c}
	parts := make([]survey.Participant, n)
	for i := range parts {
		l := locales[i%len(locales)]
		parts[i] = survey.Participant{CampaignID: c.ID, Email: fmt.Sprintf("person%04d@c%d.example", i, c.ID), Name: fmt.Sprintf("Person %d", i), Locale: l}
		s.emails, s.locales = append(s.emails, parts[i].Email), append(s.locales, l)
	}
	if err := db.Write.CreateInBatches(&parts, 500).Error; err != nil {
		t.Fatal(err)
	}
	invs := make([]survey.Invitation, n)
	for i, p := range parts {
		id := fmt.Sprintf("mail-%d-%04d-%s", c.ID, i, randomHex(4))
		s.invitations = append(s.invitations, id)
		invs[i] = survey.Invitation{ID: id, ParticipantID: p.ID, CampaignID: c.ID,
			TokenHash: survey.HashToken(survey.InviteToken(mailTestSecret, id)), Status: survey.InvitePending}
	}
	if err := db.Write.CreateInBatches(&invs, 500).Error; err != nil {
		t.Fatal(err)
	}
	return s
}

// waitStatus waits until n invitations of the campaign have the status.
func waitStatus(t testing.TB, a *App, campaignID int64, status string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for invitationStatuses(t, a, campaignID)[status] != n {
		if time.Now().After(deadline) {
			t.Fatalf("statuses %v, want %d %s", invitationStatuses(t, a, campaignID), n, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func byRecipient(mails []sinkMail) map[string]int {
	n := map[string]int{}
	for _, m := range mails {
		for _, to := range m.To {
			n[to]++
		}
	}
	return n
}

func invitationStatuses(t testing.TB, a *App, campaignID int64) map[string]int {
	t.Helper()
	var rows []struct {
		Status string
		N      int
	}
	a.db.Read.Raw("SELECT status, count(*) AS n FROM invitations WHERE campaign_id = ? GROUP BY status", campaignID).Scan(&rows)
	out := map[string]int{}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out
}

// ---- The tests ---------------------------------------------------------------

func TestInvitationsReachEveryoneInTheirLanguageWithAWorkingLink(t *testing.T) {
	sink := startSink(t)
	a, logs := newMailApp(t, surveytest.SQLiteURL(t), sink.URL("&conns=2"))
	s := seedMailCampaign(t, a, 300, "en", "de", "fr")
	n, err := outbox.QueueInvitations(context.Background(), a.db, s.campaign.ID)
	if err != nil || n != 300 {
		t.Fatalf("queued %d, %v", n, err)
	}
	start := time.Now()
	startMailer(t, a, nil)
	mails := sink.Wait(300, 30*time.Second)
	took := time.Since(start)
	t.Logf("delivered 300 invitations to the sink in %v (%.0f mails/s, 2 connections, SQLite)", took.Round(time.Millisecond), 300/took.Seconds())

	time.Sleep(100 * time.Millisecond) // nothing more may arrive
	mails = sink.Mails()
	if len(mails) != 300 {
		t.Fatalf("%d mails, want 300", len(mails))
	}
	locale := map[string]string{}
	for i, e := range s.emails {
		locale[e] = s.locales[i]
	}
	links := map[string]bool{}
	for _, m := range mails {
		if len(m.To) != 1 || m.From != "no-reply@tiltline.test" {
			t.Fatalf("envelope %s → %v", m.From, m.To)
		}
		to := m.To[0]
		pm := parseMail(t, m.Data)
		if pm.ContentType != "multipart/alternative" || pm.Text == "" || pm.HTML == "" {
			t.Fatalf("%s: %s with text %d and HTML %d bytes, want both", to, pm.ContentType, len(pm.Text), len(pm.HTML))
		}
		want := locale[to]
		texts := map[string][2]string{ // greeting, link sentence
			"en": {"Hello Person", "Your personal link to the survey:"},
			"de": {"Guten Tag Person", "Ihr persönlicher Link zur Umfrage:"},
			"fr": {"Bonjour Person", "Votre lien personnel vers le questionnaire :"},
		}[want]
		if !strings.Contains(pm.Text, texts[0]) || !strings.Contains(pm.Text, texts[1]) || !strings.Contains(pm.HTML, `lang="`+want+`"`) {
			t.Fatalf("%s (%s) got text:\n%s", to, want, pm.Text)
		}
		if pm.Header.Get("Content-Language") != want {
			t.Errorf("Content-Language %q, want %q", pm.Header.Get("Content-Language"), want)
		}
		if !strings.Contains(pm.Text, "Ada Admin <ada@org.example>") || !strings.Contains(pm.Header.Get("Reply-To"), "ada@org.example") {
			t.Fatalf("the campaign contact is not named:\n%s", pm.Text)
		}
		// From the organisation, through Tiltline's address; the contact a mailto: link.
		if from, err := mail.ParseAddress(pm.Header.Get("From")); err != nil || !strings.HasSuffix(from.Name, " via Tiltline") || from.Name == " via Tiltline" || from.Address != "no-reply@tiltline.test" {
			t.Fatalf("From %q (%v), want the organisation via Tiltline <no-reply@tiltline.test>", pm.Header.Get("From"), err)
		}
		if !strings.Contains(pm.HTML, `<a href="mailto:ada@org.example"`) {
			t.Fatalf("the contact is no mailto: link:\n%s", pm.HTML)
		}
		if !strings.Contains(pm.Text, "/optout?lang="+want) || !strings.Contains(pm.Header.Get("List-Unsubscribe"), "/optout") {
			t.Fatal("no opt-out link")
		}
		match := linkRE.FindStringSubmatch(pm.Text)
		if match == nil || match[2] != want || !strings.Contains(pm.HTML, match[0]) {
			t.Fatalf("no survey link in the %s mail to %s", want, to)
		}
		if links[match[1]] {
			t.Fatal("two mails carry the same link")
		}
		links[match[1]] = true
		if want == "de" {
			if subj := pm.Subject(t); subj != "Ihre Sicht zählt: CX check · 2026" {
				t.Errorf("German subject %q", subj)
			}
			if !strings.Contains(pm.Text, "14. Dezember 2099") {
				t.Error("German deadline missing")
			}
		}
	}
	if got := byRecipient(mails); len(got) != 300 {
		t.Errorf("%d distinct recipients, want 300", len(got))
	}
	// Every link opens its survey, in the mail's language.
	checked := 0
	for _, m := range mails {
		match := linkRE.FindStringSubmatch(parseMail(t, m.Data).Text)
		r := get(t, a, strings.TrimPrefix(match[0], "http://test"))
		b := body(t, r)
		if r.StatusCode != http.StatusOK || !strings.Contains(b, `<html lang="`+match[2]+`"`) || !strings.Contains(b, `action="/s/`+match[1]+`/start"`) {
			t.Fatalf("link answered %d", r.StatusCode)
		}
		checked++
	}
	waitStatus(t, a, s.campaign.ID, survey.InviteSent, 300)
	// The log names no address, token or link.
	out := logs.String()
	for token := range links {
		if strings.Contains(out, token) {
			t.Fatal("a token reached the log")
		}
	}
	if strings.Contains(out, fmt.Sprintf("@c%d.example", s.campaign.ID)) || strings.Contains(out, "http://test/s/") {
		t.Errorf("log names an address or a link:\n%s", out)
	}
}

func TestRemindersSkipTheCompletedTheOptedOutAndTheBounced(t *testing.T) {
	sink := startSink(t)
	a, _ := newMailApp(t, surveytest.SQLiteURL(t), sink.URL(""))
	ctx := context.Background()
	s := seedMailCampaign(t, a, 12, "de", "en")
	outbox.QueueInvitations(ctx, a.db, s.campaign.ID)
	m := startMailer(t, a, nil)
	sink.Wait(12, 10*time.Second)
	waitStatus(t, a, s.campaign.ID, survey.InviteSent, 12)

	// 0 answers the survey through the real flow.
	token0 := survey.InviteToken(mailTestSecret, s.invitations[0])
	r, err := survey.ResolveInvitation(ctx, a.db, mailTestSecret, token0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := survey.StartDraft(ctx, a.db, a.models.Latest(), r, survey.Profile{Locale: "de"}); err != nil {
		t.Fatal(err)
	}
	if err := survey.Submit(ctx, a.db, mailTestSecret, r); err != nil {
		t.Fatal(err)
	}
	// 1 opts out with the link from the mail: the GET only asks, the POST does it.
	a.echo.GET("/s/:token/optout", m.optOutForm)
	a.echo.POST("/s/:token/optout", m.optOut)
	token1 := survey.InviteToken(mailTestSecret, s.invitations[1])
	page := get(t, a, "/s/"+token1+"/optout?lang=en")
	if b := body(t, page); page.StatusCode != 200 || !strings.Contains(b, "Do you want to stop reminder emails") || !strings.Contains(b, `method="post"`) {
		t.Fatalf("opt-out page %d", page.StatusCode)
	}
	// The one-click POST a mail client sends (RFC 8058): no cookies, no form token.
	req := httptest.NewRequest(http.MethodPost, "/s/"+token1+"/optout", strings.NewReader("List-Unsubscribe=One-Click"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://mail.example")
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "No more reminders") {
		t.Fatalf("one-click opt-out %d", rec.Code)
	}
	if r := get(t, a, "/s/"+strings.Repeat("A", 43)+"/optout"); r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown token opt-out %d", r.StatusCode)
	}
	// 2 bounced on an earlier mail.
	a.db.Write.Exec("UPDATE invitations SET status = ? WHERE id = ?", survey.InviteBounced, s.invitations[2])

	b, err := outbox.QueueReminders(ctx, a.db, s.campaign.ID, "test: right after the invitations")
	if n := b.Queued; err != nil || n != 9 {
		t.Fatalf("queued %d reminders, %v; want 12 - 3", n, err)
	}
	m.Kick()
	mails := sink.Wait(21, 10*time.Second)
	time.Sleep(100 * time.Millisecond)
	reminders := sink.Mails()[12:]
	if len(reminders) != 9 || len(mails) < 21 {
		t.Fatalf("%d reminders delivered, want 9", len(reminders))
	}
	got := byRecipient(reminders)
	for _, i := range []int{0, 1, 2} {
		if got[s.emails[i]] != 0 {
			t.Errorf("participant %d got a reminder", i)
		}
	}
	for _, rm := range reminders {
		pm := parseMail(t, rm.Data)
		subj := pm.Subject(t)
		if !strings.HasPrefix(subj, "Erinnerung: ") && !strings.HasPrefix(subj, "Reminder: ") {
			t.Errorf("reminder subject %q", subj)
		}
		if strings.HasPrefix(subj, "Erinnerung") != strings.Contains(pm.Text, "Eine kurze Erinnerung") {
			t.Error("reminder text not in the subject's language")
		}
	}
}

// The organisation's texts are per language: a German participant gets the
// German subject and introduction; a French one, with no French text
// written, the built-in French wording, not another language's text.
func TestCustomSubjectAndIntroPerLanguageAndScheduledReminders(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			sink := startSink(t)
			a, _ := newMailApp(t, surveytest.URL(t, dialect), sink.URL(""))
			ctx := context.Background()
			s := seedMailCampaign(t, a, 4, "de", "fr")
			err := outbox.SaveMailSettings(ctx, a.db, s.campaign.ID, outbox.MailSettings{ReminderDays: []int{2}, Texts: map[string]outbox.MailTexts{
				"de": {InviteSubject: "Kurze Umfrage <3", InviteIntro: "Erster Absatz & mehr.\n\nZweiter Absatz."},
				"en": {InviteSubject: "Written for English readers", InviteIntro: "Only in English."},
			}})
			if err != nil {
				t.Fatal(err)
			}
			outbox.QueueInvitations(ctx, a.db, s.campaign.ID)
			startMailer(t, a, func(o *mailOptions) { o.Schedule = 100 * time.Millisecond })
			mails := sink.Wait(4, 10*time.Second)
			if len(mails) != 4 {
				t.Fatalf("%d invitations delivered, want 4", len(mails))
			}
			for _, m := range mails {
				pm, i := parseMail(t, m.Data), slices.Index(s.emails, m.To[0])
				switch subj := pm.Subject(t); s.locales[i] {
				case "de":
					if subj != "Kurze Umfrage <3" || !strings.Contains(pm.Text, "Erster Absatz & mehr.\n\nZweiter Absatz.") {
						t.Fatalf("German custom texts not used: %q\n%s", subj, pm.Text)
					}
					if !strings.Contains(pm.HTML, "<p style=\"margin:0 0 16px;\">Erster Absatz &amp; mehr.</p>") || !strings.Contains(pm.HTML, "Kurze Umfrage &lt;3") {
						t.Fatal("custom intro not escaped into paragraphs")
					}
					if !strings.Contains(pm.Text, "Guten Tag Person") {
						t.Error("the rest of the mail must stay in the participant's language")
					}
				case "fr":
					if subj != "Votre avis compte : CX check · 2026" || !strings.Contains(pm.Text, "vous invite à participer") {
						t.Errorf("French participant without French texts: %q\n%s", subj, pm.Text)
					}
				}
				if strings.Contains(pm.Text, "English") {
					t.Error("another language's custom text went out")
				}
			}
			// Two days later (pretend the invitations went out then) the scheduled reminder follows.
			waitStatus(t, a, s.campaign.ID, survey.InviteSent, 4)
			a.db.Write.Exec("UPDATE outbox SET sent_at = ? WHERE kind = 'invite'", time.Now().UTC().Add(-49*time.Hour))
			sink.Wait(8, 10*time.Second)
			time.Sleep(300 * time.Millisecond) // several schedule rounds: still one reminder each
			mails = sink.Mails()
			if len(mails) != 8 {
				t.Fatalf("%d mails, want 4 invitations and 4 reminders", len(mails))
			}
			var subjects []string
			for _, m := range mails[4:] {
				subjects = append(subjects, parseMail(t, m.Data).Subject(t))
			}
			slices.Sort(subjects)
			if want := []string{"Erinnerung: CX check · 2026", "Erinnerung: CX check · 2026", "Rappel : CX check · 2026", "Rappel : CX check · 2026"}; !slices.Equal(subjects, want) {
				t.Errorf("scheduled reminder subjects %q", subjects)
			}
		})
	}
}

func TestSMTPOutageDelaysButNeverDuplicatesOrBounces(t *testing.T) {
	sink := startSink(t)
	sink.Stop()
	a, logs := newMailApp(t, surveytest.SQLiteURL(t), sink.URL("&conns=2"))
	ctx := context.Background()
	s := seedMailCampaign(t, a, 200, "en")
	outbox.QueueInvitations(ctx, a.db, s.campaign.ID)
	startMailer(t, a, nil)
	time.Sleep(time.Second) // down from the start: nothing can go
	if n := len(sink.Mails()); n != 0 {
		t.Fatalf("%d mails while down", n)
	}
	sink.Start()
	sink.Wait(60, 10*time.Second)
	sink.Stop() // down again in mid-stream
	time.Sleep(800 * time.Millisecond)
	sink.Start()
	mails := sink.Wait(200, 20*time.Second)
	time.Sleep(200 * time.Millisecond)
	mails = sink.Mails()
	per := byRecipient(mails)
	if len(mails) != 200 || len(per) != 200 {
		t.Fatalf("%d mails to %d recipients, want 200 each exactly once", len(mails), len(per))
	}
	waitStatus(t, a, s.campaign.ID, survey.InviteSent, 200) // an outage bounces nobody
	var counted int
	a.db.Read.Raw("SELECT count(*) FROM outbox WHERE attempts <> 1").Scan(&counted)
	if counted != 0 {
		t.Errorf("%d jobs counted an attempt for the outage", counted)
	}
	if out := logs.String(); strings.Count(out, "SMTP server unreachable") < 1 || !strings.Contains(out, "reachable again") {
		t.Errorf("outage not logged:\n%s", out)
	}
}

func TestARefusedRecipientBouncesAfterTheLastAttempt(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			sink := startSink(t)
			a, logs := newMailApp(t, surveytest.URL(t, dialect), sink.URL(""))
			ctx := context.Background()
			s := seedMailCampaign(t, a, 20, "en")
			bad := s.emails[3]
			sink.Reject(bad)
			outbox.QueueInvitations(ctx, a.db, s.campaign.ID)
			startMailer(t, a, nil) // 3 attempts, 100 ms apart and growing
			sink.Wait(19, 10*time.Second)
			waitStatus(t, a, s.campaign.ID, survey.InviteBounced, 1)
			st := invitationStatuses(t, a, s.campaign.ID)
			if st[survey.InviteBounced] != 1 || st[survey.InviteSent] != 19 {
				t.Fatalf("statuses %v, want 19 sent and 1 bounced", st)
			}
			if n := sink.RcptAttempts(bad); n != 3 {
				t.Errorf("refused address tried %d times, want 3", n)
			}
			time.Sleep(300 * time.Millisecond)
			if per := byRecipient(sink.Mails()); len(per) != 19 || per[bad] != 0 {
				t.Errorf("delivered to %d recipients", len(per))
			}
			var lastErr string
			a.db.Read.Raw("SELECT last_error FROM outbox WHERE recipient = ?", bad).Scan(&lastErr)
			if !strings.Contains(lastErr, "550") {
				t.Errorf("last_error %q", lastErr)
			}
			out := logs.String()
			if !strings.Contains(out, `"smtp_code":550`) || strings.Contains(out, bad) || strings.Contains(out, "no such user") {
				t.Errorf("failure log must carry the code, never the address or reply text:\n%s", out)
			}
		})
	}
}

// Two server instances on one database: each mail goes out exactly once.
func TestTwoInstancesNeverSendAMailTwice(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			sink := startSink(t)
			dbURL := surveytest.URL(t, dialect)
			a1, _ := newMailApp(t, dbURL, sink.URL("&conns=3"))
			a2, _ := newMailApp(t, dbURL, sink.URL("&conns=3"))
			s := seedMailCampaign(t, a1, 1000, "en", "de")
			if n, err := outbox.QueueInvitations(context.Background(), a1.db, s.campaign.ID); n != 1000 || err != nil {
				t.Fatalf("queued %d, %v", n, err)
			}
			tune := func(o *mailOptions) { o.Batch = 10 }
			start := time.Now()
			m1 := startMailer(t, a1, tune)
			m2 := startMailer(t, a2, tune)
			sink.Wait(1000, 60*time.Second)
			took := time.Since(start)
			time.Sleep(300 * time.Millisecond)
			mails := sink.Mails()
			per := byRecipient(mails)
			for addr, n := range per {
				if n != 1 {
					t.Errorf("%s got %d mails", addr, n)
				}
			}
			if len(mails) != 1000 || len(per) != 1000 {
				t.Fatalf("%d mails to %d recipients, want 1000", len(mails), len(per))
			}
			n1, n2 := testutil.ToFloat64(m1.sent), testutil.ToFloat64(m2.sent)
			t.Logf("%s: two instances × 3 connections delivered 1000 in %v (%.0f mails/s); split %v/%v", dialect, took.Round(time.Millisecond), 1000/took.Seconds(), n1, n2)
			if n1 == 0 || n2 == 0 {
				t.Errorf("one instance did all the work (%v/%v)", n1, n2)
			}
		})
	}
}

func TestWithoutSMTPMailsBecomeEMLFiles(t *testing.T) {
	a, logs := newMailApp(t, surveytest.SQLiteURL(t), "")
	s := seedMailCampaign(t, a, 5, "de")
	outbox.QueueInvitations(context.Background(), a.db, s.campaign.ID)
	startMailer(t, a, nil)
	dir := filepath.Join(a.cfg.DataDir, "outbox")
	var files []string
	deadline := time.Now().Add(10 * time.Second)
	for len(files) < 5 && time.Now().Before(deadline) {
		files, _ = filepath.Glob(filepath.Join(dir, "*.eml"))
		time.Sleep(20 * time.Millisecond)
	}
	if len(files) != 5 {
		t.Fatalf("%d .eml files, want 5", len(files))
	}
	info, _ := os.Stat(files[0])
	if info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v: the files hold working links", info.Mode().Perm())
	}
	b, _ := os.ReadFile(files[0])
	pm := parseMail(t, b)
	if !linkRE.MatchString(pm.Text) || !strings.Contains(pm.Text, "Guten Tag") {
		t.Errorf("eml content:\n%s", pm.Text)
	}
	if n := strings.Count(logs.String(), "written as .eml files"); n != 1 {
		t.Errorf("the .eml mode is logged %d times, want once", n)
	}
	waitStatus(t, a, s.campaign.ID, survey.InviteSent, 5)
}

func TestSMTPURL(t *testing.T) {
	cases := []struct {
		url, want string
	}{
		{"smtp://mail.example", "mail.example:587 starttls rate=50 conns=2"},
		{"smtp://u:p@mail.example:2525?tls=none&rate=10&conns=4", "mail.example:2525 none rate=10 conns=4"},
		{"smtps://mail.example", "mail.example:465 tls rate=50 conns=2"},
		{"smtp://mail.example?tls=tls&rate=0", "mail.example:465 tls rate=0 conns=2"},
	}
	for _, tc := range cases {
		s, err := parseSMTPURL(tc.url)
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if got := fmt.Sprintf("%s:%d %s rate=%g conns=%d", s.Host, s.Port, s.TLS, s.Rate, s.Conns); got != tc.want {
			t.Errorf("%s = %s, want %s", tc.url, got, tc.want)
		}
	}
	for _, bad := range []string{"mail.example", "http://x", "smtp://:25", "smtp://u:hunter2@x?tls=maybe", "smtp://x:99999", "smtp://x?rate=-1", "smtp://x?conns=99"} {
		_, err := parseSMTPURL(bad)
		if err == nil || !errors.Is(err, ErrUsage) {
			t.Errorf("%s accepted (%v)", bad, err)
		} else if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error shows the password: %v", err)
		}
	}
	if u, _ := url.Parse("smtp://u:p%40ss@x"); u != nil {
		if s, _ := parseSMTPURL(u.String()); s.Pass != "p@ss" {
			t.Errorf("password %q", s.Pass)
		}
	}
}

// Every message id used in a mail template or by the mailer must exist in every language.
func TestMailTemplatesUseOnlyKnownMessages(t *testing.T) {
	en, _ := messageIDs("en")
	used := regexp.MustCompile(`\.T "([a-z_.]+)"`)
	files, _ := templateFS.ReadDir("templates/mail")
	if len(files) < 3 {
		t.Fatalf("%d mail templates", len(files))
	}
	for _, f := range files {
		b, _ := templateFS.ReadFile("templates/mail/" + f.Name())
		for _, m := range used.FindAllStringSubmatch(string(b), -1) {
			if _, ok := en[m[1]]; !ok {
				t.Errorf("%s uses unknown message %q", f.Name(), m[1])
			}
		}
	}
	for _, id := range []string{"mail.invite.subject", "mail.invite.intro", "mail.reminder.subject", "mail.reminder.intro",
		"mail.greeting.name", "mail.greeting.anon", "mail.date", "mail.month.12", "mail.optout.title", "mail.optout.done.title",
		"mail.error.subject_too_long", "mail.error.intro_too_long", "mail.error.reminder_days"} {
		if _, ok := en[id]; !ok {
			t.Errorf("mailer uses unknown message %q", id)
		}
	}
}

// Delivery rate to the in-process sink: go test ./server -run XXX -bench MailDelivery.
func BenchmarkMailDelivery(b *testing.B) {
	for _, conns := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			sink := startSink(b)
			a, _ := newMailApp(b, surveytest.SQLiteURL(b), sink.URL(fmt.Sprintf("&conns=%d", conns)))
			s := seedMailCampaign(b, a, b.N, "en", "de", "fr")
			outbox.QueueInvitations(context.Background(), a.db, s.campaign.ID)
			b.ResetTimer()
			start := time.Now()
			startMailer(b, a, nil)
			sink.Wait(b.N, 5*time.Minute)
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "mails/s")
		})
	}
}

// The App of other tests has no sender configured: the mailer must still build.
func TestMailerBuildsWithDefaults(t *testing.T) {
	a, _, _ := newTestApp(t)
	m, err := newMailer(a)
	if err != nil || m.from.Address != "no-reply@localhost" || m.smtp != nil || m.emlDir != filepath.Join(a.cfg.DataDir, "outbox") {
		t.Fatalf("%+v, %v", m, err)
	}
	if _, err := newMailer(a); err != nil {
		t.Errorf("a second mailer on one App: %v", err)
	}
	a.cfg.MailFrom = "not an address"
	if _, err := newMailer(a); !errors.Is(err, ErrUsage) {
		t.Errorf("bad sender: %v", err)
	}
}
