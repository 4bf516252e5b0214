package server

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"tiltline/survey"
)

// The JSON API for integrations (HR systems, BI tools). A bearer token stands
// for its user: same roles, same organisation, same 404 for other tenants.
// Errors are {"error":{"code":…,"message":…}} (see handleError).

// apiAuth authenticates the bearer token; sessions do not count here, so a
// browser cannot be tricked into calling the API (no CSRF surface). A
// refusal says, in the caller's language, whether the token is missing,
// unknown or revoked, or expired (code "token_expired").
func (a *App) apiAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		token, ok := strings.CutPrefix(c.Request().Header.Get("Authorization"), "Bearer ")
		if !ok {
			return a.tokenRefused(c, "", "unauthorized", "api.token.missing")
		}
		u, err := survey.UserByAPIToken(c.Request().Context(), a.db, strings.TrimSpace(token))
		switch {
		case errors.Is(err, survey.ErrAPITokenExpired):
			return a.tokenRefused(c, "invalid_token", "token_expired", "api.token.expired")
		case errors.Is(err, survey.ErrBadCredentials) || errors.Is(err, survey.ErrNotFound):
			return a.tokenRefused(c, "invalid_token", "unauthorized", "api.token.invalid")
		case err != nil:
			return err
		}
		v := &viewer{User: u}
		if u.OrganisationID != nil {
			v.OrgID = *u.OrganisationID
		}
		c.Set(userKey, v)
		return next(c)
	}
}

// tokenRefused answers 401 with the RFC 6750 challenge (no error code when
// no token was sent) and a localised message.
func (a *App) tokenRefused(c echo.Context, challenge, code, id string) error {
	h := `Bearer realm="tiltline"`
	if challenge != "" {
		h += `, error="` + challenge + `"`
	}
	c.Response().Header().Set("WWW-Authenticate", h)
	return echo.NewHTTPError(http.StatusUnauthorized, apiFault{code: code, message: localized(a.i18n.T(localeOf(c), id, nil))})
}

// apiRole admits tokens of the given roles that belong to an organisation.
func apiRole(roles ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			v := viewerOf(c)
			if !v.Is(roles...) {
				return echo.NewHTTPError(http.StatusForbidden, "this token's user may not do that")
			}
			if v.OrgID == 0 {
				return echo.NewHTTPError(http.StatusForbidden, "this token's user belongs to no organisation")
			}
			return next(c)
		}
	}
}

func (a *App) apiModel(c echo.Context) error {
	m := a.models.Latest()
	if v := c.QueryParam("version"); v != "" {
		n, err := strconv.Atoi(v)
		var ok bool
		if m, ok = a.models.Version(n); err != nil || !ok {
			return echo.NewHTTPError(http.StatusNotFound, "no such model version")
		}
	}
	return c.JSON(http.StatusOK, m)
}

// apiCampaign is the public shape of a campaign.
type apiCampaign struct {
	ID           int64      `json:"id"`
	Name         string     `json:"name"`
	Wave         string     `json:"wave"`
	Status       string     `json:"status"`
	ModelVersion int        `json:"model_version"`
	OpensAt      *time.Time `json:"opens_at"`
	ClosesAt     *time.Time `json:"closes_at"`
	Locales      []string   `json:"locales"`
	KMin         int        `json:"k_min"`
	PreviousID   *int64     `json:"previous_id"`
	OpenLinkURL  string     `json:"open_link_url,omitempty"`
}

// toAPICampaign shapes a campaign for v. The open link goes to admins only:
// whoever holds it can answer again and again, and a results reader who can
// add k−1 answers of their own to a group can read the one person left in it.
func (a *App) toAPICampaign(cp *survey.Campaign, v *viewer) apiCampaign {
	out := apiCampaign{ID: cp.ID, Name: cp.Name, Wave: cp.WaveLabel, Status: cp.Status, ModelVersion: cp.ModelVersion,
		OpensAt: cp.OpensAt, ClosesAt: cp.ClosesAt, Locales: strings.Split(cp.Locales, ","), KMin: cp.KMin, PreviousID: cp.PreviousID}
	if cp.OpenLink && cp.OpenKey != nil && v.CanAdmin() {
		out.OpenLinkURL = a.cfg.BaseURL + "/o/" + *cp.OpenKey
	}
	return out
}

// page is the envelope of every list: items plus where they sit.
type apiPage[T any] struct {
	Items   []T `json:"items"`
	Page    int `json:"page"`
	PerPage int `json:"per_page"`
	Total   int `json:"total"`
}

// paginate reads ?page= (from 1) and ?per_page= (1..200, default 50).
func paginate[T any](c echo.Context, all []T) (apiPage[T], error) {
	p := apiPage[T]{Page: 1, PerPage: 50, Total: len(all)}
	for _, q := range []struct {
		name string
		into *int
		max  int
	}{{"page", &p.Page, 1 << 30}, {"per_page", &p.PerPage, 200}} {
		if s := c.QueryParam(q.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > q.max {
				return p, echo.NewHTTPError(http.StatusBadRequest, q.name+" must be a whole number from 1 to "+strconv.Itoa(q.max))
			}
			*q.into = n
		}
	}
	start := min((p.Page-1)*p.PerPage, len(all))
	p.Items = all[start:min(start+p.PerPage, len(all))]
	return p, nil
}

func (a *App) apiCampaigns(c echo.Context) error {
	cs, err := survey.Campaigns(c.Request().Context(), a.db, viewerOf(c).OrgID)
	if err != nil {
		return err
	}
	out := make([]apiCampaign, len(cs))
	for i := range cs {
		out[i] = a.toAPICampaign(&cs[i], viewerOf(c))
	}
	p, err := paginate(c, out)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (a *App) apiCampaignGet(c echo.Context) error {
	cp, err := a.campaignOf(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a.toAPICampaign(cp, viewerOf(c)))
}
