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

// The benchmark pool is small (one entry per opted-in organisation and
// year) and read on every results page, so it is kept in memory for a short
// while and dropped at once when this instance closes a campaign.
type benchmarkPool struct {
	mu      sync.Mutex
	entries []survey.BenchmarkScores
	loaded  time.Time
	// built views by filter and viewing organisation (whose own entries
	// each leaves out), dropped with each reload
	built map[poolViewKey]*survey.Benchmark
}

type poolViewKey struct {
	filter survey.BenchmarkFilter
	viewer int64
}

const poolTTL = 30 * time.Second

// getLocked is the pool, reloaded after poolTTL; bp.mu is held.
func (bp *benchmarkPool) getLocked(ctx context.Context, db *survey.DB) ([]survey.BenchmarkScores, error) {
	if !bp.loaded.IsZero() && time.Since(bp.loaded) < poolTTL {
		return bp.entries, nil
	}
	entries, err := survey.LoadPool(ctx, db)
	if err != nil {
		return nil, err
	}
	bp.entries, bp.loaded, bp.built = entries, time.Now(), nil
	return entries, nil
}

// view is the benchmark of a filter for a viewing organisation (0: a reader
// without one), built once per pool load.
func (bp *benchmarkPool) view(ctx context.Context, db *survey.DB, m *survey.Model, f survey.BenchmarkFilter, viewer int64) (*survey.Benchmark, error) {
	// One lock for loading and building, so that a view is never built
	// from one load and kept under the next.
	bp.mu.Lock()
	defer bp.mu.Unlock()
	pool, err := bp.getLocked(ctx, db)
	if err != nil {
		return nil, err
	}
	key := poolViewKey{f, viewer}
	if b, ok := bp.built[key]; ok {
		return b, nil
	}
	b := survey.BuildBenchmark(m, pool, survey.ReferenceSet(), f, viewer)
	if bp.built == nil {
		bp.built = map[poolViewKey]*survey.Benchmark{}
	}
	if len(bp.built) < 2048 { // filters are few (sectors × regions × sizes × years), readers' organisations more
		bp.built[key] = b
	}
	return b, nil
}

// version changes whenever the pool is reloaded: views built from it may be
// kept under it.
func (bp *benchmarkPool) version() int64 {
	bp.mu.Lock()
	defer bp.mu.Unlock()
	return bp.loaded.UnixNano()
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

// benchmark is the comparison group of the request's benchmark filter for
// the organisation whose campaign is read: its own entries are left out.
func (a *App) benchmark(c echo.Context, m *survey.Model, orgID int64) (*survey.Benchmark, error) {
	f, err := a.benchmarkFilter(c)
	if err != nil {
		return nil, err
	}
	return a.pool.view(c.Request().Context(), a.db, m, f, orgID)
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

// sectionQuartiles is one section's spread in the whole comparison set
// (pool or reference, unfiltered), for the portal's pages; nil when there
// are too few entries to show. A signed-in reader's organisation is left
// out of the pool, as on its results page.
func (a *App) sectionQuartiles(c echo.Context, sectionID string) (*survey.SectionPercentiles, *survey.Benchmark) {
	m := a.models.Latest()
	var viewer int64
	if v := viewerOf(c); v != nil {
		viewer = v.OrgID
	}
	b, err := a.pool.view(c.Request().Context(), a.db, m, survey.BenchmarkFilter{}, viewer)
	if err != nil { // the page still shows the reference set; the pool is tried again next time
		a.log.WarnContext(c.Request().Context(), "benchmark pool", "err", err)
		b = survey.BuildBenchmark(m, nil, survey.ReferenceSet(), survey.BenchmarkFilter{}, viewer)
	}
	for i := range b.Sections {
		if b.Sections[i].ID == sectionID && b.Sections[i].Percentiles != nil {
			return &b.Sections[i], b
		}
	}
	return nil, b
}
