package server

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tiltline/survey"
)

// Browser tests of the administration pages: an org admin signs in, creates
// a campaign, uploads participants, opens the campaign and sends the
// invitations, which a real SMTP server receives; a respondent opens the
// mailed link. And axe-core on the admin, login and portal pages.

// byText selects the first element of kind tag (a, button, …) whose
// whitespace-normalised text is text, as a person finds it on the page.
func byText(tag, text string) chromedp.Search {
	return chromedp.Search(fmt.Sprintf(`//%s[normalize-space()=%q]`, tag, text))
}

// byTextPrefix selects the first element of kind tag whose text starts with
// prefix.
func byTextPrefix(tag, prefix string) chromedp.Search {
	return chromedp.Search(fmt.Sprintf(`//%s[starts-with(normalize-space(), %q)]`, tag, prefix))
}

// factOf returns the value shown for a term of a facts-grid (a dt/dd list).
func factOf(t *testing.T, ctx context.Context, term string) string {
	t.Helper()
	return strings.TrimSpace(read(t, ctx, chromedp.Text(chromedp.Search(fmt.Sprintf(`//dl/div[dt[normalize-space()=%q]]/dd`, term)), chromedp.NodeVisible)))
}

// signInAsAdmin fills and submits the login form with the demo org admin's
// credentials and checks that it lands on the organisation's campaigns.
func signInAsAdmin(t *testing.T, ts *testServer, ctx context.Context) {
	t.Helper()
	signInWith(t, ts, ctx, ts.Demo.AdminEmail, ts.Demo.AdminPassword, "/admin")
	if h1 := visibleText(t, ctx, "h1"); h1 != "Demo Bank" {
		t.Fatalf("admin home h1 = %q, want the organisation's name", h1)
	}
	if out := visibleText(t, ctx, "header nav.account"); !strings.Contains(out, "Sign out") {
		t.Errorf("header after sign-in = %q, want a sign-out button", out)
	}
}

// campaignPathRe matches the path of a campaign page.
var campaignPathRe = regexp.MustCompile(`^/admin/campaigns/(\d+)$`)

// mailLinkRe finds the links of a (decoded) invitation: the survey link
// (group 3 empty) and the opt-out link (group 3 "/optout"), each with the
// mail's language.
var mailLinkRe = regexp.MustCompile(`(http://[0-9.:]+)(/s/[A-Za-z0-9_-]{43})(/optout)?(?:\?lang=([a-z]{2}))?`)

var contentLanguageRe = regexp.MustCompile(`(?m)^Content-Language: (\S+)\r?$`)

// undoQuotedPrintable removes the soft line breaks and the escaped "=" of a
// quoted-printable body, enough to find links in it. Other escapes (accented
// letters) are left as they are.
func undoQuotedPrintable(raw []byte) []byte {
	raw = bytes.ReplaceAll(raw, []byte("=\r\n"), nil)
	raw = bytes.ReplaceAll(raw, []byte("=\n"), nil)
	return bytes.ReplaceAll(raw, []byte("=3D"), []byte("="))
}

