package outbox

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"tiltline/survey"
)

// ReminderCooldown is the least time between the last invitation or
// reminder a person got and a reminder sent by hand: two mails within two
// days read as pestering. An admin may override it, with a reason.
const ReminderCooldown = 48 * time.Hour

// Batch is what one manual send queued, and how many the cool-down held back.
type Batch struct {
	Queued, HeldBack int
}

// cooledExpr is true for an invitation that was mailed (invitation or
// reminder delivered) since the time given as its third argument.
const cooledExpr = `EXISTS (SELECT 1 FROM outbox c WHERE c.invitation_id = i.id AND c.kind IN (?, ?) AND c.sent_at > ?)`

// waitingReminder is true for an invitation with a reminder queued and not
// yet sent: another would be skipped (outbox_one_waiting_reminder).
const waitingReminder = `EXISTS (SELECT 1 FROM outbox w WHERE w.invitation_id = i.id AND w.kind = ? AND w.sent_at IS NULL AND w.failed_at IS NULL)`

// LocaleCount is how many mails would go out in one language.
type LocaleCount struct {
	Locale string
	N      int
}

// Plan is what a send would do, for the admin to confirm before it happens.
type Plan struct {
	ByLocale []LocaleCount // in the campaign's order of languages
	Total    int
	// HeldBack counts reminders the cool-down would hold back (people
	// mailed within ReminderCooldown); an override sends them too.
	HeldBack int
}

// Locales lists the plan's languages in order.
func (p Plan) Locales() []string {
	out := make([]string, len(p.ByLocale))
	for i, lc := range p.ByLocale {
		out[i] = lc.Locale
	}
	return out
}

// PlanInvitations counts the invitations QueueInvitations would queue, by
// the language each goes out in.
func PlanInvitations(ctx context.Context, db *survey.DB, campaignID int64) (Plan, error) {
	return plan(ctx, db, campaignID, `i.status = ? AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.invitation_id = i.id AND o.kind = ?
		AND NOT (o.failed_at IS NOT NULL AND o.last_error LIKE ?))`, survey.InvitePending, MailInvite, givenUpPrefix+"%")
}

// PlanReminders counts the reminders QueueReminders would queue without an
// override at now, by language, and those the cool-down holds back.
func PlanReminders(ctx context.Context, db *survey.DB, campaignID int64, now time.Time) (Plan, error) {
	base := `i.status IN ? AND NOT ` + waitingReminder
	p, err := plan(ctx, db, campaignID, base+` AND NOT `+cooledExpr, remindable, MailReminder, MailInvite, MailReminder, now.UTC().Add(-ReminderCooldown))
	if err != nil {
		return p, err
	}
	var held int64
	err = db.Read.WithContext(ctx).Raw(`SELECT count(*) FROM invitations i WHERE i.campaign_id = ? AND NOT i.opted_out AND `+base+` AND `+cooledExpr,
		campaignID, remindable, MailReminder, MailInvite, MailReminder, now.UTC().Add(-ReminderCooldown)).Scan(&held).Error
	p.HeldBack = int(held)
	return p, err
}

func plan(ctx context.Context, db *survey.DB, campaignID int64, where string, args ...any) (Plan, error) {
	c, err := loadCampaign(ctx, db, campaignID)
	if err != nil {
		return Plan{}, err
	}
	ls := CampaignLocales(c)
	var rows []LocaleCount
	err = db.Read.WithContext(ctx).Raw(`SELECT locale, count(*) AS n FROM (
			SELECT CASE WHEN p.locale IN ? THEN p.locale ELSE ? END AS locale
			FROM invitations i JOIN participants p ON p.id = i.participant_id
			WHERE i.campaign_id = ? AND NOT i.opted_out AND `+where+`) l GROUP BY locale`,
		append([]any{ls, ls[0], c.ID}, args...)...).Scan(&rows).Error
	if err != nil {
		return Plan{}, err
	}
	var p Plan
	for _, l := range ls {
		if k := slices.IndexFunc(rows, func(r LocaleCount) bool { return r.Locale == l }); k >= 0 {
			p.ByLocale = append(p.ByLocale, rows[k])
			p.Total += rows[k].N
		}
	}
	return p, nil
}

