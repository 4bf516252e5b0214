package server

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"tiltline/portal"
	"tiltline/survey"
)

// The portal and the results, linked both ways: each page shows a signed-in
// member how their organisation scores on it, and /learn/path orders the
// pages by the organisation's recommendations and keeps track of what the
// reader has read.
//
// Which results: the organisation's most recent campaign (by creation) that
// is open or closed and has at least one response. An open one is marked
// preliminary. When that campaign's organisation-wide report is suppressed
// (fewer than k responses), the portal says "not enough responses yet" and
// shows no numbers, and the path keeps the model's order: an older wave's
// figures are not shown in its place, so what the portal shows is always
// what the results page shows first.
//
// Figures follow the reader's limits: a manager limited to some units sees
// "your units", from those units' responses together, under the same k; a
// manager whose units are all gone sees none and is told why.

// orgResults is the viewer's organisation's latest results as the portal uses them.
type orgResults struct {
	Campaign *survey.Campaign
	Report   *survey.Report
	// Subs holds each sub-section's scores by slug; nil when suppressed.
	Subs map[string]subScore
	// Units: the figures are the reader's units', not the organisation's.
	Units bool
	// NoUnits: a manager limited to units of which none exist; no figures.
	NoUnits bool
}

// subScore is a sub-section's score: per dimension, the mean of its
// practices' scores (DESIGN.md "Scoring"), and CEM the mean of the two.
type subScore struct {
	Intention, Reality, CEM survey.Num
}

// Suppressed is true when the report may show no numbers.
func (o *orgResults) Suppressed() bool { return o.Report == nil || o.Report.Suppressed }

