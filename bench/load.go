package bench

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// generator drives the server: one shared client, whose transport keeps a
// connection per worker alive.
type generator struct {
	srv    *server
	model  *model
	client *http.Client
	bases  []string // every instance's base URL; requests count per instance
}

func newGenerator(srv *server, m *model) *generator {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        0, // no overall limit
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     90 * time.Second,
		// Ask for gzip like a browser, but decompress only the bodies we read:
		// the server pays for compression, the generator spends no CPU on
		// pages it discards.
		DisableCompression: true,
	}
	var bases []string
	for _, in := range srv.instances() {
		bases = append(bases, in.base)
	}
	return &generator{srv: srv, model: m, bases: bases, client: &http.Client{
		Transport:     tr,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// statusError is an unexpected HTTP status. Its text names the route, never
// the link token.
type statusError struct {
	what      string
	got, want int
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s: status %d, want %d", e.what, e.got, e.want)
}

// call sends one request and checks the status; with readBody it returns the
// (decompressed) body.
func (w *worker) call(ctx context.Context, what, method, u, contentType string, body io.Reader, header map[string]string, want int, readBody bool) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept-Encoding", "gzip")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	t0 := time.Now()
	res, err := w.g.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL carries the link token: keep it out of messages
		}
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var out []byte
	if readBody && res.StatusCode == want {
		var r io.Reader = res.Body
		if res.Header.Get("Content-Encoding") == "gzip" {
			zr, zerr := gzip.NewReader(res.Body)
			if zerr != nil {
				res.Body.Close()
				return nil, fmt.Errorf("%s: %w", what, zerr)
			}
			r = zr
		}
		out, err = io.ReadAll(r)
	} else {
		_, err = io.Copy(io.Discard, res.Body)
	}
	res.Body.Close()
	w.reqs = append(w.reqs, time.Since(t0))
	if len(w.g.bases) > 1 && err == nil && res.StatusCode == want {
		if w.perInst == nil {
			w.perInst = make([]int64, len(w.g.bases))
		}
		for i, b := range w.g.bases {
			if strings.HasPrefix(u, b+"/") {
				w.perInst[i]++
				break
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: read body: %w", what, err)
	}
	if res.StatusCode != want {
		return nil, &statusError{what, res.StatusCode, want}
	}
	return out, nil
}

// session is a respondent link whose survey has been started.
type session struct {
	base string // http://…/s/TOKEN
	csrf string
}

// startAll opens the welcome page of every link and starts its survey; with
// prefill it also answers the first prefill sections, so that pages show
// checked choices as they do for a respondent half-way through.
func (g *generator) startAll(ctx context.Context, links []string, conc, prefill int) ([]session, error) {
	out := make([]session, len(links))
	var next atomic.Int64
	errc := make(chan error, conc)
	for i := range min(conc, max(1, len(links))) {
		go func() {
			w := &worker{g: g, rng: rand.New(rand.NewPCG(uint64(i), 1))}
			for {
				k := int(next.Add(1) - 1)
				if k >= len(links) {
					errc <- nil
					return
				}
				s, err := w.start(ctx, links[k])
				if err == nil && prefill > 0 {
					err = w.prefill(ctx, s, prefill)
				}
				if err != nil {
					errc <- err
					return
				}
				out[k] = s
			}
		}()
	}
	var first error
	for range min(conc, max(1, len(links))) {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	return out, first
}

// result is one table row.
type result struct {
	name    string
	unit    string // "req", "flow", "row" or "mail"
	conc    int
	count   int64
	errors  int64
	elapsed time.Duration
	lat     []time.Duration // per counted iteration, sorted
	notes   []string
	idle    bool // no load: only rss and peak (P7)

	errMsgs  map[string]int
	requests int64   // HTTP requests sent (a flow is many)
	perInst  []int64 // successful requests per server instance, with --instances
	instCPU  []float64
	srvCPU   float64 // cores used by the server
	genCPU   float64 // by this process
	otherCPU float64 // by everything else on the machine
	rssKB    int64
	hwmKB    int64
}

func (r *result) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.count) / r.elapsed.Seconds()
}

func (r *result) percentile(p float64) time.Duration { return percentile(r.lat, p) }

// percentile of a sorted slice, nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func (r *result) errorSamples() []string {
	var out []string
	for m, n := range r.errMsgs {
		out = append(out, fmt.Sprintf("%s (×%d)", m, n))
	}
	sort.Strings(out)
	if len(out) > 5 {
		out = append(out[:5], fmt.Sprintf("… and %d other kinds", len(out)-5))
	}
	return out
}

