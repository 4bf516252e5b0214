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
		"missing part":    {"{#pitfalls}", "", "lacks the part {#pitfalls}"},
		"wrong title":     {"title: \"Winback\"", "title: \"Win back\"", "title"},
		"unknown related": {"related: [", "related: [nowhere, ", "related \"nowhere\""},
		"too short":       {"## Why it matters", "## Why it matters {#x}\n\n" + "x\n<!--", "characters"},
		"no front matter": {"---\n", "", "no front matter"},
		"levels as prose": {"{#levels}\n", "{#levels}\n\n**Intention.** At *little or no commitment*, nothing.\n", "{#levels} holds text"},
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
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}