// orgResultsOf finds the viewer's organisation's latest results; nil when
// nobody is signed in, the viewer has no organisation or it has no campaign
// with a response.
func (a *App) orgResultsOf(c echo.Context) (*orgResults, error) {
	v := viewerOf(c)
	if v == nil || v.OrgID == 0 {
		return nil, nil
	}
	limit, limited, err := a.readerUnits(c)
	if err != nil {
		return nil, err
	}
	if limited && len(limit) == 0 {
		return &orgResults{NoUnits: true}, nil
	}
	ctx := c.Request().Context()
	cs, err := survey.Campaigns(ctx, a.db, v.OrgID)
	if err != nil {
		return nil, err
	}
	for i := range cs {
		cp := &cs[i]
		if cp.Status != survey.StatusOpen && cp.Status != survey.StatusClosed {
			continue
		}
		n, err := survey.CountResponses(ctx, a.db, cp.ID)
		if err != nil {
			return nil, err
		}
		if n == 0 { // nothing released: "not enough yet" if anyone answered
			if n, err = survey.CountWaiting(ctx, a.db, cp.ID); err != nil || n == 0 {
				if err != nil {
					return nil, err
				}
				continue
			}
		}
		var rep *survey.Report
		if limited {
			rep, err = a.unitsReport(c, cp, limit)
		} else {
			rep, err = a.orgReport(c, cp)
		}
		if errors.Is(err, echo.ErrNotFound) { // the campaign's model version is gone
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		o := &orgResults{Campaign: cp, Report: rep, Units: limited}
		if !rep.Suppressed {
			o.Subs = subScores(rep)
		}
		return o, nil
	}
	return nil, nil
}

// orgReport is the campaign's organisation-wide report, the same (and from
// the same cache) as the results page without a filter. It is built in a
// context of its own, with the page's language but neither its query nor its
// reader: ?unit= on a portal page must not narrow "your organisation" to a
// unit, and a manager's unit limit governs the results pages, not the
// organisation-wide figures that every member sees on the portal.
func (a *App) orgReport(c echo.Context, cp *survey.Campaign) (*survey.Report, error) {
	r := c.Request().Clone(c.Request().Context())
	u := *r.URL
	u.RawQuery = ""
	r.URL = &u
	oc := a.echo.NewContext(r, c.Response())
	oc.Set(langCookie, c.Get(langCookie))
	rep, _, err := a.report(oc, cp)
	return rep, err
}

// unitsReport is the campaign's report over the rows of a limited manager's
// units together, under the campaign's k. A unit that the organisation's
// breakdown by unit hides (under k, or hidden with one that is) is left
// out, so that the sum never gives away a unit the results do not show;
// the rows are the release's, read like every report's.
func (a *App) unitsReport(c echo.Context, cp *survey.Campaign, limit []int64) (*survey.Report, error) {
	m, ok := a.models.Version(cp.ModelVersion)
	if !ok {
		return nil, echo.ErrNotFound
	}
	cached, err := a.reports.current(c, a.db, cp)
	if err != nil {
		return nil, err
	}
	unitKey := func(r *survey.ReportRow) string {
		if r.UnitID == nil {
			return ""
		}
		return strconv.FormatInt(*r.UnitID, 10)
	}
	counts := map[string]int{}
	for i := range cached.rows {
		counts[unitKey(&cached.rows[i])]++
	}
	hidden := survey.SuppressGroups(counts, cp.KMin)
	var rows []survey.ReportRow
	for i := range cached.rows {
		r := &cached.rows[i]
		if r.UnitID != nil && slices.Contains(limit, *r.UnitID) && !hidden[unitKey(r)] {
			rows = append(rows, *r)
		}
	}
	return survey.BuildReport(m, cp, rows, survey.ReportFilter{}, nil), nil
}

// subScores rolls the report's practice scores up to sub-sections.
func subScores(rep *survey.Report) map[string]subScore {
	type acc struct {
		i, r   float64
		ni, nr int
	}
	sums := map[string]*acc{}
	for _, p := range rep.Practices {
		s := sums[p.Subsection]
		if s == nil {
			s = &acc{}
			sums[p.Subsection] = s
		}
		if p.Intention != nil {
			s.i += *p.Intention
			s.ni++
		}
		if p.Reality != nil {
			s.r += *p.Reality
			s.nr++
		}
	}
	out := make(map[string]subScore, len(sums))
	for slug, s := range sums {
		var sc subScore
		if s.ni > 0 {
			sc.Intention = ptrTo(s.i / float64(s.ni))
		}
		if s.nr > 0 {
			sc.Reality = ptrTo(s.r / float64(s.nr))
		}
		if sc.Intention != nil && sc.Reality != nil {
			sc.CEM = ptrTo((*sc.Intention + *sc.Reality) / 2)
		}
		out[slug] = sc
	}
	return out
}

func ptrTo(v float64) *float64 { return &v }

// orgFigures is the "your organisation" box on a portal page.
type orgFigures struct {
	Campaign     *survey.Campaign
	CampaignName string
	Preliminary  bool
	Suppressed   bool
	K            int
	Score        subScore
	ResultsURL   string // empty for roles that may not read results
	Units        bool   // the reader's units, not the organisation
	NoUnits      bool   // a limited manager without units: no figures
}

// figuresFor is the box for one page; nil when there is nothing to say.
func (o *orgResults) figuresFor(slug string, v *viewer) *orgFigures {
	if o == nil {
		return nil
	}
	if o.NoUnits {
		return &orgFigures{NoUnits: true, Suppressed: true}
	}
	f := &orgFigures{Campaign: o.Campaign, CampaignName: campaignName(o.Campaign, ""), Preliminary: o.Report.Preliminary, Suppressed: o.Suppressed(), K: o.Report.K, Units: o.Units}
	if !f.Suppressed {
		f.Score = o.Subs[slug]
	}
	if v.CanRead() {
		f.ResultsURL = fmt.Sprintf("/results/%d", o.Campaign.ID)
	}
	return f
}

// etag is what the box adds to a page's ETag.
func (f *orgFigures) etag() string {
	if f == nil {
		return ""
	}
	if f.NoUnits {
		return "no-units"
	}
	show := func(n survey.Num) string {
		if n == nil {
			return "-"
		}
		return fmt.Sprintf("%.3f", *n)
	}
	// K too: the "not enough responses" text names it, and it may be raised.
	return fmt.Sprintf("%d|%t|%t|%d|%t|%s|%s|%s", f.Campaign.ID, f.Preliminary, f.Suppressed, f.K, f.Units, show(f.Score.Intention), show(f.Score.Reality), f.ResultsURL)
}

// readState is the "mark as read" control of a portal page.
type readState struct {
	Read bool
	CSRF string
}

// --- the learning path ---

// Why the path is in model order.
const (
	pathNoSignIn    = "signin"
	pathNoOrg       = "no_org"
	pathNoResults   = "no_results"
	pathNoUnits     = "no_units"
	pathNotEnough   = "not_enough"
	pathRecommended = "" // ordered by the organisation's results
)

type pathData struct {
	Reason       string // one of the path* constants
	Org          *orgResults
	CampaignName string
	K            int
	Items        []pathItem
	Read         int
	Total        int
	CSRF         string
	Results      string // link to the results page, for roles that may read it
	Units        bool   // ordered by the reader's units' results, not the organisation's
	// Sections group the items by the model's sections, the section of
	// the most urgent topic first; within a section the path's order holds.
	Sections []pathSection
	// Next is the first unread topic of the path, nil when all are read;
	// NextWhy the message id that says, in plain words, why it comes first.
	Next    *pathItem
	NextWhy string
}

// pathSection is one section of the path with its progress.
type pathSection struct {
	ID, Title   string
	Items       []pathItem
	Read, Total int
}

type pathItem struct {
	Sub   *survey.Subsection
	Title string
	Read  bool
	// Recommended: the organisation's recommendations name practices of this page.
	Recommended bool
	Priority    float64
	// PriorityText is Priority as the reader's language writes it: 80.5, 80,5.
	PriorityText string
	Kinds        []string
	Practices    []string
	Score        *subScore
	Section      string // the section's title
	Minutes      int    // reading time
}

// wordsPerMinute is a reading pace for a considered text on screen.
const wordsPerMinute = 200

// readingMinutes is a page's reading time, at least a minute.
func readingMinutes(text string) int {
	return max(1, (len(strings.Fields(text))+wordsPerMinute/2)/wordsPerMinute)
}

// PracticeList names the recommended practices of the page: "AP-03, AP-05".
func (it pathItem) PracticeList() string { return strings.Join(it.Practices, ", ") }

// campaignName is how the portal and the mails name a wave: "Name · wave",
// the name in lang where the campaign has one ("" for the main name).
func campaignName(cp *survey.Campaign, lang string) string {
	name := cp.NameIn(lang)
	if cp.WaveLabel == "" {
		return name
	}
	return name + " · " + cp.WaveLabel
}

func (a *App) learnPath(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "private, no-store")
	v := viewerOf(c)
	if v == nil {
		return a.render(c, http.StatusOK, "learn_path", a.page(c, "learn.path.title", pathData{Reason: pathNoSignIn}))
	}
	d, err := a.buildPath(c, v)
	if err != nil {
		return err
	}
	return a.render(c, http.StatusOK, "learn_path", a.page(c, "learn.path.title", d))
}

