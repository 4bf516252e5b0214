package server

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"tiltline/survey"
	"tiltline/survey/outbox"
)

// campaignOf loads the campaign in the URL, scoped to the viewer's
// organisation: another organisation's campaign is simply not found.
func (a *App) campaignOf(c echo.Context) (*survey.Campaign, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return nil, err
	}
	cp, err := survey.CampaignOf(c.Request().Context(), a.db, viewerOf(c).OrgID, id)
	if errors.Is(err, survey.ErrNotFound) {
		return nil, echo.ErrNotFound
	}
	return cp, err
}

type campaignForm struct {
	ID      int64
	Input   survey.CampaignInput
	Opens   string // as typed, so a bad date is shown back
	Closes  string
	Errors  map[string]string
	Locales []string
	CSRF    string
	// Weights as typed, by section id; empty means 1.
	Weights map[string]string
	// Sections lists the weight fields, in the model's order.
	Sections []weightField
	// KFloor is the smallest k allowed: 3 in draft, then the campaign's own
	// (Opened), which may only be raised.
	KFloor int
	Opened bool
}

type weightField struct {
	ID, Title, Value string
}

func (f campaignForm) HasLocale(l string) bool {
	for _, x := range f.Input.Locales {
		if x == l {
			return true
		}
	}
	return false
}

func dateString(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.DateOnly)
}

// campaignInput reads the form; date fields that do not parse are reported
// as field errors next to everything else.
func campaignInput(c echo.Context, m *survey.Model) (survey.CampaignInput, campaignForm) {
	f := campaignForm{Opens: strings.TrimSpace(c.FormValue("opens_at")), Closes: strings.TrimSpace(c.FormValue("closes_at")), Errors: map[string]string{}, Weights: map[string]string{}}
	in := survey.CampaignInput{
		Name: c.FormValue("name"), WaveLabel: c.FormValue("wave_label"),
		AskUnit: c.FormValue("ask_unit") == "on", AskRole: c.FormValue("ask_role") == "on", AskSenior: c.FormValue("ask_seniority") == "on",
		OpenLink: c.FormValue("open_link") == "on", ContactName: c.FormValue("contact_name"), ContactEmail: strings.TrimSpace(c.FormValue("contact_email")),
	}
	if form, err := c.FormParams(); err == nil {
		in.Locales = form["locales"]
	}
	in.Names = map[string]string{}
	for _, l := range survey.Locales {
		in.Names[l] = c.FormValue("name_" + l)
	}
	k, err := strconv.Atoi(strings.TrimSpace(c.FormValue("k_min")))
	if err != nil {
		f.Errors["k_min"] = "form.error.k_min"
		k = 5
	}
	in.KMin = k
	weights := map[string]float64{}
	for _, sec := range m.Sections {
		raw := c.FormValue("weight_" + sec.ID)
		f.Weights[sec.ID] = raw
		if w, ok := survey.ParseWeightField(raw); ok {
			weights[sec.ID] = w
		} else {
			f.Errors["weight_"+sec.ID] = "form.error.weight"
		}
	}
	in.SectionWeights = survey.FormatSectionWeights(weights)
	for _, d := range []struct {
		raw   string
		field string
		into  **time.Time
	}{{f.Opens, "opens_at", &in.OpensAt}, {f.Closes, "closes_at", &in.ClosesAt}} {
		if d.raw == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, d.raw)
		if err != nil {
			f.Errors[d.field] = "form.error.date"
			continue
		}
		if d.field == "closes_at" {
			t = t.Add(24*time.Hour - time.Second) // open until the end of that day
		}
		*d.into = &t
	}
	for field, msg := range in.Validate() { // every problem at once, typed dates included
		if _, ok := f.Errors[field]; !ok {
			f.Errors[field] = msg
		}
	}
	f.Input = in
	return in, f
}

