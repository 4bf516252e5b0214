package server

import (
	"cmp"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"tiltline/survey"
)

// The organisation's set-up: the organisation itself, its units, its people
// and their API tokens. Every query is scoped to the viewer's organisation;
// anything else is a 404, as if it did not exist.

func idParam(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.ErrNotFound
	}
	return id, nil
}

// formErrors turns a domain validation error into the template's field map.
func formErrors(err error) (map[string]string, bool) {
	var fe survey.FieldErrors
	if errors.As(err, &fe) {
		return fe, true
	}
	return nil, false
}

type adminHomeData struct {
	Org       *survey.Organisation
	Campaigns []campaignRow
	CSRF      string
}

type campaignRow struct {
	survey.Campaign
	Responses int64
}

func (a *App) adminHome(c echo.Context) error {
	v := viewerOf(c)
	ctx := c.Request().Context()
	org, err := survey.OrganisationByID(ctx, a.db, v.OrgID)
	if err != nil {
		return err
	}
	cs, err := survey.Campaigns(ctx, a.db, v.OrgID)
	if err != nil {
		return err
	}
	rows := make([]campaignRow, len(cs))
	for i, cp := range cs {
		rows[i] = campaignRow{Campaign: cp}
		a.db.Read.Model(&survey.Response{}).Where("campaign_id = ?", cp.ID).Count(&rows[i].Responses)
	}
	return a.render(c, http.StatusOK, "admin_home", a.page(c, "admin.home.title", adminHomeData{Org: org, Campaigns: rows, CSRF: v.CSRF}))
}

type orgForm struct {
	ID     int64
	Input  survey.OrgInput
	Errors map[string]string
	CSRF   string
	// Choices for the selects.
	Sectors, Regions, SizeBands []string
	// Logo is the organisation's logo URL ("" without one); LogoError a message id.
	Logo, LogoError string
}

func (a *App) newOrgForm(c echo.Context, id int64, in survey.OrgInput, errs map[string]string) orgForm {
	return orgForm{ID: id, Input: in, Errors: errs, CSRF: csrfOf(c), Sectors: survey.Sectors, Regions: survey.Regions, SizeBands: survey.SizeBands}
}

func orgInput(c echo.Context) survey.OrgInput {
	return survey.OrgInput{Name: c.FormValue("name"), Sector: c.FormValue("sector"), Region: c.FormValue("region"),
		SizeBand: c.FormValue("size_band"), BenchmarkOptIn: c.FormValue("benchmark_opt_in") == "on"}
}

func (a *App) orgEditPage(c echo.Context) error {
	o, err := survey.OrganisationByID(c.Request().Context(), a.db, viewerOf(c).OrgID)
	if err != nil {
		return err
	}
	f, err := a.orgFormOf(c, o, nil)
	if err != nil {
		return err
	}
	return a.render(c, http.StatusOK, "admin_org", a.page(c, "admin.org.title", f))
}

func (a *App) orgSave(c echo.Context) error {
	v := viewerOf(c)
	in := orgInput(c)
	_, err := survey.SaveOrganisation(c.Request().Context(), a.db, v.OrgID, in)
	if fe, ok := formErrors(err); ok {
		return a.render(c, http.StatusUnprocessableEntity, "admin_org", a.page(c, "admin.org.title", a.newOrgForm(c, v.OrgID, in, fe)))
	}
	if err != nil {
		return err
	}
	a.pool.invalidate() // opting out takes the organisation's entries out of the pool at once
	a.sections.forgetBrand(v.OrgID)
	return c.Redirect(http.StatusSeeOther, "/admin")
}

type orgsData struct {
	Orgs []survey.Organisation
	Form orgForm
}

// orgsPage lists organisations for the platform admin, with a form to add one.
func (a *App) orgsPage(c echo.Context) error {
	return a.renderOrgs(c, http.StatusOK, a.newOrgForm(c, 0, survey.OrgInput{}, nil))
}

func (a *App) renderOrgs(c echo.Context, status int, f orgForm) error {
	orgs, err := survey.Organisations(c.Request().Context(), a.db)
	if err != nil {
		return err
	}
	return a.render(c, status, "admin_orgs", a.page(c, "admin.orgs.title", orgsData{Orgs: orgs, Form: f}))
}

func (a *App) orgCreate(c echo.Context) error {
	in := orgInput(c)
	o, err := survey.SaveOrganisation(c.Request().Context(), a.db, 0, in)
	if fe, ok := formErrors(err); ok {
		return a.renderOrgs(c, http.StatusUnprocessableEntity, a.newOrgForm(c, 0, in, fe))
	}
	if err != nil {
		return err
	}
	return a.manageOrg(c, o.ID)
}

