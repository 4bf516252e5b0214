package server

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzhttp"
	"github.com/labstack/echo/v4"

	"tiltline/portal"
	"tiltline/survey"
	"tiltline/survey/export"
)

// The result files: an aggregate CSV, an Excel workbook and a PDF report of
// the view the request's filter selects (?unit=, ?role=, ?seniority=), from
// the results page (GET /results/{id}/…) and the API (GET
// /api/v1/campaigns/{id}/…). Each is built from the same report as the page,
// through a.report, so it obeys exactly the same suppression: a hidden view
// is a 409 with the page's message, never a file and never a 500.

const (
	contentTypeXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	contentTypePDF  = "application/pdf"
	contentTypeCSV  = "text/csv; charset=utf-8"
)

// exportDoc builds the request's report and what labels it; a suppressed
// view is a 409.
func (a *App) exportDoc(c echo.Context) (*export.Doc, error) {
	cp, err := a.campaignOf(c)
	if err != nil {
		return nil, err
	}
	rep, _, err := a.report(c, cp)
	if err != nil {
		return nil, err
	}
	lang := localeOf(c)
	if rep.Suppressed || rep.Overall == nil {
		reason := rep.Reason
		if reason == "" {
			reason = "too_few"
		}
		return nil, echo.NewHTTPError(http.StatusConflict, localized(a.i18n.T(lang, "results.suppressed."+reason, map[string]any{"K": rep.K})))
	}
	m, ok := a.models.Version(cp.ModelVersion)
	if !ok {
		return nil, echo.ErrNotFound
	}
	_, names, err := a.unitNames(c, cp.OrganisationID)
	if err != nil {
		return nil, err
	}
	org := ""
	if o, err := survey.OrganisationByID(c.Request().Context(), a.db, cp.OrganisationID); err == nil {
		org = o.Name
	}
	bench, err := a.benchmark(c, m, cp.OrganisationID)
	if err != nil {
		return nil, err
	}
	part, _, err := a.participation(c, cp, rep)
	if err != nil {
		return nil, err
	}
	var things []string
	for _, f := range keyFacts(rep, benchmarkView(bench, rep, m, lang), m, lang, func(id string, data map[string]any) string { return a.i18n.T(lang, id, data) }) {
		things = append(things, f.Text)
	}
	base := strings.TrimRight(a.cfg.BaseURL, "/")
	doc := &export.Doc{
		Things: things,
		Model:  m, Campaign: cp, Report: rep, Organisation: org, UnitNames: names, Locale: lang,
		T:         func(id string, data map[string]any) string { return a.i18n.T(lang, id, data) },
		Link:      func(slug, practice string) string { return base + portal.PagePath(slug, practice) },
		Generated: time.Now(),
		Benchmark: bench, Participation: part,
		Trend: survey.BuildTrend(a.waves(c, cp, rep, rep.Filter, names)),
	}
	doc.Actions, err = a.exportActions(c, cp) // the action plan: a sheet and a page
	return doc, err
}

// exportFile writes a file made by write, buffered so a failure is still a
// clean error response rather than half a file.
func (a *App) exportFile(c echo.Context, contentType, suffix string, write func(io.Writer, *export.Doc) error) error {
	d, err := a.exportDoc(c)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := write(&buf, d); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s"`, exportFilename(d, suffix)))
	h.Set("Cache-Control", "private, no-store")
	h.Set(echo.HeaderContentLength, strconv.Itoa(buf.Len()))
	if contentType != contentTypeCSV {
		// A workbook is a zip file and fpdf deflates its streams: gzip
		// would spend CPU for nothing.
		h.Set(gzhttp.HeaderNoCompression, "1")
	}
	return c.Blob(http.StatusOK, contentType, buf.Bytes())
}

// exportFilename names the campaign, the view and the kind of file:
// tiltline-campaign-7-unit-3-results.xlsx. Only ids and fixed words, so it
// never needs quoting.
func exportFilename(d *export.Doc, suffix string) string {
	name := "tiltline-campaign-" + strconv.FormatInt(d.Campaign.ID, 10)
	f := d.Report.Filter
	if f.UnitID != nil {
		name += "-unit-" + strconv.FormatInt(*f.UnitID, 10)
	}
	if f.Role != "" {
		name += "-" + safeName(f.Role)
	}
	if f.Seniority != "" {
		name += "-" + safeName(f.Seniority)
	}
	return name + "-" + suffix
}

// safeName keeps letters, digits and dashes of a model key.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, s)
}

// exportXLSX is GET /results/{id}/export.xlsx and its API twin.
func (a *App) exportXLSX(c echo.Context) error {
	return a.exportFile(c, contentTypeXLSX, "results.xlsx", export.WriteWorkbook)
}

// exportPDF is GET /results/{id}/export.pdf and its API twin.
func (a *App) exportPDF(c echo.Context) error {
	return a.exportFile(c, contentTypePDF, "report.pdf", export.WritePDF)
}

// exportAggregateCSV is GET /results/{id}/aggregate.csv and its API twin.
func (a *App) exportAggregateCSV(c echo.Context) error {
	return a.exportFile(c, contentTypeCSV, "scores.csv", export.WriteAggregateCSV)
}
