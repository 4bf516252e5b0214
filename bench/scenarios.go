package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

var csrfInput = regexp.MustCompile(`<input type="hidden" name="csrf" value="([^"]+)">`)

// start opens a link's welcome page and starts the survey, as a respondent
// pressing "start" does; the server answers 303 to page 1.
func (w *worker) start(ctx context.Context, link string) (session, error) {
	body, err := w.call(ctx, "GET /s/:token", http.MethodGet, link, "", nil, nil, http.StatusOK, true)
	if err != nil {
		return session{}, err
	}
	m := csrfInput.FindSubmatch(body)
	if m == nil {
		return session{}, errors.New("GET /s/:token: no csrf field in the welcome page")
	}
	s := session{base: link, csrf: string(m[1])}
	ct, b := form(url.Values{"csrf": {s.csrf}})
	if _, err := w.call(ctx, "POST /s/:token/start", http.MethodPost, s.base+"/start", ct, b, nil, http.StatusSeeOther, false); err != nil {
		return session{}, err
	}
	return s, nil
}

// prefill answers every practice of the first n sections in one autosave
// request.
func (w *worker) prefill(ctx context.Context, s session, n int) error {
	var b strings.Builder
	b.WriteByte('[')
	for _, practices := range w.g.model.sections[:min(n, len(w.g.model.sections))] {
		for _, p := range practices {
			for _, dim := range []string{"intention", "reality"} {
				if b.Len() > 1 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, `{"practice":%q,"dimension":%q,"level":%d}`, p, dim, 1+w.rng.IntN(5))
			}
		}
	}
	b.WriteByte(']')
	_, err := w.call(ctx, "PUT /s/:token/answers", http.MethodPut, s.base+"/answers", "application/json",
		strings.NewReader(b.String()), map[string]string{"X-CSRF-Token": s.csrf}, http.StatusNoContent, false)
	return err
}

// healthz is the ceiling: the cheapest route through the same middleware.
func (g *generator) healthz() scenario {
	return scenario{name: "healthz", unit: "req", iter: func(ctx context.Context, w *worker) error {
		u := g.bases[w.id%len(g.bases)] + "/healthz"
		_, err := w.call(ctx, "GET /healthz", http.MethodGet, u, "", nil, nil, http.StatusOK, false)
		return err
	}}
}

// report reads the open wave's whole report through the JSON API, as a
// dashboard or a BI tool does: scores, leaders against staff, breakdowns.
func (g *generator) report(responses int) scenario {
	u := fmt.Sprintf("%s/api/v1/campaigns/%d/report", g.srv.base, g.srv.campaignID)
	auth := map[string]string{"Authorization": "Bearer " + g.srv.readToken}
	name := fmt.Sprintf("P4 report %dk", responses/1000)
	return scenario{name: name, unit: "req", iter: func(ctx context.Context, w *worker) error {
		_, err := w.call(ctx, "GET /api/v1/campaigns/:id/report", http.MethodGet, u, "", nil, auth, http.StatusOK, false)
		return err
	}}
}

// surveyPage reads section pages of started surveys, rotating over links and
// pages so that consecutive requests for a link show another page — as a
// respondent moving through the survey does, which also makes the server
// record the last page seen.
func (g *generator) surveyPage(sessions []session) scenario {
	pages := len(g.model.sections)
	var next atomic.Int64
	return scenario{name: "P1 survey page", unit: "req", iter: func(ctx context.Context, w *worker) error {
		k := int(next.Add(1) - 1)
		s := sessions[k%len(sessions)]
		page := (k/len(sessions))%pages + 1
		_, err := w.call(ctx, "GET /s/:token/p/:page", http.MethodGet, s.base+"/p/"+strconv.Itoa(page), "", nil, nil, http.StatusOK, false)
		return err
	}}
}

// autosave sends one answer per request, each worker on its own link, as the
// page's script does on every click.
func (g *generator) autosave(sessions []session) scenario {
	dims := [2]string{"intention", "reality"}
	return scenario{name: "P2 autosave", unit: "req", iter: func(ctx context.Context, w *worker) error {
		s := sessions[w.id%len(sessions)]
		body := fmt.Sprintf(`{"practice":%q,"dimension":%q,"level":%d}`,
			g.model.all[w.rng.IntN(len(g.model.all))], dims[w.rng.IntN(2)], 1+w.rng.IntN(5))
		_, err := w.call(ctx, "PUT /s/:token/answers", http.MethodPut, s.base+"/answers", "application/json",
			strings.NewReader(body), map[string]string{"X-CSRF-Token": s.csrf}, http.StatusNoContent, false)
		return err
	}}
}

