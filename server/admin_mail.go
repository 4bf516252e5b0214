package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
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
	// PreviewLang is the language the previews are in; PreviewLangs the
	// campaign's languages, to switch it.
	PreviewLang  string
	PreviewLangs []string
	Failed       []outbox.FailedMail // given-up mail by reason
	Campaign     *survey.Campaign
	Langs        []mailLangForm
	Days         string
	Errors       map[string]string
	Saved        bool
	CSRF         string
}

// mailLangForm is one language's texts on the mail settings page.
type mailLangForm struct {
	Locale string
	Fields []mailTextField
}

// mailTextField is one text in one language: what was written (or typed,
// when the form comes back), and the built-in wording an empty one stands
// for, shown as its placeholder.
type mailTextField struct {
	Name, Label, Value, Placeholder, Error string
	Subject                                bool
	Max                                    int
}

// mailLangForms lays out the texts of the campaign's languages; errs are
// SaveMailSettings' field errors (nil for none).
func (a *App) mailLangForms(ctx context.Context, cp *survey.Campaign, texts map[string]outbox.MailTexts, errs map[string]string) ([]mailLangForm, error) {
	cm, err := a.mail.campaign(ctx, cp.ID)
	if err != nil {
		return nil, err
	}
	var out []mailLangForm
	for _, l := range outbox.CampaignLocales(cp) {
		own, def := texts[l], a.mail.defaultTexts(cm, l)
		lf := mailLangForm{Locale: l}
		for _, f := range outbox.TextFields {
			name := outbox.TextField(f, l)
			tf := mailTextField{Name: name, Label: "admin.mail.field." + f, Value: *own.Field(f), Placeholder: *def.Field(f),
				Error: errs[name], Subject: outbox.Subject(f), Max: outbox.MaxIntro}
			if tf.Subject {
				tf.Max = outbox.MaxSubject
			}
			lf.Fields = append(lf.Fields, tf)
		}
		out = append(out, lf)
	}
	return out, nil
}

// previewLang is the language the previews are shown in: the one asked for
// (?preview=de) when the campaign has it, else the admin's, else the
// campaign's first.
func previewLang(c echo.Context, cp *survey.Campaign) string {
	ls := outbox.CampaignLocales(cp)
	for _, want := range []string{c.QueryParam("preview"), localeOf(c)} {
		if slices.Contains(ls, want) {
			return want
		}
	}
	return ls[0]
}

func (a *App) mailSettingsPage(c echo.Context) error {
	cp, err := a.campaignOf(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	s, err := outbox.CampaignMailSettings(ctx, a.db, cp.ID)
	if err != nil {
		return err
	}
	d := mailSettingsData{Campaign: cp, Days: outbox.FormatReminderDays(s.ReminderDays), Saved: c.QueryParam("saved") != "", CSRF: csrfOf(c),
		PreviewLang: previewLang(c, cp), PreviewLangs: outbox.CampaignLocales(cp)}
	if d.Langs, err = a.mailLangForms(ctx, cp, s.Texts, nil); err != nil {
		return err
	}
	if d.Previews, err = a.mailPreviews(c, cp.ID, d.PreviewLang); err != nil {
		return err
	}
	if d.Failed, err = outbox.CampaignFailedMail(ctx, a.db, cp.ID); err != nil {
		return err
	}
	return a.render(c, http.StatusOK, "admin_mail", a.page(c, "admin.mail.title", d))
}

// mailPreview is how a mail will read, shown under the settings: its
// subject and sender, and the HTML part in a frame (mailPreviewHTML).
type mailPreview struct {
	Kind, Subject, From, Text string
}

// previewJob is the example participant of the previews, in a language.
func previewJob(kind, lang string) outbox.Job {
	return outbox.Job{Kind: kind, Locale: lang, Name: "Alex Example", InvitationID: "preview-example"}
}

// mailPreviews renders the invitation and reminder as a participant would get
// them in the language given, with an example name and a sample link.
func (a *App) mailPreviews(c echo.Context, campaignID int64, lang string) ([]mailPreview, error) {
	cm, err := a.mail.campaign(c.Request().Context(), campaignID)
	if err != nil {
		return nil, err
	}
	var out []mailPreview
	for _, kind := range []string{outbox.MailInvite, outbox.MailReminder} {
		v := a.mail.view(previewJob(kind, lang), cm)
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
// page: an example participant in the language asked for (?preview=de), a
// sample link.
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
	var html bytes.Buffer
	if err := a.mail.html.Execute(&html, a.mail.view(previewJob(kind, previewLang(c, cp)), cm)); err != nil {
		return err
	}
	// X-Frame-Options stays DENY, for browsers too old for frame-ancestors:
	// those that know it follow it and ignore X-Frame-Options.
	c.Response().Header().Set("Content-Security-Policy", previewCSP)
	return c.HTMLBlob(http.StatusOK, html.Bytes())
}

// mailSettingsSave stores the texts of the campaign's languages and the
// schedule. A refusal shows the form again with everything as typed and
// each error next to its field, in its language.
func (a *App) mailSettingsSave(c echo.Context) error {
	cp, err := a.campaignOf(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	d := mailSettingsData{Campaign: cp, CSRF: csrfOf(c), Days: c.FormValue("reminder_days")}
	s := outbox.MailSettings{Texts: map[string]outbox.MailTexts{}}
	for _, l := range outbox.CampaignLocales(cp) {
		var t outbox.MailTexts
		for _, f := range outbox.TextFields {
			*t.Field(f) = c.FormValue(outbox.TextField(f, l))
		}
		s.Texts[l] = t
	}
	days, derr := outbox.ParseReminderDays(d.Days)
	s.ReminderDays = days
	typed := maps.Clone(s.Texts) // SaveMailSettings tidies its copy; the form shows what was typed
	err = outbox.SaveMailSettings(ctx, a.db, cp.ID, s)
	fe, isForm := formErrors(err)
	if derr != nil {
		if fe == nil {
			fe = map[string]string{}
		}
		fe["reminder_days"], isForm = "mail.error.reminder_days", true
	}
	if isForm {
		d.Errors = fe
		if d.Langs, err = a.mailLangForms(ctx, cp, typed, fe); err != nil {
			return err
		}
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
