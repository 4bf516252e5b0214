package server

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"tiltline/portal"
	"tiltline/survey"
	"tiltline/survey/actions"
)

// The learning portal: one best-practice page per sub-section, in every
// language, linked from every survey question. Pages are the same for every
// reader, so they carry an ETag and may be cached.

// requirePortalAccess lets everyone in when the portal is public, else only
// signed-in users.
func (a *App) requirePortalAccess(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !a.cfg.PublicPortal && viewerOf(c) == nil {
			return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request().URL.RequestURI()))
		}
		return next(c)
	}
}

// notModified answers 304 when the reader already has this version.
func notModified(c echo.Context, parts ...string) bool {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	etag := `"` + hex.EncodeToString(h.Sum(nil))[:16] + `"`
	hd := c.Response().Header()
	hd.Set("ETag", etag)
	hd.Set("Vary", "Cookie, Accept-Language")
	if viewerOf(c) == nil {
		hd.Set("Cache-Control", "public, max-age=300")
	} else {
		// Signed-in pages carry read marks, the organisation's figures and
		// the session's CSRF token: no cache keeps them (see privateAnswer).
		hd.Set("Cache-Control", "private, no-store")
	}
	if c.Request().Header.Get("If-None-Match") == etag {
		c.NoContent(http.StatusNotModified)
		return true
	}
	return false
}

type learnIndexData struct {
	Model    *survey.Model
	Pages    map[string]*portal.Page
	Sections []*survey.Section
}

func (a *App) learnIndex(c echo.Context) error {
	lang := localeOf(c)
	// The session's CSRF token is part of every signed-in page (the sign-out
	// form): a new session must not get an old session's page back.
	if notModified(c, "index", lang, a.portalVersion, csrfOf(c)) {
		return nil
	}
	m := a.models.Latest()
	pages := map[string]*portal.Page{}
	for _, sub := range m.Subsections() {
		pages[sub.Slug], _ = a.library.Page(lang, sub.Slug)
	}
	return a.render(c, http.StatusOK, "learn_index", a.page(c, "learn.title", learnIndexData{Model: m, Pages: pages, Sections: m.Sections}))
}

type learnPageData struct {
	Page       *portal.Page
	Section    *survey.Section
	Subsection *survey.Subsection
	Prev, Next *survey.Subsection
	Related    []*survey.Subsection
	Cases      []caseView
	Form       caseForm
	// Org is "your organisation" on this topic, for signed-in members; nil otherwise.
	Org *orgFigures
	// Reading is the "mark as read" control; nil for anonymous readers.
	Reading *readState
	// Bench is the section's spread across the comparison set, for context.
	Bench      *survey.SectionPercentiles
	BenchSet   *survey.Benchmark
	BenchScale template.HTML
	// Actions are the organisation's actions on this topic's practices, for
	// signed-in members (actions_results.go).
	Actions []*actions.Action
	// FromPath: the reader came from the learning path, so previous and
	// next follow the path, and their links keep ?from=path.
	FromPath bool
	// Contents lists the page's parts ("On this page").
	Contents []tocEntry
	// Body is the page's HTML with the five levels of each dimension as
	// tables under "What Intention and Reality look like".
	Body template.HTML
}

// tocEntry is one part of a page: its anchor and heading.
type tocEntry struct{ ID, Title string }

var h2RE = regexp.MustCompile(`<h2 id="([^"]+)">(.*?)</h2>`)