// orgManage lets a platform admin act for one organisation.
func (a *App) orgManage(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if _, err := survey.OrganisationByID(c.Request().Context(), a.db, id); err != nil {
		return echo.ErrNotFound
	}
	return a.manageOrg(c, id)
}

func (a *App) manageOrg(c echo.Context, id int64) error {
	s, _ := a.sessions.Get(c.Request(), sessionName)
	s.Values["org"] = id
	if err := s.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin")
}

type unitsData struct {
	Units  []survey.BusinessUnit
	Name   string
	Errors map[string]string
	CSRF   string
}

func (a *App) unitsPage(c echo.Context) error {
	return a.renderUnits(c, http.StatusOK, "", nil)
}

func (a *App) renderUnits(c echo.Context, status int, name string, errs map[string]string) error {
	units, err := survey.Units(c.Request().Context(), a.db, viewerOf(c).OrgID)
	if err != nil {
		return err
	}
	return a.render(c, status, "admin_units", a.page(c, "admin.units.title", unitsData{Units: units, Name: name, Errors: errs, CSRF: csrfOf(c)}))
}

func (a *App) unitAdd(c echo.Context) error {
	name := c.FormValue("name")
	_, err := survey.AddUnit(c.Request().Context(), a.db, viewerOf(c).OrgID, name)
	if fe, ok := formErrors(err); ok {
		return a.renderUnits(c, http.StatusUnprocessableEntity, name, fe)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/units")
}

func (a *App) unitDelete(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if !confirmed(c) {
		var n int64
		if err := a.db.Read.WithContext(c.Request().Context()).Model(&survey.BusinessUnit{}).Where("id = ? AND organisation_id = ?", id, viewerOf(c).OrgID).Count(&n).Error; err != nil || n == 0 {
			return cmp.Or[error](err, echo.ErrNotFound)
		}
		return askFirst(c, "")
	}
	if err := survey.DeleteUnit(c.Request().Context(), a.db, viewerOf(c).OrgID, id); errors.Is(err, survey.ErrNotFound) {
		return echo.ErrNotFound
	} else if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/units")
}

// Roles an organisation admin may hand out.
var orgRoles = []string{survey.RoleOrgAdmin, survey.RoleManager, survey.RoleLearner}

type usersData struct {
	Users             []survey.User
	Email, Name, Role string
	Roles             []string
	Errors            map[string]string
	// SetLink is the one-time link for the account just created, shown once.
	SetLink string
	CSRF    string
	// Units of the organisation, and the ones each limited manager sees.
	Units    []survey.BusinessUnit
	Assigned map[int64][]int64
	// The units form of one manager sent back (422): what was chosen, and why not.
	Posted *unitsForm
	// Scope is the add form's choice for a new manager: "all" or "units".
	Scope string
	// OpenUnits is the manager whose units form opens: one just added to
	// choose units for.
	OpenUnits int64
}

// unitsForm is one manager's units form as posted.
type unitsForm struct {
	UserID int64
	All    bool
	Units  []int64
	Error  string
}

// AllUnits reports whether a manager's form shows "whole organisation".
func (d usersData) AllUnits(u survey.User) bool {
	if d.Posted != nil && d.Posted.UserID == u.ID {
		return d.Posted.All
	}
	return u.AllUnits
}

// Has reports whether a manager's form ticks a unit.
func (d usersData) Has(userID, unitID int64) bool {
	if d.Posted != nil && d.Posted.UserID == userID {
		return slices.Contains(d.Posted.Units, unitID)
	}
	return slices.Contains(d.Assigned[userID], unitID)
}

// HasManagers reports whether the organisation has a manager, whose units
// the page then lets the admin choose.
func (d usersData) HasManagers() bool {
	return slices.ContainsFunc(d.Users, func(u survey.User) bool { return u.Role == survey.RoleManager })
}

// unitsFilterFrom is the number of units from which a manager's unit list
// gets a filter box: a longer list no longer fits a phone's screen.
const unitsFilterFrom = 9

// ManyUnits reports whether the unit lists need a filter box.
func (d usersData) ManyUnits() bool { return len(d.Units) >= unitsFilterFrom }

// UnitsError is the error of a manager's units form, if it was sent back.
func (d usersData) UnitsError(userID int64) string {
	if d.Posted != nil && d.Posted.UserID == userID {
		return d.Posted.Error
	}
	return ""
}

func (a *App) usersPage(c echo.Context) error {
	return a.renderUsers(c, http.StatusOK, usersData{Role: survey.RoleManager})
}

func (a *App) renderUsers(c echo.Context, status int, d usersData) error {
	users, err := survey.OrgUsers(c.Request().Context(), a.db, viewerOf(c).OrgID)
	if err != nil {
		return err
	}
	d.Users, d.Roles, d.CSRF = users, orgRoles, csrfOf(c)
	ctx := c.Request().Context()
	if d.Units, err = survey.Units(ctx, a.db, viewerOf(c).OrgID); err != nil {
		return err
	}
	if d.Assigned, err = survey.OrgManagerUnits(ctx, a.db, viewerOf(c).OrgID); err != nil {
		return err
	}
	return a.render(c, status, "admin_users", a.page(c, "admin.users.title", d))
}

// userUnits gives a manager the whole organisation (scope=all) or only the
// units ticked (scope=units); which one is always an explicit choice.
func (a *App) userUnits(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	users, err := survey.OrgUsers(c.Request().Context(), a.db, viewerOf(c).OrgID)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(users, func(u survey.User) bool { return u.ID == id && u.Role == survey.RoleManager }) {
		return echo.ErrNotFound // units go to managers of this organisation only
	}
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest)
	}
	f := &unitsForm{UserID: id, All: form.Get("scope") == "all"}
	for _, s := range form["unit"] {
		u, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			f.Error = "form.error.unknown_unit"
			continue
		}
		f.Units = append(f.Units, u)
	}
	switch scope := form.Get("scope"); {
	case scope != "all" && scope != "units":
		f.Error = "form.error.units_scope"
	case f.Error == "":
		err = survey.SetManagerUnits(c.Request().Context(), a.db, viewerOf(c).OrgID, id, f.All, f.Units)
		switch {
		case errors.Is(err, survey.ErrNotManager):
			return echo.ErrNotFound
		case errors.Is(err, survey.ErrUnknownUnit):
			f.Error = "form.error.unknown_unit"
		case errors.Is(err, survey.ErrNoUnits):
			f.Error = "form.error.units_required"
		case err != nil:
			return err
		}
	}
	if f.Error != "" {
		return a.renderUsers(c, http.StatusUnprocessableEntity, usersData{Role: survey.RoleManager, Posted: f})
	}
	return c.Redirect(http.StatusSeeOther, "/admin/users")
}

