package server

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"tiltline/survey"
)

// API tokens: each admin manages their own under /admin/tokens; an org
// admin (or a platform admin acting for the organisation) sees every token
// of the organisation's accounts under /admin/org/tokens and may revoke any
// of them, after a confirmation page. Another organisation's token is a 404.

type tokensData struct {
	Tokens []survey.APIToken
	// New is the token just issued; shown once, never stored in clear.
	New *survey.IssuedAPIToken
	// Days is the lifetime on the form; Choices what it offers (0: none).
	Days    int
	Choices []int
	Error   string
	Now     time.Time
	CSRF    string
}

func (a *App) tokensPage(c echo.Context) error {
	return a.renderTokens(c, http.StatusOK, tokensData{Days: survey.DefaultAPITokenDays})
}

func (a *App) renderTokens(c echo.Context, status int, d tokensData) error {
	ts, err := survey.APITokens(c.Request().Context(), a.db, viewerOf(c).ID)
	if err != nil {
		return err
	}
	d.Tokens, d.Choices, d.Now, d.CSRF = ts, survey.APITokenDayChoices, time.Now().UTC(), csrfOf(c)
	c.Response().Header().Set("Cache-Control", "no-store")
	return a.render(c, status, "admin_tokens", a.page(c, "admin.tokens.title", d))
}

func (a *App) tokenCreate(c echo.Context) error {
	name := strings.TrimSpace(c.FormValue("name"))
	if len(name) > 100 {
		name = name[:100]
	}
	days := survey.DefaultAPITokenDays
	if v := c.FormValue("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || !slices.Contains(survey.APITokenDayChoices, n) {
			return a.renderTokens(c, http.StatusUnprocessableEntity, tokensData{Days: survey.DefaultAPITokenDays, Error: "admin.tokens.error.lifetime"})
		}
		days = n
	}
	issued, err := survey.IssueAPIToken(c.Request().Context(), a.db, viewerOf(c).ID, name, days)
	if err != nil {
		return err
	}
	return a.renderTokens(c, http.StatusOK, tokensData{New: &issued, Days: days})
}

func (a *App) tokenRevoke(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := survey.RevokeAPIToken(c.Request().Context(), a.db, viewerOf(c).ID, id); errors.Is(err, survey.ErrNotFound) {
		return echo.ErrNotFound
	} else if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/tokens")
}

type orgTokensData struct {
	Org    *survey.Organisation
	Tokens []survey.OrgAPIToken
	// Confirm is the token the confirmation page asks about.
	Confirm *survey.OrgAPIToken
	Now     time.Time
	CSRF    string
}

func (a *App) orgTokensPage(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewerOf(c)
	org, err := survey.OrganisationByID(ctx, a.db, v.OrgID)
	if err != nil {
		return err
	}
	ts, err := survey.OrgAPITokens(ctx, a.db, v.OrgID)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return a.render(c, http.StatusOK, "admin_org_tokens", a.page(c, "admin.tokens.org_title",
		orgTokensData{Org: org, Tokens: ts, Now: time.Now().UTC(), CSRF: v.CSRF}))
}

// orgTokenConfirm asks before revoking: the token may be what keeps
// another team's integration running.
func (a *App) orgTokenConfirm(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	v := viewerOf(c)
	t, err := survey.OrgAPITokenByID(c.Request().Context(), a.db, v.OrgID, id)
	if errors.Is(err, survey.ErrNotFound) {
		return echo.ErrNotFound
	} else if err != nil {
		return err
	}
	if t.RevokedAt != nil {
		return c.Redirect(http.StatusSeeOther, "/admin/org/tokens")
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return a.render(c, http.StatusOK, "admin_org_tokens", a.page(c, "admin.tokens.confirm_title",
		orgTokensData{Confirm: t, Now: time.Now().UTC(), CSRF: v.CSRF}))
}

func (a *App) orgTokenRevoke(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	v := viewerOf(c)
	if err := survey.RevokeOrgAPIToken(c.Request().Context(), a.db, v.OrgID, id); errors.Is(err, survey.ErrNotFound) {
		return echo.ErrNotFound
	} else if err != nil {
		return err
	}
	a.log.Info("API token revoked by an admin", "token_id", id, "org", v.OrgID, "admin", v.ID)
	return c.Redirect(http.StatusSeeOther, "/admin/org/tokens")
}
