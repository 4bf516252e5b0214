package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"tiltline/survey"
)

// biggerDemo replaces the test app's demo with one of n responses, so
// breakdowns have groups above k as well as below.
func biggerDemo(t *testing.T, a *App, n int) *survey.DemoResult {
	t.Helper()
	demo, err := survey.CreateDemo(context.Background(), a.db, a.models.Latest(), survey.DemoOptions{
		Responses: n, BaseURL: a.cfg.BaseURL, Secret: a.cfg.Secret, Reset: true}) // replaces the app's smaller demo
	if err != nil {
		t.Fatal(err)
	}
	return demo
}

func managerFlow(t *testing.T, a *App, demo *survey.DemoResult) *flowClient {
	t.Helper()
	f := newFlow(t, a, "")
	if code, loc := f.post("/login", url.Values{"email": {demo.ManagerEmail}, "password": {demo.ManagerPassword}}); code != 303 || loc != "/results" {
		t.Fatalf("manager sign-in: %d %q", code, loc)
	}
	return f
}

func TestResultsPageBenchmarkHeatmapsPracticesAndTrend(t *testing.T) {
	a, _, _ := newTestApp(t)
	demo := biggerDemo(t, a, 400)
	f := managerFlow(t, a, demo)
	path := fmt.Sprintf("/results/%d", demo.CampaignID)
	code, page := f.get(path)
	if code != 200 {
		t.Fatalf("results = %d", code)
	}
	for _, want := range []string{
		"Illustrative reference set: 650 generated assessments",
		`class="series bench band"`, // the benchmark's middle half on the radar
		`id="heat-units"`, `id="heat-roles"`, `id="heat-seniority"`,
		`id="practices-h"`, `aria-sort="ascending"`, `id="trend-h"`, "Change since earlier waves",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("results page lacks %q", want)
		}
	}
	if !regexp.MustCompile(`<dd>(39\d|400) <span class="muted small">/ \d+ · \d+ % responded</span></dd>`).MatchString(page) {
		t.Error("the headline lacks responses against invitations as a rate")
	}
	// The unit of 3 has no heatmap row: its people are in the pooled row.
	if strings.Contains(page, `<th scope="row">Innovation Lab</th>`) {
		t.Error("the unit of 3 has a heatmap row of its own")
	}
	row := regexp.MustCompile(`(?s)<tr><th scope="row">Other units \(pooled\)</th><td class="num">(\d+)</td>`).FindStringSubmatch(page)
	if row == nil {
		t.Error("no pooled units' heatmap row")
	} else if n, _ := strconv.Atoi(row[1]); n < 5 {
		t.Errorf("pooled units' heatmap row: %v", row)
	}
	// Position against the benchmark agrees with the API's rank.
	_, body := apiCall(t, a, http.MethodGet, path2api(path)+"/report", demo.APIToken, "")
	rank, _ := body["benchmark_rank"].(float64)
	if rank <= 0 || rank >= 100 || !strings.Contains(page, fmt.Sprintf("is above %.0f %% of the 650 assessments", rank)) {
		t.Errorf("benchmark rank %v not on the page", rank)
	}
	bench := body["benchmark"].(map[string]any)
	if bench["source"] != "reference" || bench["illustrative"] != true || bench["entries"] != 650.0 {
		t.Errorf("API benchmark: %v", bench)
	}
	trend := body["trend"].([]any)
	if len(trend) != 2 || trend[1].(map[string]any)["change"] == nil {
		t.Errorf("API trend: %v", trend)
	}
	if roles := body["roles"].([]any); len(roles) < 2 || len(roles[0].(map[string]any)["sections"].([]any)) != 13 {
		t.Errorf("role breakdown: %v", roles)
	}

	// Sorting by gap, largest first, keeps the other filters.
	_, sorted := f.get(path + "?seniority=staff&sort=gap&dir=desc")
	gaps := regexp.MustCompile(`(?s)<table class="data practices">.*?</table>`).FindString(sorted)
	cells := regexp.MustCompile(`</span></td><td class="num">(-?[0-9]+)</td><td class="num">[0-9]+ %</td>`).FindAllStringSubmatch(gaps, -1)
	if len(cells) < 50 {
		t.Fatalf("practice rows with a gap: %d", len(cells))
	}
	prev := 1e9
	for _, c := range cells {
		g, _ := strconv.ParseFloat(c[1], 64)
		if g > prev {
			t.Fatalf("gaps not descending: %v after %v", g, prev)
		}
		prev = g
	}
	if !strings.Contains(sorted, `aria-sort="descending"`) || !strings.Contains(sorted, `seniority=staff`) {
		t.Error("sorted table lacks aria-sort or lost the seniority filter in its links")
	}
	// One section only.
	_, one := f.get(path + "?section=RE")
	table := regexp.MustCompile(`(?s)<table class="data practices">.*?</table>`).FindString(one)
	if strings.Count(table, `<tr><th scope="row">`) != len(a.models.Latest().Sections[4].Practices()) || !strings.Contains(table, "RE-01") || strings.Contains(table, "AP-01") {
		t.Errorf("section filter: %d rows", strings.Count(table, `<tr><th scope="row">`))
	}

	// Benchmark filters: unknown values are a clear 400, tiny groups are suppressed.
	if code, body := f.get(path + "?b_sector=mars&lang=de"); code != http.StatusBadRequest || !strings.Contains(body, "Diese Vergleichsgruppe gibt es nicht") {
		t.Errorf("unknown sector = %d", code)
	}
	tc, tiny := f.get(path + "?b_sector=healthcare&b_region=middle-east-africa&b_year=2001&b_size=5000%2B&lang=en")
	if tc != 200 || !strings.Contains(tiny, "assessments match this comparison group; figures are shown from 10") || strings.Contains(tiny, "series bench") {
		t.Errorf("a comparison group under 10 shows figures (%d)", tc)
	}
}

