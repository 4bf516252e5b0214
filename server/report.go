package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/labstack/echo/v4"
	"golang.org/x/sync/singleflight"

	"tiltline/survey"
	"tiltline/survey/export"
)

// reportRows keeps each campaign's current release (its packed responses,
// each with its cell's profile) and the reports built from them in memory,
// checked against the latest release's number: at once after a release on
// this instance, otherwise when the last check is older than countFresh —
// so a release made on another instance shows within that time.
type reportRows struct {
	mu sync.Mutex
	m  map[int64]cachedRows
	// sf lets one request load a campaign's rows or build a report while
	// concurrent ones for the same thing wait for its result: sixteen
	// managers opening a 100k campaign at once load it once, not sixteen times.
	sf singleflight.Group
	// invited is each campaign's invitation counts, kept apart from its
	// rows: an earlier wave's rows, read for a trend, need none.
	invited map[int64]invitedCounts
	// wholes is earlier waves' whole reports, kept without their rows;
	// seqs the release numbers cache keys name them by.
	wholes map[int64]wholeReport
	seqs   map[int64]seqCheck
}

// invitedCounts is a campaign's invitations: in all, and, once a filtered
// view has asked, by the participant-list profile. The whole
// organisation's rate needs only the total: splitting 1.4 million
// invitations by profile (a join with the participants) took two seconds
// of two database cores, which every first view paid beside its rows.
type invitedCounts struct {
	n       int64
	checked time.Time
	took    time.Duration // how long the count took
	// by splits the total byN; it is counted again when n moves from it.
	by    []survey.InvitedGroup
	byN   int64
	hasBy bool
}

// stale says when kept counts are counted again: after countFresh, or
// twenty times what counting took, whichever is longer. At 1.4 million
// invitations a count takes a fifth of a second alone and a second under
// load: counted every second, it kept a core of the database busy and
// doubled the slowest cached views. Invitations change with an import,
// rarely; the rate lags one by at most twenty counts' time.
func (k invitedCounts) stale() bool {
	return time.Since(k.checked) >= max(countFresh, 20*k.took)
}

// countFresh is how long a check of the release stands for other instances' releases.
const countFresh = time.Second

type cachedRows struct {
	// release is what the rows are (nil: nothing released yet); its number
	// and k are part of every key built on them, through gen
	release *survey.Release
	rows    []survey.ReportRow
	status  string // the campaign's status when built: "preliminary" follows it
	// the campaign's section weights when built: recommendations follow them
	weights string
	// the campaign's k when built: a raised k shows at once, even before
	// (or without) a release that regroups the cells
	k int
	// built reports by filter key, valid for this count and status
	reports map[string]*survey.Report
	// when the count was last checked against the database; zero after a
	// submit on this instance
	checked time.Time
	// gen identifies this load of the rows: pages built from them may be
	// kept under it (fragments), and die with it
	gen       uint64
	fragments map[string]string
	// runs are fragments kept deflated too, for pages sent around them
	// (renderAround)
	runs map[string]deflated
}

var rowsGen atomic.Uint64

func (c cachedRows) seq() int {
	if c.release == nil {
		return 0
	}
	return c.release.Seq
}

// releaseInfo is what a report says of the release it shows.
func (c cachedRows) releaseInfo() *survey.ReleaseInfo { return releaseInfo(c.release) }

// releaseInfo is what a report says of the release r it shows; nil for none.
func releaseInfo(r *survey.Release) *survey.ReleaseInfo {
	if r == nil {
		return nil
	}
	return &survey.ReleaseInfo{Seq: r.Seq, Responses: r.Shown, HeldBack: r.HeldBack, At: r.CreatedAt}
}

// fragment is a rendered page part or response body built from these rows, if kept.
func (rc *reportRows) fragment(campaignID int64, gen uint64, key string) (string, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	cached, ok := rc.m[campaignID]
	if !ok || cached.gen != gen {
		return "", false
	}
	h, ok := cached.fragments[key]
	return h, ok
}

