package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"tiltline/portal"
	"tiltline/survey"
	"tiltline/survey/actions"
	"tiltline/survey/outbox"
)

// Action mails (survey/actions/reminders.go queues them): plain text, in
// the recipient's language, written when sent from the action as it is
// then. A mail that no longer makes sense (the action was deleted, closed,
// or given to someone else since) is not sent: composeAction returns nil.

// queueActionMail runs the reminder and digest sweep; the mail scheduler
// calls it on each of its rounds.
func (a *App) queueActionMail(ctx context.Context) {
	n, err := actions.QueueReminders(ctx, a.db, a.now())
	if err != nil && ctx.Err() == nil {
		a.log.Error("queue action reminders", "err", err)
	}
	if n > 0 {
		a.log.Info("action mails queued", "count", n)
		a.mail.Kick()
	}
}

func (m *mailer) composeAction(ctx context.Context, job outbox.Job) (*gomail.Msg, error) {
	tr, base := m.app.i18n, m.app.cfg.BaseURL
	lang := supported(job.Locale)
	if lang == "" {
		lang = survey.Locales[0]
	}
	now := m.app.now()
	var subject string
	var body strings.Builder
	switch job.Kind {
	case outbox.MailActionAssigned, outbox.MailActionReminder:
		x, err := actions.ByID(ctx, m.db, job.ActionID)
		if errors.Is(err, actions.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if x.DeletedAt != nil || !strings.EqualFold(x.OwnerEmail, job.Recipient) || job.Kind == outbox.MailActionReminder && !x.Open() {
			return nil, nil
		}
		data := map[string]any{"Title": x.Title, "Due": x.DueOn.Format(time.DateOnly), "Link": fmt.Sprintf("%s/actions/%d", base, x.ID)}
		kind := "assigned"
		if job.Kind == outbox.MailActionReminder {
			kind = "due"
			if x.Overdue(now) {
				kind = "overdue"
			}
		}
		subject = tr.T(lang, "actions.mail."+kind+".subject", data)
		body.WriteString(tr.T(lang, "actions.mail."+kind+".body", data))
		body.WriteString("\n\n")
		m.practiceLines(&body, lang, x.Practices)
	case outbox.MailActionDigest:
		u, err := survey.UserByEmail(ctx, m.db, job.Recipient)
		if errors.Is(err, survey.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		act, err := actions.ActorOf(ctx, m.db, u)
		if err != nil || !act.Admin() || act.OrgID == 0 {
			return nil, err
		}
		open, err := actions.List(ctx, m.db, act, actions.Filter{Status: "open"})
		if err != nil || len(open) == 0 {
			return nil, err
		}
		late := 0
		for _, x := range open {
			if x.Overdue(now) {
				late++
			}
		}
		subject = tr.T(lang, "actions.mail.digest.subject", map[string]any{"N": len(open)})
		body.WriteString(tr.T(lang, "actions.mail.digest.body", map[string]any{"N": len(open), "Late": late, "Link": base + "/actions"}))
		body.WriteString("\n\n")
		for _, x := range open {
			line := fmt.Sprintf("- %s (%s, %s)", displayName(x.Title), x.DueOn.Format(time.DateOnly), displayName(x.OwnerName+" "+x.OwnerEmail))
			if x.Overdue(now) {
				line += " — " + tr.T(lang, "actions.overdue", nil)
			}
			fmt.Fprintf(&body, "%s\n  %s/actions/%d\n", line, base, x.ID)
		}
	default:
		return nil, fmt.Errorf("not an action mail: %s", job.Kind)
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.FromFormat(m.from.Name, m.from.Address); err != nil {
		return nil, err
	}
	if err := msg.AddTo(job.Recipient); err != nil {
		return nil, badAddressError{err}
	}
	msg.Subject(displayName(subject))
	msg.SetDate()
	msg.SetMessageIDWithValue(fmt.Sprintf("tiltline.act.%d.%s@%s", job.ID, randomHex(6), m.domain))
	msg.SetGenHeader(gomail.HeaderContentLang, lang)
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, body.String())
	return msg, nil
}

// practiceLines lists an action's practices with their portal pages.
func (m *mailer) practiceLines(b *strings.Builder, lang string, ids []string) {
	model := m.app.models.Latest()
	for _, id := range ids {
		if p, ok := model.Practice(id); ok {
			fmt.Fprintf(b, "- %s %s\n  %s\n", id, p.Statement.In(lang), m.app.cfg.BaseURL+portal.PagePath(p.Subsection.Slug, id))
		}
	}
}