func TestBrowserAdminInvitesAndRespondentAnswers(t *testing.T) {
	start := time.Now()
	sink := startSink(t)
	ts := startTestServerWith(t, testServerOptions{SMTPURL: sink.URL("")})
	ctx := newBrowser(t, "en")
	signInAsAdmin(t, ts, ctx)
	signedIn := time.Now()

	// A new campaign: a name typed over the suggested one, the rest as offered.
	if status := follow(t, ctx, chromedp.Click(byText("a", "New campaign"), chromedp.NodeVisible)); status != http.StatusOK {
		t.Fatalf("new campaign: status %d", status)
	}
	if h1 := visibleText(t, ctx, "h1"); h1 != "New campaign" {
		t.Fatalf("campaign form h1 = %q", h1)
	}
	if k := read(t, ctx, chromedp.Value(chromedp.ID("k_min"))); k != "5" {
		t.Errorf("the form suggests k_min %q, want the configured 5", k)
	}
	const name = "Browser wave"
	do(t, ctx,
		chromedp.Clear(chromedp.ID("name"), chromedp.NodeVisible),
		chromedp.SendKeys(chromedp.ID("name"), name, chromedp.NodeVisible))
	if status := follow(t, ctx, chromedp.Click(byText("button", "Save"), chromedp.NodeVisible)); status != http.StatusOK {
		t.Fatalf("save campaign: status %d", status)
	}
	campaignPath := pagePath(t, ts, ctx)
	if !campaignPathRe.MatchString(campaignPath) {
		t.Fatalf("after saving the campaign the browser is on %s, want its page", campaignPath)
	}
	if h1 := visibleText(t, ctx, "h1"); !strings.Contains(h1, name) || !strings.Contains(h1, "draft") {
		t.Errorf("campaign h1 = %q, want the name and the status draft", h1)
	}
	if n := factOf(t, ctx, "Participants"); n != "0" {
		t.Errorf("a new campaign shows %s participants", n)
	}
	if read(t, ctx, chromedp.Evaluate[bool](`!!document.getElementById('send-invitations')`)) {
		t.Error("invitations can be sent from a draft campaign")
	}

	// The participants: a file with one bad address among five lines.
	if status := follow(t, ctx, chromedp.Click(byText("a", "Participants"), chromedp.NodeVisible)); status != http.StatusOK {
		t.Fatalf("participants: status %d", status)
	}
	if h1 := visibleText(t, ctx, "h1"); h1 != "Participants (0)" {
		t.Errorf("participants h1 = %q", h1)
	}
	valid := []string{"ada@people.example", "grace@people.example", "alan@people.example", "edsger@people.example"}
	csv := "email;name;locale\n" +
		"ada@people.example;Ada Lovelace;en\n" +
		"grace@people.example;Grace Hopper;en\n" +
		"not-an-email;Bad Line;en\n" +
		"alan@people.example;Alan Turing;de\n" +
		"edsger@people.example;Edsger Dijkstra;fr\n"
	file := filepath.Join(t.TempDir(), "staff.csv")
	if err := os.WriteFile(file, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.SetUploadFiles(chromedp.ID("file"), []string{file}))
	if status := follow(t, ctx, chromedp.Click(byText("button", "Check the file"), chromedp.NodeVisible)); status != http.StatusOK {
		t.Fatalf("check the file: status %d", status)
	}
	if h1 := visibleText(t, ctx, "h1"); h1 != "Check before importing" {
		t.Fatalf("preview h1 = %q", h1)
	}
	for term, want := range map[string]string{"Lines read": "5", "Ready to import": "4", "Lines with problems": "1", "Duplicates": "0"} {
		if got := factOf(t, ctx, term); got != want {
			t.Errorf("preview: %s = %s, want %s", term, got, want)
		}
	}
	problems := read(t, ctx, chromedp.Evaluate[[][]string](`[...document.querySelectorAll('table.data tbody tr')].map(r => [...r.cells].map(c => c.innerText.trim()))`))
	if len(problems) != 1 {
		t.Fatalf("preview lists %d problem lines, want 1: %q", len(problems), problems)
	}
	// Line 4 of the file: the header is line 1.
	if got, want := problems[0], []string{"4", "Email", "not-an-email", `"not-an-email" is not a valid email address.`}; !slices.Equal(got, want) {
		t.Errorf("problem line = %q, want %q", got, want)
	}
	if caption := visibleText(t, ctx, "table.data caption"); caption != "Lines that will not be imported" {
		t.Errorf("problems caption = %q", caption)
	}
	if status := follow(t, ctx, chromedp.Click(byText("button", "Import 4 participants"), chromedp.NodeVisible)); status != http.StatusOK {
		t.Fatalf("import: status %d", status)
	}
	if p := pagePath(t, ts, ctx); p != campaignPath {
		t.Fatalf("after the import the browser is on %s, want %s", p, campaignPath)
	}
	if notice := visibleText(t, ctx, "p.notice"); notice != "The participants were imported." {
		t.Errorf("notice after import = %q", notice)
	}
	if n := factOf(t, ctx, "Participants"); n != "4" {
		t.Errorf("campaign shows %s participants after the import, want 4", n)
	}

	// Open the campaign and send the invitations.
	if status := follow(t, ctx, chromedp.Click(byText("button", "Open the campaign"), chromedp.NodeVisible)); status != http.StatusOK {
		t.Fatalf("open the campaign: status %d", status)
	}
	if h1 := visibleText(t, ctx, "h1"); !strings.Contains(h1, "open") {
		t.Errorf("h1 after opening = %q, want the status open", h1)
	}
	if status := follow(t, ctx, chromedp.Click(byTextPrefix("a", "Send invitations"), chromedp.NodeVisible)); status != http.StatusOK {
		t.Fatalf("send invitations: status %d", status)
	}
	if h1 := visibleText(t, ctx, "h1"); h1 != "Send 4 invitations in English, German and French?" {
		t.Errorf("the confirmation asks %q", h1)
	}
	if status := follow(t, ctx, chromedp.Click(byText("button", "Yes, send 4 now"), chromedp.NodeVisible)); status != http.StatusOK {
		t.Fatalf("confirm invitations: status %d", status)
	}
	clicked := time.Now()
	if notice := visibleText(t, ctx, "p.notice"); notice != "4 mails are on their way." {
		t.Errorf("notice after sending = %q", notice)
	}
	mails := sink.Wait(len(valid), 20*time.Second)
	delivered := time.Since(clicked)
	var rcpts []string
	links := map[string]string{} // recipient → survey link
	langs := map[string]string{"ada@people.example": "en", "grace@people.example": "en", "alan@people.example": "de", "edsger@people.example": "fr"}
	for _, m := range mails {
		rcpts = append(rcpts, m.To...)
		if len(m.To) != 1 {
			t.Fatalf("a mail to %q, want one recipient per mail", m.To)
		}
		to := m.To[0]
		for _, l := range mailLinkRe.FindAllSubmatch(undoQuotedPrintable(m.Data), -1) {
			if len(l[3]) == 0 && links[to] == "" {
				links[to] = string(l[0])
			}
			if got := string(l[4]); got != langs[to] {
				t.Errorf("mail to %s links with lang %q, want %q: %s", to, got, langs[to], l[0])
			}
		}
		if links[to] == "" {
			t.Fatalf("mail to %s has no survey link:\n%s", to, m.Data)
		}
		if got := contentLanguageRe.FindSubmatch(m.Data); got == nil || string(got[1]) != langs[to] {
			t.Errorf("mail to %s: Content-Language %q, want %s", to, got, langs[to])
		}
	}
	slices.Sort(rcpts)
	want := slices.Sorted(slices.Values(valid))
	if !slices.Equal(rcpts, want) {
		t.Errorf("mails went to %q, want %q", rcpts, want)
	}
	distinct := map[string]bool{}
	for _, l := range links {
		distinct[l] = true
	}
	if len(distinct) != len(valid) {
		t.Errorf("%d distinct links in %d mails", len(distinct), len(mails))
	}

	// The page counts them once the worker has marked them sent.
	counts := ""
	for deadline := time.Now().Add(10 * time.Second); ; {
		do(t, ctx, chromedp.Reload())
		counts = visibleText(t, ctx, "main h2 + p")
		if strings.Contains(counts, "sent: 4") || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if counts != "Mails waiting: 0 · sent: 4 · given up: 0" {
		t.Errorf("mail counts on the campaign page = %q", counts)
	}
	if n := factOf(t, ctx, "Invited"); n != "4" {
		t.Errorf("campaign shows %s invited, want 4", n)
	}

	// A respondent, in a browser of their own, opens Ada's mailed link.
	link := links["ada@people.example"]
	if link == "" {
		t.Fatal("no mail to ada@people.example")
	}
	if !strings.HasPrefix(link, ts.URL+"/s/") {
		t.Fatalf("mailed link %s is not on the server %s", link, ts.URL)
	}
	respondent := newBrowser(t, "en")
	if status := open(t, respondent, link); status != http.StatusOK {
		t.Fatalf("mailed link: status %d", status)
	}
	if h1 := visibleText(t, respondent, "h1"); !strings.Contains(h1, "Welcome") {
		t.Errorf("mailed link: h1 = %q, want the welcome page", h1)
	}
	if status := follow(t, respondent, chromedp.Click(chromedp.CSS(`form.profile button[type=submit]`), chromedp.NodeVisible)); status != http.StatusOK {
		t.Fatalf("start from the mailed link: status %d", status)
	}
	if h1 := visibleText(t, respondent, "h1"); !strings.Contains(h1, "Section 1 of 13") {
		t.Errorf("after start: h1 = %q, want section 1", h1)
	}
	t.Logf("signed in after %s; mails delivered %s after the click; whole test %s",
		signedIn.Sub(start).Round(time.Millisecond), delivered.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

func TestBrowserAdminPagesAccessibility(t *testing.T) {
	js, err := os.ReadFile("testdata/axe/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	axeJS := string(js)
	ts := startTestServer(t, 0)
	ctx := newBrowser(t, "en")
	campaign := fmt.Sprintf("%s/admin/campaigns/%d", ts.URL, ts.Demo.CampaignID)

	// Signed out: the login form and the learning portal.
	for _, p := range []struct{ path, h1 string }{
		{"/login", "Sign in"},
		{"/learn", ""},
		{"/learn/winback", ""},
	} {
		if status := open(t, ctx, ts.URL+p.path); status != http.StatusOK {
			t.Fatalf("%s: status %d", p.path, status)
		}
		if h1 := visibleText(t, ctx, "h1"); h1 == "" || p.h1 != "" && h1 != p.h1 {
			t.Errorf("%s: h1 = %q", p.path, h1)
		}
		checkAccessibility(t, ctx, axeJS, p.path, 1280, 375)
	}

	// The same login form after a failed attempt.
	open(t, ctx, ts.URL+"/login")
	do(t, ctx,
		chromedp.SendKeys(chromedp.ID("email"), ts.Demo.AdminEmail, chromedp.NodeVisible),
		chromedp.SendKeys(chromedp.ID("password"), "not-the-password", chromedp.NodeVisible))
	if status := follow(t, ctx, chromedp.Click(byText("button", "Sign in"), chromedp.NodeVisible)); status != http.StatusUnauthorized {
		t.Fatalf("wrong password: status %d, want 401", status)
	}
	if msg := visibleText(t, ctx, "p.error"); msg != "The email address or the password is not right." {
		t.Errorf("wrong password: message %q", msg)
	}
	checkAccessibility(t, ctx, axeJS, "/login with an error", 1280, 375)

	signInAsAdmin(t, ts, ctx)
	checkAccessibility(t, ctx, axeJS, "/admin", 1280, 375)

	if status := open(t, ctx, ts.URL+"/admin/users"); status != http.StatusOK {
		t.Fatalf("users page: status %d", status)
	}
	// A manager's units on a phone: with enough units to need the filter,
	// find one by filtering, tick another, save; ticking chose "Only these units".
	manager, err := survey.UserByEmail(t.Context(), ts.App.db, ts.Demo.ManagerEmail)
	if err != nil {
		t.Fatal(err)
	}
	var retail *survey.BusinessUnit
	for _, name := range []string{"Region Nord 1", "Region Nord 2", "Region Süd"} {
		if _, err := survey.AddUnit(t.Context(), ts.App.db, *manager.OrganisationID, name); err != nil {
			t.Fatal(err)
		}
	}
	units, _ := survey.Units(t.Context(), ts.App.db, *manager.OrganisationID)
	var nord2 int64
	for i, u := range units {
		switch u.Name {
		case "Retail Banking":
			retail = &units[i]
		case "Region Nord 2":
			nord2 = u.ID
		}
	}
	mu := fmt.Sprintf("mu-%d", manager.ID)
	do(t, ctx, chromedp.EmulateViewport(375, 800))
	open(t, ctx, ts.URL+"/admin/users")
	do(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#units-%d summary`, manager.ID)), chromedp.NodeVisible),
		chromedp.SendKeys(chromedp.ID(mu+"-filter"), "nord", chromedp.NodeVisible))
	rows := fmt.Sprintf(`[...document.querySelectorAll('#%s-list .check')]`, mu)
	if shown := read(t, ctx, chromedp.Evaluate[[]string](rows+`.filter(r => !r.hidden).map(r => r.innerText.trim())`)); strings.Join(shown, ",") != "Region Nord 1,Region Nord 2" {
		t.Errorf("filtered by \"nord\": %q", shown)
	}
	if h := read(t, ctx, chromedp.Evaluate[float64](rows+`.filter(r => !r.hidden).reduce((m, r) => Math.min(m, r.getBoundingClientRect().height), 99)`)); h < 44 {
		t.Errorf("a unit's row is %.0f px high at 375 px, want at least 44", h)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`label[for="%s-%d"]`, mu, nord2)), chromedp.NodeVisible),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(f => { f.value = ''; f.dispatchEvent(new Event('input')) })(document.getElementById('%s-filter'))`, mu)),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`label[for="%s-%d"]`, mu, retail.ID)), chromedp.NodeVisible))
	if !read(t, ctx, chromedp.Evaluate[bool](fmt.Sprintf(`document.getElementById('%s-units').checked`, mu))) {
		t.Error("ticking a unit did not choose \"Only these units\"")
	}
	checkAccessibility(t, ctx, axeJS, "users page with a manager's units open", 375, 1280)
	do(t, ctx, chromedp.EmulateViewport(375, 800))
	follow(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#units-%d button[type=submit]`, manager.ID)), chromedp.NodeVisible))
	if got, _ := survey.ManagerUnits(t.Context(), ts.App.db, manager.ID); fmt.Sprint(got) != fmt.Sprint(sortedIDs(retail.ID, nord2)) {
		t.Errorf("manager's units after saving: %v, want Retail Banking and Region Nord 2", got)
	}
	if u, _ := survey.UserByEmail(t.Context(), ts.App.db, ts.Demo.ManagerEmail); u.AllUnits {
		t.Error("the manager still reads the whole organisation")
	}
	do(t, ctx, chromedp.EmulateViewport(1280, 900))

	if status := open(t, ctx, campaign); status != http.StatusOK {
		t.Fatalf("campaign page: status %d", status)
	}
	checkAccessibility(t, ctx, axeJS, "campaign page", 1280, 375)

	// The mail texts, one fieldset per language, and the preview switched to German.
	open(t, ctx, campaign+"/mail")
	follow(t, ctx, chromedp.Click(chromedp.CSS(`.preview-langs a[href*="preview=de"]`), chromedp.NodeVisible))
	if h := visibleText(t, ctx, ".mail-preview h3"); h != "Invitation · German" {
		t.Errorf("preview heading after choosing German: %q", h)
	}
	checkAccessibility(t, ctx, axeJS, "mail texts page", 1280, 375)

	if status := open(t, ctx, campaign+"/participants"); status != http.StatusOK {
		t.Fatalf("participants page: status %d", status)
	}
	if n := read(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('table.data tbody tr').length`)); n == 0 {
		t.Error("the demo campaign's participants page lists nobody")
	}
	checkAccessibility(t, ctx, axeJS, "participants page", 1280, 375)

	// Adding one person with an address the server refuses (the browser's
	// own check of type=email is switched off).
	do(t, ctx,
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#p-email').form.noValidate = true`),
		chromedp.SendKeys(chromedp.ID("p-email"), "someone@@people.example", chromedp.NodeVisible))
	if status := follow(t, ctx, chromedp.Click(byText("button", "Add"), chromedp.NodeVisible)); status != http.StatusUnprocessableEntity {
		t.Fatalf("bad address: status %d, want 422", status)
	}
	if msg := visibleText(t, ctx, "#p-email-error"); msg != `"someone@@people.example" is not a valid email address.` {
		t.Errorf("bad address: message %q", msg)
	}
	if inv := read(t, ctx, chromedp.AttributeValue(chromedp.ID("p-email"), "aria-invalid")); inv.Value != "true" {
		t.Error("bad address: the field is not marked invalid")
	}
	checkAccessibility(t, ctx, axeJS, "participants page with an error", 1280, 375)

	// The preview of a file with a problem line and a unit not known yet.
	file := filepath.Join(t.TempDir(), "more.csv")
	if err := os.WriteFile(file, []byte("email,unit\nnew1@people.example,Night Shift\nnot-an-email,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.SetUploadFiles(chromedp.ID("file"), []string{file}))
	if status := follow(t, ctx, chromedp.Click(byText("button", "Check the file"), chromedp.NodeVisible)); status != http.StatusOK {
		t.Fatalf("preview: status %d", status)
	}
	if legend := visibleText(t, ctx, "legend"); legend != "Units not known yet" {
		t.Errorf("preview: legend %q, want the new units", legend)
	}
	checkAccessibility(t, ctx, axeJS, "participants preview", 1280, 375)

	// The campaign form as the server shows it back with errors: a group
	// size below 3 and a date that does not parse. The browser's own checks
	// (min, type=date) would stop both, so they are switched off first.
	if status := open(t, ctx, ts.URL+"/admin/campaigns/new"); status != http.StatusOK {
		t.Fatalf("campaign form: status %d", status)
	}
	do(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => {
		document.querySelector('form.stack').noValidate = true;
		document.querySelector('#k_min').value = '1';
		const d = document.querySelector('#opens_at');
		d.type = 'text';
		d.value = '2026-13-45';
	})()`))
	if status := follow(t, ctx, chromedp.Click(byText("button", "Save"), chromedp.NodeVisible)); status != http.StatusUnprocessableEntity {
		t.Fatalf("invalid campaign: status %d, want 422", status)
	}
	if alert := visibleText(t, ctx, `main [role=alert]`); alert != "Some fields need your attention; they are marked below." {
		t.Errorf("invalid campaign: alert %q", alert)
	}
	errs := read(t, ctx, chromedp.Evaluate[map[string]string](`Object.fromEntries([...document.querySelectorAll('.field.has-error')].map(f => [f.querySelector('input').id, f.querySelector('.error').innerText.trim()]))`))
	for field, msg := range map[string]string{
		"k_min":    "Please enter a whole number from 3 to 50.",
		"opens_at": "Please enter a date as YYYY-MM-DD.",
	} {
		if errs[field] != msg {
			t.Errorf("invalid campaign: %s shows %q, want %q", field, errs[field], msg)
		}
	}
	if len(errs) != 2 {
		t.Errorf("invalid campaign: fields with errors %v, want k_min and opens_at only", errs)
	}
	// Each is marked invalid and names its message.
	for _, id := range []string{"k_min", "opens_at"} {
		a := read(t, ctx, chromedp.Attributes(chromedp.ID(id)))
		desc := ""
		for ref := range strings.FieldsSeq(a["aria-describedby"]) {
			desc += read(t, ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.getElementById(%q).innerText`, ref)))
		}
		if a["aria-invalid"] != "true" || !strings.Contains(desc, errs[id]) {
			t.Errorf("invalid campaign: %s has aria-invalid %q and describedby %q, want true and its message", id, a["aria-invalid"], desc)
		}
	}
	checkAccessibility(t, ctx, axeJS, "campaign form with errors", 1280, 375)

	// Corrected, it saves a draft, whose page says why mail cannot go out yet.
	do(t, ctx,
		chromedp.SetValue(chromedp.ID("k_min"), "5"),
		chromedp.SetValue(chromedp.ID("opens_at"), ""))
	if status := follow(t, ctx, chromedp.Click(byText("button", "Save"), chromedp.NodeVisible)); status != http.StatusOK {
		t.Fatalf("corrected campaign: status %d", status)
	}
	if h1 := visibleText(t, ctx, "h1"); !strings.Contains(h1, "draft") {
		t.Errorf("corrected campaign: h1 = %q, want a draft's page", h1)
	}
	if hint := visibleText(t, ctx, "#mail-open-hint"); hint != "Mail goes out only while the campaign is open." {
		t.Errorf("draft campaign: mail hint %q", hint)
	}
	checkAccessibility(t, ctx, axeJS, "draft campaign page", 1280, 375)
}

// sortedIDs returns ids in ascending order, as survey.ManagerUnits lists them.
func sortedIDs(ids ...int64) []int64 {
	slices.Sort(ids)
	return ids
}

// signInWith signs in through the login form and checks the landing page.
func signInWith(t *testing.T, ts *testServer, ctx context.Context, email, password, landing string) {
	t.Helper()
	if status := open(t, ctx, ts.URL+"/login"); status != http.StatusOK {
		t.Fatalf("login page: status %d", status)
	}
	if h1 := visibleText(t, ctx, "h1"); h1 != "Sign in" {
		t.Fatalf("login h1 = %q", h1)
	}
	do(t, ctx,
		chromedp.SendKeys(chromedp.ID("email"), email, chromedp.NodeVisible),
		chromedp.SendKeys(chromedp.ID("password"), password, chromedp.NodeVisible))
	if status := follow(t, ctx, chromedp.Click(byText("button", "Sign in"), chromedp.NodeVisible)); status != http.StatusOK {
		t.Fatalf("sign in: status %d", status)
	}
	if p := pagePath(t, ts, ctx); p != landing {
		t.Fatalf("%s signed in on %s, want %s", email, p, landing)
	}
}
