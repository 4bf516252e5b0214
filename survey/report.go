package survey

import (
	"context"
	"math"
	"sort"
	"strconv"
	"time"
)

// The report: scores, gaps, leaders against staff and a unit breakdown for a
// campaign, optionally filtered, always under the suppression rules. Built
// from the packed responses in one pass; the JSON API, pages and exports
// all read this one structure.

// SeniorBand is the seniority band compared against everyone else.
const SeniorBand = "senior-manager"

// ReportRow is what a response contributes to a report.
type ReportRow struct {
	UnitID    *int64
	Role      string
	Seniority string
	Answers   []byte
}

// LoadReportRows reads the rows of a campaign's current release, each with
// its cell's profile (see LoadReleasedRows): everything shown is built from them.
func LoadReportRows(ctx context.Context, db *DB, campaignID int64) ([]ReportRow, error) {
	r, err := LoadReleasedRows(ctx, db, campaignID)
	return r.Rows, err
}

// CountResponses is the number of responses the campaign's current release shows.
func CountResponses(ctx context.Context, db *DB, campaignID int64) (int64, error) {
	r, err := CurrentRelease(ctx, db, campaignID)
	if r == nil || err != nil {
		return 0, err
	}
	return int64(r.Shown), nil
}

// ReportFilter narrows a report to one unit, role or seniority band, or a combination.
type ReportFilter struct {
	UnitID    *int64 `json:"unit,omitempty"`
	Role      string `json:"role,omitempty"`
	Seniority string `json:"seniority,omitempty"`
}

func (f ReportFilter) Empty() bool { return f.UnitID == nil && f.Role == "" && f.Seniority == "" }

// FilterRows keeps the rows a filter selects.
func FilterRows(rows []ReportRow, f ReportFilter) []ReportRow {
	var out []ReportRow
	for i := range rows {
		if f.match(&rows[i]) {
			out = append(out, rows[i])
		}
	}
	return out
}

func (f ReportFilter) match(r *ReportRow) bool {
	return (f.UnitID == nil || r.UnitID != nil && *r.UnitID == *f.UnitID) &&
		(f.Role == "" || r.Role == f.Role) && (f.Seniority == "" || r.Seniority == f.Seniority)
}

// supersets are the views one condition wider: comparing with them is how
// differencing would work, so each must differ by at least k.
func (f ReportFilter) supersets() []ReportFilter {
	var out []ReportFilter
	if f.UnitID != nil {
		g := f
		g.UnitID = nil
		out = append(out, g)
	}
	if f.Role != "" {
		g := f
		g.Role = ""
		out = append(out, g)
	}
	if f.Seniority != "" {
		g := f
		g.Seniority = ""
		out = append(out, g)
	}
	return out
}

// filterCondition is one condition of a filter: the breakdown it picks a
// group from (key), the group (chosen), and the view without it (wider).
type filterCondition struct {
	key    func(*ReportRow) string
	chosen string
	wider  ReportFilter
}

func rowUnitKey(r *ReportRow) string { return unitIDKey(r.UnitID) }

func unitIDKey(unit *int64) string {
	if unit == nil {
		return ""
	}
	return strconv.FormatInt(*unit, 10)
}

func (f ReportFilter) conditions() []filterCondition {
	var out []filterCondition
	if f.UnitID != nil {
		g := f
		g.UnitID = nil
		out = append(out, filterCondition{key: rowUnitKey, chosen: strconv.FormatInt(*f.UnitID, 10), wider: g})
	}
	if f.Role != "" {
		g := f
		g.Role = ""
		out = append(out, filterCondition{key: func(r *ReportRow) string { return r.Role }, chosen: f.Role, wider: g})
	}
	if f.Seniority != "" {
		g := f
		g.Seniority = ""
		out = append(out, filterCondition{key: func(r *ReportRow) string { return r.Seniority }, chosen: f.Seniority, wider: g})
	}
	return out
}

