package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgObserver watches the Postgres the server uses, over a connection of its
// own: the settings the header prints, and per scenario the transactions
// committed (pg_stat_database), the statements run (pg_stat_statements, when
// the extension is installed in the database) and, with sampling on, what
// the server's backends were waiting for (pg_stat_activity) and which locks
// were held or awaited (pg_locks).
type pgObserver struct {
	conn     *pgx.Conn
	version  string
	settings map[string]string
	pgss     bool // pg_stat_statements readable
	sample   bool
}

func openPG(ctx context.Context, url string, sample bool) (*pgObserver, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("connect to the bench database: %w", err)
	}
	o := &pgObserver{conn: conn, settings: map[string]string{}, sample: sample}
	for _, name := range []string{"server_version", "fsync", "synchronous_commit", "full_page_writes", "shared_buffers", "max_connections"} {
		var v string
		if err := conn.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v); err != nil {
			conn.Close(ctx)
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		o.settings[name] = v
	}
	// The extension needs shared_preload_libraries; where it is loaded, the
	// bench installs it in its own database.
	if _, err := conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err == nil {
		var n int64
		o.pgss = conn.QueryRow(ctx, "SELECT count(*) FROM pg_stat_statements").Scan(&n) == nil
	}
	return o, nil
}

func (o *pgObserver) close() {
	if o != nil {
		o.conn.Close(context.Background())
	}
}

// header is the database part of the report's first line.
func (o *pgObserver) header() string {
	s := o.settings
	h := fmt.Sprintf("postgres %s fsync=%s synchronous_commit=%s shared_buffers=%s", s["server_version"], s["fsync"], s["synchronous_commit"], s["shared_buffers"])
	if s["fsync"] != "on" || s["synchronous_commit"] == "off" {
		h += " (NOT DURABLE: a crash loses acknowledged writes)"
	}
	return h
}

type pgMark struct {
	commits, rollbacks int64
	calls              int64
}

func (o *pgObserver) mark(ctx context.Context) pgMark {
	var m pgMark
	o.conn.QueryRow(ctx, "SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = current_database()").Scan(&m.commits, &m.rollbacks)
	if o.pgss {
		o.conn.QueryRow(ctx, "SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())").Scan(&m.calls)
	}
	return m
}

// waitSamples counts, over the samples, the server backends' states and wait
// events, and the locks awaited.
type waitSamples struct {
	n        int
	backends int            // backend-samples of the server's connections
	active   int            // of them, running a statement
	waits    map[string]int // active backend-samples by wait_event_type:wait_event
	lockWait map[string]int // ungranted locks by locktype:mode:relation
	maxApps  map[string]int // most connections seen per application_name
}

// observe runs f (a scenario) and adds notes on what it cost Postgres. With
// sampling on, it polls pg_stat_activity and pg_locks every 50 ms meanwhile.
func (o *pgObserver) observe(ctx context.Context, f func() *result) *result {
	if o == nil {
		return f()
	}
	o.conn.Exec(ctx, "SELECT pg_stat_clear_snapshot()")
	m0 := o.mark(ctx)
	var ws waitSamples
	stop := make(chan struct{})
	var wg sync.WaitGroup
	if o.sample {
		ws = waitSamples{waits: map[string]int{}, lockWait: map[string]int{}, maxApps: map[string]int{}}
		wg.Go(func() { o.sampleWaits(ctx, stop, &ws) })
	}
	r := f()
	close(stop)
	wg.Wait()
	o.conn.Exec(ctx, "SELECT pg_stat_clear_snapshot()")
	m1 := o.mark(ctx)
	if r == nil || r.count == 0 {
		return r
	}
	reqs := float64(r.count)
	if r.requests > 0 {
		reqs = float64(r.requests)
	}
	note := fmt.Sprintf("postgres: %.2f transactions committed per request", float64(m1.commits-m0.commits)/reqs)
	if o.pgss {
		// The observer's own statements between the marks are few (two).
		note += fmt.Sprintf(", %.2f statements per request", float64(m1.calls-m0.calls-2)/reqs)
	}
	if n := m1.rollbacks - m0.rollbacks; n > 0 {
		note += fmt.Sprintf(", %d rolled back", n)
	}
	r.notes = append(r.notes, note)
	if o.sample && ws.n > 0 {
		r.notes = append(r.notes, ws.summary())
	}
	return r
}

