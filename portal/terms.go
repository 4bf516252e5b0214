package portal

import (
	"embed"
	"fmt"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"tiltline/survey"
)

// What the search engines lack, maintained as data per language
// (terms/LANG.yaml): synonyms and abbreviations ("NPS" finds "net
// promoter" and "recommend"; "complaint" finds "dissatisfaction"), and the
// parts German compounds are made of ("Kundenrückgewinnung" finds pages
// on "Kunde" and "Rückgewinnung"). Both widen the query; the index stays as
// the database builds it.

//go:embed terms/*.yaml
var termsFS embed.FS

// termTable is one language's synonyms and compound parts.
type termTable struct {
	// groups maps each member (as words) to its group's members.
	groups map[string][][]string
	// longest is the most words a member has, for matching phrases.
	longest int
	parts   map[string]bool
}

var loadTermTables = sync.OnceValues(func() (map[string]*termTable, error) {
	out := map[string]*termTable{}
	for _, l := range survey.Locales {
		b, err := termsFS.ReadFile("terms/" + l + ".yaml")
		if err != nil {
			return nil, err
		}
		var raw struct {
			Synonyms [][]string `yaml:"synonyms"`
			Parts    []string   `yaml:"parts"`
		}
		if err := yaml.Unmarshal(b, &raw); err != nil {
			return nil, fmt.Errorf("terms/%s.yaml: %w", l, err)
		}
		t := &termTable{groups: map[string][][]string{}, parts: map[string]bool{}}
		for _, g := range raw.Synonyms {
			var members [][]string
			for _, m := range g {
				if w := terms(m); len(w) > 0 {
					members = append(members, w)
				}
			}
			for _, m := range members {
				key := strings.Join(m, " ")
				t.groups[key] = append(t.groups[key], members...)
				t.longest = max(t.longest, len(m))
			}
		}
		for _, p := range raw.Parts {
			if w := terms(p); len(w) == 1 {
				t.parts[w[0]] = true
			}
		}
		out[l] = t
	}
	return out, nil
})

// alternative is a set of words that must all occur; a query word is
// found by any of its alternatives.
type alternative []string

// expand turns the query's words into groups of alternatives: one group
// per word or synonym phrase of the query, all groups required.
func (t *termTable) expand(words []string) [][]alternative {
	var out [][]alternative
	for i := 0; i < len(words); {
		matched := false
		for n := min(t.longest, len(words)-i); n >= 1 && !matched; n-- {
			members, ok := t.groups[strings.Join(words[i:i+n], " ")]
			if !ok {
				continue
			}
			var alts []alternative
			seen := map[string]bool{}
			for _, m := range members {
				if k := strings.Join(m, " "); !seen[k] {
					seen[k] = true
					alts = append(alts, alternative(m))
				}
			}
			out = append(out, alts)
			i += n
			matched = true
		}
		if matched {
			continue
		}
		alts := []alternative{{words[i]}}
		if parts := t.decompound(words[i]); len(parts) > 1 {
			alts = append(alts, alternative(parts))
		}
		out = append(out, alts)
		i++
	}
	return out
}

// links are the joints German puts between the parts of a compound.
var links = []string{"", "s", "n", "en", "es", "e"}

// decompound splits a word into known parts ("kundenrückgewinnung" →
// kunde, rückgewinnung), the first split that works, or nil.
func (t *termTable) decompound(w string) []string {
	if len(t.parts) == 0 || len([]rune(w)) < 6 {
		return nil
	}
	var split func(rest string) []string
	split = func(rest string) []string {
		for _, end := range links { // the last part may be inflected: beschwerde-n
			if stem, ok := strings.CutSuffix(rest, end); ok && t.parts[stem] {
				return []string{stem}
			}
		}
		for i := len(rest) - 3; i >= 3; i-- { // longest first part first
			head := rest[:i]
			if !t.parts[head] {
				continue
			}
			for _, l := range links {
				tail, ok := strings.CutPrefix(rest[i:], l)
				if !ok || len(tail) < 3 {
					continue
				}
				if more := split(tail); more != nil {
					return append([]string{head}, more...)
				}
			}
		}
		return nil
	}
	parts := split(w)
	if len(parts) < 2 {
		return nil
	}
	return parts
}

// ftsMatch writes the groups as an SQLite FTS5 query: words as quoted
// prefixes, alternatives ORed, groups ANDed.
func ftsMatch(groups [][]alternative) string {
	var and []string
	for _, g := range groups {
		var or []string
		for _, alt := range g {
			ws := make([]string, len(alt))
			for i, w := range alt {
				ws[i] = `"` + w + `"*`
			}
			or = append(or, "("+strings.Join(ws, " AND ")+")")
		}
		and = append(and, "("+strings.Join(or, " OR ")+")")
	}
	return strings.Join(and, " AND ")
}

// tsQuery writes the groups as a Postgres to_tsquery text, stemmed by the
// language's configuration. The words hold letters and digits only.
func tsQuery(groups [][]alternative) string {
	var and []string
	for _, g := range groups {
		var or []string
		for _, alt := range g {
			or = append(or, "("+strings.Join(alt, " & ")+")")
		}
		and = append(and, "("+strings.Join(or, " | ")+")")
	}
	return strings.Join(and, " & ")
}
