package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"
)

// cancelledGET serves a GET whose client has gone: its context is
// cancelled before the handler runs, as net/http does when the connection
// closes.
func cancelledGET(a *App, path string, header ...string) *httptest.ResponseRecorder {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest(http.MethodGet, path, nil).WithContext(ctx)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, req)
	return rec
}

// logLines decodes the JSON log lines in buf.
func logLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if line != "" && json.Unmarshal([]byte(line), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// A client that goes away mid-request is logged at info with status 499,
// not as an ERROR and a 500 (issue 13: every dropped connection paged
// someone as a server fault).
func TestClientDisconnectIsLoggedAtInfo(t *testing.T) {
	a, demo, logs := newTestApp(t)
	f := signedIn(t, a, demo.AdminEmail, demo.AdminPassword)
	for _, tc := range []struct {
		name, path string
		header     []string
	}{
		{"API", "/api/v1/campaigns", []string{"Authorization", "Bearer " + demo.APIToken}},
		{"API report", fmt.Sprintf("/api/v1/campaigns/%d/report", demo.CampaignID), []string{"Authorization", "Bearer " + demo.APIToken}},
		{"portal page", "/learn/winback", []string{"Cookie", cookieHeader(t, f)}},
		{"respondent page", linkPath(demo.Links[0]), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs.Reset()
			rec := cancelledGET(a, tc.path, tc.header...)
			if rec.Code == http.StatusInternalServerError {
				t.Errorf("GET %s with the client gone = 500", tc.path)
			}
			disconnected := false
			for _, l := range logLines(t, logs) {
				if l["level"] == "ERROR" || l["status"] == float64(500) {
					t.Errorf("logged as a server fault: %v", l)
				}
				if l["msg"] == "client disconnected" && l["level"] == "INFO" {
					disconnected = true
				}
				if l["msg"] == "request" && l["status"] != float64(statusClientClosed) {
					t.Errorf("request line %v, want status 499", l)
				}
			}
			if !disconnected {
				t.Errorf("no info line says the client disconnected:\n%s", logs)
			}
		})
	}
	// An error of our own with the client still there stays an ERROR 500.
	if !clientGoneIsNarrow(t) {
		t.Error("clientGone takes a live request's cancellation for a disconnect")
	}
}

// clientGoneIsNarrow: context.Canceled from inside the server, while the
// request's own context is live, is not the client leaving.
func clientGoneIsNarrow(t *testing.T) bool {
	t.Helper()
	e := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/", nil), httptest.NewRecorder())
	return !clientGone(e, context.Canceled) && !clientGone(e, context.DeadlineExceeded)
}

// No route logs a request whose client has gone as an ERROR: the rule is
// the one error handler's, and this keeps every route in the table to it.
func TestNoRouteLogsADisconnectAsAnError(t *testing.T) {
	fx := newSecFixture(t)
	admin := fx.signIn(t, fx.demo.AdminEmail, fx.demo.AdminPassword)
	token := strings.TrimPrefix(linkPath(fx.demo.Links[0]), "/s/")
	logs := &lockedBuffer{}
	fx.a.log = slog.New(slog.NewJSONHandler(logs, nil))
	checked := 0
	for _, r := range routeTable(fx.a) {
		if r.Method != http.MethodGet && r.Method != "ANY" {
			continue
		}
		path := fx.fill(t, r.Path, token)
		logs.reset()
		rec := cancelledGET(fx.a, path, "Cookie", admin.cookie.String(), "Authorization", "Bearer "+fx.demo.APIToken)
		if rec.Code == http.StatusInternalServerError {
			t.Errorf("GET %s with the client gone = 500", path)
		}
		if s := logs.String(); strings.Contains(s, `"level":"ERROR"`) {
			t.Errorf("GET %s with the client gone logged an error:\n%s", path, s)
		}
		checked++
	}
	if checked < 20 {
		t.Errorf("only %d GET routes checked", checked)
	}
}

// cookieHeader is a flow client's cookies as one Cookie header.
func cookieHeader(t *testing.T, f *flowClient) string {
	t.Helper()
	u, err := url.Parse(f.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, c := range f.http.Jar.Cookies(u) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *lockedBuffer) reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}
