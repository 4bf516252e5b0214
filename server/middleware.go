package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"time"

	"github.com/labstack/echo/v4"
)

// logRequests writes one line per request. It logs the route pattern
// (/s/:token), never the path: paths of respondent routes carry their token.
func (a *App) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		res := c.Response()
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		elapsed := time.Since(start)
		a.metrics.observe(route, c.Request().Method, res.Status, elapsed)
		// A 5xx for a client that had gone (the request's context cancelled)
		// is what a handler answers to the cancellation, not a server fault.
		level := slog.LevelInfo
		if res.Status >= 500 && !errors.Is(c.Request().Context().Err(), context.Canceled) {
			level = slog.LevelError
		}
		a.log.LogAttrs(c.Request().Context(), level, "request",
			slog.String("id", res.Header().Get(echo.HeaderXRequestID)),
			slog.String("method", c.Request().Method),
			slog.String("route", route),
			slog.Int("status", res.Status),
			slog.Int64("bytes", res.Size),
			slog.Float64("ms", float64(elapsed.Microseconds())/1000),
		)
		return nil
	}
}

// recoverPanics turns a panic into a logged 500 and the friendly error page.
func (a *App) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				stack := make([]byte, 4<<10)
				stack = stack[:runtime.Stack(stack, false)]
				a.log.Error("panic", "id", c.Response().Header().Get(echo.HeaderXRequestID),
					"route", c.Path(), "panic", fmt.Sprint(r), "stack", string(stack))
				err = errors.New("panic recovered")
			}
		}()
		return next(c)
	}
}

// contentSecurityPolicy allows only our own scripts and styles. No inline
// code, so an injected string can never run.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
	"object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		// Respondent URLs carry tokens: never send them to another site.
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		return next(c)
	}
}
