package survey

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"

	"gorm.io/gorm/clause"
)

// Benchmarks (DESIGN.md "Benchmarks"): where an organisation stands among
// others. Two sources: the pool, where an opted-in organisation's closed
// campaigns leave their section scores and nothing else; and a reference
// set shipped with the app, generated to match the seed's published summary
// figures. The reference set stands in until the pool has enough entries for
// the filter, and it is labelled as illustrative wherever it shows.
//
// The pool crosses tenants, so its rules protect organisations from each
// other (issue 12, attack class 6: one organisation closing many tiny
// campaigns filled a filter's pool alone and read another's section scores
// off the percentiles):
//   - one entry per organisation and year: its latest closed campaign of
//     that year with at least PoolMinResponses released responses;
//   - a pool view needs PoolMinOrgs distinct organisations, and no
//     organisation may hold more than a fifth of its entries;
//   - the viewing organisation's own entries are left out of the pool it is
//     compared with, so it never knows part of what it is compared with.

const (
	SourcePool      = "pool"
	SourceReference = "reference"

	// BenchmarkMinShow is the fewest entries a benchmark view shows figures for.
	BenchmarkMinShow = 10
	// PoolTakesOver is how many pool entries a filter needs before the pool
	// replaces the reference set.
	PoolTakesOver = 30
	// PoolMinOrgs is the fewest distinct organisations behind a pool view,
	// and behind each section's percentiles in it; with fewer, the
	// reference set stands in as for a thin pool.
	PoolMinOrgs = 10
	// PoolMaxShare: no organisation may hold more than 1/PoolMaxShare of a
	// pool view's entries (or of a section's values in it).
	PoolMaxShare = 5
	// PoolMinResponses is the fewest released responses a campaign needs to
	// enter the pool.
	PoolMinResponses = 30
)

// Published figures the reference set reproduces.
const (
	refCount = 650
	refMean  = 35.0
	refMin   = 17.0
	refMax   = 67.0
	refP75   = 41.0
)

// refYearTrend is the published trend of the yearly mean, 1999–2004 (33, 33,
// 32, 33, 34, 35 %). Those yearly means cannot average the published overall
// 35 %, so the set keeps their shape and shifts them to agree with it.
var refYearTrend = []float64{33, 33, 32, 33, 34, 35}

const refFirstYear = 1999

// refSectionOffsets give sections their typical place around an entry's
// overall score: analysis and planning and the proposition above it,
// penetration, efficiency and measurement below. They sum to zero.
var refSectionOffsets = map[string]float64{
	"AP": 6, "EE": 3, "PR": 5, "CX": 2, "PO": 1, "ME": -6, "CI": -1,
	"PE": -5, "TS": 0, "EF": -4, "PM": -2, "RE": 1, "AC": 0,
}

// BenchmarkScores is what one assessment contributes: overall and per section, in points.
type BenchmarkScores struct {
	// OrganisationID says whose entry it is (0 in the reference set): to
	// count organisations and to leave the viewer's own out. Never shown.
	OrganisationID           int64
	Sector, Region, SizeBand string
	Year                     int
	Overall                  float64
	Sections                 map[string]float64
}

// BenchmarkFilter narrows the comparison group; empty fields match all.
type BenchmarkFilter struct {
	Sector   string `json:"sector,omitempty"`
	Region   string `json:"region,omitempty"`
	Year     int    `json:"year,omitempty"`
	SizeBand string `json:"size_band,omitempty"`
}

func (f BenchmarkFilter) match(e *BenchmarkScores) bool {
	return (f.Sector == "" || e.Sector == f.Sector) && (f.Region == "" || e.Region == f.Region) &&
		(f.Year == 0 || e.Year == f.Year) && (f.SizeBand == "" || e.SizeBand == f.SizeBand)
}

// Percentiles of one score across the comparison group.
type Percentiles struct {
	P25 float64 `json:"p25"`
	P50 float64 `json:"p50"`
	P75 float64 `json:"p75"`
	P90 float64 `json:"p90"`
}

// SectionPercentiles are one section's percentiles; nil when fewer than
// BenchmarkMinShow entries report the section (in the pool: fewer than
// PoolMinOrgs organisations, or one holding more than a fifth of them).
type SectionPercentiles struct {
	ID string `json:"id"`
	*Percentiles
}

