package survey

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestShippedModelIsValid(t *testing.T) {
	c, err := LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	m := c.Latest()
	if m.Version != 1 {
		t.Errorf("latest version = %d, want 1", m.Version)
	}
	if got := len(m.Sections); got != 13 {
		t.Errorf("sections = %d, want 13", got)
	}
	if got := len(m.Subsections()); got != 41 {
		t.Errorf("sub-sections = %d, want 41", got)
	}
	if n := len(m.Practices()); n < 90 || n > 110 {
		t.Errorf("practices = %d, want 90 to 110", n)
	}
	if got := len(m.Roles); got != 12 {
		t.Errorf("roles = %d, want the 12 vanilla roles", got)
	}
	for _, key := range []string{"senior-manager", "manager", "staff"} {
		if !m.HasSeniority(key) {
			t.Errorf("seniority band %q missing", key)
		}
	}
}

func TestModelFollowsTheSeedsSectionOrder(t *testing.T) {
	m := mustModel(t)
	want := []string{"Analysis and planning", "The proposition", "People and organisation", "Acquisition", "Retention",
		"Efficiency", "Penetration", "The customer experience", "Measuring the effect", "External environment",
		"Process management", "Customer information", "Technology support"}
	for i, s := range m.Sections {
		if s.Title["en"] != want[i] {
			t.Errorf("section %d = %q, want %q", i+1, s.Title["en"], want[i])
		}
	}
}

func TestPracticeLookupAndPackedSlots(t *testing.T) {
	m := mustModel(t)
	p, ok := m.Practice("AP-01")
	if !ok || p.Index != 0 || p.Subsection.Section.ID != "AP" {
		t.Fatalf("AP-01 lookup: %+v %v", p, ok)
	}
	last := m.Practices()[len(m.Practices())-1]
	if got := m.Slot(last, Reality); got != m.AnswerSlots()-1 {
		t.Errorf("last reality slot = %d, want %d", got, m.AnswerSlots()-1)
	}
	if m.Slot(p, Intention) != 0 || m.Slot(p, Reality) != 1 {
		t.Error("AP-01 must occupy slots 0 and 1")
	}
	if _, ok := m.Practice("ZZ-99"); ok {
		t.Error("unknown practice found")
	}
	sub, ok := m.Subsection("winback")
	if !ok || sub.Section.ID != "AC" {
		t.Errorf("winback sub-section: %v %v", sub, ok)
	}
}

func TestTextFallsBackToEnglish(t *testing.T) {
	tx := Text{"en": "Hello", "de": "Hallo"}
	if tx.In("de") != "Hallo" || tx.In("fr") != "Hello" || tx.In("xx") != "Hello" {
		t.Error("fallback to English broken")
	}
}

// A broken model must not load: each case breaks one rule of Validate.
func TestModelValidationRejects(t *testing.T) {
	scales, err := modelFS.ReadFile("model/v1/00-scales.yaml")
	if err != nil {
		t.Fatal(err)
	}
	section := func(body string) fstest.MapFS {
		return fstest.MapFS{
			"m/v1/00-scales.yaml": {Data: scales},
			"m/v1/01-xx.yaml":     {Data: []byte(body)},
		}
	}
	const good = `id: AP
slug: analysis-and-planning
title: {en: "A", de: "A", fr: "A"}
summary: {en: "S", de: "S", fr: "S"}
subsections:
  - slug: strategy
    title: {en: "T", de: "T", fr: "T"}
    practices:
      - id: AP-01
        statement: {en: "s", de: "s", fr: "s"}
        good: {en: "g", de: "g", fr: "g"}
      - id: AP-02
        statement: {en: "s", de: "s", fr: "s"}
        good: {en: "g", de: "g", fr: "g"}
`
	if _, err := loadCatalog(section(good), "m"); err != nil {
		t.Fatalf("minimal valid model rejected: %v", err)
	}
	cases := []struct {
		name, from, to, want string
	}{
		{"missing French statement", `statement: {en: "s", de: "s", fr: "s"}`, `statement: {en: "s", de: "s"}`, "missing fr"},
		{"duplicate practice id", "id: AP-02", "id: AP-01", "repeated"},
		{"id without the section prefix", "id: AP-02", "id: PR-02", "section prefix"},
		{"sub-section with one practice", "      - id: AP-02\n        statement: {en: \"s\", de: \"s\", fr: \"s\"}\n        good: {en: \"g\", de: \"g\", fr: \"g\"}\n", "", "want 2 to 4"},
		{"slug that is not kebab-case", "slug: strategy", "slug: Strategy Now", "invalid"},
		{"section without summary in German", `summary: {en: "S", de: "S", fr: "S"}`, `summary: {en: "S", fr: "S"}`, "missing de"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := strings.Replace(good, tc.from, tc.to, 1)
			if body == good {
				t.Fatal("case does not change the model")
			}
			_, err := loadCatalog(section(body), "m")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func mustModel(t *testing.T) *Model {
	t.Helper()
	c, err := LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	return c.Latest()
}
