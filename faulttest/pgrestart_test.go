package faulttest

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestPostgresRestart is R2: Postgres is stopped (fast shutdown: sessions
// cut off) for two seconds and started again while 8 clients autosave and
// submit. The server process keeps running; /readyz answers 503 while the
// database is away and 200 once it is back; every request in the gap fails
// cleanly — 503 with a JSON error for autosaves, an error page otherwise,
// within a few seconds, never a hang or a dropped connection — and the
// clients, retrying as the page's script does, lose nothing acknowledged.
func TestPostgresRestart(t *testing.T) {
	cl := postgres(t)
	dbURL := cl.createDB(t)
	slotsOnce(t)
	secret := newSecret()
	srv := newInstance(t, "server", dbURL, secret)
	demo := srv.demo(400)
	db := openDB(t, dbURL)
	srv.start()

	c := &crowd{links: newLinks(t, demo.Links, slotsOf, uint64(time.Now().UnixNano())), stats: newStats()}
	c.onError = func(int, error) bool { return true } // retry after a pause
	c.allowed = func(method string, status int, err error, ctype string) bool {
		if status != http.StatusServiceUnavailable || err != nil {
			return false
		}
		if method == http.MethodPut {
			return strings.HasPrefix(ctype, "application/json")
		}
		return strings.HasPrefix(ctype, "text/html")
	}

	// /readyz, every 100 ms.
	type probe struct {
		at     time.Time
		status int
		took   time.Duration
	}
	var (
		probesMu sync.Mutex
		probes   []probe
	)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		client := &http.Client{Timeout: 10 * time.Second}
		for ctx.Err() == nil {
			t0 := time.Now()
			p := probe{at: t0}
			if res, err := client.Get(srv.base + "/readyz"); err == nil {
				res.Body.Close()
				p.status = res.StatusCode
			}
			p.took = time.Since(t0)
			probesMu.Lock()
			probes = append(probes, p)
			probesMu.Unlock()
			time.Sleep(100 * time.Millisecond)
		}
	})
	wg.Go(func() { c.run(ctx, clients) })

	time.Sleep(time.Second)
	stopAt := time.Now()
	if err := cl.ctl("-m", "fast", "stop"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	startAt := time.Now()
	if err := cl.ctl("start"); err != nil {
		t.Fatal(err)
	}
	// Wait until /readyz says the server is back, then keep the load on.
	deadline := time.Now().Add(30 * time.Second)
	back := time.Time{}
	for back.IsZero() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		probesMu.Lock()
		if n := len(probes); n > 0 && probes[n-1].status == http.StatusOK && probes[n-1].at.After(startAt) {
			back = probes[n-1].at
		}
		probesMu.Unlock()
	}
	if back.IsZero() {
		cancel()
		wg.Wait()
		t.Fatalf("/readyz not 200 within 30 s of Postgres starting again")
	}
	time.Sleep(1500 * time.Millisecond)
	cancel()
	wg.Wait()

	if srv.proc.Exited() {
		t.Fatalf("the server exited: %v", srv.proc.WaitErr())
	}
	// /readyz: 200 before the stop, 503 during the gap, 200 at the end, and
	// never slow.
	var sawDown, sawUpBefore bool
	var slowest time.Duration
	for _, p := range probes {
		slowest = max(slowest, p.took)
		switch {
		case p.at.Before(stopAt) && p.status == http.StatusOK:
			sawUpBefore = true
		case p.at.After(stopAt) && p.at.Before(startAt) && p.status == http.StatusServiceUnavailable:
			sawDown = true
		case p.status != http.StatusOK && p.status != http.StatusServiceUnavailable:
			t.Errorf("/readyz answered %d at %s after the stop", p.status, p.at.Sub(stopAt).Round(time.Millisecond))
		}
	}
	if !sawUpBefore || !sawDown || probes[len(probes)-1].status != http.StatusOK {
		t.Errorf("/readyz: 200 before the stop %v, 503 in the gap %v, last %d", sawUpBefore, sawDown, probes[len(probes)-1].status)
	}
	if slowest > 3*time.Second {
		t.Errorf("/readyz took %s at worst", slowest)
	}
	t.Logf("Postgres down %s; /readyz 200 again %s after the start (%d probes, slowest %s)",
		startAt.Sub(stopAt).Round(time.Millisecond), back.Sub(startAt).Round(time.Millisecond), len(probes), slowest.Round(time.Millisecond))
	t.Logf("requests: %s", c.stats)

	for _, msg := range c.stats.unexpected {
		t.Error(msg)
	}
	if c.stats.maxLatency > 5*time.Second {
		t.Errorf("a request took %s: the server hung on the missing database", c.stats.maxLatency)
	}
	failed := 0
	for k, n := range c.stats.byStatus {
		if strings.HasSuffix(k, " 503") {
			failed += n
		}
	}
	if failed == 0 {
		t.Error("no request failed during the gap: the test did not hit it")
	}
	responses, drafts := verifyStore(t, db, secret, demo.CampaignID, c.touched())
	closed := verifyClosed(t, srv.base, c.touched())
	t.Logf("%d links touched, %d responses, %d drafts, %d closed links checked", len(c.touched()), responses, drafts, closed)
	if log := srv.log(); strings.Contains(log, `"panic"`) || strings.Contains(log, "panic:") {
		t.Errorf("the server log shows a panic:\n%s", srv.logTail(40))
	}
}
