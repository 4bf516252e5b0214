package server

import (
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

// slowSMTP is a mail server that accepts connections and then says nothing
// for a long time: the worst a request that talks SMTP could meet.
func slowSMTP(t *testing.T) (addr string, conns *atomic.Int64) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	conns = &atomic.Int64{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() { time.Sleep(3 * time.Second); c.Close() }()
		}
	}()
	return ln.Addr().String(), conns
}

// "Forgot password" only queues: the same status and page for a known and
// an unknown address, whether the mail server is down or slow, with no
// SMTP connection made while the request runs.
func TestForgotPasswordAnswersAlikeAndNeverTalksSMTP(t *testing.T) {
	slow, conns := slowSMTP(t)
	down, _ := net.Listen("tcp", "127.0.0.1:0")
	downAddr := down.Addr().String()
	down.Close() // nothing listens there: connections are refused
	for name, smtpAddr := range map[string]string{"slow": slow, "down": downAddr} {
		t.Run(name, func(t *testing.T) {
			a, _ := newMailApp(t, surveytest.SQLiteURL(t), "smtp://"+smtpAddr+"?tls=none&rate=0")
			if _, err := survey.CreateUserWithPassword(t.Context(), a.db, "known@example.com", "", survey.RolePlatformAdmin, nil, "old-password-123"); err != nil {
				t.Fatal(err)
			}
			f := newFlow(t, a, "")
			strip := regexp.MustCompile(`(known|ghost)@example\.com|value="[^"]*"`)
			var pages [2]string
			for round := range 2 { // 4 requests: within the per-address throttle
				for i, email := range []string{"known@example.com", "ghost@example.com"} {
					start := time.Now()
					code, page, _ := f.do(http.MethodPost, "/password/forgot", "application/x-www-form-urlencoded", url.Values{"email": {email}}.Encode())
					took := time.Since(start)
					if code != http.StatusOK {
						t.Fatalf("round %d, %s: status %d, want 200", round, email, code)
					}
					if took > time.Second {
						t.Errorf("round %d, %s: took %v: the request waits for the mail server", round, email, took)
					}
					pages[i] = strip.ReplaceAllString(page, "")
				}
				if pages[0] != pages[1] {
					t.Errorf("round %d: the page differs between a known and an unknown address", round)
				}
			}
			if n := conns.Load(); name == "slow" && n != 0 {
				t.Errorf("%d SMTP connections during the requests, want none", n)
			}
			var waiting int64
			a.db.Read.Raw("SELECT count(*) FROM outbox WHERE kind = ?", "password_reset").Scan(&waiting)
			if waiting != 2 {
				t.Errorf("%d password jobs waiting, want one per address (asking twice queues once)", waiting)
			}
		})
	}
}

// The worker sends the link to an account's owner and drops the job of an
// address without an account, sending nothing and keeping nothing.
func TestPasswordMailGoesOnlyToAccounts(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) { testPasswordMailGoesOnlyToAccounts(t, dialect) })
	}
}

func testPasswordMailGoesOnlyToAccounts(t *testing.T, dialect string) {
	sink := startSink(t)
	a, _ := newMailApp(t, surveytest.URL(t, dialect), sink.URL(""))
	ctx := t.Context()
	if _, err := survey.CreateUserWithPassword(ctx, a.db, "owner@example.com", "", survey.RolePlatformAdmin, nil, "old-password-123"); err != nil {
		t.Fatal(err)
	}
	f := newFlow(t, a, "")
	f.post("/password/forgot", url.Values{"email": {"nobody@example.com"}})
	f.post("/password/forgot", url.Values{"email": {"Owner@Example.com"}})
	startMailer(t, a, nil)
	mails := sink.Wait(1, 5*time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for {
		var left int64
		a.db.Read.Raw("SELECT count(*) FROM outbox").Scan(&left)
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d password jobs left in the outbox, want none", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if mails = sink.Mails(); len(mails) != 1 || len(mails[0].To) != 1 || mails[0].To[0] != "owner@example.com" {
		t.Fatalf("mails %+v, want one to the owner", mails)
	}
	link := regexp.MustCompile(`http://test(/password/[A-Za-z0-9_-]+)`).FindSubmatch(mails[0].Data)
	if link == nil {
		t.Fatal("no link in the mail")
	}
	if code, _ := f.post(string(link[1]), url.Values{"password": {"new-password-456"}, "confirm": {"new-password-456"}}); code != http.StatusSeeOther {
		t.Errorf("the mailed link does not work: %d", code)
	}
	if strings.Contains(string(mails[0].Data), "nobody@") {
		t.Error("the unknown address shows in the mail")
	}
}
