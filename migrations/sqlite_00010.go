package migrations

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/pressly/goose/v3"
)

// SQLite's 00010 is written in Go because it rebuilds responses from the
// table's own definition: whatever columns, indexes, foreign keys and
// triggers earlier migrations gave it are kept without this file listing
// them. Postgres's 00010 is postgres/00010_pending_responses.sql.
//
// It creates pending_responses (see the Postgres file for why) and turns
// responses into a WITHOUT ROWID table keyed by its random id. A rowid
// table stores rows in insertion order, so `SELECT … FROM responses` or
// `ORDER BY rowid` gave the order in which they were written; keyed by a
// random UUID, the storage order is the UUID's, which says nothing.
// pending_responses is WITHOUT ROWID for the same reason.
var sqlite00010 = goose.NewGoMigration(10,
	&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE pending_responses (
    id          TEXT    PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    sealed      BLOB    NOT NULL
) WITHOUT ROWID`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `CREATE INDEX pending_responses_campaign ON pending_responses(campaign_id)`); err != nil {
			return err
		}
		return rebuildSQLiteTable(ctx, tx, "responses", true)
	}},
	&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DROP TABLE pending_responses`); err != nil {
			return err
		}
		return rebuildSQLiteTable(ctx, tx, "responses", false)
	}},
)

// Go lists a dialect's migrations written in Go, to be passed to goose
// next to the SQL files of For.
func Go(dialect string) []*goose.Migration {
	if dialect == "sqlite" {
		return []*goose.Migration{sqlite00010}
	}
	return nil
}

// rebuildSQLiteTable recreates a table from its own CREATE statement, with
// or without WITHOUT ROWID, copying every row and recreating its indexes
// and triggers. This is SQLite's documented way to change what ALTER TABLE
// cannot; it runs inside the migration's transaction. Foreign keys stay on
// (PRAGMA foreign_keys cannot change inside a transaction), so dropping
// the old table would run the ON DELETE actions of tables that reference
// it: the rebuild refuses when there are any.
func rebuildSQLiteTable(ctx context.Context, tx *sql.Tx, table string, withoutRowid bool) error {
	var create string
	if err := tx.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?`, table).Scan(&create); err != nil {
		return fmt.Errorf("rebuild %s: %w", table, err)
	}
	open, end := strings.IndexByte(create, '('), strings.LastIndexByte(create, ')')
	if open < 0 || end < open {
		return fmt.Errorf("rebuild %s: cannot read its definition %q", table, create)
	}
	if opts := strings.ToUpper(strings.Join(strings.Fields(create[end+1:]), " ")); opts != "" && opts != "WITHOUT ROWID" {
		return fmt.Errorf("rebuild %s: unexpected table options %q", table, opts)
	}
	var referers []string
	rows, err := tx.QueryContext(ctx, `SELECT m.name FROM sqlite_master m, pragma_foreign_key_list(m.name) f
		WHERE m.type = 'table' AND m.name <> ? AND lower(f."table") = lower(?)`, table, table)
	if err != nil {
		return err
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		referers = append(referers, name)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if len(referers) > 0 {
		return fmt.Errorf("rebuild %s: tables %v reference it; dropping it would run their ON DELETE actions", table, referers)
	}
	var extras []string // indexes and triggers; automatic indexes have no sql
	rows, err = tx.QueryContext(ctx, `SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name`, table)
	if err != nil {
		return err
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return err
		}
		extras = append(extras, s)
	}
	if err := rows.Close(); err != nil {
		return err
	}

	tmp := table + "_rebuild"
	def := "CREATE TABLE " + tmp + " " + create[open:end+1]
	if withoutRowid {
		def += " WITHOUT ROWID"
	}
	stmts := []string{
		def,
		"INSERT INTO " + tmp + " SELECT * FROM " + table,
		"DROP TABLE " + table,
		"ALTER TABLE " + tmp + " RENAME TO " + table,
	}
	for _, s := range append(stmts, extras...) {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("rebuild %s: %s: %w", table, s, err)
		}
	}
	return nil
}