func path2api(p string) string { return strings.Replace(p, "/results/", "/api/v1/campaigns/", 1) }

func TestSectionWeightsReorderRecommendations(t *testing.T) {
	a, demo, _ := newTestApp(t)
	f := signedIn(t, a, demo.AdminEmail, demo.AdminPassword)
	edit := fmt.Sprintf("/admin/campaigns/%d", demo.CampaignID)
	f.get(edit + "/edit")
	form := url.Values{"name": {"Customer management assessment"}, "wave_label": {"2026"}, "locales": {"en", "de", "fr"}, "k_min": {"5"}}

	// A typo is shown back where it was typed, with a message; nothing saved.
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("weight_TS", "zwei")
	bad.Set("weight_RE", "3")
	bad.Set("csrf", f.csrf)
	code, body, _ := f.do(http.MethodPost, edit, "application/x-www-form-urlencoded", bad.Encode())
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `value="zwei"`) || !strings.Contains(body, `value="3"`) ||
		!strings.Contains(body, "Please enter a number from 0.1 to 10") {
		t.Fatalf("bad weight: %d", code)
	}
	var cp survey.Campaign
	a.db.Read.First(&cp, demo.CampaignID)
	if cp.SectionWeights != "" {
		t.Fatalf("a rejected form saved weights %q", cp.SectionWeights)
	}

	// Technology support weighted 10: its practices lead the recommendations.
	form.Set("weight_TS", "10")
	if code, loc := f.post(edit, form); code != http.StatusSeeOther || loc != edit {
		t.Fatalf("save weights: %d %q", code, loc)
	}
	a.db.Read.First(&cp, demo.CampaignID)
	if cp.SectionWeights != "TS=10" {
		t.Fatalf("stored weights %q", cp.SectionWeights)
	}
	_, rep := apiCall(t, a, http.MethodGet, fmt.Sprintf("/api/v1/campaigns/%d/report", demo.CampaignID), demo.APIToken, "")
	recs := rep["recommendations"].([]any)
	if len(recs) == 0 || !strings.HasPrefix(recs[0].(map[string]any)["practice"].(string), "TS-") {
		t.Errorf("first recommendation after weighting TS: %v", recs[0])
	}
	_, page := f.get(edit + "/edit")
	if !strings.Contains(page, `name="weight_TS" inputmode="decimal" placeholder="1" size="5" value="10"`) {
		t.Error("the edit form does not show the stored weight")
	}
}

