// Package bench is the benchmark harness behind `tiltline bench`.
//
// It measures the real thing: it starts the tiltline binary as a child
// process (`demo` to create respondent links, then `serve` on a free local
// port), drives it over HTTP with a Go load generator and prints one table
// row per scenario:
//
//	P7 idle            the server's memory right after start (/readyz answered), before any load
//	P7 c=64            its memory under 64 workers of survey pages and autosaves (P1 and P2 mixed)
//	healthz            GET /healthz: the ceiling of the HTTP stack on this machine
//	P1 survey page     GET /s/{token}/p/{n}, rotating over started links and pages 1..13
//	P2 autosave        PUT /s/{token}/answers, one answer per request, each worker on its own link
//	P3 full response   one fresh link per flow: welcome, start, 13 × (page + post), review, submit
//	P5 export.…        the open wave's result files through the API, one after another (see export.go)
//	P6 import+queue    POST a 10,000-row participant CSV to the API, then queue its invitations
//	P6 delivery        from the queue call until an SMTP sink in this process has every mail
//
// For P6 the server sends its mail to that sink (TILTLINE_SMTP_URL), as the
// demo's org admin's API token allows (`admin create-token`).
//
// The load generator runs on the same machine as the server and competes with
// it for CPU; the table shows how many cores each used (srv cpu, gen cpu) and
// how many the rest of the machine used (other cpu: Postgres, or anything
// else running — a busy machine makes the figures meaningless). rss and peak
// are the server's VmRSS and VmHWM after each scenario.
//
// Main takes the arguments after "bench": `tiltline bench --quick` calls
// Main([]string{"--quick"}, …). The server binary is this executable unless
// --bin names another (under `go test`, os.Executable is the test binary).
//
// SQLite (a file in a temporary directory) is the default. With
// --db postgres://… the URL is used as given: point it at an empty database
// made for the purpose (`createdb tiltline_bench`), because the demo
// organisation is replaced and drafts and responses accumulate there.
package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"tiltline/internal/smtpsink"
)

// p7Conc is the concurrency of P7's loaded measurement (target: < 150 MB).
const p7Conc = 64

// Scenario names as --scenarios takes them, in the order they run.
var scenarioOrder = []string{"P7", "healthz", "P1", "P2", "P3", "P4", "P5", "P6"}

type options struct {
	db        string
	bin       string
	conc      int
	duration  time.Duration
	quick     bool
	scenarios map[string]bool
	p3Links   int
	p6Rows    int
	p4Resp    int
	keep      bool
	instances int
	reuse     string
	profile   string
	pgSample  bool
}

const usageText = `Usage: tiltline bench [flags]

Starts the tiltline server as a child process on a temporary database, drives
it over HTTP and prints one row per scenario: P7 memory idle and under
c=64, healthz (ceiling of the HTTP stack), P1 survey page, P2 autosave, P3
full response flow, P4 report API and the manager's dashboard, P5 result
file exports, P6 participant import and invitation mail through an SMTP sink.

With --db postgres://… use an empty database made for the purpose: the demo
organisation is replaced and drafts and responses accumulate in it.

Flags:
`

