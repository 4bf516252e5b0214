package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/labstack/echo/v4"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

// Browser tests drive a real Chromium against a real server listening on a
// loopback port. Chromium is required under CI=true and skipped locally when
// it is missing (see surveytest.Chromium).

// browserStep limits one browser step (a navigation, a click, a read). The
// first action, which starts Chromium, has no limit: a timeout there would
// stop the browser itself when it ends.
const browserStep = 15 * time.Second

// testServer is the whole application serving HTTP on 127.0.0.1, with demo
// data, stopped and closed at the end of the test. It can be stopped and
// started again on the same database, secret and address, as a redeploy
// would do.
type testServer struct {
	URL  string // base URL, no trailing slash
	App  *App   // the running App; replaced by start
	Demo *survey.DemoResult

	t    *testing.T
	cfg  *Config
	stop func() // stops serving and closes App; nil while stopped

	mu       sync.Mutex
	requests []seenRequest
}

// seenRequest is what the harness remembers of each request the server got.
type seenRequest struct {
	Method, Path   string
	AcceptLanguage string
}

// startTestServer builds the real App on a fresh SQLite file, creates a demo
// with the given number of responses and three open links, and serves it
// until the test ends. No mail is sent.
func startTestServer(t *testing.T, responses int) *testServer {
	t.Helper()
	return startTestServerWith(t, testServerOptions{Responses: responses})
}

// testServerOptions tune startTestServerWith.
type testServerOptions struct {
	Responses int    // synthetic demo responses
	SMTPURL   string // when set, the mail worker runs and sends there (e.g. startSink's URL)
}

// startTestServerWith is startTestServer with options.
func startTestServerWith(t *testing.T, opt testServerOptions) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{t: t, cfg: &Config{
		DB:           surveytest.SQLiteURL(t),
		DataDir:      t.TempDir(),
		Addr:         ln.Addr().String(),
		BaseURL:      "http://" + ln.Addr().String(),
		KMin:         5,
		PublicPortal: true,
		Secret:       []byte("browser-test-secret-browser-test-secret"),
		SMTPURL:      opt.SMTPURL,
		MailFrom:     "Tiltline <no-reply@tiltline.test>",
	}}
	ts.URL = ts.cfg.BaseURL
	t.Cleanup(ts.Stop)
	ts.serve(ln, func(ctx context.Context, app *App) error {
		demo, err := survey.CreateDemo(ctx, app.db, app.models.Latest(), survey.DemoOptions{
			Responses: opt.Responses, Links: 3, BaseURL: ts.cfg.BaseURL, Secret: ts.cfg.Secret})
		ts.Demo = demo
		return err
	})
	return ts
}

// Start serves a new App on the same database file, secret and address as
// before Stop. Open pages keep working against it: same links, same port.
func (ts *testServer) Start() {
	ts.t.Helper()
	if ts.stop != nil {
		ts.t.Fatal("test server already running")
	}
	ln, err := net.Listen("tcp", ts.cfg.Addr)
	if err != nil {
		ts.t.Fatalf("listen again on %s: %v", ts.cfg.Addr, err)
	}
	ts.serve(ln, nil)
}

// Stop drains the server and closes the App and its database. Requests then
// fail as with a server that is down: the connection is refused. Stopping a
// stopped server does nothing.
func (ts *testServer) Stop() {
	if ts.stop != nil {
		ts.stop()
		ts.stop = nil
	}
}

// serve builds an App from ts.cfg, runs setup (if any) and serves on ln.
func (ts *testServer) serve(ln net.Listener, setup func(context.Context, *App) error) {
	t := ts.t
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	// Warnings and errors only, shown with the test's output; the request
	// log of every page and asset would drown the -v output.
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	app, err := New(ctx, ts.cfg, log)
	if err != nil {
		ln.Close()
		cancel()
		t.Fatal(err)
	}
	if setup != nil {
		if err := setup(ctx, app); err != nil {
			ln.Close()
			app.Close()
			cancel()
			t.Fatal(err)
		}
	}
	ts.App = app
	// Registered before Serve starts: Echo applies Pre middleware per request.
	app.echo.Pre(ts.record)

	// With an SMTP server configured, the mail worker runs as in `serve`,
	// polling often; scheduled reminders are left alone.
	stopMail := func() {}
	if ts.cfg.SMTPURL != "" {
		app.mail.opts.Poll, app.mail.opts.Schedule = 50*time.Millisecond, time.Hour
		stopMail = app.mail.start(ctx)
	}

	conns := &connTracker{Listener: ln}
	served := make(chan error, 1)
	go func() { served <- app.Serve(ctx, conns) }()
	ts.stop = func() {
		cancel()
		for {
			select {
			case err := <-served:
				if err != nil {
					t.Errorf("serve: %v", err)
				}
				stopMail() // before Close: the worker uses the database
				if err := app.Close(); err != nil {
					t.Errorf("close app: %v", err)
				}
				return
			case <-time.After(20 * time.Millisecond):
				conns.closeUnused()
			}
		}
	}
}

