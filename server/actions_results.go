package server

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"tiltline/survey"
	"tiltline/survey/actions"
	"tiltline/survey/export"
)

// Where actions meet the results: a badge per practice ("2 actions, 1
// done"), a link from each recommendation to a new action, the targets of
// the view (and whether the next wave reached them), and "did it work?".
// The results page calls actionsKey before its fragment cache and
// resultsActions when it renders; the rest is partials in
// actions_partials.html.

// resultsActs is what the results templates read about actions.
type resultsActs struct {
	CampaignID int64
	counts     map[string]actions.Count
	Effects    []actionEffectGroup
	Targets    *actionTargetsView
	targets    []*float64 // per section, for the charts
	targetName string
}

type actionBadge struct {
	Total, Done int
	Href        string
}

// For is a practice's badge.
func (r resultsActs) For(practice string) actionBadge {
	c := r.counts[practice]
	return actionBadge{Total: c.Total, Done: c.Done, Href: "/actions?practice=" + practice}
}

// NewHref starts an action on a practice of this wave.
func (r resultsActs) NewHref(practice string) string {
	return fmt.Sprintf("/actions/new?campaign=%d&practice=%s", r.CampaignID, practice)
}

// NewSectionHref starts an action on all of a section's practices.
func (r resultsActs) NewSectionHref(section string) string {
	return fmt.Sprintf("/actions/new?campaign=%d&section=%s", r.CampaignID, section)
}

// TargetSeries is the targets as a chart series (none when no target applies).
func (r resultsActs) TargetSeries() []chartSeries {
	if !slices.ContainsFunc(r.targets, func(v *float64) bool { return v != nil }) {
		return nil
	}
	return []chartSeries{{Name: r.targetName, Class: "target", Values: r.targets, Marks: true}}
}

type actionEffectGroup struct {
	Since    *survey.Campaign
	Items    []actionEffectRow
	Baseline actions.Baseline
}

type actionEffectRow struct {
	actions.PracticeEffect
	Statement string
}

type actionTargetsView struct {
	CampaignID int64
	Measured   bool   // targets set on the previous wave, measured here
	From       string // that wave's name
	Rows       []actionTargetRow
	CanSet     bool
}

type actionTargetRow struct {
	Title   string
	Target  float64
	Score   survey.Num
	Reached string // "yes", "no", "" when not shown
}

// actionsKey is the part of the results page's cache key that actions
// decide: the organisation's actions as they stand, and whose they are.
func (a *App) actionsKey(c echo.Context, cp *survey.Campaign) (string, error) {
	act, err := a.actor(c)
	if err != nil {
		return "", err
	}
	v, err := actions.Version(c.Request().Context(), a.db, cp.OrganisationID)
	if err != nil {
		return "", err
	}
	ts, err := a.targetsVersion(c, cp)
	// Readers of the whole organisation all see every action: one fragment
	// for them all. A limited manager's actions are their units' and their own.
	who := "all"
	if act.Limited {
		who = fmt.Sprintf("%d:%v", act.UserID, act.Units)
	}
	return fmt.Sprintf("|acts:%s:%s:%s", v, who, ts), err
}

func (a *App) targetsVersion(c echo.Context, cp *survey.Campaign) (string, error) {
	var b strings.Builder
	ids := []int64{cp.ID}
	if cp.PreviousID != nil {
		ids = append(ids, *cp.PreviousID)
	}
	for _, id := range ids {
		ts, err := actions.Targets(c.Request().Context(), a.db, id)
		if err != nil {
			return "", err
		}
		for _, t := range ts {
			fmt.Fprintf(&b, "%d/%s/%v/%.1f;", t.CampaignID, t.SectionID, t.UnitID, t.Target)
		}
	}
	return b.String(), nil
}

