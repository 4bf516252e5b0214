package server

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"log/slog"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	texttemplate "text/template"
	"time"
	"unicode"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	gomail "github.com/wneessen/go-mail"
	"golang.org/x/time/rate"

	"tiltline/survey"
	"tiltline/survey/outbox"
)

// The mail worker: it claims due jobs from the outbox (package survey/outbox),
// writes each mail in the participant's language and sends it through SMTP,
// or — without TILTLINE_SMTP_URL — into DATA_DIR/outbox/*.eml.
//
// Links are rebuilt from the secret at the moment a mail is written
// (survey.InviteToken) and exist nowhere else: not in the database, not in
// the log. Log lines name jobs by id and count; they carry no address, no
// link and no SMTP reply text (which may quote the address). The full reply
// is kept in outbox.last_error for the operator.
//
// TILTLINE_SMTP_URL is smtp://user:pass@host:port?tls=starttls|tls|none
// (smtps:// means tls=tls), with two optional settings:
//   - rate=N: at most N mails per second across this instance's connections
//     (default 50; 0 = unlimited). Each instance has its own limit.
//   - conns=N: SMTP connections kept open in parallel (default 2, at most 16).
//
// Connections are reused across mails and batches, renewed every 100 mails
// and closed after a minute without mail.

// mailOptions tune the worker; newMailer fills them from the configuration
// and tests shorten the waits.
type mailOptions struct {
	Rate          float64       // mails per second; 0 = unlimited
	Conns         int           // parallel senders (SMTP connections)
	Batch         int           // jobs claimed at once per sender
	Lease         time.Duration // how long a claim holds
	Poll          time.Duration // how often an idle sender looks for due jobs
	Schedule      time.Duration // how often scheduled reminders are queued
	Retry         outbox.RetryPolicy
	OutageBackoff time.Duration // longest wait between tries while the SMTP server is unreachable
	IdleClose     time.Duration // close an SMTP connection unused this long
	PerConn       int           // mails per SMTP connection before it is renewed
}

func defaultMailOptions() mailOptions {
	return mailOptions{Rate: 50, Conns: 2, Batch: 50, Lease: 5 * time.Minute, Poll: 2 * time.Second,
		Schedule: time.Minute, Retry: outbox.DefaultRetry, OutageBackoff: time.Minute, IdleClose: time.Minute, PerConn: 100}
}

// smtpSettings is a parsed TILTLINE_SMTP_URL.
type smtpSettings struct {
	Host, User, Pass string
	Port             int
	TLS              string // "starttls", "tls" or "none"
	Rate             float64
	Conns            int
}

// parseSMTPURL reads TILTLINE_SMTP_URL. Errors never repeat the password.
func parseSMTPURL(raw string) (*smtpSettings, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return nil, fmt.Errorf("%w: TILTLINE_SMTP_URL must look like smtp://user:pass@host:587?tls=starttls", ErrUsage)
	}
	s := &smtpSettings{Host: u.Hostname(), TLS: "starttls", Rate: 50, Conns: 2}
	if u.Scheme == "smtps" {
		s.TLS = "tls"
	}
	q := u.Query()
	if v := q.Get("tls"); v != "" {
		s.TLS = v
	}
	switch s.TLS {
	case "starttls":
		s.Port = 587
	case "tls":
		s.Port = 465
	case "none":
		s.Port = 25
	default:
		return nil, fmt.Errorf("%w: TILTLINE_SMTP_URL: tls=%q; use starttls, tls or none", ErrUsage, s.TLS)
	}
	if p := u.Port(); p != "" {
		if s.Port, err = strconv.Atoi(p); err != nil || s.Port < 1 || s.Port > 65535 {
			return nil, fmt.Errorf("%w: TILTLINE_SMTP_URL: bad port %q", ErrUsage, p)
		}
	}
	if v := q.Get("rate"); v != "" {
		if s.Rate, err = strconv.ParseFloat(v, 64); err != nil || s.Rate < 0 {
			return nil, fmt.Errorf("%w: TILTLINE_SMTP_URL: rate=%q; mails per second, 0 for no limit", ErrUsage, v)
		}
	}
	if v := q.Get("conns"); v != "" {
		if s.Conns, err = strconv.Atoi(v); err != nil || s.Conns < 1 || s.Conns > 16 {
			return nil, fmt.Errorf("%w: TILTLINE_SMTP_URL: conns=%q; 1 to 16", ErrUsage, v)
		}
	}
	if u.User != nil {
		s.User = u.User.Username()
		s.Pass, _ = u.User.Password()
	}
	return s, nil
}

