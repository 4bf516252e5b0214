package faulttest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"tiltline/survey"
)

// The respondents: clients that work through demo links as the survey
// page's script does — open the link, start, autosave answers a few at a
// time, submit — and remember exactly what the server acknowledged. A
// request without an answer (the server died, or answered 503) leaves its
// values as "maybe stored"; the client sends it again until it is
// acknowledged, as the page's script does.

// slotValue is one answer in the packed form: slot index and value 1..6.
type slotValue struct {
	slot  int
	value byte
}

// answerSlots maps the model's (practice, dimension) pairs to slots.
type answerSlots struct {
	n       int
	answers []survey.Answer // by slot, Level unset
}

func loadSlots(t testing.TB) *answerSlots {
	t.Helper()
	c, err := survey.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	m := c.Latest()
	s := &answerSlots{n: m.AnswerSlots(), answers: make([]survey.Answer, m.AnswerSlots())}
	for _, p := range m.Practices() {
		for _, d := range survey.Dimensions {
			s.answers[m.Slot(p, d)] = survey.Answer{Practice: p.ID, Dimension: d}
		}
	}
	return s
}

// link is one respondent's link and what the server has acknowledged of it.
// Only the worker holding it touches it, so it needs no lock.
type link struct {
	idx   int // its position in the demo's output: errors name links by it, never by token
	url   string
	token string

	csrf      string
	started   bool           // POST start acknowledged
	acked     map[int]byte   // slot → last acknowledged value
	maybe     map[int][]byte // slot → values sent since, without an answer
	plan      [][]slotValue  // autosaves still to send, in order
	submitted bool           // POST submit acknowledged (or found stored)
	tried     bool           // a submit was sent
}

func newLinks(t testing.TB, urls []string, slots *answerSlots, seed uint64) []*link {
	var out []*link
	for i, u := range urls {
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		l := &link{idx: i, url: u, token: strings.TrimPrefix(pu.Path, "/s/"), acked: map[int]byte{}, maybe: map[int][]byte{}}
		// 8 to 19 autosaves of 1 to 4 answers; slots drawn at random, so
		// some are answered twice.
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		for range 8 + rng.IntN(12) {
			var req []slotValue
			for range 1 + rng.IntN(4) {
				req = append(req, slotValue{slot: rng.IntN(slots.n), value: byte(1 + rng.IntN(6))})
			}
			l.plan = append(l.plan, req)
		}
		out = append(out, l)
	}
	return out
}

// stats counts what the clients saw, for the checks and the log.
type stats struct {
	mu         sync.Mutex
	byStatus   map[string]int // "PUT 204", "PUT 503", "POST error", …
	unexpected []string       // statuses a phase does not allow
	maxLatency time.Duration
	acked      int64 // acknowledged requests
}

func newStats() *stats { return &stats{byStatus: map[string]int{}} }

func (s *stats) record(key string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byStatus[key]++
	s.maxLatency = max(s.maxLatency, d)
}

func (s *stats) fail(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.unexpected) < 20 {
		s.unexpected = append(s.unexpected, msg)
	}
}

func (s *stats) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.byStatus))
	for k := range s.byStatus {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s ×%d, ", k, s.byStatus[k])
	}
	fmt.Fprintf(&b, "max latency %s", s.maxLatency.Round(time.Millisecond))
	return b.String()
}

// crowd is a set of workers sharing a pool of links.
type crowd struct {
	links  []*link
	next   atomic.Int64 // next untouched link
	mu     sync.Mutex
	resume []*link // links a stopped worker left half done
	stats  *stats
	// onError decides what a worker does after a failed request: true goes
	// on (after a pause), false ends the worker.
	onError func(status int, err error) bool
	// allowed says whether a failure's status is acceptable in this phase.
	allowed func(method string, status int, err error, contentType string) bool
}

// take gives a worker a link: a half-done one first.
func (c *crowd) take() *link {
	c.mu.Lock()
	if n := len(c.resume); n > 0 {
		l := c.resume[n-1]
		c.resume = c.resume[:n-1]
		c.mu.Unlock()
		return l
	}
	c.mu.Unlock()
	if k := int(c.next.Add(1) - 1); k < len(c.links) {
		return c.links[k]
	}
	return nil
}

func (c *crowd) giveBack(l *link) {
	c.mu.Lock()
	c.resume = append(c.resume, l)
	c.mu.Unlock()
}

// touched are the links any worker has worked on.
func (c *crowd) touched() []*link {
	return c.links[:min(int(c.next.Load()), len(c.links))]
}

