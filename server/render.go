package server

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"

	"tiltline/portal"
	"tiltline/survey"
)

//go:embed templates
var templateFS embed.FS

// views holds every page template, parsed once at start, each page combined
// with the shared layout.
type views struct {
	pages map[string]*template.Template
	bufs  sync.Pool
}

// templateFuncs are the helpers every template may use.
func templateFuncs(as *assets) template.FuncMap {
	return template.FuncMap{
		"asset": as.URL,
		"add":   func(a, b int) int { return a + b },
		"sub":   func(a, b int) int { return a - b },
		"deref": func(p *int64) int64 { return *p },
		"deref32": func(p *int) int {
			if p == nil {
				return 0
			}
			return *p
		},
		"int":   func(v int64) int { return int(v) },
		"learn": portal.PagePath,
		"slot":  func(m *survey.Model, p *survey.Practice, dim string) int { return m.Slot(p, dim) },
		// leastFirst orders a dimension's levels as the survey shows them:
		// least (level 5) first, most (level 1) last.
		"leastFirst": leastFirst,
		// fill is how many of five bars a level's button shows: 1 for the least.
		"fill": func(level int) int { return survey.NumLevels + 1 - level },
		// Every figure is rounded once, here, from full precision and half
		// away from zero (survey.Round): never from a rounded value.
		"percent": func(part, whole int) string {
			if whole == 0 {
				return "–"
			}
			return survey.FormatNumber("en", 100*float64(part)/float64(whole), 0) + " %"
		},
		"pct": func(v *float64) string {
			if v == nil {
				return "–"
			}
			return survey.FormatNumber("en", *v, 0) + " %"
		},
		// rate shows a 0–1 share as a whole percentage.
		"rate": func(v *float64) string {
			if v == nil {
				return "–"
			}
			return survey.FormatNumber("en", *v*100, 0) + " %"
		},
		// gap is intention − reality as shown: the difference of the two
		// whole percentages printed beside it, so the row adds up.
		"gap": func(i, r *float64) string {
			d := survey.ShownDiff(i, r, 0)
			if d == nil {
				return "–"
			}
			return survey.FormatNumber("en", *d, 0)
		},
		"topShare": topShare,
		// whole is a score without its unit, for dense tables whose caption gives it.
		"whole": func(v *float64) string {
			if v == nil {
				return "–"
			}
			return survey.FormatNumber("en", *v, 0)
		},
		// whole0 is whole for a plain number (benchmark percentiles, ranks).
		"whole0": func(v float64) string { return survey.FormatNumber("en", v, 0) },
		// pair hands a partial both the page (for translations) and its own data.
		"pair": func(p *Page, d any) pagePart { return pagePart{P: p, D: d} },
	}
}

