package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"tiltline/survey"
	"tiltline/survey/outbox"
)

// Nothing irreversible happens on one click. Each such action is a POST
// that acts only with confirmed=1; without it, it sends the browser to a
// page (the same path, GET) saying what will happen, with counts, whose
// form posts again with confirmed=1. It works without JavaScript, and a
// stale page or a double click cannot skip the question.

// confirmData is the confirmation page.
type confirmData struct {
	Heading string
	Lines   []string // what will happen, in sentences
	Action  string   // where the confirm button posts
	Fields  map[string]string
	Button  string // "" when there is nothing to do: only the way back is shown
	Danger  bool
	Back    string
	// Override, for reminders held back by the cool-down: a second form
	// that sends to them too, with the reason it asks for.
	Override *overrideForm
	CSRF     string
}

type overrideForm struct {
	Intro, Label, Button string
	Value, Error         string
}

// confirmed is true when the form was sent from a confirmation page.
func confirmed(c echo.Context) bool { return c.FormValue("confirmed") == "1" }

// askFirst answers a POST that was not confirmed: to the question, by GET.
func askFirst(c echo.Context, query string) error {
	u := c.Request().URL.Path
	if query != "" {
		u += "?" + query
	}
	return c.Redirect(http.StatusSeeOther, u)
}

func (a *App) renderConfirm(c echo.Context, status int, d confirmData) error {
	d.CSRF = csrfOf(c)
	c.Response().Header().Set("Cache-Control", "no-store")
	return a.render(c, status, "admin_confirm", &Page{Lang: localeOf(c), Title: d.Heading, Path: c.Request().URL.Path,
		RequestID: c.Response().Header().Get(echo.HeaderXRequestID), Data: d, Viewer: viewerOf(c), tr: a.i18n})
}

// num writes a count as the language does: 2,862 · 2.862 · 2 862.
func num(lang string, n int) string {
	return message.NewPrinter(language.Make(lang)).Sprintf("%d", n)
}

// Num is num for templates.
func (p *Page) Num(n int) string { return num(p.Lang, n) }

