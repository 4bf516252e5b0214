package server

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"tiltline/survey"
	"tiltline/survey/outbox"
)

// Sending: invitations to everyone not yet invited, reminders to everyone
// who has not answered (and has not opted out), and the campaign's mail
// texts. The outbox worker does the sending; these only queue.

// queueError maps the outbox's refusals to answers.
func (a *App) queueError(c echo.Context, err error) error {
	switch {
	case errors.Is(err, survey.ErrNotFound):
		return echo.ErrNotFound
	case errors.Is(err, survey.ErrCampaignNotOpen), errors.Is(err, survey.ErrCampaignClosed):
		return echo.NewHTTPError(http.StatusConflict, a.i18n.T(localeOf(c), "admin.mail.not_open", nil))
	}
	return err
}

// sendInvitations queues the campaign's invitations, records the batch and
// wakes the worker.
func (a *App) sendInvitations(c echo.Context) (*survey.Campaign, int, error) {
	cp, err := a.campaignOf(c)
	if err != nil {
		return nil, 0, err
	}
	ctx := c.Request().Context()
	n, err := outbox.QueueInvitations(ctx, a.db, cp.ID)
	if err != nil {
		return nil, 0, a.queueError(c, err)
	}
	if err := outbox.RecordMailing(ctx, a.db, cp.ID, outbox.MailInvite, viewerID(c), outbox.Batch{Queued: n}, ""); err != nil {
		return nil, 0, err
	}
	a.mail.Kick()
	return cp, n, nil
}

// sendReminders queues reminders, holding back people mailed within the
// cool-down unless a reason to override it is given, and records the batch.
func (a *App) sendReminders(c echo.Context, reason string) (*survey.Campaign, outbox.Batch, error) {
	cp, err := a.campaignOf(c)
	if err != nil {
		return nil, outbox.Batch{}, err
	}
	ctx := c.Request().Context()
	b, err := outbox.QueueReminders(ctx, a.db, cp.ID, reason)
	if err != nil {
		return nil, b, a.queueError(c, err)
	}
	if err := outbox.RecordMailing(ctx, a.db, cp.ID, outbox.MailReminder, viewerID(c), b, reason); err != nil {
		return nil, b, err
	}
	a.mail.Kick()
	return cp, b, nil
}

// viewerID is the signed-in user's (or API token owner's) id, 0 for none.
func viewerID(c echo.Context) int64 {
	if v := viewerOf(c); v != nil && v.User != nil {
		return v.ID
	}
	return 0
}

func (a *App) campaignInvite(c echo.Context) error {
	if !confirmed(c) {
		if _, err := a.campaignOf(c); err != nil { // another organisation's: not found, not asked about
			return err
		}
		return askFirst(c, "")
	}
	cp, n, err := a.sendInvitations(c)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("%s?notice=admin.mail.queued&n=%d", campaignPath(cp), n))
}

func (a *App) campaignRemind(c echo.Context) error {
	if !confirmed(c) {
		if _, err := a.campaignOf(c); err != nil {
			return err
		}
		return askFirst(c, "")
	}
	reason := strings.TrimSpace(c.FormValue("override_reason"))
	if c.FormValue("override") == "1" && reason == "" {
		return a.remindConfirm(c, http.StatusUnprocessableEntity, "", "confirm.remind.reason_required")
	}
	if len(reason) > 500 {
		return a.remindConfirm(c, http.StatusUnprocessableEntity, reason, "confirm.remind.reason_long")
	}
	cp, b, err := a.sendReminders(c, reason)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("%s?notice=admin.mail.queued&n=%d", campaignPath(cp), b.Queued))
}

// apiInvitations and apiReminders act at once: a program has asked.
// Reminders keep the cool-down; override_reason overrides it.
func (a *App) apiInvitations(c echo.Context) error {
	_, n, err := a.sendInvitations(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]int{"queued": n})
}

func (a *App) apiReminders(c echo.Context) error {
	reason := strings.TrimSpace(c.FormValue("override_reason"))
	if len(reason) > 500 {
		return echo.NewHTTPError(http.StatusBadRequest, "override_reason: at most 500 characters")
	}
	_, b, err := a.sendReminders(c, reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]int{"queued": b.Queued, "held_back": b.HeldBack})
}

type mailSettingsData struct {
	Previews []mailPreview
	Failed   []outbox.FailedMail // given-up mail by reason
	Campaign *survey.Campaign
	Settings outbox.MailSettings
	Days     string
	Errors   map[string]string
	Saved    bool
	CSRF     string
}