// errExhausted stops a worker that has no more input (P3's fresh links).
var errExhausted = errors.New("out of links")

// scenario is what a worker repeats until the time is up; one call is one
// counted unit (a request or a whole flow).
type scenario struct {
	name string
	unit string
	iter func(ctx context.Context, w *worker) error
	// finish may add notes once the workers are done.
	finish func(r *result, workers []*worker)
}

// worker is one load-generating goroutine.
type worker struct {
	g    *generator
	id   int
	rng  *rand.Rand
	lat  []time.Duration // per iteration
	reqs []time.Duration // per request
	errs int64
	msgs map[string]int
	ok   int64
	// perInst counts successful requests per server instance (--instances).
	perInst []int64
}

// run repeats the scenario on conc workers for d and measures it.
func (g *generator) run(ctx context.Context, sc scenario, conc int, d time.Duration) *result {
	cpu0 := g.markCPU()
	stopAt, cancel := context.WithTimeout(ctx, d)
	defer cancel()

	workers := make([]*worker, conc)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := range workers {
		w := &worker{g: g, id: i, rng: rand.New(rand.NewPCG(uint64(i)+1, uint64(t0.UnixNano()))), msgs: map[string]int{}}
		workers[i] = w
		wg.Go(func() {
			for stopAt.Err() == nil {
				start := time.Now()
				// In-flight work finishes after the deadline (ctx, not stopAt),
				// so no request is cut off and counted as an error.
				err := sc.iter(ctx, w)
				switch {
				case errors.Is(err, errExhausted):
					return
				case err != nil:
					if ctx.Err() != nil {
						return // interrupted: not the server's fault
					}
					w.errs++
					w.msgs[err.Error()]++
					if g.srv.exited() {
						return
					}
					time.Sleep(5 * time.Millisecond) // do not spin on a failing server
				default:
					w.ok++
					w.lat = append(w.lat, time.Since(start))
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(t0)

	r := &result{name: sc.name, unit: sc.unit, conc: conc, elapsed: elapsed, errMsgs: map[string]int{}}
	for _, w := range workers {
		r.count += w.ok
		r.errors += w.errs
		r.requests += int64(len(w.reqs))
		for i, n := range w.perInst {
			if r.perInst == nil {
				r.perInst = make([]int64, len(g.bases))
			}
			r.perInst[i] += n
		}
		r.lat = append(r.lat, w.lat...)
		for m, n := range w.msgs {
			r.errMsgs[m] += n
		}
	}
	slices.Sort(r.lat)
	cpu0.measure(r, elapsed)
	if sc.finish != nil {
		sc.finish(r, workers)
	}
	return r
}

// cpuMark is the CPU time used so far by each server instance, by this
// process and by the whole machine (each -1 where unknown).
type cpuMark struct {
	pids      []int
	srv       []time.Duration
	gen, busy time.Duration
}

func (g *generator) markCPU() cpuMark {
	m := cpuMark{gen: procCPU(os.Getpid()), busy: machineBusy()}
	for _, in := range g.srv.instances() {
		m.pids = append(m.pids, in.Pid())
		m.srv = append(m.srv, procCPU(in.Pid()))
	}
	return m
}

// measure fills a result's CPU columns with the cores used since the mark,
// over elapsed, and its rss and peak with the (first) server's current ones.
func (m cpuMark) measure(r *result, elapsed time.Duration) {
	r.srvCPU, r.genCPU, r.otherCPU = -1, -1, -1
	r.rssKB, r.hwmKB = procStatus(m.pids[0])
	if elapsed <= 0 {
		return
	}
	total := 0.0
	for i, pid := range m.pids {
		srv1 := procCPU(pid)
		if m.srv[i] < 0 || srv1 < 0 {
			return
		}
		c := float64(srv1-m.srv[i]) / float64(elapsed)
		r.instCPU = append(r.instCPU, c)
		total += c
	}
	r.srvCPU = total
	r.genCPU = float64(procCPU(os.Getpid())-m.gen) / float64(elapsed)
	if busy1 := machineBusy(); m.busy >= 0 && busy1 >= 0 {
		r.otherCPU = max(0, float64(busy1-m.busy)/float64(elapsed)-r.srvCPU-r.genCPU)
	}
}

// form encodes url.Values as a request body.
func form(v url.Values) (string, io.Reader) {
	return "application/x-www-form-urlencoded", strings.NewReader(v.Encode())
}
