package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"tiltline/survey"
	"tiltline/survey/outbox"
)

// Sending: invitations to everyone not yet invited, reminders to everyone
// who has not answered (and has not opted out), and the campaign's mail
// texts. The outbox worker does the sending; these only queue.

// queueMail runs a queueing function and wakes the worker.
func (a *App) queueMail(c echo.Context, queue func(context.Context, *survey.DB, int64) (int, error)) (int, error) {
	cp, err := a.campaignOf(c)
	if err != nil {
		return 0, err
	}
	n, err := queue(c.Request().Context(), a.db, cp.ID)
	switch {
	case errors.Is(err, survey.ErrNotFound):
		return 0, echo.ErrNotFound
	case errors.Is(err, survey.ErrCampaignNotOpen), errors.Is(err, survey.ErrCampaignClosed):
		return 0, echo.NewHTTPError(http.StatusConflict, a.i18n.T(localeOf(c), "admin.mail.not_open", nil))
	case err != nil:
		return 0, err
	}
	a.mail.Kick()
	return n, nil
}

func (a *App) campaignInvite(c echo.Context) error {
	n, err := a.queueMail(c, outbox.QueueInvitations)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/campaigns/%s?notice=admin.mail.queued&n=%d", c.Param("id"), n))
}

func (a *App) campaignRemind(c echo.Context) error {
	n, err := a.queueMail(c, outbox.QueueReminders)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/campaigns/%s?notice=admin.mail.queued&n=%d", c.Param("id"), n))
}

func (a *App) apiInvitations(c echo.Context) error {
	n, err := a.queueMail(c, outbox.QueueInvitations)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]int{"queued": n})
}

func (a *App) apiReminders(c echo.Context) error {
	n, err := a.queueMail(c, outbox.QueueReminders)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]int{"queued": n})
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

// mailPreview is how a mail will read, shown under the settings.
type mailPreview struct {
	Kind, Subject, Text string
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
		out = append(out, mailPreview{Kind: kind, Subject: v.Subject, Text: text.String()})
	}
	return out, nil
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
