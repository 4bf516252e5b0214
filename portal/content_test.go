package portal

import (
	"strings"
	"testing"
	"testing/fstest"

	"tiltline/survey"
)

func model(t *testing.T) *survey.Model {
	t.Helper()
	c, err := survey.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	return c.Latest()
}

// Every sub-section has a page in every language, with every required part
// and at least 2,500 characters: a missing or thin page fails here.
func TestEveryPageExistsInEveryLanguageAndIsComplete(t *testing.T) {
	m := model(t)
	lib, err := Load(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range survey.Locales {
		if n := lib.Len(l); n != len(m.Subsections()) {
			t.Errorf("%s: %d pages, want %d", l, n, len(m.Subsections()))
		}
	}
}

func TestContentCheckRejects(t *testing.T) {
	m := model(t)
	good, err := contentFS.ReadFile("content/en/winback.md")
	if err != nil {
		t.Skip("winback page not written yet")
	}
	cases := map[string]struct{ from, to, want string }{
		"missing part":            {"{#pitfalls}", "", "lacks the part {#pitfalls}"},
		"wrong title":             {"title: \"Winback\"", "title: \"Win back\"", "title"},
		"unknown related":         {"related: [", "related: [nowhere, ", "related \"nowhere\""},
		"too short":               {"## Why it matters", "## Why it matters {#x}\n\n" + "x\n<!--", "characters"},
		"no front matter":         {"---\n", "", "no front matter"},
		"levels as prose":         {"{#levels}\n", "{#levels}\n\n**Intention.** At *little or no commitment*, nothing.\n", "outside the lists"},
		"a level missing":         {"- *Some commitment and some plans*: ", "- ", "\"Some commitment and some plans\" is named 0 times"},
		"a level twice":           {"- *Some commitment and some plans*: ", "- *Little or no commitment and plans*: ", "\"Little or no commitment and plans\" is named 2 times"},
		"a level without text":    {"- *No real implementation*: The organisation", "- *No real implementation*:\n\nThe organisation", "has no text"},
		"not the model's title":   {"*Some commitment and some plans*", "*Partial commitment*", "\"Partial commitment\" is not a level title"},
		"two levels not adjacent": {"*Substantially implemented* / *Fully implemented*", "*Implementation in progress* / *Fully implemented*", "must be adjacent"},
		"highest first":           {"- *Little or no commitment and plans*: ", "- *Full commitment and detailed plans*: ", "out of order"},
		"a dimension missing":     {"{#reality}", "{#realities}", "lacks the sub-part {#reality}"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			body := strings.Replace(string(good), tc.from, tc.to, 1)
			if tc.want == "characters" {
				body = string(good)[:strings.Index(string(good), "\n---\n")+5] + "## Why {#why}\nshort"
			}
			fsys := fstest.MapFS{"content/en/winback.md": {Data: []byte(body)}}
			p, err := parsePage(fsys, "content/en/winback.md", "en")
			if err == nil {
				sub, _ := m.Subsection("winback")
				err = p.check(m, sub)
			}
			if tc.want == "out of order" { // the level now named first is still named once
				body = strings.Replace(body, "- *Full commitment and detailed plans*: Every", "- *Little or no commitment and plans*: Every", 1)
				fsys = fstest.MapFS{"content/en/winback.md": {Data: []byte(body)}}
				p, err = parsePage(fsys, "content/en/winback.md", "en")
				if err == nil {
					sub, _ := m.Subsection("winback")
					err = p.check(m, sub)
				}
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

// The levels part holds, per dimension, what each level looks like in the
// topic; the page keeps the heading and the signs go to the tables.
func TestLevelSignsAreReadPerDimensionLowestFirst(t *testing.T) {
	m := model(t)
	lib, err := Load(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range survey.Locales {
		p, _ := lib.Page(l, "acquisition-planning")
		for _, d := range m.Dimensions {
			signs := p.Signs[d.Key]
			covered := 0
			for _, s := range signs {
				covered += len(s.Levels)
			}
			if covered != survey.NumLevels || signs[0].Levels[0] != survey.NumLevels {
				t.Errorf("%s %s: signs %v, want the five levels lowest first", l, d.Key, signs)
			}
		}
		if strings.Contains(string(p.Body), "<li><em>") {
			t.Errorf("%s: the signs stayed in the body", l)
		}
	}
	p, _ := lib.Page("en", "acquisition-planning")
	if got := p.Signs["reality"][0].Text; got != "Nobody knows which acquisition channels bring customers who stay." {
		t.Errorf("lowest reality sign = %q", got)
	}
	if last := p.Signs["reality"][3]; len(last.Levels) != 2 || last.Levels[0] != 2 || last.Levels[1] != 1 {
		t.Errorf("last reality sign covers %v, want substantially and fully implemented (2, 1)", last.Levels)
	}
	if !strings.Contains(p.Text, "Nobody knows which acquisition channels") || strings.Contains(p.Text, "No real implementation") {
		t.Error("the search text lacks the signs, or has the level titles")
	}
}