func TestManagerLimitedToUnits(t *testing.T) {
	a, _, _ := newTestApp(t)
	demo := biggerDemo(t, a, 300)
	ctx := context.Background()
	var manager survey.User
	a.db.Read.Where("email = ?", demo.ManagerEmail).First(&manager)
	var retail, marketing survey.BusinessUnit
	a.db.Read.Where("name = ?", "Retail Banking").First(&retail)
	a.db.Read.Where("name = ?", "Marketing").First(&marketing)

	admin := signedIn(t, a, demo.AdminEmail, demo.AdminPassword)
	admin.get("/admin/users")
	if code, _ := admin.post(fmt.Sprintf("/admin/users/%d/units", manager.ID), url.Values{"scope": {"units"}, "unit": {strconv.FormatInt(retail.ID, 10)}}); code != http.StatusSeeOther {
		t.Fatalf("assign units = %d", code)
	}
	if ids, _ := survey.ManagerUnits(ctx, a.db, manager.ID); len(ids) != 1 || ids[0] != retail.ID {
		t.Fatalf("manager units = %v", ids)
	}
	// Units go to managers of this organisation only.
	var adminUser survey.User
	a.db.Read.Where("email = ?", demo.AdminEmail).First(&adminUser)
	if code, _ := admin.post(fmt.Sprintf("/admin/users/%d/units", adminUser.ID), url.Values{"scope": {"units"}, "unit": {strconv.FormatInt(retail.ID, 10)}}); code != http.StatusNotFound {
		t.Errorf("units for an org admin = %d", code)
	}

	f := managerFlow(t, a, demo)
	path := fmt.Sprintf("/results/%d", demo.CampaignID)
	code, page := f.get(path)
	if code != 200 || !strings.Contains(page, fmt.Sprintf(`<option value="%d" selected>Retail Banking</option>`, retail.ID)) ||
		strings.Contains(page, "Marketing</option>") || strings.Contains(page, `<option value="">All</option></select></div>
  <div class="field"><label for="f-role">`) {
		t.Errorf("limited manager's page: %d, own unit not the only choice", code)
	}
	if strings.Contains(page, "/export.csv") {
		t.Error("the organisation-wide response file is offered to a limited manager")
	}
	for _, p := range []string{
		fmt.Sprintf("%s?unit=%d", path, marketing.ID),
		fmt.Sprintf("%s/export.csv", path),
	} {
		if code, _ := f.get(p); code != http.StatusForbidden {
			t.Errorf("%s = %d, want 403", p, code)
		}
	}
	// The API token is the manager's: the same limit applies.
	api := path2api(path)
	if code, body := apiCall(t, a, http.MethodGet, api+"/report", demo.APIToken, ""); code != 200 || body["filter"].(map[string]any)["unit"] != float64(retail.ID) || body["units"] != nil {
		t.Errorf("API report for a limited manager: %d %v", code, body["filter"])
	}
	if code, _ := apiCall(t, a, http.MethodGet, fmt.Sprintf("%s/report?unit=%d", api, marketing.ID), demo.APIToken, ""); code != http.StatusForbidden {
		t.Errorf("API report for another unit = %d", code)
	}
	// Choosing the whole organisation gives it back.
	admin.get("/admin/users")
	admin.post(fmt.Sprintf("/admin/users/%d/units", manager.ID), url.Values{"scope": {"all"}})
	if code, body := apiCall(t, a, http.MethodGet, api+"/report", demo.APIToken, ""); code != 200 || body["units"] == nil {
		t.Errorf("unlimited again: %d", code)
	}
}