// mixed is P7's load: even workers read survey pages (P1), odd ones autosave
// (P2), so the server holds many connections, pages and saves at once.
func (g *generator) mixed(pages, saves []session) scenario {
	read, save := g.surveyPage(pages), g.autosave(saves)
	return scenario{name: fmt.Sprintf("P7 c=%d", p7Conc), unit: "req", iter: func(ctx context.Context, w *worker) error {
		if w.id%2 == 0 {
			return read.iter(ctx, w)
		}
		return save.iter(ctx, w)
	}}
}

// fullResponse is one respondent from link to submit, without JavaScript:
// welcome, start, every section page shown and posted with all its answers,
// review, submit. Each flow uses a fresh link; the scenario ends early when
// they run out.
func (g *generator) fullResponse(links []string) scenario {
	var next atomic.Int64
	var exhaustedAt atomic.Int64
	t0 := time.Now()
	return scenario{
		name: "P3 full response", unit: "flow",
		iter: func(ctx context.Context, w *worker) error {
			k := int(next.Add(1) - 1)
			if k >= len(links) {
				exhaustedAt.CompareAndSwap(0, int64(time.Since(t0)))
				return errExhausted
			}
			s, err := w.start(ctx, links[k])
			if err != nil {
				return err
			}
			for i, practices := range g.model.sections {
				page := s.base + "/p/" + strconv.Itoa(i+1)
				if _, err := w.call(ctx, "GET /s/:token/p/:page", http.MethodGet, page, "", nil, nil, http.StatusOK, false); err != nil {
					return err
				}
				v := url.Values{"csrf": {s.csrf}, "go": {"next"}}
				for _, p := range practices {
					v.Set(p+".intention", strconv.Itoa(1+w.rng.IntN(5)))
					v.Set(p+".reality", strconv.Itoa(1+w.rng.IntN(5)))
				}
				ct, b := form(v)
				if _, err := w.call(ctx, "POST /s/:token/p/:page", http.MethodPost, page, ct, b, nil, http.StatusSeeOther, false); err != nil {
					return err
				}
			}
			if _, err := w.call(ctx, "GET /s/:token/review", http.MethodGet, s.base+"/review", "", nil, nil, http.StatusOK, false); err != nil {
				return err
			}
			ct, b := form(url.Values{"csrf": {s.csrf}})
			_, err = w.call(ctx, "POST /s/:token/submit", http.MethodPost, s.base+"/submit", ct, b, nil, http.StatusSeeOther, false)
			return err
		},
		finish: func(r *result, workers []*worker) {
			var reqs []time.Duration
			for _, w := range workers {
				reqs = append(reqs, w.reqs...)
			}
			slices.Sort(reqs)
			r.notes = append(r.notes, fmt.Sprintf("%d requests, %.0f req/s, per request p50 %.2f ms, p99 %.2f ms; p50/p99 in the row are per flow",
				len(reqs), float64(len(reqs))/r.elapsed.Seconds(), ms(percentile(reqs, 0.5)), ms(percentile(reqs, 0.99))))
			if at := exhaustedAt.Load(); at > 0 {
				r.notes = append(r.notes, fmt.Sprintf("all %d fresh links used after %s; raise --p3-links for a full-length run",
					len(links), time.Duration(at).Round(time.Millisecond)))
			}
		},
	}
}

// first times one iteration of a scenario on its own, before the load: for
// P4 the request that builds the report (nothing is cached yet), and notes
// it with the server's memory before and after.
func (g *generator) first(ctx context.Context, sc scenario, what string) string {
	rss0, _ := procStatus(g.srv.pid())
	cpu0 := procCPU(g.srv.pid())
	// The build of a big report may outlast the client's usual timeout.
	slow, client := *g, *g.client
	client.Timeout = 5 * time.Minute
	slow.client = &client
	w := &worker{g: &slow, msgs: map[string]int{}}
	t0 := time.Now()
	err := sc.iter(ctx, w)
	took := time.Since(t0)
	rss1, hwm := procStatus(g.srv.pid())
	cpu := "-"
	if cpu1 := procCPU(g.srv.pid()); cpu0 >= 0 && cpu1 >= 0 {
		// CPU time, unlike the wall time, does not grow when other
		// processes take the cores.
		cpu = fmt.Sprintf("%.2f s", (cpu1 - cpu0).Seconds())
	}
	if err != nil {
		return fmt.Sprintf("first request failed after %.0f ms: %v", ms(took), err)
	}
	return fmt.Sprintf("first request (%s): %.0f ms, server CPU %s; server RSS %s MB before, %s MB after (peak %s MB)", what, ms(took), cpu, mb(rss0), mb(rss1), mb(hwm))
}
