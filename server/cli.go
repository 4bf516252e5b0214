package server

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"tiltline/bench"
	"tiltline/survey"
)

const usage = `tiltline — customer-experience self-assessment

Usage:
  tiltline [serve] [--addr :8080] [--db URL]    serve (applies pending migrations)
  tiltline migrate [--db URL]                   apply migrations and exit
  tiltline demo [--responses N] [--links N] [--reset] [--serve]
                                                create the demo organisation, or keep it and
                                                print the same logins (--reset starts over)
  tiltline model export [--version V]           print the assessment model as JSON
  tiltline admin create-user --email E --role R [--org O]
  tiltline admin create-token --email E [--days N]
                                                print a new API token (expires in N days, default 90; 0: never)
  tiltline bench [--quick] [--db URL] [--duration 10s] [--concurrency 16]
                                                start a server and measure it
  tiltline healthcheck [--addr :8080]           exit 0 when the local server answers /healthz

Every flag also reads a TILTLINE_* variable (see README). Run a command with -h for its flags.
`

// Main runs the command line and returns the process exit code:
// 0 success, 1 failure at run time, 2 bad usage or configuration.
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewJSONHandler(stderr, nil))

	cmd := "serve"
	if len(args) > 0 && (args[0] == "" || args[0][0] != '-') {
		cmd, args = args[0], args[1:]
	}
	if cmd == "model" || cmd == "admin" {
		if len(args) == 0 {
			fmt.Fprint(stderr, usage)
			return 2
		}
		cmd, args = cmd+" "+args[0], args[1:]
	}
	fs := flag.NewFlagSet("tiltline "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c Config
	var run func() error

	switch cmd {
	case "serve":
		c.serveFlags(fs)
		run = func() error { return serve(ctx, &c, log, nil) }
	case "migrate":
		c.dbFlags(fs)
		run = func() error { return migrate(ctx, &c, stdout) }
	case "demo":
		c.serveFlags(fs)
		responses := fs.Int("responses", 300, "completed synthetic responses in the open wave")
		links := fs.Int("links", 5, "open respondent links to print")
		seed := fs.Uint64("seed", 1, "random seed of the synthetic data")
		andServe := fs.Bool("serve", false, "go on serving after creating the demo")
		reset := fs.Bool("reset", false, "replace an existing demo organisation (new campaigns, links and data)")
		run = func() error {
			if *responses < 0 || *links < 0 {
				return fmt.Errorf("%w: --responses and --links must not be negative", ErrUsage)
			}
			opt := survey.DemoOptions{Responses: *responses, Links: *links, Seed: *seed, Reset: *reset}
			if !*andServe {
				return demo(ctx, &c, opt, stdout)
			}
			return serve(ctx, &c, log, func(a *App) error { return a.printDemo(ctx, opt, stdout) })
		}
	case "model export":
		version := fs.Int("version", 0, "model version (default: latest)")
		run = func() error { return exportModel(*version, stdout) }
	case "admin create-user":
		c.dbFlags(fs)
		email := fs.String("email", "", "email address of the account")
		role := fs.String("role", survey.RoleOrgAdmin, "platform-admin, org-admin, manager or learner")
		org := fs.String("org", "", "organisation id or name")
		run = func() error { return createUser(ctx, &c, *email, *role, *org, stdout) }
	case "admin create-token":
		c.dbFlags(fs)
		email := fs.String("email", "", "email address of the account")
		name := fs.String("name", "cli", "label to recognise the token by")
		days := fs.Int("days", survey.DefaultAPITokenDays, fmt.Sprintf("days until the token expires, 0 to %d; 0: never", survey.MaxAPITokenDays))
		run = func() error { return createToken(ctx, &c, *email, *name, *days, stdout) }
	case "bench":
		// The benchmark harness parses its own flags and drives this binary as a child.
		return bench.Main(args, stdout, stderr)
	case "healthcheck":
		c.serveFlags(fs)
		run = func() error { return healthcheck(ctx, &c) }
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "tiltline: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "tiltline %s: unexpected argument %q\n", cmd, fs.Arg(0))
		return 2
	}
	if cmd != "model export" {
		if err := c.finish(); err != nil {
			fmt.Fprintln(stderr, "tiltline:", err)
			return 2
		}
	}
	if err := run(); err != nil {
		fmt.Fprintf(stderr, "tiltline %s: %v\n", cmd, err)
		if errors.Is(err, ErrUsage) || errors.Is(err, survey.ErrBadURL) {
			return 2
		}
		return 1
	}
	return 0
}

