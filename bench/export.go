package bench

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// P5 downloads the open wave's result files through the API as the demo's
// manager, one after another: the anonymous response CSV (one row per
// response, so it grows with them), the aggregate CSV, the Excel workbook
// and the PDF report. One row per file; p50 and p99 are the wall time of a
// whole download (request to last byte). Targets for 10,000 responses on a
// 2-core machine: CSV < 0.3 s, XLSX < 2 s, PDF < 1 s.
//
// Each file is fetched p5Rounds times (p5QuickRounds with --quick); the
// note gives the first download separately, since it may build the report
// (P4, when it ran before, has already built the unfiltered one).

const (
	p5Rounds      = 10
	p5QuickRounds = 3
)

// p5Files are the downloads, with the bytes each must start with.
var p5Files = []struct {
	file, target string
	magic        []byte
}{
	{"export.csv", "< 0.3 s", []byte("response,")},
	{"aggregate.csv", "< 0.3 s", []byte("kind,id,")},
	{"export.xlsx", "< 2 s", []byte("PK\x03\x04")},
	{"export.pdf", "< 1 s", []byte("%PDF-")},
}

// exports runs P5 against a campaign of the given number of responses.
func (g *generator) exports(ctx context.Context, responses int, quick bool, logf func(string, ...any)) []*result {
	rounds := p5Rounds
	if quick {
		rounds = p5QuickRounds
	}
	auth := map[string]string{"Authorization": "Bearer " + g.srv.readToken}
	var out []*result
	for _, f := range p5Files {
		if ctx.Err() != nil || g.srv.exited() {
			break
		}
		r := &result{name: fmt.Sprintf("P5 %s %s", f.file, sizeLabel(responses)), unit: "file", conc: 1, errMsgs: map[string]int{}}
		u := fmt.Sprintf("%s/api/v1/campaigns/%d/%s", g.srv.base, g.srv.campaignID, f.file)
		route := "GET /api/v1/campaigns/:id/" + f.file
		w := &worker{g: g, msgs: map[string]int{}}
		logf("%s: %d downloads", r.name, rounds)
		cpu := g.markCPU()
		t0 := time.Now()
		var first time.Duration
		size := 0
		for i := range rounds {
			if ctx.Err() != nil {
				break
			}
			start := time.Now()
			body, err := w.call(ctx, route, http.MethodGet, u, "", nil, auth, http.StatusOK, true)
			took := time.Since(start)
			if err == nil && !bytes.HasPrefix(body, f.magic) {
				err = fmt.Errorf("%s: the file does not start with %q", route, f.magic)
			}
			if err != nil {
				if ctx.Err() == nil {
					r.fail(err.Error(), 1)
				}
				continue
			}
			if i == 0 {
				first = took
			}
			size = len(body)
			r.count++
			r.lat = append(r.lat, took)
		}
		r.elapsed = time.Since(t0)
		cpu.measure(r, r.elapsed)
		slices.Sort(r.lat)
		if r.count > 0 {
			r.notes = append(r.notes, fmt.Sprintf("%d downloads of %.1f KB: p50 %.0f ms, p99 %.0f ms (target %s); the first took %.0f ms",
				r.count, float64(size)/1024, ms(r.percentile(0.5)), ms(r.percentile(0.99)), f.target, ms(first)))
		}
		out = append(out, r)
	}
	return out
}
