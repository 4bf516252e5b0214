package server

import (
	"cmp"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"tiltline/survey"
	"tiltline/survey/cells"
)

// The manager's results: headline, radar, intention against reality per
// section, leaders against staff, what to do first, breakdown by unit —
// always through the report's suppression rules; never an individual answer.

type resultsIndexData struct {
	Campaigns []campaignSummary
}

// campaignSummary is one line of the campaign overview: the campaign's
// current release as the reader may see it (their units for a limited
// manager), its rate and its change since the previous wave.
type campaignSummary struct {
	survey.Campaign
	Report        *survey.Report // nil for a draft
	Participation *survey.Participation
	Change        *survey.Change
}

// resultsIndex is the campaign overview at /results. Every figure comes
// from the cached report of the campaign's current release, under the same
// suppression as its page.
func (a *App) resultsIndex(c echo.Context) error {
	cs, err := survey.Campaigns(c.Request().Context(), a.db, viewerOf(c).OrgID)
	if err != nil {
		return err
	}
	d := resultsIndexData{}
	byID := map[int64]*survey.Report{}
	for i := range cs {
		cp := &cs[i]
		sum := campaignSummary{Campaign: *cp}
		if cp.Status != survey.StatusDraft {
			rep, _, err := a.report(c, cp)
			if err != nil {
				return err
			}
			part, _, err := a.participation(c, cp, rep)
			if err != nil {
				return err
			}
			sum.Report, sum.Participation = rep, part
			byID[cp.ID] = rep
		}
		d.Campaigns = append(d.Campaigns, sum)
	}
	for i := range d.Campaigns {
		s := &d.Campaigns[i]
		if s.Report == nil || s.Report.Suppressed || s.PreviousID == nil {
			continue
		}
		prev, ok := byID[*s.PreviousID]
		if !ok || prev.Suppressed {
			continue
		}
		s.Change = a.waveChange(c, &s.Campaign, prev, s.Report)
	}
	return a.render(c, http.StatusOK, "results_index", a.page(c, "results.title", d))
}

// waveChange is the change of the overall score from the previous wave's
// report to this one, with its Welch interval from respondents' own scores.
func (a *App) waveChange(c echo.Context, cp *survey.Campaign, prevRep, rep *survey.Report) *survey.Change {
	prev, err := survey.CampaignOf(c.Request().Context(), a.db, cp.OrganisationID, *cp.PreviousID)
	if err != nil {
		return nil
	}
	tr := survey.BuildTrend([]survey.TrendWave{{Campaign: prev, Report: prevRep}, {Campaign: cp, Report: rep}})
	return tr[1].Change
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
	Campaign *survey.Campaign
	Report   *survey.Report
	Model    *survey.Model
	Sections []sectionRow
	Radar    template.HTML
	Bars     template.HTML
	Recs     []recommendationView
	Leaders  []sectionRow // senior managers' and others' Reality per section, as CEM-less rows
	Units    []survey.BusinessUnit
	// Participation is the view's responses against its group's invitations.
	Participation *survey.Participation
	FilterUnit    string
	Bench         benchView
	Heatmaps      []*heatmap
	HeatCols      []sectionRow // the heatmaps' columns
	Practices     practiceTable
	Trend         *trendView
	Query         url.Values        // the request's query, kept by the practice table's form
	Limited       bool              // a manager limited to some units: no "all units" choice
	Waves         []survey.Campaign // the organisation's campaigns, for the wave filter
	Additions     []string          // participants added after opening: everyone reading the results sees them
	// Senior managers against everyone else: a chart of the sections and
	// the practices where they differ most (medium or large δ).
	LeadersChart    template.HTML
	LeaderPractices []leaderPractice
	Acts            resultsActs // action plans: badges, targets, did it work (actions_results.go)
	// Things are the three things to know, at the top.
	Things []keyFact
	// BelowK is set when the whole campaign has fewer than k responses:
	// the page then shows the count so far and how many more are needed.
	BelowK *belowK
	// Indicative are large differences that are not significant (q > 0.05):
	// shown apart, labelled with the group sizes, never as a finding.
	Indicative []leaderPractice
}

type belowK struct{ SoFar, Needed, K int }

type leaderPractice struct {
	survey.LeaderComparison
	Statement, Subsection string
}

