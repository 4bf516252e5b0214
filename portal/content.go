package portal

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"regexp"
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
	// Signs holds, per dimension key, what each of the model's levels looks
	// like in this topic: the list under the levels heading, which the page
	// shows as that dimension's table instead of in the body. Filled by the
	// content check, which maps the level titles to the model's levels.
	Signs map[string][]Sign

	levels []levelPart // the levels part as written, before the check
}

// Sign is one item of a dimension's list under the levels heading: one
// level, or two adjacent ones that look the same in this topic.
type Sign struct {
	Levels []int // the model's level numbers (1 best), highest number first
	Text   template.HTML
}

// levelPart is one dimension's list under the levels heading as written.
type levelPart struct {
	Dimension string // the sub-heading's anchor, a dimension key
	Items     []levelItem
	Stray     []string // lines that are not list items
}

type levelItem struct {
	Titles []string // one level title, or two
	Text   string   // Markdown
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
	p.BodyChars = len([]rune(strings.TrimSpace(string(body))))
	rest, levels := cutLevels(body)
	p.levels = levels
	var html bytes.Buffer
	if err := markdown.Convert(rest, &html); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p.Body = template.HTML(html.String())
	// The signs are searched as their text: the level titles before them
	// are the same on every page.
	p.Text = plainText(signKeyRE.ReplaceAll(body, nil))
	return p, nil
}

var (
	// signKeyRE is the start of a level sign: "- *Title*: " or
	// "- *Title* / *Title*: ".
	signKeyRE = regexp.MustCompile(`(?m)^- \*([^*]+)\*(?: / \*([^*]+)\*)?: ?`)
	subPartRE = regexp.MustCompile(`^### .*\{#([a-z-]+)\}\s*$`)
)

// cutLevels takes the levels part's lists out of the body, which keeps
// the heading alone, and reads them per dimension sub-heading.
func cutLevels(body []byte) ([]byte, []levelPart) {
	lines := strings.Split(string(body), "\n")
	start := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "## ") && strings.HasSuffix(strings.TrimSpace(l), "{#levels}") {
			start = i + 1
			break
		}
	}
	if start < 0 {
		return body, nil
	}
	end := len(lines)
	for i := start; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "## ") {
			end = i
			break
		}
	}
	var parts []levelPart
	for _, l := range lines[start:end] {
		t := strings.TrimSpace(l)
		switch m := subPartRE.FindStringSubmatch(l); {
		case t == "":
		case m != nil:
			parts = append(parts, levelPart{Dimension: m[1]})
		case len(parts) == 0:
			parts = append(parts, levelPart{Stray: []string{t}})
		case strings.HasPrefix(l, "- "):
			it := levelItem{Text: strings.TrimSpace(l[2:])}
			if k := signKeyRE.FindStringSubmatchIndex(l); k != nil {
				it.Titles = append(it.Titles, l[k[2]:k[3]])
				if k[4] >= 0 {
					it.Titles = append(it.Titles, l[k[4]:k[5]])
				}
				it.Text = strings.TrimSpace(l[k[1]:])
			}
			parts[len(parts)-1].Items = append(parts[len(parts)-1].Items, it)
		case strings.HasPrefix(l, "  ") && len(parts[len(parts)-1].Items) > 0: // a list item's continued line
			items := parts[len(parts)-1].Items
			items[len(items)-1].Text += " " + t
		default:
			parts[len(parts)-1].Stray = append(parts[len(parts)-1].Stray, t)
		}
	}
	out := append(append([]string{}, lines[:start]...), "")
	out = append(out, lines[end:]...)
	return []byte(strings.Join(out, "\n")), parts
}

