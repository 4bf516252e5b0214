package server

import (
	"net/http"
	"net/http/httptest"
	"net/url"
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