// Num is a score at full precision, or null when there is none to show.
// The report never rounds: every number is rounded once, when it is shown
// (see Round in display.go), so nothing is ever rounded twice.
type Num = *float64

func num(v Value) Num {
	if !v.Valid || math.IsNaN(v.V) {
		return nil
	}
	r := v.V
	return &r
}

// rateNum is a share (0–1), like num at full precision.
func rateNum(v Value) Num { return num(v) }

// ReportScore is a pair of dimension scores with CEM and gap, in points.
type ReportScore struct {
	Intention Num `json:"intention"`
	Reality   Num `json:"reality"`
	CEM       Num `json:"cem"`
	Gap       Num `json:"gap"`
	// Margin holds the 95 % half-widths (the ±) of the scores, where known.
	Margin *Margins `json:"margin,omitempty"`
}

// Margins are 95 % half-widths in points, t-based. A practice's come from
// its answers' spread; a section's and the overall's from the spread of
// respondents' own scores (own.go). Gap has none: intention and reality
// come from the same people, whose pairing a histogram does not keep.
type Margins struct {
	Intention Num `json:"intention"`
	Reality   Num `json:"reality"`
	CEM       Num `json:"cem"`
}

func reportScore(s Score) ReportScore {
	return ReportScore{Intention: num(s.Intention), Reality: num(s.Reality), CEM: num(s.CEM), Gap: num(s.Gap)}
}

func (a *ownMoments) margins() *Margins {
	return &Margins{Intention: a.i.margin(), Reality: a.r.margin(), CEM: a.c.margin()}
}

type ownMoments struct{ i, r, c moments }

func (a *ownMoments) merge(b *ownMoments) {
	a.i.merge(&b.i)
	a.r.merge(&b.r)
	a.c.merge(&b.c)
}

func (a *ownMoments) add(s OwnScore) {
	a.i.add(s.Intention)
	a.r.add(s.Reality)
	a.c.add(s.CEM)
}

type ReportSection struct {
	ID   string `json:"id"`
	Slug string `json:"slug"`
	ReportScore
}

type ReportPractice struct {
	ID         string `json:"id"`
	Subsection string `json:"subsection"`
	ReportScore
	Answered     int  `json:"answered"`
	DontKnowRate Num  `json:"dont_know_rate"`
	ViewsDiffer  bool `json:"views_differ"`
}

// Comparison of senior managers with everyone else on Reality.
type LeaderComparison struct {
	ID        string  `json:"id"`
	Senior    Num     `json:"senior"`
	Others    Num     `json:"others"`
	Diff      Num     `json:"difference"`
	Delta     float64 `json:"delta"`
	Magnitude string  `json:"magnitude"`
	// P is the two-sided p of the Mann-Whitney test at full precision: the
	// exact permutation p when it was computed (Exact), else the normal
	// approximation.
	P     float64 `json:"p"`
	Exact bool    `json:"exact"`
	// Q is P adjusted by Benjamini-Hochberg: across the practices for a
	// practice, across overall and the 13 sections for those.
	Q float64 `json:"q"`
	// Significant: Q ≤ SignificantQ. Anything else is only indicative.
	Significant bool `json:"significant"`
}

type LeadersVsStaff struct {
	Available bool               `json:"available"` // both groups have at least k responses
	Seniors   int                `json:"seniors,omitempty"`
	Others    int                `json:"others,omitempty"`
	Overall   *LeaderComparison  `json:"overall,omitempty"`
	Sections  []LeaderComparison `json:"sections,omitempty"`
	// Practices with a medium or large difference: the significant ones
	// first, then by the size of δ.
	Practices []LeaderComparison `json:"practices,omitempty"`
}

type ReportGroup struct {
	Key        string       `json:"key"`
	Name       string       `json:"name,omitempty"`
	Suppressed bool         `json:"suppressed"`
	Responses  *int         `json:"responses,omitempty"`
	Overall    *ReportScore `json:"overall,omitempty"`
	// Sections holds the group's CEM score per section, in the model's order: a heatmap row.
	Sections []Num `json:"sections,omitempty"`
}

