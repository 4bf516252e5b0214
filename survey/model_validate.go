package survey

import (
	"errors"
	"fmt"
	"regexp"
)

var (
	practiceID = regexp.MustCompile(`^([A-Z]{2})-([0-9]{2})$`)
	slugRe     = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
)

// Validate checks the rules the rest of the product relies on: unique ids and
// slugs, ids that carry their section prefix, two to four practices per
// sub-section, five levels per dimension, and every text in every locale.
// It reports every problem at once so a translator fixes a file in one pass.
func (m *Model) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	text := func(where string, t Text) {
		for _, l := range Locales {
			if t[l] == "" {
				bad("%s: missing %s text", where, l)
			}
		}
	}

	if len(m.Dimensions) != 2 || m.Dimensions[0].Key != Intention || m.Dimensions[1].Key != Reality {
		bad("dimensions must be intention then reality")
	}
	for _, d := range m.Dimensions {
		text(d.Key+" title", d.Title)
		text(d.Key+" question", d.Question)
		text(d.Key+" description", d.Description)
		if len(d.Levels) != NumLevels {
			bad("%s: %d levels, want %d", d.Key, len(d.Levels), NumLevels)
		}
		for i, l := range d.Levels {
			if l.Level != i+1 {
				bad("%s: level %d out of order", d.Key, l.Level)
			}
			text(fmt.Sprintf("%s level %d title", d.Key, l.Level), l.Title)
			text(fmt.Sprintf("%s level %d text", d.Key, l.Level), l.Text)
		}
	}
	text("dont_know title", m.DontKnow.Title)
	text("dont_know text", m.DontKnow.Text)
	for _, group := range []struct {
		name string
		opts []Option
	}{{"role", m.Roles}, {"seniority", m.Seniority}} {
		if len(group.opts) == 0 {
			bad("no %s options", group.name)
		}
		seen := map[string]bool{}
		for _, o := range group.opts {
			if !slugRe.MatchString(o.Key) || seen[o.Key] {
				bad("%s key %q invalid or repeated", group.name, o.Key)
			}
			seen[o.Key] = true
			text(group.name+" "+o.Key, o.Title)
		}
	}

	seenSection, seenSlug, seenID := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, s := range m.Sections {
		if seenSection[s.ID] {
			bad("section %s repeated", s.ID)
		}
		seenSection[s.ID] = true
		if !slugRe.MatchString(s.Slug) {
			bad("section %s: bad slug %q", s.ID, s.Slug)
		}
		text("section "+s.ID+" title", s.Title)
		text("section "+s.ID+" summary", s.Summary)
		if len(s.Subsections) == 0 {
			bad("section %s has no sub-sections", s.ID)
		}
		for _, sub := range s.Subsections {
			if !slugRe.MatchString(sub.Slug) || seenSlug[sub.Slug] {
				bad("sub-section slug %q invalid or repeated", sub.Slug)
			}
			seenSlug[sub.Slug] = true
			text("sub-section "+sub.Slug+" title", sub.Title)
			if n := len(sub.Practices); n < 2 || n > 4 {
				bad("sub-section %s has %d practices, want 2 to 4", sub.Slug, n)
			}
			for _, p := range sub.Practices {
				mm := practiceID.FindStringSubmatch(p.ID)
				if mm == nil || mm[1] != s.ID {
					bad("practice id %q does not carry section prefix %s", p.ID, s.ID)
				}
				if seenID[p.ID] {
					bad("practice id %s repeated", p.ID)
				}
				seenID[p.ID] = true
				text("practice "+p.ID+" statement", p.Statement)
				text("practice "+p.ID+" good", p.Good)
			}
		}
	}
	return errors.Join(errs...)
}
