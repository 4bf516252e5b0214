package server

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/labstack/echo/v4"

	"tiltline/survey"
)

// reportRows keeps each campaign's packed responses in memory, keyed by
// campaign and checked against the response count on every request, so a
// report after a submit (here or on another instance) sees the new response
// and repeated reports never reload 10,000 rows.
type reportRows struct {
	mu sync.Mutex
	m  map[int64]cachedRows
}

type cachedRows struct {
	count int64
	rows  []survey.ReportRow
}

func (rc *reportRows) get(c echo.Context, db *survey.DB, campaignID int64) ([]survey.ReportRow, error) {
	ctx := c.Request().Context()
	n, err := survey.CountResponses(ctx, db, campaignID)
	if err != nil {
		return nil, err
	}
	rc.mu.Lock()
	cached, ok := rc.m[campaignID]
	rc.mu.Unlock()
	if ok && cached.count == n {
		return cached.rows, nil
	}
	rows, err := survey.LoadReportRows(ctx, db, campaignID)
	if err != nil {
		return nil, err
	}
	rc.mu.Lock()
	if rc.m == nil {
		rc.m = map[int64]cachedRows{}
	}
	rc.m[campaignID] = cachedRows{count: int64(len(rows)), rows: rows}
	rc.mu.Unlock()
	return rows, nil
}

// reportFilter reads ?unit=, ?role=, ?seniority=; an unknown value is a 400,
// never an empty report that could be mistaken for "no answers".
func (a *App) reportFilter(c echo.Context, cp *survey.Campaign, m *survey.Model, units map[int64]string) (survey.ReportFilter, error) {
	var f survey.ReportFilter
	if u := c.QueryParam("unit"); u != "" {
		id, err := strconv.ParseInt(u, 10, 64)
		if _, known := units[id]; err != nil || !known {
			return f, echo.NewHTTPError(http.StatusBadRequest, "unknown unit")
		}
		f.UnitID = &id
	}
	if r := c.QueryParam("role"); r != "" {
		if !m.HasRole(r) {
			return f, echo.NewHTTPError(http.StatusBadRequest, "unknown role")
		}
		f.Role = r
	}
	if s := c.QueryParam("seniority"); s != "" {
		if !m.HasSeniority(s) {
			return f, echo.NewHTTPError(http.StatusBadRequest, "unknown seniority band")
		}
		f.Seniority = s
	}
	return f, nil
}

// report builds the campaign's report for the request's filter.
func (a *App) report(c echo.Context, cp *survey.Campaign) (*survey.Report, error) {
	m, ok := a.models.Version(cp.ModelVersion)
	if !ok {
		return nil, echo.ErrNotFound
	}
	units, err := survey.Units(c.Request().Context(), a.db, cp.OrganisationID)
	if err != nil {
		return nil, err
	}
	names := make(map[int64]string, len(units))
	for _, u := range units {
		names[u.ID] = u.Name
	}
	f, err := a.reportFilter(c, cp, m, names)
	if err != nil {
		return nil, err
	}
	rows, err := a.reports.get(c, a.db, cp.ID)
	if err != nil {
		return nil, err
	}
	return survey.BuildReport(m, cp, rows, f, names), nil
}

// apiReport is GET /api/v1/campaigns/{id}/report.
func (a *App) apiReport(c echo.Context) error {
	cp, err := a.campaignOf(c)
	if err != nil {
		return err
	}
	rep, err := a.report(c, cp)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rep)
}