// keepFragment stores a page part under the rows it was built from, unless
// they were reloaded meanwhile.
func (rc *reportRows) keepFragment(campaignID int64, gen uint64, key string, h string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if cached, ok := rc.m[campaignID]; ok && cached.gen == gen && len(cached.fragments) < 64 {
		cached.fragments[key] = h
	}
}

// run returns a fragment kept deflated by keepRun.
func (rc *reportRows) run(campaignID int64, gen uint64, key string) (deflated, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	cached, ok := rc.m[campaignID]
	if !ok || cached.gen != gen {
		return deflated{}, false
	}
	r, ok := cached.runs[key]
	return r, ok
}

// keepRun keeps a fragment's text deflated (see section_gzip.go), under
// the same rules as keepFragment.
func (rc *reportRows) keepRun(campaignID int64, gen uint64, key string, html []byte) {
	run := deflate(html)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if cached, ok := rc.m[campaignID]; ok && cached.gen == gen && cached.runs != nil && len(cached.runs) < 64 {
		cached.runs[key] = run
	}
}

// keepBody keeps a whole response body built from these rows, and its
// gzip form: the same body for every reader of the view is compressed
// once, not on every request (compressing was a third of a cached view's
// time at a million responses).
func (rc *reportRows) keepBody(campaignID int64, gen uint64, key string, body []byte) {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression) // a valid level: no error
	_, _ = zw.Write(body)                                  // into memory: no error
	if zw.Close() == nil {
		rc.keepFragment(campaignID, gen, key+"|gzip", b.String())
	}
	rc.keepFragment(campaignID, gen, key, string(body))
}

// serveKept writes a body kept by keepBody, compressed when the client
// takes gzip; false when none is kept.
func (rc *reportRows) serveKept(c echo.Context, campaignID int64, gen uint64, key, contentType string) (bool, error) {
	h := c.Response().Header()
	if acceptsGzip(c.Request().Header.Get(echo.HeaderAcceptEncoding)) {
		if gz, ok := rc.fragment(campaignID, gen, key+"|gzip"); ok {
			varyOnEncoding(h)
			h.Set(echo.HeaderContentEncoding, "gzip")
			return true, c.Blob(http.StatusOK, contentType, []byte(gz))
		}
	}
	body, ok := rc.fragment(campaignID, gen, key)
	if !ok {
		return false, nil
	}
	varyOnEncoding(h)
	return true, c.Blob(http.StatusOK, contentType, []byte(body))
}

// varyOnEncoding says the response depends on Accept-Encoding, once: the
// gzip middleware says so too for the responses it may compress.
func varyOnEncoding(h http.Header) {
	for _, v := range h.Values(echo.HeaderVary) {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), echo.HeaderAcceptEncoding) {
				return
			}
		}
	}
	h.Add(echo.HeaderVary, echo.HeaderAcceptEncoding)
}

// acceptsGzip reads an Accept-Encoding header: gzip (or *) named without q=0.
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if c := strings.ToLower(strings.TrimSpace(coding)); c != "gzip" && c != "*" {
			continue
		}
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			if name, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(strings.TrimSpace(name), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		return q > 0
	}
	return false
}

// touch makes the next read of a campaign's rows check the database: a
// release was just made here.
func (rc *reportRows) touch(campaignID int64) {
	rc.mu.Lock()
	if cached, ok := rc.m[campaignID]; ok {
		cached.checked = time.Time{}
		rc.m[campaignID] = cached
	}
	delete(rc.seqs, campaignID)
	rc.mu.Unlock()
}

