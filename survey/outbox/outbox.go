// Package outbox keeps mail jobs in the database, claimed and sent by a worker in
// the server process (server/mail.go). Any number of server instances may
// run a worker: a job is claimed under a lease (claimed_by, claimed_until),
// so two workers never hold it at once, and a crashed worker's lease simply
// runs out. A sent job (sent_at set) is never claimed again; a job the
// worker gave up on (failed_at set) neither. A job that became pointless
// (answered, opted out, campaign closed) is deleted, not marked: see Cancel.
//
// Queueing is set-based (INSERT … SELECT): 10,000 invitations are one
// statement. Partial unique indexes (migration 00004) make it idempotent:
// one invitation mail per invitation ever, at most one reminder waiting per
// invitation, each scheduled reminder step once.
//
// Nothing here stores a link: the mailer rebuilds it from the secret and the
// invitation id (survey.InviteToken) at the moment it sends.
package outbox

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"tiltline/survey"
)

// Outbox job kinds the mail worker sends.
const (
	MailInvite   = "invite"
	MailReminder = "reminder"
	// MailPassword is a set-password link, queued by address alone: the
	// worker finds the account when it sends, and drops the job silently
	// when there is none (see QueuePasswordMail).
	MailPassword = "password_reset"
	// Action mails (survey/actions): about the action ActionID, or, for a
	// digest, the organisation of the recipient's account.
	MailActionAssigned = "action_assigned"
	MailActionReminder = "action_reminder"
	MailActionDigest   = "action_digest"
)

// ActionMail says whether a job is about actions rather than a campaign.
func ActionMail(kind string) bool {
	return kind == MailActionAssigned || kind == MailActionReminder || kind == MailActionDigest
}

// Job is one claimed mail job, with what the mailer needs to write it.
type Job struct {
	ID           int64
	Kind         string
	InvitationID string
	Recipient    string
	Locale       string
	Attempts     int // deliveries tried so far (before this one)
	Step         int // scheduled reminder number; 0 for invitations and manual reminders
	ClaimedUntil time.Time

	CampaignID       int64
	Name             string // the participant's name, may be empty
	InvitationStatus string
	OptedOut         bool
	ActionID         int64
}

// RetryPolicy says how often and how fast a failed delivery is retried.
// Attempt k (1-based) that fails waits Base·2^(k-1) (±20 %, at most Max);
// after MaxAttempts failed attempts the job is given up and the invitation
// marked bounced.
type RetryPolicy struct {
	MaxAttempts int
	Base, Max   time.Duration
}

// DefaultRetry spreads six attempts over about an hour: enough for
// greylisting and short outages of the recipient's server. An outage of our
// own SMTP server does not count as an attempt (see Release).
var DefaultRetry = RetryPolicy{MaxAttempts: 6, Base: 2 * time.Minute, Max: 2 * time.Hour}

// Backoff is the wait after the given number of failed attempts.
func (p RetryPolicy) Backoff(attempts int) time.Duration {
	d := p.Base
	for i := 1; i < attempts && d < p.Max; i++ {
		d *= 2
	}
	d = min(d, p.Max)
	jitter := time.Duration(float64(d) * 0.2 * (2*rand.Float64() - 1))
	return max(d+jitter, 0)
}

// MailSettings are a campaign's mail texts, per language, and its reminder
// schedule.
type MailSettings struct {
	Texts        map[string]MailTexts // by locale (survey.Locales); a missing one is all defaults
	ReminderDays []int                // days after the invitation was delivered, ascending
}

// MailTexts are the organisation's own subjects and introductions in one
// language. An empty one means the built-in wording in that language, so a
// participant is never addressed in a language other than theirs.
type MailTexts struct {
	InviteSubject, InviteIntro     string
	ReminderSubject, ReminderIntro string
}

// In is the texts for a language (all empty when none were written).
func (s *MailSettings) In(locale string) MailTexts { return s.Texts[locale] }

// Empty reports whether all four texts are the defaults.
func (t MailTexts) Empty() bool { return t == MailTexts{} }

