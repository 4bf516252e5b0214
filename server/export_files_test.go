package server

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"tiltline/survey"
	"tiltline/survey/export"
	"tiltline/survey/surveytest"
)

// fetch GETs a path from the App with an optional bearer token.
func fetch(t *testing.T, a *App, path, token string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, req)
	return rec
}

func TestExportMessagesExistInEveryLocale(t *testing.T) {
	for _, l := range survey.Locales {
		ids, err := messageIDs(l)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range append(export.MessageIDs, "export.link.xlsx", "export.link.pdf", "export.link.aggregate") {
			if ids[id] == "" {
				t.Errorf("%s misses %q, which the exports use", l, id)
			}
		}
	}
}

func TestExportWorkbookOverHTTPMatchesTheReport(t *testing.T) {
	a, demo, _ := newTestApp(t)
	base := fmt.Sprintf("/api/v1/campaigns/%d", demo.CampaignID)
	_, rep := apiCall(t, a, http.MethodGet, base+"/report", demo.APIToken, "")
	// Asked for gzip as browsers do, the workbook (a zip file) comes as it is.
	res := fetch(t, a, base+"/export.xlsx", demo.APIToken, "Accept-Encoding", "gzip")
	if res.Code != 200 {
		t.Fatalf("export.xlsx = %d: %s", res.Code, res.Body.String())
	}
	h := res.Header()
	if h.Get("Content-Type") != contentTypeXLSX || h.Get("Cache-Control") != "private, no-store" || h.Get("Content-Encoding") != "" ||
		h.Get("Content-Disposition") != fmt.Sprintf(`attachment; filename="tiltline-campaign-%d-results.xlsx"`, demo.CampaignID) {
		t.Errorf("headers %v", h)
	}
	f, err := excelize.OpenReader(bytes.NewReader(res.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := []string{"Summary", "Sections", "Practices", "Heatmap", "Leaders vs staff", "Recommendations"}
	if got := f.GetSheetList(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("sheets %v, want %v", got, want)
	}
	// The Summary's figures are the report's, as numbers.
	rows, err := f.GetRows("Summary", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	summary := map[string]string{}
	for _, r := range rows {
		if len(r) == 2 {
			summary[r[0]] = r[1]
		}
	}
	overall := rep["overall"].(map[string]any)
	for label, v := range map[string]any{
		"CEM score": overall["cem"], "Intention": overall["intention"], "Reality": overall["reality"], "Gap (points)": overall["gap"],
		"Responses": rep["responses"], "Don't-know rate": rep["dont_know_rate"], "Smallest group shown (k)": rep["k"],
	} {
		got, err := strconv.ParseFloat(summary[label], 64)
		if err != nil || got != v.(float64) {
			t.Errorf("Summary %q = %q, report says %v", label, summary[label], v)
		}
	}
	if summary["Organisation"] != "Demo Bank" || summary["Status"] != "open" || summary["Preliminary"] != "yes" {
		t.Errorf("summary %v", summary)
	}
	// Sections and practices carry the report's rows; the unit of three
	// shows words, not numbers.
	secs, _ := f.GetRows("Sections", excelize.Options{RawCellValue: true})
	first := rep["sections"].([]any)[0].(map[string]any)
	if len(secs) != 14 || secs[1][0] != first["id"] || secs[1][2] != strconv.FormatFloat(first["intention"].(float64), 'f', -1, 64) {
		t.Errorf("sections sheet %v", secs[:2])
	}
	// The unit of 3 has no row of its own: its people are in the pooled
	// row, which holds at least k.
	heat, _ := f.GetRows("Heatmap")
	pooled := false
	for _, r := range heat {
		if len(r) > 0 && r[0] == "Innovation Lab" {
			t.Errorf("unit of 3 in the heatmap: %v", r)
		}
		if len(r) > 1 && r[0] == "Other units (pooled)" {
			n, err := strconv.Atoi(r[1])
			pooled = err == nil && n >= 5
		}
	}
	if !pooled {
		t.Errorf("the heatmap lacks the pooled units of at least k: %v", heat)
	}
	recs, _ := f.GetRows("Recommendations")
	if n := len(rep["recommendations"].([]any)); len(recs) != n+1 {
		t.Errorf("%d recommendation rows, report has %d", len(recs)-1, n)
	}
}

func TestExportPDFAndAggregateCSVOverHTTP(t *testing.T) {
	a, demo, _ := newTestApp(t)
	base := fmt.Sprintf("/api/v1/campaigns/%d", demo.CampaignID)
	_, rep := apiCall(t, a, http.MethodGet, base+"/report", demo.APIToken, "")
	cem := strconv.FormatFloat(rep["overall"].(map[string]any)["cem"].(float64), 'f', 0, 64) + " %"

	res := fetch(t, a, base+"/export.pdf?lang=de", demo.APIToken)
	if res.Code != 200 || res.Header().Get("Content-Type") != contentTypePDF || res.Header().Get("Cache-Control") != "private, no-store" {
		t.Fatalf("export.pdf = %d %v", res.Code, res.Header())
	}
	if !bytes.HasPrefix(res.Body.Bytes(), []byte("%PDF")) {
		t.Fatalf("not a PDF: %.8q", res.Body.String())
	}
	if text, ok := surveytest.PDFText(t, res.Body.Bytes()); ok {
		for _, want := range []string{cem, "Selbstbewertung des Kundenerlebnisses", "Die wichtigsten Zahlen", "Realität", "Vorläufig", "Demo Bank", "Was zuerst zu tun ist", "Seite 1 von"} {
			if !strings.Contains(text, want) {
				t.Errorf("German PDF text lacks %q", want)
			}
		}
	} else {
		t.Log("pdftotext not installed: PDF text not checked")
	}

	res = fetch(t, a, base+"/aggregate.csv?lang=fr", demo.APIToken)
	if res.Code != 200 || res.Header().Get("Content-Type") != contentTypeCSV ||
		res.Header().Get("Content-Disposition") != fmt.Sprintf(`attachment; filename="tiltline-campaign-%d-scores.csv"`, demo.CampaignID) {
		t.Fatalf("aggregate.csv = %d %v", res.Code, res.Header())
	}
	recs, err := csv.NewReader(res.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+1+13+104 || recs[1][5] != strconv.FormatFloat(rep["overall"].(map[string]any)["cem"].(float64), 'f', -1, 64) || recs[2][2] != "Analyse et planification" {
		t.Errorf("aggregate CSV: %d records, %v %v", len(recs), recs[1], recs[2])
	}

	// From the results page, signed in, with the page's filter.
	f := newFlow(t, a, "")
	f.post("/login", url.Values{"email": {demo.ManagerEmail}, "password": {demo.ManagerPassword}})
	code, page := f.get(fmt.Sprintf("/results/%d", demo.CampaignID))
	for _, link := range []string{"export.xlsx?unit=", "export.pdf?unit=", "aggregate.csv?unit="} {
		if code != 200 || !strings.Contains(page, fmt.Sprintf(`href="/results/%d/%s`, demo.CampaignID, link)) {
			t.Errorf("results page lacks the %s link", link)
		}
	}
	// A seniority band the report shows on its own.
	band := ""
	for _, g := range rep["seniority"].([]any) {
		key := g.(map[string]any)["key"].(string)
		if _, r := apiCall(t, a, http.MethodGet, base+"/report?seniority="+key, demo.APIToken, ""); key != "" && r["suppressed"] == false {
			band = key
			break
		}
	}
	if band == "" {
		t.Fatal("no seniority band of the demo is shown on its own")
	}
	code, body, h := f.do(http.MethodGet, fmt.Sprintf("/results/%d/export.pdf?unit=&role=&seniority=%s", demo.CampaignID, band), "", "")
	if code != 200 || !strings.HasPrefix(body, "%PDF") || !strings.Contains(h.Get("Content-Disposition"), "-"+band+"-report.pdf") {
		t.Errorf("filtered PDF from the page: %d %q", code, h.Get("Content-Disposition"))
	}
}

func TestExportsOfASuppressedViewAre409(t *testing.T) {
	a, demo, _ := newTestApp(t)
	var small survey.BusinessUnit
	a.db.Read.Where("name = ?", "Innovation Lab").First(&small)
	f := newFlow(t, a, "")
	f.post("/login", url.Values{"email": {demo.ManagerEmail}, "password": {demo.ManagerPassword}})
	for _, file := range []string{"export.xlsx", "export.pdf", "aggregate.csv"} {
		q := fmt.Sprintf("?unit=%d&lang=de", small.ID)
		code, out := apiCall(t, a, http.MethodGet, fmt.Sprintf("/api/v1/campaigns/%d/%s%s", demo.CampaignID, file, q), demo.APIToken, "")
		msg, _ := out["error"].(map[string]any)["message"].(string)
		if code != http.StatusConflict || errorCode(out) != "conflict" || !strings.Contains(msg, "weniger als 5 Antworten") {
			t.Errorf("API %s of a unit of 3: %d %v", file, code, out)
		}
		if code, body := f.get(fmt.Sprintf("/results/%d/%s%s", demo.CampaignID, file, q)); code != http.StatusConflict || strings.HasPrefix(body, "%PDF") || strings.HasPrefix(body, "PK") {
			t.Errorf("page %s of a unit of 3: %d", file, code)
		}
		if code, _ := apiCall(t, a, http.MethodGet, fmt.Sprintf("/api/v1/campaigns/%d/%s?role=astronaut", demo.CampaignID, file), demo.APIToken, ""); code != http.StatusBadRequest {
			t.Errorf("API %s with an unknown role: %d", file, code)
		}
	}
}

func TestExportAPITwinsNeedATokenOfTheOrganisation(t *testing.T) {
	a, demo, _ := newTestApp(t)
	email, password := otherOrgAdmin(t, a)
	other, err := survey.CreateAPIToken(t.Context(), a.db, email, "other")
	if err != nil {
		t.Fatal(err)
	}
	g := newFlow(t, a, "")
	g.post("/login", url.Values{"email": {email}, "password": {password}})
	for _, file := range []string{"export.xlsx", "export.pdf", "aggregate.csv"} {
		path := fmt.Sprintf("/api/v1/campaigns/%d/%s", demo.CampaignID, file)
		if code, out := apiCall(t, a, http.MethodGet, path, "", ""); code != http.StatusUnauthorized || errorCode(out) == "" {
			t.Errorf("%s without a token: %d", file, code)
		}
		if code, _ := apiCall(t, a, http.MethodGet, path, "tl_"+strings.Repeat("x", 43), ""); code != http.StatusUnauthorized {
			t.Errorf("%s with an unknown token: %d", file, code)
		}
		if code, out := apiCall(t, a, http.MethodGet, path, other, ""); code != http.StatusNotFound || errorCode(out) != "not_found" {
			t.Errorf("%s with another organisation's token: %d", file, code)
		}
		if code, _ := g.get(fmt.Sprintf("/results/%d/%s", demo.CampaignID, file)); code != http.StatusNotFound {
			t.Errorf("%s from another organisation's session: %d", file, code)
		}
		if res := fetch(t, a, fmt.Sprintf("/results/%d/%s", demo.CampaignID, file), ""); res.Code == http.StatusOK {
			t.Errorf("%s from the page without signing in: %d", file, res.Code)
		}
	}
}

// Names in any script, emoji included, export as a PDF (issue 13: one emoji
// in a campaign or unit name made every PDF export a 500). What the fonts
// have prints as typed; an emoji prints as a visible U+FFFD.
func TestExportPDFOfNamesInAnyScript(t *testing.T) {
	a, demo, _ := newTestApp(t)
	base := fmt.Sprintf("/api/v1/campaigns/%d", demo.CampaignID)
	// A unit the report shows on its own, so the filter line names it.
	var units []survey.BusinessUnit
	a.db.Read.Order("id").Find(&units)
	var unit *survey.BusinessUnit
	for i, u := range units {
		if _, r := apiCall(t, a, http.MethodGet, fmt.Sprintf("%s/report?unit=%d", base, u.ID), demo.APIToken, ""); r["suppressed"] == false {
			unit = &units[i]
			break
		}
	}
	if unit == nil {
		t.Fatal("no unit of the demo is shown on its own")
	}
	names := map[string]string{
		"campaign": "Ελλάδα 🎉 Опрос 調査",
		"wave":     "Welle ❤️ 2026 고객",
		"org":      "Bank Łódź 👩\u200d💻 استبيان",
		"unit":     "Cafe\u0301 Zu\u0308rich 🚀",
	}
	a.db.Write.Model(&survey.Campaign{}).Where("id = ?", demo.CampaignID).Updates(map[string]any{"name": names["campaign"], "wave_label": names["wave"]})
	var cp survey.Campaign
	a.db.Read.First(&cp, demo.CampaignID)
	a.db.Write.Model(&survey.Organisation{}).Where("id = ?", cp.OrganisationID).Update("name", names["org"])
	a.db.Write.Model(&survey.BusinessUnit{}).Where("id = ?", unit.ID).Update("name", names["unit"])

	for _, q := range []string{"", fmt.Sprintf("?unit=%d", unit.ID)} {
		res := fetch(t, a, base+"/export.pdf"+q, demo.APIToken)
		if res.Code != 200 || !bytes.HasPrefix(res.Body.Bytes(), []byte("%PDF-")) {
			t.Fatalf("export.pdf%s = %d: %.200s", q, res.Code, res.Body.String())
		}
		text, ok := surveytest.PDFText(t, res.Body.Bytes())
		if !ok {
			t.Skip("pdftotext (poppler-utils) is not installed")
		}
		want := []string{"Ελλάδα \ufffd Опрос 調査", "Welle ❤\ufe0f 2026 고객", "Bank Łódź \ufffd"}
		if q != "" {
			want = append(want, "Cafe\u0301 Zu\u0308rich \ufffd")
		}
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("export.pdf%s lacks %q:\n%.600s", q, w, text)
			}
		}
	}
}