// Main runs the benchmark and returns the process exit code: 0 success,
// 1 failure while running, 2 bad usage.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tiltline bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	var o options
	var scen string
	fs.StringVar(&o.db, "db", "", "database URL; default sqlite:TMPDIR/bench.db. A postgres:// URL should name an empty database")
	fs.StringVar(&o.bin, "bin", "", "tiltline binary to start; default: this executable")
	fs.IntVar(&o.conc, "concurrency", 16, "concurrent workers per scenario")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measuring time per scenario")
	fs.BoolVar(&o.quick, "quick", false, "2s per scenario and fewer links: a smoke run well under a minute")
	fs.StringVar(&scen, "scenarios", strings.Join(scenarioOrder, ","), "comma-separated scenarios to run: "+strings.Join(scenarioOrder, ","))
	fs.IntVar(&o.p3Links, "p3-links", 0, "fresh links prepared for P3; default about 250 per second of --duration")
	fs.IntVar(&o.p4Resp, "p4-responses", 0, "responses in the campaign whose report P4 reads and P5 exports; default 10,000 (2,000 with --quick)")
	fs.IntVar(&o.p6Rows, "p6-rows", 0, "participants imported and invited in P6; default 10,000 (2,000 with --quick)")
	fs.IntVar(&o.instances, "instances", 1, "server instances on the one database; the load of healthz, P1, P2 and P3 is spread over them (Postgres only for more than one)")
	fs.StringVar(&o.reuse, "reuse-demo", "", "skip the demo: reuse the one whose output is in this file, already in --db (`tiltline demo --db URL --data-dir DIR --responses 1000000 --links 400 > DIR/demo.txt`); the server uses the file's directory as its data directory. For repeated P4 runs on a big campaign")
	fs.StringVar(&o.profile, "profile", "", "write a CPU profile of the (first) server per scenario to this directory (SCENARIO.cpu.pprof; `go tool pprof`), and on Postgres its top statements (SCENARIO.pgss.tsv, needs pg_stat_statements)")
	fs.BoolVar(&o.pgSample, "pg-sample", false, "on Postgres, sample pg_stat_activity and pg_locks every 50 ms during each scenario and note what the server's connections waited for (on by default with --instances above 1)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (database, server.log) and print its path")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "tiltline bench: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	durationSet := false
	fs.Visit(func(f *flag.Flag) { durationSet = durationSet || f.Name == "duration" })
	if o.quick && !durationSet {
		o.duration = 2 * time.Second
	}
	if o.conc < 1 || o.duration <= 0 || o.p3Links < 0 {
		fmt.Fprintln(stderr, "tiltline bench: --concurrency and --duration must be positive")
		return 2
	}
	for _, size := range []struct {
		flag     string
		v        *int
		max      int
		full, qk int
	}{{"p6-rows", &o.p6Rows, 50_000, 10_000, 2_000}, {"p4-responses", &o.p4Resp, 1_000_000, 10_000, 2_000}} {
		switch {
		case *size.v < 0 || *size.v > size.max:
			fmt.Fprintf(stderr, "tiltline bench: --%s must be from 1 to %d\n", size.flag, size.max)
			return 2
		case *size.v == 0 && o.quick:
			*size.v = size.qk
		case *size.v == 0:
			*size.v = size.full
		}
	}
	o.scenarios = map[string]bool{}
	for _, s := range strings.Split(scen, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		name, ok := canonicalScenario(s)
		if !ok {
			fmt.Fprintf(stderr, "tiltline bench: unknown scenario %q (want %s)\n", s, strings.Join(scenarioOrder, ","))
			return 2
		}
		o.scenarios[name] = true
	}
	if len(o.scenarios) == 0 {
		fmt.Fprintln(stderr, "tiltline bench: --scenarios names none")
		return 2
	}
	if o.instances < 1 || o.instances > 8 {
		fmt.Fprintln(stderr, "tiltline bench: --instances must be from 1 to 8")
		return 2
	}
	if o.instances > 1 && dialectOf(o.db) != "postgres" {
		fmt.Fprintln(stderr, "tiltline bench: --instances above 1 needs --db postgres://… (SQLite is one machine's file)")
		return 2
	}
	if o.db != "" && !strings.HasPrefix(o.db, "sqlite:") && !strings.HasPrefix(o.db, "postgres://") && !strings.HasPrefix(o.db, "postgresql://") {
		fmt.Fprintln(stderr, "tiltline bench: --db wants sqlite:PATH or postgres://…")
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, &o, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "tiltline bench:", err)
		return 1
	}
	return 0
}

func canonicalScenario(s string) (string, bool) {
	for _, n := range scenarioOrder {
		if strings.EqualFold(s, n) {
			return n, true
		}
	}
	return "", false
}

func dialectOf(db string) string {
	if strings.HasPrefix(db, "postgres") {
		return "postgres"
	}
	return "sqlite"
}

// linkPlan says how many demo links each scenario needs.
type linkPlan struct{ p1, p2, p3 int }

func planLinks(o *options) linkPlan {
	var p linkPlan
	if o.scenarios["P1"] || o.scenarios["P7"] {
		p.p1 = 64
		if o.quick {
			p.p1 = 16
		}
	}
	if o.scenarios["P2"] || o.scenarios["P7"] {
		p.p2 = o.conc
	}
	if o.scenarios["P3"] {
		p.p3 = o.p3Links
		if p.p3 == 0 {
			p.p3 = max(100, int(o.duration.Seconds()*250))
		}
	}
	return p
}

