package server

import (
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"tiltline/portal"
	"tiltline/survey"
	"tiltline/survey/actions"
)

// Action plans (survey/actions): the board, an action's page with its
// comments and audit, the form that creates one from a recommendation, a
// practice or a section, and the digest setting. Every rule of who sees
// and changes what is the domain's; handlers parse, call, render.

// actor is the viewer as the actions domain sees them, with the unit limits
// the results pages apply.
func (a *App) actor(c echo.Context) (actions.Actor, error) {
	v := viewerOf(c)
	if v == nil {
		return actions.Actor{}, echo.ErrUnauthorized
	}
	act := actions.Actor{UserID: v.ID, Name: actions.NameOf(v.User), OrgID: v.OrgID, Role: v.Role}
	units, limited, err := a.readerUnits(c)
	act.Limited, act.Units = limited, units
	return act, err
}

// actionError maps the domain's refusals: unseen is not found, seen but
// not allowed is 403, in the reader's language.
func (a *App) actionError(c echo.Context, err error) error {
	switch {
	case errors.Is(err, actions.ErrNotFound):
		return echo.ErrNotFound
	case errors.Is(err, actions.ErrForbidden):
		return a.userError(c, http.StatusForbidden, "actions.error.forbidden", nil)
	}
	return err
}

// now is the clock of action rules; tests replace it.
func (a *App) now() time.Time {
	if a.clock != nil {
		return a.clock()
	}
	return time.Now().UTC()
}

type boardData struct {
	Actions   []*actions.Action
	Filter    actions.Filter
	Campaigns []survey.Campaign
	Units     []survey.BusinessUnit
	Members   []survey.User
	Sections  []*survey.Section
	Statuses  []string
	Desc      bool
	Now       time.Time
	Actor     actions.Actor
	Deleted   []*actions.Action
	Digest    bool
	CSVQuery  string
	unitNames map[int64]string
}

// UnitNames names an action's scope.
func (d boardData) UnitNames(ids []int64) string {
	var ns []string
	for _, id := range ids {
		ns = append(ns, d.unitNames[id])
	}
	return strings.Join(ns, ", ")
}

// boardFilter reads the board's filters; values that are not numbers or
// choices are ignored rather than refused, as with any search form.
func boardFilter(c echo.Context) (actions.Filter, bool) {
	num := func(k string) int64 {
		n, _ := strconv.ParseInt(c.QueryParam(k), 10, 64)
		return max(n, 0)
	}
	f := actions.Filter{CampaignID: num("campaign"), UnitID: num("unit"), OwnerID: num("owner"), Section: c.QueryParam("section"), Practice: c.QueryParam("practice")}
	if s := c.QueryParam("status"); s == "open" || slices.Contains(actions.Statuses, s) {
		f.Status = s
	}
	if len(f.Section) > 4 {
		f.Section = ""
	}
	if len(f.Practice) > 10 {
		f.Practice = ""
	}
	return f, c.QueryParam("dir") == "desc"
}

func (a *App) actionsBoard(c echo.Context) error {
	ctx := c.Request().Context()
	act, err := a.actor(c)
	if err != nil {
		return err
	}
	f, desc := boardFilter(c)
	list, err := actions.List(ctx, a.db, act, f)
	if err != nil {
		return err
	}
	if desc {
		slices.Reverse(list)
	}
	d := boardData{Actions: list, Filter: f, Sections: a.models.Latest().Sections, Statuses: actions.Statuses, Desc: desc, Now: a.now(), Actor: act,
		CSVQuery: c.QueryParams().Encode()}
	if d.Campaigns, err = survey.Campaigns(ctx, a.db, act.OrgID); err != nil {
		return err
	}
	if d.Units, d.unitNames, err = a.actionUnits(c, act); err != nil {
		return err
	}
	if d.Members, err = actions.Members(ctx, a.db, act.OrgID); err != nil {
		return err
	}
	if act.Admin() {
		if d.Deleted, err = actions.Deleted(ctx, a.db, act); err != nil {
			return err
		}
		s, err := actions.SettingsOf(ctx, a.db, act.OrgID)
		if err != nil {
			return err
		}
		d.Digest = s.WeeklyDigest
	}
	return a.render(c, http.StatusOK, "actions_board", a.page(c, "actions.title", d))
}