func (a *App) renderCampaignForm(c echo.Context, status int, f campaignForm) error {
	f.Locales, f.CSRF = survey.Locales, csrfOf(c)
	f.KFloor = max(f.KFloor, survey.MinK)
	if f.Weights == nil { // a stored campaign: show its weights, 1 as empty
		f.Weights = map[string]string{}
		for id, w := range survey.ParseSectionWeights(f.Input.SectionWeights) {
			f.Weights[id] = strconv.FormatFloat(w, 'f', -1, 64)
		}
	}
	for _, sec := range a.models.Latest().Sections {
		f.Sections = append(f.Sections, weightField{ID: sec.ID, Title: sec.Title.In(localeOf(c)), Value: f.Weights[sec.ID]})
	}
	title := "admin.campaign.new"
	if f.ID != 0 {
		title = "admin.campaign.edit"
	}
	return a.render(c, status, "admin_campaign_form", a.page(c, title, f))
}

func (a *App) campaignNewPage(c echo.Context) error {
	return a.renderCampaignForm(c, http.StatusOK, campaignForm{Input: survey.CampaignInput{
		Name: "Customer management assessment", WaveLabel: strconv.Itoa(time.Now().Year()), Locales: survey.Locales, KMin: a.cfg.KMin,
		ContactName: viewerOf(c).Name, ContactEmail: viewerOf(c).Email,
	}})
}

func (a *App) campaignCreate(c echo.Context) error {
	in, f := campaignInput(c, a.models.Latest())
	if len(f.Errors) == 0 {
		cp, err := survey.CreateCampaign(c.Request().Context(), a.db, viewerOf(c).OrgID, a.models.Latest().Version, in)
		if err == nil {
			return c.Redirect(http.StatusSeeOther, "/admin/campaigns/"+strconv.FormatInt(cp.ID, 10))
		}
		fe, ok := formErrors(err)
		if !ok {
			return err
		}
		f.Errors = fe
	}
	return a.renderCampaignForm(c, http.StatusUnprocessableEntity, f)
}

func (a *App) campaignEditPage(c echo.Context) error {
	cp, err := a.campaignOf(c)
	if err != nil {
		return err
	}
	return a.renderCampaignForm(c, http.StatusOK, campaignForm{ID: cp.ID, Input: survey.InputOf(cp), Opens: dateString(cp.OpensAt), Closes: dateString(cp.ClosesAt), KFloor: cp.KFloor(), Opened: cp.Status != survey.StatusDraft})
}

func (a *App) campaignUpdate(c echo.Context) error {
	cp, err := a.campaignOf(c)
	if err != nil {
		return err
	}
	m, ok := a.models.Version(cp.ModelVersion)
	if !ok {
		m = a.models.Latest()
	}
	in, f := campaignInput(c, m)
	f.ID, f.KFloor, f.Opened = cp.ID, cp.KFloor(), cp.Status != survey.StatusDraft
	if _, bad := f.Errors["k_min"]; !bad && in.KMin < f.KFloor {
		f.Errors["k_min"] = "form.error.k_lowered" // with the form's other errors, at once
	}
	if len(f.Errors) == 0 {
		// A higher k on an open or closed campaign takes effect as a new
		// release: the current one was published under the old k.
		raised := cp.Status != survey.StatusDraft && in.KMin > cp.KMin
		err := survey.UpdateCampaign(c.Request().Context(), a.db, cp, in)
		if err == nil && raised {
			_, err = survey.PublishRelease(c.Request().Context(), a.db, a.cfg.Secret, cp.ID)
		}
		if err == nil {
			a.links.lru.Purge() // respondents see the change at once
			return c.Redirect(http.StatusSeeOther, "/admin/campaigns/"+strconv.FormatInt(cp.ID, 10))
		}
		fe, ok := formErrors(err)
		if !ok {
			return err
		}
		f.Errors = fe
	}
	return a.renderCampaignForm(c, http.StatusUnprocessableEntity, f)
}

