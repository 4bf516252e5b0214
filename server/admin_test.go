package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"tiltline/survey"
	"tiltline/survey/outbox"
)

// signedIn returns a client signed in as the user, on a fresh httptest server.
func signedIn(t *testing.T, a *App, email, password string) *flowClient {
	t.Helper()
	f := newFlow(t, a, "")
	code, loc := f.post("/login", url.Values{"email": {email}, "password": {password}})
	if code != http.StatusSeeOther || loc != "/admin" {
		t.Fatalf("sign-in as %s: %d %q", email, code, loc)
	}
	f.get("/admin") // picks up the session's CSRF token from a form
	return f
}

func otherOrgAdmin(t *testing.T, a *App) (email, password string) {
	t.Helper()
	ctx := context.Background()
	org, err := survey.SaveOrganisation(ctx, a.db, 0, survey.OrgInput{Name: "Other Org"})
	if err != nil {
		t.Fatal(err)
	}
	email, password = "admin@other.example", "other-org-password"
	if _, err := survey.CreateUserWithPassword(ctx, a.db, email, "", survey.RoleOrgAdmin, &org.ID, password); err != nil {
		t.Fatal(err)
	}
	return email, password
}

func TestSetupCreatesTheFirstAdminOnce(t *testing.T) {
	a, _, _ := newTestApp(t)
	a.db.Write.Exec("DELETE FROM users")
	link := a.offerSetup(context.Background())
	if link == "" {
		t.Fatal("no setup link with no account")
	}
	path := strings.TrimPrefix(link, a.cfg.BaseURL)
	f := newFlow(t, a, "")
	if code, _ := f.get("/setup/" + strings.Repeat("x", 43)); code != http.StatusNotFound {
		t.Errorf("wrong setup token = %d", code)
	}
	if code, _ := f.get(path); code != http.StatusOK {
		t.Fatalf("setup page = %d", code)
	}
	code, body, _ := f.do(http.MethodPost, path, "application/x-www-form-urlencoded", "email=root%40example.com&password=short")
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `value="root@example.com"`) {
		t.Errorf("weak password: %d, the email must be kept", code)
	}
	if code, loc := f.post(path, url.Values{"email": {"root@example.com"}, "password": {"long-enough-secret"}}); code != 303 || loc != "/admin" {
		t.Fatalf("setup: %d %q", code, loc)
	}
	g := newFlow(t, a, "")
	if code, _ := g.post(path, url.Values{"email": {"second@example.com"}, "password": {"long-enough-secret"}}); code != http.StatusNotFound {
		t.Errorf("setup link works twice: %d", code)
	}
	if u, err := survey.UserByEmail(context.Background(), a.db, "root@example.com"); err != nil || u.Role != survey.RolePlatformAdmin {
		t.Errorf("platform admin not created: %v", err)
	}
}

func TestSignInDoesNotRevealWhichEmailsExist(t *testing.T) {
	a, demo, _ := newTestApp(t)
	f := newFlow(t, a, "")
	_, wrongPassword, _ := f.do(http.MethodPost, "/login", "application/x-www-form-urlencoded", url.Values{"email": {demo.AdminEmail}, "password": {"nope"}}.Encode())
	_, unknownEmail, _ := f.do(http.MethodPost, "/login", "application/x-www-form-urlencoded", url.Values{"email": {"ghost@example.com"}, "password": {"nope"}}.Encode())
	strip := regexp.MustCompile(`value="[^"]*"|X-Request-Id|id="[^"]*"`)
	if strip.ReplaceAllString(wrongPassword, "") != strip.ReplaceAllString(unknownEmail, "") {
		t.Error("a wrong password and an unknown email must get the same page")
	}
	if !strings.Contains(wrongPassword, "The email address or the password is not right") {
		t.Error("no error message shown")
	}
}

