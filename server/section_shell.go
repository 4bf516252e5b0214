package server

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"

	"tiltline/survey"
)

// A section page around its body — head, header, menu, progress, pager,
// footer — is also the same for every respondent but for a few values: the
// link (in the form's action and the language links), the CSRF token, the
// section menu, the count answered and the progress line. Running the layout
// template for each view was a seventh of the server's CPU in a whole
// response (bench P3). So the page is rendered once per model version,
// section, language and brand with a mark in place of each of those values,
// cut at the marks, and a view writes the pieces with its own values between
// them. A value is only put in where the template would have written it
// unchanged; anything else (a signed-in viewer's header, a path with other
// characters) takes the template.

// shellMark names a value written between two pieces of a shell.
type shellMark uint8

const (
	markBase shellMark = iota
	markCSRF
	markPath
	markSteps
	markAnswered
	markShort
)

// The marks as the template writes them: plain letters that no escaping
// changes, and a number no page shows.
const (
	shellBase     = "/tlmk-base"
	shellCSRF     = "tlmk-csrf"
	shellPath     = "/tlmk-path"
	shellSteps    = "tlmk-steps"
	shellShort    = "tlmk-short"
	shellAnswered = 918273645
)

var shellMarks = regexp.MustCompile(`/tlmk-base|tlmk-csrf|/tlmk-path|tlmk-steps|tlmk-short|918273645`)

var shellMarkOf = map[string]shellMark{shellBase: markBase, shellCSRF: markCSRF, shellPath: markPath,
	shellSteps: markSteps, shellShort: markShort, strconv.Itoa(shellAnswered): markAnswered}

type sectionShell struct {
	pieces [][]byte
	marks  []shellMark // marks[i] follows pieces[i]
	// tail is the page after the body, kept deflated: it holds no value.
	tail deflated
}

type shellKey struct {
	version, section int
	lang             string
	brand            pageBrand
}

// shellFor returns the shell of the page p shows, or nil when p cannot use
// one.
func (a *App) shellFor(m *survey.Model, section int, p *Page, d *sectionData) (*sectionShell, error) {
	if p.Viewer != nil || p.Brand == nil || !plainInURL(d.Base) || !plainInURL(p.Path) || !plainInURL(d.CSRF) {
		return nil, nil
	}
	key := shellKey{m.Version, section, p.Lang, *p.Brand}
	if sh, ok := a.sections.shells.Get(key); ok {
		return sh, nil
	}
	mp := *p
	mp.Path = shellPath
	md := *d
	md.Base, md.CSRF, md.Steps = shellBase, shellCSRF, shellSteps
	md.ProgressView.Answered, md.ProgressView.Short = shellAnswered, shellShort
	mp.Data = md
	var buf bytes.Buffer
	if err := a.renderPage(&buf, "section", &mp); err != nil {
		return nil, err
	}
	html := buf.Bytes()
	sh := &sectionShell{}
	last := 0
	for _, loc := range shellMarks.FindAllIndex(html, -1) {
		sh.pieces = append(sh.pieces, html[last:loc[0]])
		sh.marks = append(sh.marks, shellMarkOf[string(html[loc[0]:loc[1]])])
		last = loc[1]
	}
	sh.pieces = append(sh.pieces, html[last:])
	if _, tail, ok := bytes.Cut(sh.pieces[len(sh.pieces)-1], []byte(middleMark)); ok {
		sh.tail = deflate(tail)
	}
	if len(sh.marks) < 6 {
		return nil, fmt.Errorf("section shell: %d marks, the template lost some", len(sh.marks))
	}
	a.sections.shells.Add(key, sh)
	return sh, nil
}

// write writes the page with the view's values.
func (sh *sectionShell) write(out *bytes.Buffer, p *Page, d *sectionData) {
	for i, piece := range sh.pieces {
		out.Write(piece)
		if i == len(sh.marks) {
			break
		}
		switch sh.marks[i] {
		case markBase:
			out.WriteString(d.Base)
		case markCSRF:
			out.WriteString(d.CSRF)
		case markPath:
			out.WriteString(p.Path)
		case markSteps:
			out.WriteString(string(d.Steps))
		case markAnswered:
			out.WriteString(strconv.Itoa(d.ProgressView.Answered))
		case markShort:
			out.WriteString(string(d.ProgressView.Short))
		}
	}
}

// plainInURL says whether s is written unchanged in a URL attribute and in
// text: letters, digits and - _ . / only, as the link paths and tokens are.
func plainInURL(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '/':
		default:
			return false
		}
	}
	return s != ""
}
