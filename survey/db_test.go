package survey_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

func TestParseURL(t *testing.T) {
	cases := []struct {
		url, dialect string
		ok           bool
	}{
		{"sqlite:data/tiltline.db", "sqlite", true},
		{"sqlite:///tmp/x.db", "sqlite", true},
		{"postgres://u:p@localhost:5432/db", "postgres", true},
		{"postgresql://localhost/db", "postgres", true},
		{"sqlite:", "", false},
		{"mysql://localhost/db", "", false},
		{"data/tiltline.db", "", false},
		{"postgres://", "", false},
	}
	for _, tc := range cases {
		d, _, err := survey.ParseURL(tc.url)
		if (err == nil) != tc.ok || d != tc.dialect {
			t.Errorf("ParseURL(%q) = %q, %v", tc.url, d, err)
		}
		if err != nil && !errors.Is(err, survey.ErrBadURL) {
			t.Errorf("ParseURL(%q) error is not ErrBadURL: %v", tc.url, err)
		}
	}
}

func TestBadURLNeverPrintsThePassword(t *testing.T) {
	_, _, err := survey.ParseURL("mysql://user:hunter2@host/db")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error leaks password: %v", err)
	}
}

func TestMigrationsApplyAndAreIdempotent(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := surveytest.Open(t, dialect)
			ctx := context.Background()
			current, known, err := db.SchemaStatus(ctx)
			if err != nil || current != known || known < 1 {
				t.Fatalf("schema %d of %d, %v", current, known, err)
			}
			if n, err := db.Migrate(ctx); err != nil || n != 0 {
				t.Errorf("second migrate applied %d, %v", n, err)
			}
		})
	}
}

func TestSQLiteRunsInWALWithForeignKeys(t *testing.T) {
	db := surveytest.Open(t, "sqlite")
	var mode string
	var fk int
	db.Write.Raw("PRAGMA journal_mode").Scan(&mode)
	db.Write.Raw("PRAGMA foreign_keys").Scan(&fk)
	if mode != "wal" || fk != 1 {
		t.Errorf("journal_mode=%q foreign_keys=%d", mode, fk)
	}
	// The read pool must not be able to write: one writer is the design.
	if err := db.Read.Exec("INSERT INTO organisations(name) VALUES ('x')").Error; err == nil {
		t.Error("read pool accepted a write")
	}
}

func TestRefusesDatabaseNewerThanBinary(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := surveytest.Open(t, dialect)
			if err := db.Write.Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, true)").Error; err != nil {
				t.Fatal(err)
			}
			_, err := db.Migrate(context.Background())
			if !errors.Is(err, survey.ErrSchemaTooNew) {
				t.Fatalf("Migrate on a newer database: %v, want ErrSchemaTooNew", err)
			}
			if !strings.Contains(err.Error(), "9999") {
				t.Errorf("message should name the versions: %v", err)
			}
		})
	}
}

// columns lists table -> "column:kind" for the application tables, with the
// type reduced to a kind both dialects share.
func columns(t *testing.T, db *survey.DB) map[string][]string {
	t.Helper()
	type col struct{ Table, Column, Type string }
	var cols []col
	var q string
	if db.Dialect == "postgres" {
		q = `SELECT table_name AS "table", column_name AS "column", data_type AS "type"
		     FROM information_schema.columns WHERE table_schema = 'public'`
	} else {
		q = `SELECT m.name AS "table", p.name AS "column", p.type AS "type"
		     FROM sqlite_master m JOIN pragma_table_info(m.name) p
		     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`
	}
	if err := db.Read.Raw(q).Scan(&cols).Error; err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, c := range cols {
		// Full-text search is dialect-specific by design (FTS5 vs tsvector).
		if c.Table == "goose_db_version" || strings.HasPrefix(c.Table, "search_docs") {
			continue
		}
		out[c.Table] = append(out[c.Table], c.Column+":"+kind(c.Type))
	}
	for _, v := range out {
		sort.Strings(v)
	}
	return out
}

func kind(sqlType string) string {
	t := strings.ToLower(sqlType)
	switch {
	case strings.Contains(t, "int") || t == "bigint":
		return "int"
	case strings.Contains(t, "bool"):
		return "bool"
	case strings.Contains(t, "time"):
		return "time"
	case t == "blob" || t == "bytea":
		return "bytes"
	case t == "real" || strings.Contains(t, "double"):
		return "float"
	default:
		return "text"
	}
}

func TestBothDialectsHaveTheSameTablesAndColumns(t *testing.T) {
	lite := columns(t, surveytest.Open(t, "sqlite"))
	pg := columns(t, surveytest.Open(t, "postgres"))
	if len(lite) < 15 {
		t.Fatalf("only %d tables on SQLite", len(lite))
	}
	if a, b := fmt.Sprint(lite), fmt.Sprint(pg); a != b {
		for table, cols := range lite {
			if fmt.Sprint(cols) != fmt.Sprint(pg[table]) {
				t.Errorf("%s differs:\n sqlite   %v\n postgres %v", table, cols, pg[table])
			}
		}
		for table := range pg {
			if _, ok := lite[table]; !ok {
				t.Errorf("%s only on postgres", table)
			}
		}
	}
}

// The anonymity promise in the schema: a response row holds nothing that
// points at a person or a moment.
func TestResponsesTableCannotLinkToAPersonOrATime(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			cols := columns(t, surveytest.Open(t, dialect))["responses"]
			want := "[answers:bytes campaign_id:int id:text locale:text role:text seniority:text unit_id:int]"
			if fmt.Sprint(cols) != want {
				t.Errorf("responses columns = %v, want exactly %s", cols, want)
			}
			inv := fmt.Sprint(columns(t, surveytest.Open(t, dialect))["invitations"])
			for _, banned := range []string{"time", "completed_at", "response"} {
				if strings.Contains(inv, banned) {
					t.Errorf("invitations has %q: %s", banned, inv)
				}
			}
		})
	}
}
