package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/sessions"
	"github.com/klauspost/compress/gzhttp"
	"github.com/klauspost/compress/gzip"
	"github.com/labstack/echo/v4"
	"golang.org/x/sync/errgroup"

	"tiltline/portal"
	"tiltline/survey"
)

// App is the composition root: every long-lived thing the handlers need, built
// once at start. Nothing lives in package globals.
type App struct {
	cfg      *Config
	log      *slog.Logger
	db       *survey.DB
	models   *survey.Catalog
	i18n     *translator
	views    *views
	sections *sectionCache
	saver    *survey.Saver
	links    *linkCache
	sessions *sessions.CookieStore
	logins   *loginLimiter
	opens    *openLimits
	proxies  []*net.IPNet // whose X-Forwarded-For names the client
	uploads  *uploads
	mail     *mailer
	reports  reportRows
	releases *publisher
	pool     benchmarkPool
	library  *portal.Library
	// portalVersion changes with the binary, so cached portal pages renew on upgrade.
	portalVersion string
	// setupHash holds the hash of the one-time setup token while no account exists.
	setupHash atomic.Value // string
	assets    *assets
	metrics   *metrics
	echo      *echo.Echo
	handler   http.Handler // echo behind compression
	started   time.Time
	// clock, when set, is the time of action rules and reminders (tests).
	clock func() time.Time
}

// New opens and migrates the database, loads the model, messages, templates
// and assets, and wires the routes. It fails fast: a server that cannot render
// every page should not start.
func New(ctx context.Context, cfg *Config, log *slog.Logger) (*App, error) {
	if cfg.Secret == nil {
		if err := cfg.loadSecret(); err != nil {
			return nil, err
		}
	}
	models, err := survey.LoadCatalog()
	if err != nil {
		return nil, err
	}
	tr, err := newTranslator()
	if err != nil {
		return nil, err
	}
	as, err := newAssets()
	if err != nil {
		return nil, err
	}
	funcs := templateFuncs(as)
	vs, err := newViews(funcs)
	if err != nil {
		return nil, err
	}
	sections, err := newSectionCache(funcs, tr)
	if err != nil {
		return nil, err
	}
	library, err := portal.Load(models.Latest())
	if err != nil {
		return nil, err
	}
	proxies, err := parseProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	db, applied, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := portal.IndexPages(ctx, db, library); err != nil {
		db.Close()
		return nil, fmt.Errorf("index portal pages: %w", err)
	}
	if applied > 0 {
		log.Info("migrations applied", "count", applied)
	}
	a := &App{cfg: cfg, log: log, db: db, models: models, i18n: tr, views: vs, sections: sections, assets: as,
		metrics: newMetrics(), saver: survey.NewSaver(db), links: newLinkCache(db, cfg.Secret), started: time.Now(),
		sessions: newSessionStore(cfg.Secret, strings.HasPrefix(cfg.BaseURL, "https://")), logins: newLoginLimiter(), uploads: newUploads(filepath.Join(cfg.DataDir, "uploads")),
		library: library, portalVersion: as.hashed["css/app.css"], opens: newOpenLimits(cfg.OpenLinkPerIP), proxies: proxies}

	a.releases = newPublisher(a)
	if a.mail, err = newMailer(a); err != nil {
		db.Close()
		return nil, err
	}
	a.echo = a.routes()
	// klauspost's gzip at its fastest level: section pages shrink ~7x, and it
	// costs a fraction of compress/gzip's CPU on the hottest path.
	gz, err := gzhttp.NewWrapper(gzhttp.MinSize(1024), gzhttp.CompressionLevel(gzip.BestSpeed))
	if err != nil {
		return nil, err
	}
	a.handler = gz(a.echo)
	return a, nil
}

// Handler is the HTTP handler, for tests and embedding.
func (a *App) Handler() http.Handler { return a.handler }

// Close stops the answer writer and releases the database. Call it after
// Serve has returned, so no request is still saving.
func (a *App) Close() error {
	a.saver.Close()
	return a.db.Close()
}

// Serve answers on ln until ctx is cancelled, then drains in-flight requests.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	return a.serveOn(ctx, ln, a.handler)
}

func (a *App) serveOn(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.log.Info("shutting down", "addr", ln.Addr().String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (a *App) printDemo(ctx context.Context, opt survey.DemoOptions, out io.Writer) error {
	return writeDemo(ctx, a.db, a.models.Latest(), a.cfg, opt, out)
}

// serve is `tiltline serve`; before runs once the app is built and before it listens.
func serve(ctx context.Context, c *Config, log *slog.Logger, before func(*App) error) error {
	a, err := New(ctx, c, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if before != nil {
		if err := before(a); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	if c.MetricsAddr != "" {
		mln, err := net.Listen("tcp", c.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen for metrics: %w", err)
		}
		log.Info("serving metrics", "addr", mln.Addr().String(), "token", c.MetricsToken != "")
		g.Go(func() error { return a.serveOn(gctx, mln, a.MetricsHandler()) })
	}
	if c.PprofAddr != "" {
		pln, err := net.Listen("tcp", c.PprofAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen for pprof: %w", err)
		}
		log.Info("serving pprof", "addr", pln.Addr().String())
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		g.Go(func() error { return a.serveOn(gctx, pln, mux) })
	}
	if url := a.offerSetup(ctx); url != "" {
		// On the terminal, not in the log: it grants the first admin account.
		fmt.Fprintf(os.Stdout, "setup: no account yet; create the platform admin at %s\n", url)
	}
	log.Info("serving", "addr", ln.Addr().String(), "base_url", c.BaseURL, "db", a.db.Dialect)
	stopMail := a.mail.start(ctx)
	defer stopMail() // before the deferred Close: the worker stops first
	stopReleases := a.releases.start(ctx)
	defer stopReleases()
	g.Go(func() error { return a.Serve(gctx, ln) })
	return g.Wait()
}

// offerSetup arms the one-time setup link when the installation has no
// account, and returns it ("" when accounts exist).
func (a *App) offerSetup(ctx context.Context) string {
	if n, err := survey.CountUsers(ctx, a.db); err != nil || n > 0 {
		return ""
	}
	token := survey.NewOpenToken()
	a.setupHash.Store(survey.HashToken(token))
	return a.cfg.BaseURL + "/setup/" + token
}