// actionUnits are the units the actor may scope actions to, and every
// unit's name.
func (a *App) actionUnits(c echo.Context, act actions.Actor) ([]survey.BusinessUnit, map[int64]string, error) {
	all, names, err := a.unitNames(c, act.OrgID)
	if err != nil || !act.Limited {
		return all, names, err
	}
	var mine []survey.BusinessUnit
	for _, u := range all {
		if slices.Contains(act.Units, u.ID) {
			mine = append(mine, u)
		}
	}
	return mine, names, nil
}

type actionForm struct {
	ID        int64
	Input     actions.Input
	Due       string // as typed
	Errors    map[string]string
	Campaigns []survey.Campaign
	Units     []survey.BusinessUnit
	Members   []survey.User
	Model     *survey.Model
	Statuses  []string
	Open      string // the section whose practices show unfolded
	CSRF      string
}

// Checked says whether a practice is ticked.
func (f actionForm) Checked(id string) bool { return slices.Contains(f.Input.Practices, id) }

// InScope says whether a unit is ticked.
func (f actionForm) InScope(id int64) bool { return slices.Contains(f.Input.Units, id) }

// SectionTicked says whether any practice of the section is ticked.
func (f actionForm) SectionTicked(s *survey.Section) bool {
	for _, p := range s.Practices() {
		if f.Checked(p.ID) {
			return true
		}
	}
	return false
}

func (a *App) actionFormData(c echo.Context, act actions.Actor, f *actionForm) error {
	ctx := c.Request().Context()
	var err error
	f.Model, f.Statuses, f.CSRF = a.models.Latest(), actions.Statuses, csrfOf(c)
	if f.Errors == nil {
		f.Errors = map[string]string{}
	}
	if f.Campaigns, err = survey.Campaigns(ctx, a.db, act.OrgID); err != nil {
		return err
	}
	if f.Units, _, err = a.actionUnits(c, act); err != nil {
		return err
	}
	f.Members, err = actions.Members(ctx, a.db, act.OrgID)
	return err
}

// actionNew is the form, filled from where it was asked: a recommendation
// or practice (?practice=), a section (?section=: all its practices), and
// the wave (?campaign=). The owner is the planner and the due day three
// months ahead, so two clicks make an owned, dated action.
func (a *App) actionNew(c echo.Context) error {
	act, err := a.actor(c)
	if err != nil {
		return err
	}
	if !act.Planner() {
		return echo.ErrNotFound
	}
	m := a.models.Latest()
	f := actionForm{Input: actions.Input{OwnerID: act.UserID, DueOn: a.now().AddDate(0, 3, 0), WholeOrg: !act.Limited, Status: actions.Planned}}
	if act.Limited && len(act.Units) > 0 {
		f.Input.Units = []int64{act.Units[0]}
	}
	if p, ok := m.Practice(c.QueryParam("practice")); ok {
		f.Input.Practices = []string{p.ID}
		f.Input.Title = p.Statement.In(localeOf(c))
		f.Open = p.Subsection.Section.ID
	}
	for _, s := range m.Sections {
		if s.ID == c.QueryParam("section") {
			for _, p := range s.Practices() {
				f.Input.Practices = append(f.Input.Practices, p.ID)
			}
			f.Input.Title = s.Title.In(localeOf(c))
			f.Open = s.ID
		}
	}
	if id, err := strconv.ParseInt(c.QueryParam("campaign"), 10, 64); err == nil {
		f.Input.CampaignID = id
	}
	if err := a.actionFormData(c, act, &f); err != nil {
		return err
	}
	if f.Input.CampaignID == 0 && len(f.Campaigns) > 0 {
		f.Input.CampaignID = f.Campaigns[0].ID
	}
	f.Due = f.Input.DueOn.Format(time.DateOnly)
	return a.render(c, http.StatusOK, "actions_form", a.page(c, "actions.new.title", f))
}