// defaultMailFrom is the sender when none is configured (the flag's default).
const defaultMailFrom = "Tiltline <no-reply@localhost>"

// mailer writes and sends the outbox's mails. Build it with newMailer, run
// it with start.
type mailer struct {
	app    *App
	log    *slog.Logger
	db     *survey.DB
	opts   mailOptions
	from   *mail.Address
	domain string // of the sender address, for Message-IDs
	worker string // this process's name in outbox.claimed_by

	smtp   *smtpSettings // nil: write .eml files
	emlDir string

	text *texttemplate.Template
	html *htmltemplate.Template
	page *htmltemplate.Template // the opt-out page, inside the site layout

	limiter *rate.Limiter
	down    atomic.Bool // the SMTP server is unreachable; logged once per outage

	wakeMu sync.Mutex
	wake   chan struct{}

	sent, failed *prometheus.CounterVec
	bounced      prometheus.Counter
}

// newMailer builds the mailer of an App from its configuration: the SMTP
// URL (or the .eml directory), the sender, the templates. It fails on a bad
// setting, so a misconfigured server does not start.
func newMailer(a *App) (*mailer, error) {
	sender := a.cfg.MailFrom
	if sender == "" {
		sender = defaultMailFrom
	}
	from, err := mail.ParseAddress(sender)
	if err != nil {
		return nil, fmt.Errorf("%w: TILTLINE_MAIL_FROM %q is not a mail address: %w", ErrUsage, sender, err)
	}
	m := &mailer{app: a, log: a.log, db: a.db, opts: defaultMailOptions(), from: from,
		domain: from.Address[strings.LastIndex(from.Address, "@")+1:], wake: make(chan struct{})}
	host, _ := os.Hostname()
	m.worker = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), randomHex(4))
	if a.cfg.SMTPURL != "" {
		if m.smtp, err = parseSMTPURL(a.cfg.SMTPURL); err != nil {
			return nil, err
		}
		m.opts.Rate, m.opts.Conns = m.smtp.Rate, m.smtp.Conns
	} else {
		m.emlDir = filepath.Join(a.cfg.DataDir, "outbox")
		m.opts.Conns = 1
	}
	if m.text, err = texttemplate.New("message.txt").ParseFS(templateFS, "templates/mail/message.txt"); err != nil {
		return nil, err
	}
	if m.html, err = htmltemplate.New("message.html").ParseFS(templateFS, "templates/mail/message.html"); err != nil {
		return nil, err
	}
	m.page, err = htmltemplate.New("layout").Funcs(templateFuncs(a.assets)).
		ParseFS(templateFS, "templates/layout.html", "templates/partials.html", "templates/mail/optout.html")
	if err != nil {
		return nil, err
	}
	m.sent = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tiltline_mail_sent_total", Help: "Mails delivered (or written as .eml), by kind."}, []string{"kind"})
	m.failed = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tiltline_mail_failed_total", Help: "Failed delivery attempts, by kind."}, []string{"kind"})
	m.bounced = prometheus.NewCounter(prometheus.CounterOpts{Name: "tiltline_mail_bounced_total", Help: "Invitations given up after the last attempt."})
	if a.metrics != nil {
		m.sent = register(a.metrics.reg, m.sent)
		m.failed = register(a.metrics.reg, m.failed)
		m.bounced = register(a.metrics.reg, m.bounced)
	}
	return m, nil
}

// register adds a collector, or returns the one already registered under
// its name (a second mailer of one App shares the counters).
func register[C prometheus.Collector](reg *prometheus.Registry, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err) // two different metrics under one name: a programming error
	}
	return c
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Kick wakes the senders at once, e.g. right after invitations were queued,
// instead of at their next poll.
func (m *mailer) Kick() {
	m.wakeMu.Lock()
	close(m.wake)
	m.wake = make(chan struct{})
	m.wakeMu.Unlock()
}

