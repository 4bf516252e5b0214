package survey

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// SQLite's migration 10 rebuilds responses as a WITHOUT ROWID table from
// its own definition: every column, index, foreign key and row survives,
// also ones added by migrations it does not know of (here a column, a
// foreign key and an index added just before it), and Down restores a
// rowid table.
func TestSQLiteRebuildKeepsResponsesWhole(t *testing.T) {
	ctx := context.Background()
	db, err := Open("sqlite:" + filepath.Join(t.TempDir(), "tiltline.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := db.provider()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 9); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"ALTER TABLE responses ADD COLUMN test_extra INTEGER REFERENCES campaigns(id) ON DELETE SET NULL",
		"CREATE INDEX responses_test_extra ON responses(campaign_id, test_extra)",
		"INSERT INTO organisations (name) VALUES ('O')",
		"INSERT INTO campaigns (organisation_id, name, model_version) VALUES (1, 'C', 1)",
		"INSERT INTO responses (id, campaign_id, role, answers, test_extra) VALUES ('b', 1, 'x', X'0102', 1), ('a', 1, 'y', X'03', NULL)",
	} {
		if err := db.Write.Exec(s).Error; err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	shape := func() string {
		var parts []string
		for _, q := range []string{
			// A WITHOUT ROWID table's key is NOT NULL, as on Postgres; a rowid
			// table's text key is not, though a null id was never stored.
			`SELECT name, type, "notnull" OR pk > 0, coalesce(dflt_value, ''), pk FROM pragma_table_info('responses') ORDER BY cid`,
			`SELECT l.name, l."unique", group_concat(i.name) FROM pragma_index_list('responses') l, pragma_index_info(l.name) i
			 WHERE l.origin <> 'pk' GROUP BY l.name ORDER BY l.name`,
			`SELECT "table", "from", coalesce("to", ''), on_delete FROM pragma_foreign_key_list('responses') ORDER BY "from"`,
			`SELECT id, campaign_id, role, hex(answers), coalesce(test_extra, 0) FROM responses ORDER BY id`,
		} {
			rows, err := db.Write.Raw(q).Rows()
			if err != nil {
				t.Fatal(err)
			}
			cols, _ := rows.Columns()
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				parts = append(parts, fmt.Sprintf("%v", vals))
			}
			rows.Close()
		}
		return strings.Join(parts, "\n")
	}
	withoutRowid := func() bool {
		var def string
		db.Write.Raw("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'responses'").Scan(&def)
		return strings.HasSuffix(strings.ToUpper(strings.TrimSpace(def)), "WITHOUT ROWID")
	}
	before := shape()
	if withoutRowid() {
		t.Fatal("responses is WITHOUT ROWID before migration 10")
	}

	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if !withoutRowid() {
		t.Error("responses is not WITHOUT ROWID after migration 10")
	}
	if err := db.Write.Exec("SELECT rowid FROM responses").Error; err == nil {
		t.Error("responses still has a rowid")
	}
	if after := shape(); after != before {
		t.Errorf("the rebuild changed responses:\nbefore\n%s\nafter\n%s", before, after)
	}
	var fkProblems int64
	db.Write.Raw("SELECT count(*) FROM pragma_foreign_key_check").Scan(&fkProblems)
	if fkProblems != 0 {
		t.Errorf("%d foreign key violations after the rebuild", fkProblems)
	}

	if _, err := p.DownTo(ctx, 9); err != nil {
		t.Fatal(err)
	}
	if withoutRowid() || shape() != before {
		t.Errorf("Down did not restore responses: WITHOUT ROWID %v\n%s", withoutRowid(), shape())
	}
	var pending int64
	db.Write.Raw("SELECT count(*) FROM sqlite_master WHERE name = 'pending_responses'").Scan(&pending)
	if pending != 0 {
		t.Error("Down left pending_responses")
	}
}
