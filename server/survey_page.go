package server

import (
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"tiltline/survey"
)

type progressView struct {
	Answered, Total int
	Text            string
}

// sectionData is flat on purpose: text/template resolves fields through
// embedded structs by reflection on every access, and this is the hottest page.
type sectionData struct {
	Base, CSRF   string
	Number       int
	Sections     int
	Title        string
	Summary      string
	Last         bool
	Steps        template.HTML
	Body         template.HTML
	ProgressView progressView
}

// stepsNav writes the thirteen-step section navigation. It is built in Go
// rather than in the template because, with its escaping, it was a third of
// the page's rendering cost.
func stepsNav(base string, m *survey.Model, prog survey.Progress, current int, lang, doneLabel, reviewLabel string) template.HTML {
	var b strings.Builder
	esc := template.HTMLEscapeString
	b.WriteString(`<ol class="steps">`)
	for i, sec := range m.Sections {
		n := strconv.Itoa(i + 1)
		title := esc(sec.Title.In(lang))
		done := prog.Sections[i].Done()
		b.WriteString(`<li class="`)
		if done {
			b.WriteString("done")
		}
		if i+1 == current {
			b.WriteString(" current")
		}
		b.WriteString(`"><a href="` + esc(base) + "/p/" + n + `"`)
		if i+1 == current {
			b.WriteString(` aria-current="step"`)
		}
		b.WriteString(` title="` + title + `"><span class="visually-hidden">` + title)
		if done {
			b.WriteString(" (" + esc(doneLabel) + ")")
		}
		b.WriteString(`</span><span aria-hidden="true">` + n + "</span></a></li>")
	}
	b.WriteString(`<li><a href="` + esc(base) + `/review">` + esc(reviewLabel) + "</a></li></ol>")
	return template.HTML(b.String())
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
	lang := localeOf(c)
	steps := stepsNav(rc.Base, rc.Model, prog, n, lang, a.i18n.T(lang, "survey.step_done", nil), a.i18n.T(lang, "survey.review.short", nil))
	s := rc.Model.Sections[n-1]
	p := a.page(c, "", sectionData{
		Base: rc.Base, CSRF: rc.CSRF, Number: n, Sections: len(rc.Model.Sections),
		Title: s.Title.In(lang), Summary: s.Summary.In(lang), Last: n == len(rc.Model.Sections),
		Steps: steps, Body: body.render(answers), ProgressView: a.progressView(c, rc.Model, prog),
	})
	p.Title = s.Title.In(lang)
	return a.render(c, http.StatusOK, "section", p)
}

func (a *App) surveyNotice(c echo.Context, key string, campaign *survey.Campaign) error {
	contact := campaign.ContactName
	if campaign.ContactEmail != "" {
		contact += " <" + campaign.ContactEmail + ">"
	}
	return a.render(c, http.StatusOK, "survey_notice", a.page(c, key+".title", map[string]any{"Key": key, "Contact": contact}))
}