// buildPath is a signed-in reader's learning path: every topic in the
// path's order, grouped, with the next one to read.
func (a *App) buildPath(c echo.Context, v *viewer) (pathData, error) {
	ctx := c.Request().Context()
	read, err := survey.ReadSlugs(ctx, a.db, v.ID)
	if err != nil {
		return pathData{}, err
	}
	o, err := a.orgResultsOf(c)
	if err != nil {
		return pathData{}, err
	}
	lang := localeOf(c)
	m := a.models.Latest()
	d := pathData{Org: o, CSRF: v.CSRF}
	switch {
	case v.OrgID == 0:
		d.Reason = pathNoOrg
	case o == nil:
		d.Reason = pathNoResults
	case o.NoUnits:
		d.Reason = pathNoUnits
	case o.Suppressed():
		d.Reason, d.K = pathNotEnough, o.Report.K
	}
	if o != nil && o.Campaign != nil {
		d.CampaignName, d.Units = campaignName(o.Campaign, ""), o.Units
	}
	if o != nil && o.Campaign != nil && v.CanRead() {
		d.Results = fmt.Sprintf("/results/%d", o.Campaign.ID)
	}
	for _, sub := range m.Subsections() {
		it := pathItem{Sub: sub, Title: sub.Title.In(lang), Minutes: 1}
		if sub.Section != nil {
			it.Section = sub.Section.Title.In(lang)
		}
		if pg, ok := a.library.Page(lang, sub.Slug); ok {
			it.Title, it.Minutes = pg.Title, readingMinutes(pg.Text)
		}
		_, it.Read = read[sub.Slug]
		if it.Read {
			d.Read++
		}
		d.Items = append(d.Items, it)
	}
	d.Total = len(d.Items)
	if d.Reason == pathRecommended {
		d.Items = orderPath(d.Items, o)
		for i := range d.Items {
			d.Items[i].PriorityText = decimal(lang, d.Items[i].Priority)
		}
	}
	d.Sections = groupPath(d.Items)
	for i := range d.Items {
		if !d.Items[i].Read {
			d.Next = &d.Items[i]
			d.NextWhy = nextWhy(d.Next, d.Reason)
			break
		}
	}
	return d, nil
}