// contents reads a page's parts from its rendered headings.
func contents(body template.HTML) []tocEntry {
	var out []tocEntry
	for _, m := range h2RE.FindAllStringSubmatch(string(body), -1) {
		out = append(out, tocEntry{ID: m[1], Title: html.UnescapeString(tagRE.ReplaceAllString(m[2], ""))})
	}
	return out
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

// withLevelTables puts, under the page's levels heading, one table per
// dimension, lowest level first: the level's title with the model's generic
// description beside what it looks like in this topic (the page's signs,
// portal/content/FORMAT.md). A sign for two adjacent levels spans their rows.
func (a *App) withLevelTables(body template.HTML, signs map[string][]portal.Sign, m *survey.Model, lang string) template.HTML {
	loc := h2RE.FindStringSubmatchIndex(string(body))
	for loc != nil && string(body)[loc[2]:loc[3]] != "levels" {
		next := h2RE.FindStringSubmatchIndex(string(body)[loc[1]:])
		if next == nil {
			return body
		}
		for i := range next {
			next[i] += loc[1]
		}
		loc = next
	}
	if loc == nil {
		return body
	}
	var b strings.Builder
	for _, d := range m.Dimensions {
		sign := map[int]portal.Sign{} // by the sign's first (lowest) level
		for _, s := range signs[d.Key] {
			sign[s.Levels[0]] = s
		}
		b.WriteString(`<table class="data levels"><caption>` + template.HTMLEscapeString(d.Title.In(lang)+" — "+a.i18n.T(lang, "learn.levels.table", nil)) + `</caption>`)
		b.WriteString(`<thead><tr><th scope="col">` + template.HTMLEscapeString(a.i18n.T(lang, "learn.levels.level", nil)) + `</th><th scope="col">` +
			template.HTMLEscapeString(a.i18n.T(lang, "learn.levels.description", nil)) + `</th></tr></thead><tbody>`)
		for i := len(d.Levels) - 1; i >= 0; i-- {
			l := d.Levels[i]
			b.WriteString(`<tr><th scope="row">` + template.HTMLEscapeString(l.Title.In(lang)) +
				`<span class="level-generic">` + template.HTMLEscapeString(l.Text.In(lang)) + `</span></th>`)
			if s, ok := sign[l.Level]; ok {
				if len(s.Levels) > 1 {
					b.WriteString(`<td rowspan="` + strconv.Itoa(len(s.Levels)) + `">`)
				} else {
					b.WriteString(`<td>`)
				}
				b.WriteString(string(s.Text) + `</td>`)
			}
			b.WriteString(`</tr>`)
		}
		b.WriteString(`</tbody></table>`)
	}
	s := string(body)
	return template.HTML(s[:loc[1]] + b.String() + s[loc[1]:])
}

type caseView struct {
	ID         int64
	Title, Org string
	Body       template.HTML
}

// caseForm is the "share a case" form under a page, for signed-in readers.
type caseForm struct {
	Input    portal.CaseInput
	Errors   map[string]string
	Proposed bool
	CSRF     string
	OrgName  string // the viewer's organisation, which a case may name
}

func (a *App) learnPage(c echo.Context) error {
	return a.renderLearnPage(c, http.StatusOK, caseForm{Proposed: c.QueryParam("proposed") != ""})
}

func (a *App) renderLearnPage(c echo.Context, status int, form caseForm) error {
	slug := c.Param("slug")
	m := a.models.Latest()
	sub, ok := m.Subsection(slug)
	if !ok {
		return echo.ErrNotFound
	}
	lang := localeOf(c)
	pg, ok := a.library.Page(lang, slug)
	if !ok {
		return echo.ErrNotFound
	}
	cases, err := portal.PublishedCases(c.Request().Context(), a.db, slug, lang)
	if err != nil {
		return err
	}
	d := learnPageData{Page: pg, Section: sub.Section, Subsection: sub}
	d.Bench, d.BenchSet = a.sectionQuartiles(c, sub.Section.ID)
	if d.Bench != nil {
		d.BenchScale = quartileScale(d.Bench.Percentiles)
	}
	viewerID, readMark := "", ""
	if v := viewerOf(c); v != nil {
		viewerID, form.CSRF = strconv.FormatInt(v.ID, 10), v.CSRF
		if v.OrganisationID != nil {
			o, err := survey.OrganisationByID(c.Request().Context(), a.db, *v.OrganisationID)
			if err != nil {
				return err
			}
			form.OrgName = o.Name
		}
		read, err := survey.ReadSlugs(c.Request().Context(), a.db, v.ID)
		if err != nil {
			return err
		}
		_, isRead := read[slug]
		d.Reading = &readState{Read: isRead, CSRF: v.CSRF}
		readMark = strconv.FormatBool(isRead)
		o, err := a.orgResultsOf(c)
		if err != nil {
			return err
		}
		d.Org = o.figuresFor(slug, v)
		if d.Actions, err = a.learnActions(c, sub); err != nil {
			return err
		}
	}
	d.Form = form
	newest := ""
	if len(cases) > 0 {
		newest = strconv.FormatInt(cases[0].ID, 10)
	}
	if status == http.StatusOK && !form.Proposed && notModified(c, "page", slug, lang, a.portalVersion, newest, viewerID, csrfOf(c), readMark, c.QueryParam("from"), form.OrgName, d.Org.etag(), d.BenchSet.Source+strconv.Itoa(d.BenchSet.Entries)+"o"+strconv.Itoa(d.BenchSet.Organisations), actionsTag(d.Actions)) {
		return nil
	}
	for _, cs := range cases {
		d.Cases = append(d.Cases, caseView{ID: cs.ID, Title: cs.Title, Org: cs.OrgName, Body: portal.RenderCase(cs.Body)})
	}
	all := m.Subsections()
	if v := viewerOf(c); v != nil && c.QueryParam("from") == "path" {
		pd, err := a.buildPath(c, v)
		if err != nil {
			return err
		}
		all, d.FromPath = pd.Order(), true
	}
	d.Body = a.withLevelTables(pg.Body, pg.Signs, m, lang)
	d.Contents = contents(pg.Body)
	for i, s := range all {
		if s == sub {
			if i > 0 {
				d.Prev = all[i-1]
			}
			if i+1 < len(all) {
				d.Next = all[i+1]
			}
		}
	}
	for _, r := range pg.Related {
		if rs, ok := m.Subsection(r); ok {
			d.Related = append(d.Related, rs)
		}
	}
	p := a.page(c, "", d)
	p.Title = pg.Title
	return a.render(c, status, "learn_page", p)
}

// caseCreate takes a proposed case; it waits for moderation before anyone sees it.
func (a *App) caseCreate(c echo.Context) error {
	in := portal.CaseInput{Subsection: c.Param("slug"), Locale: localeOf(c), Title: c.FormValue("title"), Body: c.FormValue("body"), NameOrg: c.FormValue("name_org") != ""}
	_, err := portal.Propose(c.Request().Context(), a.db, a.models.Latest(), viewerOf(c).ID, in)
	if fe, ok := formErrors(err); ok {
		if _, known := a.models.Latest().Subsection(in.Subsection); !known {
			return echo.ErrNotFound
		}
		return a.renderLearnPage(c, http.StatusUnprocessableEntity, caseForm{Input: in, Errors: fe})
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, portal.PagePath(in.Subsection, "share")+"?proposed=1")
}

type moderationData struct {
	Cases []moderationCase
	CSRF  string
}

type moderationCase struct {
	portal.Contribution
	Rendered template.HTML
	Author   string
}

// moderationPage lists pending cases for the platform admin, rendered as they would appear.
func (a *App) moderationPage(c echo.Context) error {
	cs, err := portal.PendingCases(c.Request().Context(), a.db)
	if err != nil {
		return err
	}
	d := moderationData{CSRF: csrfOf(c)}
	for _, cs := range cs {
		mc := moderationCase{Contribution: cs, Rendered: portal.RenderCase(cs.Body)}
		if cs.AuthorID != nil {
			if u, err := survey.UserByID(c.Request().Context(), a.db, *cs.AuthorID); err == nil {
				mc.Author = u.Email
			}
		}
		d.Cases = append(d.Cases, mc)
	}
	return a.render(c, http.StatusOK, "admin_moderation", a.page(c, "learn.case.moderation", d))
}

func (a *App) moderate(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	err = portal.Moderate(c.Request().Context(), a.db, id, viewerOf(c).ID, c.FormValue("decision") == "publish", c.FormValue("reason"))
	switch {
	case errors.Is(err, survey.ErrNotFound):
		return echo.ErrNotFound
	case errors.Is(err, portal.ErrAlreadyModerated):
		return echo.NewHTTPError(http.StatusConflict)
	case err != nil:
		if _, ok := formErrors(err); ok {
			return echo.NewHTTPError(http.StatusUnprocessableEntity, a.i18n.T(localeOf(c), "learn.case.error.reason", nil))
		}
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/moderation")
}

type searchData struct {
	Query string
	Hits  []portal.Hit
	Done  bool
	// With no hits in the reader's language: the hits in another one
	// (Other, in OtherLocale), linked to the reader's own page, and the
	// sections to browse instead.
	Other       []portal.Hit
	OtherLocale string
	// The two languages' names, as a sentence writes them.
	LangName, OtherName string
	Sections            []*survey.Section
}

// learnSearch is /learn/search?q=… in the reader's language; when nothing
// is found there, in the other languages, first the one with hits.
func (a *App) learnSearch(c echo.Context) error {
	q := strings.TrimSpace(c.QueryParam("q"))
	if len(q) > 200 {
		q = q[:200]
	}
	d := searchData{Query: q}
	lang := localeOf(c)
	if q != "" {
		ctx := c.Request().Context()
		hits, err := portal.Search(ctx, a.db, lang, q, 20)
		if err != nil {
			return err
		}
		d.Hits, d.Done = hits, true
		for _, l := range survey.Locales {
			if len(d.Hits) > 0 || d.Other != nil {
				break
			}
			if l == lang {
				continue
			}
			other, err := portal.Search(ctx, a.db, l, q, 20)
			if err != nil {
				return err
			}
			if len(other) == 0 {
				continue
			}
			for i := range other { // the reader's own page, under its title
				if pg, ok := a.library.Page(lang, other[i].Ref); ok && other[i].Kind == "page" {
					other[i].Title = pg.Title
				}
			}
			d.Other, d.OtherLocale = other, l
			d.LangName, d.OtherName = a.langInSentence(lang, lang), a.langInSentence(lang, l)
			break
		}
		if len(d.Hits) == 0 {
			d.Sections = a.models.Latest().Sections
		}
	}
	return a.render(c, http.StatusOK, "learn_search", a.page(c, "learn.search.title", d))
}
