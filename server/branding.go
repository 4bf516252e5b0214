package server

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // logo formats DecodeConfig accepts
	_ "image/jpeg"
	_ "image/png"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"tiltline/survey"
)

// Whose survey is this (issue 14): every respondent page shows the
// organisation's name and logo, the campaign's name in the page's language
// and its contact person; the respondent header has no "Sign in".

// pageBrand is the respondent pages' header and footer.
type pageBrand struct {
	Org, Logo    string // Logo: the logo's URL, "" without one
	Campaign     string
	Contact      string // name, else the address
	ContactEmail string
}

// logoTypes are the logo formats accepted, by sniffed content type, with
// the extension their URL carries.
var logoTypes = map[string]string{"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif"}

// logoURL is a logo's address: its content hash in the name lets browsers
// keep it for a year (as the static assets), and a new logo gets a new URL.
func logoURL(orgID int64, b survey.Brand) string {
	ext, ok := logoTypes[b.LogoType]
	if b.LogoHash == "" || !ok {
		return ""
	}
	return "/brand/" + strconv.FormatInt(orgID, 10) + "/logo." + b.LogoHash + "." + ext
}

// brandOf is the header and footer of a campaign's respondent pages; the
// organisation's part comes from the brand cache (no query per page).
func (a *App) brandOf(c echo.Context, camp *survey.Campaign) (*pageBrand, error) {
	b, err := a.sections.brand(c.Request().Context(), a.db, camp.OrganisationID)
	if err != nil && !errors.Is(err, survey.ErrNotFound) {
		return nil, err
	}
	pb := &pageBrand{Org: b.Name, Logo: logoURL(camp.OrganisationID, b), Campaign: camp.NameIn(localeOf(c)),
		Contact: strings.TrimSpace(camp.ContactName), ContactEmail: camp.ContactEmail}
	if pb.Contact == "" {
		pb.Contact = camp.ContactEmail
	}
	return pb, nil
}

// respondentPage is a.page for the respondent flow: with the campaign's brand.
func (a *App) respondentPage(c echo.Context, camp *survey.Campaign, titleID string, data any) (*Page, error) {
	p := a.page(c, titleID, data)
	b, err := a.brandOf(c, camp)
	if err != nil {
		return nil, err
	}
	p.Brand = b
	return p, nil
}

// serveLogo answers /brand/:org/:file. Only the current logo's URL
// answers; it never changes, so it is cached as the static assets are.
func (a *App) serveLogo(c echo.Context) error {
	orgID, err := strconv.ParseInt(c.Param("org"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	l, err := survey.LoadOrgLogo(c.Request().Context(), a.db, orgID)
	if errors.Is(err, survey.ErrNotFound) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	want := strings.TrimPrefix(logoURL(orgID, survey.Brand{LogoHash: l.Hash, LogoType: l.ContentType}), "/brand/"+c.Param("org")+"/")
	if want == "" || c.Param("file") != want {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	etag := `"` + l.Hash + `"`
	h.Set("ETag", etag)
	if c.Request().Header.Get("If-None-Match") == etag {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, l.ContentType, l.Body)
}

// checkLogo reads an uploaded logo and returns its content type, or the id
// of the message that says what is wrong with it.
func checkLogo(r io.Reader) (body []byte, contentType, problem string, err error) {
	body, err = io.ReadAll(io.LimitReader(r, survey.MaxLogoBytes+1))
	if err != nil {
		return nil, "", "", err
	}
	switch {
	case len(body) == 0:
		return nil, "", "admin.logo.error.empty", nil
	case len(body) > survey.MaxLogoBytes:
		return nil, "", "admin.logo.error.too_large", nil
	}
	contentType = http.DetectContentType(body)
	if _, ok := logoTypes[contentType]; !ok {
		return nil, "", "admin.logo.error.type", nil
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(body))
	if err != nil {
		return nil, "", "admin.logo.error.type", nil
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > 4000 || cfg.Height > 4000 {
		return nil, "", "admin.logo.error.size", nil
	}
	return body, contentType, "", nil
}

// orgLogoSave takes the admin's logo upload (multipart field "logo").
func (a *App) orgLogoSave(c echo.Context) error {
	v := viewerOf(c)
	fh, err := c.FormFile("logo")
	if err != nil {
		return a.orgPageWithLogoError(c, http.StatusUnprocessableEntity, "admin.logo.error.empty")
	}
	if fh.Size > survey.MaxLogoBytes {
		return a.orgPageWithLogoError(c, http.StatusRequestEntityTooLarge, "admin.logo.error.too_large")
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	body, ct, problem, err := checkLogo(f)
	if err != nil {
		return err
	}
	if problem != "" {
		return a.orgPageWithLogoError(c, http.StatusUnprocessableEntity, problem)
	}
	if _, err := survey.SaveOrgLogo(c.Request().Context(), a.db, v.OrgID, ct, body); err != nil {
		return err
	}
	a.sections.forgetBrand(v.OrgID)
	return c.Redirect(http.StatusSeeOther, "/admin/org")
}

// orgLogoDelete removes the organisation's logo.
func (a *App) orgLogoDelete(c echo.Context) error {
	v := viewerOf(c)
	if err := survey.DeleteOrgLogo(c.Request().Context(), a.db, v.OrgID); err != nil {
		return err
	}
	a.sections.forgetBrand(v.OrgID)
	return c.Redirect(http.StatusSeeOther, "/admin/org")
}

// orgPageWithLogoError shows the organisation page again with the logo
// form's error; the organisation's other fields are as stored.
func (a *App) orgPageWithLogoError(c echo.Context, status int, problem string) error {
	o, err := survey.OrganisationByID(c.Request().Context(), a.db, viewerOf(c).OrgID)
	if err != nil {
		return err
	}
	f, err := a.orgFormOf(c, o, nil)
	if err != nil {
		return err
	}
	f.LogoError = problem
	return a.render(c, status, "admin_org", a.page(c, "admin.org.title", f))
}

// orgFormOf is the organisation page's form for a stored organisation, with its logo.
func (a *App) orgFormOf(c echo.Context, o *survey.Organisation, errs map[string]string) (orgForm, error) {
	in := survey.OrgInput{Name: o.Name, Sector: o.Sector, Region: o.Region, SizeBand: o.SizeBand, BenchmarkOptIn: o.BenchmarkOptIn}
	f := a.newOrgForm(c, o.ID, in, errs)
	b, err := a.sections.brand(c.Request().Context(), a.db, o.ID)
	if err != nil && !errors.Is(err, survey.ErrNotFound) {
		return f, fmt.Errorf("organisation %d brand: %w", o.ID, err)
	}
	f.Logo = logoURL(o.ID, b)
	return f, nil
}

// Day is a date as the page's language writes it, without the time: "2 Dec 2026".
func (p *Page) Day(t time.Time) string {
	w := p.When(t)
	if i := strings.LastIndex(w, ", "); i > 0 {
		return w[:i]
	}
	return w
}