func (m *mailer) woken() <-chan struct{} {
	m.wakeMu.Lock()
	defer m.wakeMu.Unlock()
	return m.wake
}

// start runs the worker until ctx ends or stop is called; stop waits until
// every sender has handed back what it holds. Call stop before closing the
// database.
func (m *mailer) start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	limit := rate.Inf
	if m.opts.Rate > 0 {
		limit = rate.Limit(m.opts.Rate)
	}
	m.limiter = rate.NewLimiter(limit, max(1, int(m.opts.Rate/10)))
	if m.opts.Rate > 0 {
		// A batch must be sent well within its lease.
		m.opts.Batch = max(1, min(m.opts.Batch, int(m.opts.Rate*m.opts.Lease.Seconds()/4)))
	}
	if m.smtp == nil {
		m.log.Info("no TILTLINE_SMTP_URL: mails are written as .eml files, not sent", "dir", m.emlDir)
	} else {
		m.log.Info("mail worker started", "smtp_host", m.smtp.Host, "port", m.smtp.Port, "tls", m.smtp.TLS,
			"rate_per_s", m.opts.Rate, "conns", m.opts.Conns, "worker", m.worker)
	}
	var wg sync.WaitGroup
	for range m.opts.Conns {
		wg.Go(func() { m.sender(ctx, m.transport()) })
	}
	wg.Go(func() { m.scheduler(ctx) })
	return func() {
		cancel()
		wg.Wait()
	}
}