// current returns the campaign's cached rows, reloading them when a
// response arrived or the status changed since they were read.
func (rc *reportRows) current(c echo.Context, db *survey.DB, cp *survey.Campaign) (cachedRows, error) {
	// One check per campaign and request: a page asks for the same rows
	// several times (report, previous wave, trend).
	memo := "report-rows:" + strconv.FormatInt(cp.ID, 10) + ":" + cp.Status
	if cached, ok := c.Get(memo).(cachedRows); ok {
		return cached, nil
	}
	v, err, _ := rc.sf.Do("rows:"+strconv.FormatInt(cp.ID, 10), func() (any, error) {
		return rc.load(c.Request().Context(), db, cp)
	})
	if err != nil {
		return cachedRows{}, err
	}
	cached := v.(cachedRows)
	c.Set(memo, cached)
	return cached, nil
}

// wholeReport is an earlier wave's whole report, built from the stream of
// its rows (survey.BuildReleasedReport) and kept without them, for the
// release, status, weights and k it was built under.
type wholeReport struct {
	rep             *survey.Report
	seq, k          int
	status, weights string
}

// whole returns an earlier wave's whole report, built again when a release
// is made or the campaign's status, weights or k change; the release is
// checked at most once every countFresh (releaseSeq).
func (rc *reportRows) whole(ctx context.Context, db *survey.DB, cp *survey.Campaign, build func(context.Context) (*survey.Report, *survey.Release, error)) (*survey.Report, error) {
	seq, err := rc.releaseSeq(ctx, db, cp.ID)
	if err != nil {
		return nil, err
	}
	rc.mu.Lock()
	w, ok := rc.wholes[cp.ID]
	rc.mu.Unlock()
	if ok && w.seq == seq && w.status == cp.Status && w.weights == cp.SectionWeights && w.k == cp.KMin {
		return w.rep, nil
	}
	key := fmt.Sprintf("whole:%d:%d:%s:%s:%d", cp.ID, seq, cp.Status, cp.SectionWeights, cp.KMin)
	v, err, _ := rc.sf.Do(key, func() (any, error) {
		rep, rel, err := build(ctx)
		if err != nil {
			return nil, err
		}
		w := wholeReport{rep: rep, k: cp.KMin, status: cp.Status, weights: cp.SectionWeights}
		if rel != nil {
			w.seq = rel.Seq
		}
		rep.Release = releaseInfo(rel)
		rc.mu.Lock()
		if rc.wholes == nil {
			rc.wholes = map[int64]wholeReport{}
		}
		rc.wholes[cp.ID] = w
		rc.mu.Unlock()
		return rep, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*survey.Report), nil
}

// releaseSeq is the campaign's current release number, checked at most
// once every countFresh (at once after a release here: touch): cache keys
// and kept whole reports name earlier waves by it.
func (rc *reportRows) releaseSeq(ctx context.Context, db *survey.DB, campaignID int64) (int, error) {
	rc.mu.Lock()
	s, ok := rc.seqs[campaignID]
	rc.mu.Unlock()
	if ok && time.Since(s.checked) < countFresh {
		return s.seq, nil
	}
	seq, err := survey.CurrentReleaseSeq(ctx, db, campaignID)
	if err != nil {
		return 0, err
	}
	rc.mu.Lock()
	if rc.seqs == nil {
		rc.seqs = map[int64]seqCheck{}
	}
	rc.seqs[campaignID] = seqCheck{seq: seq, checked: time.Now()}
	rc.mu.Unlock()
	return seq, nil
}

type seqCheck struct {
	seq     int
	checked time.Time
}

// holds says whether a campaign's whole report (whole) or its rows are
// kept already, current or not: a prefetch is for the first view only, not
// a goroutine on every view.
func (rc *reportRows) holds(campaignID int64, whole bool) bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if whole {
		_, ok := rc.wholes[campaignID]
		return ok
	}
	_, ok := rc.m[campaignID]
	return ok
}