func run(ctx context.Context, o *options, stdout, stderr io.Writer) (err error) {
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, "bench: "+format+"\n", args...) }

	bin := o.bin
	if bin == "" {
		if bin, err = os.Executable(); err != nil {
			return fmt.Errorf("find own executable: %w (pass --bin)", err)
		}
	}
	model, err := exportModel(ctx, bin)
	if err != nil {
		return err
	}

	dir, err := os.MkdirTemp("", "tiltline-bench-")
	if err != nil {
		return err
	}
	defer func() {
		if o.keep {
			logf("kept %s", dir)
			return
		}
		if rerr := os.RemoveAll(dir); rerr != nil && err == nil {
			err = rerr
		}
	}()
	db := o.db
	if db == "" {
		db = "sqlite:" + dir + "/bench.db"
	}
	var pg *pgObserver
	if dialectOf(db) == "postgres" {
		if pg, err = openPG(ctx, db, o.pgSample || o.instances > 1); err != nil {
			return err
		}
		defer pg.close()
		logf("%s", pg.header())
	}
	var prof *profiler
	if o.profile != "" {
		if err := os.MkdirAll(o.profile, 0o755); err != nil {
			return err
		}
		prof = &profiler{dir: o.profile, pg: pg}
	}
	plan := planLinks(o)
	setup := serverSetup{links: plan.p1 + plan.p2 + plan.p3, responses: 100, instances: o.instances, pprof: prof != nil, demoOutput: o.reuse}
	if o.scenarios["P4"] || o.scenarios["P5"] {
		setup.responses = o.p4Resp
	}
	var sink *smtpsink.Sink
	if o.scenarios["P6"] {
		if sink, err = smtpsink.Start(); err != nil {
			return fmt.Errorf("start the SMTP sink: %w", err)
		}
		defer sink.Close() // after the server has stopped
		setup.adminToken, setup.smtpURL = true, sink.URL(p6SMTP)
	}

	started := time.Now()
	srv, err := startServer(ctx, bin, db, dir, setup, logf)
	if err != nil {
		return err
	}
	defer func() {
		if serr := srv.stop(); serr != nil && err == nil {
			err = serr
		}
	}()
	logf("server pid %d ready on %s after %s (%d links)", srv.pid(), srv.base, time.Since(started).Round(time.Millisecond), len(srv.links))
	for i, in := range srv.others {
		logf("instance %d: pid %d on %s", i+2, in.Pid(), in.base)
	}
	if prof != nil {
		prof.addr = srv.pprofAddr
	}
	// Every scenario runs inside measure: with --profile under a CPU
	// profile, on Postgres with its transactions and statements counted.
	measure := func(name string, f func() *result) *result {
		return prof.around(ctx, name, o.duration, func() *result { return pg.observe(ctx, f) })
	}

	var results []*result
	if o.scenarios["P7"] {
		r := &result{name: "P7 idle", idle: true, errMsgs: map[string]int{}, srvCPU: -1, genCPU: -1, otherCPU: -1}
		r.rssKB, r.hwmKB = procStatus(srv.pid())
		results = append(results, r)
	}

	g := newGenerator(srv, model)
	links := spreadLinks(srv, srv.links)
	p1Links, p2Links, p3Links := links[:plan.p1], links[plan.p1:plan.p1+plan.p2], links[plan.p1+plan.p2:]
	p1, err := g.startAll(ctx, p1Links, o.conc, len(model.sections)/2)
	if err != nil {
		return fmt.Errorf("start P1 links: %w", err)
	}
	p2, err := g.startAll(ctx, p2Links, o.conc, 0)
	if err != nil {
		return fmt.Errorf("start P2 links: %w", err)
	}

	if o.scenarios["P7"] && ctx.Err() == nil {
		// Loaded memory first, so the peak is this scenario's and not an
		// earlier one's: survey pages and autosaves from p7Conc workers.
		sc := g.mixed(p1, p2)
		logf("%s: %d workers for %s", sc.name, p7Conc, o.duration)
		results = append(results, measure(sc.name, func() *result { return g.run(ctx, sc, p7Conc, o.duration) }))
	}
	for _, name := range scenarioOrder {
		if !o.scenarios[name] || name == "P7" {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		if name == "P6" {
			logf("P6: import %d participants, queue and deliver their invitations", o.p6Rows)
			results = append(results, g.mailWave(ctx, sink, o.p6Rows, logf)...)
			if srv.exited() {
				break
			}
			continue
		}
		if name == "P4" { // the report API, then the dashboard page
			api := g.report(o.p4Resp)
			firstAPI := g.first(ctx, api, "builds the report")
			logf("%s: %s", api.name, firstAPI)
			logf("%s: %d workers for %s", api.name, o.conc, o.duration)
			r := measure(api.name, func() *result { return g.run(ctx, api, o.conc, o.duration) })
			r.notes = append([]string{firstAPI}, r.notes...)
			results = append(results, r)
			if srv.exited() {
				break
			}
			page, err := g.dashboard(ctx, o.p4Resp)
			if err != nil {
				return err
			}
			firstPage := g.first(ctx, page, "renders the dashboard, with last wave's report for the trend")
			logf("%s: %s", page.name, firstPage)
			logf("%s: %d workers for %s", page.name, o.conc, o.duration)
			r = measure(page.name, func() *result { return g.run(ctx, page, o.conc, o.duration) })
			r.notes = append([]string{firstPage}, r.notes...)
			results = append(results, r)
			if srv.exited() {
				break
			}
			continue
		}
		if name == "P5" {
			results = append(results, g.exports(ctx, o.p4Resp, o.quick, logf)...)
			if srv.exited() {
				break
			}
			continue
		}
		var sc scenario
		switch name {
		case "healthz":
			sc = g.healthz()
		case "P1":
			sc = g.surveyPage(p1)
		case "P2":
			sc = g.autosave(p2)
		case "P3":
			sc = g.fullResponse(p3Links)
		}
		logf("%s: %d workers for %s", sc.name, o.conc, o.duration)
		r := measure(sc.name, func() *result { return g.run(ctx, sc, o.conc, o.duration) })
		results = append(results, r)
		if srv.exited() {
			break
		}
	}

	dbHeader := dialectOf(db)
	if pg != nil {
		dbHeader = pg.header()
	}
	writeReport(stdout, o, dbHeader, results)
	switch {
	case srv.exited():
		return fmt.Errorf("server exited during the run; its log:\n%s", srv.logTail())
	case ctx.Err() != nil:
		return errors.New("interrupted")
	}
	return nil
}