// Names of the texts in forms and in SaveMailSettings' FieldErrors, where
// each carries its language: TextField(InviteSubjectField, "de") is
// "invite_subject_de".
const (
	InviteSubjectField   = "invite_subject"
	InviteIntroField     = "invite_intro"
	ReminderSubjectField = "reminder_subject"
	ReminderIntroField   = "reminder_intro"
)

// TextField names one text in one language.
func TextField(field, locale string) string { return field + "_" + locale }

// Field returns the text a field name (without language) stands for.
func (t *MailTexts) Field(field string) *string {
	switch field {
	case InviteSubjectField:
		return &t.InviteSubject
	case InviteIntroField:
		return &t.InviteIntro
	case ReminderSubjectField:
		return &t.ReminderSubject
	case ReminderIntroField:
		return &t.ReminderIntro
	}
	return nil
}

// TextFields lists the text fields in the order a form shows them.
var TextFields = []string{InviteSubjectField, InviteIntroField, ReminderSubjectField, ReminderIntroField}

// Subject reports whether a text field is a subject (one line, maxSubject).
func Subject(field string) bool { return field == InviteSubjectField || field == ReminderSubjectField }

// Limits of the mail settings form.
const (
	MaxSubject      = 200
	MaxIntro        = 4000
	maxReminderDays = 5
)

// ParseReminderDays reads a schedule such as "7,12" (blank means none).
func ParseReminderDays(s string) ([]int, error) {
	var days []int
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		d, err := strconv.Atoi(f)
		if err != nil || d < 1 || d > 365 {
			return nil, fmt.Errorf("reminder day %q: want a whole number of days from 1 to 365", f)
		}
		days = append(days, d)
	}
	slices.Sort(days)
	days = slices.Compact(days)
	if len(days) > maxReminderDays {
		return nil, fmt.Errorf("at most %d reminders", maxReminderDays)
	}
	return days, nil
}

// FormatReminderDays writes a schedule the way ParseReminderDays reads it: "7,12".
func FormatReminderDays(days []int) string {
	s := make([]string, len(days))
	for i, d := range days {
		s[i] = strconv.Itoa(d)
	}
	return strings.Join(s, ",")
}

// CampaignMailSettings loads a campaign's mail settings.
func CampaignMailSettings(ctx context.Context, db *survey.DB, campaignID int64) (*MailSettings, error) {
	var days []string
	if err := db.Read.WithContext(ctx).Table("campaigns").Where("id = ?", campaignID).Pluck("reminder_days", &days).Error; err != nil {
		return nil, err
	}
	if len(days) == 0 {
		return nil, survey.ErrNotFound
	}
	var rows []struct {
		Locale string
		MailTexts
	}
	err := db.Read.WithContext(ctx).Raw(`SELECT locale, invite_subject, invite_intro, reminder_subject, reminder_intro
		FROM campaign_mail_texts WHERE campaign_id = ?`, campaignID).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	s := &MailSettings{Texts: map[string]MailTexts{}}
	s.ReminderDays, _ = ParseReminderDays(days[0]) // written by SaveMailSettings, so valid
	for _, r := range rows {
		s.Texts[r.Locale] = r.MailTexts
	}
	return s, nil
}