// prefetch loads a campaign's rows in the background, unless they are
// loaded or loading: a request reading them later joins the load. It takes
// no echo.Context, which the server reuses once its request has ended.
func (rc *reportRows) prefetch(ctx context.Context, db *survey.DB, cp *survey.Campaign) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	go func() {
		defer cancel()
		rc.sf.Do("rows:"+strconv.FormatInt(cp.ID, 10), func() (any, error) { //nolint:errcheck // the view's own read reports it
			return rc.load(ctx, db, cp)
		})
	}()
}

// load checks the cached rows against the database and reloads them when
// a response arrived or the campaign changed; one at a time per campaign.
func (rc *reportRows) load(ctx context.Context, db *survey.DB, cp *survey.Campaign) (cachedRows, error) {
	rc.mu.Lock()
	cached, ok := rc.m[cp.ID]
	rc.mu.Unlock()
	same := ok && cached.status == cp.Status && cached.weights == cp.SectionWeights && cached.k == cp.KMin
	if same && time.Since(cached.checked) < countFresh {
		return cached, nil
	}
	seq, err := survey.CurrentReleaseSeq(ctx, db, cp.ID)
	if err != nil {
		return cachedRows{}, err
	}
	if same && cached.seq() == seq {
		cached.checked = time.Now()
		rc.mu.Lock()
		rc.m[cp.ID] = cached
		rc.mu.Unlock()
		return cached, nil
	}
	rel, err := survey.LoadReleasedRows(ctx, db, cp.ID)
	if err != nil {
		return cachedRows{}, err
	}
	cached = cachedRows{release: rel.Release, status: cp.Status, weights: cp.SectionWeights, k: cp.KMin, rows: rel.Rows,
		reports: map[string]*survey.Report{}, checked: time.Now(),
		gen: rowsGen.Add(1), fragments: map[string]string{}, runs: map[string]deflated{}}
	rc.mu.Lock()
	if rc.m == nil {
		rc.m = map[int64]cachedRows{}
	}
	rc.m[cp.ID] = cached
	rc.mu.Unlock()
	return cached, nil
}

// invitations returns the campaign's invitation counts. The first time
// they are counted in the request (a views' first request starts that
// early, beside the rows: see startCounting); after that the kept counts
// are returned and, once older than countFresh, counted again in the
// background. Counting costs time in proportion to the invitations (two
// seconds at 1.4 million): done in the request, every view waiting on the
// once-a-second check paid it, and so did every earlier wave of a trend.
// The rate may lag the responses by the count's own time.
func (rc *reportRows) invitations(ctx context.Context, db *survey.DB, campaignID int64) (invitedCounts, error) {
	rc.mu.Lock()
	kept, ok := rc.invited[campaignID]
	recount := ok && kept.stale()
	if recount {
		// Views meanwhile take the kept counts as fresh: one recount, not
		// one goroutine per view waiting for it.
		fresh := kept
		fresh.checked = time.Now()
		rc.invited[campaignID] = fresh
	}
	rc.mu.Unlock()
	if recount {
		go rc.count(context.WithoutCancel(ctx), db, campaignID) //nolint:errcheck // the kept counts stand; a later view tries again
	}
	if ok {
		return kept, nil
	}
	return rc.count(ctx, db, campaignID)
}

// startCounting counts a campaign's invitations beside whatever the
// request does next, unless they are known already.
func (rc *reportRows) startCounting(ctx context.Context, db *survey.DB, campaignID int64) {
	rc.mu.Lock()
	_, ok := rc.invited[campaignID]
	rc.mu.Unlock()
	if !ok {
		go rc.count(ctx, db, campaignID) //nolint:errcheck // the view's own call reports it
	}
}

