package server

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"tiltline/portal"
	"tiltline/survey"
)

// The learning portal: one best-practice page per sub-section, in every
// language, linked from every survey question. Pages are the same for every
// reader, so they carry an ETag and may be cached.

// requirePortalAccess lets everyone in when the portal is public, else only
// signed-in users.
func (a *App) requirePortalAccess(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !a.cfg.PublicPortal && viewerOf(c) == nil {
			return c.Redirect(http.StatusSeeOther, "/login?next="+c.Request().URL.RequestURI())
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
		hd.Set("Cache-Control", "private, max-age=60")
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
	if notModified(c, "index", lang, a.portalVersion) {
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
}

func (a *App) learnPage(c echo.Context) error {
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
	if notModified(c, "page", slug, lang, a.portalVersion) {
		return nil
	}
	d := learnPageData{Page: pg, Section: sub.Section, Subsection: sub}
	all := m.Subsections()
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
	return a.render(c, http.StatusOK, "learn_page", p)
}

type searchData struct {
	Query string
	Hits  []portal.Hit
	Done  bool
}

// learnSearch is /learn/search?q=… in the reader's language.
func (a *App) learnSearch(c echo.Context) error {
	q := strings.TrimSpace(c.QueryParam("q"))
	if len(q) > 200 {
		q = q[:200]
	}
	d := searchData{Query: q}
	if q != "" {
		hits, err := portal.Search(c.Request().Context(), a.db, localeOf(c), q, 20)
		if err != nil {
			return err
		}
		d.Hits, d.Done = hits, true
	}
	return a.render(c, http.StatusOK, "learn_search", a.page(c, "learn.search.title", d))
}