// Benchmark is the comparison group for a filter. When Suppressed, it has
// too few entries to show and carries no figures.
type Benchmark struct {
	Source       string          `json:"source"`
	Illustrative bool            `json:"illustrative"` // the reference set: generated from published figures
	Filter       BenchmarkFilter `json:"filter"`
	Entries      int             `json:"entries"`
	// Organisations is how many distinct organisations stand behind a pool
	// view (the viewer's own left out); absent for the reference set, whose
	// entries are generated.
	Organisations int                  `json:"organisations,omitempty"`
	Suppressed    bool                 `json:"suppressed"`
	Overall       *Percentiles         `json:"overall,omitempty"`
	Sections      []SectionPercentiles `json:"sections,omitempty"`
	// Choices are the filter values with something behind them, for the
	// comparison group's form (see benchmarkChoices).
	Choices BenchmarkChoices `json:"-"`
	overall []float64        // sorted, for percentile ranks
}

// BenchmarkChoices lists, per filter field, the values that give a
// comparison group with figures when chosen with the rest of the filter.
type BenchmarkChoices struct {
	Sectors, Regions, Sizes []string
	Years                   []int
}

// benchmarkChoices offers a value only when the filter with it would show
// figures: at least BenchmarkMinShow entries in the pool (viewer left out,
// enough organisations) or the reference set. A list never drops the value
// already chosen, so the form can always show it.
func benchmarkChoices(pool, reference []BenchmarkScores, f BenchmarkFilter, viewer int64) BenchmarkChoices {
	shows := func(g BenchmarkFilter) bool {
		var entries []*BenchmarkScores
		for i := range pool {
			if e := &pool[i]; g.match(e) && (viewer == 0 || e.OrganisationID != viewer) {
				entries = append(entries, e)
			}
		}
		if _, ok := poolSpread(entries); ok && len(entries) >= BenchmarkMinShow {
			return true
		}
		n := 0
		for i := range reference {
			if g.match(&reference[i]) {
				n++
			}
		}
		return n >= BenchmarkMinShow
	}
	var c BenchmarkChoices
	for _, v := range Sectors {
		g := f
		g.Sector = v
		if v == f.Sector || shows(g) {
			c.Sectors = append(c.Sectors, v)
		}
	}
	for _, v := range Regions {
		g := f
		g.Region = v
		if v == f.Region || shows(g) {
			c.Regions = append(c.Regions, v)
		}
	}
	for _, v := range SizeBands {
		g := f
		g.SizeBand = v
		if v == f.SizeBand || shows(g) {
			c.Sizes = append(c.Sizes, v)
		}
	}
	years := map[int]bool{}
	for _, set := range [][]BenchmarkScores{pool, reference} {
		for i := range set {
			years[set[i].Year] = true
		}
	}
	for y := range years {
		g := f
		g.Year = y
		if y == f.Year || shows(g) {
			c.Years = append(c.Years, y)
		}
	}
	slices.Sort(c.Years)
	slices.Reverse(c.Years) // the latest first
	return c
}

// Rank is the share of the group scoring below v, in percent (ties count
// half): the organisation's position as a percentile. -1 when suppressed.
func (b *Benchmark) Rank(v float64) float64 {
	if b == nil || b.Suppressed || len(b.overall) == 0 {
		return -1
	}
	below := sort.SearchFloat64s(b.overall, v)
	ties := sort.SearchFloat64s(b.overall, math.Nextafter(v, math.Inf(1))) - below
	return (float64(below) + float64(ties)/2) / float64(len(b.overall)) * 100
}

// Quantile of sorted values with linear interpolation between closest ranks.
func Quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	if lo+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[lo] + (pos-float64(lo))*(sorted[lo+1]-sorted[lo])
}

func percentiles(sorted []float64) Percentiles {
	r := func(q float64) float64 { return Quantile(sorted, q) }
	return Percentiles{P25: r(0.25), P50: r(0.5), P75: r(0.75), P90: r(0.9)}
}