// count counts a campaign's invitations, once at a time per campaign.
func (rc *reportRows) count(ctx context.Context, db *survey.DB, campaignID int64) (invitedCounts, error) {
	v, err, _ := rc.sf.Do("invited:"+strconv.FormatInt(campaignID, 10), func() (any, error) {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		checked := time.Now()
		var n int64
		if err := db.Read.WithContext(ctx).Model(&survey.Invitation{}).Where("campaign_id = ?", campaignID).Count(&n).Error; err != nil {
			return invitedCounts{}, err
		}
		took := time.Since(checked)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		kept := rc.invited[campaignID] // the split, if counted, stays with it
		kept.n, kept.checked, kept.took = n, checked, took
		if rc.invited == nil {
			rc.invited = map[int64]invitedCounts{}
		}
		rc.invited[campaignID] = kept
		return kept, nil
	})
	if err != nil {
		return invitedCounts{}, err
	}
	return v.(invitedCounts), nil
}

// groups returns the campaign's invitations by participant-list profile,
// counted again when the total has moved since they were.
func (rc *reportRows) groups(ctx context.Context, db *survey.DB, campaignID int64) ([]survey.InvitedGroup, error) {
	kept, err := rc.invitations(ctx, db, campaignID)
	if err != nil {
		return nil, err
	}
	if kept.hasBy && kept.byN == kept.n {
		return kept.by, nil
	}
	v, err, _ := rc.sf.Do("invited-by:"+strconv.FormatInt(campaignID, 10), func() (any, error) {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		by, err := survey.CountInvitedGroups(ctx, db, campaignID)
		if err != nil {
			return nil, err
		}
		var n int64
		for _, g := range by {
			n += int64(g.N)
		}
		rc.mu.Lock()
		if k, ok := rc.invited[campaignID]; ok {
			k.by, k.byN, k.hasBy = by, n, true
			rc.invited[campaignID] = k
		}
		rc.mu.Unlock()
		return by, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]survey.InvitedGroup), nil
}

// build returns the report for a filter, from memory while no response has
// arrived since it was built.
func (rc *reportRows) build(c echo.Context, db *survey.DB, cp *survey.Campaign, f survey.ReportFilter, make func([]survey.ReportRow) *survey.Report) (*survey.Report, error) {
	cached, err := rc.current(c, db, cp)
	if err != nil {
		return nil, err
	}
	key := filterKey(f)
	rc.mu.Lock()
	r, ok := cached.reports[key]
	rc.mu.Unlock()
	if ok {
		return r, nil
	}
	v, _, _ := rc.sf.Do(fmt.Sprintf("report:%d:%d:%s", cp.ID, cached.gen, key), func() (any, error) {
		rep := make(cached.rows)
		rep.Release = cached.releaseInfo()
		rc.mu.Lock()
		if len(cached.reports) < 256 { // bound the filter combinations kept
			cached.reports[key] = rep
		}
		rc.mu.Unlock()
		return rep, nil
	})
	return v.(*survey.Report), nil
}

func filterKey(f survey.ReportFilter) string {
	return fmt.Sprintf("%d|%s|%s", unitOf(f), f.Role, f.Seniority)
}

func unitOf(f survey.ReportFilter) int64 {
	if f.UnitID == nil {
		return 0
	}
	return *f.UnitID
}

// reportFilter reads ?unit=, ?role=, ?seniority=; an unknown value is a 400,
// never an empty report that could be mistaken for "no answers".
func (a *App) reportFilter(c echo.Context, cp *survey.Campaign, m *survey.Model, units map[int64]string) (survey.ReportFilter, error) {
	var f survey.ReportFilter
	if u := c.QueryParam("unit"); u != "" {
		id, err := strconv.ParseInt(u, 10, 64)
		if _, known := units[id]; err != nil || !known {
			return f, a.userError(c, http.StatusBadRequest, "results.bad_filter", nil)
		}
		f.UnitID = &id
	}
	if r := c.QueryParam("role"); r != "" {
		if !m.HasRole(r) {
			return f, a.userError(c, http.StatusBadRequest, "results.bad_filter", nil)
		}
		f.Role = r
	}
	if s := c.QueryParam("seniority"); s != "" {
		if !m.HasSeniority(s) {
			return f, a.userError(c, http.StatusBadRequest, "results.bad_filter", nil)
		}
		f.Seniority = s
	}
	return f, nil
}