func (o *pgObserver) sampleWaits(ctx context.Context, stop chan struct{}, ws *waitSamples) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ws.n++
		apps := map[string]int{}
		rows, err := o.conn.Query(ctx, `SELECT coalesce(application_name, ''), state, coalesce(wait_event_type, ''), coalesce(wait_event, '')
			FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`)
		if err == nil {
			for rows.Next() {
				var app, state, wt, we string
				if rows.Scan(&app, &state, &wt, &we) != nil {
					continue
				}
				ws.backends++
				apps[app]++
				if state == "active" {
					ws.active++
					if wt == "" {
						wt, we = "CPU", "running"
					}
					ws.waits[wt+":"+we]++
				}
			}
			rows.Close()
		}
		for a, n := range apps {
			ws.maxApps[a] = max(ws.maxApps[a], n)
		}
		rows, err = o.conn.Query(ctx, `SELECT l.locktype, l.mode, coalesce(c.relname, l.transactionid::text, '')
			FROM pg_locks l LEFT JOIN pg_class c ON c.oid = l.relation WHERE NOT l.granted`)
		if err == nil {
			for rows.Next() {
				var lt, mode, rel string
				if rows.Scan(&lt, &mode, &rel) == nil {
					if lt == "transactionid" {
						rel = "(a row held by another transaction)"
					}
					ws.lockWait[lt+" "+mode+" "+rel]++
				}
			}
			rows.Close()
		}
	}
}

func (ws *waitSamples) summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pg sampled %d times: server backends %.1f on average, %.1f active;", ws.n, float64(ws.backends)/float64(ws.n), float64(ws.active)/float64(ws.n))
	b.WriteString(" active by wait: ")
	if ws.active == 0 {
		b.WriteString("none seen")
	} else {
		b.WriteString(topCounts(ws.waits, ws.active, 5))
	}
	b.WriteString("; locks awaited: ")
	if len(ws.lockWait) == 0 {
		b.WriteString("none seen")
	} else {
		b.WriteString(topCounts(ws.lockWait, ws.n, 5))
		b.WriteString(" (per sample)")
	}
	return b.String()
}

// topCounts lists the largest counts as shares of total.
func topCounts(m map[string]int, total, n int) string {
	type kv struct {
		k string
		v int
	}
	var all []kv
	for k, v := range m {
		all = append(all, kv{k, v})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v > all[j].v || all[i].v == all[j].v && all[i].k < all[j].k })
	var parts []string
	for i, e := range all {
		if i == n {
			break
		}
		parts = append(parts, fmt.Sprintf("%s %.0f%%", e.k, 100*float64(e.v)/float64(max(total, 1))))
	}
	return strings.Join(parts, ", ")
}

// topStatements writes the statements that took the most time since the
// last reset of pg_stat_statements, and resets it.
func (o *pgObserver) topStatements(ctx context.Context, w io.Writer) {
	if o == nil || !o.pgss {
		return
	}
	rows, err := o.conn.Query(ctx, `SELECT calls, round(total_exec_time::numeric, 1), round(mean_exec_time::numeric, 3), rows, left(regexp_replace(query, '\s+', ' ', 'g'), 240)
		FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
		ORDER BY total_exec_time DESC LIMIT 25`)
	if err != nil {
		fmt.Fprintln(w, "pg_stat_statements:", err)
		return
	}
	fmt.Fprintln(w, "calls\ttotal ms\tmean ms\trows\tquery")
	for rows.Next() {
		var calls, nrows int64
		var total, mean float64
		var q string
		if rows.Scan(&calls, &total, &mean, &nrows, &q) == nil {
			fmt.Fprintf(w, "%d\t%.1f\t%.3f\t%d\t%s\n", calls, total, mean, nrows, q)
		}
	}
	rows.Close()
}

func (o *pgObserver) resetStatements(ctx context.Context) {
	if o != nil && o.pgss {
		o.conn.Exec(ctx, "SELECT pg_stat_statements_reset()")
	}
}

// profiler fetches CPU profiles of the server while a scenario runs.
type profiler struct {
	dir  string
	addr string // the server's TILTLINE_PPROF_ADDR
	pg   *pgObserver
}

// around runs f while taking a CPU profile of the server for d, and writes
// it, with the scenario's top Postgres statements, to the profile directory.
func (p *profiler) around(ctx context.Context, name string, d time.Duration, f func() *result) *result {
	if p == nil {
		return f()
	}
	file := strings.NewReplacer(" ", "_", "/", "_", "=", "").Replace(name)
	p.pg.resetStatements(ctx)
	secs := max(1, int(d.Round(time.Second)/time.Second))
	var wg sync.WaitGroup
	wg.Go(func() {
		res, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", p.addr, secs))
		if err != nil {
			return
		}
		defer res.Body.Close()
		out, err := os.Create(filepath.Join(p.dir, file+".cpu.pprof"))
		if err != nil {
			return
		}
		io.Copy(out, res.Body)
		out.Close()
	})
	r := f()
	wg.Wait()
	if p.pg != nil && p.pg.pgss {
		if out, err := os.Create(filepath.Join(p.dir, file+".pgss.tsv")); err == nil {
			p.pg.topStatements(ctx, out)
			out.Close()
		}
	}
	return r
}
