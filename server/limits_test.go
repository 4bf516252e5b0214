package server

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

// Tests of issue 12's item 8: k fixed once a campaign opens, unit limits
// that fail closed, portal figures by the reader's limits, /metrics behind
// a token or its own address.

// Once a campaign has opened, its k may be raised but never lowered: a lower
// k would show groups that earlier results hid. A draft changes freely.
func TestKIsFixedOnceACampaignOpens(t *testing.T) {
	a, demo, _ := newTestApp(t)
	f := signedIn(t, a, demo.AdminEmail, demo.AdminPassword)
	storedK := func(id int64) int {
		var cp survey.Campaign
		a.db.Read.First(&cp, id)
		return cp.KMin
	}
	edit := func(id int64, k string, lang string) (int, string) {
		code, body, _ := f.do(http.MethodPost, fmt.Sprintf("/admin/campaigns/%d", id), "application/x-www-form-urlencoded", url.Values{
			"csrf": {f.csrf}, "name": {"Renamed wave"}, "k_min": {k}, "locales": {"en", "de"},
		}.Encode(), "Accept-Language", lang)
		return code, body
	}
	for _, c := range []struct {
		name string
		id   int64
	}{{"open", demo.CampaignID}, {"closed", demo.PreviousCampaignID}} {
		before := storedK(c.id)
		code, body := edit(c.id, "3", "de")
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, "nicht unter den bisherigen gesenkt") ||
			!strings.Contains(body, `value="Renamed wave"`) || !strings.Contains(body, `name="k_min" type="number" min="5" max="50" value="3"`) {
			t.Errorf("%s campaign, k lowered: %d, want 422 with the German error and what was typed", c.name, code)
		}
		if k := storedK(c.id); k != before {
			t.Errorf("%s campaign: k lowered to %d", c.name, k)
		}
		if code, _ := edit(c.id, "8", "en"); code != http.StatusSeeOther {
			t.Errorf("%s campaign, k raised: %d, want 303", c.name, code)
		}
		if k := storedK(c.id); k != 8 {
			t.Errorf("%s campaign: k = %d after raising it to 8", c.name, k)
		}
		if _, page := f.get(fmt.Sprintf("/admin/campaigns/%d/edit", c.id)); !strings.Contains(page, `min="8"`) || !strings.Contains(page, "never lowered") {
			t.Errorf("%s campaign: the form does not say k can only be raised", c.name)
		}
	}
	// A draft may lower it again.
	code, loc := f.post("/admin/campaigns", url.Values{"name": {"Pulse"}, "k_min": {"9"}, "locales": {"en"}})
	if code != http.StatusSeeOther {
		t.Fatalf("new campaign: %d", code)
	}
	var draft int64
	fmt.Sscanf(strings.TrimPrefix(loc, "/admin/campaigns/"), "%d", &draft)
	if code, _ := edit(draft, "3", "en"); code != http.StatusSeeOther || storedK(draft) != 3 {
		t.Errorf("draft campaign, k lowered: %d, k = %d; a draft may change freely", code, storedK(draft))
	}
}

