package server

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"tiltline/survey"
)

// surveyPage opens a respondent link. For now it shows the first section
// read-only; answering, saving and submitting come with the respondent flow.
func (a *App) surveyPage(c echo.Context) error {
	inv, campaign, err := survey.FindInvitation(c.Request().Context(), a.db, c.Param("token"))
	if errors.Is(err, survey.ErrNotFound) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	switch {
	case inv.Status == survey.InviteCompleted:
		return a.surveyNotice(c, "survey.submitted", campaign)
	case campaign.Status == survey.StatusClosed:
		return a.surveyNotice(c, "survey.closed", campaign)
	case campaign.Status == survey.StatusDraft:
		return a.surveyNotice(c, "survey.not_open", campaign)
	}
	m, ok := a.models.Version(campaign.ModelVersion)
	if !ok {
		return errors.New("campaign pins an unknown model version")
	}
	section := m.Sections[0]
	p := a.page(c, "", map[string]any{"Campaign": campaign, "Model": m, "Section": section})
	p.Title = p.L(section.Title)
	return a.render(c, http.StatusOK, "survey", p)
}

func (a *App) surveyNotice(c echo.Context, key string, campaign *survey.Campaign) error {
	contact := campaign.ContactName
	if campaign.ContactEmail != "" {
		contact += " <" + campaign.ContactEmail + ">"
	}
	return a.render(c, http.StatusOK, "survey_notice", a.page(c, key+".title", map[string]any{"Key": key, "Contact": contact}))
}
