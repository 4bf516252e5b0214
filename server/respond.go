package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"tiltline/survey"
)

// The respondent flow. Everything hangs off one key: the link token (/s/…)
// or, for open-link campaigns, a random token in a cookie (/o/…). Handlers
// never log either; the request log carries the route pattern only.

const respondentKey = "respondent"

// respondentCtx is what the resolve middleware hands to the flow's handlers.
type respondentCtx struct {
	*survey.Respondent
	Model *survey.Model
	Base  string // "/s/TOKEN" or "/o/KEY": prefix of every flow URL
	CSRF  string
	// state is the error that ends the flow early: already submitted, closed, not open.
	state error
}

func respondentOf(c echo.Context) *respondentCtx { return c.Get(respondentKey).(*respondentCtx) }

// resolveInvitation finds the respondent of a link token.
func (a *App) resolveInvitation(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		token := c.Param("token")
		r, err := a.links.resolve(c.Request().Context(), token)
		return a.enterFlow(c, next, r, err, "/s/"+token)
	}
}

// openCookie holds an open-link respondent's token, scoped to its campaign's
// path; after submit it holds the campaign's signed "submitted" marker
// (openDone) for a year, and the browser gets the thank-you page instead of
// a fresh survey. Dropping the cookie starts afresh: the per-address limit
// (openLimits) is what bounds that.
const openCookie = "tl_open"

// openDone is the submitted marker of a campaign: a MAC, so it is this
// server's and this campaign's, and the same for every browser (it names
// no one).
func (a *App) openDone(campaignID int64) string {
	m := hmac.New(sha256.New, a.cfg.Secret)
	fmt.Fprintf(m, "open-submitted:%d", campaignID)
	return "done." + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// resolveOpen finds (or starts) the respondent of an open-link campaign.
func (a *App) resolveOpen(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		key := c.Param("key")
		camp, err := survey.FindOpenCampaign(c.Request().Context(), a.db, key)
		if err != nil {
			return a.enterFlow(c, next, nil, err, "")
		}
		base := "/o/" + key
		token := ""
		r := &survey.Respondent{Campaign: camp}
		if ck, err := c.Cookie(openCookie); err == nil {
			if hmac.Equal([]byte(ck.Value), []byte(a.openDone(camp.ID))) {
				return a.enterFlow(c, next, r, survey.ErrAlreadySubmitted, base)
			}
			if survey.WellFormedToken(ck.Value) {
				token = ck.Value
			}
		}
		if token == "" {
			token = survey.NewOpenToken()
			c.SetCookie(&http.Cookie{Name: openCookie, Value: token, Path: base, MaxAge: 90 * 24 * 3600,
				HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: a.secureCookies(c)})
		}
		r.DraftKey = survey.DraftKey(a.cfg.Secret, "open:"+token)
		return a.enterFlow(c, next, r, nil, base)
	}
}

func (a *App) enterFlow(c echo.Context, next echo.HandlerFunc, r *survey.Respondent, err error, base string) error {
	if errors.Is(err, survey.ErrNotFound) {
		return echo.ErrNotFound
	}
	if err != nil && !errors.Is(err, survey.ErrAlreadySubmitted) {
		return err
	}
	m, ok := a.models.Version(r.Campaign.ModelVersion)
	if !ok {
		return fmt.Errorf("campaign %d pins unknown model version %d", r.Campaign.ID, r.Campaign.ModelVersion)
	}
	rc := &respondentCtx{Respondent: r, Model: m, Base: base, CSRF: a.csrfToken(r.DraftKey), state: err}
	if rc.state == nil {
		rc.state = r.Campaign.Answerable(time.Now())
	}
	c.Set(respondentKey, rc)
	c.Response().Header().Set("Cache-Control", "no-store")
	if rc.state != nil {
		return a.flowEnded(c, rc)
	}
	if c.Request().Method != http.MethodGet && !sameOrigin(c) {
		return echo.NewHTTPError(http.StatusForbidden, "cross-site request refused")
	}
	return next(c)
}