// unitNames lists an organisation's units and maps their ids to names.
func (a *App) unitNames(c echo.Context, orgID int64) ([]survey.BusinessUnit, map[int64]string, error) {
	units, err := survey.Units(c.Request().Context(), a.db, orgID)
	if err != nil {
		return nil, nil, err
	}
	names := make(map[int64]string, len(units))
	for _, u := range units {
		names[u.ID] = u.Name
	}
	return units, names, nil
}

// report builds the campaign's report for the request's filter; it also
// returns the organisation's units, which the results page lists.
func (a *App) report(c echo.Context, cp *survey.Campaign) (*survey.Report, []survey.BusinessUnit, error) {
	m, ok := a.models.Version(cp.ModelVersion)
	if !ok {
		return nil, nil, echo.ErrNotFound
	}
	// The view's rate needs the invitations: the first time, they are
	// counted while the rows load.
	a.reports.startCounting(c.Request().Context(), a.db, cp.ID)
	units, names, err := a.unitNames(c, cp.OrganisationID)
	if err != nil {
		return nil, nil, err
	}
	f, err := a.reportFilter(c, cp, m, names)
	if err != nil {
		return nil, nil, err
	}
	if units, err = a.limitToUnits(c, &f, units); err != nil {
		return nil, nil, err
	}
	// The trend and the recommendations' movement read the wave before:
	// its report is built beside this one's rows, not after.
	if earlier := a.earlierWaves(c, cp); len(earlier) > 0 {
		a.prefetchEarlier(c.Request().Context(), earlier[0], f, names)
	}
	rep, err := a.reports.build(c, a.db, cp, f, func(rows []survey.ReportRow) *survey.Report {
		prev := make(chan *survey.Report, 1)
		go func() { prev <- a.previousReport(c, cp, f, names) }()
		rep := survey.BuildReport(m, cp, rows, f, names)
		if prev := <-prev; prev != nil {
			survey.WithMovement(rep.Recommendations, prev)
		}
		return rep
	})
	return rep, units, err
}

// participation is the rate of a report's view, and the campaign's
// invitation count, which names the counts in cache keys.
func (a *App) participation(c echo.Context, cp *survey.Campaign, rep *survey.Report) (*survey.Participation, int64, error) {
	ctx := c.Request().Context()
	counts, err := a.reports.invitations(ctx, a.db, cp.ID)
	if err != nil {
		return nil, 0, err
	}
	if rep == nil || rep.Filter.Empty() {
		// The whole campaign's invitations: one group holding them all.
		return survey.ParticipationOf(cp, []survey.InvitedGroup{{N: int(counts.n)}}, rep), counts.n, nil
	}
	by, err := a.reports.groups(ctx, a.db, cp.ID)
	if err != nil {
		return nil, 0, err
	}
	return survey.ParticipationOf(cp, by, rep), counts.n, nil
}

// unitLimit is the units the viewer is limited to, nil when they may see
// the whole organisation (admins, and managers given the whole
// organisation). A manager limited to units of which none exist any more
// gets a 403 here: a limit never fails open to the whole organisation.
func (a *App) unitLimit(c echo.Context) ([]int64, error) {
	ids, limited, err := a.readerUnits(c)
	if err != nil || !limited {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, a.userError(c, http.StatusForbidden, "results.no_units", nil)
	}
	return ids, nil
}

