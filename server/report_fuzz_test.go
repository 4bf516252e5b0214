package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"tiltline/survey"
)

// FuzzReportQuery sends any query string to GET
// /api/v1/campaigns/{id}/report. The answer is 200 or 400, always JSON.
// A 400 names a filter value the campaign does not know; a 200 reports the
// filter that was asked for, and obeys suppression against the true counts:
// a view is shown only with at least k responses and differs from each
// one-condition-wider view by 0 or at least k; a breakdown shows numbers
// only for groups of k or more, and never hides exactly one non-empty group.
func FuzzReportQuery(f *testing.F) {
	a, demo := newFuzzApp(f, nil)
	ctx := context.Background()
	var small survey.BusinessUnit
	if err := a.db.Read.Where("name = ?", "Innovation Lab").First(&small).Error; err != nil {
		f.Fatal(err)
	}
	for _, q := range []string{
		"", "unit=" + strconv.FormatInt(small.ID, 10), "unit=" + strconv.FormatInt(small.ID-1, 10), "role=technologist",
		"seniority=senior-manager", "seniority=staff&role=researcher", "unit=1&unit=2", "unit=%zz", "unit=-1", "unit=0",
		"unit=9223372036854775808", "unit=+1", "unit=0x1", "unit= 1", "role=%00", "role=", ";unit=1", "unit=1;role=x",
		"seniority=senior-manager&seniority=staff", "lang=de&unit=" + strconv.FormatInt(small.ID, 10), "%", "&&&=&=",
		"unit=1e3", "role=Technologist", "page=-1&per_page=9999999999",
	} {
		f.Add(q)
	}
	cp := &survey.Campaign{}
	if err := a.db.Read.First(cp, demo.CampaignID).Error; err != nil {
		f.Fatal(err)
	}
	rows, err := survey.LoadReportRows(ctx, a.db, demo.CampaignID)
	if err != nil {
		f.Fatal(err)
	}
	units, err := survey.Units(ctx, a.db, cp.OrganisationID)
	if err != nil {
		f.Fatal(err)
	}
	knownUnit := map[int64]bool{}
	for _, u := range units {
		knownUnit[u.ID] = true
	}
	m := a.models.Latest()
	k := survey.EffectiveK(cp.KMin)
	path := fmt.Sprintf("/api/v1/campaigns/%d/report", demo.CampaignID)

	f.Fuzz(func(t *testing.T, rawQuery string) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.URL.RawQuery = rawQuery
		req.Header.Set("Authorization", "Bearer "+demo.APIToken)
		rec := httptest.NewRecorder()
		a.Handler().ServeHTTP(rec, req)

		q := req.URL.Query() // what the server reads, malformed pairs dropped
		var filter survey.ReportFilter
		valid := true
		if u := q.Get("unit"); u != "" {
			id, err := strconv.ParseInt(u, 10, 64)
			valid = err == nil && knownUnit[id]
			filter.UnitID = &id
		}
		if r := q.Get("role"); r != "" {
			valid = valid && m.HasRole(r)
			filter.Role = r
		}
		if s := q.Get("seniority"); s != "" {
			valid = valid && m.HasSeniority(s)
			filter.Seniority = s
		}
		switch rec.Code {
		case http.StatusBadRequest:
			var e apiError
			if valid || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error.Code != "bad_request" {
				t.Fatalf("400 for %q (valid %v): %s", rawQuery, valid, rec.Body)
			}
			return
		case http.StatusOK:
			if !valid {
				t.Fatalf("200 for the unknown filter %q", rawQuery)
			}
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, rawQuery, rec.Body)
		}
		var rep survey.Report
		if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Filter.Role != filter.Role || rep.Filter.Seniority != filter.Seniority || (rep.Filter.UnitID == nil) != (filter.UnitID == nil) ||
			filter.UnitID != nil && *rep.Filter.UnitID != *filter.UnitID {
			t.Fatalf("asked %+v, reported %+v", filter, rep.Filter)
		}
		if err := suppressionViolation(rows, filter, k, &rep); err != nil {
			t.Fatalf("%q: %v", rawQuery, err)
		}
	})
}

// matches is the report's filter rule, restated.
func matches(f survey.ReportFilter, r *survey.ReportRow) bool {
	return (f.UnitID == nil || r.UnitID != nil && *r.UnitID == *f.UnitID) &&
		(f.Role == "" || r.Role == f.Role) && (f.Seniority == "" || r.Seniority == f.Seniority)
}

