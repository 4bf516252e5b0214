package server

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

// ---- A whole campaign through the product, shared with security_test.go ----

// campaignRun is a campaign taken from participant import to submitted
// responses through the HTTP API, the mailer and the respondent pages.
type campaignRun struct {
	a        *App
	logs     *syncBuffer
	sink     *smtpSink
	mailer   *mailer
	campaign *survey.Campaign
	apiToken string
	admin    struct{ email, password string }
	units    map[string]int64
	// per participant, in import order
	emails, names, unitOf []string
	tokens                []string // link token from the participant's mail
	// submitted lists participants (by index) in the order they submitted
	submitted []int
	// fingerprint is the first answers of each submitted participant's
	// response, unique per participant: how the test (and only the test)
	// can tell whose response is whose.
	fingerprint map[int]string
	// secrets are values that must never reach the log
	secrets []string
}

// auditUnits: two units large enough to show, one of two people.
var auditUnits = []struct {
	name string
	n    int
}{{"Alpha Unit", 8}, {"Beta Unit", 6}, {"Gamma Unit", 2}}

// runCampaign imports participants through the API, sends invitations
// through the SMTP sink, lets most participants answer and submit through
// the pages in a shuffled order, sends reminders, and has one opt out.
func runCampaign(t *testing.T, dbURL string) *campaignRun {
	t.Helper()
	ctx := context.Background()
	sink := startSink(t)
	a, logs := newMailApp(t, dbURL, sink.URL(""))
	run := &campaignRun{a: a, logs: logs, sink: sink, units: map[string]int64{}, fingerprint: map[int]string{}}

	org, err := survey.SaveOrganisation(ctx, a.db, 0, survey.OrgInput{Name: "Audit Org"})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range auditUnits {
		bu, err := survey.AddUnit(ctx, a.db, org.ID, u.name)
		if err != nil {
			t.Fatal(err)
		}
		run.units[u.name] = bu.ID
	}
	run.admin.email, run.admin.password = "admin@audit.example", "audit-admin-password"
	if _, err := survey.CreateUserWithPassword(ctx, a.db, run.admin.email, "Audit Admin", survey.RoleOrgAdmin, &org.ID, run.admin.password); err != nil {
		t.Fatal(err)
	}
	if run.apiToken, err = survey.CreateAPIToken(ctx, a.db, run.admin.email, "audit"); err != nil {
		t.Fatal(err)
	}
	closes := time.Now().Add(30 * 24 * time.Hour).UTC()
	run.campaign = &survey.Campaign{OrganisationID: org.ID, Name: "Audit wave", WaveLabel: "2026", ModelVersion: a.models.Latest().Version,
		Locales: "en,de,fr", KMin: 5, Status: survey.StatusOpen, ClosesAt: &closes, ContactName: "Audit Admin", ContactEmail: run.admin.email}
	if err := a.db.Write.Create(run.campaign).Error; err != nil {
		t.Fatal(err)
	}
	api := func(method, path, contentType, body string) (int, map[string]any) {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+run.apiToken)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		rec := httptest.NewRecorder()
		a.Handler().ServeHTTP(rec, req)
		var out map[string]any
		json.Unmarshal(rec.Body.Bytes(), &out)
		return rec.Code, out
	}

	// Participants: a CSV through the API.
	var b strings.Builder
	b.WriteString("email,name,unit,role,seniority,locale\n")
	seniority := []string{"staff", "manager", "senior-manager"}
	i := 0
	for _, u := range auditUnits {
		for range u.n {
			email := fmt.Sprintf("person%02d@audit-people.example", i)
			name := fmt.Sprintf("Auditee Nr%02d", i)
			run.emails, run.names, run.unitOf = append(run.emails, email), append(run.names, name), append(run.unitOf, u.name)
			fmt.Fprintf(&b, "%s,%s,%s,technologist,%s,%s\n", email, name, u.name, seniority[i%3], []string{"en", "de", "fr"}[i%3])
			i++
		}
	}
	base := fmt.Sprintf("/api/v1/campaigns/%d", run.campaign.ID)
	if code, out := api(http.MethodPost, base+"/participants", "text/csv", b.String()); code != 200 || out["added"].(float64) != float64(len(run.emails)) {
		t.Fatalf("import: %d %v", code, out)
	}
	if code, out := api(http.MethodPost, base+"/invitations", "", ""); code != http.StatusAccepted || out["queued"].(float64) != float64(len(run.emails)) {
		t.Fatalf("invitations: %d %v", code, out)
	}
	run.mailer = startMailer(t, a, nil)
	mails := sink.Wait(len(run.emails), 20*time.Second)
	run.tokens = make([]string, len(run.emails))
	for _, m := range mails {
		idx := indexOf(run.emails, m.To[0])
		match := linkRE.FindStringSubmatch(parseMail(t, m.Data).Text)
		if idx < 0 || match == nil {
			t.Fatalf("mail to %v without a link", m.To)
		}
		run.tokens[idx] = match[1]
	}
	waitStatus(t, a, run.campaign.ID, survey.InviteSent, len(run.emails))

	// All but the first two answer, in a shuffled order; each response has
	// a fingerprint only the test knows. The two of the small unit (the
	// last in the file) both submit, so its group exists with two responses.
	var order []int
	for _, i := range rand.Perm(len(run.emails) - 2) {
		order = append(order, i+2)
	}
	m := a.models.Latest()
	practices := m.Practices()
	for n, idx := range order {
		f := newFlow(t, a, "/s/"+run.tokens[idx])
		if code, _ := f.get(""); code != 200 {
			t.Fatalf("participant %d: welcome %d", idx, code)
		}
		if code, _ := f.post("/start", nil); code != http.StatusSeeOther {
			t.Fatalf("participant %d: start %d", idx, code)
		}
		// Fingerprint: the first six practices' Intention levels spell idx in base 5.
		var answers []string
		fp := ""
		for d, v := 0, idx; d < 6; d, v = d+1, v/5 {
			level := v%5 + 1
			fp += strconv.Itoa(level)
			answers = append(answers, fmt.Sprintf(`{"practice":%q,"dimension":"intention","level":%d}`, practices[d].ID, level))
		}
		for _, p := range practices[6:20] {
			answers = append(answers, fmt.Sprintf(`{"practice":%q,"dimension":"reality","level":%d}`, p.ID, 1+(idx+n)%5))
		}
		if code, body := f.put("[" + strings.Join(answers, ",") + "]"); code != http.StatusNoContent {
			t.Fatalf("participant %d: autosave %d %s", idx, code, body)
		}
		if code, _ := f.post("/p/1", url.Values{practices[0].ID + ".reality": {"dk"}, "go": {"next"}}); code != http.StatusSeeOther {
			t.Fatalf("participant %d: page %d", idx, code)
		}
		if code, loc := f.post("/submit", nil); code != http.StatusSeeOther || loc != "/s/"+run.tokens[idx]+"/thanks" {
			t.Fatalf("participant %d: submit %d %q", idx, code, loc)
		}
		run.submitted = append(run.submitted, idx)
		run.fingerprint[idx] = fp
	}
	// Results come in releases: this one takes what its cells can hold.
	if err := a.publishNow(t.Context(), run.campaign.ID); err != nil {
		t.Fatal(err)
	}
	// One of the two who did not answer opts out; the other gets a reminder.
	optOut := 0
	req := httptest.NewRequest(http.MethodPost, "/s/"+run.tokens[optOut]+"/optout", strings.NewReader("List-Unsubscribe=One-Click"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("opt-out %d", rec.Code)
	}
	if code, out := api(http.MethodPost, base+"/reminders?override_reason=audit", "", ""); code != http.StatusAccepted || out["queued"].(float64) != 1 {
		t.Fatalf("reminders: %d %v, want 1 queued", code, out)
	}
	run.mailer.Kick()
	reminders := sink.Wait(len(run.emails)+1, 10*time.Second)[len(run.emails):]
	if len(reminders) != 1 || reminders[0].To[0] != run.emails[1] {
		t.Fatalf("reminders went to %v", byRecipient(reminders))
	}

	for i, tok := range run.tokens {
		run.secrets = append(run.secrets, tok, survey.HashToken(tok), survey.DraftKey(mailTestSecret, tok), run.emails[i], run.names[i])
	}
	run.secrets = append(run.secrets, run.apiToken, survey.HashToken(run.apiToken), run.admin.password)
	return run
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if strings.EqualFold(v, s) {
			return i
		}
	}
	return -1
}