// connTracker is a listener that can close the connections on which no byte
// has arrived yet. Chromium opens spare connections ahead of need, and
// http.Server.Shutdown waits five seconds before it counts such a connection
// as idle; closing them lets a graceful stop take milliseconds. Connections
// that carried a request are left to Shutdown.
type connTracker struct {
	net.Listener
	mu    sync.Mutex
	conns []*trackedConn
}

type trackedConn struct {
	net.Conn
	used atomic.Bool
}

func (c *trackedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.used.Store(true)
	}
	return n, err
}

func (l *connTracker) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c}
	l.mu.Lock()
	l.conns = append(l.conns, tc)
	l.mu.Unlock()
	return tc, nil
}

func (l *connTracker) closeUnused() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		if !c.used.Load() {
			c.Close()
		}
	}
}

func (ts *testServer) record(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		ts.mu.Lock()
		ts.requests = append(ts.requests, seenRequest{Method: r.Method, Path: r.URL.Path, AcceptLanguage: r.Header.Get("Accept-Language")})
		ts.mu.Unlock()
		return next(c)
	}
}

// lastRequest returns the latest request the server got for path.
func (ts *testServer) lastRequest(t *testing.T, path string) seenRequest {
	t.Helper()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for i := len(ts.requests) - 1; i >= 0; i-- {
		if ts.requests[i].Path == path {
			return ts.requests[i]
		}
	}
	t.Fatalf("the server got no request for %s", path)
	return seenRequest{}
}

