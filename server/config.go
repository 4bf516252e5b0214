package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"tiltline/survey"
)

// Config is everything the operator can set, by flag or TILTLINE_* variable.
// Flags win over the environment, the environment over defaults.
type Config struct {
	Addr         string
	DB           string
	DataDir      string
	BaseURL      string
	SMTPURL      string
	MailFrom     string
	KMin         int
	PublicPortal bool
	// OpenLinkPerIP bounds the open-link drafts started, and the submits,
	// per client address, campaign and day; 0 means no bound.
	OpenLinkPerIP int
	// TrustedProxies lists the reverse proxies (addresses or CIDR ranges,
	// comma-separated) whose X-Forwarded-For names the client. Empty: the
	// client is the connection's peer, and the header is ignored.
	TrustedProxies string
	// MetricsAddr serves /metrics on a listener of its own, and only there.
	MetricsAddr string
	// MetricsToken opens /metrics to Authorization: Bearer <token>. Never logged.
	MetricsToken string
	// PprofAddr serves Go's profiler (/debug/pprof/) on a listener of its
	// own; set only by TILTLINE_PPROF_ADDR, for `tiltline bench --profile`.
	// Keep it on a loopback address: a profile shows the program's memory.
	PprofAddr string

	// Secret keys tokens, drafts and cookies. Never logged.
	Secret []byte
}

func env(name, fallback string) string {
	if v, ok := os.LookupEnv("TILTLINE_" + name); ok && v != "" {
		return v
	}
	return fallback
}

func envInt(name string, fallback int) int {
	if n, err := strconv.Atoi(env(name, "")); err == nil {
		return n
	}
	return fallback
}

func envBool(name string, fallback bool) bool {
	if b, err := strconv.ParseBool(env(name, "")); err == nil {
		return b
	}
	return fallback
}

// dbFlags registers the flags every command shares.
func (c *Config) dbFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.DB, "db", env("DB", survey.DefaultDB), "database URL: sqlite:PATH or postgres://… (TILTLINE_DB)")
	fs.StringVar(&c.DataDir, "data-dir", env("DATA_DIR", ""), "directory for the secret and outgoing mail files; default: the SQLite file's directory, or ./data (TILTLINE_DATA_DIR)")
}

// serveFlags registers the flags of commands that serve HTTP or build links.
func (c *Config) serveFlags(fs *flag.FlagSet) {
	c.dbFlags(fs)
	fs.StringVar(&c.Addr, "addr", env("ADDR", ":8080"), "listen address (TILTLINE_ADDR)")
	fs.StringVar(&c.BaseURL, "base-url", env("BASE_URL", ""), "public URL used in links and mails; default http://localhost:PORT (TILTLINE_BASE_URL)")
	fs.StringVar(&c.SMTPURL, "smtp-url", env("SMTP_URL", ""), "smtp://user:pass@host:port?tls=starttls; empty writes .eml files (TILTLINE_SMTP_URL)")
	fs.StringVar(&c.MailFrom, "mail-from", env("MAIL_FROM", "Tiltline <no-reply@localhost>"), "sender of mails (TILTLINE_MAIL_FROM)")
	fs.IntVar(&c.KMin, "k-min", envInt("K_MIN", 5), "smallest group shown in reports, never below 3 (TILTLINE_K_MIN)")
	fs.BoolVar(&c.PublicPortal, "public-portal", envBool("PUBLIC_PORTAL", true), "learning portal readable without signing in (TILTLINE_PUBLIC_PORTAL)")
	fs.IntVar(&c.OpenLinkPerIP, "open-link-per-ip", envInt("OPEN_LINK_PER_IP", 5), "open-link answers started, and submitted, per client address, campaign and day; 0: no limit (TILTLINE_OPEN_LINK_PER_IP)")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", env("TRUSTED_PROXIES", ""), "reverse proxies whose X-Forwarded-For names the client: addresses or CIDR ranges, comma-separated; empty: none (TILTLINE_TRUSTED_PROXIES)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", env("METRICS_ADDR", ""), "serve /metrics only on this address, e.g. 127.0.0.1:9090 (TILTLINE_METRICS_ADDR)")
	c.PprofAddr = env("PPROF_ADDR", "")
	fs.StringVar(&c.MetricsToken, "metrics-token", env("METRICS_TOKEN", ""), "require Authorization: Bearer <token> on /metrics; prefer the variable, flags show in ps (TILTLINE_METRICS_TOKEN)")
}

// ErrUsage marks configuration mistakes; the CLI exits with code 2 on them.
var ErrUsage = errors.New("usage")

// finish validates and fills derived defaults once flags are parsed.
func (c *Config) finish() error {
	dialect, target, err := survey.ParseURL(c.DB)
	if err != nil {
		return err
	}
	if c.DataDir == "" {
		c.DataDir = "data"
		if dialect == "sqlite" {
			c.DataDir = filepath.Dir(target)
		}
	}
	if c.KMin < 3 {
		c.KMin = 3
	}
	if c.OpenLinkPerIP < 0 {
		return fmt.Errorf("%w: --open-link-per-ip must be 0 (no limit) or more", ErrUsage)
	}
	if _, err := parseProxies(c.TrustedProxies); err != nil {
		return err
	}
	if c.BaseURL == "" && c.Addr != "" {
		_, port, err := net.SplitHostPort(c.Addr)
		if err != nil {
			return fmt.Errorf("%w: listen address %q: %w", ErrUsage, c.Addr, err)
		}
		c.BaseURL = "http://localhost:" + port
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		return fmt.Errorf("%w: the metrics token must be at least 16 characters", ErrUsage)
	}
	return nil
}

// loadSecret takes TILTLINE_SECRET, or the data directory's secret file,
// creating it with a fresh random value on first start.
func (c *Config) loadSecret() error {
	if s := env("SECRET", ""); s != "" {
		if len(s) < 32 {
			return fmt.Errorf("%w: TILTLINE_SECRET must be at least 32 characters", ErrUsage)
		}
		c.Secret = []byte(s)
		return nil
	}
	path := filepath.Join(c.DataDir, "secret")
	if b, err := os.ReadFile(path); err == nil {
		s := strings.TrimSpace(string(b))
		if len(s) < 32 {
			return fmt.Errorf("secret file %s is too short; delete it to generate a new one (this invalidates open links)", path)
		}
		c.Secret = []byte(s)
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read secret: %w", err)
	}
	if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	s := hex.EncodeToString(b)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) { // another process won the race: use its secret
			return c.loadSecret()
		}
		return fmt.Errorf("write secret: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(s + "\n"); err != nil {
		return fmt.Errorf("write secret: %w", err)
	}
	c.Secret = []byte(s)
	return nil
}

// parseProxies reads TrustedProxies: "10.0.0.5, 192.168.0.0/16, fd00::/8".
func parseProxies(list string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		cidr := f
		if ip := net.ParseIP(f); ip != nil && ip.To4() != nil {
			cidr += "/32"
		} else if ip != nil {
			cidr += "/128"
		}
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			return nil, fmt.Errorf("%w: trusted proxy %q is neither an address nor a CIDR range", ErrUsage, f)
		}
		out = append(out, n)
	}
	return out, nil
}

// clientIP says how a request's client address is found (Echo's RealIP):
// the connection's peer, or, behind the trusted proxies, the nearest address
// in X-Forwarded-For that is not one of them. Without trusted proxies the
// header is never believed: anyone can send it.
func clientIP(proxies []*net.IPNet) echo.IPExtractor {
	if len(proxies) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range proxies {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