type campaignPageData struct {
	Campaign     *survey.Campaign
	Participants int64
	Responses    int64
	Invited      int64
	Rates        []survey.UnitRate
	OpenURL      string
	Additions    []string // participants added after opening
	Mail         outbox.MailCounts
	// Mailings: the last batch of invitations and of reminders sent by
	// hand, and the last delivery of each.
	Mailings []outbox.Mailing
	// ToInvite counts participants not yet invited: while there are any,
	// sending invitations is the page's main action.
	ToInvite int
	// EmlDir is set when no SMTP server is configured: mail goes to files there.
	EmlDir  string
	Notice  string
	NoticeN string
	CSRF    string
}

func (a *App) campaignPage(c echo.Context) error {
	cp, err := a.campaignOf(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	d := campaignPageData{Campaign: cp, CSRF: csrfOf(c), NoticeN: c.QueryParam("n"), EmlDir: a.mail.emlDir}
	if n := c.QueryParam("notice"); strings.HasPrefix(n, "admin.") { // only our own messages
		d.Notice = n
	}
	if d.Mail, err = outbox.CampaignMailCounts(ctx, a.db, cp.ID); err != nil {
		return err
	}
	if d.Mailings, err = outbox.CampaignMailings(ctx, a.db, cp.ID); err != nil {
		return err
	}
	if cp.Status == survey.StatusOpen {
		p, err := outbox.PlanInvitations(ctx, a.db, cp.ID)
		if err != nil {
			return err
		}
		d.ToInvite = p.Total
	}
	a.db.Read.WithContext(ctx).Model(&survey.Participant{}).Where("campaign_id = ?", cp.ID).Count(&d.Participants)
	a.db.Read.WithContext(ctx).Model(&survey.Response{}).Where("campaign_id = ?", cp.ID).Count(&d.Responses)
	a.db.Read.WithContext(ctx).Model(&survey.Invitation{}).Where("campaign_id = ? AND status <> ?", cp.ID, survey.InvitePending).Count(&d.Invited)
	if d.Rates, err = survey.ResponseRates(ctx, a.db, cp); err != nil {
		return err
	}
	if cp.OpenLink && cp.OpenKey != nil {
		d.OpenURL = a.cfg.BaseURL + "/o/" + *cp.OpenKey
	}
	if d.Additions, err = a.additionLines(c, cp); err != nil {
		return err
	}
	return a.render(c, http.StatusOK, "admin_campaign", a.page(c, "admin.campaign.title", d))
}

func (a *App) campaignStatus(c echo.Context) error {
	cp, err := a.campaignOf(c)
	if err != nil {
		return err
	}
	if c.FormValue("status") == survey.StatusClosed && !confirmed(c) {
		return c.Redirect(http.StatusSeeOther, campaignPath(cp)+"/close")
	}
	err = survey.SetCampaignStatus(c.Request().Context(), a.db, cp, c.FormValue("status"))
	if errors.Is(err, survey.ErrBadTransition) {
		return echo.NewHTTPError(http.StatusConflict)
	}
	if err != nil {
		return err
	}
	a.links.lru.Purge()
	if cp.Status == survey.StatusClosed {
		// Closing publishes the final release: what it cannot take under
		// the rules stays held back, counted, never shown.
		if err := a.publishNow(c.Request().Context(), cp.ID); err != nil {
			return err
		}
	}
	a.contributeToPool(c, cp)
	return c.Redirect(http.StatusSeeOther, "/admin/campaigns/"+strconv.FormatInt(cp.ID, 10))
}

// campaignCopy starts the next wave with the same participants and settings.
func (a *App) campaignCopy(c echo.Context) error {
	cp, err := a.campaignOf(c)
	if err != nil {
		return err
	}
	wave := strings.TrimSpace(c.FormValue("wave_label"))
	if wave == "" {
		wave = strconv.Itoa(time.Now().Year())
	}
	next, err := survey.CopyCampaign(c.Request().Context(), a.db, a.cfg.Secret, cp, a.models.Latest().Version, "", wave)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/campaigns/"+strconv.FormatInt(next.ID, 10))
}