// ---- The log scan -------------------------------------------------------------

// TestFullFlowLogsNoTokenOrAddress runs a whole campaign (import,
// invitations, answers, submits, an opt-out, reminders) and a password
// reset while capturing every log line, then looks for every issued token,
// its hash and draft key, every participant's address and name, the API
// token and the passwords: none may appear.
func TestFullFlowLogsNoTokenOrAddress(t *testing.T) {
	run := runCampaign(t, surveytest.SQLiteURL(t))
	a := run.a
	// A password reset: its link is a secret too.
	f := newFlow(t, a, "")
	if code, _ := f.post("/password/forgot", url.Values{"email": {run.admin.email}}); code != http.StatusOK {
		t.Fatalf("forgot: %d", code)
	}
	var resetToken string
	for _, m := range run.sink.Wait(len(run.emails)+2, 10*time.Second) {
		if mt := regexp.MustCompile(`/password/([A-Za-z0-9_-]{43})`).FindSubmatch(m.Data); mt != nil {
			resetToken = string(mt[1])
		}
	}
	if resetToken == "" {
		t.Fatal("no password link mailed")
	}
	g := newFlow(t, a, "")
	if code, _ := g.get("/password/" + resetToken); code != http.StatusOK {
		t.Fatalf("reset page %d", code)
	}
	newPassword := "a-brand-new-password-42"
	if code, _ := g.post("/password/"+resetToken, url.Values{"password": {newPassword}, "confirm": {newPassword}}); code != http.StatusSeeOther {
		t.Fatalf("reset %d", code)
	}
	// The admin reads the results and the export with the new password.
	h := signedIn(t, a, run.admin.email, newPassword)
	if code, _ := h.get(fmt.Sprintf("/results/%d", run.campaign.ID)); code != http.StatusOK {
		t.Errorf("results %d", code)
	}
	h.get(fmt.Sprintf("/admin/campaigns/%d/participants", run.campaign.ID))

	secrets := append(run.secrets, resetToken, survey.HashToken(resetToken), newPassword, h.csrf)
	srvURL, _ := url.Parse(h.srv.URL)
	for _, c := range h.http.Jar.Cookies(srvURL) {
		secrets = append(secrets, c.Value)
	}
	out := run.logs.String()
	if len(out) < 1000 || !strings.Contains(out, `"route":"/s/:token/submit"`) {
		t.Fatalf("the log is too thin to prove anything (%d bytes)", len(out))
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(out, s) {
			i := strings.Index(out, s)
			t.Errorf("the log holds a secret or an address %q: …%s…", s, out[max(0, i-120):min(len(out), i+len(s)+40)])
		}
	}
	if strings.Contains(out, "@audit-people.example") || strings.Contains(out, "Auditee") {
		t.Error("the log names a participant")
	}
}