func TestClosingACampaignFeedsTheBenchmarkPool(t *testing.T) {
	a, demo, _ := newTestApp(t)
	ctx := context.Background()
	pool, _ := survey.LoadPool(ctx, a.db)
	if len(pool) != 0 { // the demo's closed wave has 16 responses
		t.Fatalf("pool after demo = %d entries", len(pool))
	}
	f := signedIn(t, a, demo.AdminEmail, demo.AdminPassword)
	setStatus := func(status string) {
		t.Helper()
		f.get(fmt.Sprintf("/admin/campaigns/%d", demo.CampaignID))
		if code, _ := f.post(fmt.Sprintf("/admin/campaigns/%d/status", demo.CampaignID), url.Values{"status": {status}, "confirmed": {"1"}}); code != http.StatusSeeOther {
			t.Fatalf("%s = %d", status, code)
		}
	}
	var entries []survey.BenchmarkEntry
	// 20 responses are fewer than the pool takes.
	setStatus("closed")
	a.db.Read.Where("campaign_id = ?", demo.CampaignID).Find(&entries)
	if len(entries) != 0 {
		t.Fatalf("a campaign of 20 responses entered the pool: %+v", entries)
	}
	setStatus("open")
	m := a.models.Latest()
	shown, _ := survey.CountResponses(t.Context(), a.db, demo.CampaignID)
	for i := range survey.PoolMinResponses - int(shown) {
		answers := make([]byte, m.AnswerSlots())
		for j := range answers {
			answers[j] = byte(1 + (i+j)%5)
		}
		if _, err := survey.SealPending(a.db.Write, a.cfg.Secret, survey.PendingResponse{CampaignID: demo.CampaignID, Answers: answers}); err != nil {
			t.Fatal(err)
		}
	}
	setStatus("closed")
	a.db.Read.Where("campaign_id = ?", demo.CampaignID).Find(&entries)
	var cp survey.Campaign
	a.db.Read.First(&cp, demo.CampaignID)
	if len(entries) != 1 || entries[0].Source != "pool" || entries[0].Overall <= 0 || entries[0].OrganisationID == nil || *entries[0].OrganisationID != cp.OrganisationID {
		t.Fatalf("pool entry for the closed campaign: %+v", entries)
	}
	var sections map[string]float64
	if err := json.Unmarshal([]byte(entries[0].SectionScores), &sections); err != nil || len(sections) != 13 {
		t.Errorf("section scores %q", entries[0].SectionScores)
	}
	// Reopening withdraws it: only closed waves are compared.
	setStatus("open")
	a.db.Read.Where("campaign_id = ?", demo.CampaignID).Find(&entries)
	if len(entries) != 0 {
		t.Errorf("reopened campaign still in the pool")
	}
}

// A refused export from the page explains itself in the reader's language,
// on the error page, not only in the API's JSON.
func TestSuppressedExportPageSaysWhy(t *testing.T) {
	a, demo, _ := newTestApp(t)
	var small survey.BusinessUnit
	a.db.Read.Where("name = ?", "Innovation Lab").First(&small)
	f := managerFlow(t, a, demo)
	code, body := f.get(fmt.Sprintf("/results/%d/export.xlsx?unit=%d&lang=fr", demo.CampaignID, small.ID))
	if code != http.StatusConflict || !strings.Contains(body, "moins de 5") || !strings.Contains(body, `lang="fr"`) {
		t.Errorf("suppressed export page: %d", code)
	}
}

