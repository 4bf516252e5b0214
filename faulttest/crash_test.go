package faulttest

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"
)

// TestKillDuringLoad is R1: the server is killed with SIGKILL — no chance to
// flush or finish anything — while 8 clients autosave and submit, three
// times in a row, on SQLite and on Postgres. After each restart:
//   - every acknowledged (2xx) answer is in the link's draft, or in its
//     response when it was submitted;
//   - every acknowledged submit is stored exactly once, its invitation
//     completed and its draft gone; no response exists twice or without a
//     submit (a submit cut off by the kill is either wholly there or wholly
//     absent, and sending it again stores nothing more);
//   - every submitted link stays closed: it shows the thank-you page and a
//     further autosave is refused with 409.
func TestKillDuringLoad(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			var db string
			if dialect == "postgres" {
				db = postgres(t).createDB(t)
			} else {
				db = "sqlite:" + t.TempDir() + "/tiltline.db"
			}
			killDuringLoad(t, db)
		})
	}
}

const (
	clients = 8
	kills   = 3
)

func killDuringLoad(t *testing.T, dbURL string) {
	slotsOnce(t)
	secret := newSecret()
	srv := newInstance(t, "server", dbURL, secret)
	demo := srv.demo(500)
	db := openDB(t, dbURL)
	c := &crowd{links: newLinks(t, demo.Links, slotsOf, uint64(time.Now().UnixNano())), stats: newStats()}
	// While the server runs every request succeeds; the kill shows as a
	// connection error, which ends the client until the next round.
	c.onError = func(status int, err error) bool { return false }
	// Any transport failure is the kill's (refused, reset, EOF, broken
	// pipe, a closed idle connection) — except a timeout: the server never
	// hangs.
	c.allowed = func(method string, status int, err error, _ string) bool {
		var ne net.Error
		return status == 0 && err != nil && !(errors.As(err, &ne) && ne.Timeout())
	}

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for round := 1; round <= kills; round++ {
		srv.start()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { c.run(ctx, clients); close(done) }()
		// Kill at a random moment once work is under way.
		time.Sleep(time.Duration(300+rng.IntN(600)) * time.Millisecond)
		srv.kill()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Fatal("clients did not stop within 15 s of the kill")
		}
		cancel()

		srv.start()
		responses, drafts := verifyStore(t, db, secret, demo.CampaignID, c.touched())
		closed := verifyClosed(t, srv.base, c.touched())
		t.Logf("kill %d: %d links touched, %d responses, %d drafts, %d closed links checked; requests so far: %s",
			round, len(c.touched()), responses, drafts, closed, c.stats)
		if t.Failed() {
			break
		}
		if round < kills {
			srv.kill() // the next round starts from a cold start too
		}
	}
	// The links cut off by the last kill are finished against the restarted
	// server: resent autosaves and submits must not duplicate anything.
	c.onError = func(int, error) bool { return false }
	c.allowed = func(string, int, error, string) bool { return false }
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	c.links = c.touched() // finish what was begun, start nothing new
	c.run(ctx, clients)
	cancel()
	verifyStore(t, db, secret, demo.CampaignID, c.touched())
	verifyClosed(t, srv.base, c.touched())
	for _, msg := range c.stats.unexpected {
		t.Error(msg)
	}
	if log := srv.log(); strings.Contains(log, `"panic"`) || strings.Contains(log, "panic:") {
		t.Errorf("the server log shows a panic:\n%s", srv.logTail(40))
	}
	if c.stats.acked < 100 {
		t.Errorf("only %d requests acknowledged over %d rounds: the test exercised too little", c.stats.acked, kills)
	}
}

// slotsOnce loads the model's slot map for the respondents.
func slotsOnce(t testing.TB) {
	if slotsOf == nil {
		slotsOf = loadSlots(t)
	}
}