// A manager's limit fails closed: "whole organisation" is an explicit
// choice, unknown units are refused, and a manager whose units are all
// deleted sees nothing anywhere: pages, exports, the API, the portal.
func TestUnitLimitsFailClosed(t *testing.T) {
	a, demo, _ := newTestApp(t)
	ctx := t.Context()
	manager, err := survey.UserByEmail(ctx, a.db, demo.ManagerEmail)
	if err != nil {
		t.Fatal(err)
	}
	var retail survey.BusinessUnit
	a.db.Read.Where("name = ?", "Retail Banking").First(&retail)
	managerToken, err := survey.CreateAPIToken(ctx, a.db, demo.ManagerEmail, "limits")
	if err != nil {
		t.Fatal(err)
	}
	admin := signedIn(t, a, demo.AdminEmail, demo.AdminPassword)
	unitsPath := fmt.Sprintf("/admin/users/%d/units", manager.ID)
	_, page := admin.get("/admin/users")
	for _, want := range []string{
		fmt.Sprintf(`id="mu-%d-all" name="scope" value="all" checked><label for="mu-%[1]d-all">Whole organisation</label>`, manager.ID),
		fmt.Sprintf(`id="mu-%d-units" name="scope" value="units"><label for="mu-%[1]d-units">Only these units</label>`, manager.ID),
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the users page lacks %s", want)
		}
	}

	// Unknown unit ids, or "only these units" with none, are a 422 that
	// keeps the choice and changes nothing.
	for _, c := range []struct {
		name string
		form url.Values
		want string
	}{
		{"unknown unit", url.Values{"scope": {"units"}, "unit": {"999999"}}, "Eine der gewählten Einheiten gibt es nicht (mehr)"},
		{"a known and an unknown unit", url.Values{"scope": {"units"}, "unit": {strconv.FormatInt(retail.ID, 10), "999999"}}, "Eine der gewählten Einheiten gibt es nicht (mehr)"},
		{"no unit", url.Values{"scope": {"units"}}, "Kreuzen Sie mindestens eine Einheit an"},
		{"no choice", url.Values{"unit": {strconv.FormatInt(retail.ID, 10)}}, "Wählen Sie „Ganze Organisation“ oder „Nur diese Einheiten“"},
	} {
		c.form.Set("csrf", admin.csrf)
		code, body, _ := admin.do(http.MethodPost, unitsPath, "application/x-www-form-urlencoded", c.form.Encode(), "Accept-Language", "de")
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, c.want) || !strings.Contains(body, fmt.Sprintf(`<details class="units" id="units-%d" open>`, manager.ID)) {
			t.Errorf("%s: %d, want 422 with %q next to the open form", c.name, code, c.want)
		}
		if c.form.Get("scope") == "units" && !strings.Contains(body, fmt.Sprintf(`id="mu-%d-units" name="scope" value="units" checked>`, manager.ID)) {
			t.Errorf("%s: the form does not keep the choice", c.name)
		}
		if u, _ := survey.UserByEmail(ctx, a.db, demo.ManagerEmail); !u.AllUnits {
			t.Errorf("%s: the manager's access changed", c.name)
		}
	}

	if code, _ := admin.post(unitsPath, url.Values{"scope": {"units"}, "unit": {strconv.FormatInt(retail.ID, 10)}}); code != http.StatusSeeOther {
		t.Fatalf("limit to Retail Banking: %d", code)
	}
	mgr := managerFlow(t, a, demo)
	results := fmt.Sprintf("/results/%d", demo.CampaignID)
	if code, page := mgr.get(results); code != http.StatusOK || !strings.Contains(page, "selected>Retail Banking</option>") {
		t.Fatalf("limited to Retail Banking: %d", code)
	}

	// Deleting the manager's only unit leaves them nothing, not everything.
	if code, _ := admin.post(fmt.Sprintf("/admin/units/%d/delete", retail.ID), url.Values{"confirmed": {"1"}}); code != http.StatusSeeOther {
		t.Fatalf("delete unit: %d", code)
	}
	const noUnits = "You have no units assigned; ask your organisation’s admin."
	for _, p := range []string{"/results", results, results + "?unit=" + strconv.FormatInt(retail.ID, 10), results + "/export.csv", results + "/export.xlsx", results + "/export.pdf", results + "/aggregate.csv"} {
		if code, body := mgr.get(p); code != http.StatusForbidden || !strings.Contains(body, noUnits) {
			t.Errorf("%s after the manager's unit was deleted: %d, want 403 saying why", p, code)
		}
	}
	api := fmt.Sprintf("/api/v1/campaigns/%d", demo.CampaignID)
	for _, p := range []string{"/api/v1/campaigns", api, api + "/report", api + "/export.csv", api + "/export.xlsx", api + "/export.pdf", api + "/aggregate.csv"} {
		r := get(t, a, p, "Authorization", "Bearer "+managerToken)
		if b := body(t, r); r.StatusCode != http.StatusForbidden || !strings.Contains(b, "You have no units assigned") {
			t.Errorf("API %s after the manager's unit was deleted: %d, want 403", p, r.StatusCode)
		}
	}
	if _, page := mgr.get("/learn/winback"); strings.Contains(page, "Your organisation:") || strings.Contains(page, "Your units:") || !strings.Contains(page, noUnits) {
		t.Error("the portal shows figures to a manager whose units are gone")
	}
	if _, page := mgr.get("/learn/path"); !strings.Contains(page, "You have no units assigned, so the topics are in the order of the assessment model") ||
		!slices.Equal(pathOrder(page), modelOrder(a)) {
		t.Error("the learning path follows results for a manager whose units are gone")
	}

	// A new manager starts with no access until an admin chooses.
	if _, _, err := survey.CreateUser(ctx, a.db, "new.manager@demo-bank.example", survey.RoleManager, manager.OrganisationID); err != nil {
		t.Fatal(err)
	}
	newToken, err := survey.CreateAPIToken(ctx, a.db, "new.manager@demo-bank.example", "new")
	if err != nil {
		t.Fatal(err)
	}
	if r := get(t, a, api+"/report", "Authorization", "Bearer "+newToken); r.StatusCode != http.StatusForbidden {
		t.Errorf("a new manager without units reads the report: %d", r.StatusCode)
	}

	// "Whole organisation" gives it back, explicitly.
	if code, _ := admin.post(unitsPath, url.Values{"scope": {"all"}}); code != http.StatusSeeOther {
		t.Fatalf("whole organisation: %d", code)
	}
	if code, page := mgr.get(results); code != http.StatusOK || !strings.Contains(page, "Marketing</option>") {
		t.Errorf("whole organisation: %d, or not every unit to choose from", code)
	}
}