// scheduler queues due scheduled reminders every opts.Schedule.
func (m *mailer) scheduler(ctx context.Context) {
	t := time.NewTicker(m.opts.Schedule)
	defer t.Stop()
	for {
		n, err := outbox.DueScheduledReminders(ctx, m.db, time.Now())
		if err != nil && ctx.Err() == nil {
			m.log.Error("queue scheduled reminders", "err", err)
		}
		if n > 0 {
			m.log.Info("scheduled reminders queued", "count", n)
			m.Kick()
		}
		m.app.queueActionMail(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sender is one worker loop with its own connection: claim a batch, send
// it, repeat; when nothing is due, wait for the next poll or a kick.
func (m *mailer) sender(ctx context.Context, tr transport) {
	defer tr.Close()
	outage := time.Duration(0)
	for ctx.Err() == nil {
		wake := m.woken()
		jobs, err := outbox.ClaimJobs(ctx, m.db, m.worker, m.opts.Batch, m.opts.Lease)
		if err != nil {
			if ctx.Err() == nil {
				m.log.Error("claim mail jobs", "err", err)
			}
			sleep(ctx, m.opts.Poll, nil)
			continue
		}
		if len(jobs) == 0 {
			tr.Idle(m.opts.IdleClose)
			sleep(ctx, m.opts.Poll, wake)
			continue
		}
		if len(jobs) == m.opts.Batch {
			m.Kick() // more waiting: get the other senders going
		}
		if m.sendBatch(ctx, tr, jobs) {
			outage = min(max(2*outage, m.opts.OutageBackoff/32), m.opts.OutageBackoff)
			sleep(ctx, outage, nil)
		} else {
			outage = 0
		}
	}
}

func sleep(ctx context.Context, d time.Duration, wake <-chan struct{}) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-wake:
	}
}

// campaignMail is what every mail of a campaign shares.
type campaignMail struct {
	c        *survey.Campaign
	org      string
	settings *outbox.MailSettings
	minutes  int
	logo     string // the organisation's logo, an absolute URL; "" without one
}

func (m *mailer) campaign(ctx context.Context, id int64) (*campaignMail, error) {
	var c survey.Campaign
	if err := m.db.Read.WithContext(ctx).First(&c, id).Error; err != nil {
		return nil, err
	}
	org, err := survey.OrganisationByID(ctx, m.db, c.OrganisationID)
	if err != nil {
		return nil, err
	}
	s, err := outbox.CampaignMailSettings(ctx, m.db, id)
	if err != nil {
		return nil, err
	}
	cm := &campaignMail{c: &c, org: org.Name, settings: s, minutes: 20}
	if model, ok := m.app.models.Version(c.ModelVersion); ok {
		cm.minutes = estimateMinutes(model.AnswerSlots())
	}
	if b, err := m.app.sections.brand(ctx, m.db, c.OrganisationID); err == nil && logoURL(c.OrganisationID, b) != "" {
		cm.logo = m.app.cfg.BaseURL + logoURL(c.OrganisationID, b)
	}
	return cm, nil
}

// sendBatch sends claimed jobs one by one and marks each. It reports an
// outage (the SMTP server is unreachable): then the rest of the batch is
// handed back without counting an attempt against anyone.
func (m *mailer) sendBatch(ctx context.Context, tr transport, jobs []outbox.Job) (outage bool) {
	bg := context.WithoutCancel(ctx) // marks must land even while stopping
	campaigns := map[int64]*campaignMail{}
	for i, job := range jobs {
		now := time.Now()
		if ctx.Err() != nil || job.ClaimedUntil.Sub(now) < m.opts.Lease/4 {
			m.release(bg, jobs[i:], now)
			return false
		}
		var msg *gomail.Msg
		var err error
		if job.Kind == outbox.MailPassword || outbox.ActionMail(job.Kind) {
			compose := m.composePassword
			if outbox.ActionMail(job.Kind) {
				compose = m.composeAction
			}
			if msg, err = compose(ctx, job); err == nil && msg == nil {
				// No account under that address: nothing to send, and the
				// job goes as if it had been sent.
				if err := outbox.Cancel(bg, m.db, job); err != nil {
					m.log.Error("cancel mail", "job", job.ID, "err", err)
				}
				continue
			}
			if err != nil && !errors.As(err, new(badAddressError)) {
				m.log.Error("write mail", "job", job.ID, "kind", job.Kind, "err", err) // the database: try again soon
				m.release(bg, []outbox.Job{job}, now.Add(m.opts.Poll))
				continue
			}
		} else {
			cm, ok := campaigns[job.CampaignID]
			if !ok {
				if cm, err = m.campaign(ctx, job.CampaignID); err != nil {
					m.log.Error("load campaign for mail", "job", job.ID, "err", err)
					m.release(bg, jobs[i:], now.Add(m.opts.Poll))
					return false
				}
				campaigns[job.CampaignID] = cm
			}
			if reason := job.Obsolete(cm.c, now); reason != "" {
				if err := outbox.Cancel(bg, m.db, job); err != nil {
					m.log.Error("cancel mail", "job", job.ID, "err", err)
				}
				continue
			}
			msg, err = m.compose(job, cm)
		}
		if err != nil {
			var bad badAddressError
			if errors.As(err, &bad) { // the address can never work: give up now
				_, _ = outbox.MarkFailed(bg, m.db, job, err, outbox.RetryPolicy{MaxAttempts: 1})
				m.bounced.Inc()
				m.log.Warn("mail address unusable; invitation marked bounced", "job", job.ID)
				continue
			}
			// Writing the same mail again gives the same error: retrying
			// would hold the job (and the campaign's queue) forever. It is
			// given up with a reason the campaign's mail page shows.
			reason := "mail.failed.compose"
			var us unsendableError
			if errors.As(err, &us) {
				reason = us.reason
			}
			if err := outbox.GiveUp(bg, m.db, job, reason); err != nil {
				m.log.Error("give up mail", "job", job.ID, "err", err)
			}
			m.failed.WithLabelValues(job.Kind).Inc()
			m.log.Warn("mail cannot be written; given up", "job", job.ID, "kind", job.Kind, "reason", reason, "err", logSafe(err))
			continue
		}
		if err := m.limiter.Wait(ctx); err != nil {
			m.release(bg, jobs[i:], now)
			return false
		}
		err = tr.Send(job, msg)
		var unreachable unreachableError
		switch {
		case err == nil:
			if m.down.CompareAndSwap(true, false) {
				m.log.Info("SMTP server reachable again")
			}
			if err := outbox.MarkSent(bg, m.db, job); err != nil {
				m.log.Error("mark mail sent", "job", job.ID, "err", err)
			}
			m.sent.WithLabelValues(job.Kind).Inc()
		case errors.As(err, &unreachable):
			if m.down.CompareAndSwap(false, true) {
				m.log.Warn("SMTP server unreachable; mail waits and is retried", "err", logSafe(unreachable.err))
			}
			m.release(bg, jobs[i:], time.Now())
			return true
		default:
			bounced, merr := outbox.MarkFailed(bg, m.db, job, err, m.opts.Retry)
			if merr != nil {
				m.log.Error("mark mail failed", "job", job.ID, "err", merr)
			}
			m.failed.WithLabelValues(job.Kind).Inc()
			code, enhanced := smtpCodes(err)
			if bounced {
				m.bounced.Inc()
			}
			m.log.Warn("mail delivery failed", "job", job.ID, "kind", job.Kind, "attempt", job.Attempts+1,
				"smtp_code", code, "smtp_status", enhanced, "bounced", bounced)
		}
	}
	return false
}

func (m *mailer) release(ctx context.Context, jobs []outbox.Job, at time.Time) {
	if err := outbox.ReleaseJobs(ctx, m.db, jobs, at); err != nil {
		m.log.Error("release mail jobs", "count", len(jobs), "err", err)
	}
}

// smtpCodes extracts the reply code and enhanced status of a refusal, for
// the log: never the reply text, which may quote the address.
func smtpCodes(err error) (int, string) {
	var se *gomail.SendError
	if errors.As(err, &se) {
		return se.ErrorCode(), se.EnhancedStatusCode()
	}
	return 0, ""
}

// logSafe describes an SMTP error for the log: a delivery error by its stage
// and codes only, since go-mail's own text lists the recipients.
func logSafe(err error) string {
	var se *gomail.SendError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (smtp %d %s)", se.Reason, se.ErrorCode(), se.EnhancedStatusCode())
	}
	return err.Error()
}