// Report is the whole result of a campaign (or a filtered view of it).
type Report struct {
	CampaignID  int64        `json:"campaign"`
	Status      string       `json:"status"`
	Preliminary bool         `json:"preliminary"` // the campaign is still open
	K           int          `json:"k"`
	Filter      ReportFilter `json:"filter"`
	// Suppressed views show no numbers at all; Reason is "too_few" or "differencing".
	Suppressed     bool             `json:"suppressed"`
	Reason         string           `json:"reason,omitempty"`
	Responses      *int             `json:"responses,omitempty"`
	Overall        *ReportScore     `json:"overall,omitempty"`
	DontKnowRate   Num              `json:"dont_know_rate,omitempty"`
	Sections       []ReportSection  `json:"sections,omitempty"`
	Practices      []ReportPractice `json:"practices,omitempty"`
	LeadersVsStaff *LeadersVsStaff  `json:"leaders_vs_staff,omitempty"`
	// Recommendations are the ten practices to act on first.
	Recommendations []Recommendation `json:"recommendations,omitempty"`
	Units           []ReportGroup    `json:"units,omitempty"`
	Roles           []ReportGroup    `json:"roles,omitempty"`
	Seniority       []ReportGroup    `json:"seniority,omitempty"`
	// Release is the published state the report shows (set by the server).
	Release *ReleaseInfo `json:"release,omitempty"`
	// ownCEM is, per part, the moments of respondents' own CEM scores:
	// the trend's noise test reads them instead of the rows.
	ownCEM []moments
	// tally is the selected responses' count per slot and level: how each
	// practice moved between waves is read from it.
	tally Tally
}

// ReleaseInfo says which release a report shows: every number in it comes
// from that release, and HeldBack responses wait for a later one.
type ReleaseInfo struct {
	Seq       int       `json:"seq"`
	Responses int       `json:"responses"`
	HeldBack  int       `json:"held_back"`
	At        time.Time `json:"published_at"`
}

// BuildReport computes a campaign's report for a filter. unitNames maps unit
// ids to names for the breakdown.
func BuildReport(m *Model, c *Campaign, rows []ReportRow, f ReportFilter, unitNames map[int64]string) *Report {
	rep := newReport(c, f)
	k := rep.K
	var sel []*ReportRow
	for i := range rows {
		if f.match(&rows[i]) {
			sel = append(sel, &rows[i])
		}
	}
	if len(sel) < k {
		return rep.tooFew()
	}
	for _, sup := range f.supersets() {
		n := 0
		for i := range rows {
			if sup.match(&rows[i]) {
				n++
			}
		}
		if !AllowFilter(len(sel), n, k) {
			rep.Suppressed, rep.Reason = true, "differencing"
			return rep
		}
	}
	// Complementary suppression holds for filtered views too: a group that
	// the breakdown of its wider view hides to protect a smaller neighbour
	// must not be shown on its own, or the wider total minus the visible
	// groups minus this one would give the neighbour away.
	for _, c := range f.conditions() {
		counts := map[string]int{}
		for i := range rows {
			if c.wider.match(&rows[i]) {
				counts[c.key(&rows[i])]++
			}
		}
		if SuppressGroups(counts, k)[c.chosen] {
			rep.Suppressed, rep.Reason = true, "complementary"
			return rep
		}
	}
	return fillReport(rep, m, c, aggregateRows(m, sel), len(sel), unitNames)
}

// newReport is a campaign's report for a filter before any number is in it.
func newReport(c *Campaign, f ReportFilter) *Report {
	return &Report{CampaignID: c.ID, Status: c.Status, Preliminary: c.Status == StatusOpen, K: EffectiveK(c.KMin), Filter: f}
}

// tooFew marks the view hidden: fewer than k respondents.
func (r *Report) tooFew() *Report {
	r.Suppressed, r.Reason = true, "too_few"
	return r
}