// The portal's figures and the learning path follow the reader's limits: a
// manager limited to a unit sees that unit's figures and order, under the
// same k, never the organisation's; other readers keep the organisation's.
func TestPortalFiguresFollowTheReadersUnits(t *testing.T) {
	a, _, _ := newTestApp(t)
	demo := biggerDemo(t, a, 300)
	ctx := t.Context()
	org := demoOrg(t, a, demo)
	manager, err := survey.UserByEmail(ctx, a.db, demo.ManagerEmail)
	if err != nil {
		t.Fatal(err)
	}
	var retail survey.BusinessUnit
	a.db.Read.Where("organisation_id = ? AND name = ?", org, "Retail Banking").First(&retail)
	if err := survey.SetManagerUnits(ctx, a.db, org, manager.ID, false, []int64{retail.ID}); err != nil {
		t.Fatal(err)
	}
	token, err := survey.CreateAPIToken(ctx, a.db, demo.ManagerEmail, "portal")
	if err != nil {
		t.Fatal(err)
	}
	// The reference: the unit's report, as the results read it through the API.
	unitRep := apiReport(t, a, token, demo.CampaignID)
	adminToken, err := survey.CreateAPIToken(ctx, a.db, demo.AdminEmail, "portal")
	if err != nil {
		t.Fatal(err)
	}
	orgRep := apiReport(t, a, adminToken, demo.CampaignID)
	if unitRep.Suppressed || unitRep.Filter.UnitID == nil || *unitRep.Filter.UnitID != retail.ID {
		t.Fatalf("the manager's report is not Retail Banking's (suppressed %v)", unitRep.Suppressed)
	}

	mgr := managerFlow(t, a, demo)
	lea := learner(t, a, "lea@demo-bank.example", org)
	unitFigures := regexp.MustCompile(`<p class="org-figures"><strong>Your units: intention (\d+) %, reality (\d+) %</strong></p>`)
	orgFigures := regexp.MustCompile(`<p class="org-figures"><strong>Your organisation: intention (\d+) %, reality (\d+) %</strong></p>`)
	differ := 0
	for _, sub := range a.models.Latest().Subsections() {
		_, page := mgr.get("/learn/" + sub.Slug)
		m := unitFigures.FindStringSubmatch(page)
		if m == nil || orgFigures.MatchString(page) {
			t.Errorf("%s: the limited manager does not see their units' figures (only)", sub.Slug)
			continue
		}
		i, r, _ := subMeans(unitRep, sub.Slug)
		if want := []string{fmt.Sprintf("%.0f", i), fmt.Sprintf("%.0f", r)}; m[1] != want[0] || m[2] != want[1] {
			t.Errorf("%s: intention %s, reality %s; Retail Banking's are %s, %s", sub.Slug, m[1], m[2], want[0], want[1])
		}
		oi, or, _ := subMeans(orgRep, sub.Slug)
		if fmt.Sprintf("%.0f %.0f", i, r) != fmt.Sprintf("%.0f %.0f", oi, or) {
			differ++
		}
		if _, lpage := lea.get("/learn/" + sub.Slug); !orgFigures.MatchString(lpage) {
			t.Errorf("%s: a learner no longer sees the organisation's figures", sub.Slug)
		}
	}
	if differ == 0 {
		t.Fatal("the unit's figures equal the organisation's everywhere: the test proves nothing")
	}
	// Adding a unit the results hide (Innovation Lab: 3 responses, under k)
	// adds nothing: the sum of the two would give the small unit away.
	var lab survey.BusinessUnit
	a.db.Read.Where("organisation_id = ? AND name = ?", org, "Innovation Lab").First(&lab)
	if err := survey.SetManagerUnits(ctx, a.db, org, manager.ID, false, []int64{retail.ID, lab.ID}); err != nil {
		t.Fatal(err)
	}
	for _, sub := range a.models.Latest().Subsections() {
		_, page := mgr.get("/learn/" + sub.Slug)
		i, r, _ := subMeans(unitRep, sub.Slug)
		if m := unitFigures.FindStringSubmatch(page); m == nil || m[1] != fmt.Sprintf("%.0f", i) || m[2] != fmt.Sprintf("%.0f", r) {
			t.Errorf("%s with Innovation Lab added: %v, want Retail Banking's %.0f, %.0f", sub.Slug, m, i, r)
		}
	}

	_, page := mgr.get("/learn/path")
	if got, want := pathOrder(page), wantPath(t, a, unitRep); !slices.Equal(got, want) || !strings.Contains(page, "your units’ results") {
		t.Errorf("the limited manager's path\n got %v\nwant %v (Retail Banking's order)", got, want)
	}
	if _, page := lea.get("/learn/path"); !slices.Equal(pathOrder(page), wantPath(t, a, orgRep)) {
		t.Error("a learner's path no longer follows the organisation's results")
	}

	// Below k, the units show no numbers, with the same message; a raised k
	// shows at once (the portal caches no k).
	var cp survey.Campaign
	a.db.Read.First(&cp, demo.CampaignID)
	n := 0
	if unitRep.Responses != nil {
		n = *unitRep.Responses
	}
	if err := a.db.Write.Model(&cp).Update("k_min", n+1).Error; err != nil {
		t.Fatal(err)
	}
	if _, page := mgr.get("/learn/winback"); unitFigures.MatchString(page) || !strings.Contains(page, fmt.Sprintf("Your units: not enough responses yet. To protect respondents, figures show once at least %d people have answered.", n+1)) {
		t.Error("below k the limited manager's portal page shows figures or no reason")
	}
	if _, page := mgr.get("/learn/path"); !slices.Equal(pathOrder(page), modelOrder(a)) || !strings.Contains(page, fmt.Sprintf("Your units have fewer than %d responses", n+1)) {
		t.Error("below k the limited manager's path is not in model order with the reason")
	}
}