// Order is the path's topics in reading order: section by section, as the
// path page lists them.
func (d pathData) Order() []*survey.Subsection {
	var out []*survey.Subsection
	for _, s := range d.Sections {
		for _, it := range s.Items {
			out = append(out, it.Sub)
		}
	}
	return out
}

// groupPath groups the path's items by section: a section comes where its
// first item comes in the path, its items keep the path's order.
func groupPath(items []pathItem) []pathSection {
	var out []pathSection
	at := map[string]int{}
	for _, it := range items {
		id := ""
		if it.Sub.Section != nil {
			id = it.Sub.Section.ID
		}
		k, ok := at[id]
		if !ok {
			k = len(out)
			at[id] = k
			out = append(out, pathSection{ID: id, Title: it.Section})
		}
		out[k].Items = append(out[k].Items, it)
		out[k].Total++
		if it.Read {
			out[k].Read++
		}
	}
	return out
}

// nextWhy is the message id saying why the next topic comes first, in
// words a learner knows: the kind of the recommendation behind it, or its
// low score, or simply the model's order.
func nextWhy(it *pathItem, reason string) string {
	switch {
	case reason != pathRecommended:
		return "learn.next.why.order"
	case it.Recommended && len(it.Kinds) > 0:
		return "learn.next.why." + it.Kinds[0]
	case it.Score != nil && it.Score.CEM != nil:
		return "learn.next.why.low_score"
	}
	return "learn.next.why.order"
}

// orderPath puts first the pages whose practices the organisation's
// recommendations name, in the order of the recommendations (biggest
// priority first); then the others by (100 − the page's CEM score),
// largest first; pages without a score last. Ties keep the model's order.
func orderPath(items []pathItem, o *orgResults) []pathItem {
	bySlug := map[string]int{}
	for i := range items {
		bySlug[items[i].Sub.Slug] = i
		if sc, ok := o.Subs[items[i].Sub.Slug]; ok {
			items[i].Score = &sc
		}
	}
	var order []int
	taken := map[string]bool{}
	for _, r := range o.Report.Recommendations {
		i, ok := bySlug[r.Subsection]
		if !ok {
			continue
		}
		it := &items[i]
		if !taken[r.Subsection] {
			taken[r.Subsection] = true
			order = append(order, i)
			it.Recommended, it.Priority = true, r.Priority // the first is the highest
		}
		it.Practices = append(it.Practices, r.Practice)
		for _, k := range r.Kinds {
			if !slices.Contains(it.Kinds, k) {
				it.Kinds = append(it.Kinds, k)
			}
		}
	}
	first := make([]pathItem, 0, len(items))
	for _, i := range order {
		first = append(first, items[i])
	}
	var rest []pathItem
	for _, it := range items {
		if !taken[it.Sub.Slug] {
			rest = append(rest, it)
		}
	}
	slices.SortStableFunc(rest, func(x, y pathItem) int {
		cx, cy := cemOf(x), cemOf(y)
		switch {
		case cx == nil && cy == nil:
			return 0
		case cx == nil:
			return 1
		case cy == nil:
			return -1
		}
		return cmp.Compare(100-*cy, 100-*cx) // larger (100 − CEM) first
	})
	return append(first, rest...)
}

// decimal writes a number with one decimal in the language's way.
func decimal(lang string, v float64) string {
	return survey.FormatNumber(lang, v, 1)
}

func cemOf(it pathItem) survey.Num {
	if it.Score == nil {
		return nil
	}
	return it.Score.CEM
}

// markRead is POST /learn/{slug}/read: read=1 marks the page read, read=0
// unmarks it; then back to the page or, with back=path, to the path, at the
// same entry. A plain form: it works without JavaScript.
func (a *App) markRead(c echo.Context) error {
	slug := c.Param("slug")
	if _, ok := a.models.Latest().Subsection(slug); !ok {
		return echo.ErrNotFound
	}
	v := viewerOf(c)
	ctx := c.Request().Context()
	var err error
	if c.FormValue("read") == "0" {
		err = survey.MarkUnread(ctx, a.db, v.ID, slug)
	} else {
		err = survey.MarkRead(ctx, a.db, v.ID, slug, time.Now())
	}
	if err != nil {
		return err
	}
	target := portal.PagePath(slug, "") + "#reading"
	if c.FormValue("back") == "path" {
		target = "/learn/path#path-" + strings.TrimPrefix(portal.PagePath(slug, ""), "/learn/")
	}
	return c.Redirect(http.StatusSeeOther, target)
}