// flowEnded answers every request of a finished, closed or unopened survey.
func (a *App) flowEnded(c echo.Context, rc *respondentCtx) error {
	key, status := "survey.submitted", http.StatusConflict
	switch {
	case errors.Is(rc.state, survey.ErrCampaignClosed):
		key, status = "survey.closed", http.StatusGone
	case errors.Is(rc.state, survey.ErrCampaignNotOpen):
		key, status = "survey.not_open", http.StatusConflict
	}
	if c.Request().Method == http.MethodPut {
		return echo.NewHTTPError(status, a.i18n.T(localeOf(c), key+".title", nil))
	}
	if c.Request().Method == http.MethodPost && errors.Is(rc.state, survey.ErrAlreadySubmitted) {
		// A second click on "submit" lands on the thank-you page, not an error.
		return c.Redirect(http.StatusSeeOther, rc.Base+"/thanks")
	}
	if errors.Is(rc.state, survey.ErrAlreadySubmitted) && strings.HasSuffix(c.Path(), "/thanks") {
		return a.renderThanks(c, rc)
	}
	return a.surveyNotice(c, key, rc.Campaign)
}

// sameOrigin refuses cross-site writes. Browsers send Sec-Fetch-Site; older
// ones send Origin. The link token in the URL already keeps forgers out of
// invitation links; this covers open links, whose key is a cookie.
func sameOrigin(c echo.Context) bool {
	h := c.Request().Header
	switch h.Get("Sec-Fetch-Site") {
	case "same-origin", "none", "":
	default:
		return false
	}
	if o := h.Get("Origin"); o != "" && o != "null" {
		return o == c.Scheme()+"://"+c.Request().Host
	}
	return true
}

// csrfToken is derived from the draft key: stateless, no cookie needed, and
// different for every respondent.
func (a *App) csrfToken(draftKey string) string {
	m := hmac.New(sha256.New, a.cfg.Secret)
	m.Write([]byte("csrf:" + draftKey))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

func (a *App) checkCSRF(c echo.Context, rc *respondentCtx) error {
	if !hmac.Equal([]byte(csrfSent(c)), []byte(rc.CSRF)) {
		return echo.NewHTTPError(http.StatusForbidden, a.i18n.T(localeOf(c), "survey.error.expired", nil))
	}
	return nil
}

// surveyStart is the link itself: the welcome page the first time, else
// straight back to the first page with something left to answer.
func (a *App) surveyStart(c echo.Context) error {
	rc := respondentOf(c)
	d, err := survey.LoadDraft(c.Request().Context(), a.db, rc.DraftKey)
	if errors.Is(err, survey.ErrNoDraft) {
		return a.renderWelcome(c, rc, nil, survey.Profile{})
	}
	if err != nil {
		return err
	}
	target := rc.Base + "/review"
	if page := rc.Model.ProgressOf(d.Answers).FirstOpen() + 1; page > 0 {
		target = rc.Base + "/p/" + strconv.Itoa(page)
	}
	// On a new device the language chosen earlier follows the respondent,
	// unless this browser already made its own choice.
	if _, err := c.Cookie(langCookie); err != nil && c.QueryParam("lang") == "" && supported(d.Locale) != "" {
		target += "?lang=" + d.Locale
	}
	return c.Redirect(http.StatusSeeOther, target)
}

type welcomeData struct {
	*respondentCtx
	AskUnit, AskRole, AskSeniority bool
	Units                          []survey.BusinessUnit
	Profile                        survey.Profile
	Errors                         map[string]string
	Minutes                        int
}

func (a *App) renderWelcome(c echo.Context, rc *respondentCtx, errs map[string]string, prof survey.Profile) error {
	d := welcomeData{respondentCtx: rc, Errors: errs, Profile: prof}
	d.AskUnit, d.AskRole, d.AskSeniority = rc.Asks()
	if d.AskUnit {
		units, err := survey.Units(c.Request().Context(), a.db, rc.Campaign.OrganisationID)
		if err != nil {
			return err
		}
		d.Units = units
		d.AskUnit = len(units) > 0
	}
	d.Minutes = estimateMinutes(rc.Model.AnswerSlots())
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusUnprocessableEntity
	}
	p, err := a.respondentPage(c, rc.Campaign, "survey.welcome.title", d)
	if err != nil {
		return err
	}
	return a.render(c, status, "welcome", p)
}

// secondsPerRating is what one rating takes: a statement of some 25 words
// read once for two ratings (about 6 s at 250 words a minute) and a tap
// for each (about 3 s with its look at the row).
const secondsPerRating = 6

// minutesFor is the time left for a number of ratings, in whole minutes
// rounded up.
func minutesFor(slots int) int { return (slots*secondsPerRating + 59) / 60 }

