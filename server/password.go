package server

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"tiltline/survey"
	"tiltline/survey/outbox"
)

// Password links: one-time, hashed in the database, valid for a day. The
// "forgot password" form answers the same page, at the same speed, whether
// or not the address has an account, so it cannot be used to find out who
// has one: it only queues a mail job (outbox.QueuePasswordMail).

const passwordLinkTTL = 24 * time.Hour

type forgotData struct {
	Email string
	Sent  bool
}

func (a *App) forgotPage(c echo.Context) error {
	return a.render(c, http.StatusOK, "password_forgot", a.page(c, "auth.forgot.title", forgotData{}))
}

func (a *App) forgot(c echo.Context) error {
	if !sameOrigin(c) {
		return echo.NewHTTPError(http.StatusForbidden)
	}
	email := strings.TrimSpace(c.FormValue("email"))
	d := forgotData{Email: email, Sent: true}
	if !a.logins.allow("ip:"+c.RealIP(), "reset:"+strings.ToLower(email)) {
		return a.render(c, http.StatusOK, "password_forgot", a.page(c, "auth.forgot.title", d))
	}
	// Only queued, for known and unknown addresses alike: the mail worker
	// finds the account, so the answer and its time are the same for all,
	// and a slow or broken mail server cannot show here.
	err := outbox.QueuePasswordMail(c.Request().Context(), a.db, email, localeOf(c))
	if err != nil && !errors.Is(err, survey.ErrInvalidEmail) {
		return err
	}
	if err == nil {
		a.mail.Kick()
	}
	return a.render(c, http.StatusOK, "password_forgot", a.page(c, "auth.forgot.title", d))
}

type resetData struct {
	Token string
	Error string
}

func (a *App) resetPage(c echo.Context) error {
	token := c.Param("token")
	if err := survey.CheckPasswordToken(c.Request().Context(), a.db, token); err != nil {
		return a.render(c, http.StatusNotFound, "password_reset", a.page(c, "auth.reset.title", resetData{Error: "auth.error.link"}))
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return a.render(c, http.StatusOK, "password_reset", a.page(c, "auth.reset.title", resetData{Token: token}))
}

func (a *App) reset(c echo.Context) error {
	if !sameOrigin(c) {
		return echo.NewHTTPError(http.StatusForbidden)
	}
	token := c.Param("token")
	password := c.FormValue("password")
	if password != c.FormValue("confirm") {
		return a.render(c, http.StatusUnprocessableEntity, "password_reset", a.page(c, "auth.reset.title", resetData{Token: token, Error: "auth.error.mismatch"}))
	}
	u, err := survey.UsePasswordToken(c.Request().Context(), a.db, token, password)
	switch {
	case errors.Is(err, survey.ErrWeakPassword):
		return a.render(c, http.StatusUnprocessableEntity, "password_reset", a.page(c, "auth.reset.title", resetData{Token: token, Error: "auth.error.weak"}))
	case errors.Is(err, survey.ErrTokenInvalid):
		return a.render(c, http.StatusNotFound, "password_reset", a.page(c, "auth.reset.title", resetData{Error: "auth.error.link"}))
	case err != nil:
		return err
	}
	if err := a.signIn(c, u); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin")
}
