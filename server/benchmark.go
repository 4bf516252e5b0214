package server

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"tiltline/survey"
)

// The benchmark pool is small (one row per opted-in closed campaign) and
// read on every results page, so it is kept in memory for a short while and
// dropped at once when this instance closes a campaign.
type benchmarkPool struct {
	mu      sync.Mutex
	entries []survey.BenchmarkScores
	loaded  time.Time
}

const poolTTL = 30 * time.Second

func (bp *benchmarkPool) get(ctx context.Context, db *survey.DB) ([]survey.BenchmarkScores, error) {
	bp.mu.Lock()
	defer bp.mu.Unlock()
	if !bp.loaded.IsZero() && time.Since(bp.loaded) < poolTTL {
		return bp.entries, nil
	}
	entries, err := survey.LoadPool(ctx, db)
	if err != nil {
		return nil, err
	}
	bp.entries, bp.loaded = entries, time.Now()
	return entries, nil
}

func (bp *benchmarkPool) invalidate() {
	bp.mu.Lock()
	bp.loaded = time.Time{}
	bp.mu.Unlock()
}

// benchmarkFilter reads ?b_sector=, ?b_region=, ?b_year=, ?b_size=; an
// unknown value is a 400 with a message, like the report's own filters.
func (a *App) benchmarkFilter(c echo.Context) (survey.BenchmarkFilter, error) {
	f := survey.BenchmarkFilter{Sector: c.QueryParam("b_sector"), Region: c.QueryParam("b_region"), SizeBand: c.QueryParam("b_size")}
	bad := func() error { return a.userError(c, http.StatusBadRequest, "results.bench.bad_filter", nil) }
	if f.Sector != "" && !slices.Contains(survey.Sectors, f.Sector) ||
		f.Region != "" && !slices.Contains(survey.Regions, f.Region) ||
		f.SizeBand != "" && !slices.Contains(survey.SizeBands, f.SizeBand) {
		return f, bad()
	}
	if y := c.QueryParam("b_year"); y != "" {
		year, err := strconv.Atoi(y)
		if err != nil || year < 1990 || year > 2100 {
			return f, bad()
		}
		f.Year = year
	}
	return f, nil
}

// benchmark is the comparison group for the request's benchmark filter.
func (a *App) benchmark(c echo.Context, m *survey.Model) (*survey.Benchmark, error) {
	f, err := a.benchmarkFilter(c)
	if err != nil {
		return nil, err
	}
	pool, err := a.pool.get(c.Request().Context(), a.db)
	if err != nil {
		return nil, err
	}
	return survey.BuildBenchmark(m, pool, survey.ReferenceSet(), f), nil
}

// contributeToPool records (or withdraws) a campaign's scores after its
// status changed; a failure is logged, never shown to the admin closing it.
func (a *App) contributeToPool(c echo.Context, cp *survey.Campaign) {
	ctx := c.Request().Context()
	org, err := survey.OrganisationByID(ctx, a.db, cp.OrganisationID)
	if err == nil {
		var rep *survey.Report
		if m, ok := a.models.Version(cp.ModelVersion); ok && cp.Status == survey.StatusClosed {
			var rows []survey.ReportRow
			if rows, err = survey.LoadReportRows(ctx, a.db, cp.ID); err == nil {
				rep = survey.BuildReport(m, cp, rows, survey.ReportFilter{}, nil)
			}
		}
		if err == nil {
			err = survey.ContributeToPool(ctx, a.db, org, cp, rep, time.Now())
		}
	}
	if err != nil {
		a.log.ErrorContext(ctx, "benchmark pool", "campaign", cp.ID, "err", err)
	}
	a.pool.invalidate()
}