// estimateMinutes is the one time estimate the home page, the welcome page
// and the mails give for a whole survey: minutesFor rounded to five
// minutes, since it is a promise about a person, not a measurement.
func estimateMinutes(slots int) int {
	m := (minutesFor(slots) + 2) / 5 * 5
	if m < 5 {
		m = 5
	}
	return m
}

// surveyBegin takes the welcome form: the profile questions, if any.
func (a *App) surveyBegin(c echo.Context) error {
	rc := respondentOf(c)
	if err := a.checkCSRF(c, rc); err != nil {
		return err
	}
	prof := rc.Prefilled()
	askUnit, askRole, askSeniority := rc.Asks()
	errs := map[string]string{}
	if askUnit {
		prof.UnitID = nil
		if v := c.FormValue("unit"); v != "" {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				errs["unit"] = "survey.profile.invalid"
			} else {
				prof.UnitID = &id
			}
		}
	}
	if askRole {
		if prof.Role = c.FormValue("role"); prof.Role != "" && !rc.Model.HasRole(prof.Role) {
			errs["role"] = "survey.profile.invalid"
		}
	}
	if askSeniority {
		if prof.Seniority = c.FormValue("seniority"); prof.Seniority != "" && !rc.Model.HasSeniority(prof.Seniority) {
			errs["seniority"] = "survey.profile.invalid"
		}
	}
	prof.Locale = localeOf(c)
	if len(errs) > 0 {
		return a.renderWelcome(c, rc, errs, prof)
	}
	isNew := false
	if rc.Invitation == nil { // a second welcome form only changes the profile: not another start
		_, err := survey.LoadDraft(c.Request().Context(), a.db, rc.DraftKey)
		if isNew = errors.Is(err, survey.ErrNoDraft); err != nil && !isNew {
			return err
		}
	}
	_, err := a.startDraft(c, rc, prof, isNew)
	if errors.Is(err, survey.ErrInvalidProfile) {
		return a.renderWelcome(c, rc, map[string]string{"unit": "survey.profile.invalid"}, prof)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, rc.Base+"/p/1")
}

// startDraft starts (or updates) the respondent's draft; a new one on an
// open link first takes one of the address's starts for the day.
func (a *App) startDraft(c echo.Context, rc *respondentCtx, prof survey.Profile, isNew bool) (*survey.Draft, error) {
	if isNew {
		if err := a.openLimit(c, rc, "start"); err != nil {
			return nil, err
		}
	}
	return survey.StartDraft(c.Request().Context(), a.db, rc.Model, rc.Respondent, prof)
}

// draftOrStart loads the draft; a respondent who skipped the welcome page
// (a bookmarked page URL) gets one started with the prefilled profile.
func (a *App) draftOrStart(c echo.Context, rc *respondentCtx) (*survey.Draft, error) {
	d, err := survey.LoadDraft(c.Request().Context(), a.db, rc.DraftKey)
	if errors.Is(err, survey.ErrNoDraft) {
		prof := rc.Prefilled()
		prof.Locale = localeOf(c)
		return a.startDraft(c, rc, prof, true)
	}
	return d, err
}

func pageParam(c echo.Context, m *survey.Model) (int, bool) {
	n, err := strconv.Atoi(c.Param("page"))
	return n, err == nil && n >= 1 && n <= len(m.Sections)
}

// surveySection shows one section with the respondent's answers checked.
func (a *App) surveySection(c echo.Context) error {
	rc := respondentOf(c)
	n, ok := pageParam(c, rc.Model)
	if !ok {
		return echo.ErrNotFound
	}
	d, err := a.draftOrStart(c, rc)
	if err != nil {
		return err
	}
	if d.Locale != localeOf(c) { // a language switch: the response and a resume follow it
		if err := survey.SetDraftLocale(c.Request().Context(), a.db, d.Key, localeOf(c)); err != nil {
			return err
		}
	}
	return a.renderSection(c, rc, n, d.Answers)
}