// BuildBenchmark is the comparison group of the organisation viewer (0: a
// reader without one) for a filter. The pool is the viewer's pool: every
// organisation's entries but the viewer's own. It is used once it has
// PoolTakesOver entries for the filter from at least PoolMinOrgs
// organisations, none of which holds more than a fifth of them; otherwise
// the reference set stands in, suppressed below BenchmarkMinShow entries.
func BuildBenchmark(m *Model, pool, reference []BenchmarkScores, f BenchmarkFilter, viewer int64) *Benchmark {
	b := &Benchmark{Source: SourcePool, Filter: f, Choices: benchmarkChoices(pool, reference, f, viewer)}
	var entries []*BenchmarkScores
	for i := range pool {
		if e := &pool[i]; f.match(e) && (viewer == 0 || e.OrganisationID != viewer) {
			entries = append(entries, e)
		}
	}
	orgs, spread := poolSpread(entries)
	if len(entries) < PoolTakesOver || !spread {
		entries, orgs = nil, 0
		for i := range reference {
			if f.match(&reference[i]) {
				entries = append(entries, &reference[i])
			}
		}
		b.Source, b.Illustrative = SourceReference, true
	}
	b.Entries, b.Organisations = len(entries), orgs
	if b.Entries < BenchmarkMinShow {
		b.Suppressed = true
		return b
	}
	b.overall = make([]float64, len(entries))
	for i, e := range entries {
		b.overall[i] = e.Overall
	}
	slices.Sort(b.overall)
	ov := percentiles(b.overall)
	b.Overall = &ov
	vals := make([]float64, 0, len(entries))
	reporting := make([]*BenchmarkScores, 0, len(entries))
	for _, s := range m.Sections {
		vals, reporting = vals[:0], reporting[:0]
		for _, e := range entries {
			if v, ok := e.Sections[s.ID]; ok {
				vals = append(vals, v)
				reporting = append(reporting, e)
			}
		}
		sp := SectionPercentiles{ID: s.ID}
		show := len(vals) >= BenchmarkMinShow
		if !b.Illustrative { // the same rules as the whole view, for the entries reporting the section
			_, show = poolSpread(reporting)
		}
		if show {
			slices.Sort(vals)
			p := percentiles(vals)
			sp.Percentiles = &p
		}
		b.Sections = append(b.Sections, sp)
	}
	return b
}

// poolSpread counts the distinct organisations behind pool entries and
// tells whether they may be shown together: at least PoolMinOrgs of them,
// none holding more than a fifth of the entries. Percentiles of a set that
// one organisation dominates are mostly its own values, so the few others'
// could be read off them. With one entry per organisation and year, one
// organisation can hold more than a fifth only through years: a filter
// without a year that spans several of its entries.
func poolSpread(entries []*BenchmarkScores) (orgs int, ok bool) {
	per := map[int64]int{}
	most := 0
	for _, e := range entries {
		per[e.OrganisationID]++
		most = max(most, per[e.OrganisationID])
	}
	return len(per), len(per) >= PoolMinOrgs && most*PoolMaxShare <= len(entries)
}

var (
	referenceOnce sync.Once
	referenceSet  []BenchmarkScores
)

// ReferenceSet is the shipped illustrative set: 650 assessments from 1999 to
// 2004 whose overall scores have exactly the published mean (35), extremes
// (17 and 67) and top-quartile threshold (P75 = 41), whose yearly means
// follow the published trend, and whose section scores average to the
// overall. Generated deterministically; the same on every start.
func ReferenceSet() []BenchmarkScores {
	referenceOnce.Do(func() { referenceSet = generateReference() })
	return referenceSet
}