// SaveMailSettings validates and stores a campaign's mail settings. The
// texts of the languages in s.Texts replace the stored ones; other
// languages keep theirs. Errors name the field with its language
// (TextField), so a form shows each next to its own field.
func SaveMailSettings(ctx context.Context, db *survey.DB, campaignID int64, s MailSettings) error {
	fe := survey.FieldErrors{}
	texts := map[string]MailTexts{}
	for locale, t := range s.Texts {
		if !slices.Contains(survey.Locales, locale) {
			continue // no participant can be written to in it
		}
		for _, field := range TextFields {
			v := t.Field(field)
			if Subject(field) {
				*v = strings.Join(strings.Fields(*v), " ") // a subject is one line
				if utf8.RuneCountInString(*v) > MaxSubject {
					fe[TextField(field, locale)] = "mail.error.subject_too_long"
				}
			} else {
				*v = strings.TrimSpace(strings.ReplaceAll(*v, "\r\n", "\n"))
				if utf8.RuneCountInString(*v) > MaxIntro {
					fe[TextField(field, locale)] = "mail.error.intro_too_long"
				}
			}
		}
		texts[locale] = t
	}
	days, err := ParseReminderDays(FormatReminderDays(s.ReminderDays))
	if err != nil {
		fe["reminder_days"] = "mail.error.reminder_days"
	}
	if len(fe) > 0 {
		return fe
	}
	return db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Table("campaigns").Where("id = ?", campaignID).Update("reminder_days", FormatReminderDays(days))
		if res.Error == nil && res.RowsAffected == 0 {
			return survey.ErrNotFound
		}
		if res.Error != nil {
			return res.Error
		}
		for _, locale := range survey.Locales {
			t, ok := texts[locale]
			if !ok {
				continue
			}
			if err := tx.Exec(`DELETE FROM campaign_mail_texts WHERE campaign_id = ? AND locale = ?`, campaignID, locale).Error; err != nil {
				return err
			}
			if t.Empty() {
				continue
			}
			err := tx.Exec(`INSERT INTO campaign_mail_texts (campaign_id, locale, invite_subject, invite_intro, reminder_subject, reminder_intro)
				VALUES (?, ?, ?, ?, ?, ?)`, campaignID, locale, t.InviteSubject, t.InviteIntro, t.ReminderSubject, t.ReminderIntro).Error
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// Mailable refuses to queue mail for a campaign nobody can answer.
func Mailable(c *survey.Campaign, now time.Time) error {
	switch {
	case c.Status == survey.StatusClosed || c.ClosesAt != nil && now.After(*c.ClosesAt):
		return survey.ErrCampaignClosed
	case c.Status == survey.StatusDraft:
		return survey.ErrCampaignNotOpen
	}
	return nil
}

// CampaignLocales lists the campaign's languages, the first being the
// fallback for participants without (or with another) language.
func CampaignLocales(c *survey.Campaign) []string {
	var ls []string
	for l := range strings.SplitSeq(c.Locales, ",") {
		if l = strings.TrimSpace(l); slices.Contains(survey.Locales, l) {
			ls = append(ls, l)
		}
	}
	if len(ls) == 0 {
		ls = []string{survey.Locales[0]}
	}
	return ls
}

// queueSelect is the SELECT part of every queueing statement: one row per
// invitation of the campaign, addressed in the participant's language when
// the campaign offers it.
const queueSelect = `
	SELECT ?, i.id, p.email, CASE WHEN p.locale IN ? THEN p.locale ELSE ? END, ?, ?, ?
	FROM invitations i JOIN participants p ON p.id = i.participant_id`

const queueInsert = `INSERT INTO outbox (kind, invitation_id, recipient, locale, step, next_attempt_at, created_at)`

// queue runs one set-based INSERT … SELECT with the given WHERE clause
// (whose arguments follow). ON CONFLICT DO NOTHING leans on the unique
// indexes, so a concurrent duplicate is skipped, not an error.
func queue(tx *gorm.DB, c *survey.Campaign, kind string, step int, now time.Time, where string, args ...any) (int, error) {
	ls := CampaignLocales(c)
	all := append([]any{kind, ls, ls[0], step, now, now}, args...)
	res := tx.Exec(queueInsert+queueSelect+" WHERE "+where+" ON CONFLICT DO NOTHING", all...)
	return int(res.RowsAffected), res.Error
}

func loadCampaign(ctx context.Context, db *survey.DB, id int64) (*survey.Campaign, error) {
	var c survey.Campaign
	err := db.Read.WithContext(ctx).First(&c, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, survey.ErrNotFound
	}
	return &c, err
}

// QueueInvitations queues one invitation mail for every invitation of the
// campaign that has none yet (status pending, not opted out). The status
// becomes "sent" only once the mail is delivered (MarkSent). It returns the
// number of mails queued; calling it again queues only newcomers.
func QueueInvitations(ctx context.Context, db *survey.DB, campaignID int64) (int, error) {
	// No NOT EXISTS on outbox here: the unique index outbox_one_invite skips
	// invitations that have their mail. A statement reading the table it
	// fills can take a quadratic plan on Postgres while the statistics are
	// fresh off an import (3 s instead of 0.1 s for 10,000).
	// An invitation given up because the campaign made it unwritable (see
	// GiveUp) would hold the index forever: it makes way for a new one.
	err := db.Write.WithContext(ctx).Exec(`DELETE FROM outbox WHERE kind = ? AND failed_at IS NOT NULL AND last_error LIKE ?
		AND invitation_id IN (SELECT id FROM invitations WHERE campaign_id = ? AND status = ?)`,
		MailInvite, givenUpPrefix+"%", campaignID, survey.InvitePending).Error
	if err != nil {
		return 0, err
	}
	return queueFor(ctx, db, campaignID, MailInvite, `i.status = ?`, survey.InvitePending)
}

// givenUpPrefix starts the reason of every job GiveUp gave up: a message id.
const givenUpPrefix = "mail.failed."

// QueueReminders queues one reminder for every invitation that was
// delivered (sent or opened) and is not completed, bounced or opted out, and
// has no reminder waiting already (the unique index
// outbox_one_waiting_reminder skips those). People mailed within
// ReminderCooldown are held back, unless override gives the reason to mail
// them anyway (RecordMailing keeps it).
func QueueReminders(ctx context.Context, db *survey.DB, campaignID int64, override string) (Batch, error) {
	c, err := loadCampaign(ctx, db, campaignID)
	if err != nil {
		return Batch{}, err
	}
	now := time.Now().UTC()
	if err := Mailable(c, now); err != nil {
		return Batch{}, err
	}
	var b Batch
	err = db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Who gets one is read first, then queued by id, as for scheduled
		// reminders: a statement reading the table it fills can take a
		// quadratic plan on Postgres.
		var ids []string
		var cooled []bool
		rows, err := tx.Raw(`SELECT i.id, `+cooledExpr+` AS cooled FROM invitations i
			WHERE i.campaign_id = ? AND i.status IN ? AND NOT i.opted_out AND NOT `+waitingReminder,
			MailInvite, MailReminder, now.Add(-ReminderCooldown), c.ID, remindable, MailReminder).Rows()
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var hot bool
			if err := rows.Scan(&id, &hot); err != nil {
				return err
			}
			ids, cooled = append(ids, id), append(cooled, hot)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		var send []string
		for k, id := range ids {
			if cooled[k] && override == "" {
				b.HeldBack++
				continue
			}
			send = append(send, id)
		}
		for chunk := range slices.Chunk(send, 1000) {
			n, err := queue(tx, c, MailReminder, 0, now, `i.id IN ?`, chunk)
			if err != nil {
				return err
			}
			b.Queued += n
		}
		return nil
	})
	return b, err
}

