package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"tiltline/survey"
)

// Browser tests of the respondent flow: keyboard only, resuming on another
// device, surviving a server restart, and accessibility (axe-core).

// checkedByServer returns name → value of every choice the server's HTML
// marked checked: the checked attribute, not the property, so answers the
// script re-applies from localStorage do not count.
func checkedByServer(t *testing.T, ctx context.Context) map[string]string {
	t.Helper()
	return read(t, ctx, chromedp.Evaluate[map[string]string](`Object.fromEntries(
		[...document.querySelectorAll('form.survey fieldset.dimension input[type=radio][checked]')].map(i => [i.name, i.value]))`))
}

// practicesOnPage lists the practice ids of the current section page.
func practicesOnPage(t *testing.T, ctx context.Context) []string {
	t.Helper()
	ids := read(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('article.practice')].map(a => a.id)`))
	if len(ids) == 0 {
		t.Fatal("no practice on the page")
	}
	return ids
}

// choose clicks the radio of a practice's dimension with value ("1".."5" or "dk").
func choose(t *testing.T, ctx context.Context, practice, dimension, value string) {
	t.Helper()
	do(t, ctx, chromedp.Click(chromedp.ID(practice+"-"+dimension+"-"+value), chromedp.NodeVisible))
}

// pendingKeyJS is the localStorage key under which survey.js keeps answers the
// server has not confirmed.
const pendingKeyJS = `'tiltline.pending:' + document.querySelector('form[data-autosave]').getAttribute('data-autosave')`

// waitSaveStatus waits until .save-status has the class kind ("saved",
// "offline", …) and, for "saved", nothing is left unconfirmed in
// localStorage. It returns the status text.
func waitSaveStatus(t *testing.T, ctx context.Context, kind string, timeout time.Duration) string {
	t.Helper()
	cond := fmt.Sprintf(`document.querySelector('.save-status').classList.contains(%q)`, kind)
	if kind == "saved" {
		cond += ` && localStorage.getItem(` + pendingKeyJS + `) === null`
	}
	sctx, cancel := context.WithTimeout(ctx, timeout+browserStep)
	defer cancel()
	if _, err := chromedp.Run(sctx, chromedp.Poll[bool](cond,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(timeout))); err != nil {
		got := read(t, ctx, chromedp.Evaluate[string](`document.querySelector('.save-status').className + ': ' + document.querySelector('.save-status').textContent`))
		t.Fatalf("save status never became %q (now %q): %v", kind, got, err)
	}
	return visibleText(t, ctx, ".save-status")
}

// pagePath is the path of the page the browser shows, without the query.
func pagePath(t *testing.T, ts *testServer, ctx context.Context) string {
	t.Helper()
	p, _, _ := strings.Cut(ts.pathOf(t, read(t, ctx, chromedp.Location())), "?")
	return p
}

// linkToken is the token at the end of a respondent link.
func linkToken(link string) string { return path.Base(link) }

// draftOf returns the answers stored in the link's draft, or nil when there
// is no draft.
func draftOf(t *testing.T, ts *testServer, link string) []byte {
	t.Helper()
	d, err := survey.LoadDraft(context.Background(), ts.App.db, survey.DraftKey(ts.cfg.Secret, linkToken(link)))
	if errors.Is(err, survey.ErrNoDraft) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return d.Answers
}

// packAnswers turns name → value choices ("AP-01.intention" → "3") into the
// packed answer vector the store keeps.
func packAnswers(t *testing.T, m *survey.Model, choices map[string]string) []byte {
	t.Helper()
	out := make([]byte, m.AnswerSlots())
	for name, value := range choices {
		id, dim, ok := strings.Cut(name, ".")
		p, found := m.Practice(id)
		if !ok || !found {
			t.Fatalf("choice %q names no practice", name)
		}
		var v survey.AnswerValue
		if err := v.UnmarshalText([]byte(value)); err != nil {
			t.Fatalf("choice %s=%q: %v", name, value, err)
		}
		out[m.Slot(p, dim)] = byte(v)
	}
	return out
}

// assertStored fails unless the stored answers hold exactly these choices in
// the slots of the choices (other slots are not looked at).
func assertStored(t *testing.T, m *survey.Model, stored []byte, choices map[string]string) {
	t.Helper()
	want := packAnswers(t, m, choices)
	for name := range choices {
		id, dim, _ := strings.Cut(name, ".")
		p, _ := m.Practice(id)
		if s := m.Slot(p, dim); s >= len(stored) || stored[s] != want[s] {
			got := byte(0)
			if s < len(stored) {
				got = stored[s]
			}
			t.Errorf("stored %s = %d, want %d (%s)", name, got, want[s], choices[name])
		}
	}
}

func assertChoices(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	for name, v := range want {
		if got[name] != v {
			t.Errorf("%s: %s = %q, want %q", what, name, got[name], v)
		}
	}
	for name, v := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: %s = %q checked, want nothing", what, name, v)
		}
	}
}

// --- keyboard ---

// press sends key events (see package kb) to whatever has the focus.
func press(t *testing.T, ctx context.Context, keys string) {
	t.Helper()
	do(t, ctx, chromedp.KeyEvent(keys))
}

// focusState is what the test knows of the focused element. It only reads
// the page.
type focusState struct {
	Name     string `json:"name"`     // name of a focused survey radio, else ""
	Checked  string `json:"checked"`  // value checked in that radio's group, else ""
	Next     bool   `json:"next"`     // the primary "next" button of the survey form
	Unchosen int    `json:"unchosen"` // questions on the page with nothing checked
}

const focusJS = `(() => {
	const e = document.activeElement;
	const f = e && e.closest ? e.closest('form.survey fieldset.dimension') : null;
	const radio = !!(f && e.type === 'radio');
	const c = radio ? f.querySelector('input[type=radio]:checked') : null;
	return {
		name: radio ? e.name : '',
		checked: c ? c.value : '',
		next: !!(e && e.matches && e.matches('form.survey button[name=go][value=next]')),
		unchosen: [...document.querySelectorAll('form.survey fieldset.dimension')]
			.filter(fs => !fs.querySelector('input[type=radio]:checked')).length,
	};
})()`

func focused(t *testing.T, ctx context.Context) focusState {
	t.Helper()
	return read(t, ctx, chromedp.Evaluate[focusState](focusJS))
}

// maxTabs bounds every walk through a page with Tab.
const maxTabs = 600

// tabTo presses Tab until the focused element matches css.
func tabTo(t *testing.T, ctx context.Context, css string) {
	t.Helper()
	js := fmt.Sprintf(`!!(document.activeElement && document.activeElement.matches(%q))`, css)
	for range maxTabs {
		press(t, ctx, kb.Tab)
		if read(t, ctx, chromedp.Evaluate[bool](js)) {
			return
		}
	}
	t.Fatalf("%s never got the focus after %d tabs", css, maxTabs)
}

// keyChoice is a way to answer a focused, unanswered radio group: the keys
// and the value they pick. The levels run from least (stored as 5) to most
// (stored as 1), then "don't know". Tab focuses the group's first choice;
// Space checks it; arrow keys move the choice (and wrap: Up from the first
// reaches the last, "don't know").
type keyChoice struct{ keys, value string }

var keyChoices = []keyChoice{
	{" ", "5"},
	{kb.ArrowDown, "4"},
	{kb.ArrowUp, "dk"},
	{kb.ArrowDown + kb.ArrowDown, "3"},
	{kb.ArrowUp + kb.ArrowUp, "1"},
	{kb.ArrowRight + kb.ArrowRight + kb.ArrowRight, "2"},
}

// answerPageByKeyboard walks the page with Tab from wherever the focus is,
// answers every unanswered question it reaches with the next of keyChoices
// (counting on from *n), and stops on the "next" button. It returns the
// choices made.
func answerPageByKeyboard(t *testing.T, ctx context.Context, n *int) map[string]string {
	t.Helper()
	chosen := map[string]string{}
	for range maxTabs {
		press(t, ctx, kb.Tab)
		st := focused(t, ctx)
		if st.Name != "" && st.Checked == "" {
			c := keyChoices[*n%len(keyChoices)]
			*n++
			press(t, ctx, c.keys)
			after := focused(t, ctx)
			if after.Name != st.Name || after.Checked != c.value {
				t.Fatalf("keys %q on %s checked %q in %q, want %q", c.keys, st.Name, after.Checked, after.Name, c.value)
			}
			chosen[st.Name] = c.value
			continue
		}
		if st.Next {
			if st.Unchosen > 0 {
				t.Fatalf("reached the next button with %d questions the Tab walk never reached", st.Unchosen)
			}
			return chosen
		}
	}
	t.Fatalf("the next button never got the focus after %d tabs", maxTabs)
	return nil
}

func TestBrowserKeyboardOnlyCompletesSurvey(t *testing.T) {
	start := time.Now()
	ts := startTestServer(t, 5)
	link := ts.Demo.Links[0]
	m := ts.App.models.Latest()
	countResponses := func() int64 { return stored(t, ts.App, ts.Demo.CampaignID) }
	before := countResponses()
	ctx := newBrowser(t, "en")
	// The compact layout of a phone: every row of choices on one line.
	do(t, ctx, chromedp.EmulateViewport(375, 800))

	if status := open(t, ctx, link); status != http.StatusOK {
		t.Fatalf("welcome: status %d", status)
	}
	if h1 := visibleText(t, ctx, "h1"); !strings.Contains(h1, "Welcome") {
		t.Fatalf("welcome h1 = %q", h1)
	}
	tabTo(t, ctx, `form.profile button[type=submit]`)
	if status := follow(t, ctx, chromedp.KeyEvent(kb.Enter)); status != http.StatusOK {
		t.Fatalf("start: status %d", status)
	}

	all := map[string]string{}
	keys := 0
	heading := "Section %d of 13"
	for page := 1; page <= len(m.Sections); page++ {
		if h1 := visibleText(t, ctx, "h1"); !strings.Contains(h1, fmt.Sprintf(heading, page)) {
			t.Fatalf("page %d: h1 = %q, want %q", page, h1, fmt.Sprintf(heading, page))
		}
		chosen := answerPageByKeyboard(t, ctx, &keys)
		if len(chosen) != 2*len(m.Sections[page-1].Practices()) {
			t.Fatalf("page %d: answered %d questions, want %d", page, len(chosen), 2*len(m.Sections[page-1].Practices()))
		}
		for k, v := range chosen {
			all[k] = v
		}
		if page == 5 {
			// Autosave alone must have stored the page: the server has it,
			// nothing waits in localStorage, and a reload shows it checked
			// from the server's HTML.
			waitSaveStatus(t, ctx, "saved", 10*time.Second)
			assertStored(t, m, draftOf(t, ts, link), chosen)
			do(t, ctx, chromedp.Reload())
			assertChoices(t, "after reload", checkedByServer(t, ctx), chosen)

			tabTo(t, ctx, `nav.langs a[hreflang="fr"]`)
			if status := follow(t, ctx, chromedp.KeyEvent(kb.Enter)); status != http.StatusOK {
				t.Fatalf("switch to French: status %d", status)
			}
			heading = "Domaine %d sur 13"
			if h1 := visibleText(t, ctx, "h1"); !strings.Contains(h1, fmt.Sprintf(heading, page)) {
				t.Fatalf("after the switch: h1 = %q, want %q", h1, fmt.Sprintf(heading, page))
			}
			if lang := pageLang(t, ctx); lang != "fr" {
				t.Errorf("after the switch: html lang = %q", lang)
			}
			assertChoices(t, "after the switch", checkedByServer(t, ctx), chosen)
			tabTo(t, ctx, `form.survey button[name=go][value=next]`)
		}
		// Enter on the focused primary button saves the page and goes on.
		if status := follow(t, ctx, chromedp.KeyEvent(kb.Enter)); status != http.StatusOK {
			t.Fatalf("page %d: next: status %d", page, status)
		}
	}

	if h1 := visibleText(t, ctx, "h1"); h1 != "Vérifier et envoyer" {
		t.Fatalf("review h1 = %q", h1)
	}
	if n := read(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('details.missing').length`)); n != 0 {
		t.Errorf("review lists %d sections with unanswered practices", n)
	}
	assertStored(t, m, draftOf(t, ts, link), all)
	tabTo(t, ctx, `form.submit-form button[type=submit]`)
	if status := follow(t, ctx, chromedp.KeyEvent(kb.Enter)); status != http.StatusOK {
		t.Fatalf("submit: status %d", status)
	}
	if h1 := visibleText(t, ctx, "h1"); h1 != "Merci !" {
		t.Errorf("after submit: h1 = %q, want the thank-you page", h1)
	}
	// The link shows only the thank-you page from now on.
	for _, p := range []string{"", "/p/1", "/review"} {
		open(t, ctx, link+p)
		if h1 := visibleText(t, ctx, "h1"); !strings.HasPrefix(h1, "Déjà envoyé") {
			t.Errorf("%s after submit: h1 = %q", ts.pathOf(t, link+p), h1)
		}
		if n := read(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('form, input').length`)); n != 0 {
			t.Errorf("%s after submit shows %d form elements", ts.pathOf(t, link+p), n)
		}
	}

	if got := countResponses(); got != before+1 {
		t.Errorf("campaign has %d responses, want %d", got, before+1)
	}
	var mine []survey.PendingResponse
	for _, p := range pendingOf(t, ts.App, ts.Demo.CampaignID) {
		if bytes.Equal(p.Answers, packAnswers(t, m, all)) {
			mine = append(mine, p)
		}
	}
	if len(mine) != 1 {
		t.Errorf("%d responses hold exactly the keyboard's answers, want 1", len(mine))
	} else if mine[0].Locale != "fr" {
		t.Errorf("response locale %q, want fr (the language it was finished in)", mine[0].Locale)
	}
	if d := draftOf(t, ts, link); d != nil {
		t.Error("the draft is still there after submit")
	}
	var drafts int64
	if err := ts.App.db.Read.Model(&survey.Draft{}).Where("campaign_id = ?", ts.Demo.CampaignID).Count(&drafts).Error; err != nil {
		t.Fatal(err)
	}
	if drafts != 0 {
		t.Errorf("%d drafts left for the campaign, want 0", drafts)
	}
	t.Logf("%d questions answered with %d key choices in %s", len(all), keys, time.Since(start).Round(time.Millisecond))
}

func TestBrowserResumesOnSecondProfile(t *testing.T) {
	ts := startTestServer(t, 0)
	link := ts.Demo.Links[0]
	m := ts.App.models.Latest()

	// First device: answer two practices of section 1 and leave the page
	// without pressing "next": only autosave stores them.
	first := newBrowser(t, "en")
	open(t, first, link)
	if status := follow(t, first, chromedp.Click(chromedp.CSS(`form.profile button[type=submit]`), chromedp.NodeVisible)); status != http.StatusOK {
		t.Fatalf("start: status %d", status)
	}
	ids := practicesOnPage(t, first)
	if len(ids) < 3 {
		t.Fatalf("section 1 has %d practices; the test needs 3", len(ids))
	}
	page1 := map[string]string{
		ids[0] + ".intention": "2", ids[0] + ".reality": "4",
		ids[1] + ".intention": "dk", ids[1] + ".reality": "1",
	}
	for name, v := range page1 {
		id, dim, _ := strings.Cut(name, ".")
		choose(t, first, id, dim, v)
	}
	waitSaveStatus(t, first, "saved", 10*time.Second)
	assertStored(t, m, draftOf(t, ts, link), page1)

	// Second device (a new profile: no cookies, no localStorage): the link
	// resumes on page 1, which still has open practices, with the answers.
	second := newBrowser(t, "en")
	open(t, second, link)
	if loc := pagePath(t, ts, second); !strings.HasSuffix(loc, "/p/1") {
		t.Fatalf("second device landed on %s, want …/p/1", loc)
	}
	if h1 := visibleText(t, second, "h1"); !strings.Contains(h1, "Section 1 of 13") {
		t.Errorf("second device: h1 = %q", h1)
	}
	assertChoices(t, "second device, page 1", checkedByServer(t, second), page1)

	// Finish section 1 there, answer one practice of section 2 and go on to
	// section 3 without answering: a third device resumes on page 2, the
	// first with something open, not on the last page seen.
	for _, id := range ids[2:] {
		choose(t, second, id, survey.Intention, "3")
		choose(t, second, id, survey.Reality, "5")
	}
	if status := follow(t, second, chromedp.Click(chromedp.CSS(`form.survey button[value=next]`), chromedp.NodeVisible)); status != http.StatusOK {
		t.Fatalf("next: status %d", status)
	}
	ids2 := practicesOnPage(t, second)
	page2 := map[string]string{ids2[0] + ".intention": "5", ids2[0] + ".reality": "dk"}
	for name, v := range page2 {
		id, dim, _ := strings.Cut(name, ".")
		choose(t, second, id, dim, v)
	}
	waitSaveStatus(t, second, "saved", 10*time.Second)
	if status := follow(t, second, chromedp.Click(chromedp.CSS(`form.survey button[value=next]`), chromedp.NodeVisible)); status != http.StatusOK {
		t.Fatalf("next: status %d", status)
	}
	if h1 := visibleText(t, second, "h1"); !strings.Contains(h1, "Section 3 of 13") {
		t.Fatalf("second device: h1 = %q, want section 3", h1)
	}

	third := newBrowser(t, "en")
	open(t, third, link)
	if loc := pagePath(t, ts, third); !strings.HasSuffix(loc, "/p/2") {
		t.Fatalf("third device landed on %s, want …/p/2", loc)
	}
	assertChoices(t, "third device, page 2", checkedByServer(t, third), page2)
}

func TestBrowserAnswersSurviveServerRestart(t *testing.T) {
	ts := startTestServer(t, 0)
	link := ts.Demo.Links[0]
	m := ts.App.models.Latest()
	ctx := newBrowser(t, "en")
	if status := open(t, ctx, link+"/p/1"); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	ids := practicesOnPage(t, ctx)
	saved := map[string]string{ids[0] + ".intention": "1", ids[0] + ".reality": "3"}
	for name, v := range saved {
		id, dim, _ := strings.Cut(name, ".")
		choose(t, ctx, id, dim, v)
	}
	waitSaveStatus(t, ctx, "saved", 10*time.Second)

	// A new App on the same SQLite file, secret and port.
	old := ts.App
	ts.Stop()
	ts.Start()
	if ts.App == old {
		t.Fatal("the restart kept the old App")
	}
	do(t, ctx, chromedp.Reload())
	assertChoices(t, "after restart", checkedByServer(t, ctx), saved)

	// While the server is down, an answer cannot be saved: the page says so
	// and keeps it on the device.
	ts.Stop()
	choose(t, ctx, ids[1], survey.Intention, "4")
	status := waitSaveStatus(t, ctx, "offline", 10*time.Second)
	if want := read(t, ctx, chromedp.Evaluate[string](`document.querySelector('.save-status').dataset.offline`)); status != want || want == "" {
		t.Errorf("status while down = %q, want %q", status, want)
	}
	pending := read(t, ctx, chromedp.Evaluate[map[string]string](`JSON.parse(localStorage.getItem(`+pendingKeyJS+`))`))
	if pending[ids[1]+".intention"] != "4" {
		t.Errorf("localStorage keeps %v while the server is down, want %s.intention = 4", pending, ids[1])
	}

	// Back on the same port: the script's retry stores the pending answer
	// without any action of the respondent.
	downAt := time.Now()
	ts.Start()
	waitSaveStatus(t, ctx, "saved", 20*time.Second)
	t.Logf("pending answer stored %s after the restart", time.Since(downAt).Round(time.Millisecond))
	saved[ids[1]+".intention"] = "4"
	assertStored(t, m, draftOf(t, ts, link), saved)

	// A fresh profile (no localStorage) sees it from the server.
	other := newBrowser(t, "en")
	open(t, other, link+"/p/1")
	assertChoices(t, "fresh profile after the restart", checkedByServer(t, other), saved)
}

// --- accessibility ---

// axeResult is what the test keeps of an axe-core run: how many rules
// passed (to know it ran at all) and the failed rules with their first nodes.
type axeResult struct {
	Passes     int      `json:"passes"`
	Incomplete []string `json:"incomplete"` // rules axe-core could not decide: "id on targets"
	Violations []struct {
		ID     string `json:"id"`
		Impact string `json:"impact"`
		Help   string `json:"help"`
		Count  int    `json:"count"` // nodes in all
		Nodes  []struct {
			Target  []string `json:"target"`
			Summary string   `json:"summary"`
		} `json:"nodes"`
	} `json:"violations"`
}

// axeTags are the rule sets checked: WCAG 2.0-2.2 A and AA (2.2 adds
// target-size) and axe-core's best practices.
const axeTags = `['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']`

const axeRunJS = `axe.run(document, {runOnly: {type: 'tag', values: ` + axeTags + `}}).then(r => ({
	passes: r.passes.length,
	incomplete: r.incomplete.map(v => v.id + ' on ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')),
	violations: r.violations.map(v => ({
		id: v.id, impact: v.impact || '', help: v.help, count: v.nodes.length,
		nodes: v.nodes.slice(0, 3).map(n => ({target: n.target.map(String), summary: n.failureSummary || ''})),
	})),
}))`

// checkAccessibility runs axe-core on the current page at each width and
// fails on serious and critical violations; lesser ones are logged.
func checkAccessibility(t *testing.T, ctx context.Context, axeJS, page string, widths ...int64) {
	t.Helper()
	if !read(t, ctx, chromedp.Evaluate[bool](`typeof axe === 'object'`)) {
		do(t, ctx, chromedp.Evaluate[chromedp.Void](axeJS))
	}
	for _, w := range widths {
		do(t, ctx, chromedp.EmulateViewport(w, 900))
		res := read(t, ctx, chromedp.Evaluate[axeResult](axeRunJS, chromedp.EvalAwaitPromise))
		if res.Passes == 0 {
			t.Fatalf("%s at %d px: axe-core passed no rule; did it run?", page, w)
		}
		for _, v := range res.Violations {
			report := t.Logf
			if v.Impact == "serious" || v.Impact == "critical" {
				report = t.Errorf
			}
			var nodes []string
			for _, n := range v.Nodes {
				nodes = append(nodes, fmt.Sprintf("%s (%s)", strings.Join(n.Target, " "), strings.ReplaceAll(n.Summary, "\n", " ")))
			}
			report("%s at %d px: %s [%s] %s — %d nodes, first: %s", page, w, v.ID, v.Impact, v.Help, v.Count, strings.Join(nodes, "; "))
		}
		t.Logf("%s at %d px: axe-core: %d rules passed, %d violated, %d to review by hand %q", page, w, res.Passes, len(res.Violations), len(res.Incomplete), res.Incomplete)
	}
	do(t, ctx, chromedp.ResetViewport())
}

// askProfile makes the demo campaign ask unit, role and seniority on the
// welcome page, so that its form fields are on the page too.
func askProfile(t *testing.T, ts *testServer) {
	t.Helper()
	err := ts.App.db.Write.Model(&survey.Campaign{}).Where("id = ?", ts.Demo.CampaignID).
		Updates(map[string]any{"ask_unit": true, "ask_role": true, "ask_seniority": true}).Error
	if err != nil {
		t.Fatal(err)
	}
}

func TestBrowserAccessibility(t *testing.T) {
	js, err := os.ReadFile("testdata/axe/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	axeJS := string(js)
	ts := startTestServer(t, 0)
	askProfile(t, ts)
	link := ts.Demo.Links[0]
	ctx := newBrowser(t, "en")

	open(t, ctx, link)
	if n := read(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('form.profile select, form.profile input[type=radio]').length`)); n < 3 {
		t.Fatalf("the welcome page asks %d profile fields, want unit, role and seniority", n)
	}
	checkAccessibility(t, ctx, axeJS, "welcome", 1280, 375)

	// The same form with errors, as the server renders them for an answer
	// that is not among the options (here made possible by adding one).
	do(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('#role').add(new Option('bogus', 'bogus', true, true))`))
	if status := follow(t, ctx, chromedp.Click(chromedp.CSS(`form.profile button[type=submit]`), chromedp.NodeVisible)); status != http.StatusUnprocessableEntity {
		t.Fatalf("invalid profile: status %d, want 422", status)
	}
	if n := read(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('[aria-invalid=true]').length`)); n == 0 {
		t.Fatal("the welcome page shows no invalid field")
	}
	checkAccessibility(t, ctx, axeJS, "welcome with an error", 1280, 375)

	open(t, ctx, link)
	if status := follow(t, ctx, chromedp.Click(chromedp.CSS(`form.profile button[type=submit]`), chromedp.NodeVisible)); status != http.StatusOK {
		t.Fatalf("start: status %d", status)
	}
	// A section page as it is used: one answer given and saved (the status
	// line shows), one level explanation open.
	ids := practicesOnPage(t, ctx)
	choose(t, ctx, ids[0], survey.Intention, "2")
	waitSaveStatus(t, ctx, "saved", 10*time.Second)
	do(t, ctx, chromedp.Click(chromedp.CSS(`details.levels summary`), chromedp.NodeVisible))
	checkAccessibility(t, ctx, axeJS, "section", 1280, 375)

	open(t, ctx, link+"/review")
	checkAccessibility(t, ctx, axeJS, "review", 1280, 375)

	if status := follow(t, ctx, chromedp.Click(chromedp.CSS(`form.submit-form button[type=submit]`), chromedp.NodeVisible)); status != http.StatusOK {
		t.Fatalf("submit: status %d", status)
	}
	checkAccessibility(t, ctx, axeJS, "thank-you", 1280, 375)
}