// languageList names languages as a sentence does: "English, German and French".
func (a *App) languageList(lang string, codes []string) string {
	names := make([]string, len(codes))
	for i, l := range codes {
		names[i] = a.langInSentence(lang, l)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " " + a.i18n.T(lang, "confirm.and", nil) + " " + names[len(names)-1]
}

// langInSentence names a language inside a sentence: French writes it
// lower-case there ("en anglais"), where a label has "Anglais".
func (a *App) langInSentence(lang, code string) string {
	name := a.i18n.T(lang, "lang."+code, nil)
	if lang == "fr" {
		return strings.ToLower(name)
	}
	return name
}

// planLines are a plan's counts per language: "German: 1,204".
func (a *App) planLines(lang string, p outbox.Plan) string {
	parts := make([]string, len(p.ByLocale))
	for i, lc := range p.ByLocale {
		parts[i] = a.i18n.T(lang, "lang."+lc.Locale, nil) + ": " + num(lang, lc.N)
	}
	return strings.Join(parts, " · ")
}

func campaignPath(cp *survey.Campaign) string {
	return "/admin/campaigns/" + strconv.FormatInt(cp.ID, 10)
}

// campaignInviteConfirm asks before invitations go out.
func (a *App) campaignInviteConfirm(c echo.Context) error {
	cp, err := a.campaignOf(c)
	if err != nil {
		return err
	}
	l := localeOf(c)
	d := confirmData{Heading: a.i18n.T(l, "confirm.invite.heading", nil), Action: campaignPath(cp) + "/invite", Back: campaignPath(cp)}
	if err := outbox.Mailable(cp, time.Now()); err != nil {
		d.Lines = []string{a.i18n.T(l, "admin.mail.not_open", nil)}
		return a.renderConfirm(c, http.StatusOK, d)
	}
	p, err := outbox.PlanInvitations(c.Request().Context(), a.db, cp.ID)
	if err != nil {
		return err
	}
	if p.Total == 0 {
		d.Lines = []string{a.i18n.T(l, "confirm.invite.none", nil)}
		return a.renderConfirm(c, http.StatusOK, d)
	}
	d.Heading = a.i18n.T(l, oneOr(p.Total, "confirm.invite.question"), map[string]any{"N": num(l, p.Total), "Langs": a.languageList(l, p.Locales())})
	d.Lines = []string{a.planLines(l, p), a.i18n.T(l, "confirm.invite.body", nil)}
	d.Button = a.i18n.T(l, "confirm.invite.button", map[string]any{"N": num(l, p.Total)})
	return a.renderConfirm(c, http.StatusOK, d)
}

// campaignRemindConfirm asks before reminders go out, and offers to send to
// the people the cool-down holds back, with a reason.
func (a *App) campaignRemindConfirm(c echo.Context) error {
	return a.remindConfirm(c, http.StatusOK, "", "")
}

func (a *App) remindConfirm(c echo.Context, status int, reason, reasonErr string) error {
	cp, err := a.campaignOf(c)
	if err != nil {
		return err
	}
	l := localeOf(c)
	d := confirmData{Heading: a.i18n.T(l, "confirm.remind.heading", nil), Action: campaignPath(cp) + "/remind", Back: campaignPath(cp)}
	if err := outbox.Mailable(cp, time.Now()); err != nil {
		d.Lines = []string{a.i18n.T(l, "admin.mail.not_open", nil)}
		return a.renderConfirm(c, status, d)
	}
	p, err := outbox.PlanReminders(c.Request().Context(), a.db, cp.ID, time.Now())
	if err != nil {
		return err
	}
	hours := int(outbox.ReminderCooldown / time.Hour)
	if p.Total == 0 {
		d.Lines = []string{a.i18n.T(l, "confirm.remind.none", nil)}
	} else {
		d.Heading = a.i18n.T(l, oneOr(p.Total, "confirm.remind.question"), map[string]any{"N": num(l, p.Total), "Langs": a.languageList(l, p.Locales())})
		d.Lines = []string{a.planLines(l, p), a.i18n.T(l, "confirm.remind.body", nil)}
		d.Button = a.i18n.T(l, "confirm.remind.button", map[string]any{"N": num(l, p.Total)})
	}
	if p.HeldBack > 0 {
		d.Lines = append(d.Lines, a.i18n.T(l, "confirm.remind.held", map[string]any{"N": num(l, p.HeldBack), "Hours": hours}))
		d.Override = &overrideForm{
			Intro: a.i18n.T(l, "confirm.remind.override_intro", nil), Label: a.i18n.T(l, "confirm.remind.reason", map[string]any{"Hours": hours}),
			Button: a.i18n.T(l, "confirm.remind.override", map[string]any{"N": num(l, p.Total+p.HeldBack)}),
			Value:  reason, Error: reasonErr,
		}
	}
	return a.renderConfirm(c, status, d)
}

// campaignCloseConfirm asks before a campaign closes.
func (a *App) campaignCloseConfirm(c echo.Context) error {
	cp, err := a.campaignOf(c)
	if err != nil {
		return err
	}
	if cp.Status != survey.StatusOpen {
		return c.Redirect(http.StatusSeeOther, campaignPath(cp))
	}
	ctx := c.Request().Context()
	l := localeOf(c)
	var responses int64
	if err := a.db.Read.WithContext(ctx).Model(&survey.Response{}).Where("campaign_id = ?", cp.ID).Count(&responses).Error; err != nil {
		return err
	}
	mc, err := outbox.CampaignMailCounts(ctx, a.db, cp.ID)
	if err != nil {
		return err
	}
	return a.renderConfirm(c, http.StatusOK, confirmData{
		Heading: a.i18n.T(l, "confirm.close.question", map[string]any{"Name": cp.Name}),
		Lines: []string{
			a.i18n.T(l, "confirm.close.responses", map[string]any{"N": num(l, int(responses))}),
			a.i18n.T(l, "confirm.close.mail", map[string]any{"N": num(l, mc.Waiting)}),
			a.i18n.T(l, "confirm.close.reopen", nil),
		},
		Action: campaignPath(cp) + "/status", Fields: map[string]string{"status": survey.StatusClosed},
		Button: a.i18n.T(l, "admin.campaign.close", nil), Danger: true, Back: campaignPath(cp),
	})
}

// unitDeleteConfirm asks before a unit is deleted.
func (a *App) unitDeleteConfirm(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var u survey.BusinessUnit
	if err := a.db.Read.WithContext(ctx).Where("id = ? AND organisation_id = ?", id, viewerOf(c).OrgID).Take(&u).Error; err != nil {
		return echo.ErrNotFound
	}
	var people, managers int64
	a.db.Read.WithContext(ctx).Model(&survey.Participant{}).Where("unit_id = ?", id).Count(&people)
	a.db.Read.WithContext(ctx).Table("manager_units").Where("unit_id = ?", id).Count(&managers)
	l := localeOf(c)
	return a.renderConfirm(c, http.StatusOK, confirmData{
		Heading: a.i18n.T(l, "confirm.unit.question", map[string]any{"Name": u.Name}),
		Lines: []string{
			a.i18n.T(l, "confirm.unit.participants", map[string]any{"N": num(l, int(people))}),
			a.i18n.T(l, "confirm.unit.managers", map[string]any{"N": num(l, int(managers))}),
		},
		Action: fmt.Sprintf("/admin/units/%d/delete", id), Button: a.i18n.T(l, "confirm.delete", nil), Danger: true, Back: "/admin/units",
	})
}

// userDeleteConfirm asks before an account is deleted.
func (a *App) userDeleteConfirm(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var u survey.User
	if err := a.db.Read.WithContext(c.Request().Context()).Where("id = ? AND organisation_id = ?", id, viewerOf(c).OrgID).Take(&u).Error; err != nil {
		return echo.ErrNotFound
	}
	l := localeOf(c)
	d := confirmData{
		Heading: a.i18n.T(l, "confirm.user.question", map[string]any{"Name": cmpName(u.Name, u.Email)}),
		Lines: []string{a.i18n.T(l, "confirm.user.body", map[string]any{"Email": u.Email, "Role": a.i18n.T(l, "role."+u.Role, nil)}),
			a.i18n.T(l, "confirm.user.results", nil)},
		Action: fmt.Sprintf("/admin/users/%d/delete", id), Button: a.i18n.T(l, "confirm.delete", nil), Danger: true, Back: "/admin/users",
	}
	if id == viewerOf(c).ID {
		d.Lines, d.Button = []string{a.i18n.T(l, "confirm.user.self", nil)}, ""
	}
	return a.renderConfirm(c, http.StatusOK, d)
}

// participantDeleteConfirm asks before a participant is removed.
func (a *App) participantDeleteConfirm(c echo.Context) error {
	cp, err := a.campaignOf(c)
	if err != nil {
		return err
	}
	pid, err := idParam(c, "pid")
	if err != nil {
		return err
	}
	var p survey.Participant
	if err := a.db.Read.WithContext(c.Request().Context()).Where("id = ? AND campaign_id = ?", pid, cp.ID).Take(&p).Error; err != nil {
		return echo.ErrNotFound
	}
	l := localeOf(c)
	back := campaignPath(cp) + "/participants"
	return a.renderConfirm(c, http.StatusOK, confirmData{
		Heading: a.i18n.T(l, "confirm.participant.question", map[string]any{"Name": cmpName(p.Name, p.Email), "Campaign": cp.Name}),
		Lines:   []string{a.i18n.T(l, "confirm.participant.body", map[string]any{"Email": p.Email}), a.i18n.T(l, "confirm.participant.answers", nil)},
		Action:  fmt.Sprintf("%s/%d/delete", back, pid), Button: a.i18n.T(l, "confirm.delete", nil), Danger: true, Back: back,
	})
}

// oneOr picks the message for exactly one ("…_one") when n is 1.
func oneOr(n int, id string) string {
	if n == 1 {
		return id + "_one"
	}
	return id
}

// cmpName is a person's name, or their address when the name is empty.
func cmpName(name, email string) string {
	if strings.TrimSpace(name) != "" {
		return name
	}
	return email
}
