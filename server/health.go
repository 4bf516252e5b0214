package server

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// healthz says the process is up; it touches nothing else.
func (a *App) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz says whether this instance can do useful work: the database answers
// and its schema is the one this binary expects.
func (a *App) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	fail := func(reason string) error {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": reason})
	}
	if err := a.db.Ping(ctx); err != nil {
		return fail("database unreachable")
	}
	current, known, err := a.db.SchemaStatus(ctx)
	if err != nil {
		return fail("schema version unknown")
	}
	if current != known {
		return fail("schema not current")
	}
	return c.JSON(http.StatusOK, map[string]any{"status": "ok", "schema": current})
}