// resultsActions fills what the results page shows about actions.
func (a *App) resultsActions(c echo.Context, cp *survey.Campaign, rep *survey.Report, m *survey.Model, names map[int64]string) (resultsActs, error) {
	ctx, lang := c.Request().Context(), localeOf(c)
	r := resultsActs{CampaignID: cp.ID, targetName: a.i18n.T(lang, "actions.targets.target", nil)}
	act, err := a.actor(c)
	if err != nil {
		return r, err
	}
	list, err := actions.List(ctx, a.db, act, actions.Filter{})
	if err != nil {
		return r, err
	}
	r.counts = actions.Counts(list)
	if rep.Suppressed {
		return r, nil
	}
	// Did it work: this wave against each earlier one, under the same filter.
	waves := a.waves(c, cp, rep, rep.Filter, names)
	var cur actions.Wave
	var earlier []actions.Wave
	for _, w := range waves {
		wm, ok := a.models.Version(w.Campaign.ModelVersion)
		if !ok {
			continue
		}
		aw := actions.Wave{Campaign: w.Campaign, Model: wm, Report: w.Report}
		if w.Campaign.ID == cp.ID {
			cur = aw
		} else {
			earlier = append(earlier, aw)
		}
	}
	if cur.Report != nil {
		for _, g := range actions.DidItWork(cur, earlier, list) {
			eg := actionEffectGroup{Since: g.Since, Baseline: g.Baseline}
			for _, it := range g.Items {
				row := actionEffectRow{PracticeEffect: it}
				if p, ok := m.Practice(it.Practice); ok {
					row.Statement = p.Statement.In(lang)
				}
				eg.Items = append(eg.Items, row)
			}
			r.Effects = append(r.Effects, eg)
		}
	}
	// Targets: those set on the previous wave are measured here; otherwise
	// this wave's own, for the next one.
	tv := &actionTargetsView{CampaignID: cp.ID, CanSet: act.Planner()}
	var results []actions.TargetResult
	if cp.PreviousID != nil {
		ts, err := actions.Targets(ctx, a.db, *cp.PreviousID)
		if err != nil {
			return r, err
		}
		if results = actions.ForView(ts, m, rep); len(results) > 0 {
			tv.Measured = true
			if prev, err := survey.CampaignOf(ctx, a.db, cp.OrganisationID, *cp.PreviousID); err == nil {
				tv.From = cmpOr(prev.WaveLabel, prev.Name)
			}
		}
	}
	if !tv.Measured {
		ts, err := actions.Targets(ctx, a.db, cp.ID)
		if err != nil {
			return r, err
		}
		results = actions.ForView(ts, m, rep)
	}
	r.targets = make([]*float64, len(m.Sections))
	for _, t := range results {
		row := actionTargetRow{Target: t.Target, Score: t.Score}
		for _, s := range m.Sections {
			if s.ID == t.Section {
				row.Title = s.Title.In(lang)
				v := t.Target
				r.targets[s.Index] = &v
			}
		}
		if tv.Measured && t.Reached != nil {
			row.Reached = map[bool]string{true: "yes", false: "no"}[*t.Reached]
		}
		tv.Rows = append(tv.Rows, row)
	}
	r.Targets = tv
	return r, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// actionsCSV is the board as a file, under the board's filters.
func (a *App) actionsCSV(c echo.Context) error {
	act, err := a.actor(c)
	if err != nil {
		return err
	}
	f, desc := boardFilter(c)
	list, err := actions.List(c.Request().Context(), a.db, act, f)
	if err != nil {
		return err
	}
	if desc {
		slices.Reverse(list)
	}
	rows, err := a.actionRows(c, act.OrgID, list)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="actions.csv"`)
	c.Response().Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	c.Response().WriteHeader(http.StatusOK)
	return export.WriteActionsCSV(c.Response(), rows)
}

// actionRows shapes actions for the exports, in the reader's language.
func (a *App) actionRows(c echo.Context, orgID int64, list []*actions.Action) ([]export.ActionRow, error) {
	ctx, lang := c.Request().Context(), localeOf(c)
	_, names, err := a.unitNames(c, orgID)
	if err != nil {
		return nil, err
	}
	cs, err := survey.Campaigns(ctx, a.db, orgID)
	if err != nil {
		return nil, err
	}
	waves := map[int64]string{}
	for _, cp := range cs {
		waves[cp.ID] = strings.TrimSpace(cp.Name + " " + cp.WaveLabel)
	}
	now := a.now()
	rows := make([]export.ActionRow, len(list))
	for i, x := range list {
		r := export.ActionRow{ID: x.ID, Title: x.Title, Status: x.Status, StatusText: a.i18n.T(lang, "actions.status."+x.Status, nil),
			Owner: cmpOr(x.OwnerName, x.OwnerEmail), Due: x.DueOn, Overdue: x.Overdue(now), Practices: x.Practices,
			Link: a.cfg.BaseURL + "/actions/" + strconv.FormatInt(x.ID, 10)}
		if x.WholeOrg {
			r.Scope = a.i18n.T(lang, "actions.scope.org", nil)
		} else {
			var ns []string
			for _, u := range x.Units {
				ns = append(ns, names[u])
			}
			r.Scope = strings.Join(ns, ", ")
		}
		if x.CampaignID != nil {
			r.Wave = waves[*x.CampaignID]
		}
		rows[i] = r
	}
	return rows, nil
}

type targetsForm struct {
	Campaign *survey.Campaign
	Units    []survey.BusinessUnit
	Unit     int64 // 0: the whole organisation
	Limited  bool
	Sections []targetField
	Errors   map[string]string
	CSRF     string
}

type targetField struct {
	ID, Title, Value string
}

// targetsPage sets a wave's targets for the next wave, per section, for
// the organisation or (?unit=) one unit.
func (a *App) targetsPage(c echo.Context) error {
	cp, err := a.campaignOf(c)
	if err != nil {
		return err
	}
	act, err := a.actor(c)
	if err != nil {
		return err
	}
	if !act.Planner() {
		return echo.ErrNotFound
	}
	f := targetsForm{Campaign: cp, Limited: act.Limited, Errors: map[string]string{}, CSRF: csrfOf(c)}
	if f.Units, _, err = a.actionUnits(c, act); err != nil {
		return err
	}
	f.Unit, _ = strconv.ParseInt(c.QueryParam("unit"), 10, 64)
	if act.Limited && !slices.Contains(act.Units, f.Unit) && len(f.Units) > 0 {
		f.Unit = f.Units[0].ID
	}
	ts, err := actions.Targets(c.Request().Context(), a.db, cp.ID)
	if err != nil {
		return err
	}
	m, _ := a.models.Version(cp.ModelVersion)
	for _, s := range m.Sections {
		tf := targetField{ID: s.ID, Title: s.Title.In(localeOf(c))}
		for _, t := range ts {
			if t.SectionID == s.ID && (t.UnitID == nil && f.Unit == 0 || t.UnitID != nil && *t.UnitID == f.Unit) {
				tf.Value = strconv.FormatFloat(t.Target, 'f', -1, 64)
			}
		}
		f.Sections = append(f.Sections, tf)
	}
	return a.render(c, http.StatusOK, "actions_targets", a.page(c, "actions.targets.title", f))
}

func (a *App) targetsSave(c echo.Context) error {
	cp, err := a.campaignOf(c)
	if err != nil {
		return err
	}
	act, err := a.actor(c)
	if err != nil {
		return err
	}
	m, _ := a.models.Version(cp.ModelVersion)
	f := targetsForm{Campaign: cp, Limited: act.Limited, Errors: map[string]string{}, CSRF: csrfOf(c)}
	if f.Units, _, err = a.actionUnits(c, act); err != nil {
		return err
	}
	f.Unit, _ = strconv.ParseInt(c.FormValue("unit"), 10, 64)
	var unit *int64
	if f.Unit != 0 {
		unit = &f.Unit
	}
	values := map[string]*float64{}
	for _, s := range m.Sections {
		raw := strings.TrimSpace(strings.ReplaceAll(c.FormValue("target_"+s.ID), ",", "."))
		f.Sections = append(f.Sections, targetField{ID: s.ID, Title: s.Title.In(localeOf(c)), Value: c.FormValue("target_" + s.ID)})
		if raw == "" {
			values[s.ID] = nil
			continue
		}
		v, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			f.Errors["target_"+s.ID] = "actions.error.target"
			continue
		}
		values[s.ID] = &v
	}
	if len(f.Errors) == 0 {
		err = actions.SetTargets(c.Request().Context(), a.db, act, m, cp, unit, values, a.now())
	}
	if fe, ok := formErrors(err); ok || len(f.Errors) > 0 {
		for k, v := range fe {
			f.Errors[k] = v
		}
		return a.render(c, http.StatusUnprocessableEntity, "actions_targets", a.page(c, "actions.targets.title", f))
	}
	if err != nil {
		return a.actionError(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/results/"+strconv.FormatInt(cp.ID, 10))
}

// learnActions are the actions the viewer sees on a sub-section's
// practices, for its learning page; none for a viewer of no organisation.
func (a *App) learnActions(c echo.Context, sub *survey.Subsection) ([]*actions.Action, error) {
	v := viewerOf(c)
	if v == nil || v.OrgID == 0 {
		return nil, nil
	}
	act, err := a.actor(c)
	if err != nil {
		return nil, err
	}
	all, err := actions.List(c.Request().Context(), a.db, act, actions.Filter{})
	if err != nil {
		return nil, err
	}
	var out []*actions.Action
	for _, x := range all {
		if x.Status != actions.Dropped && slices.ContainsFunc(sub.Practices, func(p *survey.Practice) bool { return slices.Contains(x.Practices, p.ID) }) {
			out = append(out, x)
		}
	}
	return out, nil
}

// actionsTag is a page's actions for its ETag.
func actionsTag(xs []*actions.Action) string {
	var b strings.Builder
	for _, x := range xs {
		fmt.Fprintf(&b, "%d:%s:%d;", x.ID, x.Status, x.UpdatedAt.UnixNano())
	}
	return b.String()
}

// exportActions is the reader's action plan for a wave, for its workbook
// and PDF: the actions created against it, as the board shows them.
func (a *App) exportActions(c echo.Context, cp *survey.Campaign) ([]export.ActionRow, error) {
	act, err := a.actor(c)
	if err != nil {
		return nil, err
	}
	list, err := actions.List(c.Request().Context(), a.db, act, actions.Filter{CampaignID: cp.ID})
	if err != nil {
		return nil, err
	}
	rows, err := a.actionRows(c, cp.OrganisationID, list)
	if rows == nil && err == nil {
		rows = []export.ActionRow{}
	}
	return rows, err
}
