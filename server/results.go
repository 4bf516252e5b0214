package server

import (
	"errors"
	"html/template"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"tiltline/survey"
)

// The manager's results: headline, radar, intention against reality per
// section, leaders against staff, what to do first, breakdown by unit —
// always through the report's suppression rules; never an individual answer.

type resultsIndexData struct {
	Campaigns []survey.Campaign
}

func (a *App) resultsIndex(c echo.Context) error {
	cs, err := survey.Campaigns(c.Request().Context(), a.db, viewerOf(c).OrgID)
	if err != nil {
		return err
	}
	return a.render(c, http.StatusOK, "results_index", a.page(c, "results.title", resultsIndexData{Campaigns: cs}))
}

type sectionRow struct {
	ID, Title string
	survey.ReportScore
}

type recommendationView struct {
	survey.Recommendation
	Statement string
	Kinds     []string
}

type resultsData struct {
	Campaign   *survey.Campaign
	Report     *survey.Report
	Model      *survey.Model
	Sections   []sectionRow
	Radar      template.HTML
	Bars       template.HTML
	Recs       []recommendationView
	Leaders    []sectionRow // senior managers' and others' Reality per section, as CEM-less rows
	Units      []survey.BusinessUnit
	UnitName   map[string]string
	Invited    int64
	FilterUnit string
}

func (a *App) resultsPage(c echo.Context) error {
	cp, err := a.campaignOf(c)
	if err != nil {
		return err
	}
	rep, units, err := a.report(c, cp)
	var he *echo.HTTPError
	if errors.As(err, &he) && he.Code == http.StatusBadRequest {
		return echo.NewHTTPError(http.StatusBadRequest)
	}
	if err != nil {
		return err
	}
	m, _ := a.models.Version(cp.ModelVersion)
	lang := localeOf(c)
	ctx := c.Request().Context()
	d := resultsData{Campaign: cp, Report: rep, Model: m, Units: units, FilterUnit: c.QueryParam("unit")}
	d.UnitName = map[string]string{}
	for _, u := range d.Units {
		d.UnitName[strconv.FormatInt(u.ID, 10)] = u.Name
	}
	a.db.Read.WithContext(ctx).Model(&survey.Invitation{}).Where("campaign_id = ?", cp.ID).Count(&d.Invited)
	if !rep.Suppressed {
		labels := make([]string, len(rep.Sections))
		titles := make([]string, len(rep.Sections))
		for i, s := range rep.Sections {
			labels[i] = s.ID
			titles[i] = m.Sections[i].Title.In(lang)
			d.Sections = append(d.Sections, sectionRow{ID: s.ID, Title: titles[i], ReportScore: s.ReportScore})
		}
		intention := chartSeries{Name: a.i18n.T(lang, "results.intention", nil), Class: "intention", Values: sectionSeries(rep, func(s survey.ReportScore) survey.Num { return s.Intention })}
		reality := chartSeries{Name: a.i18n.T(lang, "results.reality", nil), Class: "reality", Values: sectionSeries(rep, func(s survey.ReportScore) survey.Num { return s.Reality })}
		d.Radar = radarSVG(a.i18n.T(lang, "results.radar", nil), labels, []chartSeries{intention, reality})
		d.Bars = barsSVG(a.i18n.T(lang, "results.bars", nil), titles, []chartSeries{intention, reality})
		for _, r := range rep.Recommendations {
			p, _ := m.Practice(r.Practice)
			rv := recommendationView{Recommendation: r, Statement: p.Statement.In(lang)}
			rv.Kinds = append(rv.Kinds, r.Kinds...)
			d.Recs = append(d.Recs, rv)
		}
		if lv := rep.LeadersVsStaff; lv != nil && lv.Available {
			for i, s := range lv.Sections {
				d.Leaders = append(d.Leaders, sectionRow{ID: s.ID, Title: m.Sections[i].Title.In(lang), ReportScore: survey.ReportScore{Intention: s.Senior, Reality: s.Others, Gap: s.Diff}})
			}
		}
	}
	p := a.page(c, "results.title", d)
	p.Title = cp.Name + " · " + p.Title
	return a.render(c, http.StatusOK, "results", p)
}