// userAdd creates an account and shows a one-time link for its owner to set a password.
func (a *App) userAdd(c echo.Context) error {
	v := viewerOf(c)
	d := usersData{Email: strings.TrimSpace(c.FormValue("email")), Name: strings.TrimSpace(c.FormValue("name")), Role: c.FormValue("role"),
		Scope: cmp.Or(c.FormValue("scope"), "units"), Errors: map[string]string{}}
	if !slices.Contains(orgRoles, d.Role) {
		d.Errors["role"] = "form.error.choice"
	}
	if d.Scope != "all" && d.Scope != "units" {
		d.Errors["scope"] = "form.error.choice"
	}
	if _, err := survey.NormaliseEmail(d.Email); err != nil {
		d.Errors["email"] = "form.error.email"
	}
	if len(d.Errors) > 0 {
		return a.renderUsers(c, http.StatusUnprocessableEntity, d)
	}
	ctx := c.Request().Context()
	u, _, err := survey.CreateUser(ctx, a.db, d.Email, d.Role, &v.OrgID)
	if errors.Is(err, survey.ErrEmailTaken) {
		d.Errors["email"] = "form.error.email_taken"
		return a.renderUsers(c, http.StatusUnprocessableEntity, d)
	}
	if err != nil {
		return err
	}
	if d.Name != "" {
		a.db.Write.Model(u).Update("name", d.Name)
	}
	// A new manager reads the whole organisation only when chosen so;
	// otherwise nothing until units are ticked, in the form opened below.
	open := int64(0)
	if u.Role == survey.RoleManager {
		if d.Scope == "all" {
			if err := survey.SetManagerUnits(ctx, a.db, v.OrgID, u.ID, true, nil); err != nil {
				return err
			}
		} else {
			open = u.ID
		}
	}
	token, err := survey.NewPasswordToken(ctx, a.db, u.ID, passwordLinkTTL)
	if err != nil {
		return err
	}
	link := a.cfg.BaseURL + "/password/" + token
	if err := a.queuePasswordMail(c, u.Email); err != nil {
		return err
	}
	return a.renderUsers(c, http.StatusOK, usersData{Role: survey.RoleManager, SetLink: link, OpenUnits: open})
}

func (a *App) userDelete(c echo.Context) error {
	v := viewerOf(c)
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if id == v.ID {
		return echo.NewHTTPError(http.StatusBadRequest)
	}
	if !confirmed(c) {
		var n int64
		if err := a.db.Read.WithContext(c.Request().Context()).Model(&survey.User{}).Where("id = ? AND organisation_id = ?", id, v.OrgID).Count(&n).Error; err != nil || n == 0 {
			return cmp.Or[error](err, echo.ErrNotFound)
		}
		return askFirst(c, "")
	}
	if err := survey.DeleteUser(c.Request().Context(), a.db, v.OrgID, id); errors.Is(err, survey.ErrNotFound) {
		return echo.ErrNotFound
	} else if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/users")
}