// signs maps the levels part to the model: per dimension, every level
// exactly once, lowest first, each with text; an item naming two levels
// must name adjacent ones.
func (p *Page) signs(m *survey.Model) (map[string][]Sign, []error) {
	var errs []error
	out := map[string][]Sign{}
	seen := map[string]bool{}
	for _, part := range p.levels {
		if len(part.Stray) > 0 {
			errs = append(errs, fmt.Errorf("the part {#levels} holds %q outside the lists: write each level as a list item \"- *Level title*: sign\"", part.Stray[0]))
		}
		if part.Dimension == "" {
			continue
		}
		var dim *survey.Dimension
		for i := range m.Dimensions {
			if m.Dimensions[i].Key == part.Dimension {
				dim = &m.Dimensions[i]
			}
		}
		if dim == nil || seen[part.Dimension] {
			errs = append(errs, fmt.Errorf("the part {#levels} has the sub-part {#%s}: want one per dimension (%s)", part.Dimension, dimensionKeys(m)))
			continue
		}
		seen[part.Dimension] = true
		byTitle := map[string]int{}
		var titles []string
		for _, l := range dim.Levels {
			byTitle[l.Title.In(p.Locale)] = l.Level
			titles = append(titles, l.Title.In(p.Locale))
		}
		covered := map[int]int{}
		next := len(dim.Levels) // lowest first: the highest level number
		var signs []Sign
		for _, it := range part.Items {
			var s Sign
			for _, t := range it.Titles {
				n, ok := byTitle[t]
				if !ok {
					errs = append(errs, fmt.Errorf("{#%s}: %q is not a level title in this language (%s)", part.Dimension, t, strings.Join(titles, "; ")))
					continue
				}
				s.Levels = append(s.Levels, n)
				covered[n]++
			}
			switch {
			case len(it.Titles) == 0:
				errs = append(errs, fmt.Errorf("{#%s}: the item %.40q does not start with a level title in italics", part.Dimension, it.Text))
				continue
			case len(s.Levels) != len(it.Titles):
				continue
			case len(s.Levels) == 2 && s.Levels[0] != s.Levels[1]+1:
				errs = append(errs, fmt.Errorf("{#%s}: one item names %q and %q: two levels in one item must be adjacent, lower first", part.Dimension, it.Titles[0], it.Titles[1]))
			case s.Levels[0] != next:
				errs = append(errs, fmt.Errorf("{#%s}: %q is out of order: list the levels lowest first", part.Dimension, it.Titles[0]))
			}
			next = s.Levels[len(s.Levels)-1] - 1
			if strings.TrimSpace(it.Text) == "" {
				errs = append(errs, fmt.Errorf("{#%s}: %q has no text", part.Dimension, it.Titles[0]))
			}
			s.Text = inline(it.Text)
			signs = append(signs, s)
		}
		for _, l := range dim.Levels {
			if covered[l.Level] != 1 {
				errs = append(errs, fmt.Errorf("{#%s}: the level %q is named %d times, want once", part.Dimension, l.Title.In(p.Locale), covered[l.Level]))
			}
		}
		out[part.Dimension] = signs
	}
	for _, d := range m.Dimensions {
		if !seen[d.Key] {
			errs = append(errs, fmt.Errorf("the part {#levels} lacks the sub-part {#%s} with the signs of its five levels", d.Key))
		}
	}
	return out, errs
}

func dimensionKeys(m *survey.Model) string {
	var keys []string
	for _, d := range m.Dimensions {
		keys = append(keys, "{#"+d.Key+"}")
	}
	return strings.Join(keys, ", ")
}

// inline renders one list item's Markdown without its paragraph.
func inline(md string) template.HTML {
	var b bytes.Buffer
	if err := markdown.Convert([]byte(md), &b); err != nil {
		return template.HTML(template.HTMLEscapeString(md))
	}
	s := strings.TrimSpace(b.String())
	s = strings.TrimSuffix(strings.TrimPrefix(s, "<p>"), "</p>")
	return template.HTML(s)
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
	// The levels part is one list per dimension of what each level looks
	// like in this topic; the page shows them as tables (server/learn.go).
	signs, serrs := p.signs(m)
	p.Signs = signs
	errs = append(errs, serrs...)
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