func newViews(funcs template.FuncMap) (*views, error) {
	layout, err := template.New("layout").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", "templates/*_partials.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	v := &views{pages: map[string]*template.Template{}, bufs: sync.Pool{New: func() any { return new(bytes.Buffer) }}}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" || name == "partials" || strings.HasSuffix(name, "_partials") {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, err
		}
		v.pages[name] = t
	}
	return v, nil
}

type pagePart struct {
	P *Page
	D any
}

// Page is what every template receives: the locale, a translator and the
// page's own data.
type Page struct {
	Lang      string
	Title     string
	Path      string // request path without query, for the language switch
	RequestID string
	Data      any
	Viewer    *viewer // nil when nobody is signed in
	// Content, when set, is the page's main content rendered earlier (a
	// cached fragment); the layout shows it instead of running "content".
	Content template.HTML
	// Brand, on respondent pages, is the organisation and campaign behind
	// the survey (see branding.go); nil elsewhere.
	Brand *pageBrand

	tr *translator
}

// Pts is a number of points with one decimal, as the page's language writes
// it (10.6, 10,6); "–" when there is none.
func (p *Page) Pts(v *float64) string {
	if v == nil {
		return "–"
	}
	return decimal(p.Lang, *v)
}

// PM is a score's 95 % half-width as "± 2.1", or "" when there is none.
func (p *Page) PM(m *survey.Margins, dim string) string {
	if m == nil {
		return ""
	}
	v := map[string]*float64{survey.Intention: m.Intention, survey.Reality: m.Reality, "cem": m.CEM}[dim]
	if v == nil {
		return ""
	}
	return "± " + decimal(p.Lang, *v)
}

// Delta is Cliff's δ with two decimals.
func (p *Page) Delta(v float64) string { return survey.FormatNumber(p.Lang, v, 2) }

// PV is a p or q value with its relation, as read after "p": "= 0.053", "< 0.001".
func (p *Page) PV(v float64) string { return survey.FormatPRel(p.Lang, v) }

// Signed is a change in points with its sign, in the page's language: +2.5, −1.0.
func (p *Page) Signed(v *float64) string {
	if v == nil {
		return "–"
	}
	return survey.FormatSigned(p.Lang, *v, 1)
}

// T translates a message id; args are key/value pairs for the message template.
func (p *Page) T(id string, args ...any) string { return p.tr.T(p.Lang, id, pairs(args)) }

// pairs turns a template call's "Key", value, … arguments into message data.
func pairs(args []any) map[string]any {
	if len(args) < 2 {
		return nil
	}
	data := make(map[string]any, len(args)/2)
	for i := 0; i+1 < len(args); i += 2 {
		data[fmt.Sprint(args[i])] = args[i+1]
	}
	return data
}

// When is a moment as the page's language writes a date and time, in UTC
// (the server does not know the reader's zone): "2 Dec 2026, 10:42 UTC".
func (p *Page) When(t time.Time) string {
	months := map[string][12]string{
		"de": {"Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.", "Nov.", "Dez."},
		"fr": {"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."},
	}
	t = t.UTC()
	m, ok := months[p.Lang]
	switch {
	case !ok:
		return t.Format("2 Jan 2006, 15:04 UTC")
	case p.Lang == "de":
		return fmt.Sprintf("%d. %s %d, %s UTC", t.Day(), m[t.Month()-1], t.Year(), t.Format("15:04"))
	default:
		return fmt.Sprintf("%d %s %d, %s UTC", t.Day(), m[t.Month()-1], t.Year(), t.Format("15:04"))
	}
}

// Day is a date as the page's language writes it: "2 Dec 2026", "2. Dez. 2026".
func (p *Page) Day(t time.Time) string { return survey.FormatDay(p.Lang, t) }

// L picks the page's locale from a model text.
func (p *Page) L(t survey.Text) string { return t.In(p.Lang) }

// Locales lists the languages offered in the switcher.
func (p *Page) Locales() []string { return survey.Locales }

func (a *App) page(c echo.Context, titleID string, data any) *Page {
	p := &Page{
		Lang:      localeOf(c),
		Path:      c.Request().URL.Path,
		RequestID: c.Response().Header().Get(echo.HeaderXRequestID),
		Data:      data,
		Viewer:    viewerOf(c),
		tr:        a.i18n,
	}
	if titleID != "" {
		p.Title = p.T(titleID)
	}
	return p
}

// render executes a page into a buffer first, so a template error becomes a
// clean 500 page instead of half a page.
func (a *App) render(c echo.Context, status int, name string, p *Page) error {
	buf := a.views.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer a.views.bufs.Put(buf)
	if err := a.renderPage(buf, name, p); err != nil {
		return err
	}
	c.Response().Header().Set("Content-Language", p.Lang)
	return c.HTMLBlob(status, buf.Bytes())
}

// renderPage runs a page's layout into buf.
func (a *App) renderPage(buf *bytes.Buffer, name string, p *Page) error {
	t, ok := a.views.pages[name]
	if !ok {
		return fmt.Errorf("no template %q", name)
	}
	if err := t.ExecuteTemplate(buf, "layout", p); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	return nil
}

// renderAround sends a page whose content is kept deflated: the layout is
// rendered around middleMark and compressed per request, the content goes
// as kept (gzipRuns). The caller has checked that the client takes gzip.
func (a *App) renderAround(c echo.Context, name string, p *Page, content deflated) error {
	page, out := a.views.bufs.Get().(*bytes.Buffer), a.views.bufs.Get().(*bytes.Buffer)
	page.Reset()
	out.Reset()
	defer a.views.bufs.Put(page)
	defer a.views.bufs.Put(out)
	p.Content = middleMark
	if err := a.renderPage(page, name, p); err != nil {
		return err
	}
	head, tail, ok := bytes.Cut(page.Bytes(), []byte(middleMark))
	if !ok {
		return fmt.Errorf("render %s: the page lost its middle mark", name)
	}
	gzipRuns(out, deflated{raw: head}, content, deflated{raw: tail})
	return sendHTML(c, p.Lang, out.Bytes(), true)
}

// middleMark stands for the part of a page that is kept apart from it (a
// section's body, a dashboard's content) while the rest is rendered.
const middleMark template.HTML = "<!--tiltline:middle-->"

// sendHTML sends a page written whole, gzipped or not, with its length:
// said, it goes out in fewer writes than chunked.
func sendHTML(c echo.Context, lang string, body []byte, gzipped bool) error {
	h := c.Response().Header()
	h.Set("Content-Language", lang)
	if gzipped {
		h.Set(echo.HeaderContentEncoding, "gzip")
		varyOnEncoding(h)
	}
	h.Set(echo.HeaderContentLength, strconv.Itoa(len(body)))
	return c.Blob(http.StatusOK, echo.MIMETextHTMLCharsetUTF8, body)
}

// renderContent runs only a page's "content" template, for caching.
func (a *App) renderContent(name string, p *Page) (template.HTML, error) {
	t, ok := a.views.pages[name]
	if !ok {
		return "", fmt.Errorf("no template %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "content", p); err != nil {
		return "", fmt.Errorf("render %s: %w", name, err)
	}
	return template.HTML(buf.String()), nil
}

// apiError is the JSON error shape of DESIGN.md.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// handleError is the one place errors become responses: JSON for the API and
// machine routes, a localised page for people. Internal details are logged
// with the request id, never shown.
//
// An HTTPError whose message is localized (already in the reader's
// language) shows that message on the error page as well as in JSON.
func (a *App) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if clientGone(c, err) {
		// Nobody is left to answer: not a server fault, so no ERROR and no
		// 500 in the logs and metrics. 499 is nginx's "client closed request".
		a.log.Info("client disconnected", "id", c.Response().Header().Get(echo.HeaderXRequestID), "route", c.Path(), "err", err)
		c.Response().WriteHeader(statusClientClosed)
		return
	}
	status := http.StatusInternalServerError
	var he *echo.HTTPError
	if errors.As(err, &he) {
		status = he.Code
	}
	if status == http.StatusInternalServerError && survey.Unavailable(err) {
		// The database is away (restarting, failing over): a condition to
		// retry, not a bug.
		status = http.StatusServiceUnavailable
		c.Response().Header().Set("Retry-After", "2")
	}
	if status >= 500 {
		a.log.Error("request failed", "id", c.Response().Header().Get(echo.HeaderXRequestID), "route", c.Path(), "err", err)
	}
	code := strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "_"))
	if code == "" {
		code = "error"
	}

	path := c.Request().URL.Path
	if strings.HasPrefix(path, "/api/") || c.Request().Method == http.MethodPut {
		var body apiError
		body.Error.Code = code
		body.Error.Message = http.StatusText(status)
		if he != nil && status < 500 {
			switch m := he.Message.(type) {
			case string:
				body.Error.Message = m
			case localized:
				body.Error.Message = string(m)
			case apiFault:
				body.Error.Code, body.Error.Message = m.code, string(m.message)
			}
		}
		_ = c.JSON(status, body)
		return
	}
	key := "error.generic"
	switch status {
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		key = "error.not_found"
	case http.StatusRequestEntityTooLarge:
		key = "error.too_large"
	case http.StatusBadRequest:
		key = "error.bad_request"
	case http.StatusTooManyRequests:
		key = "error.too_many"
	case http.StatusServiceUnavailable:
		key = "error.unavailable"
	}
	if status >= 500 && status != http.StatusServiceUnavailable {
		key = "error.internal"
	}
	data := map[string]any{"Status": status, "Key": key}
	if he != nil && status < 500 {
		if m, ok := he.Message.(localized); ok {
			data["Detail"] = string(m)
		}
	}
	p := a.page(c, key+".title", data)
	if rerr := a.render(c, status, "error", p); rerr != nil {
		a.log.Error("render error page", "err", rerr)
		_ = c.String(status, http.StatusText(status))
	}
}

const statusClientClosed = 499

// clientGone tells an error caused by the client going away: the request's
// context is cancelled (net/http does that when the connection closes or a
// write to it fails), and the error is that cancellation or a broken
// connection. A timeout of our own is DeadlineExceeded, and stays an error.
func clientGone(c echo.Context, err error) bool {
	if !errors.Is(c.Request().Context().Err(), context.Canceled) {
		return false
	}
	return errors.Is(err, context.Canceled) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)
}

// localized marks an error message already translated for the reader, so
// the error page may show it: echo.NewHTTPError(400, localized(a.i18n.T(…))).
type localized string

// apiFault is an API error with a code of its own, for a client that must
// tell it from others of the same status (an expired token from a revoked one).
type apiFault struct {
	code    string
	message localized
}

// userError is a 4xx whose message, by id, is shown in the reader's language.
func (a *App) userError(c echo.Context, status int, id string, data map[string]any) error {
	return echo.NewHTTPError(status, localized(a.i18n.T(localeOf(c), id, data)))
}