// queueFor queues mail of a kind to the campaign's invitations in a state,
// if the campaign can still be answered; opted-out invitations never get mail.
func queueFor(ctx context.Context, db *survey.DB, campaignID int64, kind, status string, statusArg any) (int, error) {
	c, err := loadCampaign(ctx, db, campaignID)
	if err != nil {
		return 0, err
	}
	now := time.Now().UTC()
	if err := Mailable(c, now); err != nil {
		return 0, err
	}
	return queue(db.Write.WithContext(ctx), c, kind, 0, now,
		`i.campaign_id = ? AND `+status+` AND NOT i.opted_out`, c.ID, statusArg)
}

// remindable are the invitation states a reminder may go to.
var remindable = []string{survey.InviteSent, survey.InviteOpened}

// DueScheduledReminders queues the reminders of every open campaign's
// schedule (reminder_days) that are due at now: reminder k goes out
// reminder_days[k] days after the invitation was delivered, once per
// invitation, only to invitations a manual reminder would go to, never
// while another reminder waits, and, like a manual one without an override,
// not within ReminderCooldown of the person's last invitation or reminder
// (queued or delivered): it goes out once the cool-down has passed.
// When several steps are due at once (a schedule set late), only the latest
// goes out. It returns the number of reminders queued.
func DueScheduledReminders(ctx context.Context, db *survey.DB, now time.Time) (int, error) {
	now = now.UTC()
	var scheduled []struct {
		ID           int64
		ReminderDays string
	}
	err := db.Read.WithContext(ctx).Table("campaigns").Select("id, reminder_days").
		Where("reminder_days <> '' AND status = ? AND (closes_at IS NULL OR closes_at > ?)", survey.StatusOpen, now).
		Scan(&scheduled).Error
	if err != nil {
		return 0, err
	}
	total := 0
	for _, sc := range scheduled {
		days, err := ParseReminderDays(sc.ReminderDays)
		if err != nil || len(days) == 0 {
			continue
		}
		c, err := loadCampaign(ctx, db, sc.ID)
		if err != nil {
			return total, err
		}
		created := time.Now().UTC()
		err = db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			for k := len(days); k >= 1; k-- {
				// Who is due is read first, then queued: a statement that
				// reads the outbox while filling it can plan badly (see
				// QueueInvitations).
				var ids []string
				err := tx.Raw(`SELECT i.id FROM invitations i
					WHERE i.campaign_id = ? AND i.status IN ? AND NOT i.opted_out
					  AND EXISTS (SELECT 1 FROM outbox inv WHERE inv.invitation_id = i.id AND inv.kind = ?
					              AND inv.sent_at IS NOT NULL AND inv.sent_at <= ?)
					  AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.invitation_id = i.id AND o.kind = ?
					                  AND (o.step >= ? OR o.created_at > ? OR o.sent_at IS NULL AND o.failed_at IS NULL))
					  AND NOT `+cooledExpr,
					c.ID, remindable, MailInvite, now.Add(-time.Duration(days[k-1])*24*time.Hour),
					MailReminder, k, now.Add(-ReminderCooldown),
					MailInvite, MailReminder, now.Add(-ReminderCooldown)).Scan(&ids).Error
				if err != nil {
					return err
				}
				for chunk := range slices.Chunk(ids, 1000) {
					n, err := queue(tx, c, MailReminder, k, created, `i.id IN ?`, chunk)
					if err != nil {
						return err
					}
					total += n
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// ClaimJobs takes up to n due jobs for worker under a lease: until the lease
// ends no other worker gets them. On Postgres concurrent claims skip each
// other's rows (FOR UPDATE SKIP LOCKED); on SQLite the single writer
// connection serialises them. A job whose lease ran out (its worker died)
// is due again.
func ClaimJobs(ctx context.Context, db *survey.DB, worker string, n int, lease time.Duration) ([]Job, error) {
	now := time.Now().UTC()
	until := now.Add(lease)
	var jobs []Job
	err := db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		due := `SELECT id FROM outbox
			WHERE sent_at IS NULL AND failed_at IS NULL AND kind IN ? AND next_attempt_at <= ?
			  AND (claimed_until IS NULL OR claimed_until < ?)
			ORDER BY next_attempt_at, id LIMIT ?`
		var q string
		if db.Dialect == "postgres" {
			q = `WITH due AS (` + due + ` FOR UPDATE SKIP LOCKED)
				UPDATE outbox SET claimed_by = ?, claimed_until = ? FROM due WHERE outbox.id = due.id RETURNING outbox.id`
		} else {
			q = `UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE id IN (` + due + `) RETURNING id`
		}
		args := []any{[]string{MailInvite, MailReminder, MailPassword, MailActionAssigned, MailActionReminder, MailActionDigest}, now, now, n}
		if db.Dialect == "postgres" {
			args = append(args, worker, until)
		} else {
			args = append([]any{worker, until}, args...)
		}
		var ids []int64
		if err := tx.Raw(q, args...).Scan(&ids).Error; err != nil {
			return fmt.Errorf("claim mail jobs: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		// Password mails have no invitation: hence the outer joins.
		return tx.Raw(`SELECT o.id, o.kind, COALESCE(o.invitation_id, '') AS invitation_id, o.recipient, o.locale,
				o.attempts, o.step, o.claimed_until, COALESCE(i.campaign_id, 0) AS campaign_id,
				COALESCE(p.name, '') AS name, COALESCE(i.status, '') AS invitation_status,
				COALESCE(i.opted_out, ?) AS opted_out, COALESCE(o.action_id, 0) AS action_id
			FROM outbox o LEFT JOIN invitations i ON i.id = o.invitation_id LEFT JOIN participants p ON p.id = i.participant_id
			WHERE o.id IN ? ORDER BY o.id`, false, ids).Scan(&jobs).Error
	})
	return jobs, err
}

// Obsolete says why a claimed job must not go out any more ("" when it
// should): the person opted out, answered or bounced since it was queued,
// or the campaign closed.
func (j *Job) Obsolete(c *survey.Campaign, now time.Time) string {
	switch {
	case j.OptedOut:
		return "opted out"
	case j.InvitationStatus == survey.InviteCompleted:
		return "completed"
	case j.InvitationStatus == survey.InviteBounced:
		return "bounced"
	case c.Status == survey.StatusClosed || c.ClosesAt != nil && now.After(*c.ClosesAt):
		return "campaign closed"
	}
	return ""
}

// MarkSent records a delivered job. An invitation mail moves the invitation
// from pending to sent; a reminder counts in reminders_sent. A password mail
// leaves nothing behind: the row would only say who asked for a link when.
func MarkSent(ctx context.Context, db *survey.DB, job Job) error {
	now := time.Now().UTC()
	if job.Kind == MailPassword {
		return Cancel(ctx, db, job)
	}
	return db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE outbox SET sent_at = ?, attempts = attempts + 1, last_error = '', claimed_by = '', claimed_until = NULL
			WHERE id = ? AND sent_at IS NULL`, now, job.ID)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error // already marked: nothing more to count
		}
		if job.Kind == MailInvite {
			return tx.Exec(`UPDATE invitations SET status = ? WHERE id = ? AND status = ?`, survey.InviteSent, job.InvitationID, survey.InvitePending).Error
		}
		return tx.Exec(`UPDATE invitations SET reminders_sent = reminders_sent + 1 WHERE id = ?`, job.InvitationID).Error
	})
}

// MarkFailed records a failed delivery attempt: the job is retried after a
// backoff or, after p.MaxAttempts attempts, given up (failed_at), its
// invitation marked bounced and any other mail waiting for it dropped. The error text is
// kept in last_error (it holds no link: links are never in the database).
func MarkFailed(ctx context.Context, db *survey.DB, job Job, sendErr error, p RetryPolicy) (bounced bool, err error) {
	now := time.Now().UTC()
	attempts := job.Attempts + 1
	msg := "failed"
	if sendErr != nil {
		msg = sendErr.Error()
	}
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	if attempts < p.MaxAttempts {
		return false, db.Write.WithContext(ctx).Exec(`UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ?, claimed_by = '', claimed_until = NULL
			WHERE id = ? AND sent_at IS NULL`, attempts, now.Add(p.Backoff(attempts)), msg, job.ID).Error
	}
	return true, db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`UPDATE outbox SET attempts = ?, failed_at = ?, last_error = ?, claimed_by = '', claimed_until = NULL
			WHERE id = ? AND sent_at IS NULL`, attempts, now, msg, job.ID).Error; err != nil {
			return err
		}
		if job.InvitationID == "" {
			return nil // a password mail: no invitation to mark
		}
		if err := tx.Exec(`DELETE FROM outbox WHERE invitation_id = ? AND id <> ? AND sent_at IS NULL AND failed_at IS NULL`,
			job.InvitationID, job.ID).Error; err != nil {
			return err
		}
		// An opened invitation keeps its status: the response rate counts it.
		return tx.Exec(`UPDATE invitations SET status = ? WHERE id = ? AND status IN ?`,
			survey.InviteBounced, job.InvitationID, []string{survey.InvitePending, survey.InviteSent}).Error
	})
}

// GiveUp moves a job that can never be written to failed at once, with the
// reason an admin sees on the campaign's mail page (a message id such as
// "mail.failed.contact"). Unlike MarkFailed it does not bounce the
// invitation: the fault is the campaign's, not the participant's address,
// and QueueInvitations queues the invitation again once the campaign is
// corrected.
func GiveUp(ctx context.Context, db *survey.DB, job Job, reason string) error {
	return db.Write.WithContext(ctx).Exec(`UPDATE outbox SET failed_at = ?, last_error = ?, claimed_by = '', claimed_until = NULL
		WHERE id = ? AND sent_at IS NULL`, time.Now().UTC(), reason, job.ID).Error
}

// QueuePasswordMail queues a set-password mail to an address. It does the
// same work whether or not the address has an account — one INSERT — so
// neither its answer nor its time tells the two apart; the worker looks the
// account up when it sends and drops the job when there is none. Asking
// again while a mail waits queues nothing. An address that is not one is
// ErrInvalidEmail.
func QueuePasswordMail(ctx context.Context, db *survey.DB, email, locale string) error {
	email, err := survey.NormaliseEmail(email)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	return db.Write.WithContext(ctx).Exec(`INSERT INTO outbox (kind, recipient, locale, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, MailPassword, email, locale, now, now).Error
}

// Cancel drops a job that must not go out any more (see Obsolete). The row
// is deleted rather than marked: a "cancelled because completed" row with a
// time would say when the person answered, which the design never records.
func Cancel(ctx context.Context, db *survey.DB, job Job) error {
	return db.Write.WithContext(ctx).Exec(`DELETE FROM outbox WHERE id = ? AND sent_at IS NULL`, job.ID).Error
}

// ReleaseJobs hands claimed jobs back, due again at retryAt, without counting
// an attempt: for when our own SMTP server is unreachable, which is no
// reason to bounce anyone.
func ReleaseJobs(ctx context.Context, db *survey.DB, jobs []Job, retryAt time.Time) error {
	if len(jobs) == 0 {
		return nil
	}
	ids := make([]int64, len(jobs))
	for i, j := range jobs {
		ids[i] = j.ID
	}
	return db.Write.WithContext(ctx).Exec(`UPDATE outbox SET next_attempt_at = ?, claimed_by = '', claimed_until = NULL
		WHERE id IN ? AND sent_at IS NULL`, retryAt.UTC(), ids).Error
}

// OptOut stops further reminders to the holder of a link token and cancels
// any mail still waiting for them. The survey itself stays answerable.
func OptOut(ctx context.Context, db *survey.DB, token string) error {
	if !survey.WellFormedToken(token) {
		return survey.ErrNotFound
	}
	return db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var inv survey.Invitation
		if err := tx.Select("id").Where("token_hash = ?", survey.HashToken(token)).First(&inv).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return survey.ErrNotFound
			}
			return err
		}
		if err := tx.Exec(`UPDATE invitations SET opted_out = ? WHERE id = ?`, true, inv.ID).Error; err != nil {
			return err
		}
		return tx.Exec(`DELETE FROM outbox WHERE invitation_id = ? AND sent_at IS NULL AND failed_at IS NULL`, inv.ID).Error
	})
}