// ---- The anonymity audit --------------------------------------------------------

// responseColumns are the only columns a response may have: nothing that
// names a person, a moment, an address or an invitation.
var responseColumns = []string{"id", "campaign_id", "unit_id", "role", "seniority", "locale", "answers"}

// linking names columns that would tie a row to a person, a moment or a
// network address.
var linking = regexp.MustCompile(`(?i)(^|_)(at|time|date|created|updated|submitted|completed|ip|addr|address|agent|user|invitation|participant|token|email|session)(_|$)`)

// TestAnonymityAudit runs a campaign on SQLite and on Postgres, then reads
// every table the catalog lists: no column or value links a submitted
// response to an invitation, a participant, a time or an address, no draft
// is left, the completed invitations cannot be ordered against the
// responses, and the report API and the export keep k and complementary
// suppression.
func TestAnonymityAudit(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			run := runCampaign(t, surveytest.URL(t, dialect))
			for _, s := range run.secrets {
				if strings.Contains(run.logs.String(), s) {
					t.Errorf("the log holds %q", s)
				}
			}
			ctx := context.Background()
			if _, err := survey.PublishRelease(ctx, run.a.db, mailTestSecret, run.campaign.ID); err != nil {
				t.Fatal(err)
			}
			if n, err := survey.CountResponses(ctx, run.a.db, run.campaign.ID); err != nil || n == 0 {
				t.Fatalf("nothing released (%v)", err)
			}
			auditTables(t, run)
			auditOrder(t, run)
			auditReportAndExport(t, run)
		})
	}
}

