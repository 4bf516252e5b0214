package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"tiltline/internal/smtpsink"
)

// P6 is an invitation wave through the API: import a participant list into
// the demo's open campaign (POST /api/v1/campaigns/{id}/participants), queue
// its invitations (POST …/invitations), then wait until the server's mail
// worker has handed every invitation to the SMTP sink in this process. Two
// rows: the import and queueing as one wall time (target < 2 s for 10,000),
// and the delivery rate from the queue call's answer until the last mail
// (target ≥ 300 mails/s).
//
// The demo's participants already have their invitations sent, so exactly
// one mail per imported row is expected; a missing, repeated or unexpected
// mail is an error.

// p6SMTP is the mailer's setting for P6 (TILTLINE_SMTP_URL query, see
// parseSMTPURL in server/mail.go): no rate limit — the sink takes whatever
// comes — and p6Conns SMTP connections in parallel.
const (
	p6Conns = 4
	p6SMTP  = "rate=0&conns=4"
)

// p6Stall ends the wait for mail when none has arrived for this long.
const p6Stall = 30 * time.Second

// p6Units are units of the demo organisation (survey.CreateDemo).
var p6Units = []string{"Retail Banking", "Business Banking", "Customer Service", "Marketing", "IT and Operations", "Risk and Compliance"}

var p6Locales = []string{"en", "de", "fr"}

// participantCSV is a participant file of n rows (email;unit;locale) and
// its set of addresses.
func participantCSV(n int) ([]byte, map[string]bool) {
	var b bytes.Buffer
	b.Grow(24 + n*48)
	b.WriteString("email;unit;locale\n")
	emails := make(map[string]bool, n)
	for i := range n {
		email := fmt.Sprintf("p6.%05d@bench.example", i+1)
		emails[email] = true
		fmt.Fprintf(&b, "%s;%s;%s\n", email, p6Units[i%len(p6Units)], p6Locales[i%len(p6Locales)])
	}
	return b.Bytes(), emails
}

