package server

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"maps"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"tiltline/survey"
)

// The attacks of issue 12, carried out end to end the way the outside
// tester did: real invitation links answered through the respondent pages,
// an ordinary manager account and API token reading the report API, the
// results page, export.csv and aggregate.csv, an org admin reading the
// participant list. Each test states what the attacker would need to
// recover, and asserts that they recover nothing.
//
// The tests know whose response is whose because every respondent answers
// with a fingerprint (the first practices' Intention levels spell their
// number in base 5); the attacker does not need it, the test needs it to
// know which responses each view the attacker saw contains.

// ---- An organisation, its people and their links ----------------------------

// attackK is the campaigns' k: the smallest the product allows.
const attackK = 3

// attackCloses dates every campaign of these tests; its year is the pool's.
var attackCloses = time.Date(2099, 12, 14, 0, 0, 0, 0, time.UTC)

type attackCreds struct{ email, password, token string }

type attackOrg struct {
	t       *testing.T
	a       *App
	m       *survey.Model
	org     *survey.Organisation
	units   map[string]int64 // by name
	slug    string
	admin   attackCreds // an org admin: sets up, closes, reads the participant list
	manager attackCreds // the attacker: an ordinary manager without unit limits
	adminUI *flowClient // the org admin's signed-in session, made when first needed
}

func newAttackOrg(t *testing.T, a *App, slug string, in survey.OrgInput, units ...string) *attackOrg {
	t.Helper()
	ctx := t.Context()
	in.Name = "Attack " + slug
	org, err := survey.SaveOrganisation(ctx, a.db, 0, in)
	if err != nil {
		t.Fatal(err)
	}
	o := &attackOrg{t: t, a: a, m: a.models.Latest(), org: org, units: map[string]int64{}, slug: slug}
	for _, name := range units {
		u, err := survey.AddUnit(ctx, a.db, org.ID, name)
		if err != nil {
			t.Fatal(err)
		}
		o.units[name] = u.ID
	}
	for _, c := range []struct {
		who  *attackCreds
		role string
	}{{&o.admin, survey.RoleOrgAdmin}, {&o.manager, survey.RoleManager}} {
		c.who.email = fmt.Sprintf("%s@%s.attack.example", strings.ReplaceAll(c.role, "_", "-"), slug)
		c.who.password = "attack-password-" + slug + "-" + c.role
		u, err := survey.CreateUserWithPassword(ctx, a.db, c.who.email, "", c.role, &org.ID, c.who.password)
		if err != nil {
			t.Fatal(err)
		}
		if c.role == survey.RoleManager { // the worst case: a manager who reads the whole organisation
			if err := survey.SetManagerUnits(ctx, a.db, org.ID, u.ID, true, nil); err != nil {
				t.Fatal(err)
			}
		}
		if c.who.token, err = survey.CreateAPIToken(ctx, a.db, c.who.email, "attack"); err != nil {
			t.Fatal(err)
		}
	}
	return o
}

func (o *attackOrg) adminSession() *flowClient {
	if o.adminUI == nil {
		o.adminUI = signedIn(o.t, o.a, o.admin.email, o.admin.password)
	}
	return o.adminUI
}

// managerSession signs the attacking manager in to the pages.
func (o *attackOrg) managerSession() *flowClient {
	return managerFlow(o.t, o.a, &survey.DemoResult{ManagerEmail: o.manager.email, ManagerPassword: o.manager.password})
}

// attackCell is n people of one (unit, role, seniority).
type attackCell struct {
	unit, role, seniority string
	n                     int
}

type attackPerson struct {
	idx                   int
	email, name           string
	unit, role, seniority string // unit by name
	token                 string // the link token of their invitation mail
	levels                []byte // the answers they submit, by slot (1..5, no gaps)
}

type attackCampaign struct {
	*attackOrg
	campaign   *survey.Campaign
	base       string // the campaign's API path
	people     []*attackPerson
	byFP       map[string]int // fingerprint → person
	submitted  []int          // in order
	respondent *flowClient
}

// attackFingerprintLen is how many practices' Intention spell a person's number.
const attackFingerprintLen = 4

// newCampaign opens a campaign with k = attackK, imports its participants
// through the API and derives each one's link token as the invitation mail
// would. levels, if given, chooses a person's answers; by default they are
// the fingerprint followed by random levels.
func (o *attackOrg) newCampaign(name string, cells []attackCell, levels func(idx int) []byte) *attackCampaign {
	t, a := o.t, o.a
	t.Helper()
	closes := attackCloses
	cp := &survey.Campaign{OrganisationID: o.org.ID, Name: name, WaveLabel: "2099", ModelVersion: o.m.Version,
		Locales: "en,de,fr", KMin: attackK, Status: survey.StatusOpen, ClosesAt: &closes, ContactName: "Attack Admin", ContactEmail: o.admin.email}
	if err := a.db.Write.Create(cp).Error; err != nil {
		t.Fatal(err)
	}
	c := &attackCampaign{attackOrg: o, campaign: cp, base: fmt.Sprintf("/api/v1/campaigns/%d", cp.ID), byFP: map[string]int{},
		respondent: newFlow(t, a, "")}
	if levels == nil {
		levels = c.fingerprinted
	}
	var b strings.Builder
	b.WriteString("email,name,unit,role,seniority,locale\n")
	for _, cell := range cells {
		for range cell.n {
			i := len(c.people)
			p := &attackPerson{idx: i, email: fmt.Sprintf("p%03d.c%d@%s.people.example", i, cp.ID, o.slug), name: fmt.Sprintf("Person %03d of %s", i, name),
				unit: cell.unit, role: cell.role, seniority: cell.seniority, levels: levels(i)}
			c.people = append(c.people, p)
			c.byFP[c.fingerprintOf(p.levels)] = i
			fmt.Fprintf(&b, "%s,%s,%s,%s,%s,en\n", p.email, p.name, p.unit, p.role, p.seniority)
		}
	}
	if len(c.people) == 0 {
		return c
	}
	if code, out := apiCall(t, a, http.MethodPost, c.base+"/participants", o.admin.token, b.String()); code != 200 || out["added"] != float64(len(c.people)) {
		t.Fatalf("import: %d %v", code, out)
	}
	var invs []struct {
		ID    string
		Email string
	}
	if err := a.db.Read.Raw(`SELECT i.id, p.email FROM invitations i JOIN participants p ON p.id = i.participant_id WHERE i.campaign_id = ?`, cp.ID).Scan(&invs).Error; err != nil {
		t.Fatal(err)
	}
	for _, inv := range invs {
		for _, p := range c.people {
			if p.email == inv.Email {
				p.token = survey.InviteToken(a.cfg.Secret, inv.ID)
			}
		}
	}
	for _, p := range c.people {
		if p.token == "" {
			t.Fatalf("no invitation for %s", p.email)
		}
	}
	return c
}

