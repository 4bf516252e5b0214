package survey

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"

	"gorm.io/gorm"
)

type sqlStateError string

func (e sqlStateError) Error() string    { return "postgres error " + string(e) }
func (e sqlStateError) SQLState() string { return string(e) }

func TestUnavailable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("boom"), false},
		{gorm.ErrRecordNotFound, false},
		{ErrNoDraft, false},
		{fmt.Errorf("failed to connect: %w", refused), true},
		{fmt.Errorf("save answers: %w", driver.ErrBadConn), true},
		{sqlStateError("57P01"), true},                            // terminating connection due to administrator command
		{fmt.Errorf("connect: %w", sqlStateError("57P03")), true}, // the database system is starting up
		{sqlStateError("08006"), true},                            // connection failure
		{sqlStateError("23505"), false},                           // unique violation: a real answer
		{sqlStateError("40001"), false},                           // serialization failure: not an outage
	} {
		if got := Unavailable(c.err); got != c.want {
			t.Errorf("Unavailable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