// sizeLabel is 10k for 10,000, else the number.
func sizeLabel(n int) string {
	if n >= 1000 && n%1000 == 0 {
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

// apiPost sends an API request as the demo's org admin and decodes the JSON
// answer into out. An unexpected status is an error quoting the server's
// answer (API errors name no token and no address).
func (g *generator) apiPost(ctx context.Context, route, path, contentType string, body []byte, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.srv.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+g.srv.adminToken)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := g.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("%s: %w", route, err)
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	res.Body.Close()
	if err != nil {
		return fmt.Errorf("%s: read body: %w", route, err)
	}
	if res.StatusCode != want {
		msg := strings.TrimSpace(string(b))
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		return fmt.Errorf("%s: status %d, want %d: %s", route, res.StatusCode, want, msg)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s: %w", route, err)
	}
	return nil
}

// fail counts an error of a one-off measurement.
func (r *result) fail(msg string, n int) {
	r.errors += int64(n)
	r.errMsgs[msg] += n
}

// mailWave runs P6 with a list of rows participants; the server sends its
// mail to sink.
func (g *generator) mailWave(ctx context.Context, sink *smtpsink.Sink, rows int, logf func(string, ...any)) []*result {
	label := sizeLabel(rows)
	imp := &result{name: "P6 import+queue " + label, unit: "row", conc: 1, errMsgs: map[string]int{}}
	body, emails := participantCSV(rows)
	sink.Expect(emails)
	before := sink.Count()
	campaign := fmt.Sprintf("/api/v1/campaigns/%d", g.srv.campaignID)

	cpu := g.markCPU()
	t0 := time.Now()
	var imported struct {
		Added    int `json:"added"`
		Skipped  int `json:"skipped"`
		Problems []struct {
			Line int    `json:"line"`
			Code string `json:"code"`
		} `json:"problems"`
	}
	err := g.apiPost(ctx, "POST /api/v1/campaigns/:id/participants", campaign+"/participants", "text/csv; charset=utf-8", body, http.StatusOK, &imported)
	importTook := time.Since(t0)
	if err == nil && (imported.Added != rows || len(imported.Problems) > 0) {
		err = fmt.Errorf("import added %d of %d rows (%d skipped, %d problems)", imported.Added, rows, imported.Skipped, len(imported.Problems))
		if len(imported.Problems) > 0 {
			err = fmt.Errorf("%w; first: line %d %s", err, imported.Problems[0].Line, imported.Problems[0].Code)
		}
	}
	var queued struct {
		Queued int `json:"queued"`
	}
	if err == nil {
		err = g.apiPost(ctx, "POST /api/v1/campaigns/:id/invitations", campaign+"/invitations", "", nil, http.StatusAccepted, &queued)
		if err == nil && queued.Queued != rows {
			err = fmt.Errorf("queued %d invitations, want %d", queued.Queued, rows)
		}
	}
	queuedAt := time.Now()
	wall := queuedAt.Sub(t0)
	imp.elapsed = wall
	cpu.measure(imp, wall)
	if err != nil {
		if ctx.Err() == nil {
			imp.fail(err.Error(), 1)
		}
		return []*result{imp}
	}
	imp.count, imp.lat = int64(rows), []time.Duration{wall}
	imp.notes = append(imp.notes, fmt.Sprintf("%.0f ms for %d rows (target < 2 s): import %.0f ms, queue %.0f ms; p50 and p99 in the row are this wall time",
		ms(wall), rows, ms(importTook), ms(wall-importTook)))
	logf("%s: imported and queued in %s; waiting for %d mails", imp.name, wall.Round(time.Millisecond), rows)

	// Delivery: poll the sink (arrival times are its own, so polling does not
	// blur them) until every address has had its mail or none came for
	// p6Stall.
	del := &result{name: "P6 delivery " + label, unit: "mail", conc: p6Conns, errMsgs: map[string]int{}}
	cpu = g.markCPU()
	last, lastAt := 0, time.Now()
	stalled := false
	for ctx.Err() == nil && !g.srv.exited() {
		n := sink.Received()
		if n >= rows {
			break
		}
		if n > last {
			last, lastAt = n, time.Now()
		} else if time.Since(lastAt) > p6Stall {
			stalled = true
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
	cpu.measure(del, time.Since(queuedAt))
	// A little longer, for a mail sent twice to show.
	select {
	case <-ctx.Done():
	case <-time.After(500 * time.Millisecond):
	}

	arrivals, perRcpt, sessions, size := sink.Snapshot()
	arrivals = arrivals[before:]
	seen := make(map[string]bool, rows)
	var mails int
	for _, a := range arrivals {
		mails++
		if len(a.To) != 1 {
			del.fail(fmt.Sprintf("a mail with %d recipients, want 1", len(a.To)), 1)
		}
		for _, to := range a.To {
			switch {
			case !emails[to]:
				del.fail("mail to an address not in the imported list", 1)
			case seen[to]:
			default:
				seen[to] = true
				del.lat = append(del.lat, max(0, a.At.Sub(queuedAt)))
			}
		}
	}
	del.count = int64(len(seen))
	slices.Sort(del.lat)
	if del.count > 0 {
		del.elapsed = del.lat[len(del.lat)-1]
	}
	dups, extra := 0, 0
	for to := range emails {
		if n := perRcpt[to]; n > 1 {
			dups++
			extra += n - 1
		}
	}
	if extra > 0 {
		del.fail(fmt.Sprintf("%d addresses got more than one mail", dups), extra)
	}
	if missing := rows - len(seen); missing > 0 && ctx.Err() == nil {
		why := "the server exited"
		if stalled {
			why = fmt.Sprintf("no mail for %s", p6Stall)
		}
		del.fail(fmt.Sprintf("%d of %d mails never arrived (%s)", missing, rows, why), missing)
	}
	if del.count > 0 {
		del.notes = append(del.notes, fmt.Sprintf("%d mails in %.2f s after the queue call: %.0f mails/s (target ≥ 300/s); first after %.0f ms; p50 and p99 in the row are when half and 99 %% had arrived",
			del.count, del.elapsed.Seconds(), del.rate(), ms(del.lat[0])))
	}
	if before > 0 {
		del.notes = append(del.notes, fmt.Sprintf("%d mails had arrived before the import; not counted", before))
	}
	if mails > 0 {
		del.notes = append(del.notes, fmt.Sprintf("TILTLINE_SMTP_URL …?tls=none&%s: %d SMTP connections over the run, %.1f KB per mail",
			p6SMTP, sessions, float64(size)/float64(mails)/1024))
	}
	return []*result{imp, del}
}