// fillReport puts a view's numbers into rep (its campaign, k and filter
// set), from the aggregate of its n respondents.
func fillReport(rep *Report, m *Model, c *Campaign, agg *aggregate, n int, unitNames map[int64]string) *Report {
	k, f := rep.K, rep.Filter
	t := agg.tally(m, func(profile) bool { return true })
	s := m.Scores(t)
	rep.tally = t
	rep.Responses = &n
	// Respondents' own scores: for the ± of the whole and each section,
	// the trend's noise test, and leaders against staff.
	spread := agg.own.spread
	rep.ownCEM = agg.own.cem()
	ov := reportScore(s.Overall)
	ov.Margin = spread[0].margins()
	rep.Overall, rep.DontKnowRate = &ov, rateNum(s.DontKnowRate)
	for i, sec := range s.Sections {
		rs := ReportSection{ID: sec.Section.ID, Slug: sec.Section.Slug, ReportScore: reportScore(sec.Score)}
		rs.Margin = spread[i+1].margins()
		rep.Sections = append(rep.Sections, rs)
	}
	for _, p := range s.Practices {
		st := p.IntentionStats
		dk := Value{}
		if tot := st.Answered + st.DontKnow + p.RealityStats.Answered + p.RealityStats.DontKnow; tot > 0 {
			dk = Value{V: float64(st.DontKnow+p.RealityStats.DontKnow) / float64(tot), Valid: true}
		}
		sc := reportScore(p.Score)
		sc.Margin = &Margins{Intention: histMargin(t.Slots[m.Slot(p.Practice, Intention)]), Reality: histMargin(t.Slots[m.Slot(p.Practice, Reality)])}
		rep.Practices = append(rep.Practices, ReportPractice{
			ID: p.Practice.ID, Subsection: p.Practice.Subsection.Slug, ReportScore: sc,
			Answered: min(st.Answered, p.RealityStats.Answered), DontKnowRate: rateNum(dk),
			ViewsDiffer: st.ViewsDiffer || p.RealityStats.ViewsDiffer,
		})
	}
	rep.LeadersVsStaff = leadersVsStaff(m, agg, k)
	rep.Recommendations = Recommend(rep, ParseSectionWeights(c.SectionWeights), 10)
	if f.Empty() {
		// Each response is counted once, into its profile's tally; the
		// three breakdowns add up profiles, not responses.
		profiles := agg.profiles
		rep.Units = breakdown(m, profiles, k, func(p profile) string { return p.unit }, func(key string) string {
			id, _ := strconv.ParseInt(key, 10, 64)
			return unitNames[id]
		})
		rep.Roles = breakdown(m, profiles, k, func(p profile) string { return p.role }, func(key string) string { return key })
		rep.Seniority = breakdown(m, profiles, k, func(p profile) string { return p.seniority }, func(key string) string { return key })
	}
	return rep
}

// profile is a response's unit (rowUnitKey), role and band.
type profile struct{ unit, role, seniority string }

// breakdown scores each group that the suppression rules let show.
func breakdown(m *Model, profiles map[profile]*Tally, k int, key func(profile) string, name func(string) string) []ReportGroup {
	groups := map[string][]*Tally{}
	counts := map[string]int{}
	for p, t := range profiles {
		g := key(p)
		groups[g] = append(groups[g], t)
		counts[g] += t.N
	}
	hidden := SuppressGroups(counts, k)
	keys := make([]string, 0, len(groups))
	for g := range groups {
		keys = append(keys, g)
	}
	sort.Strings(keys)
	out := make([]ReportGroup, 0, len(keys))
	for _, g := range keys {
		rg := ReportGroup{Key: g, Name: name(g), Suppressed: hidden[g]}
		if !rg.Suppressed {
			t := m.NewTally()
			for _, pt := range groups[g] {
				t.Merge(*pt)
			}
			n := counts[g]
			scores := m.Scores(t)
			sc := reportScore(scores.Overall)
			rg.Responses, rg.Overall = &n, &sc
			rg.Sections = make([]Num, len(scores.Sections))
			for i, sec := range scores.Sections {
				rg.Sections[i] = num(sec.Score.CEM)
			}
		}
		out = append(out, rg)
	}
	return out
}

