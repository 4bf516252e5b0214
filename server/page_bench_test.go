package server

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkSurveyPage measures one section page view in-process, without the
// network, for profiling (go test -bench SurveyPage -cpuprofile …).
func BenchmarkSurveyPage(b *testing.B) {
	t := &testing.T{}
	a, demo, _ := newTestApp(t)
	base := linkPath(demo.Links[0])
	f := newFlow(t, a, base)
	f.get("")
	f.post("/start", url.Values{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodGet, base+"/p/1", nil)
			req.Header.Set("Accept-Encoding", "gzip")
			rec := httptest.NewRecorder()
			a.Handler().ServeHTTP(rec, req)
			if rec.Code != 200 || !strings.Contains(rec.Header().Get("Content-Encoding"), "gzip") {
				b.Fatal(rec.Code)
			}
		}
	})
}

// BenchmarkResultsPage measures the manager's dashboard (report, benchmark,
// heatmaps, practice table, trend) at 10,000 respondents per wave, served
// from the report cache as in production after the first view.
func BenchmarkResultsPage(b *testing.B) {
	t := &testing.T{}
	a, _, _ := newTestApp(t)
	demo := biggerDemo(t, a, 10000)
	path := "/results/" + strconv.FormatInt(demo.CampaignID, 10)
	f := newFlow(t, a, "")
	f.post("/login", url.Values{"email": {demo.ManagerEmail}, "password": {demo.ManagerPassword}})
	var cookie string
	for _, c := range f.http.Jar.Cookies(mustURL(f.srv.URL)) {
		cookie += c.Name + "=" + c.Value + "; "
	}
	for _, target := range []string{path, path + "?seniority=staff&sort=gap&dir=desc"} {
		view := func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, target, nil)
			req.Header.Set("Cookie", cookie)
			rec := httptest.NewRecorder()
			a.Handler().ServeHTTP(rec, req)
			if rec.Code != 200 || !strings.Contains(rec.Body.String(), `id="trend-h"`) {
				b.Fatal(rec.Code)
			}
		}
		b.Run(target[strings.LastIndex(target, "/")+1:], func(b *testing.B) {
			view(b) // the first view builds the cache; measured: every later one
			b.ReportAllocs()
			for b.Loop() {
				view(b)
			}
		})
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// BenchmarkReportAPI measures GET /api/v1/campaigns/{id}/report at 10,000
// respondents per wave, warm.
func BenchmarkReportAPI(b *testing.B) {
	t := &testing.T{}
	a, _, _ := newTestApp(t)
	demo := biggerDemo(t, a, 10000)
	target := "/api/v1/campaigns/" + strconv.FormatInt(demo.CampaignID, 10) + "/report"
	call := func(b *testing.B) {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		req.Header.Set("Authorization", "Bearer "+demo.APIToken)
		rec := httptest.NewRecorder()
		a.Handler().ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
	call(b)
	b.ReportAllocs()
	for b.Loop() {
		call(b)
	}
}