// mailView is what the mail templates see.
type mailView struct {
	Lang, Kind, Subject, Greeting string
	Intro                         []string
	Org, Campaign                 string
	Link, OptOutLink              string
	Minutes                       int
	Deadline                      string
	Contact                       string
	Logo                          string // absolute URL of the organisation's logo, or ""
	// ContactName and ContactEmail make the contact a mailto: link in
	// the HTML part; the name is the address when there is none.
	ContactName, ContactEmail string

	tr *translator
}

// T translates a message id; args are key/value pairs for its placeholders.
func (v *mailView) T(id string, args ...any) string { return v.tr.T(v.Lang, id, pairs(args)) }

// mailLocale picks the language of a job: its own when Tiltline speaks it,
// else the campaign's first, else English.
func mailLocale(job outbox.Job, c *survey.Campaign) string {
	if l := supported(job.Locale); l != "" {
		return l
	}
	for l := range strings.SplitSeq(c.Locales, ",") {
		if l = supported(strings.TrimSpace(l)); l != "" {
			return l
		}
	}
	return survey.Locales[0]
}

// surveyLink is the respondent's link, in the mail's language. It is built
// here, at send time, from the secret: it is never stored or logged.
func (m *mailer) surveyLink(invitationID, lang string) string {
	return m.app.cfg.BaseURL + "/s/" + survey.InviteToken(m.app.cfg.Secret, invitationID) + "?lang=" + lang
}

func (m *mailer) optOutLink(invitationID, lang string) string {
	return m.app.cfg.BaseURL + "/s/" + survey.InviteToken(m.app.cfg.Secret, invitationID) + "/optout?lang=" + lang
}