func auditTables(t *testing.T, run *campaignRun) {
	db := run.a.db
	var respIDs []string
	if err := db.Read.Model(&survey.Response{}).Where("campaign_id = ?", run.campaign.ID).Pluck("id", &respIDs).Error; err != nil {
		t.Fatal(err)
	}
	var waiting int64
	db.Read.Table("pending_responses").Where("campaign_id = ?", run.campaign.ID).Count(&waiting)
	if len(respIDs)+int(waiting) != len(run.submitted) || len(respIDs) < run.campaign.KMin {
		t.Fatalf("%d responses released and %d waiting for %d submits", len(respIDs), waiting, len(run.submitted))
	}
	uuidV4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for _, id := range respIDs {
		if !uuidV4.MatchString(id) {
			t.Errorf("response id %q is not a random (v4) UUID: a time-based id dates the response", id)
		}
	}
	tables := tableNames(t, db)
	for _, table := range []string{"responses", "invitations", "participants", "drafts", "outbox"} {
		if !strings.Contains(","+strings.Join(tables, ",")+",", ","+table+",") {
			t.Fatalf("catalog lists no %s table: %v", table, tables)
		}
	}
	for _, table := range tables {
		cols := tableColumns(t, db, table)
		if table == "responses" {
			var names []string
			for _, c := range cols {
				names = append(names, c.Name)
				if strings.Contains(strings.ToLower(c.Type), "time") || strings.Contains(strings.ToLower(c.Type), "date") {
					t.Errorf("responses.%s is a %s column", c.Name, c.Type)
				}
				if linking.MatchString(c.Name) {
					t.Errorf("responses.%s could link a response to a person, moment or address", c.Name)
				}
			}
			if strings.Join(names, ",") != strings.Join(responseColumns, ",") {
				t.Errorf("responses has columns %v, want exactly %v: review any new column against the anonymity promise", names, responseColumns)
			}
			continue
		}
		if table == "invitations" {
			for _, c := range cols {
				if t2 := strings.ToLower(c.Type); strings.Contains(t2, "time") || strings.Contains(t2, "date") {
					t.Errorf("invitations.%s (%s) could date a completion", c.Name, c.Type)
				}
			}
		}
		// No other table holds a response's id: nothing points at a response.
		for _, row := range tableRows(t, db, table) {
			for _, cell := range row {
				for _, id := range respIDs {
					if strings.Contains(cell, id) {
						t.Errorf("table %s holds response id %s", table, id)
					}
				}
			}
		}
		for _, c := range cols {
			if regexp.MustCompile(`(?i)^response`).MatchString(c.Name) {
				t.Errorf("%s.%s names a response", table, c.Name)
			}
		}
	}
	// Foreign keys into responses, from the catalog.
	var refs int64
	if db.Dialect == "postgres" {
		db.Read.Raw(`SELECT count(*) FROM information_schema.referential_constraints rc
			JOIN information_schema.constraint_column_usage u ON u.constraint_name = rc.unique_constraint_name
			WHERE u.table_name = 'responses'`).Scan(&refs)
	} else {
		for _, table := range tables {
			var n int64
			db.Read.Raw(`SELECT count(*) FROM pragma_foreign_key_list(?) WHERE "table" = 'responses'`, table).Scan(&n)
			refs += n
		}
	}
	if refs > 0 {
		t.Errorf("%d foreign keys point at responses", refs)
	}
	var drafts int64
	db.Read.Model(&survey.Draft{}).Where("campaign_id = ?", run.campaign.ID).Count(&drafts)
	if drafts != 0 {
		t.Errorf("%d drafts left after submit", drafts)
	}
	var completed int64
	db.Read.Model(&survey.Invitation{}).Where("campaign_id = ? AND status = ?", run.campaign.ID, survey.InviteCompleted).Count(&completed)
	if int(completed) != len(run.submitted) {
		t.Errorf("%d invitations completed for %d submits", completed, len(run.submitted))
	}
}