func TestSignInIsThrottled(t *testing.T) {
	a, demo, _ := newTestApp(t)
	f := newFlow(t, a, "")
	codes := []int{}
	for range 7 {
		code, _ := f.post("/login", url.Values{"email": {demo.AdminEmail}, "password": {"guess"}})
		codes = append(codes, code)
	}
	if codes[0] != http.StatusUnauthorized || codes[6] != http.StatusTooManyRequests {
		t.Errorf("codes = %v, want 401 first and 429 after five attempts", codes)
	}
	// Even the right password is refused while throttled.
	if code, _ := f.post("/login", url.Values{"email": {demo.AdminEmail}, "password": {demo.AdminPassword}}); code != http.StatusTooManyRequests {
		t.Errorf("right password while throttled = %d", code)
	}
}

func TestAdminFormsNeedTheSessionCSRFToken(t *testing.T) {
	a, demo, _ := newTestApp(t)
	f := signedIn(t, a, demo.AdminEmail, demo.AdminPassword)
	if code, _ := f.post("/admin/units", url.Values{"name": {"Forged"}, "csrf": {"forged"}}); code != http.StatusForbidden {
		t.Errorf("forged token = %d", code)
	}
	code, _, _ := f.do(http.MethodPost, "/admin/units", "application/x-www-form-urlencoded", url.Values{"name": {"Cross"}, "csrf": {f.csrf}}.Encode(), "Sec-Fetch-Site", "cross-site")
	if code != http.StatusForbidden {
		t.Errorf("cross-site post = %d", code)
	}
	if code, _ := f.post("/admin/units", url.Values{"name": {"Real"}}); code != http.StatusSeeOther {
		t.Errorf("genuine post = %d", code)
	}
	var n int64
	a.db.Read.Model(&survey.BusinessUnit{}).Where("name IN ?", []string{"Forged", "Cross", "Real"}).Count(&n)
	if n != 1 {
		t.Errorf("%d units created, want only the genuine one", n)
	}
}

// Tenant isolation: an admin of another organisation gets 404 for every
// page and form of this organisation's campaign, as if it did not exist.
func TestAnotherOrganisationsCampaignIsNotFound(t *testing.T) {
	a, demo, _ := newTestApp(t)
	email, password := otherOrgAdmin(t, a)
	f := signedIn(t, a, email, password)
	id := fmt.Sprint(demo.CampaignID)
	var unit survey.BusinessUnit
	a.db.Read.Where("name = ?", "Marketing").First(&unit)
	var user survey.User
	a.db.Read.Where("email = ?", demo.ManagerEmail).First(&user)
	routes := []struct{ method, path string }{
		{"GET", "/admin/campaigns/" + id},
		{"GET", "/admin/campaigns/" + id + "/edit"},
		{"POST", "/admin/campaigns/" + id},
		{"POST", "/admin/campaigns/" + id + "/status"},
		{"POST", "/admin/campaigns/" + id + "/copy"},
		{"POST", "/admin/campaigns/" + id + "/invite"},
		{"POST", "/admin/campaigns/" + id + "/remind"},
		{"GET", "/admin/campaigns/" + id + "/mail"},
		{"POST", "/admin/campaigns/" + id + "/mail"},
		{"GET", "/admin/campaigns/" + id + "/participants"},
		{"POST", "/admin/campaigns/" + id + "/participants/add"},
		{"POST", "/admin/campaigns/" + id + "/participants/import"},
		{"POST", fmt.Sprintf("/admin/units/%d/delete", unit.ID)},
		{"POST", fmt.Sprintf("/admin/users/%d/delete", user.ID)},
		{"POST", "/admin/orgs/1/manage"},
		{"GET", "/admin/orgs"},
	}
	for _, r := range routes {
		var code int
		if r.method == "GET" {
			code, _ = f.get(r.path)
		} else {
			code, _ = f.post(r.path, url.Values{"status": {"closed"}, "name": {"Hijack"}, "k_min": {"5"}, "locales": {"en"}})
		}
		if code != http.StatusNotFound {
			t.Errorf("%s %s = %d, want 404", r.method, r.path, code)
		}
	}
	var c survey.Campaign
	a.db.Read.First(&c, demo.CampaignID)
	if c.Status != survey.StatusOpen || c.Name == "Hijack" {
		t.Errorf("the other organisation's campaign changed: %+v", c)
	}
	if _, err := survey.UserByEmail(context.Background(), a.db, demo.ManagerEmail); err != nil {
		t.Error("the other organisation's user was deleted")
	}
}

