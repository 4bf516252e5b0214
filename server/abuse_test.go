package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tiltline/survey"
)

// ---- A live server and the route table, shared with security_test.go -------

// liveServer serves the app through App.Serve, the production server with
// its limits (header size, timeouts), on a random local port.
func liveServer(t *testing.T, a *App) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// appRoute is one entry of the Echo route table.
type appRoute struct{ Method, Path string }

// routeTable lists the app's routes as Echo knows them, in a stable order.
// Group not-found handlers are listed with the method "ANY".
func routeTable(a *App) []appRoute {
	var out []appRoute
	seen := map[appRoute]bool{}
	for _, r := range a.echo.Routes() {
		ar := appRoute{r.Method, r.Path}
		if strings.HasPrefix(r.Method, "echo_route") {
			ar.Method = "ANY"
		}
		if !seen[ar] {
			seen[ar] = true
			out = append(out, ar)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

var routeParam = regexp.MustCompile(`:[a-z]+|\*`)

// fillPath puts values into a route pattern's parameters: value(name) for
// each ":name", and "*" for a trailing wildcard.
func fillPath(pattern string, value func(name string) string) string {
	return routeParam.ReplaceAllStringFunc(pattern, func(p string) string {
		return value(strings.TrimPrefix(p, ":"))
	})
}

// signInAt signs in over HTTP and returns the session cookie and the
// session's CSRF token (read from the admin or results page).
func signInAt(t *testing.T, base, email, password string) (cookie *http.Cookie, csrf string) {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.PostForm(base+"/login", url.Values{"email": {email}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for _, c := range res.Cookies() {
		if c.Name == sessionName {
			cookie = c
		}
	}
	if res.StatusCode != http.StatusSeeOther || cookie == nil {
		t.Fatalf("sign-in as %s: %d", email, res.StatusCode)
	}
	for _, page := range []string{"/admin/tokens", "/admin", "/learn/path", "/"} {
		req, _ := http.NewRequest(http.MethodGet, base+page, nil)
		req.AddCookie(cookie)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if m := csrfField.FindSubmatch(b); m != nil {
			return cookie, string(m[1])
		}
	}
	t.Fatalf("no CSRF token on any page for %s", email)
	return nil, ""
}

// ---- The abuse test ----------------------------------------------------------

// abuseRequest is one malformed request: either built by net/http (method,
// raw request-URI, headers, body), or raw bytes written to the socket.
type abuseRequest struct {
	what      string // for failure messages: route and kind of abuse
	method    string
	uri       string // request-URI as sent, not normalised
	header    http.Header
	body      []byte
	raw       []byte // when set, written to a fresh connection as is
	traversal bool   // a traversal attempt: the body must not be a system file
}

// TestAbuseEveryRoute sends more than 10,000 malformed requests to every
// route of the route table, through the production server, as an
// anonymous visitor, a signed-in admin, a manager and an API client: bad
// methods, huge headers, broken percent-encoding and UTF-8, path traversal,
// wrong content types, oversized bodies, garbage JSON and multipart, absurd
// query strings, and raw protocol garbage. None may get a 5xx, panic or log
// an error, no traversal may return a system file, and the health checks
// must pass afterwards.
func TestAbuseEveryRoute(t *testing.T) {
	if testing.Short() {
		t.Skip("abuse test is long")
	}
	logs := &syncBuffer{}
	a, demo := newFuzzApp(t, logs)
	base := liveServer(t, a)
	ctx := context.Background()

	adminCookie, adminCSRF := signInAt(t, base, demo.AdminEmail, demo.AdminPassword)
	managerCookie, _ := signInAt(t, base, demo.ManagerEmail, demo.ManagerPassword)

	// Values for route parameters: junk, valid-looking and real.
	realToken := strings.TrimPrefix(linkPath(demo.Links[1]), "/s/")
	key := survey.NewOpenToken()
	var cp survey.Campaign
	a.db.Read.First(&cp, demo.CampaignID)
	a.db.Write.Model(&survey.Campaign{}).Where("id = ?", cp.ID).Updates(map[string]any{"open_link": true, "open_key": key})
	var unit survey.BusinessUnit
	a.db.Read.Where("organisation_id = ?", cp.OrganisationID).First(&unit)
	var part survey.Participant
	a.db.Read.Where("campaign_id = ?", cp.ID).First(&part)
	css, _ := a.assets.URL("css/app.css")
	slug := a.models.Latest().Sections[0].Subsections[0].Slug
	junk := []string{
		"x", strings.Repeat("A", 43), "%zz", "%", "%c3%28", "%ff%fe%00", "..%2F..%2Fetc%2Fpasswd", "%2e%2e", "..",
		"-1", "0", "99999999999999999999", "1e3", "%20", strings.Repeat("%41", 1500), "\u202e\u0000", "'%20OR%201=1--",
	}
	realValues := map[string][]string{
		"token": {realToken, strings.Repeat("A", 42) + "_"},
		"key":   {key},
		"id":    {strconv.FormatInt(cp.ID, 10), strconv.FormatInt(unit.ID, 10), "1"},
		"pid":   {strconv.FormatInt(part.ID, 10)},
		"page":  {"1", "13", "14"},
		"slug":  {slug, "search"},
		"file":  {strings.TrimPrefix(css, "/static/"), "../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "....//....//etc/passwd", "..%5c..%5cetc%5cpasswd"},
		"*":     {"x/y/z", "../../../etc/passwd", "%2e%2e/%2e%2e/etc/passwd"},
	}
	values := func(name string) []string { return append(append([]string{}, realValues[name]...), junk...) }

	type identity struct {
		name   string
		header http.Header
		csrf   string
	}
	identities := []identity{
		{"anonymous", http.Header{}, ""},
		{"admin", http.Header{"Cookie": {adminCookie.String()}}, adminCSRF},
		{"manager", http.Header{"Cookie": {managerCookie.String()}}, ""},
		{"api", http.Header{"Authorization": {"Bearer " + demo.APIToken}}, ""},
	}

	bigJSON := bytes.Repeat([]byte(`{"practice":"AP-01","dimension":"intention","level":1},`), 21_000) // ~1.1 MB, above the 1 MB limit
	bodies := []struct {
		name, contentType string
		body              []byte
	}{
		{"garbage JSON", "application/json", []byte(`{"practice":[[[[{"a":` + strings.Repeat("[", 3000))},
		{"JSON with bad UTF-8", "application/json", []byte("{\"practice\":\"\xff\xfe\",\"level\":\"\xc3\x28\"}")},
		{"JSON null", "application/json; charset=utf-7", []byte("null")},
		{"garbage multipart", "multipart/form-data; boundary=xyz", []byte("--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../../x.csv\"\r\n\r\nemail\n\x00\xff\r\n--xyz")},
		{"multipart without boundary", "multipart/form-data", []byte("--\r\n\r\n")},
		{"multipart, huge part header", "multipart/form-data; boundary=b", []byte("--b\r\nContent-Disposition: form-data; name=\"" + strings.Repeat("n", 20_000) + "\"\r\n\r\nv\r\n--b--\r\n")},
		{"form with binary", "application/x-www-form-urlencoded", []byte("csrf=%zz&email=\xff\x00&password=" + strings.Repeat("p", 5000) + "&=&&==&unit=-1&role[]=x&file=@/etc/passwd")},
		{"XML", "text/xml", []byte(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>`)},
		{"no content type", "", []byte("email=a%40b.c&password=x")},
		{"bogus content type", "application/json\x00; boundary=\"", []byte("{}")},
	}
	queries := []string{
		"a=%zz&lang=%ff%fe",
		"lang=de&lang=xx&lang=" + strings.Repeat("d", 300),
		"unit=1&unit=2&role=%00&seniority=senior-manager&page=-1&per_page=1e9&version=-3&q=" + strings.Repeat("%E2%80%AE", 500),
		strings.Repeat("a=1&", 2000),
		"q=" + strings.Repeat("x", 6000) + "&next=//evil.example&next=javascript:alert(1)",
		"%%%;;;&&&===",
		"q=%22%27%3Cscript%3E%20OR%201%3D1%20--&q=*&q=%00",
	}
	hugeHeaders := []http.Header{
		{"Cookie": {strings.Repeat("a=b; ", 12_000)}},                          // ~60 KB, inside the 64 KiB limit
		{"Accept-Language": {strings.Repeat("de-DE-x-private;q=0.9,", 2_800)}}, // ~62 KB
		{"X-Filler": {strings.Repeat("x", 70_000)}},                            // above the limit: 431
		{"Cookie": {sessionName + "=" + strings.Repeat("Zm9v", 4_000) + "; lang=\xff; tl_open=" + strings.Repeat("A", 43)}},
		{"Authorization": {"Bearer " + strings.Repeat("tl_", 5_000)}},
		{"Content-Type": {"application/json"}, "X-Csrf-Token": {strings.Repeat("\u00e9", 1000)}, "Origin": {"null"}, "Sec-Fetch-Site": {"cross-site"}},
		{"X-Forwarded-For": {strings.Repeat("1.2.3.4, ", 3000)}, "X-Real-Ip": {"::ffff:999.1.1.1"}, "X-Forwarded-Proto": {"gopher"}},
		{"Accept-Encoding": {"gzip;q=" + strings.Repeat("9", 2000) + ", br, *;q=-1"}, "If-None-Match": {strings.Repeat(`"x",`, 3000)}, "Range": {"bytes=0-1,2-3,-9999999999999999999"}},
	}
	methods := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions, http.MethodTrace, "PROPFIND", "G3T"}

	var reqs []abuseRequest
	add := func(r abuseRequest) { reqs = append(reqs, r) }
	routes := routeTable(a)
	for ri, r := range routes {
		names := routeParam.FindAllString(r.Path, -1)
		// Each parameter takes each of its values at least once.
		n := 1
		for _, p := range names {
			n = max(n, len(values(strings.TrimPrefix(p, ":"))))
		}
		var paths []string
		for i := range n {
			paths = append(paths, fillPath(r.Path, func(name string) string {
				v := values(name)
				return v[(i+len(name))%len(v)]
			}))
		}
		method := r.Method
		if method == "ANY" {
			method = http.MethodGet
		}
		// Requests rotate through the filled paths and the identities, so
		// every value and identity meets every route without multiplying.
		turn := ri
		next := func() (string, identity) {
			turn++
			return paths[turn%len(paths)], identities[turn%len(identities)]
		}
		for pi, path := range paths {
			id := identities[(ri+pi)%len(identities)]
			what := fmt.Sprintf("%s %s as %s", method, path, id.name)
			traversal := strings.Contains(path, "passwd")
			h := id.header.Clone()
			add(abuseRequest{what: what, method: method, uri: path, header: h, traversal: traversal})
			q := queries[(ri+pi)%len(queries)]
			add(abuseRequest{what: what + " ?" + q[:min(len(q), 40)], method: method, uri: path + "?" + q, header: h, traversal: traversal})
			fid := identities[(ri+pi+1)%len(identities)]
			form := "csrf=" + url.QueryEscape(fid.csrf) + "&email=%ff&name=" + strings.Repeat("%00", 100)
			fh := fid.header.Clone()
			fh.Set("Content-Type", "application/x-www-form-urlencoded")
			add(abuseRequest{what: method + " " + path + " form as " + fid.name, method: method, uri: path, header: fh, body: []byte(form)})
		}
		for range 2 {
			for _, q := range queries {
				path, id := next()
				add(abuseRequest{what: method + " " + path + " as " + id.name + " ?" + q[:min(len(q), 40)], method: method, uri: path + "?" + q, header: id.header.Clone()})
			}
			for _, m := range methods {
				path, id := next()
				add(abuseRequest{what: m + " " + path + " as " + id.name, method: m, uri: path, header: id.header.Clone()})
			}
			for _, b := range bodies {
				path, id := next()
				h := id.header.Clone()
				if b.contentType != "" {
					h["Content-Type"] = []string{b.contentType}
				}
				if id.csrf != "" {
					h.Set("X-CSRF-Token", id.csrf)
				}
				add(abuseRequest{what: fmt.Sprintf("%s %s %s as %s", method, path, b.name, id.name), method: method, uri: path, header: h, body: b.body})
				if method != http.MethodGet {
					add(abuseRequest{what: fmt.Sprintf("PUT %s %s as %s", path, b.name, id.name), method: http.MethodPut, uri: path, header: h, body: b.body})
				}
			}
			for hi, hh := range hugeHeaders {
				path, id := next()
				h := id.header.Clone()
				for k, v := range hh {
					h[k] = v
				}
				add(abuseRequest{what: fmt.Sprintf("%s %s huge header %d as %s", method, path, hi, id.name), method: method, uri: path, header: h})
			}
		}
		path := paths[0]
		// An oversized body, once per route: above the 1 MB limit.
		ct := []string{"application/json", "multipart/form-data; boundary=zz"}[ri%2]
		h := identities[ri%len(identities)].header.Clone()
		h.Set("Content-Type", ct)
		add(abuseRequest{what: method + " " + path + " 1.1 MB " + ct, method: []string{http.MethodPost, http.MethodPut}[ri%2], uri: path, header: h, body: bigJSON})
		// Raw protocol garbage the net/http client refuses to send.
		for _, raw := range []string{
			"%s %s HTTP/1.1\r\nHost: x\r\nX-Bad: a\x00b\r\n\r\n",
			"%s %s HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n",
			"%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello",
			"%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
			"%s %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
			"%s %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
			"%s %s HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
			"%s %s HTTP/1.1\r\n\r\n",
			"%s %s HTTP/9.9\r\nHost: x\r\n\r\n",
			"%s %s\xff HTTP/1.1\r\nHost: x\r\n\r\n",
			"%s %s%%zz/\xc3\x28/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
			"%s  %s  HTTP/1.1\r\nHost: x\r\n\r\n",
			"%s %s HTTP/1.1\r\nHost: x\r\nCookie: " + sessionName + "=\xff\xfe\r\nAccept-Language: \x01\x02\r\n\r\n",
			"%s %s HTTP/1.0\r\n\r\n",
		} {
			add(abuseRequest{what: "raw " + method + " " + path + " " + strconv.Quote(raw[8:min(len(raw), 40)]), raw: fmt.Appendf(nil, raw, method, path)})
		}
	}
	// Traversal and encoding attacks on paths no route names.
	for _, p := range []string{
		"/static/../../etc/passwd", "/static/..%2F..%2Fetc%2Fpasswd", "/static/%2e%2e/%2e%2e/etc/passwd", "/static/%252e%252e%252fetc%252fpasswd",
		"/static/..%c0%af..%c0%afetc%c0%afpasswd", "/static/..\\..\\etc\\passwd", "/static//etc/passwd", "/static/.%2e/.%2e/etc/passwd",
		"/../../../etc/passwd", "//etc/passwd", "/learn/..%2f..%2f..%2fetc%2fpasswd", "/s/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
		"/static/%00", "/\xff\xfe", "/%", "/%zz", "/" + strings.Repeat("a/", 4000), "*", "http://evil.example/", "/static/app.css%00.js",
	} {
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodHead} {
			add(abuseRequest{what: m + " " + p, method: m, uri: p, header: http.Header{}, traversal: true})
		}
		add(abuseRequest{what: "raw GET " + p, raw: []byte("GET " + p + " HTTP/1.1\r\nHost: x\r\n\r\n"), traversal: true})
	}

	if len(reqs) < 10_000 {
		t.Fatalf("only %d requests generated, want at least 10,000", len(reqs))
	}

	transport := &http.Transport{MaxIdleConnsPerHost: 16, DisableCompression: true}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	host := strings.TrimPrefix(base, "http://")

	var (
		mu       sync.Mutex
		failures []string
		statuses = map[int]int{}
		sent     atomic.Int64
		slowest  atomic.Int64
		// slowestWhat names the slowest request, under mu.
		slowestWhat string
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(failures) < 30 {
			failures = append(failures, fmt.Sprintf(format, args...))
		}
	}
	check := func(r abuseRequest, status int, body []byte) {
		mu.Lock()
		statuses[status]++
		mu.Unlock()
		// net/http itself answers an unknown HTTP major version with 505,
		// the status HTTP defines for it, before the app sees anything.
		if status == http.StatusHTTPVersionNotSupported && bytes.Contains(r.raw, []byte("HTTP/9.9")) {
			return
		}
		if status >= 500 {
			fail("%d for %s: %.200s", status, r.what, body)
		}
		if r.traversal && (bytes.Contains(body, []byte("root:x:0:0")) || bytes.Contains(body, []byte("root:*:0:0"))) {
			fail("%s returned a system file", r.what)
		}
	}
	start := time.Now()
	work := make(chan abuseRequest)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range work {
				sent.Add(1)
				t0 := time.Now()
				func() {
					if r.raw != nil {
						status, body, err := sendRaw(host, r.raw)
						if err != nil {
							fail("%s: %v", r.what, err)
							return
						}
						if status != 0 {
							check(r, status, body)
						}
						return
					}
					req := &http.Request{Method: r.method, URL: &url.URL{Scheme: "http", Host: host, Opaque: r.uri}, Host: host,
						Header: r.header, Body: io.NopCloser(bytes.NewReader(r.body)), ContentLength: int64(len(r.body))}
					if len(r.body) == 0 {
						req.Body = nil
					}
					res, err := client.Do(req)
					if err != nil && (strings.Contains(err.Error(), "invalid header field") || strings.Contains(err.Error(), "control character")) {
						// net/http will not send it: write it to the socket as is.
						status, body, err := sendRaw(host, r.bytes(host))
						if err != nil {
							fail("%s: %v", r.what, err)
						} else if status != 0 {
							check(r, status, body)
						}
						return
					}
					if err != nil {
						// The server may close the connection on a request it
						// refuses outright (too large); that is not a 5xx.
						if !isConnReset(err) {
							fail("%s: %v", r.what, err)
						}
						return
					}
					b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
					res.Body.Close()
					check(r, res.StatusCode, b)
				}()
				if d := time.Since(t0); d > time.Duration(slowest.Load()) {
					slowest.Store(int64(d))
					mu.Lock()
					slowestWhat = r.what
					mu.Unlock()
				}
			}
		}()
	}
	for _, r := range reqs {
		work <- r
	}
	close(work)
	wg.Wait()
	t.Logf("%d malformed requests to %d routes in %v; statuses %v; slowest %v: %.80s", sent.Load(), len(routes),
		time.Since(start).Round(time.Millisecond), statuses, time.Duration(slowest.Load()).Round(time.Millisecond), slowestWhat)

	for _, p := range []string{"/healthz", "/readyz"} {
		res, err := http.Get(base + p)
		if err != nil || res.StatusCode != http.StatusOK {
			t.Errorf("%s after the abuse: %v %v", p, res, err)
		} else {
			res.Body.Close()
		}
	}
	if _, err := survey.CountResponses(ctx, a.db, cp.ID); err != nil {
		t.Errorf("database unusable after the abuse: %v", err)
	}
	// Every route of the table was reached, not only the not-found handler.
	for _, r := range routes {
		if !strings.Contains(logs.String(), `"route":"`+r.Path+`"`) {
			t.Errorf("no request reached %s %s", r.Method, r.Path)
		}
	}
	if line := panicOrError(logs.String()); line != "" {
		t.Errorf("logged: %.800s", line)
	}
	for _, f := range failures {
		t.Error(f)
	}
}

// bytes is the request as it goes on the wire.
func (r abuseRequest) bytes(host string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", r.method, r.uri, host)
	for k, vs := range r.header {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(r.body))
	b.Write(r.body)
	return b.Bytes()
}

// panicOrError returns the first log line that reports a panic or an error,
// or "". Request ids are random letters and may spell anything, so they are
// left out of the search.
func panicOrError(logs string) string {
	requestID := regexp.MustCompile(`"id":"[A-Za-z0-9]*"`)
	for _, line := range strings.Split(logs, "\n") {
		l := strings.ToLower(requestID.ReplaceAllString(line, ""))
		if strings.Contains(l, "panic") || strings.Contains(l, `"level":"error"`) {
			return line
		}
	}
	return ""
}

// sendRaw writes raw bytes as a request on a fresh connection and reads one
// response; status 0 when the server closed the connection without one.
func sendRaw(host string, raw []byte) (int, []byte, error) {
	conn, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		return 0, nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := conn.Write(raw); err != nil {
		return 0, nil, nil
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isConnReset(err) {
			return 0, nil, nil
		}
		return 0, nil, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return res.StatusCode, b, nil
}

func isConnReset(err error) bool {
	s := err.Error()
	return strings.Contains(s, "connection reset") || strings.Contains(s, "broken pipe") || strings.Contains(s, "EOF") ||
		strings.Contains(s, "server closed idle connection")
}