// run drives n workers until ctx ends (each finishes its request in
// flight) or onError stops them all.
func (c *crowd) run(ctx context.Context, n int) {
	client := &http.Client{
		Timeout:       10 * time.Second,
		Transport:     &http.Transport{MaxIdleConnsPerHost: n, DialContext: (&net.Dialer{Timeout: 2 * time.Second}).DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	defer client.CloseIdleConnections()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			var l *link
			defer func() {
				if l != nil {
					c.giveBack(l)
				}
			}()
			for ctx.Err() == nil {
				if l == nil {
					if l = c.take(); l == nil {
						return
					}
				}
				done, status, err := c.step(client, l)
				if err != nil || status != 0 {
					if !c.onError(status, err) {
						return
					}
					time.Sleep(50 * time.Millisecond) // the page's script backs off too
					continue
				}
				if done {
					l = nil
				}
			}
		})
	}
	wg.Wait()
}

var csrfInput = regexp.MustCompile(`<input type="hidden" name="csrf" value="([^"]+)">`)

// step sends a link's next request. It returns done when the link is
// submitted; a non-zero status or an error when the request was not
// acknowledged.
func (c *crowd) step(client *http.Client, l *link) (done bool, failStatus int, err error) {
	var (
		method, target, ctype string
		body                  []byte
		want                  int
		sent                  []slotValue
	)
	switch {
	case l.csrf == "":
		method, target, want = http.MethodGet, l.url, http.StatusOK
	case !l.started:
		method, target, want = http.MethodPost, l.url+"/start", http.StatusSeeOther
		ctype, body = "application/x-www-form-urlencoded", []byte(url.Values{"csrf": {l.csrf}}.Encode())
	case len(l.plan) > 0:
		sent = l.plan[0]
		answers := make([]survey.Answer, len(sent))
		for i, sv := range sent {
			answers[i] = slotsOf.answers[sv.slot]
			answers[i].Level = survey.AnswerValue(sv.value)
		}
		body, _ = json.Marshal(answers)
		method, target, want, ctype = http.MethodPut, l.url+"/answers", http.StatusNoContent, "application/json"
	default:
		method, target, want = http.MethodPost, l.url+"/submit", http.StatusSeeOther
		ctype, body = "application/x-www-form-urlencoded", []byte(url.Values{"csrf": {l.csrf}}.Encode())
		l.tried = true
	}
	req, _ := http.NewRequest(method, target, bytes.NewReader(body))
	req.Header.Set("Accept-Language", "en")
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if method == http.MethodPut {
		req.Header.Set("X-CSRF-Token", l.csrf)
	}
	t0 := time.Now()
	res, err := client.Do(req)
	d := time.Since(t0)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL carries the token: keep it out of messages
		}
		c.stats.record(method+" error", d)
		c.noAnswer(l, sent)
		if !c.allowed(method, 0, err, "") {
			c.stats.fail(fmt.Sprintf("%s on link %d: %v after %s", method, l.idx, err, d.Round(time.Millisecond)))
		}
		return false, 0, err
	}
	page, rerr := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	res.Body.Close()
	c.stats.record(fmt.Sprintf("%s %d", method, res.StatusCode), d)
	if res.StatusCode != want || rerr != nil {
		c.noAnswer(l, sent)
		if !c.allowed(method, res.StatusCode, rerr, res.Header.Get("Content-Type")) {
			c.stats.fail(fmt.Sprintf("%s on link %d: status %d (%s) after %s: %.200s", method, l.idx, res.StatusCode,
				res.Header.Get("Content-Type"), d.Round(time.Millisecond), page))
		}
		return false, res.StatusCode, rerr
	}
	atomic.AddInt64(&c.stats.acked, 1)
	switch {
	case l.csrf == "":
		m := csrfInput.FindSubmatch(page)
		if m == nil {
			c.stats.fail(fmt.Sprintf("link %d: no csrf field on the welcome page", l.idx))
			return false, res.StatusCode, errors.New("no csrf")
		}
		l.csrf = string(m[1])
	case !l.started:
		l.started = true
	case sent != nil:
		for _, sv := range sent {
			l.acked[sv.slot] = sv.value
			delete(l.maybe, sv.slot)
		}
		l.plan = l.plan[1:]
	default:
		l.submitted = true
		return true, 0, nil
	}
	return false, 0, nil
}

// noAnswer records the values of an unacknowledged autosave as maybe stored.
func (c *crowd) noAnswer(l *link, sent []slotValue) {
	for _, sv := range sent {
		l.maybe[sv.slot] = append(l.maybe[sv.slot], sv.value)
	}
}

// slotsOf is the model's slot map, loaded once.
var slotsOf *answerSlots

// consistent says whether stored answers can be the link's: every slot
// holds its last acknowledged value (0 when none), or a value sent after it
// without an answer.
func (l *link) consistent(stored []byte) bool {
	if len(stored) != slotsOf.n {
		return false
	}
	for slot, got := range stored {
		if got == l.acked[slot] || slices.Contains(l.maybe[slot], got) {
			continue
		}
		return false
	}
	return true
}