// fingerprinted answers every slot: the first practices' Intention spell
// idx in base 5, the rest are random but fixed per person.
func (c *attackCampaign) fingerprinted(idx int) []byte {
	m := c.m
	rng := rand.New(rand.NewPCG(uint64(idx)+1, 12))
	out := make([]byte, m.AnswerSlots())
	for i := range out {
		out[i] = byte(1 + rng.IntN(5))
	}
	for d, v := 0, idx; d < attackFingerprintLen; d, v = d+1, v/5 {
		out[m.Slot(m.Practices()[d], survey.Intention)] = byte(v%5 + 1)
	}
	return out
}

func (c *attackCampaign) fingerprintOf(levels []byte) string {
	fp := ""
	for d := range attackFingerprintLen {
		fp += strconv.Itoa(int(levels[c.m.Slot(c.m.Practices()[d], survey.Intention)]))
	}
	return fp
}

// attackUniform answers every slot with one level.
func attackUniform(m *survey.Model, level byte) func(int) []byte {
	return func(int) []byte {
		out := make([]byte, m.AnswerSlots())
		for i := range out {
			out[i] = level
		}
		return out
	}
}

// submit answers a person's link through the respondent pages: the welcome
// page, start, one autosave with every answer, submit.
func (c *attackCampaign) submit(idx int) {
	t := c.t
	t.Helper()
	p := c.people[idx]
	f := c.respondent
	f.base = "/s/" + p.token
	if code, _ := f.get(""); code != http.StatusOK {
		t.Fatalf("%s: welcome %d", p.name, code)
	}
	if code, _ := f.post("/start", nil); code != http.StatusSeeOther {
		t.Fatalf("%s: start %d", p.name, code)
	}
	var answers []string
	for _, pr := range c.m.Practices() {
		for _, d := range []string{survey.Intention, survey.Reality} {
			answers = append(answers, fmt.Sprintf(`{"practice":%q,"dimension":%q,"level":%d}`, pr.ID, d, p.levels[c.m.Slot(pr, d)]))
		}
	}
	if code, body := f.put("[" + strings.Join(answers, ",") + "]"); code != http.StatusNoContent {
		t.Fatalf("%s: autosave %d %s", p.name, code, body)
	}
	if code, loc := f.post("/submit", nil); code != http.StatusSeeOther || loc != f.base+"/thanks" {
		t.Fatalf("%s: submit %d %q", p.name, code, loc)
	}
	c.submitted = append(c.submitted, idx)
}

// publish runs what the server runs after submits (debounced) and at close,
// so that the tests need not wait for it.
func (c *attackCampaign) publish() {
	c.t.Helper()
	if _, err := survey.PublishRelease(c.t.Context(), c.a.db, c.a.cfg.Secret, c.campaign.ID); err != nil {
		c.t.Fatal(err)
	}
	c.a.reports.touch(c.campaign.ID)
}

// close closes the campaign as its org admin does, then publishes.
func (c *attackCampaign) close() {
	c.t.Helper()
	f := c.adminSession()
	if code, _ := f.post(fmt.Sprintf("/admin/campaigns/%d/status", c.campaign.ID), url.Values{"status": {survey.StatusClosed}, "confirmed": {"1"}}); code != http.StatusSeeOther {
		c.t.Fatalf("close %s: %d", c.campaign.Name, code)
	}
	c.publish()
}

// ---- What the attacker reads -------------------------------------------------

// attackAttrs are a response's attributes as the export shows them (generalised
// ones included): unit by name, "" when none or pooled.
type attackAttrs struct{ unit, role, seniority string }

// attackFilter is a report filter by unit name, role and seniority.
type attackFilter attackAttrs

func (f attackFilter) query(units map[string]int64) string {
	q := url.Values{}
	if f.unit != "" {
		q.Set("unit", strconv.FormatInt(units[f.unit], 10))
	}
	if f.role != "" {
		q.Set("role", f.role)
	}
	if f.seniority != "" {
		q.Set("seniority", f.seniority)
	}
	return q.Encode()
}

func (f attackFilter) String() string {
	var parts []string
	for _, kv := range [][2]string{{"unit", f.unit}, {"role", f.role}, {"seniority", f.seniority}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+kv[1])
		}
	}
	if len(parts) == 0 {
		return "whole"
	}
	return strings.Join(parts, "&")
}

func (f attackFilter) match(r attackAttrs) bool {
	return (f.unit == "" || r.unit == f.unit) && (f.role == "" || r.role == f.role) && (f.seniority == "" || r.seniority == f.seniority)
}

// attackFilters is every combination of the values given (the empty one included).
func attackFilters(units, roles, seniorities []string) []attackFilter {
	var out []attackFilter
	for _, u := range append([]string{""}, units...) {
		for _, r := range append([]string{""}, roles...) {
			for _, s := range append([]string{""}, seniorities...) {
				out = append(out, attackFilter{u, r, s})
			}
		}
	}
	return out
}

// attackView is one group of responses whose numbers the attacker saw: its
// members (persons, known to the test only), its shown count and the means
// it showed, keyed "p:AP-01:i" (practice, intention), "s:AP:r" (section,
// reality), "s:AP:c" (section CEM).
type attackView struct {
	name    string
	members []int
	n       int
	means   map[string]float64
}

// attackRead is everything the attacker read at one moment.
type attackRead struct {
	label    string
	exported map[int]attackAttrs // responses in the export, by person; nil when refused
	views    []attackView
	// counts are the response counts shown, by where: "page", "api whole",
	// "export", "aggregate", and "api <filter>" for each filter shown.
	counts  map[string]int
	means   map[string]map[string]float64 // by the same names as counts, for the API's views
	members map[string][]int              // by the same names, for the API's views
	release string                        // the report's "release", as JSON, when present
}

