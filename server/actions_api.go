package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"tiltline/portal"
	"tiltline/survey"
	"tiltline/survey/actions"
)

// The actions API: the same rules as the pages (survey/actions decides),
// for a bearer token's user. Another organisation's action, or one the
// user does not see, is 404; one they see but may not change is 403.

type apiAction struct {
	ID         int64      `json:"id"`
	Title      string     `json:"title"`
	Body       string     `json:"body"`
	OwnerID    *int64     `json:"owner_id"`
	OwnerEmail string     `json:"owner_email,omitempty"`
	DueOn      string     `json:"due_on"`
	Status     string     `json:"status"`
	Overdue    bool       `json:"overdue"`
	Practices  []string   `json:"practices"`
	Links      []string   `json:"links"` // the practices' portal pages
	WholeOrg   bool       `json:"whole_organisation"`
	Units      []int64    `json:"units"`
	CampaignID *int64     `json:"campaign_id"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	DoneAt     *time.Time `json:"done_at,omitempty"`
}

func (a *App) toAPIAction(x *actions.Action) apiAction {
	out := apiAction{ID: x.ID, Title: x.Title, Body: x.Body, OwnerID: x.OwnerID, OwnerEmail: x.OwnerEmail, DueOn: x.DueOn.Format(time.DateOnly),
		Status: x.Status, Overdue: x.Overdue(a.now()), Practices: x.Practices, WholeOrg: x.WholeOrg, Units: x.Units,
		CampaignID: x.CampaignID, CreatedAt: x.CreatedAt, UpdatedAt: x.UpdatedAt, DoneAt: x.DoneAt}
	if out.Practices == nil {
		out.Practices = []string{}
	}
	if out.Units == nil {
		out.Units = []int64{}
	}
	m := a.models.Latest()
	for _, id := range x.Practices {
		if p, ok := m.Practice(id); ok {
			out.Links = append(out.Links, a.cfg.BaseURL+portal.PagePath(p.Subsection.Slug, id))
		}
	}
	return out
}

// apiActionInput is the body of POST and PATCH; in a PATCH, what is absent
// stays as it was.
type apiActionInput struct {
	Title      *string   `json:"title"`
	Body       *string   `json:"body"`
	OwnerID    *int64    `json:"owner_id"`
	DueOn      *string   `json:"due_on"`
	Status     *string   `json:"status"`
	Practices  *[]string `json:"practices"`
	WholeOrg   *bool     `json:"whole_organisation"`
	Units      *[]int64  `json:"units"`
	CampaignID *int64    `json:"campaign_id"`
}

// apply lays the body over in; a due day that is not YYYY-MM-DD is a field error.
func (b apiActionInput) apply(in *actions.Input) survey.FieldErrors {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&in.Title, b.Title)
	set(&in.Body, b.Body)
	set(&in.Status, b.Status)
	if b.OwnerID != nil {
		in.OwnerID = *b.OwnerID
	}
	if b.Practices != nil {
		in.Practices = *b.Practices
	}
	if b.Units != nil {
		in.Units = *b.Units
		if b.WholeOrg == nil {
			in.WholeOrg = len(in.Units) == 0
		}
	}
	if b.WholeOrg != nil {
		in.WholeOrg = *b.WholeOrg
	}
	if b.CampaignID != nil {
		in.CampaignID = *b.CampaignID
	}
	if b.DueOn != nil {
		t, err := time.Parse(time.DateOnly, *b.DueOn)
		if err != nil {
			return survey.FieldErrors{"due_on": "actions.error.due"}
		}
		in.DueOn = t
	}
	return nil
}

// apiInvalid answers 422 with each field's problem in the caller's language.
func (a *App) apiInvalid(c echo.Context, fe survey.FieldErrors) error {
	keys := make([]string, 0, len(fe))
	for k := range fe {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+": "+a.i18n.T(localeOf(c), fe[k], nil))
	}
	return echo.NewHTTPError(http.StatusUnprocessableEntity, apiFault{code: "invalid_input", message: localized(strings.Join(parts, "; "))})
}

func (a *App) apiActionError(c echo.Context, err error) error {
	var fe survey.FieldErrors
	switch {
	case errors.As(err, &fe):
		return a.apiInvalid(c, fe)
	case errors.Is(err, actions.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, "no such action")
	case errors.Is(err, actions.ErrForbidden):
		return echo.NewHTTPError(http.StatusForbidden, "this token's user may not do that to this action")
	}
	return err
}

// decodeJSON reads a small JSON body; unknown fields are refused so a typo
// does not pass silently.
func decodeJSON(c echo.Context, into any) error {
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "the body must be a JSON object of the documented fields: "+err.Error())
	}
	return nil
}

func (a *App) apiActions(c echo.Context) error {
	act, err := a.actor(c)
	if err != nil {
		return err
	}
	f, desc := boardFilter(c)
	xs, err := actions.List(c.Request().Context(), a.db, act, f)
	if err != nil {
		return err
	}
	if desc {
		slices.Reverse(xs)
	}
	out := make([]apiAction, len(xs))
	for i, x := range xs {
		out[i] = a.toAPIAction(x)
	}
	p, err := paginate(c, out)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (a *App) apiActionCreate(c echo.Context) error {
	act, err := a.actor(c)
	if err != nil {
		return err
	}
	var body apiActionInput
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	in := actions.Input{WholeOrg: true}
	if fe := body.apply(&in); fe != nil {
		return a.apiInvalid(c, fe)
	}
	x, err := actions.Create(c.Request().Context(), a.db, act, a.models.Latest(), in, a.now())
	if err != nil {
		return a.apiActionError(c, err)
	}
	a.mail.Kick()
	x, err = actions.Get(c.Request().Context(), a.db, act, x.ID)
	if err != nil {
		return a.apiActionError(c, err)
	}
	return c.JSON(http.StatusCreated, a.toAPIAction(x))
}

func (a *App) apiAction(c echo.Context) (actions.Actor, *actions.Action, error) {
	act, err := a.actor(c)
	if err != nil {
		return act, nil, err
	}
	id, err := idParam(c, "id")
	if err != nil {
		return act, nil, echo.NewHTTPError(http.StatusNotFound, "no such action")
	}
	x, err := actions.Get(c.Request().Context(), a.db, act, id)
	if err != nil {
		return act, nil, a.apiActionError(c, err)
	}
	return act, x, nil
}

func (a *App) apiActionGet(c echo.Context) error {
	_, x, err := a.apiAction(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a.toAPIAction(x))
}

func (a *App) apiActionPatch(c echo.Context) error {
	act, x, err := a.apiAction(c)
	if err != nil {
		return err
	}
	var body apiActionInput
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	in := actions.InputOf(x)
	if fe := body.apply(&in); fe != nil {
		return a.apiInvalid(c, fe)
	}
	if x, err = actions.Update(c.Request().Context(), a.db, act, a.models.Latest(), x.ID, in, a.now()); err != nil {
		return a.apiActionError(c, err)
	}
	a.mail.Kick()
	return c.JSON(http.StatusOK, a.toAPIAction(x))
}

func (a *App) apiActionDelete(c echo.Context) error {
	act, x, err := a.apiAction(c)
	if err != nil {
		return err
	}
	if err := actions.Delete(c.Request().Context(), a.db, act, x.ID, a.now()); err != nil {
		return a.apiActionError(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

type apiComment struct {
	ID        int64     `json:"id"`
	Author    string    `json:"author"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

func (a *App) apiActionComment(c echo.Context) error {
	act, x, err := a.apiAction(c)
	if err != nil {
		return err
	}
	var body struct {
		Body string `json:"body"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	cm, err := actions.AddComment(c.Request().Context(), a.db, act, x.ID, body.Body, a.now())
	if err != nil {
		return a.apiActionError(c, err)
	}
	return c.JSON(http.StatusCreated, apiComment{ID: cm.ID, Author: cm.AuthorName, Body: cm.Body, CreatedAt: cm.CreatedAt})
}