// view fills the templates' data for one job.
func (m *mailer) view(job outbox.Job, cm *campaignMail) *mailView {
	lang := mailLocale(job, cm.c)
	tr := m.app.i18n
	name := campaignName(cm.c, lang) // in subjects too
	v := &mailView{Lang: lang, Kind: job.Kind, Org: cm.org, Campaign: name, Minutes: cm.minutes, Logo: cm.logo, tr: tr,
		Link: m.surveyLink(job.InvitationID, lang), OptOutLink: m.optOutLink(job.InvitationID, lang)}
	// The organisation's texts in the mail's language, each empty one
	// standing for the built-in wording in that language.
	own, def := cm.settings.In(lang), m.defaultTexts(cm, lang)
	subject, intro := cmp.Or(own.InviteSubject, def.InviteSubject), cmp.Or(own.InviteIntro, def.InviteIntro)
	if job.Kind == outbox.MailReminder {
		subject, intro = cmp.Or(own.ReminderSubject, def.ReminderSubject), cmp.Or(own.ReminderIntro, def.ReminderIntro)
	}
	v.Subject = subject
	for p := range strings.SplitSeq(intro, "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			v.Intro = append(v.Intro, p)
		}
	}
	if job.Name != "" {
		v.Greeting = tr.T(lang, "mail.greeting.name", map[string]any{"Name": job.Name})
	} else {
		v.Greeting = tr.T(lang, "mail.greeting.anon", nil)
	}
	if d := cm.c.ClosesAt; d != nil {
		v.Deadline = tr.T(lang, "mail.date", map[string]any{"Day": d.Day(), "Month": tr.T(lang, "mail.month."+strconv.Itoa(int(d.Month())), nil), "Year": d.Year()})
	}
	switch c, name := cm.c, displayName(cm.c.ContactName); {
	case name != "" && c.ContactEmail != "":
		v.Contact = name + " <" + c.ContactEmail + ">"
	default:
		v.Contact = name + c.ContactEmail
	}
	v.ContactName, v.ContactEmail = displayName(cm.c.ContactName), cm.c.ContactEmail
	if v.ContactName == "" {
		v.ContactName = v.ContactEmail
	}
	return v
}

// defaultTexts is the built-in wording of a campaign's mails in a
// language: what an empty text of the organisation's stands for.
func (m *mailer) defaultTexts(cm *campaignMail, lang string) outbox.MailTexts {
	tr := m.app.i18n
	data := map[string]any{"Campaign": campaignName(cm.c, lang), "Org": cm.org}
	return outbox.MailTexts{
		InviteSubject: tr.T(lang, "mail.invite.subject", data), InviteIntro: tr.T(lang, "mail.invite.intro", data),
		ReminderSubject: tr.T(lang, "mail.reminder.subject", data), ReminderIntro: tr.T(lang, "mail.reminder.intro", data),
	}
}

// senderName is who a campaign's mail is from, as the inbox shows it: the
// organisation, through Tiltline ("Demo Bank via Tiltline"). The address
// stays ours (TILTLINE_MAIL_FROM): only its name changes.
func (m *mailer) senderName(org string) string {
	via := m.from.Name
	if via == "" {
		via = "Tiltline"
	}
	if org = displayName(org); org == "" {
		return via
	}
	return org + " via " + via
}

// unsendableError marks a mail that the campaign's own settings make
// impossible to write (its contact address); reason is the message id the
// campaign's mail page shows.
type unsendableError struct {
	reason string
	err    error
}

func (e unsendableError) Error() string { return e.reason + ": " + e.err.Error() }

// displayName makes a name fit for a mail header or a one-line mention:
// control characters (line breaks above all) become spaces, runs of spaces one.
func displayName(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
}

// addressHeader writes "Name <address>" as net/mail does (quoting or
// encoding the name as needed), or the bare address without a name.
func addressHeader(name, address string) string {
	if name = displayName(name); name == "" {
		return address
	}
	return (&mail.Address{Name: name, Address: address}).String()
}

// badAddressError marks a recipient address no retry can fix.
type badAddressError struct{ err error }

func (e badAddressError) Error() string { return "unusable recipient address: " + e.err.Error() }