func generateReference() []BenchmarkScores {
	rng := rand.New(rand.NewPCG(2005, 650))
	values := referenceOverall(rng)
	years := referenceYears(rng, values)
	sectionIDs := make([]string, 0, len(refSectionOffsets))
	for id := range refSectionOffsets {
		sectionIDs = append(sectionIDs, id)
	}
	sort.Strings(sectionIDs)
	out := make([]BenchmarkScores, len(values))
	for i, v := range values {
		e := BenchmarkScores{
			Sector:   Sectors[rng.IntN(len(Sectors)-1)], // not "other"
			Region:   refRegion(rng),
			SizeBand: SizeBands[rng.IntN(len(SizeBands))],
			Year:     refFirstYear + years[i],
			Overall:  v,
			Sections: make(map[string]float64, len(sectionIDs)),
		}
		// Best scores are the most rounded (the seed): spread shrinks as the overall grows.
		spread := 7 * (1 - (v-refMin)/(refMax-refMin)*0.6)
		raw := make([]float64, len(sectionIDs))
		var sum float64
		for j, id := range sectionIDs {
			raw[j] = refSectionOffsets[id] + rng.NormFloat64()*spread
			sum += raw[j]
		}
		shift := sum / float64(len(raw))
		for j := range raw {
			raw[j] = math.Max(0, math.Min(100, v+raw[j]-shift))
		}
		// Clipping at 0 or 100 moved the average: spread the difference
		// over the sections that have room, until it agrees again.
		for range 10 {
			var s float64
			for _, x := range raw {
				s += x
			}
			d := v - s/float64(len(raw))
			if math.Abs(d) < 1e-9 {
				break
			}
			for j := range raw {
				raw[j] = math.Max(0, math.Min(100, raw[j]+d))
			}
		}
		for j, id := range sectionIDs {
			e.Sections[id] = raw[j]
		}
		out[i] = e
	}
	return out
}

// referenceOverall makes 650 overall scores with the published figures: a
// right-skewed shape (most organisations low, few high), then fitted
// piecewise so that min, P75 and max land exactly, and the values between
// them shifted so the mean lands exactly too.
func referenceOverall(rng *rand.Rand) []float64 {
	v := make([]float64, refCount)
	for i := range v {
		v[i] = math.Exp(rng.NormFloat64() * 0.3)
	}
	slices.Sort(v)
	n := len(v)
	// Index of the P75 point under linear interpolation: pos = 0.75·(n−1).
	pos := 0.75 * float64(n-1)
	lo := int(pos)
	// Map [v0, v_lo] → [min, P75] and [v_lo, v_last] → [P75, max]; with
	// pos between lo and lo+1 we pin both neighbours to the P75 value.
	a0, a1, c1, b1 := v[0], v[lo], v[lo+1], v[n-1]
	for i := range v {
		switch {
		case i <= lo:
			v[i] = refMin + (v[i]-a0)/(a1-a0)*(refP75-refMin)
		case i == lo+1:
			v[i] = refP75
		default:
			v[i] = refP75 + (v[i]-c1)/(b1-c1)*(refMax-refP75)
		}
	}
	v[lo+1] = refP75
	// Hit the mean by scaling the lower body's distance to P75 (monotone, keeps min and P75).
	target := refMean * float64(n)
	for range 60 {
		var sum float64
		for _, x := range v {
			sum += x
		}
		diff := target - sum
		if math.Abs(diff) < 1e-9 {
			break
		}
		var weight float64
		for i := 1; i < lo; i++ {
			weight += refP75 - v[i]
		}
		f := 1 - diff/weight
		for i := 1; i < lo; i++ {
			v[i] = refP75 - (refP75-v[i])*f
			v[i] = math.Max(refMin, v[i])
		}
	}
	for i := range v {
		v[i] = math.Round(v[i]*1000) / 1000
	}
	return v
}

// referenceYears assigns each value a year (0 = 1999 …) so that the yearly
// means follow refYearTrend shifted to the overall mean: a random, even
// split, then greedy swaps between years until every mean is within 0.05.
func referenceYears(rng *rand.Rand, values []float64) []int {
	nYears := len(refYearTrend)
	var trendMean float64
	for _, t := range refYearTrend {
		trendMean += t
	}
	trendMean /= float64(nYears)
	target := make([]float64, nYears)
	for y, t := range refYearTrend {
		target[y] = t + refMean - trendMean
	}
	years := make([]int, len(values))
	for i := range years {
		years[i] = i % nYears
	}
	rng.Shuffle(len(years), func(i, j int) { years[i], years[j] = years[j], years[i] })
	sums := make([]float64, nYears)
	counts := make([]int, nYears)
	for i, y := range years {
		sums[y] += values[i]
		counts[y]++
	}
	for range 20000 {
		hi, lo := 0, 0
		for y := range nYears {
			d := sums[y]/float64(counts[y]) - target[y]
			if d > sums[hi]/float64(counts[hi])-target[hi] {
				hi = y
			}
			if d < sums[lo]/float64(counts[lo])-target[lo] {
				lo = y
			}
		}
		if sums[hi]/float64(counts[hi])-target[hi] < 0.05 && target[lo]-sums[lo]/float64(counts[lo]) < 0.05 {
			break
		}
		// Swap a random high value of year hi with a random lower value of year lo.
		i, j := rng.IntN(len(values)), rng.IntN(len(values))
		if years[i] != hi || years[j] != lo || values[i] <= values[j] {
			continue
		}
		d := values[i] - values[j]
		sums[hi] -= d
		sums[lo] += d
		years[i], years[j] = lo, hi
	}
	return years
}