func TestManagersAndVisitorsCannotAdminister(t *testing.T) {
	a, demo, _ := newTestApp(t)
	if code, _ := newFlow(t, a, "").get("/admin"); code != http.StatusSeeOther {
		t.Errorf("anonymous /admin = %d, want a redirect to sign in", code)
	}
	f := newFlow(t, a, "")
	f.post("/login", url.Values{"email": {demo.ManagerEmail}, "password": {demo.ManagerPassword}})
	if code, _ := f.get("/admin/units"); code != http.StatusNotFound {
		t.Errorf("manager /admin/units = %d, want 404", code)
	}
}

func TestCampaignFormKeepsInputAndExplainsErrors(t *testing.T) {
	a, demo, _ := newTestApp(t)
	f := signedIn(t, a, demo.AdminEmail, demo.AdminPassword)
	code, body, _ := f.do(http.MethodPost, "/admin/campaigns", "application/x-www-form-urlencoded", url.Values{
		"csrf": {f.csrf}, "name": {"Pulse Q4"}, "wave_label": {"Q4"}, "k_min": {"2"}, "locales": {"de"},
		"opens_at": {"31.12.2026"}, "contact_email": {"not-an-email"},
	}.Encode(), "Accept-Language", "de")
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", code)
	}
	for _, want := range []string{`value="Pulse Q4"`, `value="31.12.2026"`, `value="not-an-email"`, "JJJJ-MM-TT", "von 3 bis 50", `id="loc-de" name="locales" value="de" checked`} {
		if !strings.Contains(body, want) {
			t.Errorf("form lacks %q", want)
		}
	}
	if code, loc := f.post("/admin/campaigns", url.Values{"name": {"Pulse Q4"}, "k_min": {"5"}, "locales": {"en", "de"}, "opens_at": {"2026-12-01"}, "closes_at": {"2026-12-20"}}); code != 303 || !strings.HasPrefix(loc, "/admin/campaigns/") {
		t.Fatalf("valid campaign: %d %q", code, loc)
	}
}

func TestCampaignLifeCycleAndNextWave(t *testing.T) {
	a, demo, _ := newTestApp(t)
	f := signedIn(t, a, demo.AdminEmail, demo.AdminPassword)
	id := fmt.Sprint(demo.CampaignID)
	if code, _ := f.post("/admin/campaigns/"+id+"/status", url.Values{"status": {"closed"}, "confirmed": {"1"}}); code != 303 {
		t.Fatalf("close: %d", code)
	}
	if code, _ := f.post("/admin/campaigns/"+id+"/status", url.Values{"status": {"draft"}}); code != http.StatusConflict {
		t.Errorf("closed → draft = %d, want 409", code)
	}
	code, loc := f.post("/admin/campaigns/"+id+"/copy", nil)
	if code != 303 {
		t.Fatalf("copy: %d", code)
	}
	var next survey.Campaign
	a.db.Read.Order("id DESC").First(&next)
	if loc != fmt.Sprintf("/admin/campaigns/%d", next.ID) || next.Status != survey.StatusDraft || next.PreviousID == nil || *next.PreviousID != demo.CampaignID {
		t.Errorf("next wave = %+v", next)
	}
	var before, after int64
	a.db.Read.Model(&survey.Participant{}).Where("campaign_id = ?", demo.CampaignID).Count(&before)
	a.db.Read.Model(&survey.Invitation{}).Where("campaign_id = ? AND status = ?", next.ID, survey.InvitePending).Count(&after)
	if before == 0 || before != after {
		t.Errorf("next wave has %d fresh invitations for %d participants", after, before)
	}
}