func (a *App) mailSettingsPage(c echo.Context) error {
	cp, err := a.campaignOf(c)
	if err != nil {
		return err
	}
	s, err := outbox.CampaignMailSettings(c.Request().Context(), a.db, cp.ID)
	if err != nil {
		return err
	}
	d := mailSettingsData{Campaign: cp, Settings: *s, Days: outbox.FormatReminderDays(s.ReminderDays), Saved: c.QueryParam("saved") != "", CSRF: csrfOf(c)}
	if d.Previews, err = a.mailPreviews(c, cp.ID); err != nil {
		return err
	}
	if d.Failed, err = outbox.CampaignFailedMail(c.Request().Context(), a.db, cp.ID); err != nil {
		return err
	}
	return a.render(c, http.StatusOK, "admin_mail", a.page(c, "admin.mail.title", d))
}

// mailPreview is how a mail will read, shown under the settings: its
// subject and sender, and the HTML part in a frame (mailPreviewHTML).
type mailPreview struct {
	Kind, Subject, From, Text string
}

// mailPreviews renders the invitation and reminder as a participant would get
// them in the admin's language, with an example name and a sample link.
func (a *App) mailPreviews(c echo.Context, campaignID int64) ([]mailPreview, error) {
	cm, err := a.mail.campaign(c.Request().Context(), campaignID)
	if err != nil {
		return nil, err
	}
	var out []mailPreview
	for _, kind := range []string{outbox.MailInvite, outbox.MailReminder} {
		job := outbox.Job{Kind: kind, Locale: localeOf(c), Name: "Alex Example", InvitationID: "preview-example"}
		v := a.mail.view(job, cm)
		var text bytes.Buffer
		if err := a.mail.text.Execute(&text, v); err != nil {
			return nil, err
		}
		out = append(out, mailPreview{Kind: kind, Subject: v.Subject, From: addressHeader(a.mail.senderName(cm.org), a.mail.from.Address), Text: text.String()})
	}
	return out, nil
}

// previewCSP lets the mail preview be framed by our own pages only, with
// its inline styles and nothing else: no script, no form, no request out
// (the frame is sandboxed as well).
const previewCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; object-src 'none'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox"

// mailPreviewHTML is the HTML part of a campaign's invitation or reminder
// exactly as the mailer writes it, for the frame on the mail settings
// page: an example participant in the admin's language, a sample link.
func (a *App) mailPreviewHTML(c echo.Context) error {
	cp, err := a.campaignOf(c)
	if err != nil {
		return err
	}
	kind := c.QueryParam("kind")
	if kind != outbox.MailInvite && kind != outbox.MailReminder {
		return echo.ErrNotFound
	}
	cm, err := a.mail.campaign(c.Request().Context(), cp.ID)
	if err != nil {
		return err
	}
	job := outbox.Job{Kind: kind, Locale: localeOf(c), Name: "Alex Example", InvitationID: "preview-example"}
	var html bytes.Buffer
	if err := a.mail.html.Execute(&html, a.mail.view(job, cm)); err != nil {
		return err
	}
	// X-Frame-Options stays DENY, for browsers too old for frame-ancestors:
	// those that know it follow it and ignore X-Frame-Options.
	c.Response().Header().Set("Content-Security-Policy", previewCSP)
	return c.HTMLBlob(http.StatusOK, html.Bytes())
}

func (a *App) mailSettingsSave(c echo.Context) error {
	cp, err := a.campaignOf(c)
	if err != nil {
		return err
	}
	d := mailSettingsData{Campaign: cp, CSRF: csrfOf(c), Days: c.FormValue("reminder_days"), Settings: outbox.MailSettings{
		InviteSubject: c.FormValue("invite_subject"), InviteIntro: c.FormValue("invite_intro"),
		ReminderSubject: c.FormValue("reminder_subject"), ReminderIntro: c.FormValue("reminder_intro"),
	}}
	days, derr := outbox.ParseReminderDays(d.Days)
	d.Settings.ReminderDays = days
	err = outbox.SaveMailSettings(c.Request().Context(), a.db, cp.ID, d.Settings)
	fe, isForm := formErrors(err)
	if derr != nil {
		if fe == nil {
			fe = map[string]string{}
		}
		fe["reminder_days"], isForm = "mail.error.reminder_days", true
	}
	if isForm {
		d.Errors = fe
		return a.render(c, http.StatusUnprocessableEntity, "admin_mail", a.page(c, "admin.mail.title", d))
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/campaigns/%d/mail?saved=1", cp.ID))
}

// queuePasswordMail queues a set-password mail for an address and wakes the
// worker. The worker writes the link when it sends (mailer.composePassword):
// the request neither waits for the mail server nor depends on it.
func (a *App) queuePasswordMail(c echo.Context, email string) error {
	if err := outbox.QueuePasswordMail(c.Request().Context(), a.db, email, localeOf(c)); err != nil {
		return err
	}
	a.mail.Kick()
	return nil
}