func writeReport(w io.Writer, o *options, dialect string, results []*result) {
	host, _ := os.Hostname()
	fmt.Fprintf(w, "tiltline bench  %s  host %s  %s/%s %s  NumCPU %d  GOMAXPROCS %d  db %s  %s per scenario",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), host, runtime.GOOS, runtime.GOARCH, runtime.Version(),
		runtime.NumCPU(), runtime.GOMAXPROCS(0), dialect, o.duration)
	if o.instances > 1 {
		fmt.Fprintf(w, "  %d server instances", o.instances)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tconc\tcount\tunit\tper s\tp50 ms\tp95 ms\tp99 ms\terrors\tsrv cpu\tgen cpu\tother cpu\trss MB\tpeak MB\t")
	for _, r := range results {
		if r.idle {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t-\t%d\t-\t-\t-\t%s\t%s\t\n", r.name, r.errors, mb(r.rssKB), mb(r.hwmKB))
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%.0f\t%.2f\t%.2f\t%.2f\t%d\t%s\t%s\t%s\t%s\t%s\t\n",
			r.name, r.conc, r.count, r.unit, r.rate(), ms(r.percentile(0.50)), ms(r.percentile(0.95)), ms(r.percentile(0.99)), r.errors,
			cores(r.srvCPU), cores(r.genCPU), cores(r.otherCPU), mb(r.rssKB), mb(r.hwmKB))
	}
	tw.Flush()
	fmt.Fprintln(w, "srv, gen, other cpu: cores used by the server, by this load generator and by the rest of the machine; rss, peak: server VmRSS and VmHWM after the scenario (P7: right after start).")
	for _, r := range results {
		if len(r.perInst) > 1 {
			var parts []string
			var total int64
			for i, n := range r.perInst {
				total += n
				part := fmt.Sprintf("instance %d %.0f req/s", i+1, float64(n)/r.elapsed.Seconds())
				if r.unit == "flow" && r.count > 0 {
					part += fmt.Sprintf(" = %.1f flows/s", float64(n)/(float64(r.requests)/float64(r.count))/r.elapsed.Seconds())
				}
				if i < len(r.instCPU) {
					part += fmt.Sprintf(" (srv cpu %.2f)", r.instCPU[i])
				}
				parts = append(parts, part)
			}
			fmt.Fprintf(w, "%s: %s; total %.0f req/s\n", r.name, strings.Join(parts, ", "), float64(total)/r.elapsed.Seconds())
		}
		for _, n := range r.notes {
			fmt.Fprintf(w, "%s: %s\n", r.name, n)
		}
		for _, e := range r.errorSamples() {
			fmt.Fprintf(w, "%s: error: %s\n", r.name, e)
		}
	}
}

// spreadLinks points link k at instance k mod n: the demo printed every
// link on the first instance's base URL.
func spreadLinks(srv *server, links []string) []string {
	ins := srv.instances()
	if len(ins) == 1 {
		return links
	}
	out := make([]string, len(links))
	for k, l := range links {
		out[k] = ins[k%len(ins)].base + strings.TrimPrefix(l, srv.base)
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func cores(c float64) string {
	if c < 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", c)
}

func mb(kb int64) string {
	if kb < 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", float64(kb)/1024)
}