// leadersVsStaff compares senior managers with everyone else on Reality.
// The figures shown are the two groups' scores, built like every group's
// (so they equal the seniority breakdown's); the tests compare respondents'
// own scores (own.go) for the whole and each section, and each practice's
// levels. P is the exact permutation p wherever it is computed, else the
// normal approximation; Q adjusts it by Benjamini-Hochberg across the 104
// practices, and across overall plus the 13 sections for those. Only Q ≤
// 0.05 is a finding (Significant); a large δ without it is indicative.
func leadersVsStaff(m *Model, agg *aggregate, k int) *LeadersVsStaff {
	ts := agg.tally(m, func(p profile) bool { return p.seniority == SeniorBand })
	to := agg.tally(m, func(p profile) bool { return p.seniority != SeniorBand })
	out := &LeadersVsStaff{}
	if ts.N < k || to.N < k {
		return out
	}
	out.Available, out.Seniors, out.Others = true, ts.N, to.N
	ss, so := m.Scores(ts), m.Scores(to)
	parts := make([]LeaderComparison, 0, len(m.Sections)+1)
	for part := range len(m.Sections) + 1 {
		id, gs, gr := "overall", ss.Overall.Reality, so.Overall.Reality
		if part > 0 {
			id, gs, gr = m.Sections[part-1].ID, ss.Sections[part-1].Reality, so.Sections[part-1].Reality
		}
		parts = append(parts, leaderRow(id, MannWhitneyRuns(agg.own.reality(0, part), agg.own.reality(1, part)), gs, gr))
	}
	adjust(parts)
	out.Overall = &parts[0]
	out.Sections = parts[1:]
	var rowsP []LeaderComparison
	for _, p := range m.Practices() {
		i := m.Slot(p, Reality)
		cmp := MannWhitney(ts.Slots[i].ByScore(), to.Slots[i].ByScore())
		if !cmp.Valid {
			continue
		}
		rowsP = append(rowsP, leaderRow(p.ID, cmp, ts.Slots[i].Mean(), to.Slots[i].Mean()))
	}
	adjust(rowsP)
	for _, r := range rowsP {
		if r.Magnitude == DeltaMedium || r.Magnitude == DeltaLarge {
			out.Practices = append(out.Practices, r)
		}
	}
	// Findings first, then the largest differences.
	sort.SliceStable(out.Practices, func(i, j int) bool {
		a, b := out.Practices[i], out.Practices[j]
		if a.Significant != b.Significant {
			return a.Significant
		}
		return math.Abs(a.Delta) > math.Abs(b.Delta)
	})
	return out
}

// SignificantQ is the false discovery rate under which a difference is a finding.
const SignificantQ = 0.05

// adjust sets Q (Benjamini-Hochberg across the rows) and Significant.
func adjust(rows []LeaderComparison) {
	ps := make([]float64, len(rows))
	for i, r := range rows {
		ps[i] = r.P
	}
	q, sig := BenjaminiHochberg(ps, SignificantQ)
	for i := range rows {
		rows[i].Q, rows[i].Significant = q[i], sig[i]
	}
}

func leaderRow(id string, c Comparison, senior, others Value) LeaderComparison {
	lc := LeaderComparison{ID: id, Senior: num(senior), Others: num(others), Delta: c.Delta, Magnitude: c.Magnitude, P: c.P, Q: 1}
	if !c.Valid {
		lc.P = 1 // nothing to test: every answer tied
	}
	if c.ExactP.Valid {
		lc.P, lc.Exact = c.ExactP.V, true
	}
	if senior.Valid && others.Valid {
		lc.Diff = num(Value{V: senior.V - others.V, Valid: true})
	}
	return lc
}