func TestResponseRatesHideSmallUnitsAndTheNextSmallest(t *testing.T) {
	a, demo, _ := newTestApp(t)
	var c survey.Campaign
	a.db.Read.First(&c, demo.CampaignID)
	rates, err := survey.ResponseRates(context.Background(), a.db, &c)
	if err != nil {
		t.Fatal(err)
	}
	hidden := 0
	for _, r := range rates {
		if r.Suppressed {
			hidden++
			if r.Invited != 0 || r.Completed != 0 {
				t.Errorf("suppressed unit %s leaks counts", r.Unit)
			}
		} else if r.Invited < c.KMin {
			t.Errorf("unit %s shown with %d invitations", r.Unit, r.Invited)
		}
	}
	if hidden < 2 {
		t.Errorf("%d units hidden: the small unit and at least the next-smallest must be", hidden)
	}
	f := signedIn(t, a, demo.AdminEmail, demo.AdminPassword)
	_, page := f.get(fmt.Sprintf("/admin/campaigns/%d", demo.CampaignID))
	if !strings.Contains(page, "Too few people to show") {
		t.Error("the page does not say why a unit is hidden")
	}
	if !strings.Contains(page, ".eml file") {
		t.Error("without an SMTP server the page must say where mail goes")
	}
}

func TestPasswordLinkWorksOnce(t *testing.T) {
	a, demo, _ := newTestApp(t)
	ctx := context.Background()
	u, _ := survey.UserByEmail(ctx, a.db, demo.ManagerEmail)
	token, err := survey.NewPasswordToken(ctx, a.db, u.ID, passwordLinkTTL)
	if err != nil {
		t.Fatal(err)
	}
	f := newFlow(t, a, "")
	if code, _ := f.post("/password/"+token, url.Values{"password": {"brand-new-password"}, "confirm": {"different-password"}}); code != http.StatusUnprocessableEntity {
		t.Errorf("mismatch = %d", code)
	}
	if code, _ := f.post("/password/"+token, url.Values{"password": {"brand-new-password"}, "confirm": {"brand-new-password"}}); code != 303 {
		t.Fatalf("reset = %d", code)
	}
	if _, err := survey.Authenticate(ctx, a.db, demo.ManagerEmail, "brand-new-password"); err != nil {
		t.Error("new password does not work")
	}
	if code, _ := newFlow(t, a, "").post("/password/"+token, url.Values{"password": {"another-password1"}, "confirm": {"another-password1"}}); code != http.StatusNotFound {
		t.Errorf("second use = %d, want 404", code)
	}
	// The forgot form answers the same for known and unknown addresses.
	_, known, _ := f.do(http.MethodPost, "/password/forgot", "application/x-www-form-urlencoded", "email="+url.QueryEscape(demo.AdminEmail))
	_, unknown, _ := f.do(http.MethodPost, "/password/forgot", "application/x-www-form-urlencoded", "email=ghost%40example.com")
	strip := regexp.MustCompile(`value="[^"]*"|id="[^"]*"`)
	if strip.ReplaceAllString(known, "") != strip.ReplaceAllString(unknown, "") {
		t.Error("forgot-password reveals whether an account exists")
	}
}