// limitToUnits applies a manager's unit limit to a filter: no unit chosen
// means their first unit; another unit is refused. It returns the units
// they may choose from.
func (a *App) limitToUnits(c echo.Context, f *survey.ReportFilter, units []survey.BusinessUnit) ([]survey.BusinessUnit, error) {
	limit, err := a.unitLimit(c)
	if err != nil || limit == nil {
		return units, err
	}
	var mine []survey.BusinessUnit
	for _, u := range units {
		if slices.Contains(limit, u.ID) {
			mine = append(mine, u)
		}
	}
	if len(mine) == 0 {
		return nil, a.userError(c, http.StatusForbidden, "results.no_units", nil)
	}
	if f.UnitID == nil {
		f.UnitID = &mine[0].ID
	} else if !slices.Contains(limit, *f.UnitID) {
		return nil, a.userError(c, http.StatusForbidden, "results.unit_forbidden", nil)
	}
	return mine, nil
}

// previousReport is the previous wave's report for the same filter, to show
// movement; nil when there is no previous wave or it cannot be read.
func (a *App) previousReport(c echo.Context, cp *survey.Campaign, f survey.ReportFilter, names map[int64]string) *survey.Report {
	earlier := a.earlierWaves(c, cp)
	if len(earlier) == 0 {
		return nil
	}
	rep, err := a.earlierReport(c, earlier[0], f, names)
	if err != nil {
		return nil
	}
	return rep
}

// earlierReport is an earlier wave's report under a view's filter. The
// whole wave's (no filter: every first view's trend and movement) is
// built while its rows stream past and kept without them; a filtered one
// needs the rows in memory.
func (a *App) earlierReport(c echo.Context, prev *survey.Campaign, f survey.ReportFilter, names map[int64]string) (*survey.Report, error) {
	m, ok := a.models.Version(prev.ModelVersion)
	if !ok {
		return nil, echo.ErrNotFound
	}
	if f.Empty() {
		return a.reports.whole(c.Request().Context(), a.db, prev, a.streamed(m, prev, names))
	}
	return a.reports.build(c, a.db, prev, f, func(rows []survey.ReportRow) *survey.Report {
		return survey.BuildReport(m, prev, rows, f, names)
	})
}

// streamed builds an earlier wave's whole report from the stream of its rows.
func (a *App) streamed(m *survey.Model, prev *survey.Campaign, names map[int64]string) func(context.Context) (*survey.Report, *survey.Release, error) {
	return func(ctx context.Context) (*survey.Report, *survey.Release, error) {
		return survey.BuildReleasedReport(ctx, a.db, m, prev, names)
	}
}

// prefetchEarlier starts what earlierReport will need, in the background:
// the whole wave's report, or the rows for a filtered one. It takes no
// echo.Context, which the server reuses once its request has ended.
func (a *App) prefetchEarlier(ctx context.Context, prev *survey.Campaign, f survey.ReportFilter, names map[int64]string) {
	m, ok := a.models.Version(prev.ModelVersion)
	if !ok {
		return
	}
	if a.reports.holds(prev.ID, f.Empty()) {
		return // the view's own call checks it is current
	}
	if !f.Empty() {
		a.reports.prefetch(ctx, a.db, prev)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	go func() {
		defer cancel()
		a.reports.whole(ctx, a.db, prev, a.streamed(m, prev, names)) //nolint:errcheck // the view's own call reports it
	}()
}

// apiReport is GET /api/v1/campaigns/{id}/report.
func (a *App) apiReport(c echo.Context) error {
	cp, err := a.campaignOf(c)
	if err != nil {
		return err
	}
	rep, _, err := a.report(c, cp)
	if err != nil {
		return err
	}
	m, _ := a.models.Version(cp.ModelVersion)
	bench, err := a.benchmark(c, m, cp.OrganisationID)
	if err != nil {
		return err
	}
	// The encoded body is kept like the dashboard's content (see resultsPage).
	rows, err := a.reports.current(c, a.db, cp)
	if err != nil {
		return err
	}
	part, invited, err := a.participation(c, cp, rep)
	if err != nil {
		return err
	}
	bf, _ := a.benchmarkFilter(c)
	key := fmt.Sprintf("api|%s|%+v|%d|%s|%s|%d", filterKey(rep.Filter), bf, a.pool.version(), cp.Status, a.waveGens(c, cp), invited)
	if ok, err := a.reports.serveKept(c, cp.ID, rows.gen, key, echo.MIMEApplicationJSON); ok {
		return err
	}
	_, names, err := a.unitNames(c, cp.OrganisationID)
	if err != nil {
		return err
	}
	body := apiReportBody{Report: rep, Benchmark: bench, Trend: survey.BuildTrend(a.waves(c, cp, rep, rep.Filter, names)),
		Participation: part}
	if rep.Overall != nil && rep.Overall.CEM != nil {
		if rank := bench.Rank(*rep.Overall.CEM); rank >= 0 { // -1: the comparison group is suppressed
			body.BenchmarkRank = &rank
		}
	}
	js, err := json.Marshal(body)
	if err != nil {
		return err
	}
	a.reports.keepBody(cp.ID, rows.gen, key, js)
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, js)
}

