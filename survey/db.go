package survey

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/libtnb/sqlite"
	"github.com/pressly/goose/v3"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"tiltline/migrations"
)

// DefaultDB is the embedded database used when nothing else is configured.
const DefaultDB = "sqlite:data/tiltline.db"

// DB is the store. On SQLite, Write is a single connection (SQLite allows one
// writer; queuing in Go beats spinning on SQLITE_BUSY) and Read a small pool
// of WAL readers. On Postgres both are the same pool.
type DB struct {
	Write   *gorm.DB
	Read    *gorm.DB
	Dialect string // "sqlite" or "postgres"
	// Dir is where the SQLite file lives; "" on Postgres.
	Dir string

	kept keptStmts
}

// keptStmts are the read pool's prepared statements for the hottest reads,
// prepared on first use (the tables exist only after the migrations).
// database/sql prepares each on every connection as needed; on SQLite that
// spares parsing the SQL per read, on Postgres pgx caches them anyway.
type keptStmts struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// readStmt returns the kept statement for query, written with ? for each
// argument.
func (db *DB) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	db.kept.mu.Lock()
	defer db.kept.mu.Unlock()
	if st, ok := db.kept.m[query]; ok {
		return st, nil
	}
	pool, err := db.Read.DB()
	if err != nil {
		return nil, err
	}
	text := query
	if db.Dialect == "postgres" {
		text = numberedPlaceholders(query)
	}
	st, err := pool.PrepareContext(ctx, text)
	if err != nil {
		return nil, err
	}
	if db.kept.m == nil {
		db.kept.m = map[string]*sql.Stmt{}
	}
	db.kept.m[query] = st
	return st, nil
}

// numberedPlaceholders turns ? into $1, $2, … for Postgres. The kept
// queries have no ? inside quotes.
func numberedPlaceholders(query string) string {
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ErrBadURL means the database URL cannot be used; the CLI exits with code 2.
var ErrBadURL = errors.New("bad database URL")

// ParseURL splits a database URL into dialect and driver DSN, without opening anything.
func ParseURL(raw string) (dialect, target string, err error) {
	switch {
	case strings.HasPrefix(raw, "sqlite:"):
		path := strings.TrimPrefix(raw, "sqlite:")
		path = strings.TrimPrefix(path, "//")
		if path == "" || strings.ContainsAny(path, "?\x00") {
			return "", "", fmt.Errorf("%w %q: want sqlite:PATH, e.g. %s", ErrBadURL, raw, DefaultDB)
		}
		return "sqlite", path, nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		u, perr := url.Parse(raw)
		if perr != nil || u.Host == "" && u.Query().Get("host") == "" {
			return "", "", fmt.Errorf("%w: postgres URL needs a host, e.g. postgres://user:pass@localhost:5432/tiltline", ErrBadURL)
		}
		return "postgres", raw, nil
	default:
		return "", "", fmt.Errorf("%w %q: use sqlite:PATH or postgres://user:pass@host:port/db", ErrBadURL, redactURL(raw))
	}
}

// redactURL hides a password so an error message never prints a secret.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		return u.Redacted()
	}
	return raw
}