// /metrics shows submissions as they happen: on the main address it needs
// the token, and with neither a token nor an address of its own it is not
// there at all.
func TestMetricsNeedATokenOrTheirOwnAddress(t *testing.T) {
	a, _, _ := newTestApp(t)
	get(t, a, "/")
	if r := get(t, a, "/metrics"); r.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics with neither a token nor an address = %d, want 404", r.StatusCode)
	}
	const token = "metrics-token-0123456789"
	a.cfg.MetricsToken = token
	for _, h := range []string{"", "Bearer", "Bearer wrong", "Bearer " + token + "x", "Basic " + token, token} {
		if r := get(t, a, "/metrics", "Authorization", h); r.StatusCode != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("/metrics with Authorization %q = %d, want 401", h, r.StatusCode)
		}
	}
	r := get(t, a, "/metrics", "Authorization", "Bearer "+token)
	if b := body(t, r); r.StatusCode != http.StatusOK || !strings.Contains(b, `tiltline_http_requests_total{code="200",method="GET",route="/"}`) {
		t.Errorf("/metrics with the token = %d, or without the request counter", r.StatusCode)
	}
	if err := (&Config{DB: "sqlite:x.db", MetricsToken: "short"}).finish(); !errors.Is(err, ErrUsage) {
		t.Errorf("a metrics token of 5 characters: %v, want a usage error", err)
	}
	a.cfg.MetricsAddr = "127.0.0.1:9"
	if r := get(t, a, "/metrics", "Authorization", "Bearer "+token); r.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics on the main address when it has its own = %d, want 404", r.StatusCode)
	}
}

// `serve` with TILTLINE_METRICS_ADDR answers /metrics there, and only there.
func TestServeAnswersMetricsOnTheirOwnAddress(t *testing.T) {
	free := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}
	const token = "metrics-token-0123456789"
	t.Setenv("TILTLINE_METRICS_TOKEN", token)
	var c Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c.serveFlags(fs)
	if err := fs.Parse([]string{"--db", surveytest.SQLiteURL(t), "--data-dir", t.TempDir(), "--addr", free(), "--metrics-addr", free()}); err != nil {
		t.Fatal(err)
	}
	if err := c.finish(); err != nil {
		t.Fatal(err)
	}
	c.Secret = []byte("metrics-test-secret-metrics-test-secret")
	if c.MetricsToken != token {
		t.Fatalf("TILTLINE_METRICS_TOKEN not read: %q", c.MetricsToken)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, &c, slog.New(slog.DiscardHandler), nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	fetch := func(addr, path, auth string) int {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		for range 100 { // until it listens
			res, err := http.DefaultClient.Do(req)
			if err == nil {
				res.Body.Close()
				return res.StatusCode
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("%s does not answer", addr)
		return 0
	}
	for _, c := range []struct {
		addr, path, auth string
		want             int
	}{
		{c.MetricsAddr, "/metrics", "Bearer " + token, http.StatusOK},
		{c.MetricsAddr, "/metrics", "", http.StatusUnauthorized},
		{c.MetricsAddr, "/healthz", "Bearer " + token, http.StatusNotFound},
		{c.Addr, "/healthz", "", http.StatusOK},
		{c.Addr, "/metrics", "Bearer " + token, http.StatusNotFound},
	} {
		if got := fetch(c.addr, c.path, c.auth); got != c.want {
			t.Errorf("%s%s (auth %t) = %d, want %d", c.addr, c.path, c.auth != "", got, c.want)
		}
	}
}