// newBrowser starts a headless Chromium whose language, and Accept-Language,
// is lang. Each call gets a fresh profile: no cookies carry over between
// browsers. The browser is closed when the test ends.
func newBrowser(t *testing.T, lang string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(surveytest.Chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		// --lang sets the UI locale only; headless Chromium still sends
		// "en-US,en;q=0.9" unless --accept-lang sets the header too.
		chromedp.Flag("lang", lang),
		chromedp.Flag("accept-lang", lang),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() {
		// Close the browser gracefully, then make sure its process is gone.
		cctx, cancel := context.WithTimeout(ctx, browserStep)
		defer cancel()
		if err := chromedp.Cancel(cctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("close chromium: %v", err)
		}
		cancelBrowser()
		cancelAlloc() // waits for the process to exit
	})
	// The first action starts the browser and binds its life to ctx: no
	// timeout here.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// do runs browser actions within one step's time limit and fails the test on
// an error.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, browserStep)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// read runs one browser action that returns a value, within one step's time
// limit, and fails the test on an error.
func read[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, browserStep)
	defer cancel()
	v, err := chromedp.Run(sctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// open navigates to url and returns the HTTP status of the document.
func open(t *testing.T, ctx context.Context, url string) int {
	t.Helper()
	res := read(t, ctx, chromedp.NavigateResponse(url))
	return int(res.Status)
}

// follow runs actions that cause a navigation, such as a click on a link,
// waits for the new page to load and returns its HTTP status.
func follow(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) int {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, browserStep)
	defer cancel()
	res, err := chromedp.RunResponse(sctx, steps...)
	if err != nil {
		t.Fatal(err)
	}
	return int(res.Status)
}

// visibleText returns the rendered text of the first element matching css,
// once it is visible.
func visibleText(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	return strings.TrimSpace(read(t, ctx, chromedp.Text(chromedp.CSS(css), chromedp.NodeVisible)))
}

// pageLang returns the lang attribute of the html element.
func pageLang(t *testing.T, ctx context.Context) string {
	t.Helper()
	attr := read(t, ctx, chromedp.AttributeValue(chromedp.CSS("html"), "lang"))
	if !attr.Exists {
		t.Fatal("html has no lang attribute")
	}
	return attr.Value
}

// pathOf returns the path of an absolute URL of the test server.
func (ts *testServer) pathOf(t *testing.T, url string) string {
	t.Helper()
	p, ok := strings.CutPrefix(url, ts.URL)
	if !ok {
		t.Fatalf("%s is not on the test server %s", url, ts.URL)
	}
	return p
}

func TestBrowserOpensDemoLinkInBrowserLanguage(t *testing.T) {
	ts := startTestServer(t, 5)
	for i, tc := range []struct{ lang, welcome, heading string }{
		{"de", "Willkommen", "Bereich 1 von 13"},
		{"en", "Welcome", "Section 1 of 13"},
	} {
		link := ts.Demo.Links[i] // a fresh link each: an opened one resumes past the welcome page
		t.Run(tc.lang, func(t *testing.T) {
			ctx := newBrowser(t, tc.lang)
			if status := open(t, ctx, link); status != http.StatusOK {
				t.Fatalf("status %d", status)
			}
			if got := ts.lastRequest(t, ts.pathOf(t, link)).AcceptLanguage; !strings.HasPrefix(got, tc.lang) {
				t.Errorf("server got Accept-Language %q, want it to start with %q", got, tc.lang)
			}
			if h1 := visibleText(t, ctx, "h1"); !strings.Contains(h1, tc.welcome) {
				t.Errorf("welcome h1 = %q, want it to contain %q", h1, tc.welcome)
			}
			if status := follow(t, ctx, chromedp.Click(chromedp.CSS(`form.profile button[type=submit]`), chromedp.NodeVisible)); status != http.StatusOK {
				t.Fatalf("status %d after start", status)
			}
			if h1 := visibleText(t, ctx, "h1"); !strings.Contains(h1, tc.heading) {
				t.Errorf("h1 = %q, want it to contain %q", h1, tc.heading)
			}
			if lang := pageLang(t, ctx); lang != tc.lang {
				t.Errorf("html lang = %q, want %q", lang, tc.lang)
			}
			// Each fieldset is one question: five levels and "don't know".
			radios := read(t, ctx, chromedp.Evaluate[[]int](
				`[...document.querySelectorAll("fieldset")].map(f => f.querySelectorAll("input[type=radio]").length)`))
			if len(radios) == 0 {
				t.Fatal("no fieldset on the page")
			}
			for i, n := range radios {
				if n != 6 {
					t.Errorf("fieldset %d has %d radio inputs, want 6", i, n)
				}
			}
		})
	}
}

func TestBrowserUnknownLinkShowsLocalizedNotFound(t *testing.T) {
	ts := startTestServer(t, 0)
	ctx := newBrowser(t, "de")
	if status := open(t, ctx, ts.URL+"/s/"+strings.Repeat("A", 43)); status != http.StatusNotFound {
		t.Errorf("status %d, want 404", status)
	}
	if h1 := visibleText(t, ctx, "h1"); h1 != "Seite nicht gefunden" {
		t.Errorf("h1 = %q, want %q", h1, "Seite nicht gefunden")
	}
}

func TestBrowserLanguageSwitchSticks(t *testing.T) {
	ts := startTestServer(t, 0)
	ctx := newBrowser(t, "en")
	if status := open(t, ctx, ts.Demo.Links[0]+"/p/1"); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	if h1 := visibleText(t, ctx, "h1"); !strings.Contains(h1, "Section 1 of 13") {
		t.Fatalf("h1 = %q before the switch, want English", h1)
	}
	if status := follow(t, ctx, chromedp.Click(chromedp.CSS(`nav.langs a[hreflang="fr"]`), chromedp.NodeVisible)); status != http.StatusOK {
		t.Fatalf("status %d after the switch", status)
	}
	if h1 := visibleText(t, ctx, "h1"); !strings.Contains(h1, "Domaine 1 sur 13") {
		t.Errorf("h1 = %q after the switch, want French", h1)
	}
	// The browser still asks for English; only the cookie says French.
	if status := open(t, ctx, ts.URL+"/"); status != http.StatusOK {
		t.Fatalf("home: status %d", status)
	}
	if got := ts.lastRequest(t, "/").AcceptLanguage; !strings.HasPrefix(got, "en") {
		t.Errorf("home: server got Accept-Language %q, want English", got)
	}
	if lang := pageLang(t, ctx); lang != "fr" {
		t.Errorf("home: html lang = %q, want fr", lang)
	}
}
