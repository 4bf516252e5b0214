package survey

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Locales are the languages every text of the model and the interface exists in.
// The first one is the fallback.
var Locales = []string{"en", "de", "fr"}

//go:embed model
var modelFS embed.FS

// Text is one piece of copy in every locale.
type Text map[string]string

// In returns the text in the given locale, falling back to English so a page
// never shows an empty label.
func (t Text) In(locale string) string {
	if s, ok := t[locale]; ok && s != "" {
		return s
	}
	return t[Locales[0]]
}

// Dimension keys. Their order is the order inside a packed answer pair.
const (
	Intention = "intention"
	Reality   = "reality"
)

// Dimensions lists the dimension keys in packed order.
var Dimensions = []string{Intention, Reality}

// Packed answer values: 0 = unanswered, 1..5 = level (1 best), DontKnow.
const (
	Unanswered byte = 0
	DontKnow   byte = 6
	NumLevels       = 5
)

type Level struct {
	Level int  `yaml:"level" json:"level"`
	Title Text `yaml:"title" json:"title"`
	Text  Text `yaml:"text" json:"text"`
}

type Dimension struct {
	Key         string  `yaml:"key" json:"key"`
	Title       Text    `yaml:"title" json:"title"`
	Question    Text    `yaml:"question" json:"question"`
	Description Text    `yaml:"description" json:"description"`
	Levels      []Level `yaml:"levels" json:"levels"`
}

type Option struct {
	Key   string `yaml:"key" json:"key"`
	Title Text   `yaml:"title" json:"title"`
}

type Practice struct {
	ID        string `yaml:"id" json:"id"`
	Statement Text   `yaml:"statement" json:"statement"`
	Good      Text   `yaml:"good" json:"good"`
	// Index is the practice's position in the model version; it fixes where its
	// answers sit in a packed response.
	Index      int         `yaml:"-" json:"-"`
	Subsection *Subsection `yaml:"-" json:"-"`
}

type Subsection struct {
	Slug      string      `yaml:"slug" json:"slug"`
	Title     Text        `yaml:"title" json:"title"`
	Practices []*Practice `yaml:"practices" json:"practices"`
	Section   *Section    `yaml:"-" json:"-"`
}

type Section struct {
	ID          string        `yaml:"id" json:"id"`
	Slug        string        `yaml:"slug" json:"slug"`
	Title       Text          `yaml:"title" json:"title"`
	Summary     Text          `yaml:"summary" json:"summary"`
	Subsections []*Subsection `yaml:"subsections" json:"subsections"`
	Index       int           `yaml:"-" json:"-"`
	// practices is Practices(), kept by the model's index: reports ask for
	// it per respondent and section, a million times for a big campaign.
	practices []*Practice
}

// Practices returns the section's practices in model order. The slice is
// shared: do not modify it (append copies, its capacity is its length).
func (s *Section) Practices() []*Practice {
	if s.practices != nil {
		return s.practices
	}
	var ps []*Practice
	for _, sub := range s.Subsections {
		ps = append(ps, sub.Practices...)
	}
	return ps
}

type DontKnowText struct {
	Title Text `yaml:"title" json:"title"`
	Text  Text `yaml:"text" json:"text"`
}

// Model is one frozen version of the assessment: what is asked, in every
// locale. A campaign pins a version so its packed responses keep their meaning.
type Model struct {
	Version    int          `yaml:"version" json:"version"`
	Dimensions []Dimension  `yaml:"dimensions" json:"dimensions"`
	DontKnow   DontKnowText `yaml:"dont_know" json:"dont_know"`
	Roles      []Option     `yaml:"roles" json:"roles"`
	Seniority  []Option     `yaml:"seniority" json:"seniority"`
	Sections   []*Section   `yaml:"-" json:"sections"`

	practices   []*Practice
	byID        map[string]*Practice
	subsections map[string]*Subsection
}

// Practices returns all practices in packed order.
func (m *Model) Practices() []*Practice { return m.practices }

// Practice finds a practice by id such as "AP-01".
func (m *Model) Practice(id string) (*Practice, bool) {
	p, ok := m.byID[id]
	return p, ok
}