// TestBrowserSectionFitsNarrowScreen checks that the respondent pages need no
// horizontal scrolling on a 320 px wide screen (WCAG 1.4.10 reflow), in every
// language: German words are long.
func TestBrowserSectionFitsNarrowScreen(t *testing.T) {
	ts := startTestServer(t, 0)
	askProfile(t, ts)
	ctx := newBrowser(t, "en")
	do(t, ctx, chromedp.EmulateViewport(320, 800))
	for _, lang := range []string{"en", "de", "fr"} {
		// Links[1] is never started: it keeps showing the welcome page.
		for _, url := range []string{ts.Demo.Links[1], ts.Demo.Links[0] + "/p/1", ts.Demo.Links[0] + "/p/7", ts.Demo.Links[0] + "/review"} {
			open(t, ctx, url+"?lang="+lang)
			// Open every level explanation: they are part of the page too.
			do(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('details').forEach(d => d.open = true)`))
			w := read(t, ctx, chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, document.documentElement.clientWidth]`))
			if w[0] > 320 {
				wide := read(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 320).slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + ': ' + e.textContent.trim().slice(0, 40))`))
				t.Errorf("%s %s at 320 px: scrollWidth %d (client %d); too wide: %s", lang, ts.pathOf(t, url), w[0], w[1], strings.Join(wide, " | "))
			}
		}
	}
}