// refRegion: the seed's database was mostly European.
func refRegion(rng *rand.Rand) string {
	switch r := rng.IntN(100); {
	case r < 60:
		return "europe"
	case r < 80:
		return "north-america"
	case r < 90:
		return "asia-pacific"
	case r < 95:
		return "latin-america"
	default:
		return "middle-east-africa"
	}
}

// LoadPool reads the pool: for each organisation still opted in and each
// year, the entry of its latest closed campaign of that year (the table
// keeps one entry per qualifying closed campaign, so that reopening the
// latest brings back the one before; the later close has the higher id).
// An entry without an organisation cannot be counted, so it is left out.
func LoadPool(ctx context.Context, db *DB) ([]BenchmarkScores, error) {
	var rows []BenchmarkEntry
	err := db.Read.WithContext(ctx).Where("source = ? AND organisation_id IN (?)", SourcePool,
		db.Read.Model(&Organisation{}).Select("id").Where("benchmark_opt_in")).Order("id DESC").Find(&rows).Error
	if err != nil {
		return nil, err
	}
	type orgYear struct {
		org  int64
		year int
	}
	seen := map[orgYear]bool{}
	out := make([]BenchmarkScores, 0, len(rows))
	for _, r := range rows {
		if r.OrganisationID == nil || seen[orgYear{*r.OrganisationID, r.Year}] {
			continue
		}
		e := BenchmarkScores{OrganisationID: *r.OrganisationID, Sector: r.Sector, Region: r.Region, SizeBand: r.SizeBand, Year: r.Year, Overall: r.Overall}
		if json.Unmarshal([]byte(r.SectionScores), &e.Sections) != nil {
			continue
		}
		seen[orgYear{*r.OrganisationID, r.Year}] = true
		out = append(out, e)
	}
	return out, nil
}

// ContributeToPool records a closed campaign's scores in the pool when its
// organisation opted in, the whole-campaign report shows figures and it
// counts at least PoolMinResponses released responses; it removes the
// campaign's entry otherwise (opt-out, reopened, too few). Only section
// scores and the organisation's id, sector, region, year and size band are
// kept — nothing else; the id is never shown (see LoadPool and
// BuildBenchmark for how it is used).
func ContributeToPool(ctx context.Context, db *DB, org *Organisation, c *Campaign, rep *Report, now time.Time) error {
	del := func() error {
		return db.Write.WithContext(ctx).Where("source = ? AND campaign_id = ?", SourcePool, c.ID).Delete(&BenchmarkEntry{}).Error
	}
	if !org.BenchmarkOptIn || c.Status != StatusClosed || rep == nil || rep.Suppressed || rep.Overall == nil || rep.Overall.CEM == nil ||
		rep.Responses == nil || *rep.Responses < PoolMinResponses {
		return del()
	}
	sections := map[string]float64{}
	for _, s := range rep.Sections {
		if s.CEM != nil {
			sections[s.ID] = *s.CEM
		}
	}
	js, _ := json.Marshal(sections)
	year := now.Year()
	if c.ClosesAt != nil {
		year = c.ClosesAt.Year()
	}
	e := BenchmarkEntry{Source: SourcePool, CampaignID: &c.ID, OrganisationID: &org.ID, Sector: org.Sector, Region: org.Region, Year: year,
		SizeBand: org.SizeBand, Overall: *rep.Overall.CEM, SectionScores: string(js)}
	return db.Write.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "campaign_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"organisation_id", "sector", "region", "year", "size_band", "overall", "section_scores"}),
	}).Create(&e).Error
}