// verifyStore checks the database against every link the clients touched:
// an acknowledged answer is in the draft or the response (released or
// still pending); an acknowledged submit is stored exactly once and closed
// the invitation; no response exists twice or without a submit. Links whose submit was sent without an
// answer and did commit are marked submitted. It returns the number of
// responses and drafts checked.
func verifyStore(t testing.TB, db *survey.DB, secret string, campaignID int64, links []*link) (responses, drafts int) {
	t.Helper()
	ctx := context.Background()
	var rows []struct {
		ID      string
		Answers []byte
	}
	// Submitted responses are released, or wait sealed for a release: read
	// both in one snapshot, as the server's publisher may move some between.
	err := db.Read.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Raw(`SELECT id, answers FROM responses WHERE campaign_id = ?`, campaignID).Scan(&rows).Error; err != nil {
			return err
		}
		pending, err := survey.LoadPending(tx, []byte(secret), campaignID)
		for _, p := range pending {
			rows = append(rows, struct {
				ID      string
				Answers []byte
			}{p.ID, p.Answers})
		}
		return err
	}, db.Snapshot())
	if err != nil {
		t.Fatalf("read responses: %v", err)
	}
	matched := map[string]int{} // response id → links it fits
	completed := 0
	for _, l := range links {
		var inv []struct{ Status string }
		if err := db.Read.WithContext(ctx).Raw(`SELECT status FROM invitations WHERE token_hash = ?`, survey.HashToken(l.token)).Scan(&inv).Error; err != nil || len(inv) != 1 {
			t.Fatalf("read invitation of link %d: %v (%d rows)", l.idx, err, len(inv))
		}
		status := inv[0].Status
		var ds []struct{ Answers []byte }
		if err := db.Read.WithContext(ctx).Raw(`SELECT answers FROM drafts WHERE key = ?`, survey.DraftKey([]byte(secret), l.token)).Scan(&ds).Error; err != nil {
			t.Fatalf("read draft of link %d: %v", l.idx, err)
		}
		n := len(ds)
		var draft []byte
		if n == 1 {
			draft = ds[0].Answers
		}

		if status == survey.InviteCompleted {
			completed++
			if !l.submitted && !l.tried {
				t.Errorf("link %d: invitation completed, but the client never submitted", l.idx)
			}
			l.submitted = true // an unanswered submit that committed
			if n != 0 {
				t.Errorf("link %d: submitted, but its draft still exists", l.idx)
			}
			fits := 0
			for _, r := range rows {
				if l.consistent(r.Answers) {
					fits++
					matched[r.ID]++
				}
			}
			if fits != 1 {
				t.Errorf("link %d: submitted; %d responses hold its acknowledged answers, want exactly 1", l.idx, fits)
			}
			continue
		}
		if l.submitted {
			t.Errorf("link %d: submit acknowledged, but the invitation is %q", l.idx, status)
		}
		switch {
		case n == 1:
			drafts++
			if !l.consistent(draft) {
				t.Errorf("link %d: the draft lacks acknowledged answers (%d acknowledged slots, %d unanswered sends)", l.idx, len(l.acked), len(l.maybe))
			}
		case l.started:
			t.Errorf("link %d: start acknowledged, but no draft and no response", l.idx)
		}
	}
	for _, r := range rows {
		if matched[r.ID] != 1 {
			t.Errorf("response %s fits %d submitted links, want 1", r.ID, matched[r.ID])
		}
	}
	if len(rows) != completed {
		t.Errorf("%d responses in the campaign, %d completed invitations", len(rows), completed)
	}
	return len(rows), drafts
}

// verifyClosed checks through HTTP that submitted links stay closed: the
// link shows the thank-you page and an autosave is refused.
func verifyClosed(t testing.TB, base string, links []*link) int {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer client.CloseIdleConnections()
	n := 0
	for _, l := range links {
		if !l.submitted {
			continue
		}
		n++
		req, _ := http.NewRequest(http.MethodGet, l.url, nil)
		req.Header.Set("Accept-Language", "en")
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET submitted link %d: %v", l.idx, errors.Unwrap(err))
		}
		page, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !bytes.Contains(page, []byte("Already submitted")) {
			t.Errorf("GET submitted link %d: status %d, thank-you page %v", l.idx, res.StatusCode, bytes.Contains(page, []byte("Already submitted")))
		}
		req, _ = http.NewRequest(http.MethodPut, l.url+"/answers", strings.NewReader(`{"practice":"`+slotsOf.answers[0].Practice+`","dimension":"intention","level":1}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", l.csrf)
		res, err = client.Do(req)
		if err != nil {
			t.Fatalf("PUT submitted link %d: %v", l.idx, errors.Unwrap(err))
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusConflict {
			t.Errorf("PUT on submitted link %d: status %d, want 409", l.idx, res.StatusCode)
		}
	}
	return n
}