// The mail texts are per language: a too-long German subject comes back
// as a localised error next to that field with every value kept, and the
// preview shows the language chosen with its own text, or the built-in
// wording where none was written.
func TestMailSettingsPerLanguagePreviewAndValidation(t *testing.T) {
	a, demo, _ := newTestApp(t)
	f := signedIn(t, a, demo.AdminEmail, demo.AdminPassword)
	path := fmt.Sprintf("/admin/campaigns/%d/mail", demo.CampaignID)
	typed := url.Values{"csrf": {f.csrf}, "reminder_days": {"7, 12"},
		"invite_subject_en": {"Your voice counts"}, "reminder_intro_en": {"Still time & <space>."},
		"invite_subject_de": {strings.Repeat("Ihre Sicht zählt ", 12)}, "invite_intro_de": {"Liebe Kolleginnen und Kollegen,\n\nbitte machen Sie mit."},
		"reminder_subject_fr": {"Dernier rappel"}}
	code, body, _ := f.do(http.MethodPost, path, "application/x-www-form-urlencoded", typed.Encode(), "Accept-Language", "fr")
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("too long German subject = %d, want 422", code)
	}
	for _, want := range []string{
		`<p class="error" id="invite_subject_de-error">Cet objet est trop long : 200 caractères au plus.</p>`,
		`value="` + strings.Repeat("Ihre Sicht zählt ", 12) + `"`, // as typed, spaces and all
		`value="Your voice counts"`, `>Still time &amp; &lt;space&gt;.</textarea>`,
		">Liebe Kolleginnen und Kollegen,\n\nbitte machen Sie mit.</textarea>", `value="Dernier rappel"`, `value="7, 12"`,
		`<legend>Allemand</legend>`, `aria-invalid="true" aria-describedby="invite_subject_de-error"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the form sent back lacks %s", want)
		}
	}
	if s, _ := outbox.CampaignMailSettings(t.Context(), a.db, demo.CampaignID); len(s.Texts) != 0 || len(s.ReminderDays) != 0 {
		t.Errorf("a refused form stored %+v", s)
	}

	typed.Set("invite_subject_de", "Ihre Sicht zählt")
	if code, _ := f.post(path, typed); code != http.StatusSeeOther {
		t.Fatalf("save = %d", code)
	}
	// The page shows each language's text, and the built-in wording as the placeholder of an empty field.
	_, page := f.get(path + "?lang=en&preview=de")
	for _, want := range []string{`name="invite_subject_de" lang="de" maxlength="200" value="Ihre Sicht zählt"`,
		`name="invite_subject_fr" lang="fr" maxlength="200" value="" placeholder="Votre avis compte : `,
		`<strong lang="en">Subject:</strong> Ihre Sicht zählt</p>`, `mail/preview?kind=invite&amp;preview=de"`,
		`href="/admin/campaigns/` + fmt.Sprint(demo.CampaignID) + `/mail?preview=de#preview" aria-current="true">German</a>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the settings page lacks %s", want)
		}
	}
	// The framed HTML mail follows the language chosen.
	for lang, want := range map[string]string{"de": "bitte machen Sie mit.", "fr": "vous invite à participer", "en": "Alex Example"} {
		code, html := f.get(path + "/preview?kind=invite&preview=" + lang)
		if code != http.StatusOK || !strings.Contains(html, want) || !strings.Contains(html, `lang="`+lang+`"`) {
			t.Errorf("preview in %s = %d, want %q", lang, code, want)
		}
	}
	if _, html := f.get(path + "/preview?kind=reminder&preview=en"); !strings.Contains(html, "Still time &amp; &lt;space&gt;.") {
		t.Error("the English reminder preview lacks its own introduction")
	}
}

// Unticking a manager's last unit under "Only these units" is refused with
// a localised error next to that manager's form, which stays open with
// "Only these units" chosen; the manager keeps the units they had, never
// the whole organisation.
func TestRemovingAManagersLastUnitIsAnErrorNotEverything(t *testing.T) {
	a, demo, _ := newTestApp(t)
	ctx := t.Context()
	manager, err := survey.UserByEmail(ctx, a.db, demo.ManagerEmail)
	if err != nil {
		t.Fatal(err)
	}
	units, _ := survey.Units(ctx, a.db, *manager.OrganisationID)
	if err := survey.SetManagerUnits(ctx, a.db, *manager.OrganisationID, manager.ID, false, []int64{units[0].ID, units[1].ID}); err != nil {
		t.Fatal(err)
	}
	admin := signedIn(t, a, demo.AdminEmail, demo.AdminPassword)
	code, body, _ := admin.do(http.MethodPost, fmt.Sprintf("/admin/users/%d/units", manager.ID), "application/x-www-form-urlencoded",
		url.Values{"csrf": {admin.csrf}, "scope": {"units"}}.Encode(), "Accept-Language", "fr")
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("no unit left = %d, want 422", code)
	}
	for _, want := range []string{
		fmt.Sprintf(`<p class="error" role="alert"><a href="#units-%d">`, manager.ID),
		fmt.Sprintf(`<details class="units" id="units-%d" open>`, manager.ID),
		fmt.Sprintf(`<p class="error" id="mu-%d-error">Cochez au moins une unité, ou choisissez « Toute l’organisation ».</p>`, manager.ID),
		fmt.Sprintf(`id="mu-%d-units" name="scope" value="units" checked>`, manager.ID),
		fmt.Sprintf(`id="mu-%d-all" name="scope" value="all">`, manager.ID),
		"Max Manager</span> · 2 unité(s)", // the saved state, unchanged
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page sent back lacks %s", want)
		}
	}
	if strings.Contains(body, fmt.Sprintf(`id="mu-%d-%d" name="unit" value="%[2]d" checked`, manager.ID, units[0].ID)) {
		t.Error("the form shows a unit ticked that was unticked")
	}
	got, _ := survey.ManagerUnits(ctx, a.db, manager.ID)
	if u, _ := survey.UserByEmail(ctx, a.db, demo.ManagerEmail); u.AllUnits || len(got) != 2 {
		t.Errorf("after the refused form the manager reads all=%v, units %v; want the two units as before", u.AllUnits, got)
	}
}

// Adding a manager asks which results they read: the whole organisation
// only when chosen so; by default none until units are ticked, in that
// manager's units form, which the page opens. A choice that is neither is
// refused with everything typed kept.
func TestAddingAManagerChoosesTheirResultsExplicitly(t *testing.T) {
	a, demo, _ := newTestApp(t)
	ctx := t.Context()
	admin := signedIn(t, a, demo.AdminEmail, demo.AdminPassword)
	add := func(email, role, scope string) (int, string) {
		t.Helper()
		form := url.Values{"csrf": {admin.csrf}, "email": {email}, "name": {"New Person"}, "role": {role}}
		if scope != "" {
			form.Set("scope", scope)
		}
		code, body, _ := admin.do(http.MethodPost, "/admin/users", "application/x-www-form-urlencoded", form.Encode())
		return code, body
	}
	if code, _ := add("whole@demo-bank.example", survey.RoleManager, "all"); code != http.StatusOK {
		t.Fatalf("add a manager of the whole organisation = %d", code)
	}
	if u, err := survey.UserByEmail(ctx, a.db, "whole@demo-bank.example"); err != nil || !u.AllUnits {
		t.Errorf("chose the whole organisation, reads all = %v (%v)", u.AllUnits, err)
	}
	code, body := add("some@demo-bank.example", survey.RoleManager, "")
	u, err := survey.UserByEmail(ctx, a.db, "some@demo-bank.example")
	if code != http.StatusOK || err != nil || u.AllUnits {
		t.Fatalf("a manager added without a choice = %d, reads all = %v (%v)", code, u.AllUnits, err)
	}
	if units, _ := survey.ManagerUnits(ctx, a.db, u.ID); len(units) != 0 {
		t.Errorf("a new manager has units %v before any were chosen", units)
	}
	if !strings.Contains(body, fmt.Sprintf(`<details class="units" id="units-%d" open>`, u.ID)) {
		t.Error("the new manager's units form is not opened to choose their units")
	}
	if code, _ := add("learner2@demo-bank.example", survey.RoleLearner, "all"); code != http.StatusOK {
		t.Fatalf("add a learner = %d", code)
	}
	if l, _ := survey.UserByEmail(ctx, a.db, "learner2@demo-bank.example"); l.AllUnits {
		t.Error("a learner was given the whole organisation's results")
	}
	code, body = add("odd@demo-bank.example", survey.RoleManager, "everything")
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `value="odd@demo-bank.example"`) || !strings.Contains(body, `value="New Person"`) {
		t.Errorf("an unknown choice = %d, or the form lost what was typed", code)
	}
	if _, err := survey.UserByEmail(ctx, a.db, "odd@demo-bank.example"); err == nil {
		t.Error("an account was created with an unknown choice")
	}
}

// A database that fails while a signed-in manager reads a page shows the
// error page, never the sign-in form: that would say the session had
// ended, and signing in again could not work either.
func TestADatabaseFailureIsNotASignOut(t *testing.T) {
	a, demo, _ := newTestApp(t)
	f := signedIn(t, a, demo.AdminEmail, demo.AdminPassword)
	if code, _ := f.get("/admin"); code != http.StatusOK {
		t.Fatalf("admin home = %d", code)
	}
	a.db.Close()
	code, body := f.get("/admin")
	if code < 500 || strings.Contains(body, `action="/login"`) {
		t.Errorf("with the database gone /admin = %d, showing the sign-in form: %t", code, strings.Contains(body, `action="/login"`))
	}
}