func (a *App) resultsPage(c echo.Context) error {
	cp, err := a.campaignOf(c)
	if err != nil {
		return err
	}
	waves, err := survey.Campaigns(c.Request().Context(), a.db, cp.OrganisationID)
	if err != nil {
		return err
	}
	// The filter form's wave choice moves to that campaign's page, keeping
	// the other filters.
	if w := c.QueryParam("wave"); w != "" && w != strconv.FormatInt(cp.ID, 10) {
		for _, other := range waves {
			if strconv.FormatInt(other.ID, 10) == w {
				q := c.QueryParams()
				q.Del("wave")
				return c.Redirect(http.StatusSeeOther, "/results/"+w+"?"+q.Encode())
			}
		}
		return a.userError(c, http.StatusBadRequest, "results.bad_filter", nil)
	}
	rep, units, err := a.report(c, cp)
	if err != nil {
		return err
	}
	m, _ := a.models.Version(cp.ModelVersion)
	lang := localeOf(c)
	d := resultsData{Campaign: cp, Report: rep, Model: m, Units: units, Query: c.QueryParams(), Waves: waves}
	if rep.Filter.UnitID != nil { // chosen, or a manager's own unit
		d.FilterUnit = strconv.FormatInt(*rep.Filter.UnitID, 10)
	}
	limit, err := a.unitLimit(c)
	if err != nil {
		return err
	}
	d.Limited = limit != nil
	if d.Additions, err = a.additionLines(c, cp); err != nil {
		return err
	}
	bench, err := a.benchmark(c, m, cp.OrganisationID)
	if err != nil {
		return err
	}
	d.Bench = benchmarkView(bench, rep, m, lang)
	if rep.Suppressed && rep.Reason == "too_few" && rep.Filter.Empty() {
		soFar := 0
		if rep.Release != nil {
			soFar = rep.Release.Responses
		}
		d.BelowK = &belowK{SoFar: soFar, Needed: max(rep.K-soFar, 1), K: rep.K}
	}

	// The content below depends only on what the key names; a manager
	// looking again, or a colleague with the same view, gets it from memory
	// until a response arrives, the pool reloads or an earlier wave changes.
	rows, err := a.reports.current(c, a.db, cp)
	if err != nil {
		return err
	}
	part, invited, err := a.participation(c, cp, rep)
	if err != nil {
		return err
	}
	d.Participation = part
	var unitsKey strings.Builder
	for _, u := range units { // the filter's choices: renamed or added units show at once
		fmt.Fprintf(&unitsKey, "%d:%s,", u.ID, u.Name)
	}
	for _, w := range waves { // and the waves to choose from
		fmt.Fprintf(&unitsKey, "w%d:%s:%s,", w.ID, w.Name, w.WaveLabel)
	}
	// The effective filter, not only the query: a limited manager's default is their own unit.
	key := fmt.Sprintf("%s|%s|%s|%t|%d|%d|%s|%s|%s|%s|%s", lang, filterKey(rep.Filter), c.QueryParams().Encode(), d.Limited, invited, a.pool.version(),
		cp.Name, cp.WaveLabel, cp.Status, a.waveGens(c, cp), unitsKey.String())
	key += "|" + strings.Join(d.Additions, "|")                                           // shown above the figures, so part of the fragment
	key += fmt.Sprintf("|%t%t%t%t", cp.AskUnit, cp.AskRole, cp.AskSeniority, cp.OpenLink) // whether a rate can be given
	actsKey, err := a.actionsKey(c, cp)
	if err != nil {
		return err
	}
	key += actsKey
	title := cp.Name + " · " + a.i18n.T(lang, "results.title", nil)
	if html, ok := a.reports.fragment(cp.ID, rows.gen, key); ok {
		p := a.page(c, "results.title", nil)
		p.Title = title
		// The content, some 100 kB, is the same for every reader of the
		// view: kept deflated, it is not compressed again per request.
		if run, ok := a.reports.run(cp.ID, rows.gen, key); ok && acceptsGzip(c.Request().Header.Get(echo.HeaderAcceptEncoding)) {
			return a.renderAround(c, "results", p, run)
		}
		p.Content = template.HTML(html) // rendered by this template earlier
		return a.render(c, http.StatusOK, "results", p)
	}
	t := func(id string) string { return a.i18n.T(lang, id, nil) }
	names := make(map[int64]string, len(units))
	for _, u := range units {
		names[u.ID] = u.Name
	}
	if d.Acts, err = a.resultsActions(c, cp, rep, m, names); err != nil {
		return err
	}
	d.Trend = trendViewOf(survey.BuildTrend(a.waves(c, cp, rep, rep.Filter, names)), m, lang, t("results.trend.chart"), t("results.cem"))
	if !rep.Suppressed {
		d.Things = keyFacts(rep, d.Bench, m, lang, func(id string, data map[string]any) string { return a.i18n.T(lang, id, data) })
		labels := make([]string, len(rep.Sections))
		titles := make([]string, len(rep.Sections))
		for i, s := range rep.Sections {
			labels[i] = s.ID
			titles[i] = m.Sections[i].Title.In(lang)
			d.Sections = append(d.Sections, sectionRow{ID: s.ID, Title: titles[i], ReportScore: s.ReportScore})
		}
		intention := chartSeries{Name: a.i18n.T(lang, "results.intention", nil), Class: "intention", Values: sectionSeries(rep, func(s survey.ReportScore) survey.Num { return s.Intention })}
		reality := chartSeries{Name: a.i18n.T(lang, "results.reality", nil), Class: "reality", Values: sectionSeries(rep, func(s survey.ReportScore) survey.Num { return s.Reality })}
		rings := quartileSeries(bench, [2]string{t("results.bench.p25"), t("results.bench.p75")})
		targets := d.Acts.TargetSeries()
		d.Radar = radarSVG(t("results.radar"), labels, rings, append([]chartSeries{intention, reality}, targets...))
		d.Bars = barsSVG(a.i18n.T(lang, "results.bars", nil), titles, append([]chartSeries{intention, reality}, targets...))
		for _, r := range rep.Recommendations {
			p, _ := m.Practice(r.Practice)
			rv := recommendationView{Recommendation: r, Statement: p.Statement.In(lang)}
			rv.Kinds = append(rv.Kinds, r.Kinds...)
			d.Recs = append(d.Recs, rv)
		}
		d.HeatCols = d.Sections
		unitName := func(g survey.ReportGroup) string {
			if g.Key == "" {
				return t("results.group.other_units")
			}
			return g.Name
		}
		option := func(opts []survey.Option) func(survey.ReportGroup) string {
			return func(g survey.ReportGroup) string {
				if g.Key == cells.Other {
					return t("results.group.other")
				}
				for _, o := range opts {
					if o.Key == g.Key {
						return o.Title.In(lang)
					}
				}
				return cmp.Or(g.Key, t("results.not_given"))
			}
		}
		role, band := option(m.Roles), option(m.Seniority)
		for _, h := range []*heatmap{
			heatmapOf("heat-units", t("results.heat.units"), t("survey.profile.unit"), rep.Units, unitName),
			heatmapOf("heat-roles", t("results.heat.roles"), t("survey.profile.role"), rep.Roles, role),
			heatmapOf("heat-seniority", t("results.heat.seniority"), t("survey.profile.seniority"), rep.Seniority, band),
		} {
			if h != nil {
				d.Heatmaps = append(d.Heatmaps, h)
			}
		}
		d.Practices = practiceTableOf(c, rep, m, lang, func(key string) string { return t("results.col." + key) })
		if lv := rep.LeadersVsStaff; lv != nil && lv.Available {
			senior := chartSeries{Name: t("results.leaders.senior"), Class: "senior"}
			others := chartSeries{Name: t("results.leaders.others"), Class: "others"}
			for i, s := range lv.Sections {
				d.Leaders = append(d.Leaders, sectionRow{ID: s.ID, Title: titles[i], ReportScore: survey.ReportScore{Intention: s.Senior, Reality: s.Others, Gap: s.Diff}})
				senior.Values = append(senior.Values, s.Senior)
				others.Values = append(others.Values, s.Others)
			}
			d.LeadersChart = barsSVG(t("results.leaders.chart"), titles, []chartSeries{senior, others})
			for _, p := range lv.Practices {
				mp, ok := m.Practice(p.ID)
				if !ok {
					continue
				}
				lp := leaderPractice{LeaderComparison: p, Statement: mp.Statement.In(lang), Subsection: mp.Subsection.Slug}
				switch {
				case p.Significant && len(d.LeaderPractices) < 5:
					d.LeaderPractices = append(d.LeaderPractices, lp)
				case !p.Significant && len(d.Indicative) < 5:
					d.Indicative = append(d.Indicative, lp)
				}
			}
		}
	}
	p := a.page(c, "results.title", d)
	p.Title = title
	html, err := a.renderContent("results", p)
	if err != nil {
		return err
	}
	a.reports.keepFragment(cp.ID, rows.gen, key, string(html))
	a.reports.keepRun(cp.ID, rows.gen, key, []byte(html))
	p.Content = html
	return a.render(c, http.StatusOK, "results", p)
}

// waveGens names the earlier waves' releases and settings, for cache
// keys: a new release of an earlier wave (rare, but possible while it is
// open) changes the trend.
func (a *App) waveGens(c echo.Context, cp *survey.Campaign) string {
	var b strings.Builder
	for _, prev := range a.earlierWaves(c, cp) {
		seq, err := a.reports.releaseSeq(c.Request().Context(), a.db, prev.ID)
		if err != nil {
			break
		}
		fmt.Fprintf(&b, "%d:%d:%s:%d:%s:%s:%s,", prev.ID, seq, prev.Status, prev.KMin, prev.SectionWeights, prev.Name, prev.WaveLabel)
	}
	return b.String()
}