// ErrReasonTooLong refuses an override reason longer than a sentence or two.
var ErrReasonTooLong = errors.New("override reason too long")

// maxReason bounds a recorded override reason.
const maxReason = 500

// RecordMailing keeps a manual send in the campaign's log (who, when, how
// many, and the reason for overriding the cool-down), for the campaign page.
// by is the admin's user id, 0 for an API token's.
func RecordMailing(ctx context.Context, db *survey.DB, campaignID int64, kind string, by int64, b Batch, reason string) error {
	reason = strings.Join(strings.Fields(reason), " ")
	if len(reason) > maxReason {
		return ErrReasonTooLong
	}
	var user *int64
	if by != 0 {
		user = &by
	}
	return db.Write.WithContext(ctx).Exec(`INSERT INTO campaign_mailings (campaign_id, kind, queued, held_back, override_reason, user_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, campaignID, kind, b.Queued, b.HeldBack, reason, user, time.Now().UTC()).Error
}

// Mailing is the latest manual send of a kind, with the latest delivery.
type Mailing struct {
	Kind           string
	QueuedAt       time.Time // the last batch; zero when none was sent by hand
	Queued         int
	HeldBack       int
	OverrideReason string
	By             string    // the admin's name, "" for an API token or a deleted account
	LastSentAt     time.Time // the last mail of this kind delivered, scheduled ones included; zero for none
	Sent           int       // mails of this kind delivered in all
}

// CampaignMailings returns, for invitations and then reminders, the last
// batch sent by hand and the last delivery.
func CampaignMailings(ctx context.Context, db *survey.DB, campaignID int64) ([]Mailing, error) {
	out := make([]Mailing, 0, 2)
	for _, kind := range []string{MailInvite, MailReminder} {
		m := Mailing{Kind: kind}
		var last []struct {
			CreatedAt      time.Time
			Queued         int
			HeldBack       int
			OverrideReason string
			By             string
		}
		err := db.Read.WithContext(ctx).Raw(`SELECT m.created_at, m.queued, m.held_back, m.override_reason, COALESCE(u.name, '') AS by
			FROM campaign_mailings m LEFT JOIN users u ON u.id = m.user_id
			WHERE m.campaign_id = ? AND m.kind = ? ORDER BY m.created_at DESC, m.id DESC LIMIT 1`, campaignID, kind).Scan(&last).Error
		if err != nil {
			return nil, err
		}
		if len(last) == 1 {
			l := last[0]
			m.QueuedAt, m.Queued, m.HeldBack, m.OverrideReason, m.By = l.CreatedAt, l.Queued, l.HeldBack, l.OverrideReason, l.By
		}
		// The newest row rather than max(): SQLite's max() loses the column's type.
		var sent []time.Time
		err = db.Read.WithContext(ctx).Raw(`SELECT o.sent_at FROM outbox o JOIN invitations i ON i.id = o.invitation_id
			WHERE i.campaign_id = ? AND o.kind = ? AND o.sent_at IS NOT NULL ORDER BY o.sent_at DESC LIMIT 1`, campaignID, kind).Scan(&sent).Error
		if err != nil {
			return nil, err
		}
		if len(sent) == 1 {
			m.LastSentAt = sent[0]
		}
		var n int64
		err = db.Read.WithContext(ctx).Raw(`SELECT count(*) FROM outbox o JOIN invitations i ON i.id = o.invitation_id
			WHERE i.campaign_id = ? AND o.kind = ? AND o.sent_at IS NOT NULL`, campaignID, kind).Scan(&n).Error
		if err != nil {
			return nil, err
		}
		m.Sent = int(n)
		out = append(out, m)
	}
	return out, nil
}
