package server

import (
	"bytes"
	"fmt"
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
	Short           template.HTML // without the sections, which the section menu shows; escaped here, not by the template (section_shell.go)
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

// menuLabels are the words of the section menu in one language.
type menuLabels struct {
	Where, Done, Started, New, Review string // Where: "Section {{.Number}} of {{.Total}}" already filled
}

// stepsNav writes the section menu: a disclosure whose summary says where
// the respondent is ("Section 3 of 13 · Acquisition") and whose list gives
// every section's state in words. It is built in Go rather than in the
// template because, with its escaping, it was a third of the page's
// rendering cost.
func stepsNav(base string, m *survey.Model, prog survey.Progress, current int, lang string, l menuLabels) template.HTML {
	var b strings.Builder
	esc := template.HTMLEscapeString
	b.WriteString(`<details class="secmenu"><summary><span class="where">` + esc(l.Where) + `</span> <span class="sep" aria-hidden="true">·</span> <span class="here">`)
	if current >= 1 && current <= len(m.Sections) {
		b.WriteString(esc(m.Sections[current-1].Title.In(lang)))
	}
	b.WriteString(`</span></summary><ol class="steps">`)
	for i, sec := range m.Sections {
		n := strconv.Itoa(i + 1)
		sp := prog.Sections[i]
		class, mark, state := "new", "○", l.New
		switch {
		case sp.Done():
			class, mark, state = "done", "✓", l.Done
		case sp.Answered > 0:
			class, mark, state = "started", "◐", l.Started
		}
		b.WriteString(`<li class="` + class + `"><a href="` + esc(base) + "/p/" + n + `"`)
		if i+1 == current {
			b.WriteString(` aria-current="step"`)
		}
		b.WriteString(`><span class="mark" aria-hidden="true">` + mark + `</span> <span class="name">` + esc(sec.Title.In(lang)) +
			`</span> <span class="state">` + esc(state) + "</span></a></li>")
	}
	b.WriteString(`<li class="review"><a href="` + esc(base) + `/review">` + esc(l.Review) + "</a></li></ol></details>")
	return template.HTML(b.String())
}

// progressText is what sighted and screen-reader users alike read: where they
// are, how much is done and roughly how long is left.
func (a *App) progressView(c echo.Context, m *survey.Model, p survey.Progress) progressView {
	// The time left is the survey's one estimate (estimateMinutes), in
	// proportion to what is left: the first page says what the welcome said.
	left := 0
	if p.Total > 0 {
		left = (estimateMinutes(p.Total)*(p.Total-p.Answered) + p.Total - 1) / p.Total
	}
	args := map[string]any{"Done": p.SectionsDone(), "Total": len(m.Sections), "Percent": p.Percent(), "Minutes": left}
	return progressView{Answered: p.Answered, Total: p.Total, Text: a.i18n.T(localeOf(c), "survey.progress", args),
		Short: template.HTML(template.HTMLEscapeString(a.i18n.T(localeOf(c), "survey.progress_short", args)))}
}

func (a *App) renderSection(c echo.Context, rc *respondentCtx, n int, answers []byte) error {
	lang := localeOf(c)
	body, err := a.sections.get(rc.Model, n-1, lang)
	if err != nil {
		return err
	}
	prog := rc.Model.ProgressOf(answers)
	steps := stepsNav(rc.Base, rc.Model, prog, n, lang, menuLabels{
		Where: a.i18n.T(lang, "survey.menu_where", map[string]any{"Number": n, "Total": len(rc.Model.Sections)}),
		Done:  a.i18n.T(lang, "survey.step_done", nil), Started: a.i18n.T(lang, "survey.step_started", nil),
		New: a.i18n.T(lang, "survey.step_new", nil), Review: a.i18n.T(lang, "survey.review.title", nil),
	})
	s := rc.Model.Sections[n-1]
	d := &sectionData{
		Base: rc.Base, CSRF: rc.CSRF, Number: n, Sections: len(rc.Model.Sections),
		Title: s.Title.In(lang), Summary: s.Summary.In(lang), Last: n == len(rc.Model.Sections),
		Steps: steps, Body: middleMark, ProgressView: a.progressView(c, rc.Model, prog),
	}
	p, err := a.respondentPage(c, rc.Campaign, "", d)
	if err != nil {
		return err
	}
	p.Title = s.Title.In(lang)

	// The page is first written with middleMark where the body goes.
	page := a.views.bufs.Get().(*bytes.Buffer)
	page.Reset()
	defer a.views.bufs.Put(page)
	var shell *sectionShell
	if !a.sections.noShells {
		if shell, err = a.shellFor(rc.Model, n-1, p, d); err != nil {
			return err
		}
	}
	if shell != nil {
		shell.write(page, p, d)
	} else if err := a.renderPage(page, "section", p); err != nil {
		return err
	}
	head, tail, ok := bytes.Cut(page.Bytes(), []byte(middleMark))
	if !ok {
		return fmt.Errorf("section page %d lost its body mark", n)
	}

	out := a.views.bufs.Get().(*bytes.Buffer)
	out.Reset()
	defer a.views.bufs.Put(out)
	if body.isBlank(answers) && acceptsGzip(c.Request().Header.Get(echo.HeaderAcceptEncoding)) {
		end := deflated{raw: tail}
		if shell != nil && shell.tail.z != nil {
			end = shell.tail
		}
		gzipRuns(out, deflated{raw: head}, body.blank, end)
		return sendHTML(c, p.Lang, out.Bytes(), true)
	}
	out.Write(head)
	body.write(out, answers)
	out.Write(tail)
	return sendHTML(c, p.Lang, out.Bytes(), false)
}

func (a *App) surveyNotice(c echo.Context, key string, campaign *survey.Campaign) error {
	contact := campaign.ContactName
	if campaign.ContactEmail != "" {
		contact += " <" + campaign.ContactEmail + ">"
	}
	p, err := a.respondentPage(c, campaign, key+".title", map[string]any{"Key": key, "Contact": contact})
	if err != nil {
		return err
	}
	return a.render(c, http.StatusOK, "survey_notice", p)
}

// leastFirst returns the levels from least to most: the model numbers them
// 1 (most) to 5 (least), and the survey shows them the other way round.
func leastFirst(levels []survey.Level) []survey.Level {
	out := make([]survey.Level, len(levels))
	for i, l := range levels {
		out[len(levels)-1-i] = l
	}
	return out
}
