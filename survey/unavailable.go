package survey

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
)

// Unavailable reports whether err means the database could not be reached
// or went away mid-request — a restart, a failover, a network fault — as
// opposed to a bug or a refused statement. It is a condition to retry
// later: the server answers 503 to it, and the connection pool reconnects
// by itself once the database is back.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var ne net.Error // refused, reset, timed out: pgx wraps the dial or read error
	if errors.As(err, &ne) {
		return true
	}
	// Postgres errors (pgconn.PgError) carry a SQLSTATE: class 08 is a
	// connection exception; 57P01-03 are the server shutting down, crashed
	// or still starting; 53300 is too many connections.
	var pe interface{ SQLState() string }
	if errors.As(err, &pe) {
		code := pe.SQLState()
		return strings.HasPrefix(code, "08") || code == "57P01" || code == "57P02" || code == "57P03" || code == "53300"
	}
	return false
}
