package server

import (
	"html/template"
	"net/http"

	"github.com/labstack/echo/v4"

	"tiltline/survey"
)

type progressView struct {
	Answered, Total int
	Text            string
}

type sectionData struct {
	*respondentCtx
	Number       int
	Section      *survey.Section
	Last         bool
	Steps        []survey.SectionProgress
	Body         template.HTML
	ProgressView progressView
}

// progressText is what sighted and screen-reader users alike read: where they
// are, how much is done and roughly how long is left.
func (a *App) progressView(c echo.Context, m *survey.Model, p survey.Progress) progressView {
	left := minutesFor(p.Total - p.Answered)
	return progressView{Answered: p.Answered, Total: p.Total, Text: a.i18n.T(localeOf(c), "survey.progress", map[string]any{
		"Done": p.SectionsDone(), "Total": len(m.Sections), "Percent": p.Percent(), "Minutes": left,
	})}
}

func (a *App) renderSection(c echo.Context, rc *respondentCtx, n int, answers []byte) error {
	body, err := a.sections.get(rc.Model, n-1, localeOf(c))
	if err != nil {
		return err
	}
	prog := rc.Model.ProgressOf(answers)
	s := rc.Model.Sections[n-1]
	p := a.page(c, "", sectionData{
		respondentCtx: rc, Number: n, Section: s, Last: n == len(rc.Model.Sections),
		Steps: prog.Sections, Body: body.render(answers), ProgressView: a.progressView(c, rc.Model, prog),
	})
	p.Title = p.L(s.Title)
	return a.render(c, http.StatusOK, "section", p)
}

func (a *App) surveyNotice(c echo.Context, key string, campaign *survey.Campaign) error {
	contact := campaign.ContactName
	if campaign.ContactEmail != "" {
		contact += " <" + campaign.ContactEmail + ">"
	}
	return a.render(c, http.StatusOK, "survey_notice", a.page(c, key+".title", map[string]any{"Key": key, "Contact": contact}))
}