// apiReportBody is the report with what sits beside it on the results page:
// the comparison group (with its own suppression) and the waves.
type apiReportBody struct {
	*survey.Report
	Benchmark *survey.Benchmark `json:"benchmark"`
	// BenchmarkRank is the share of the comparison group scoring below the
	// campaign's overall CEM, in percent; absent when either is suppressed.
	BenchmarkRank *float64            `json:"benchmark_rank,omitempty"`
	Trend         []survey.TrendPoint `json:"trend,omitempty"`
	// Participation is the view's responses against its own group's
	// invitations (absent when the view is suppressed).
	Participation *survey.Participation `json:"participation,omitempty"`
}

// exportCSV streams the anonymous response file: GET
// /api/v1/campaigns/{id}/export.csv, and the same from the results page.
func (a *App) exportCSV(c echo.Context) error {
	cp, err := a.campaignOf(c)
	if err != nil {
		return err
	}
	m, ok := a.models.Version(cp.ModelVersion)
	if !ok {
		return echo.ErrNotFound
	}
	cached, err := a.reports.current(c, a.db, cp)
	if err != nil {
		return err
	}
	if limit, err := a.unitLimit(c); err != nil || limit != nil {
		if err != nil {
			return err
		}
		// The response file covers the whole organisation.
		return a.userError(c, http.StatusForbidden, "results.unit_forbidden", nil)
	}
	rows := cached.rows
	if len(rows) < survey.EffectiveK(cp.KMin) {
		return a.userError(c, http.StatusConflict, "results.suppressed.too_few", map[string]any{"K": survey.EffectiveK(cp.KMin)})
	}
	_, names, err := a.unitNames(c, cp.OrganisationID)
	if err != nil {
		return err
	}
	// Filters apply as on every other download: an unknown value is a 400,
	// a view the report would hide is a 409, and a filter on a column the
	// whole file leaves out (it would single out a group below k) is
	// refused, since the filtered file would then tell what the column hides.
	f, err := a.reportFilter(c, cp, m, names)
	if err != nil {
		return err
	}
	if !f.Empty() {
		rep, _, err := a.report(c, cp)
		if err != nil {
			return err
		}
		if rep.Suppressed {
			return a.userError(c, http.StatusConflict, "results.suppressed."+rep.Reason, map[string]any{"K": rep.K})
		}
		unitCol, roleCol, senCol := export.Columns(rows, cp.KMin)
		if f.UnitID != nil && !unitCol || f.Role != "" && !roleCol || f.Seniority != "" && !senCol {
			return a.userError(c, http.StatusConflict, "results.suppressed.differencing", map[string]any{"K": rep.K})
		}
		rows = survey.FilterRows(rows, f)
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="tiltline-campaign-%d-responses.csv"`, cp.ID))
	h.Set("Cache-Control", "private, no-store")
	c.Response().WriteHeader(http.StatusOK)
	return export.WriteResponsesCSV(c.Response(), m, rows, cp.KMin, names)
}