// FailedMail is a reason mail of a campaign was given up, with how many.
// Reason is a message id: the campaign's own (GiveUp), or
// "mail.failed.delivery" for mail the recipients' servers refused.
type FailedMail struct {
	Reason string
	N      int
}

// CampaignFailedMail counts a campaign's given-up mail by reason.
func CampaignFailedMail(ctx context.Context, db *survey.DB, campaignID int64) ([]FailedMail, error) {
	var out []FailedMail
	err := db.Read.WithContext(ctx).Raw(`SELECT reason, count(*) AS n FROM (
			SELECT CASE WHEN o.last_error LIKE ? THEN o.last_error ELSE ? END AS reason
			FROM outbox o JOIN invitations i ON i.id = o.invitation_id
			WHERE i.campaign_id = ? AND o.failed_at IS NOT NULL) f
		GROUP BY reason ORDER BY reason`, givenUpPrefix+"%", givenUpPrefix+"delivery", campaignID).Scan(&out).Error
	return out, err
}

// MailCounts is the state of a campaign's mail, for the admin pages.
type MailCounts struct {
	Waiting, Sent, Failed int
}

// CampaignMailCounts counts a campaign's mail jobs by state.
func CampaignMailCounts(ctx context.Context, db *survey.DB, campaignID int64) (MailCounts, error) {
	var mc MailCounts
	err := db.Read.WithContext(ctx).Raw(`SELECT
			COALESCE(SUM(CASE WHEN o.sent_at IS NULL AND o.failed_at IS NULL THEN 1 ELSE 0 END), 0) AS waiting,
			COALESCE(SUM(CASE WHEN o.sent_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS sent,
			COALESCE(SUM(CASE WHEN o.failed_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS failed
		FROM outbox o JOIN invitations i ON i.id = o.invitation_id WHERE i.campaign_id = ?`, campaignID).Scan(&mc).Error
	return mc, err
}
