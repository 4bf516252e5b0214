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

func rowUnitKey(r *ReportRow) string {
	if r.UnitID == nil {
		return ""
	}
	return strconv.FormatInt(*r.UnitID, 10)
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

// Num is a rounded score, or null when there is none to show.
type Num = *float64

func num(v Value) Num {
	if !v.Valid || math.IsNaN(v.V) {
		return nil
	}
	r := math.Round(v.V*10) / 10
	return &r
}

// rateNum is a share (0–1) rounded to three decimals: rounding it like a
// score would turn 0.34 into 0.3 and hide a "don't know" finding.
func rateNum(v Value) Num {
	if !v.Valid || math.IsNaN(v.V) {
		return nil
	}
	r := math.Round(v.V*1000) / 1000
	return &r
}

// ReportScore is a pair of dimension scores with CEM and gap, in points.
type ReportScore struct {
	Intention Num `json:"intention"`
	Reality   Num `json:"reality"`
	CEM       Num `json:"cem"`
	Gap       Num `json:"gap"`
}

func reportScore(s Score) ReportScore {
	return ReportScore{Intention: num(s.Intention), Reality: num(s.Reality), CEM: num(s.CEM), Gap: num(s.Gap)}
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
	P         float64 `json:"p"`
	Q         float64 `json:"q,omitempty"` // Benjamini-Hochberg, practices only
}

type LeadersVsStaff struct {
	Available bool               `json:"available"` // both groups have at least k responses
	Seniors   int                `json:"seniors,omitempty"`
	Others    int                `json:"others,omitempty"`
	Overall   *LeaderComparison  `json:"overall,omitempty"`
	Sections  []LeaderComparison `json:"sections,omitempty"`
	// Practices with a medium or large difference, largest first.
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
	k := EffectiveK(c.KMin)
	rep := &Report{CampaignID: c.ID, Status: c.Status, Preliminary: c.Status == StatusOpen, K: k, Filter: f}
	var sel []*ReportRow
	for i := range rows {
		if f.match(&rows[i]) {
			sel = append(sel, &rows[i])
		}
	}
	if len(sel) < k {
		rep.Suppressed, rep.Reason = true, "too_few"
		return rep
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
	t := m.NewTally()
	for _, r := range sel {
		t.Add(r.Answers)
	}
	s := m.Scores(t)
	n := len(sel)
	rep.Responses = &n
	ov := reportScore(s.Overall)
	rep.Overall, rep.DontKnowRate = &ov, rateNum(s.DontKnowRate)
	for _, sec := range s.Sections {
		rep.Sections = append(rep.Sections, ReportSection{ID: sec.Section.ID, Slug: sec.Section.Slug, ReportScore: reportScore(sec.Score)})
	}
	for _, p := range s.Practices {
		st := p.IntentionStats
		dk := Value{}
		if tot := st.Answered + st.DontKnow + p.RealityStats.Answered + p.RealityStats.DontKnow; tot > 0 {
			dk = Value{V: float64(st.DontKnow+p.RealityStats.DontKnow) / float64(tot), Valid: true}
		}
		rep.Practices = append(rep.Practices, ReportPractice{
			ID: p.Practice.ID, Subsection: p.Practice.Subsection.Slug, ReportScore: reportScore(p.Score),
			Answered: min(st.Answered, p.RealityStats.Answered), DontKnowRate: rateNum(dk),
			ViewsDiffer: st.ViewsDiffer || p.RealityStats.ViewsDiffer,
		})
	}
	rep.LeadersVsStaff = leadersVsStaff(m, sel, k)
	rep.Recommendations = Recommend(rep, ParseSectionWeights(c.SectionWeights), 10)
	if f.Empty() {
		// Each response is counted once, into its profile's tally; the
		// three breakdowns add up profiles, not responses.
		profiles := tallyProfiles(m, sel)
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

// tallyProfiles counts the rows into one tally per profile.
func tallyProfiles(m *Model, rows []*ReportRow) map[profile]*Tally {
	out := map[profile]*Tally{}
	units := map[*int64]string{} // rows of a release share their profile's unit pointer
	for _, r := range rows {
		u, ok := units[r.UnitID]
		if !ok {
			u = rowUnitKey(r)
			if len(units) < 1024 {
				units[r.UnitID] = u
			}
		}
		p := profile{u, r.Role, r.Seniority}
		t := out[p]
		if t == nil {
			nt := m.NewTally()
			t = &nt
			out[p] = t
		}
		t.Add(r.Answers)
	}
	return out
}

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

// ownScore is one respondent's mean Reality score over a set of practices.
func ownScore(m *Model, answers []byte, ps []*Practice) (float64, bool) {
	var sum float64
	n := 0
	for _, p := range ps {
		if i := m.Slot(p, Reality); i < len(answers) && answers[i] >= 1 && answers[i] <= NumLevels {
			sum += LevelScore(int(answers[i]))
			n++
		}
	}
	if n == 0 {
		return 0, false
	}
	return sum / float64(n), true
}

// leadersVsStaff compares senior managers with everyone else on Reality:
// respondents' own section and overall scores, and each practice's levels.
func leadersVsStaff(m *Model, rows []*ReportRow, k int) *LeadersVsStaff {
	var seniors, others []*ReportRow
	for _, r := range rows {
		if r.Seniority == SeniorBand {
			seniors = append(seniors, r)
		} else {
			others = append(others, r)
		}
	}
	out := &LeadersVsStaff{}
	if len(seniors) < k || len(others) < k {
		return out
	}
	out.Available, out.Seniors, out.Others = true, len(seniors), len(others)
	groups := [][]*Practice{m.Practices()}
	for _, s := range m.Sections {
		groups = append(groups, s.Practices())
	}
	own := ownScoreCounts(m, groups, seniors, others)
	overall := own[0].row("overall")
	out.Overall = &overall
	for i, s := range m.Sections {
		out.Sections = append(out.Sections, own[i+1].row(s.ID))
	}
	ts, to := m.NewTally(), m.NewTally()
	for _, r := range seniors {
		ts.Add(r.Answers)
	}
	for _, r := range others {
		to.Add(r.Answers)
	}
	var rowsP []LeaderComparison
	var ps []float64
	for _, p := range m.Practices() {
		i := m.Slot(p, Reality)
		cmp := MannWhitney(ts.Slots[i].ByScore(), to.Slots[i].ByScore())
		if !cmp.Valid {
			continue
		}
		rowsP = append(rowsP, leaderRow(p.ID, cmp, ts.Slots[i].Mean(), to.Slots[i].Mean()))
		ps = append(ps, cmp.P)
	}
	adj, _ := BenjaminiHochberg(ps, 0.05)
	for i := range rowsP {
		rowsP[i].Q = math.Round(adj[i]*1000) / 1000
		if rowsP[i].Magnitude == DeltaMedium || rowsP[i].Magnitude == DeltaLarge {
			out.Practices = append(out.Practices, rowsP[i])
		}
	}
	sort.SliceStable(out.Practices, func(i, j int) bool { return math.Abs(out.Practices[i].Delta) > math.Abs(out.Practices[j].Delta) })
	return out
}

// ownCounts counts respondents by their own score on a group of practices,
// for two groups of respondents (seniors, others). An own score is the mean
// of LevelScore over the practices answered, 25·sum/n for a sum of
// (5 − level) over n answers, so respondents fall into a few thousand
// (n, sum) bins at most, however many they are.
type ownCounts struct {
	practices int
	bins      [2][]int // [group][n*(4*practices+1)+sum]
}

// ownScoreCounts bins every respondent's own score on each group of
// practices in one pass over the rows: the same comparison as
// MannWhitneyValues over each respondent's ownScore, without a slice of a
// million scores per group to sort out.
func ownScoreCounts(m *Model, groups [][]*Practice, seniors, others []*ReportRow) []ownCounts {
	slots := make([][]int, len(groups))
	out := make([]ownCounts, len(groups))
	for g, ps := range groups {
		for _, p := range ps {
			slots[g] = append(slots[g], m.Slot(p, Reality))
		}
		w := 4*len(ps) + 1
		out[g] = ownCounts{practices: len(ps), bins: [2][]int{make([]int, (len(ps)+1)*w), make([]int, (len(ps)+1)*w)}}
	}
	for side, rows := range [2][]*ReportRow{seniors, others} {
		for _, r := range rows {
			for g, sl := range slots {
				sum, n := 0, 0
				for _, i := range sl {
					if i < len(r.Answers) && r.Answers[i] >= 1 && r.Answers[i] <= NumLevels {
						sum += NumLevels - int(r.Answers[i])
						n++
					}
				}
				if n > 0 {
					out[g].bins[side][n*(4*out[g].practices+1)+sum]++
				}
			}
		}
	}
	return out
}

// row compares the two groups' own scores (Mann-Whitney) and their means.
func (o ownCounts) row(id string) LeaderComparison {
	w := 4*o.practices + 1
	type tally struct{ a, b int }
	byValue := map[float64]*tally{}
	var sums [2]float64
	var ns [2]int
	for side := range 2 {
		for idx, c := range o.bins[side] {
			if c == 0 {
				continue
			}
			n, sum := idx/w, idx%w
			v := float64(sum) * LevelScore(NumLevels-1) / float64(n)
			t := byValue[v]
			if t == nil {
				t = &tally{}
				byValue[v] = t
			}
			if side == 0 {
				t.a += c
			} else {
				t.b += c
			}
			sums[side] += v * float64(c)
			ns[side] += c
		}
	}
	vals := make([]float64, 0, len(byValue))
	for v := range byValue {
		vals = append(vals, v)
	}
	sort.Float64s(vals)
	ha, hb := make([]int, len(vals)), make([]int, len(vals))
	for i, v := range vals {
		ha[i], hb[i] = byValue[v].a, byValue[v].b
	}
	var means [2]Value
	for side := range 2 {
		if ns[side] > 0 {
			means[side] = Value{V: sums[side] / float64(ns[side]), Valid: true}
		}
	}
	return leaderRow(id, MannWhitney(ha, hb), means[0], means[1])
}

func leaderRow(id string, c Comparison, senior, others Value) LeaderComparison {
	lc := LeaderComparison{ID: id, Senior: num(senior), Others: num(others),
		Delta: math.Round(c.Delta*1000) / 1000, Magnitude: c.Magnitude, P: math.Round(c.P*1000) / 1000}
	if senior.Valid && others.Valid {
		lc.Diff = num(Value{V: senior.V - others.V, Valid: true})
	}
	return lc
}

func mean(vs []float64) Value {
	if len(vs) == 0 {
		return Value{}
	}
	var s float64
	for _, v := range vs {
		s += v
	}
	return Value{V: s / float64(len(vs)), Valid: true}
}