// compose writes one job's mail: multipart text and HTML, in the
// participant's language, replies going to the campaign contact.
func (m *mailer) compose(job outbox.Job, cm *campaignMail) (*gomail.Msg, error) {
	v := m.view(job, cm)
	var text, html bytes.Buffer
	if err := m.text.Execute(&text, v); err != nil {
		return nil, err
	}
	if err := m.html.Execute(&html, v); err != nil {
		return nil, err
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.FromFormat(m.senderName(cm.org), m.from.Address); err != nil {
		return nil, err
	}
	// Names are written by net/mail, which quotes or encodes whatever they
	// hold: a comma, quote or bracket in a name can never split or break
	// the address, so it is never a reason to bounce.
	if err := msg.AddTo(addressHeader(job.Name, job.Recipient)); err != nil {
		return nil, badAddressError{err}
	}
	if e := cm.c.ContactEmail; e != "" {
		if err := msg.ReplyTo(addressHeader(cm.c.ContactName, e)); err != nil {
			return nil, unsendableError{reason: "mail.failed.contact", err: err}
		}
	}
	msg.Subject(v.Subject)
	msg.SetDate()
	msg.SetMessageIDWithValue(fmt.Sprintf("tiltline.%d.%s@%s", job.ID, randomHex(6), m.domain))
	msg.SetGenHeader(gomail.HeaderContentLang, v.Lang)
	msg.SetGenHeader("Auto-Submitted", "auto-generated") // RFC 3834: no out-of-office replies
	msg.SetGenHeader("List-Unsubscribe", "<"+v.OptOutLink+">")
	msg.SetGenHeader("List-Unsubscribe-Post", "List-Unsubscribe=One-Click") // RFC 8058
	msg.SetBodyString(gomail.TypeTextPlain, text.String())
	msg.AddAlternativeString(gomail.TypeTextHTML, html.String())
	return msg, nil
}

// composePassword writes a set-password mail for the account of the job's
// address, with a fresh one-time link; nil (and no error) when the address
// has no account. The link exists only in this mail: the database keeps its
// hash, the log nothing.
func (m *mailer) composePassword(ctx context.Context, job outbox.Job) (*gomail.Msg, error) {
	u, err := survey.UserByEmail(ctx, m.db, job.Recipient)
	if errors.Is(err, survey.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	token, err := survey.NewPasswordToken(ctx, m.db, u.ID, passwordLinkTTL)
	if err != nil {
		return nil, err
	}
	lang := supported(u.Locale)
	if lang == "" {
		if lang = supported(job.Locale); lang == "" {
			lang = survey.Locales[0]
		}
	}
	tr := m.app.i18n
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.FromFormat(m.from.Name, m.from.Address); err != nil {
		return nil, err
	}
	if err := msg.AddTo(u.Email); err != nil {
		return nil, badAddressError{err}
	}
	msg.Subject(tr.T(lang, "auth.mail.subject", nil))
	msg.SetDate()
	msg.SetMessageIDWithValue(fmt.Sprintf("tiltline.pw.%d.%s@%s", job.ID, randomHex(6), m.domain))
	msg.SetGenHeader(gomail.HeaderContentLang, lang)
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, tr.T(lang, "auth.mail.body",
		map[string]any{"Link": m.app.cfg.BaseURL + "/password/" + token, "Hours": int(passwordLinkTTL.Hours())}))
	return msg, nil
}

// A transport delivers composed mails: SMTP, or files.
type transport interface {
	Send(job outbox.Job, msg *gomail.Msg) error
	Idle(after time.Duration) // close what has been unused this long
	Close()
}

// unreachableError means the mail could not be handed to our SMTP server at
// all (down, refusing connections, connection lost): no fault of the recipient.
type unreachableError struct{ err error }

func (e unreachableError) Error() string { return "SMTP server unreachable: " + e.err.Error() }

func (m *mailer) transport() transport {
	if m.smtp == nil {
		return &emlTransport{dir: m.emlDir}
	}
	return &smtpTransport{s: m.smtp, perConn: m.opts.PerConn}
}

// smtpTransport is one reused SMTP connection.
type smtpTransport struct {
	s       *smtpSettings
	perConn int
	client  *gomail.Client
	used    int
	last    time.Time
}

func (t *smtpTransport) dial() error {
	opts := []gomail.Option{gomail.WithPort(t.s.Port), gomail.WithTimeout(30 * time.Second), gomail.WithoutNoop()}
	switch t.s.TLS {
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case "tls":
		opts = append(opts, gomail.WithSSL())
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if t.s.User != "" {
		opts = append(opts, gomail.WithUsername(t.s.User), gomail.WithPassword(t.s.Pass), gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover))
	}
	c, err := gomail.NewClient(t.s.Host, opts...)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.DialWithContext(ctx); err != nil {
		return err
	}
	t.client, t.used = c, 0
	return nil
}

// Send hands one mail to the server over the kept connection. A connection
// the server dropped while idle is redialled once before the mail counts as
// undeliverable; an error before anything was accepted is an outage, an
// SMTP refusal is the mail's own failure.
func (t *smtpTransport) Send(_ outbox.Job, msg *gomail.Msg) error {
	if t.client != nil && t.used >= t.perConn {
		t.Close()
	}
	for try := 0; ; try++ {
		fresh := t.client == nil
		if fresh {
			if err := t.dial(); err != nil {
				return unreachableError{err}
			}
		}
		err := t.client.Send(msg)
		t.last = time.Now()
		if err == nil {
			t.used++
			return nil
		}
		// The server answered: a refusal of this mail — unless it is 421,
		// the server closing the channel (shutting down, too busy).
		if code, _ := smtpCodes(err); code != 0 && code != 421 {
			return err
		}
		t.Close()
		if fresh || try > 0 || !nothingSent(err) {
			return unreachableError{err}
		}
	}
}

// nothingSent says the failure happened before the mail's content went out,
// so trying again on a new connection cannot deliver it twice.
func nothingSent(err error) bool {
	var se *gomail.SendError
	return errors.As(err, &se) && (se.Reason == gomail.ErrConnCheck || se.Reason == gomail.ErrSMTPMailFrom || se.Reason == gomail.ErrSMTPRcptTo)
}

func (t *smtpTransport) Idle(after time.Duration) {
	if t.client != nil && time.Since(t.last) > after {
		t.Close()
	}
}

func (t *smtpTransport) Close() {
	if t.client != nil {
		_ = t.client.Close()
		t.client = nil
	}
}

// emlTransport writes each mail to DIR/<job id>-<kind>.eml, for when no
// SMTP server is configured. The files hold working links: the directory is
// private to the server's user.
type emlTransport struct{ dir string }

func (t *emlTransport) Send(job outbox.Job, msg *gomail.Msg) error {
	if err := os.MkdirAll(t.dir, 0o700); err != nil {
		return unreachableError{err}
	}
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		return err
	}
	name := filepath.Join(t.dir, fmt.Sprintf("%09d-%s.eml", job.ID, job.Kind))
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o600); err != nil {
		return unreachableError{err}
	}
	if err := os.Rename(tmp, name); err != nil {
		return unreachableError{err}
	}
	return nil
}