// surveySavePage is the no-JavaScript path: the page's form posts every
// checked choice, which is saved before moving on.
func (a *App) surveySavePage(c echo.Context) error {
	rc := respondentOf(c)
	n, ok := pageParam(c, rc.Model)
	if !ok {
		return echo.ErrNotFound
	}
	if err := a.checkCSRF(c, rc); err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest)
	}
	var answers []survey.Answer
	for _, p := range rc.Model.Sections[n-1].Practices() {
		for _, dim := range survey.Dimensions {
			v := form.Get(p.ID + "." + dim)
			if v == "" {
				continue
			}
			var lv survey.AnswerValue
			if err := lv.UnmarshalText([]byte(v)); err != nil {
				return echo.NewHTTPError(http.StatusBadRequest, err.Error())
			}
			answers = append(answers, survey.Answer{Practice: p.ID, Dimension: dim, Level: lv})
		}
	}
	// The save finds the draft itself: only a respondent without one (a
	// bookmarked page) costs a read and a start first.
	if len(answers) > 0 {
		slots, err := rc.Model.Slots(answers)
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, err.Error())
		}
		err = a.saver.Save(c.Request().Context(), rc.DraftKey, slots)
		if errors.Is(err, survey.ErrNoDraft) {
			if _, err = a.draftOrStart(c, rc); err == nil {
				err = a.saver.Save(c.Request().Context(), rc.DraftKey, slots)
			}
		}
		if err != nil {
			return err
		}
	} else if _, err := a.draftOrStart(c, rc); err != nil {
		return err
	}
	next := n + 1
	switch c.FormValue("go") {
	case "prev":
		next = n - 1
	case "review":
		next = len(rc.Model.Sections) + 1
	}
	if next < 1 {
		return c.Redirect(http.StatusSeeOther, rc.Base+"/p/1")
	}
	if next > len(rc.Model.Sections) {
		return c.Redirect(http.StatusSeeOther, rc.Base+"/review")
	}
	return c.Redirect(http.StatusSeeOther, rc.Base+"/p/"+strconv.Itoa(next))
}

// maxAutosaveBody bounds one autosave request: a whole section's answers fit
// in a few kilobytes.
const maxAutosaveBody = 64 << 10

// surveyAutosave is PUT …/answers: one answer or a list, acknowledged with
// 204 only once committed.
func (a *App) surveyAutosave(c echo.Context) error {
	rc := respondentOf(c)
	if err := a.checkCSRF(c, rc); err != nil {
		return err
	}
	if mt, _, _ := mime.ParseMediaType(c.Request().Header.Get("Content-Type")); mt != "application/json" {
		return echo.NewHTTPError(http.StatusUnsupportedMediaType, "send application/json")
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxAutosaveBody))
	if err != nil {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "too many answers in one request")
	}
	answers, err := survey.ParseAnswers(body)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	slots, err := rc.Model.Slots(answers)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	err = a.saver.Save(c.Request().Context(), rc.DraftKey, slots)
	if errors.Is(err, survey.ErrNoDraft) {
		if _, err = a.draftOrStart(c, rc); err == nil {
			err = a.saver.Save(c.Request().Context(), rc.DraftKey, slots)
		}
	}
	if he := (*echo.HTTPError)(nil); errors.As(err, &he) {
		return err // the open link's limit, not the storage
	}
	if err != nil {
		return a.unavailable(err)
	}
	return c.NoContent(http.StatusNoContent)
}

// unavailable maps a storage failure to 503, which the page's script retries.
func (a *App) unavailable(err error) error {
	return &echo.HTTPError{Code: http.StatusServiceUnavailable, Message: "storage unavailable, retry", Internal: err}
}

type reviewData struct {
	*respondentCtx
	Progress     survey.Progress
	ProgressView progressView
	Unanswered   []unansweredSection
	// FirstOpen is the URL of the first practice with a rating left open.
	FirstOpen string
	// Confirm: the respondent asked to submit with more than a tenth open;
	// the page asks once whether to submit anyway.
	Confirm bool
	Open    int // ratings left open
	Percent int // share of ratings left open, rounded up
}

type unansweredSection struct {
	Page      int
	Section   *survey.Section
	Practices []*survey.Practice
	Open      int // ratings left open in the section
}

// surveyReview lists what is still unanswered, section by section, with links back.
func (a *App) surveyReview(c echo.Context) error {
	rc := respondentOf(c)
	d, err := a.draftOrStart(c, rc)
	if err != nil {
		return err
	}
	return a.renderReview(c, rc, d.Answers, false)
}