// Subsection finds a sub-section by its URL slug.
func (m *Model) Subsection(slug string) (*Subsection, bool) {
	s, ok := m.subsections[slug]
	return s, ok
}

// Subsections returns all sub-sections in model order.
func (m *Model) Subsections() []*Subsection {
	var subs []*Subsection
	for _, s := range m.Sections {
		subs = append(subs, s.Subsections...)
	}
	return subs
}

// AnswerSlots is the length of a packed answer vector: one byte per practice and dimension.
func (m *Model) AnswerSlots() int { return 2 * len(m.practices) }

// Slot is the position of a practice's answer on a dimension in a packed vector.
func (m *Model) Slot(p *Practice, dimension string) int {
	if dimension == Reality {
		return 2*p.Index + 1
	}
	return 2 * p.Index
}

// HasRole reports whether key is one of the model's respondent roles.
func (m *Model) HasRole(key string) bool { return hasOption(m.Roles, key) }

// HasSeniority reports whether key is one of the model's seniority bands.
func (m *Model) HasSeniority(key string) bool { return hasOption(m.Seniority, key) }

func hasOption(opts []Option, key string) bool {
	for _, o := range opts {
		if o.Key == key {
			return true
		}
	}
	return false
}

// Catalog holds every model version the binary ships.
type Catalog struct {
	versions map[int]*Model
	latest   int
}

// Latest is the version new campaigns pin.
func (c *Catalog) Latest() *Model { return c.versions[c.latest] }

// Version returns a pinned model version.
func (c *Catalog) Version(v int) (*Model, bool) {
	m, ok := c.versions[v]
	return m, ok
}

var versionDir = regexp.MustCompile(`^v([0-9]+)$`)

// LoadCatalog reads and validates every embedded model version.
func LoadCatalog() (*Catalog, error) {
	return loadCatalog(modelFS, "model")
}

func loadCatalog(fsys fs.FS, root string) (*Catalog, error) {
	entries, err := fs.ReadDir(fsys, root)
	if err != nil {
		return nil, err
	}
	c := &Catalog{versions: map[int]*Model{}}
	for _, e := range entries {
		m := versionDir.FindStringSubmatch(e.Name())
		if !e.IsDir() || m == nil {
			continue
		}
		v, _ := strconv.Atoi(m[1])
		model, err := loadModel(fsys, path.Join(root, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", e.Name(), err)
		}
		if model.Version != v {
			return nil, fmt.Errorf("model %s: declares version %d", e.Name(), model.Version)
		}
		c.versions[v] = model
		if v > c.latest {
			c.latest = v
		}
	}
	if len(c.versions) == 0 {
		return nil, fmt.Errorf("no model version embedded")
	}
	return c, nil
}

func loadModel(fsys fs.FS, dir string) (*Model, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var m *Model
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		base := path.Base(name)
		if strings.HasPrefix(base, "00-") {
			m = &Model{}
			if err := yaml.Unmarshal(data, m); err != nil {
				return nil, fmt.Errorf("%s: %w", base, err)
			}
			continue
		}
		if m == nil {
			return nil, fmt.Errorf("%s: scales file 00-*.yaml must come first", base)
		}
		var s Section
		if err := yaml.Unmarshal(data, &s); err != nil {
			return nil, fmt.Errorf("%s: %w", base, err)
		}
		m.Sections = append(m.Sections, &s)
	}
	if m == nil {
		return nil, fmt.Errorf("no scales file in %s", dir)
	}
	m.index()
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Model) index() {
	m.byID = map[string]*Practice{}
	m.subsections = map[string]*Subsection{}
	m.practices = nil
	for i, s := range m.Sections {
		s.Index = i
		s.practices = nil
		for _, sub := range s.Subsections {
			sub.Section = s
			m.subsections[sub.Slug] = sub
			for _, p := range sub.Practices {
				p.Subsection = sub
				p.Index = len(m.practices)
				m.practices = append(m.practices, p)
				m.byID[p.ID] = p
			}
		}
		ps := s.Practices()
		s.practices = ps[:len(ps):len(ps)]
	}
}