// suppressionViolation holds a report to the anonymity rules, counting the
// rows itself; nil when the report keeps them.
func suppressionViolation(rows []survey.ReportRow, f survey.ReportFilter, k int, rep *survey.Report) error {
	count := func(f survey.ReportFilter) int {
		n := 0
		for i := range rows {
			if matches(f, &rows[i]) {
				n++
			}
		}
		return n
	}
	n := count(f)
	if rep.Suppressed {
		if rep.Responses != nil || rep.Overall != nil || len(rep.Sections) > 0 || len(rep.Practices) > 0 || len(rep.Units) > 0 || rep.LeadersVsStaff != nil {
			return fmt.Errorf("a suppressed view (%s) carries numbers", rep.Reason)
		}
		return nil
	}
	if n < k || rep.Responses == nil || *rep.Responses != n {
		return fmt.Errorf("view of %d responses shown (k = %d, reported %v)", n, k, rep.Responses)
	}
	wider := []survey.ReportFilter{}
	if f.UnitID != nil {
		g := f
		g.UnitID = nil
		wider = append(wider, g)
	}
	if f.Role != "" {
		g := f
		g.Role = ""
		wider = append(wider, g)
	}
	if f.Seniority != "" {
		g := f
		g.Seniority = ""
		wider = append(wider, g)
	}
	for _, g := range wider {
		if d := count(g) - n; d != 0 && d < k {
			return fmt.Errorf("view %+v differs from %+v by %d < k", f, g, d)
		}
	}
	truth := map[string]map[string]int{"units": {}, "roles": {}, "seniority": {}}
	for i := range rows {
		r := &rows[i]
		if !matches(f, r) {
			continue
		}
		u := ""
		if r.UnitID != nil {
			u = strconv.FormatInt(*r.UnitID, 10)
		}
		truth["units"][u]++
		truth["roles"][r.Role]++
		truth["seniority"][r.Seniority]++
	}
	for name, groups := range map[string][]survey.ReportGroup{"units": rep.Units, "roles": rep.Roles, "seniority": rep.Seniority} {
		hiddenNonEmpty := 0
		listed := map[string]bool{}
		for _, g := range groups {
			listed[g.Key] = true
			size := truth[name][g.Key]
			if g.Suppressed {
				if g.Responses != nil || g.Overall != nil || len(g.Sections) > 0 {
					return fmt.Errorf("%s %q is suppressed but carries numbers", name, g.Key)
				}
				if size > 0 {
					hiddenNonEmpty++
				}
				continue
			}
			if size < k || g.Responses == nil || *g.Responses != size {
				return fmt.Errorf("%s %q of %d shown (k = %d, reported %v)", name, g.Key, size, k, g.Responses)
			}
		}
		for key := range truth[name] {
			if len(groups) > 0 && !listed[key] {
				return fmt.Errorf("%s: group %q left out, so it is the total minus the others", name, key)
			}
		}
		if hiddenNonEmpty == 1 {
			return fmt.Errorf("%s: exactly one group hidden, derivable from the total", name)
		}
	}
	if lv := rep.LeadersVsStaff; lv != nil && lv.Available && (lv.Seniors < k || lv.Others < k) {
		return fmt.Errorf("leaders against staff shown with %d seniors and %d others", lv.Seniors, lv.Others)
	}
	return nil
}

// The checker must catch the leaks it looks for, or the fuzz target and the
// anonymity audit could pass by checking nothing.
func TestSuppressionViolationCatchesLeaks(t *testing.T) {
	one, two := int64(1), int64(2)
	var rows []survey.ReportRow
	for i := range 12 {
		u := &one
		if i >= 9 {
			u = &two
		}
		rows = append(rows, survey.ReportRow{UnitID: u, Role: "r", Seniority: "staff"})
	}
	nine, three, twelve := 9, 3, 12
	score := &survey.ReportScore{}
	ok := func() *survey.Report {
		return &survey.Report{Responses: &twelve, Overall: score,
			Units:     []survey.ReportGroup{{Key: "1", Suppressed: true}, {Key: "2", Suppressed: true}},
			Roles:     []survey.ReportGroup{{Key: "r", Responses: &twelve, Overall: score}},
			Seniority: []survey.ReportGroup{{Key: "staff", Responses: &twelve, Overall: score}}}
	}
	if err := suppressionViolation(rows, survey.ReportFilter{}, 5, ok()); err != nil {
		t.Fatalf("a sound report refused: %v", err)
	}
	leaks := map[string]func(*survey.Report){
		"small group shown":         func(r *survey.Report) { r.Units[1] = survey.ReportGroup{Key: "2", Responses: &three, Overall: score} },
		"only the small one hidden": func(r *survey.Report) { r.Units[0] = survey.ReportGroup{Key: "1", Responses: &nine, Overall: score} },
		"hidden group with numbers": func(r *survey.Report) { r.Units[1].Overall = score },
		"small group left out":      func(r *survey.Report) { r.Units = []survey.ReportGroup{{Key: "1", Responses: &nine, Overall: score}} },
		"wrong count":               func(r *survey.Report) { r.Responses = &nine },
		"suppressed with numbers":   func(r *survey.Report) { r.Suppressed = true },
	}
	for name, leak := range leaks {
		r := ok()
		leak(r)
		if suppressionViolation(rows, survey.ReportFilter{}, 5, r) == nil {
			t.Errorf("%s: not caught", name)
		}
	}
	small := survey.ReportFilter{UnitID: &two}
	if suppressionViolation(rows, small, 5, &survey.Report{Responses: &three, Overall: score}) == nil {
		t.Error("a filtered view of 3 not caught")
	}
	big := survey.ReportFilter{UnitID: &one}
	if suppressionViolation(rows, big, 5, &survey.Report{Responses: &nine, Overall: score}) == nil {
		t.Error("a view 3 short of its superset not caught")
	}
	if err := suppressionViolation(rows, small, 5, &survey.Report{Suppressed: true, Reason: "too_few"}); err != nil {
		t.Errorf("a suppressed small view refused: %v", err)
	}
}