// openStore opens and migrates the database: every command that touches data
// first brings the schema up to date, or refuses when the database is ahead.
func openStore(ctx context.Context, c *Config) (*survey.DB, int, error) {
	db, err := survey.Open(c.DB)
	if err != nil {
		return nil, 0, err
	}
	n, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, 0, err
	}
	return db, n, nil
}

func migrate(ctx context.Context, c *Config, out io.Writer) error {
	db, n, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	current, _, err := db.SchemaStatus(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "migrations applied: %d, schema version: %d\n", n, current)
	return nil
}

func demo(ctx context.Context, c *Config, opt survey.DemoOptions, out io.Writer) error {
	if err := c.loadSecret(); err != nil {
		return err
	}
	db, _, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	catalog, err := survey.LoadCatalog()
	if err != nil {
		return err
	}
	return writeDemo(ctx, db, catalog.Latest(), c, opt, out)
}

func writeDemo(ctx context.Context, db *survey.DB, m *survey.Model, c *Config, opt survey.DemoOptions, out io.Writer) error {
	opt.BaseURL, opt.Secret = c.BaseURL, c.Secret
	res, err := survey.CreateDemo(ctx, db, m, opt)
	if err != nil {
		return err
	}
	if res.Kept {
		fmt.Fprintln(out, "note: the demo organisation exists and was kept as it is; --reset starts it over")
	}
	fmt.Fprintf(out, "admin: %s %s\n", res.AdminEmail, res.AdminPassword)
	fmt.Fprintf(out, "manager: %s %s\n", res.ManagerEmail, res.ManagerPassword)
	fmt.Fprintf(out, "learner: %s %s (learning path at /learn/path)\n", res.LearnerEmail, res.LearnerPassword)
	fmt.Fprintf(out, "api-token: %s\n", res.APIToken)
	fmt.Fprintf(out, "campaign: %d\n", res.CampaignID)
	for _, l := range res.Links {
		fmt.Fprintf(out, "link: %s\n", l)
	}
	return nil
}

func exportModel(version int, out io.Writer) error {
	catalog, err := survey.LoadCatalog()
	if err != nil {
		return err
	}
	m := catalog.Latest()
	if version != 0 {
		var ok bool
		if m, ok = catalog.Version(version); !ok {
			return fmt.Errorf("%w: no model version %d", ErrUsage, version)
		}
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(m)
}

func createUser(ctx context.Context, c *Config, email, role, orgRef string, out io.Writer) error {
	if email == "" {
		return fmt.Errorf("%w: --email is required", ErrUsage)
	}
	db, _, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	var orgID *int64
	if orgRef != "" {
		org, err := survey.FindOrganisation(ctx, db, orgRef)
		if err != nil {
			return err
		}
		orgID = &org.ID
	} else if role != survey.RolePlatformAdmin && role != survey.RoleLearner {
		return fmt.Errorf("%w: role %s needs --org", ErrUsage, role)
	}
	u, password, err := survey.CreateUser(ctx, db, email, role, orgID)
	if err != nil {
		if errors.Is(err, survey.ErrInvalidEmail) || errors.Is(err, survey.ErrInvalidRole) || errors.Is(err, survey.ErrEmailTaken) {
			return fmt.Errorf("%w: %w", ErrUsage, err)
		}
		return err
	}
	fmt.Fprintf(out, "user: %s %s\npassword: %s\n", u.Email, u.Role, password)
	return nil
}

func createToken(ctx context.Context, c *Config, email, name string, days int, out io.Writer) error {
	if email == "" {
		return fmt.Errorf("%w: --email is required", ErrUsage)
	}
	if days < 0 || days > survey.MaxAPITokenDays {
		return fmt.Errorf("%w: --days must be 0 (no expiry) to %d", ErrUsage, survey.MaxAPITokenDays)
	}
	db, _, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := survey.UserByEmail(ctx, db, email)
	if err != nil {
		return fmt.Errorf("user %s: %w", email, err)
	}
	issued, err := survey.IssueAPIToken(ctx, db, u.ID, name, days)
	if err != nil {
		return err
	}
	expires := "never"
	if issued.ExpiresAt != nil {
		expires = issued.ExpiresAt.Format(time.RFC3339)
	}
	fmt.Fprintf(out, "api-token: %s\nexpires: %s\n", issued.Token, expires)
	return nil
}

// healthcheck lets a container probe the server without curl in the image.
func healthcheck(ctx context.Context, c *Config) error {
	_, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUsage, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+port+"/healthz", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz answered %d", res.StatusCode)
	}
	return nil
}
