package portal

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"gopkg.in/yaml.v3"

	"tiltline/survey"
)

//go:embed content/*/*.md
var contentFS embed.FS

// Page is one best-practice page: a sub-section of the model in one language.
type Page struct {
	Slug    string   `yaml:"slug"`
	Section string   `yaml:"section"`
	Title   string   `yaml:"title"`
	Summary string   `yaml:"summary"`
	Related []string `yaml:"related"`

	Locale string
	// Body is the page rendered to HTML. Our own Markdown, rendered at start:
	// trusted, unlike contributions, which go through the sanitiser.
	Body template.HTML
	// Text is the body as plain text, for search.
	Text string
	// BodyChars counts the Markdown body, the measure of "enough to read".
	BodyChars int
}

// RequiredParts are the anchors every page has, in every language; the
// headings' visible text is translated, the anchors are not.
var RequiredParts = []string{"why", "levels", "pitfalls", "first-steps", "steps-low", "steps-middle", "steps-high", "measure"}

// MinBodyChars is the least text a page may have to count as worth reading.
const MinBodyChars = 2500

// Library holds every page, by locale and slug.
type Library struct {
	pages map[string]map[string]*Page
}

// Page returns a page, or false.
func (l *Library) Page(locale, slug string) (*Page, bool) {
	p, ok := l.pages[locale][slug]
	return p, ok
}

// Len counts the pages of a locale.
func (l *Library) Len(locale string) int { return len(l.pages[locale]) }

var markdown = goldmark.New(
	goldmark.WithExtensions(extension.Table, extension.Typographer),
	goldmark.WithParserOptions(parser.WithAttribute(), parser.WithAutoHeadingID()),
)

// Load reads and checks every embedded page against the model: each
// sub-section has a page in each locale, with every required part and
// enough text. It reports all problems at once.
func Load(m *survey.Model) (*Library, error) {
	return load(contentFS, m)
}

func load(fsys fs.FS, m *survey.Model) (*Library, error) {
	lib := &Library{pages: map[string]map[string]*Page{}}
	var errs []error
	for _, locale := range survey.Locales {
		lib.pages[locale] = map[string]*Page{}
		for _, sub := range m.Subsections() {
			name := path.Join("content", locale, sub.Slug+".md")
			p, err := parsePage(fsys, name, locale)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if err := p.check(m, sub); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
			lib.pages[locale][sub.Slug] = p
		}
	}
	return lib, errors.Join(errs...)
}

func parsePage(fsys fs.FS, name, locale string) (*Page, error) {
	raw, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("%s: missing", name)
	}
	front, body, ok := splitFrontMatter(raw)
	if !ok {
		return nil, fmt.Errorf("%s: no front matter", name)
	}
	p := &Page{Locale: locale}
	if err := yaml.Unmarshal(front, p); err != nil {
		return nil, fmt.Errorf("%s: front matter: %w", name, err)
	}
	var html bytes.Buffer
	if err := markdown.Convert(body, &html); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p.Body = template.HTML(html.String())
	p.Text = plainText(body)
	p.BodyChars = len([]rune(strings.TrimSpace(string(body))))
	return p, nil
}

func splitFrontMatter(raw []byte) (front, body []byte, ok bool) {
	raw = bytes.TrimPrefix(raw, []byte("\ufeff"))
	if !bytes.HasPrefix(raw, []byte("---\n")) {
		return nil, nil, false
	}
	rest := raw[4:]
	end := bytes.Index(rest, []byte("\n---\n"))
	if end < 0 {
		return nil, nil, false
	}
	return rest[:end], rest[end+5:], true
}

func (p *Page) check(m *survey.Model, sub *survey.Subsection) error {
	var errs []error
	if p.Slug != sub.Slug {
		errs = append(errs, fmt.Errorf("slug %q, want %q", p.Slug, sub.Slug))
	}
	if p.Section != sub.Section.ID {
		errs = append(errs, fmt.Errorf("section %q, want %q", p.Section, sub.Section.ID))
	}
	if want := sub.Title.In(p.Locale); p.Title != want {
		errs = append(errs, fmt.Errorf("title %q, want the model's %q", p.Title, want))
	}
	if strings.TrimSpace(p.Summary) == "" {
		errs = append(errs, errors.New("no summary"))
	}
	if len(p.Related) == 0 {
		errs = append(errs, errors.New("no related sub-sections"))
	}
	for _, r := range p.Related {
		if _, ok := m.Subsection(r); !ok || r == p.Slug {
			errs = append(errs, fmt.Errorf("related %q is not another sub-section", r))
		}
	}
	for _, id := range RequiredParts {
		if !strings.Contains(string(p.Body), `id="`+id+`"`) {
			errs = append(errs, fmt.Errorf("lacks the part {#%s}", id))
		}
	}
	// The levels part is a heading only: the page puts the model's five
	// levels of each dimension there as tables (server/learn.go), and a
	// paragraph listing them again read as the same thing twice.
	if _, rest, ok := strings.Cut(string(p.Body), `id="levels"`); ok {
		if _, after, _ := strings.Cut(rest, "</h2>"); !strings.HasPrefix(strings.TrimSpace(after), "<h2") {
			errs = append(errs, errors.New("the part {#levels} holds text: leave it a heading, the page shows the level tables there"))
		}
	}
	if p.BodyChars < MinBodyChars {
		errs = append(errs, fmt.Errorf("%d characters, want at least %d", p.BodyChars, MinBodyChars))
	}
	return errors.Join(errs...)
}

// plainText strips Markdown syntax well enough for a search index.
func plainText(md []byte) string {
	var b strings.Builder
	for _, line := range strings.Split(string(md), "\n") {
		line = strings.TrimLeft(line, "#>-*0123456789. ")
		if i := strings.Index(line, "{#"); i >= 0 {
			line = line[:i]
		}
		line = strings.NewReplacer("**", "", "__", "", "`", "").Replace(line)
		b.WriteString(strings.TrimSpace(line))
		b.WriteByte('\n')
	}
	return b.String()
}