func (t *emlTransport) Idle(time.Duration) {}
func (t *emlTransport) Close()             {}

// Opt-out: GET /s/:token/optout asks, POST /s/:token/optout does it. A GET
// changes nothing, because mail scanners follow links; the POST needs no
// form token, so that mail clients' one-click unsubscribe (RFC 8058,
// List-Unsubscribe-Post) works. Knowing the link is the authorisation, as
// for the survey itself.

type optOutData struct {
	Campaign, Action, Survey string
	Done                     bool
}

// optOutForm is GET /s/:token/optout.
func (m *mailer) optOutForm(c echo.Context) error {
	return m.optOutPage(c, false)
}

// optOut is POST /s/:token/optout.
func (m *mailer) optOut(c echo.Context) error {
	return m.optOutPage(c, true)
}

func (m *mailer) optOutPage(c echo.Context, confirm bool) error {
	ctx := c.Request().Context()
	token := c.Param("token")
	inv, camp, err := survey.FindInvitation(ctx, m.db, token)
	if errors.Is(err, survey.ErrNotFound) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	done := inv.OptedOut
	if confirm && !done {
		if err := outbox.OptOut(ctx, m.db, token); err != nil {
			return err
		}
		done = true
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	title := "mail.optout.title"
	if done {
		title = "mail.optout.done.title"
	}
	name := camp.Name
	if camp.WaveLabel != "" {
		name += " " + camp.WaveLabel
	}
	p := m.app.page(c, title, optOutData{Campaign: name, Action: "/s/" + token + "/optout", Survey: "/s/" + token, Done: done})
	var buf bytes.Buffer
	if err := m.page.ExecuteTemplate(&buf, "layout", p); err != nil {
		return fmt.Errorf("render opt-out page: %w", err)
	}
	c.Response().Header().Set("Content-Language", p.Lang)
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}