// The dashboard's content is kept in memory; these are the changes it must
// follow at once: a new released response, the reader's language, and two managers
// limited to different units who ask for the same (empty) query.
func TestDashboardCacheFollowsChanges(t *testing.T) {
	a, demo, _ := newTestApp(t)
	f := managerFlow(t, a, demo)
	path := fmt.Sprintf("/results/%d", demo.CampaignID)
	responses := regexp.MustCompile(`<dt>Responses</dt><dd>(\d+)`)
	shownBefore, _ := survey.CountResponses(t.Context(), a.db, demo.CampaignID)
	_, page := f.get(path)
	if m := responses.FindStringSubmatch(page); m == nil || m[1] != strconv.Itoa(int(shownBefore)) {
		t.Fatalf("responses before: %v, release shows %d", m, shownBefore)
	}
	r := newFlow(t, a, linkPath(demo.Links[0]))
	r.get("")
	r.post("/start", nil)
	r.post("/submit", nil)
	// One submit alone is not shown: it waits sealed for a release.
	_, page = f.get(path)
	if m := responses.FindStringSubmatch(page); m == nil || m[1] != strconv.Itoa(int(shownBefore)) || stored(t, a, demo.CampaignID) != 21 {
		t.Errorf("responses after a submit: %v shown, %d stored", m, stored(t, a, demo.CampaignID))
	}
	// Five more in one cell make a release, which the page shows at once.
	answers := make([]byte, a.models.Latest().AnswerSlots())
	for range 5 {
		if _, err := survey.SealPending(a.db.Write, a.cfg.Secret, survey.PendingResponse{CampaignID: demo.CampaignID, Role: "researcher", Seniority: "staff", Answers: answers}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.publishNow(t.Context(), demo.CampaignID); err != nil {
		t.Fatal(err)
	}
	shownAfter, _ := survey.CountResponses(t.Context(), a.db, demo.CampaignID)
	_, page = f.get(path)
	if m := responses.FindStringSubmatch(page); m == nil || shownAfter < shownBefore+5 || m[1] != strconv.Itoa(int(shownAfter)) {
		t.Errorf("responses after a release: %v, release shows %d (before %d)", m, shownAfter, shownBefore)
	}
	if _, de := f.get(path + "?lang=de"); !strings.Contains(de, "Im Vergleich") || !regexp.MustCompile(`± \d+,\d`).MatchString(de) {
		t.Error("the German view came from the English cache, or writes decimals with a point")
	}
	f.get(path + "?lang=en")

	// Two managers, each limited to another unit, same empty query.
	ctx := context.Background()
	var retail, marketing survey.BusinessUnit
	a.db.Read.Where("name = ?", "Retail Banking").First(&retail)
	a.db.Read.Where("name = ?", "Marketing").First(&marketing)
	var m1 survey.User
	a.db.Read.Where("email = ?", demo.ManagerEmail).First(&m1)
	if err := survey.SetManagerUnits(ctx, a.db, *m1.OrganisationID, m1.ID, false, []int64{retail.ID}); err != nil {
		t.Fatal(err)
	}
	m2, pw, err := survey.CreateUser(ctx, a.db, "second.manager@demo-bank.example", survey.RoleManager, m1.OrganisationID)
	if err != nil {
		t.Fatal(err)
	}
	if err := survey.SetManagerUnits(ctx, a.db, *m1.OrganisationID, m2.ID, false, []int64{marketing.ID}); err != nil {
		t.Fatal(err)
	}
	_, one := f.get(path)
	g := newFlow(t, a, "")
	g.post("/login", url.Values{"email": {m2.Email}, "password": {pw}})
	_, two := g.get(path)
	if !strings.Contains(one, `selected>Retail Banking</option>`) || !strings.Contains(two, `selected>Marketing</option>`) {
		t.Error("a limited manager was served another manager's unit from the cache")
	}
}

// The wave filter moves to the other campaign's page and keeps the others.
func TestWaveFilterMovesToTheOtherWave(t *testing.T) {
	a, demo, _ := newTestApp(t)
	f := managerFlow(t, a, demo)
	path := fmt.Sprintf("/results/%d", demo.CampaignID)
	_, page := f.get(path)
	if !strings.Contains(page, fmt.Sprintf(`<option value="%d" selected>`, demo.CampaignID)) || !strings.Contains(page, fmt.Sprintf(`<option value="%d">`, demo.PreviousCampaignID)) {
		t.Fatal("the wave filter does not list both waves with this one chosen")
	}
	code, _, h := f.do(http.MethodGet, fmt.Sprintf("%s?wave=%d&seniority=staff", path, demo.PreviousCampaignID), "", "")
	if want := fmt.Sprintf("/results/%d?seniority=staff", demo.PreviousCampaignID); code != http.StatusSeeOther || !strings.HasSuffix(h.Get("Location"), want) {
		t.Errorf("wave choice: %d → %q, want %q", code, h.Get("Location"), want)
	}
	if code, _ := f.get(path + "?wave=999999"); code != http.StatusBadRequest {
		t.Errorf("unknown wave = %d", code)
	}
	otherOrgAdmin(t, a) // another organisation's campaign is not a wave here
	ctx := context.Background()
	var org survey.Organisation
	a.db.Read.Where("name = ?", "Other Org").First(&org)
	other := survey.Campaign{OrganisationID: org.ID, Name: "Theirs", ModelVersion: 1, KMin: 5, Status: survey.StatusOpen, Locales: "en"}
	if err := a.db.Write.WithContext(ctx).Create(&other).Error; err != nil {
		t.Fatal(err)
	}
	if code, _ := f.get(fmt.Sprintf("%s?wave=%d", path, other.ID)); code != http.StatusBadRequest {
		t.Errorf("another organisation's campaign as a wave = %d", code)
	}
}