// auditOrder: the order in which people submitted is the only bridge
// left between a completed invitation and a response. Neither side may
// keep it: responses sorted by anything the database or the export offers
// must not follow the order of submission, and completed invitations
// sorted by anything must not either. The test knows each response's owner
// from its fingerprint.
func auditOrder(t *testing.T, run *campaignRun) {
	db := run.a.db
	owner := map[string]int{} // fingerprint → participant
	for idx, fp := range run.fingerprint {
		owner[fp] = idx
	}
	m := run.a.models.Latest()
	ownerOf := func(answers []byte) int {
		fp := ""
		for d := range 6 {
			fp += strconv.Itoa(int(answers[m.Slot(m.Practices()[d], survey.Intention)]))
		}
		idx, ok := owner[fp]
		if !ok {
			t.Fatalf("response with unknown fingerprint %s", fp)
		}
		return idx
	}
	// follows reports whether a sequence of participants is the order of
	// submission (or its reverse) in more than half the positions: a
	// random order of 14 matches about one.
	follows := func(seq []int) bool {
		fw, bw := 0, 0
		n := len(run.submitted)
		for i, idx := range seq {
			if i < n && run.submitted[i] == idx {
				fw++
			}
			if i < n && run.submitted[n-1-i] == idx {
				bw++
			}
		}
		return fw > n/2 || bw > n/2
	}
	// Storage order: Postgres's ctid; SQLite's natural scan order
	// (responses is WITHOUT ROWID, stored by its random id).
	physical := "natural"
	if db.Dialect == "postgres" {
		physical = "ctid"
	}
	for _, order := range []string{"id", physical, "unit_id, role, seniority, locale"} {
		q := "SELECT answers FROM responses WHERE campaign_id = ?"
		if order != "natural" {
			q += " ORDER BY " + order
		}
		var rows []struct{ Answers []byte }
		if err := db.Read.Raw(q, run.campaign.ID).Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		var seq []int
		for _, r := range rows {
			seq = append(seq, ownerOf(r.Answers))
		}
		// Releases store responses shuffled (and Postgres rewrites the
		// campaign's rows): not even storage order follows submission.
		if follows(seq) {
			t.Errorf("responses in %s order follow the order of submission", order)
		}
	}
	// What a manager can read: the report rows and the export, whose row
	// numbers must not be the order of submission.
	rows, err := survey.LoadReportRows(context.Background(), db, run.campaign.ID)
	if err != nil {
		t.Fatal(err)
	}
	var seq []int
	for _, r := range rows {
		seq = append(seq, ownerOf(r.Answers))
	}
	if follows(seq) {
		t.Errorf("report rows, and so the export's row numbers, follow the order of submission: %v vs %v", seq, run.submitted)
	}
	// Completed invitations: nothing in the row moves with the moment of
	// completion but its status.
	invPhysical := "rowid" // invitations keep a rowid on SQLite
	if db.Dialect == "postgres" {
		invPhysical = "ctid"
	}
	invOrders := []string{"id", "participant_id", "token_hash", "reminders_sent, id", invPhysical}
	for _, order := range invOrders {
		var pids []int64
		if err := db.Read.Raw("SELECT participant_id FROM invitations WHERE campaign_id = ? AND status = ? ORDER BY "+order, run.campaign.ID, survey.InviteCompleted).Scan(&pids).Error; err != nil {
			t.Fatal(err)
		}
		var seq []int
		for _, pid := range pids {
			var p survey.Participant
			db.Read.First(&p, pid)
			seq = append(seq, indexOf(run.emails, p.Email))
		}
		// On Postgres, completing an invitation must be a heap-only update
		// that keeps the row on its page (migration 00007): otherwise its
		// new version goes to the end of the table and the completed
		// invitations' storage order (ctid) follows submission, as the
		// responses' insert order does, and the two could be paired.
		if follows(seq) {
			t.Errorf("completed invitations ordered by %s follow the order of submission", order)
		}
	}
}