// actionInput reads the form; a due day that does not parse is a field
// error next to the others, and everything typed is shown back.
func actionInput(c echo.Context) (actions.Input, actionForm) {
	form, _ := c.FormParams()
	in := actions.Input{Title: form.Get("title"), Body: form.Get("body"), Status: form.Get("status"),
		Practices: form["practices"], WholeOrg: form.Get("scope") != "units"}
	f := actionForm{Due: strings.TrimSpace(form.Get("due_on")), Errors: map[string]string{}}
	in.OwnerID, _ = strconv.ParseInt(form.Get("owner"), 10, 64)
	in.CampaignID, _ = strconv.ParseInt(form.Get("campaign"), 10, 64)
	for _, u := range form["units"] {
		if id, err := strconv.ParseInt(u, 10, 64); err == nil {
			in.Units = append(in.Units, id)
		}
	}
	if f.Due != "" {
		if t, err := time.Parse(time.DateOnly, f.Due); err == nil {
			in.DueOn = t
		} else {
			f.Errors["due_on"] = "actions.error.due"
		}
	}
	return in, f
}

func (a *App) actionCreate(c echo.Context) error {
	act, err := a.actor(c)
	if err != nil {
		return err
	}
	in, f := actionInput(c)
	var x *actions.Action
	if len(f.Errors) == 0 {
		x, err = actions.Create(c.Request().Context(), a.db, act, a.models.Latest(), in, a.now())
	}
	return a.actionSaved(c, act, in, f, "actions.new.title", func() int64 { return x.ID }, err)
}

// actionSaved answers a create or update: the form again with its errors
// and what was typed (422), or the action's page.
func (a *App) actionSaved(c echo.Context, act actions.Actor, in actions.Input, f actionForm, titleID string, id func() int64, err error) error {
	if fe, ok := formErrors(err); ok || len(f.Errors) > 0 {
		for k, v := range fe {
			f.Errors[k] = v
		}
		f.Input = in
		if err := a.actionFormData(c, act, &f); err != nil {
			return err
		}
		return a.render(c, http.StatusUnprocessableEntity, "actions_form", a.page(c, titleID, f))
	}
	if err != nil {
		return a.actionError(c, err)
	}
	a.mail.Kick()
	return c.Redirect(http.StatusSeeOther, "/actions/"+strconv.FormatInt(id(), 10))
}

func (a *App) actionEdit(c echo.Context) error {
	act, x, err := a.actionOf(c)
	if err != nil {
		return err
	}
	if !act.Edits(x) {
		return a.actionError(c, actions.ErrForbidden)
	}
	f := actionForm{ID: x.ID, Input: actions.InputOf(x), Due: x.DueOn.Format(time.DateOnly)}
	if err := a.actionFormData(c, act, &f); err != nil {
		return err
	}
	return a.render(c, http.StatusOK, "actions_form", a.page(c, "actions.edit.title", f))
}

func (a *App) actionUpdate(c echo.Context) error {
	act, x, err := a.actionOf(c)
	if err != nil {
		return err
	}
	in, f := actionInput(c)
	f.ID = x.ID
	if len(f.Errors) == 0 {
		_, err = actions.Update(c.Request().Context(), a.db, act, a.models.Latest(), x.ID, in, a.now())
	}
	return a.actionSaved(c, act, in, f, "actions.edit.title", func() int64 { return x.ID }, err)
}

// actionOf loads the action in the URL for the viewer.
func (a *App) actionOf(c echo.Context) (actions.Actor, *actions.Action, error) {
	act, err := a.actor(c)
	if err != nil {
		return act, nil, err
	}
	id, err := idParam(c, "id")
	if err != nil {
		return act, nil, err
	}
	x, err := actions.Get(c.Request().Context(), a.db, act, id)
	if err != nil {
		return act, nil, a.actionError(c, err)
	}
	return act, x, nil
}

type actionPractice struct {
	ID, Statement, Subsection, Section string
	Href                               string
}

// actionMove is a status button: where it moves the action, and its label.
type actionMove struct{ Status, Label string }

type actionPage struct {
	Action    *actions.Action
	Body      template.HTML
	Practices []actionPractice
	Campaign  *survey.Campaign
	Units     string
	Comments  []actions.Comment
	Audit     []actions.AuditEntry
	CanEdit   bool
	CanStatus bool
	CanAudit  bool
	Overdue   bool
	Statuses  []actionMove
	Comment   string // as typed, when refused
	Error     string
	CSRF      string
}