// renderReview shows the review page; confirm asks whether to submit with
// more than a tenth of the ratings open.
func (a *App) renderReview(c echo.Context, rc *respondentCtx, answers []byte, confirm bool) error {
	data := reviewData{respondentCtx: rc, Progress: rc.Model.ProgressOf(answers), Confirm: confirm}
	data.ProgressView = a.progressView(c, rc.Model, data.Progress)
	data.Open = data.Progress.Total - data.Progress.Answered
	if data.Progress.Total > 0 {
		data.Percent = (100*data.Open + data.Progress.Total - 1) / data.Progress.Total
	}
	for i, s := range rc.Model.Sections {
		us := unansweredSection{Page: i + 1, Section: s}
		for _, p := range s.Practices() {
			open := 0
			for _, dim := range survey.Dimensions {
				if slot := rc.Model.Slot(p, dim); slot >= len(answers) || answers[slot] == survey.Unanswered {
					open++
				}
			}
			if open > 0 {
				us.Practices = append(us.Practices, p)
				us.Open += open
				if data.FirstOpen == "" {
					data.FirstOpen = rc.Base + "/p/" + strconv.Itoa(i+1) + "#" + p.ID
				}
			}
		}
		if len(us.Practices) > 0 {
			data.Unanswered = append(data.Unanswered, us)
		}
	}
	title := "survey.review.title"
	if confirm {
		title = "survey.confirm.title"
	}
	p, err := a.respondentPage(c, rc.Campaign, title, data)
	if err != nil {
		return err
	}
	return a.render(c, http.StatusOK, "review", p)
}

// tooManyOpen: submitting with more than a tenth of the ratings open asks
// for confirmation first.
func tooManyOpen(p survey.Progress) bool { return 10*(p.Total-p.Answered) > p.Total }

// surveySubmit stores the response; after it the link only says thank you.
func (a *App) surveySubmit(c echo.Context) error {
	rc := respondentOf(c)
	if err := a.checkCSRF(c, rc); err != nil {
		return err
	}
	if c.FormValue("ask") == "1" {
		// The review page's form asks to be asked: with more than a tenth
		// of the ratings open, the confirmation page comes first, and its
		// own form (without "ask") submits. No script needed.
		d, err := survey.LoadDraft(c.Request().Context(), a.db, rc.DraftKey)
		if err != nil && !errors.Is(err, survey.ErrNoDraft) {
			return err
		}
		if err == nil && tooManyOpen(rc.Model.ProgressOf(d.Answers)) {
			return a.renderReview(c, rc, d.Answers, true)
		}
	}
	if err := a.openLimit(c, rc, "submit"); err != nil {
		return err // the draft stays: this browser can submit it later
	}
	err := survey.Submit(c.Request().Context(), a.db, a.cfg.Secret, rc.Respondent)
	if err == nil {
		a.releases.kick(rc.Campaign.ID) // a release, when the rules allow one
	}
	if rc.Invitation != nil {
		a.links.forget(c.Param("token"))
	}
	switch {
	case err == nil, errors.Is(err, survey.ErrAlreadySubmitted):
	case errors.Is(err, survey.ErrNoDraft):
		return c.Redirect(http.StatusSeeOther, rc.Base)
	case errors.Is(err, survey.ErrCampaignClosed), errors.Is(err, survey.ErrCampaignNotOpen):
		rc.state = err
		return a.flowEnded(c, rc)
	default:
		return err
	}
	if rc.Invitation == nil { // open link: remember in the cookie that this browser is done
		c.SetCookie(&http.Cookie{Name: openCookie, Value: a.openDone(rc.Campaign.ID), Path: rc.Base, MaxAge: 365 * 24 * 3600,
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: a.secureCookies(c)})
	}
	return c.Redirect(http.StatusSeeOther, rc.Base+"/thanks")
}

// surveyThanks is where a submit lands. It only answers once the survey is
// submitted (flowEnded renders it); before, it is the link itself.
func (a *App) surveyThanks(c echo.Context) error {
	return c.Redirect(http.StatusSeeOther, respondentOf(c).Base)
}

type thanksData struct {
	Org      string
	K        int
	ClosesAt string // the closing date in the page's language, "" when open-ended
	Contact  string
}

// renderThanks is the page right after a submit: thank you, and what
// happens next — when results are shared, with whom, and the rule that
// keeps answers anonymous. Opening the link later says "already submitted".
func (a *App) renderThanks(c echo.Context, rc *respondentCtx) error {
	d := thanksData{K: survey.EffectiveK(rc.Campaign.KMin)}
	p, err := a.respondentPage(c, rc.Campaign, "survey.thanks.title", &d)
	if err != nil {
		return err
	}
	d.Org = p.Brand.Org
	d.Contact = p.Brand.Contact
	if t := rc.Campaign.ClosesAt; t != nil {
		d.ClosesAt = p.Day(*t)
	}
	return a.render(c, http.StatusOK, "survey_thanks", p)
}