func auditReportAndExport(t *testing.T, run *campaignRun) {
	a := run.a
	k := survey.EffectiveK(run.campaign.KMin)
	rows, err := survey.LoadReportRows(context.Background(), a.db, run.campaign.ID)
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) (int, []byte) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+run.apiToken)
		rec := httptest.NewRecorder()
		a.Handler().ServeHTTP(rec, req)
		return rec.Code, rec.Body.Bytes()
	}
	base := fmt.Sprintf("/api/v1/campaigns/%d", run.campaign.ID)
	// The small unit: two responses, never stored under its id (released
	// responses keep their cell's profile), shown only among pooled units.
	small := run.units["Gamma Unit"]
	const smallN = 2
	var stored int64
	a.db.Read.Model(&survey.Response{}).Where("campaign_id = ? AND unit_id = ?", run.campaign.ID, small).Count(&stored)
	if stored != 0 {
		t.Errorf("%d responses are stored under the unit of %d", stored, smallN)
	}
	for _, r := range rows {
		if r.UnitID != nil && *r.UnitID == small {
			t.Fatal("a released row carries the small unit: rows must carry their cell's profile")
		}
	}
	var filters []string
	filters = append(filters, "")
	for _, id := range run.units {
		filters = append(filters, "unit="+strconv.FormatInt(id, 10))
	}
	for _, s := range []string{"staff", "manager", "senior-manager"} {
		filters = append(filters, "seniority="+s, "role=technologist&seniority="+s)
		for _, id := range run.units {
			filters = append(filters, fmt.Sprintf("unit=%d&seniority=%s", id, s))
		}
	}
	for _, q := range filters {
		code, body := get(base + "/report?" + q)
		if code != http.StatusOK {
			t.Fatalf("report ?%s = %d", q, code)
		}
		var rep survey.Report
		if err := json.Unmarshal(body, &rep); err != nil {
			t.Fatal(err)
		}
		if err := suppressionViolation(rows, rep.Filter, k, &rep); err != nil {
			t.Errorf("report ?%s: %v", q, err)
		}
		for _, g := range rep.Units {
			if g.Key == strconv.FormatInt(small, 10) {
				t.Errorf("?%s: the unit of %d is a group of its own", q, smallN)
			}
		}
		if q == "unit="+strconv.FormatInt(small, 10) && !rep.Suppressed {
			t.Errorf("the unit of %d can be chosen as a filter and shows numbers", smallN)
		}
	}
	// The export: no column that singles out the small unit, and no
	// value that is its name.
	code, body := get(base + "/export.csv")
	if code != http.StatusOK {
		t.Fatalf("export = %d", code)
	}
	recs, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil || len(recs) != len(rows)+1 {
		t.Fatalf("export: %d records, %v", len(recs), err)
	}
	for _, rec := range recs {
		for _, cell := range rec {
			if cell == "Gamma Unit" || cell == strconv.FormatInt(small, 10) && rec[0] != cell {
				t.Errorf("the export carries the unit of %d: %v", smallN, rec[:4])
			}
		}
	}
	// Each row's profile (unit, role, seniority columns) is its cell's:
	// shared by at least k rows.
	profiles := map[string]int{}
	for _, rec := range recs[1:] {
		profiles[strings.Join(rec[1:4], "|")]++
	}
	for p, n := range profiles {
		if n < k || recs[0][1] != "unit" {
			t.Errorf("the export's profile %q (columns %v) is shared by %d rows", p, recs[0][1:4], n)
		}
	}
	for _, s := range run.secrets {
		if strings.Contains(string(body), s) {
			t.Errorf("the export holds %q", s)
		}
	}
}
