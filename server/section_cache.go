package server

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"tiltline/survey"
)

// The body of a section page — statements, level titles and descriptions — is
// the same for every respondent in a language. It is rendered once per
// (model version, section, locale) and cut at every radio button; a request
// only splices " checked" into the right cuts. This keeps the page fast
// without a second template for the same markup.

// sectionBody is one pre-rendered section: text pieces with a choice between them.
type sectionBody struct {
	pieces  [][]byte
	choices []choiceMark // choices[i] follows pieces[i]
	// blank is the body with nothing checked, as a first visit shows it,
	// kept deflated too (see gzipSpliced).
	blank deflated
}

type choiceMark struct {
	slot  int
	value byte
}

var choiceMarker = regexp.MustCompile(` data-c="(\d+):(\d+)"`)

type sectionKey struct {
	version, section int
	locale           string
}

type sectionCache struct {
	tmpl *template.Template
	tr   *translator
	mu   sync.Mutex
	m    map[sectionKey]*sectionBody
	// brands holds each organisation's name and logo hash for the
	// respondent pages' header, so a page view costs no query for them.
	// An upload or an edit on this instance forgets the entry; on others
	// it lives out its minute.
	brands *expirable.LRU[int64, survey.Brand]
	// shells are the section pages around their bodies (section_shell.go).
	shells *expirable.LRU[shellKey, *sectionShell]
	// noShells makes every section page run the template: for the test
	// that compares the two.
	noShells bool
}

func newSectionCache(funcs template.FuncMap, tr *translator) (*sectionCache, error) {
	t, err := template.New("fragments").Funcs(funcs).ParseFS(templateFS, "templates/fragments/*.html")
	if err != nil {
		return nil, err
	}
	return &sectionCache{tmpl: t, tr: tr, m: map[sectionKey]*sectionBody{},
		brands: expirable.NewLRU[int64, survey.Brand](10_000, nil, time.Minute),
		shells: expirable.NewLRU[shellKey, *sectionShell](4096, nil, 0)}, nil
}

func (sc *sectionCache) get(m *survey.Model, section int, locale string) (*sectionBody, error) {
	key := sectionKey{m.Version, section, locale}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if b, ok := sc.m[key]; ok {
		return b, nil
	}
	var buf bytes.Buffer
	err := sc.tmpl.ExecuteTemplate(&buf, "section-body", map[string]any{
		"Model": m, "Section": m.Sections[section], "Page": &Page{Lang: locale, tr: sc.tr},
	})
	if err != nil {
		return nil, fmt.Errorf("render section %d: %w", section, err)
	}
	html := buf.Bytes()
	b := &sectionBody{}
	last := 0
	for _, loc := range choiceMarker.FindAllSubmatchIndex(html, -1) {
		slot, _ := strconv.Atoi(string(html[loc[2]:loc[3]]))
		value, _ := strconv.Atoi(string(html[loc[4]:loc[5]]))
		b.pieces = append(b.pieces, html[last:loc[0]])
		b.choices = append(b.choices, choiceMark{slot, byte(value)})
		last = loc[1]
	}
	b.pieces = append(b.pieces, html[last:])
	b.blank = deflate(bytes.Join(b.pieces, nil))
	sc.m[key] = b
	return b, nil
}

// write writes the section with the respondent's answers checked.
func (b *sectionBody) write(out *bytes.Buffer, answers []byte) {
	for i, p := range b.pieces {
		out.Write(p)
		if i < len(b.choices) {
			if c := b.choices[i]; c.slot < len(answers) && answers[c.slot] == c.value {
				out.WriteString(" checked")
			}
		}
	}
}

// isBlank says whether none of the section's choices is among the answers:
// the page then shows the body as kept in blank.
func (b *sectionBody) isBlank(answers []byte) bool {
	for _, c := range b.choices {
		if c.slot < len(answers) && answers[c.slot] == c.value {
			return false
		}
	}
	return true
}

// brand returns an organisation's name and logo hash, from the cache when it can.
func (sc *sectionCache) brand(ctx context.Context, db *survey.DB, orgID int64) (survey.Brand, error) {
	if b, ok := sc.brands.Get(orgID); ok {
		return b, nil
	}
	b, err := survey.BrandOf(ctx, db, orgID)
	if err != nil {
		return b, err
	}
	sc.brands.Add(orgID, b)
	return b, nil
}

// forgetBrand drops an organisation's entry after its name or logo changed.
func (sc *sectionCache) forgetBrand(orgID int64) { sc.brands.Remove(orgID) }