func (a *App) actionPageData(c echo.Context, act actions.Actor, x *actions.Action) (*actionPage, error) {
	ctx := c.Request().Context()
	d := &actionPage{Action: x, Body: portal.RenderCase(x.Body), CanEdit: act.Edits(x), CanStatus: act.SetsStatus(x), CanAudit: act.Audits(x),
		Overdue: x.Overdue(a.now()), CSRF: csrfOf(c)}
	for _, s := range actions.Statuses {
		if s != x.Status && actions.CanMove(x.Status, s) {
			label := "actions.move." + s
			if x.Status == actions.Done && s == actions.InProgress {
				label = "actions.move.reopen"
			}
			d.Statuses = append(d.Statuses, actionMove{Status: s, Label: label})
		}
	}
	m, lang := a.models.Latest(), localeOf(c)
	for _, id := range x.Practices {
		if p, ok := m.Practice(id); ok {
			d.Practices = append(d.Practices, actionPractice{ID: id, Statement: p.Statement.In(lang), Subsection: p.Subsection.Title.In(lang),
				Section: p.Subsection.Section.Title.In(lang), Href: portal.PagePath(p.Subsection.Slug, id)})
		}
	}
	if x.CampaignID != nil {
		if cp, err := survey.CampaignOf(ctx, a.db, act.OrgID, *x.CampaignID); err == nil {
			d.Campaign = cp
		}
	}
	_, names, err := a.unitNames(c, act.OrgID)
	if err != nil {
		return nil, err
	}
	var ns []string
	for _, u := range x.Units {
		ns = append(ns, names[u])
	}
	d.Units = strings.Join(ns, ", ")
	if d.Comments, err = actions.Comments(ctx, a.db, act, x.ID); err != nil {
		return nil, err
	}
	if d.CanAudit {
		if d.Audit, err = actions.Audit(ctx, a.db, act, x.ID); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (a *App) actionShow(c echo.Context) error {
	act, x, err := a.actionOf(c)
	if err != nil {
		return err
	}
	d, err := a.actionPageData(c, act, x)
	if err != nil {
		return err
	}
	p := a.page(c, "", d)
	p.Title = x.Title
	return a.render(c, http.StatusOK, "actions_page", p)
}

func (a *App) actionStatus(c echo.Context) error {
	act, x, err := a.actionOf(c)
	if err != nil {
		return err
	}
	_, err = actions.SetStatus(c.Request().Context(), a.db, act, a.models.Latest(), x.ID, c.FormValue("status"), a.now())
	if fe, ok := formErrors(err); ok {
		d, derr := a.actionPageData(c, act, x)
		if derr != nil {
			return derr
		}
		for _, v := range fe {
			d.Error = v
		}
		p := a.page(c, "", d)
		p.Title = x.Title
		return a.render(c, http.StatusUnprocessableEntity, "actions_page", p)
	}
	if err != nil {
		return a.actionError(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/actions/"+strconv.FormatInt(x.ID, 10))
}

func (a *App) actionComment(c echo.Context) error {
	act, x, err := a.actionOf(c)
	if err != nil {
		return err
	}
	_, err = actions.AddComment(c.Request().Context(), a.db, act, x.ID, c.FormValue("comment"), a.now())
	if fe, ok := formErrors(err); ok {
		d, derr := a.actionPageData(c, act, x)
		if derr != nil {
			return derr
		}
		d.Comment, d.Error = c.FormValue("comment"), fe["comment"]
		p := a.page(c, "", d)
		p.Title = x.Title
		return a.render(c, http.StatusUnprocessableEntity, "actions_page", p)
	}
	if err != nil {
		return a.actionError(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/actions/"+strconv.FormatInt(x.ID, 10)+"#comments")
}

func (a *App) actionDelete(c echo.Context) error {
	act, x, err := a.actionOf(c)
	if err != nil {
		return err
	}
	if err := actions.Delete(c.Request().Context(), a.db, act, x.ID, a.now()); err != nil {
		return a.actionError(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/actions")
}

// actionAudit shows a deleted (or any) action's audit to org admins.
func (a *App) actionAudit(c echo.Context) error {
	act, err := a.actor(c)
	if err != nil {
		return err
	}
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	es, err := actions.Audit(c.Request().Context(), a.db, act, id)
	if err != nil {
		return a.actionError(c, err)
	}
	return a.render(c, http.StatusOK, "actions_audit", a.page(c, "actions.audit.title", es))
}

func (a *App) actionSettings(c echo.Context) error {
	act, err := a.actor(c)
	if err != nil {
		return err
	}
	if err := actions.SetDigest(c.Request().Context(), a.db, act, c.FormValue("weekly_digest") == "on"); err != nil {
		return a.actionError(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/actions")
}