// readExport reads export.csv with the manager's token; it returns the
// responses by person with the attributes the file carries (an attribute
// the file leaves out is taken from the participant list: today's code
// drops a whole column, and then it cannot tell groups apart).
func (c *attackCampaign) readExport() (map[int]attackAttrs, [][]string, int) {
	t := c.t
	rec := fetch(t, c.a, c.base+"/export.csv", c.manager.token)
	if rec.Code != http.StatusOK {
		return nil, nil, rec.Code
	}
	rows, err := csv.NewReader(strings.NewReader(rec.Body.String())).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("export.csv: %v", err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	points := map[string]byte{"100": 1, "75": 2, "50": 3, "25": 4, "0": 5}
	names := map[string]bool{}
	for n := range c.units {
		names[n] = true
	}
	out := map[int]attackAttrs{}
	for _, r := range rows[1:] {
		fp := ""
		for d := range attackFingerprintLen {
			fp += strconv.Itoa(int(points[r[col[c.m.Practices()[d].ID+" intention"]]]))
		}
		idx, ok := c.byFP[fp]
		if !ok {
			t.Fatalf("export row with unknown fingerprint %s", fp)
		}
		p := c.people[idx]
		at := attackAttrs{p.unit, p.role, p.seniority}
		if i, ok := col["unit"]; ok {
			at.unit = r[i]
			if !names[at.unit] {
				at.unit = "" // no unit, or units pooled under a name of their own
			}
		}
		if i, ok := col["role"]; ok {
			at.role = r[i]
		}
		if i, ok := col["seniority"]; ok {
			at.seniority = r[i]
		}
		if _, dup := out[idx]; dup {
			t.Fatalf("export holds %s twice", p.name)
		}
		out[idx] = at
	}
	return out, rows, http.StatusOK
}

// read reads, as the attacking manager: the API report for every filter,
// export.csv, aggregate.csv and (with page) the results page.
func (c *attackCampaign) read(label string, filters []attackFilter, page *flowClient) *attackRead {
	t := c.t
	t.Helper()
	rd := &attackRead{label: label, counts: map[string]int{}, means: map[string]map[string]float64{}, members: map[string][]int{}}
	var code int
	rd.exported, _, code = c.readExport()
	if rd.exported != nil {
		rd.counts["export"] = len(rd.exported)
	} else if code != http.StatusConflict && code != http.StatusForbidden {
		t.Fatalf("export.csv = %d", code)
	}
	if rec := fetch(t, c.a, c.base+"/aggregate.csv", c.manager.token); rec.Code == http.StatusOK {
		rows, err := csv.NewReader(strings.NewReader(rec.Body.String())).ReadAll()
		if err != nil || len(rows) < 2 || rows[1][0] != "overall" {
			t.Fatalf("aggregate.csv: %v %v", err, rows[:min(2, len(rows))])
		}
		if n, err := strconv.Atoi(rows[1][7]); err == nil {
			rd.counts["aggregate"] = n
		}
	}
	if page != nil {
		if code, body := page.get(fmt.Sprintf("/results/%d", c.campaign.ID)); code != http.StatusOK {
			t.Fatalf("results page = %d", code)
		} else if m := regexp.MustCompile(`<dt>Responses</dt><dd>(\d+)`).FindStringSubmatch(body); m != nil {
			rd.counts["page"], _ = strconv.Atoi(m[1])
		}
	}
	for _, f := range filters {
		rec := fetch(t, c.a, c.base+"/report?"+f.query(c.units), c.manager.token)
		if rec.Code != http.StatusOK {
			continue // refused: the attacker sees nothing of it
		}
		var rep survey.Report
		var extra struct {
			Release json.RawMessage `json:"release"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(rec.Body.Bytes(), &extra)
		if f == (attackFilter{}) && extra.Release != nil {
			rd.release = string(extra.Release)
		}
		c.viewsOf(rd, f, &rep)
	}
	return rd
}

// viewsOf adds the views one report shows: the filtered whole, the
// breakdown groups it shows and leaders vs staff.
func (c *attackCampaign) viewsOf(rd *attackRead, f attackFilter, rep *survey.Report) {
	t := c.t
	if rep.Suppressed || rep.Responses == nil {
		return
	}
	if rd.exported == nil {
		t.Fatalf("%s: the report ?%s shows %d responses while export.csv is refused: the test cannot tell which", rd.label, f, *rep.Responses)
	}
	members := func(extra func(attackAttrs) bool) []int {
		var out []int
		for idx, at := range rd.exported {
			if f.match(at) && extra(at) {
				out = append(out, idx)
			}
		}
		sort.Ints(out)
		return out
	}
	add := func(name string, n int, mem []int, means map[string]float64) {
		if len(mem) != n {
			t.Errorf("%s: %s shows %d responses; the export's attributes give %d: the test's model of this view is wrong", rd.label, name, n, len(mem))
		}
		rd.views = append(rd.views, attackView{name: rd.label + ": " + name, members: mem, n: n, means: means})
	}
	means := map[string]float64{}
	for _, p := range rep.Practices {
		if p.Intention != nil {
			means["p:"+p.ID+":i"] = *p.Intention
		}
		if p.Reality != nil {
			means["p:"+p.ID+":r"] = *p.Reality
		}
	}
	for _, s := range rep.Sections {
		for dim, v := range map[string]survey.Num{"i": s.Intention, "r": s.Reality, "c": s.CEM} {
			if v != nil {
				means["s:"+s.ID+":"+dim] = *v
			}
		}
	}
	name := "?" + f.String()
	all := members(func(attackAttrs) bool { return true })
	add(name, *rep.Responses, all, means)
	rd.counts["api "+f.String()] = *rep.Responses
	rd.means["api "+f.String()] = means
	rd.members["api "+f.String()] = all
	for _, b := range []struct {
		what   string
		groups []survey.ReportGroup
		key    func(attackAttrs) string
	}{
		{"unit", rep.Units, func(at attackAttrs) string {
			if at.unit == "" {
				return ""
			}
			return strconv.FormatInt(c.units[at.unit], 10)
		}},
		{"role", rep.Roles, func(at attackAttrs) string { return at.role }},
		{"seniority", rep.Seniority, func(at attackAttrs) string { return at.seniority }},
	} {
		for _, g := range b.groups {
			if g.Suppressed || g.Responses == nil {
				continue
			}
			gm := map[string]float64{}
			for i, v := range g.Sections {
				if v != nil && i < len(c.m.Sections) {
					gm["s:"+c.m.Sections[i].ID+":c"] = *v
				}
			}
			key := g.Key
			add(fmt.Sprintf("%s breakdown %s=%q", name, b.what, key), *g.Responses, members(func(at attackAttrs) bool { return b.key(at) == key }), gm)
		}
	}
	if lv := rep.LeadersVsStaff; lv != nil && lv.Available {
		senior, others := map[string]float64{}, map[string]float64{}
		for _, s := range lv.Sections {
			if s.Senior != nil {
				senior["s:"+s.ID+":r"] = *s.Senior
			}
			if s.Others != nil {
				others["s:"+s.ID+":r"] = *s.Others
			}
		}
		add(name+" leaders (seniors)", lv.Seniors, members(func(at attackAttrs) bool { return at.seniority == survey.SeniorBand }), senior)
		add(name+" leaders (others)", lv.Others, members(func(at attackAttrs) bool { return at.seniority != survey.SeniorBand }), others)
	}
}

// ---- The attacker's algebra ------------------------------------------------------

// attackClasses groups responses by the set of views that contain them.
// Any integer (or rational) combination of the views' counts and sums is
// constant on each class, so the smallest group an attacker can isolate
// from these views is a whole class: every class must hold 0 or at least k
// responses. Responses in no view are left out (nothing shown of them).
func attackClasses(views []attackView) [][]int {
	sig := map[int][]byte{}
	for v, view := range views {
		for _, idx := range view.members {
			if sig[idx] == nil {
				sig[idx] = make([]byte, len(views))
			}
			sig[idx][v] = 1
		}
	}
	classes := map[string][]int{}
	for idx, s := range sig {
		classes[string(s)] = append(classes[string(s)], idx)
	}
	var out [][]int
	for _, cl := range classes {
		sort.Ints(cl)
		out = append(out, cl)
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// attackSolve finds coefficients c with Σ c_v·1_{view v} = 1_{target}, by
// Gaussian elimination over the responses that appear in any view; ok is
// false when the views do not span the target.
func attackSolve(views []attackView, target []int) (coef []float64, ok bool) {
	rowOf := map[int]int{}
	for _, v := range views {
		for _, idx := range v.members {
			if _, seen := rowOf[idx]; !seen {
				rowOf[idx] = len(rowOf)
			}
		}
	}
	n, m := len(rowOf), len(views)
	a := make([][]float64, n)
	for i := range a {
		a[i] = make([]float64, m+1)
	}
	for j, v := range views {
		for _, idx := range v.members {
			a[rowOf[idx]][j] = 1
		}
	}
	for _, idx := range target {
		row, ok := rowOf[idx]
		if !ok {
			return nil, false // in none of these views
		}
		a[row][m] = 1
	}
	const eps = 1e-9
	pivots := make([]int, 0, n) // pivot column of each reduced row
	r := 0
	for col := 0; col < m && r < n; col++ {
		best := r
		for i := r + 1; i < n; i++ {
			if math.Abs(a[i][col]) > math.Abs(a[best][col]) {
				best = i
			}
		}
		if math.Abs(a[best][col]) < eps {
			continue
		}
		a[r], a[best] = a[best], a[r]
		for j := col + 1; j <= m; j++ {
			a[r][j] /= a[r][col]
		}
		a[r][col] = 1
		for i := range n {
			if i != r && math.Abs(a[i][col]) > eps {
				f := a[i][col]
				for j := col; j <= m; j++ {
					a[i][j] -= f * a[r][j]
				}
			}
		}
		pivots = append(pivots, col)
		r++
	}
	for i := r; i < n; i++ {
		if math.Abs(a[i][m]) > 1e-6 {
			return nil, false
		}
	}
	coef = make([]float64, m)
	for i, col := range pivots {
		coef[col] = a[i][m]
	}
	return coef, true
}

// attackMerge joins views of the same responses (a filter and the
// breakdown group it equals, or one release read twice): the attacker sees
// they have the same count and knows every number either shows.
func attackMerge(views []attackView) []attackView {
	var out []attackView
	at := map[string]int{}
	for _, v := range views {
		key := fmt.Sprint(v.members)
		i, seen := at[key]
		if !seen {
			at[key] = len(out)
			out = append(out, attackView{name: v.name, members: v.members, n: v.n, means: map[string]float64{}})
			i = len(out) - 1
		}
		for k, x := range v.means {
			if _, ok := out[i].means[k]; !ok {
				out[i].means[k] = x
			}
		}
	}
	return out
}

// truth is what a group of people answered, under the views' keys.
func (c *attackCampaign) truth(members []int, key string) float64 {
	parts := strings.Split(key, ":")
	dim := map[string]string{"i": survey.Intention, "r": survey.Reality}
	own := func(p *attackPerson) float64 {
		var ps []*survey.Practice
		if parts[0] == "p" {
			pr, _ := c.m.Practice(parts[1])
			ps = []*survey.Practice{pr}
		} else {
			for _, s := range c.m.Sections {
				if s.ID == parts[1] {
					ps = s.Practices()
				}
			}
		}
		score := func(d string) float64 {
			var sum float64
			for _, pr := range ps {
				sum += survey.LevelScore(int(p.levels[c.m.Slot(pr, d)]))
			}
			return sum / float64(len(ps))
		}
		if parts[2] == "c" {
			return (score(survey.Intention) + score(survey.Reality)) / 2
		}
		return score(dim[parts[2]])
	}
	var sum float64
	for _, idx := range members {
		sum += own(c.people[idx])
	}
	return sum / float64(len(members))
}

// recover applies the combination to the views' shown sums (count × mean)
// for every key all the views it uses show, and says how many of the
// group's true values the attacker gets (a practice's level exactly after
// rounding to the 25-point grid, a section's score within a point).
func (c *attackCampaign) recover(views []attackView, coef []float64, group []int) string {
	var used []int
	for j, x := range coef {
		if math.Abs(x) > 1e-9 {
			used = append(used, j)
		}
	}
	var keys []string
	for key := range views[used[0]].means {
		all := true
		for _, j := range used {
			if _, ok := views[j].means[key]; !ok {
				all = false
			}
		}
		if all {
			keys = append(keys, key)
		}
	}
	var names []string
	for _, j := range used {
		names = append(names, fmt.Sprintf("%+g × [%s]", math.Round(coef[j]*100)/100, views[j].name))
	}
	if len(keys) == 0 {
		return fmt.Sprintf("count isolated by %s", strings.Join(names, " "))
	}
	sort.Strings(keys)
	got := 0
	for _, key := range keys {
		var sum float64
		for _, j := range used {
			sum += coef[j] * float64(views[j].n) * views[j].means[key]
		}
		est, want := sum/float64(len(group)), c.truth(group, key)
		// Shown means are rounded to 0.1: the attacker knows the bound of
		// the error, and a practice's level lies on a 25-point grid.
		tol := 0.0
		for _, j := range used {
			tol += math.Abs(coef[j]) * float64(views[j].n) * 0.05
		}
		tol = tol/float64(len(group)) + 1e-6
		if strings.HasPrefix(key, "p:") {
			tol = max(tol, 12.5)
		}
		if math.Abs(est-want) <= tol {
			got++
		}
	}
	return fmt.Sprintf("the attacker recovers %d of their %d values (%s…) by %s", got, len(keys), keys[0], strings.Join(names, " "))
}

// assertNothingIsolated fails for each group of 1..k−1 responses the views
// tell apart, naming it and, where the views span it, what the attacker
// recovers of it.
func (c *attackCampaign) assertNothingIsolated(what string, views []attackView) {
	t := c.t
	t.Helper()
	if len(views) == 0 {
		t.Logf("%s: the attacker saw no numbers at all", what)
		return
	}
	bad := 0
	for _, cl := range attackClasses(views) {
		if len(cl) >= attackK {
			continue
		}
		bad++
		if bad > 5 {
			continue
		}
		var who []string
		for _, idx := range cl {
			p := c.people[idx]
			who = append(who, fmt.Sprintf("%s (%s, %s, %s)", p.name, p.unit, p.role, p.seniority))
		}
		how := "no linear combination of the views isolates it, but they tell it apart"
		// Prefer a combination of views that show every practice: it
		// recovers the most.
		merged := attackMerge(views)
		var full []attackView
		for _, v := range merged {
			if _, ok := v.means["p:"+c.m.Practices()[0].ID+":i"]; ok {
				full = append(full, v)
			}
		}
		if coef, ok := attackSolve(full, cl); ok {
			how = c.recover(full, coef, cl)
		} else if coef, ok := attackSolve(merged, cl); ok {
			how = c.recover(merged, coef, cl)
		}
		t.Errorf("%s: a group of %d response(s) is told apart from the rest by the %d views read: %s; %s",
			what, len(cl), len(views), strings.Join(who, ", "), how)
	}
	if bad > 5 {
		t.Errorf("%s: and %d more groups under k", what, bad-5)
	}
}

// ---- 1. Differencing over time ---------------------------------------------------

// TestAttackDifferencingOverTime: the manager reads every number there is
// (results page, report API per filter, export.csv, aggregate.csv) before
// and after each single submit — the response count says when one came in —
// and diffs consecutive reads. No diff may move a shown count by 1..k−1, no
// number may change while its count stays, and all reads together may not
// tell apart a group under k (the first to submit alone is the named person).
func TestAttackDifferencingOverTime(t *testing.T) {
	a, _, _ := newTestApp(t)
	o := newAttackOrg(t, a, "time", survey.OrgInput{}, "Alpha", "Beta")
	c := o.newCampaign("Over time", []attackCell{
		{"Alpha", "technologist", "staff", 6}, {"Alpha", "technologist", "manager", 3}, {"Alpha", "direct-sales", "staff", 3},
		{"Beta", "technologist", "staff", 6}, {"Beta", "direct-sales", "manager", 3}, {"Beta", "direct-sales", "staff", 3},
	}, nil)
	filters := attackFilters([]string{"Alpha", "Beta"}, []string{"technologist", "direct-sales"}, []string{"manager", "staff"})
	page := o.managerSession()
	order := rand.New(rand.NewPCG(1, 2)).Perm(len(c.people))
	// P: one named person who submits alone, after the others' first batch.
	named, trickle := order[0], order[1:7]
	for _, idx := range order[7:] {
		c.submit(idx)
	}
	c.publish()
	reads := []*attackRead{c.read("before "+c.people[named].name, filters, page)}
	for _, idx := range append([]int{named}, trickle...) {
		c.submit(idx)
		c.publish()
		reads = append(reads, c.read("after "+c.people[idx].name, filters, page))
	}
	c.close()
	reads = append(reads, c.read("after close", filters, page))

	for i := 1; i < len(reads); i++ {
		before, after := reads[i-1], reads[i]
		var leaks []string
		wheres := slices.Sorted(maps.Keys(after.counts))
		for _, where := range wheres {
			n := after.counts[where]
			m, ok := before.counts[where]
			if !ok {
				continue
			}
			if d := n - m; d != 0 && attackAbs(d) < attackK {
				leaks = append(leaks, fmt.Sprintf("%s moved by %d (%d → %d)", where, d, m, n))
			}
			if before.members[where] == nil {
				continue
			}
			// The responses that came into the view and those that left it:
			// the diff of the view's sums is theirs.
			in, out := 0, 0
			for _, idx := range after.members[where] {
				if !slices.Contains(before.members[where], idx) {
					in++
				}
			}
			for _, idx := range before.members[where] {
				if !slices.Contains(after.members[where], idx) {
					out++
				}
			}
			if in > 0 && in < attackK || out > 0 && out < attackK {
				leaks = append(leaks, fmt.Sprintf("%s took in %d and lost %d responses", where, in, out))
			}
			if in == 0 && out == 0 {
				for key, v := range after.means[where] {
					if w, ok := before.means[where][key]; ok && w != v {
						leaks = append(leaks, fmt.Sprintf("%s changed %s from %v to %v with the same responses", where, key, w, v))
						break
					}
				}
			}
		}
		if len(leaks) > 0 {
			t.Errorf("%s → %s, the diff gives away fewer than k responses:\n\t%s", before.label, after.label, strings.Join(leaks, "\n\t"))
		}
		t.Logf("%s: counts %v release %s", after.label, after.counts, after.release)
	}
	// The report's release, where it has one: the count shown is the
	// release's, and at close every submitted response is released or
	// counted as held back.
	for _, rd := range reads {
		if rd.release == "" || rd.release == "null" {
			continue
		}
		var rel struct {
			Seq       int `json:"seq"`
			Responses int `json:"responses"`
			HeldBack  int `json:"held_back"`
		}
		if err := json.Unmarshal([]byte(rd.release), &rel); err != nil {
			t.Errorf("%s: release %s: %v", rd.label, rd.release, err)
			continue
		}
		for _, where := range []string{"page", "api whole", "export", "aggregate"} {
			if n, ok := rd.counts[where]; ok && n != rel.Responses {
				t.Errorf("%s: %s shows %d responses, the release %d", rd.label, where, n, rel.Responses)
			}
		}
		if rd == reads[len(reads)-1] && rel.Responses+rel.HeldBack != len(c.submitted) {
			t.Errorf("closed: %d released and %d held back of %d submitted", rel.Responses, rel.HeldBack, len(c.submitted))
		}
	}
	var all []attackView
	for _, rd := range reads {
		all = append(all, rd.views...)
	}
	c.assertNothingIsolated("all reads of the campaign's life", all)
}

// ---- 2. Differencing across filters -----------------------------------------------

// TestAttackDifferencingAcrossFilters: exactly one person is a senior
// technologist; technologists and seniors are each many. The manager reads
// the report for every combination of unit, role and seniority (the direct
// filter for the one person is refused) and solves the views' counts and
// sums by inclusion–exclusion.
func TestAttackDifferencingAcrossFilters(t *testing.T) {
	a, _, _ := newTestApp(t)
	o := newAttackOrg(t, a, "filters", survey.OrgInput{}, "Alpha", "Beta")
	const r, q, x = "technologist", "direct-sales", "hr-manager"
	const s, f = survey.SeniorBand, "staff"
	c := o.newCampaign("Across filters", []attackCell{
		{"Alpha", r, s, 1}, // the one senior technologist
		{"Alpha", r, f, 2}, {"Alpha", q, s, 2}, {"Alpha", q, f, 3}, {"Alpha", x, s, 2}, {"Alpha", x, f, 3},
		{"Beta", r, f, 3}, {"Beta", q, s, 2}, {"Beta", q, f, 2}, {"Beta", x, s, 2}, {"Beta", x, f, 2},
	}, nil)
	for i := range c.people {
		c.submit(i)
	}
	c.close()
	rd := c.read("closed", attackFilters([]string{"Alpha", "Beta"}, []string{r, q, x, "other"}, []string{s, "manager", f, "other"}), nil)
	if _, shown := rd.counts["api role="+r]; !shown {
		t.Logf("the technologists' view is refused")
	}
	c.assertNothingIsolated("every filter combination", rd.views)
}

// ---- 3. Quasi-identifiers in the export ------------------------------------------

// TestAttackExportQuasiIdentifiers: unit, role and seniority each have
// groups of at least k, but one person is the only one of their
// combination. Every combination of the export's attribute columns must
// occur in at least k rows, and joining a row with the org admin's
// participant list (names with unit, role and seniority) must leave at
// least k people it can be — even for an attacker who knows who answered.
func TestAttackExportQuasiIdentifiers(t *testing.T) {
	a, _, _ := newTestApp(t)
	o := newAttackOrg(t, a, "export", survey.OrgInput{}, "Alpha", "Beta")
	const r, q = "technologist", "direct-sales"
	c := o.newCampaign("Export", []attackCell{
		{"Alpha", r, survey.SeniorBand, 1}, // the only senior technologist of Alpha
		{"Alpha", r, "staff", 3}, {"Alpha", q, "staff", 3},
		{"Beta", r, "staff", 3}, {"Beta", q, survey.SeniorBand, 3}, {"Beta", q, "staff", 3},
	}, nil)
	for i := range c.people {
		c.submit(i)
	}
	c.close()
	_, rows, code := c.readExport()
	if code != http.StatusOK {
		t.Fatalf("export.csv = %d: the test needs the file to look at", code)
	}
	header := rows[0]
	var cols []int
	for i, h := range header {
		if h == "unit" || h == "role" || h == "seniority" {
			cols = append(cols, i)
		}
	}
	combos := map[string]int{}
	key := func(r []string) string {
		var parts []string
		for _, i := range cols {
			parts = append(parts, header[i]+"="+r[i])
		}
		return strings.Join(parts, ", ")
	}
	for _, row := range rows[1:] {
		combos[key(row)]++
	}
	for combo, n := range combos {
		if n < attackK {
			t.Errorf("export.csv: %d row(s) with %s", n, combo)
		}
	}

	// The org admin's participant list, read from the page.
	_, list := o.adminSession().get(fmt.Sprintf("/admin/campaigns/%d/participants", c.campaign.ID))
	type listed struct{ email, unit, role, seniority string }
	var people []listed
	// The list shows roles and seniority by their titles: back to keys.
	keyOf := func(opts []survey.Option, title string) string {
		for _, o := range opts {
			if o.Title.In("en") == html.UnescapeString(title) {
				return o.Key
			}
		}
		return title
	}
	for _, m := range regexp.MustCompile(`<tr><td>([^<]*)</td><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>`).FindAllStringSubmatch(list, -1) {
		people = append(people, listed{m[1], m[2], keyOf(o.m.Roles, m[3]), keyOf(o.m.Seniority, m[4])})
	}
	if len(people) != len(c.people) {
		t.Fatalf("the participant list shows %d people, want %d", len(people), len(c.people))
	}
	answered := map[string]bool{}
	for _, idx := range c.submitted {
		answered[c.people[idx].email] = true
	}
	known := func(v string, values ...string) bool { return slices.Contains(values, v) }
	for n, row := range rows[1:] {
		can := 0
		for _, p := range people {
			if !answered[p.email] {
				continue
			}
			ok := true
			for _, i := range cols {
				v, pv := row[i], map[string]string{"unit": p.unit, "role": p.role, "seniority": p.seniority}[header[i]]
				// A value the organisation does not have (none, "other",
				// pooled units) could be anyone's.
				specific := v != "other" && (header[i] == "unit" && known(v, "Alpha", "Beta") ||
					header[i] == "role" && o.m.HasRole(v) || header[i] == "seniority" && o.m.HasSeniority(v))
				if specific && v != pv {
					ok = false
				}
			}
			if ok {
				can++
			}
		}
		if can < attackK {
			t.Errorf("export.csv row %d (%s) can be only %d of the people who answered", n+1, key(row), can)
		}
	}
}

// ---- 4. Leaders vs staff next to a hidden seniority group ------------------------------

// TestAttackLeadersVsStaff: one manager among three seniors and eight
// staff. The seniority breakdown hides the manager (and, complementarily,
// the seniors), but leaders vs staff shows seniors and "everyone else", and
// the staff are shown on their own: everyone else minus staff is the
// manager.
func TestAttackLeadersVsStaff(t *testing.T) {
	a, _, _ := newTestApp(t)
	o := newAttackOrg(t, a, "leaders", survey.OrgInput{}, "Alpha")
	c := o.newCampaign("Leaders", []attackCell{
		{"Alpha", "technologist", survey.SeniorBand, 3},
		{"Alpha", "technologist", "manager", 1},
		{"Alpha", "technologist", "staff", 8},
	}, nil)
	for i := range c.people {
		c.submit(i)
	}
	c.close()
	rd := c.read("closed", attackFilters([]string{"Alpha"}, []string{"technologist", "other"}, []string{survey.SeniorBand, "manager", "staff", "other"}), nil)
	shown := false
	for _, v := range rd.views {
		shown = shown || strings.Contains(v.name, "leaders")
	}
	t.Logf("leaders vs staff shown: %t", shown)
	c.assertNothingIsolated("leaders vs staff and the seniority views", rd.views)
}

// ---- 5. Fake respondents -----------------------------------------------------

// attackOpenLinkPerIP is the fakes engineer's default: open-link submissions per
// IP address, campaign and day. (Align with the server's setting on merge.)
const attackOpenLinkPerIP = 5

// attackAuditPhrase is what the org admin's campaign or participants page
// says about participants added after the campaign opened. (Align with the
// server's wording on merge; matched case-insensitively.)
const attackAuditPhrase = "after the campaign opened"

// TestAttackFakeRespondentsOpenLinkPerIP: answering an open link again and
// again, dropping the cookie each time, is refused (429) after the per-IP
// limit.
func TestAttackFakeRespondentsOpenLinkPerIP(t *testing.T) {
	a, _, _ := newTestAppWith(t, func(c *Config) { c.OpenLinkPerIP = attackOpenLinkPerIP })
	o := newAttackOrg(t, a, "fakes", survey.OrgInput{}, "Alpha")
	c := o.newCampaign("Open", nil, nil)
	key := survey.NewOpenToken()
	if err := a.db.Write.Model(c.campaign).Updates(map[string]any{"open_link": true, "open_key": key}).Error; err != nil {
		t.Fatal(err)
	}
	accepted, refused := 0, 0
	for range attackOpenLinkPerIP + 3 {
		f := newFlow(t, a, "/o/"+key) // a fresh cookie jar: the cookie dropped
		code, _ := f.get("")
		if code == http.StatusOK {
			code, _ = f.post("/start", nil)
		}
		if code == http.StatusSeeOther {
			code, _ = f.put(`{"practice":"AP-01","dimension":"reality","level":1}`)
		}
		if code == http.StatusNoContent {
			code, _ = f.post("/submit", nil)
		}
		switch code {
		case http.StatusSeeOther:
			accepted++
		case http.StatusTooManyRequests:
			refused++
		default:
			t.Fatalf("open link answered %d", code)
		}
	}
	if accepted > attackOpenLinkPerIP || refused == 0 {
		t.Errorf("one address submitted the open link %d times (%d refused with 429), want at most %d", accepted, refused, attackOpenLinkPerIP)
	}
}

// TestAttackFakeRespondentsManagerNeverSeesOpenLink: whoever reads results
// (a manager) cannot answer the open link, because none of their pages,
// files or API answers carries it.
func TestAttackFakeRespondentsManagerNeverSeesOpenLink(t *testing.T) {
	a, _, _ := newTestApp(t)
	o := newAttackOrg(t, a, "openkey", survey.OrgInput{}, "Alpha")
	c := o.newCampaign("Open", []attackCell{{"Alpha", "technologist", "staff", attackK}}, nil)
	key := survey.NewOpenToken()
	if err := a.db.Write.Model(c.campaign).Updates(map[string]any{"open_link": true, "open_key": key}).Error; err != nil {
		t.Fatal(err)
	}
	for i := range c.people {
		c.submit(i)
	}
	c.publish()
	id := c.campaign.ID
	f := o.managerSession()
	for _, p := range []string{"/results", fmt.Sprintf("/results/%d", id), fmt.Sprintf("/results/%d/export.csv", id), fmt.Sprintf("/results/%d/aggregate.csv", id)} {
		if _, body := f.get(p); strings.Contains(body, key) {
			t.Errorf("the manager's %s carries the open link", p)
		}
	}
	for _, p := range []string{"/api/v1/campaigns", c.base, c.base + "/report", c.base + "/export.csv"} {
		if rec := fetch(t, a, p, o.manager.token); strings.Contains(rec.Body.String(), key) {
			t.Errorf("the manager's API %s (%d) carries the open link", p, rec.Code)
		}
	}
}

// TestAttackFakeRespondentsAuditTrail: a participant added after the
// campaign opened shows in an audit trail the org admin sees.
func TestAttackFakeRespondentsAuditTrail(t *testing.T) {
	a, _, _ := newTestApp(t)
	o := newAttackOrg(t, a, "audit", survey.OrgInput{}, "Alpha")
	c := o.newCampaign("Audit", []attackCell{{"Alpha", "technologist", "staff", 4}}, nil)
	f := o.adminSession()
	path := fmt.Sprintf("/admin/campaigns/%d", c.campaign.ID)
	f.get(path + "/participants")
	if code, _ := f.post(path+"/participants/add", url.Values{"email": {"late@audit.people.example"}, "name": {"Late Person"},
		"unit": {"Alpha"}, "role": {"technologist"}, "seniority": {"staff"}, "locale": {"en"}}); code != http.StatusSeeOther {
		t.Fatalf("add participant = %d", code)
	}
	found := false
	for _, p := range []string{path, path + "/participants"} {
		_, body := f.get(p + "?lang=en")
		found = found || strings.Contains(strings.ToLower(body), attackAuditPhrase)
	}
	if !found {
		t.Errorf("neither the campaign page nor the participant list says a participant was %s the campaign opened", attackAuditPhrase)
	}
}

// ---- 6. The benchmark pool across tenants ------------------------------------------

// TestAttackBenchmarkPool: an opted-in organisation closes 29 campaigns of
// three responses each, all in one benchmark filter, 14 answered at the
// bottom of the scale and 15 at the top; with another organisation's
// campaign of 30 that makes 30 entries, and the pool's median of every
// section is then halfway between the other organisation's score and 100.
// The attacker must not read another organisation's section scores.
func TestAttackBenchmarkPool(t *testing.T) {
	a, _, _ := newTestApp(t)
	in := survey.OrgInput{Sector: "telecoms", Region: "asia-pacific", SizeBand: "250-999", BenchmarkOptIn: true}
	victimOrg := newAttackOrg(t, a, "victim", in, "Ops")
	victim := victimOrg.newCampaign("Victim wave", []attackCell{{"Ops", "technologist", "staff", 20}, {"Ops", "direct-sales", "staff", 10}}, nil)
	for i := range victim.people {
		victim.submit(i)
	}
	victim.close()
	truth := apiReport(t, a, victimOrg.admin.token, victim.campaign.ID)
	if truth.Suppressed || len(truth.Sections) == 0 {
		t.Fatalf("the victim's own report shows nothing")
	}

	attacker := newAttackOrg(t, a, "attacker", in, "Tiny")
	var last *attackCampaign
	for i := range 29 {
		level := byte(5) // all 0 points
		if i >= 14 {
			level = 1 // all 100 points
		}
		last = attacker.newCampaign(fmt.Sprintf("Tiny %02d", i), []attackCell{{"Tiny", "technologist", "staff", 3}}, attackUniform(attacker.m, level))
		for j := range last.people {
			last.submit(j)
		}
		last.close()
	}
	a.pool.invalidate()
	q := url.Values{"b_sector": {in.Sector}, "b_region": {in.Region}, "b_size": {in.SizeBand}, "b_year": {strconv.Itoa(attackCloses.Year())}}
	rec := fetch(t, a, last.base+"/report?"+q.Encode(), attacker.manager.token)
	if rec.Code != http.StatusOK {
		t.Fatalf("attacker's report = %d", rec.Code)
	}
	var body struct {
		Benchmark *survey.Benchmark `json:"benchmark"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Benchmark == nil {
		t.Fatalf("no benchmark in the report: %v", err)
	}
	b := body.Benchmark
	t.Logf("comparison group: source %s, %d entries, suppressed %t", b.Source, b.Entries, b.Suppressed)
	recovered, of := 0, 0
	for _, sp := range b.Sections {
		if sp.Percentiles == nil {
			continue
		}
		for _, s := range truth.Sections {
			if s.ID == sp.ID && s.CEM != nil {
				of++
				if est := 2*sp.P50 - 100; math.Abs(est-*s.CEM) <= 0.3 {
					recovered++
				}
			}
		}
	}
	if recovered > 0 {
		t.Errorf("the attacker reads %d of the other organisation's %d section scores from the pool's medians", recovered, of)
	}
}

func attackAbs(n int) int { return max(n, -n) }

// TestAttackAlgebra checks the attacker's algebra on its own: views that are
// unions of cells of k tell no smaller group apart; one view more that
// cuts a cell does, and the solve finds the combination.
func TestAttackAlgebra(t *testing.T) {
	view := func(name string, members ...int) attackView {
		return attackView{name: name, members: members, n: len(members)}
	}
	cells := []attackView{view("A", 0, 1, 2), view("B", 3, 4, 5), view("C", 6, 7, 8), view("A+B", 0, 1, 2, 3, 4, 5), view("all", 0, 1, 2, 3, 4, 5, 6, 7, 8)}
	for _, cl := range attackClasses(cells) {
		if len(cl) < attackK {
			t.Errorf("unions of cells of %d tell apart %v", attackK, cl)
		}
	}
	// gives reports whether the combination is exactly the target's indicator.
	gives := func(views []attackView, coef []float64, target []int) bool {
		sum := map[int]float64{}
		for j, v := range views {
			for _, idx := range v.members {
				sum[idx] += coef[j]
			}
		}
		for idx, x := range sum {
			if want := map[bool]float64{true: 1}[slices.Contains(target, idx)]; math.Abs(x-want) > 1e-9 {
				return false
			}
		}
		return true
	}
	if coef, ok := attackSolve(cells, []int{3, 4, 5}); !ok || !gives(cells, coef, []int{3, 4, 5}) {
		t.Errorf("cell B from the views: %v %v", coef, ok)
	}
	cut := append(slices.Clone(cells), view("A and one of B", 0, 1, 2, 3))
	small := 0
	for _, cl := range attackClasses(cut) {
		if len(cl) < attackK {
			small++
			if coef, ok := attackSolve(cut, cl); !ok || !gives(cut, coef, cl) {
				t.Errorf("%v is isolatable (A and one of B, minus A) but the solve says not: %v", cl, coef)
			}
		}
	}
	if small != 2 { // {3} and {4, 5}
		t.Errorf("%d small groups, want 2", small)
	}
	// Told apart but not spanned: {0,1} and {1,2} separate 0, 1 and 2,
	// and no combination of the two gives any one of them.
	if _, ok := attackSolve([]attackView{view("x", 0, 1), view("y", 1, 2)}, []int{0}); ok {
		t.Error("solve isolates 0 from {0,1} and {1,2}")
	}
}
