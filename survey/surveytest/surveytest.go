// Package surveytest gives tests real databases: a fresh SQLite file, or a
// fresh database on the Postgres server named by TILTLINE_TEST_PG.
//
// Tests that need Postgres or Chromium skip with a message when they are
// absent locally; under CI=true they fail instead, so CI never passes by
// skipping.
package surveytest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"gorm.io/gorm"

	"tiltline/survey"
)

// PostgresEnv names the variable holding the URL of a Postgres server tests
// may create databases on (the URL's own database is used to connect).
const PostgresEnv = "TILTLINE_TEST_PG"

// InCI reports whether the run must not skip integration tests.
func InCI() bool { return os.Getenv("CI") == "true" }

// Unavailable skips the test, or fails it in CI.
func Unavailable(t testing.TB, what string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s is required in CI (CI=true) but not available", what)
	}
	t.Skipf("skipping: %s not available", what)
}

// Dialects lists the databases a store test should run on.
func Dialects() []string { return []string{"sqlite", "postgres"} }

// SQLiteURL returns the URL of a fresh SQLite file in a temp directory.
func SQLiteURL(t testing.TB) string {
	t.Helper()
	return "sqlite:" + filepath.Join(t.TempDir(), "tiltline.db")
}

// PostgresURL creates a fresh database for this test and drops it afterwards.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		Unavailable(t, "Postgres ("+PostgresEnv+" unset)")
	}
	admin, err := survey.Open(base)
	if err != nil {
		t.Fatalf("connect to %s: %v", PostgresEnv, err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "tiltline_test_" + hex.EncodeToString(b)
	if err := admin.Write.Exec("CREATE DATABASE " + name).Error; err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		if a, err := survey.Open(base); err == nil {
			a.Write.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			a.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// URL returns a fresh database URL of the dialect.
func URL(t testing.TB, dialect string) string {
	if dialect == "postgres" {
		return PostgresURL(t)
	}
	return SQLiteURL(t)
}

// Open returns a fresh, migrated database of the dialect, closed at cleanup.
func Open(t testing.TB, dialect string) *survey.DB {
	t.Helper()
	db := open(t, dialect)
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// OpenAt is Open migrated only up to version: for a test of the migration
// after it, against data written under the schema before.
func OpenAt(t testing.TB, dialect string, version int64) *survey.DB {
	t.Helper()
	db := open(t, dialect)
	if err := db.MigrateTo(context.Background(), version); err != nil {
		t.Fatal(err)
	}
	return db
}

func open(t testing.TB, dialect string) *survey.DB {
	t.Helper()
	db, err := survey.Open(URL(t, dialect))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Chromium returns the path of a Chromium binary for browser tests.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{os.Getenv("TILTLINE_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	Unavailable(t, "Chromium (install Debian's chromium package)")
	return ""
}

// PDFText is a PDF's text as pdftotext (poppler-utils) reads it. ok is
// false when pdftotext is not installed, so a test can check the rest of
// the file; under CI=true, where .ci/run installs it, that fails the test.
func PDFText(t testing.TB, pdf []byte) (text string, ok bool) {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		if InCI() {
			t.Fatal("pdftotext (poppler-utils) is not installed; .ci/run installs it")
		}
		return "", false
	}
	path := filepath.Join(t.TempDir(), "text.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out), true
}

// Model loads the latest model version or fails the test.
func Model(t testing.TB) *survey.Model {
	t.Helper()
	c, err := survey.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	return c.Latest()
}

// Rows runs a query and returns every row as text, whatever the columns:
// bytes as a string, times in UTC RFC 3339, NULL as "NULL". For tests that
// read tables as an outsider would.
func Rows(t testing.TB, g *gorm.DB, query string, args ...any) [][]string {
	t.Helper()
	rows, err := g.Raw(query, args...).Rows()
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		rec := make([]string, len(cols))
		for i, v := range vals {
			switch v := v.(type) {
			case []byte:
				rec[i] = string(v)
			case time.Time:
				rec[i] = v.UTC().Format(time.RFC3339Nano)
			case nil:
				rec[i] = "NULL"
			default:
				rec[i] = fmt.Sprint(v)
			}
		}
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Secret is the installation secret the test demos are sealed with.
var Secret = []byte("0123456789abcdef0123456789abcdef")

// Demo creates the demo organisation with a number of responses, sealed with
// Secret and released.
func Demo(t testing.TB, db *survey.DB, responses int) *survey.DemoResult {
	t.Helper()
	res, err := survey.CreateDemo(context.Background(), db, Model(t), survey.DemoOptions{
		Responses: responses, Links: 4, BaseURL: "http://example.test", Secret: Secret,
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}
