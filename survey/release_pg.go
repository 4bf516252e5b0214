package survey

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// readReleasedPostgres is readReleased on Postgres, through pgx itself
// rather than database/sql: each row's values are read where pgx received
// them, without the copy and allocation per value that database/sql's
// scanning costs (a third of the first report's time at a million rows).
func readReleasedPostgres(ctx context.Context, db *DB, campaignID int64, sink func(*Release) releasedSink) (*Release, error) {
	sqlDB, err := db.Read.DB()
	if err != nil {
		return nil, err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var out *Release
	err = conn.Raw(func(driverConn any) error {
		sc, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("load released rows: a %T is not a pgx connection", driverConn)
		}
		// The release and its rows in one snapshot: a release made in
		// between must not mix with the rows of the one before.
		tx, err := sc.Conn().BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx) //nolint:errcheck // read only: nothing to undo
		var r Release
		err = tx.QueryRow(ctx, `SELECT campaign_id, seq, k, shown, held_back, cells, added, created_at
			FROM releases WHERE campaign_id = $1 ORDER BY seq DESC LIMIT 1`, campaignID).
			Scan(&r.CampaignID, &r.Seq, &r.K, &r.Shown, &r.HeldBack, &r.Cells, &r.Added, &r.CreatedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		r.CreatedAt = r.CreatedAt.UTC()
		rows, err := tx.Query(ctx, `SELECT unit_id, role, seniority, answers FROM responses WHERE campaign_id = $1`, campaignID)
		if err != nil {
			return err
		}
		defer rows.Close()
		binaryUnit := rows.FieldDescriptions()[0].Format == pgx.BinaryFormatCode
		to := sink(&r)
		for rows.Next() {
			v := rows.RawValues()
			unit, err := pgInt8(v[0], binaryUnit)
			if err != nil {
				return err
			}
			to.add(unit, v[1], v[2], v[3])
		}
		if err := rows.Err(); err != nil {
			return err
		}
		out = &r
		return nil
	})
	return out, err
}

// pgInt8 decodes a BIGINT as Postgres sent it: NULL, 8 bytes big-endian in
// the binary format, digits in the text format.
func pgInt8(b []byte, binaryFormat bool) (sql.NullInt64, error) {
	switch {
	case b == nil:
		return sql.NullInt64{}, nil
	case binaryFormat && len(b) == 8:
		return sql.NullInt64{Int64: int64(binary.BigEndian.Uint64(b)), Valid: true}, nil
	case !binaryFormat:
		n, err := strconv.ParseInt(string(b), 10, 64)
		return sql.NullInt64{Int64: n, Valid: err == nil}, err
	}
	return sql.NullInt64{}, fmt.Errorf("load released rows: a BIGINT of %d bytes", len(b))
}