// Open connects to the database named by the URL. It does not migrate.
func Open(raw string) (*DB, error) {
	dialect, target, err := ParseURL(raw)
	if err != nil {
		return nil, err
	}
	cfg := &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		// GORM's prepared statements on SQLite. On Postgres pgx keeps its
		// own cache of prepared statements per connection (its default
		// exec mode): a query is one round trip, in a transaction or not.
		// GORM's would prepare each statement again inside every
		// transaction (database/sql's Tx.Stmt), a round trip more per
		// statement, and close it again at the end.
		PrepareStmt: dialect != "postgres",
		NowFunc:     func() time.Time { return time.Now().UTC() },
	}
	if dialect == "postgres" {
		g, err := gorm.Open(postgres.Open(target), cfg)
		if err != nil {
			return nil, fmt.Errorf("open postgres %s: %w", redactURL(raw), err)
		}
		sqlDB, _ := g.DB()
		sqlDB.SetMaxOpenConns(4 * runtime.GOMAXPROCS(0))
		sqlDB.SetMaxIdleConns(4 * runtime.GOMAXPROCS(0))
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		return &DB{Write: g, Read: g, Dialect: dialect}, nil
	}

	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	// secure_delete: deleted drafts and sealed pending responses are
	// overwritten with zeros, not left in free space of the file.
	pragmas := "_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=secure_delete(1)"
	w, err := gorm.Open(sqlite.Open("file:"+target+"?"+pragmas+"&_txlock=immediate"), cfg)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", target, err)
	}
	wdb, _ := w.DB()
	wdb.SetMaxOpenConns(1)
	wdb.SetConnMaxLifetime(0)
	r, err := gorm.Open(sqlite.Open("file:"+target+"?"+pragmas+"&_pragma=query_only(1)"), cfg)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", target, err)
	}
	rdb, _ := r.DB()
	rdb.SetMaxOpenConns(2 * runtime.GOMAXPROCS(0))
	rdb.SetMaxIdleConns(2 * runtime.GOMAXPROCS(0))
	return &DB{Write: w, Read: r, Dialect: dialect, Dir: dir}, nil
}

// Close releases both pools.
func (db *DB) Close() error {
	var errs []error
	db.kept.mu.Lock()
	for _, st := range db.kept.m {
		errs = append(errs, st.Close())
	}
	db.kept.m = nil
	db.kept.mu.Unlock()
	for _, g := range []*gorm.DB{db.Write, db.Read} {
		if s, err := g.DB(); err == nil {
			errs = append(errs, s.Close())
		}
		if db.Write == db.Read {
			break
		}
	}
	return errors.Join(errs...)
}

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error {
	s, err := db.Read.DB()
	if err != nil {
		return err
	}
	return s.PingContext(ctx)
}

func (db *DB) sqlDB() *sql.DB {
	s, _ := db.Write.DB()
	return s
}

func (db *DB) provider() (*goose.Provider, error) {
	fsys, err := migrations.For(db.Dialect)
	if err != nil {
		return nil, err
	}
	d := goose.DialectSQLite3
	if db.Dialect == "postgres" {
		d = goose.DialectPostgres
	}
	return goose.NewProvider(d, db.sqlDB(), fsys, goose.WithGoMigrations(migrations.Go(db.Dialect)...))
}

// MigrateTo applies the migrations up to version and no further: for tests
// of a migration against data written under the schema before it.
func (db *DB) MigrateTo(ctx context.Context, version int64) error {
	p, err := db.provider()
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}

// ErrSchemaTooNew means the database was migrated by a newer binary; serving
// would risk writing data the newer schema does not expect.
var ErrSchemaTooNew = errors.New("database schema is newer than this binary")

// SchemaStatus returns the database's schema version and the newest one this binary knows.
func (db *DB) SchemaStatus(ctx context.Context) (current, known int64, err error) {
	p, err := db.provider()
	if err != nil {
		return 0, 0, err
	}
	current, err = p.GetDBVersion(ctx)
	if err != nil {
		return 0, 0, err
	}
	for _, s := range p.ListSources() {
		known = max(known, s.Version)
	}
	return current, known, nil
}

// Migrate applies pending migrations. It refuses when the database is ahead of
// the binary, telling the operator what to do instead of failing later.
func (db *DB) Migrate(ctx context.Context) (applied int, err error) {
	current, known, err := db.SchemaStatus(ctx)
	if err != nil {
		return 0, err
	}
	if current > known {
		return 0, fmt.Errorf("%w (database at version %d, binary knows up to %d): run the newer tiltline binary", ErrSchemaTooNew, current, known)
	}
	p, err := db.provider()
	if err != nil {
		return 0, err
	}
	results, err := p.Up(ctx)
	return len(results), err
}
