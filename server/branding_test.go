package server

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"tiltline/survey"
	"tiltline/survey/outbox"
)

// uploadLogo posts a file as the organisation page's logo form does.
func uploadLogo(t *testing.T, f *flowClient, name string, body []byte, header ...string) (int, string, http.Header) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := w.WriteField("csrf", f.csrf); err != nil {
		t.Fatal(err)
	}
	fw, err := w.CreateFormFile("logo", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(body)
	w.Close()
	return f.do(http.MethodPost, "/admin/org/logo", w.FormDataContentType(), buf.String(), header...)
}

var logoSrc = regexp.MustCompile(`<img src="(/brand/\d+/logo\.[0-9a-f]+\.png)"`)

func TestOrganisationLogoUploadServeAndRespondentHeader(t *testing.T) {
	a, demo, _ := newTestApp(t)
	admin := signedIn(t, a, demo.AdminEmail, demo.AdminPassword)
	respondent := newFlow(t, a, linkPath(demo.Links[0]))

	// Bad files get a clear message in the admin's language, and nothing is stored.
	for _, tc := range []struct {
		name, lang string
		body       []byte
		status     int
		want       string
	}{
		{"empty.png", "en", nil, http.StatusUnprocessableEntity, "Please choose an image file."},
		{"notes.txt", "de", []byte("not an image at all"), http.StatusUnprocessableEntity, "Diese Datei ist kein PNG-, JPEG- oder GIF-Bild."},
		{"fake.png", "fr", append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 40)...), http.StatusUnprocessableEntity, "n’est pas une image PNG, JPEG ou GIF"},
		{"huge.png", "en", append(testLogo(t), make([]byte, survey.MaxLogoBytes)...), http.StatusRequestEntityTooLarge, "larger than 256 KB"},
	} {
		code, body, _ := uploadLogo(t, admin, tc.name, tc.body, "Accept-Language", tc.lang)
		if code != tc.status || !strings.Contains(body, tc.want) || !strings.Contains(body, `aria-invalid="true"`) {
			t.Errorf("%s: %d, want %d with %q", tc.name, code, tc.status, tc.want)
		}
	}
	if n := count(t, a, &survey.OrgLogo{}, "1 = 1"); n != 0 {
		t.Fatalf("%d logos stored after bad uploads", n)
	}
	_, page := respondent.get("")
	if logoSrc.MatchString(page) || strings.Contains(page, `href="/login"`) || !strings.Contains(page, "Demo Bank") {
		t.Error("without a logo the respondent header shows the organisation's name, no logo and no sign-in link")
	}

	// A good one: shown on the organisation page and every respondent page,
	// served under its content hash and cached like the static files.
	if code, _, h := uploadLogo(t, admin, "logo.png", testLogo(t)); code != http.StatusSeeOther || h.Get("Location") != "/admin/org" {
		t.Fatalf("upload: %d %q", code, h.Get("Location"))
	}
	_, orgPage := admin.get("/admin/org")
	m := logoSrc.FindStringSubmatch(orgPage)
	if m == nil {
		t.Fatal("the organisation page shows no logo")
	}
	for _, p := range []string{"", "/p/1", "/review"} {
		_, page := respondent.get(p)
		if !strings.Contains(page, `<img src="`+m[1]+`"`) {
			t.Errorf("respondent page %q lacks the logo", p)
		}
	}
	res := get(t, a, m[1])
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" || res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Errorf("logo: %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"))
	}
	if b := body(t, res); b != string(testLogo(t)) {
		t.Error("the logo served is not the one uploaded")
	}
	if res := get(t, a, m[1], "If-None-Match", res.Header.Get("ETag")); res.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: %d", res.StatusCode)
	}
	if res := get(t, a, strings.Replace(m[1], "logo.", "logo.0", 1)); res.StatusCode != http.StatusNotFound {
		t.Errorf("a logo URL with another hash: %d", res.StatusCode)
	}

	// Another organisation's admin removes only their own (none).
	email, password := otherOrgAdmin(t, a)
	other := signedIn(t, a, email, password)
	other.post("/admin/org/logo/delete", nil)
	if res := get(t, a, m[1]); res.StatusCode != 200 {
		t.Errorf("another organisation's admin removed the logo: %d", res.StatusCode)
	}
	if code, loc := admin.post("/admin/org/logo/delete", nil); code != http.StatusSeeOther || loc != "/admin/org" {
		t.Fatalf("remove: %d %q", code, loc)
	}
	if res := get(t, a, m[1]); res.StatusCode != http.StatusNotFound {
		t.Errorf("removed logo: %d", res.StatusCode)
	}
	if _, page := respondent.get("/p/1"); logoSrc.MatchString(page) {
		t.Error("the respondent page still shows the removed logo")
	}
}

// The respondent pages read the organisation's name and logo from a cache,
// not the database on every view: a change made behind the app's back shows
// only once the entry is forgotten (as an upload or an edit does).
func TestRespondentHeaderIsCached(t *testing.T) {
	a, demo, _ := newTestApp(t)
	f := newFlow(t, a, linkPath(demo.Links[0]))
	if _, page := f.get("/p/1"); !strings.Contains(page, "Demo Bank") {
		t.Fatal("no organisation name in the header")
	}
	var camp survey.Campaign
	if err := a.db.Read.First(&camp, demo.CampaignID).Error; err != nil {
		t.Fatal(err)
	}
	if err := a.db.Write.Model(&survey.Organisation{}).Where("id = ?", camp.OrganisationID).Update("name", "Renamed Bank").Error; err != nil {
		t.Fatal(err)
	}
	if _, page := f.get("/p/2"); !strings.Contains(page, "Demo Bank") {
		t.Error("the header read the organisation again on the next page view")
	}
	a.sections.forgetBrand(camp.OrganisationID)
	if _, page := f.get("/p/2"); !strings.Contains(page, "Renamed Bank") {
		t.Error("a forgotten entry was not read again")
	}
}

func TestCampaignNameInEachLanguageAndOneTimeEstimate(t *testing.T) {
	a, demo, _ := newTestApp(t)
	admin := signedIn(t, a, demo.AdminEmail, demo.AdminPassword)
	var camp survey.Campaign
	if err := a.db.Read.First(&camp, demo.CampaignID).Error; err != nil {
		t.Fatal(err)
	}
	in := survey.InputOf(&camp)
	form := url.Values{"name": {in.Name}, "wave_label": {in.WaveLabel}, "k_min": {fmt.Sprint(in.KMin)}, "locales": in.Locales,
		"contact_name": {"Dana Reyes"}, "contact_email": {"dana.reyes@demo-bank.test"},
		"name_de": {"Kundenbarometer"}, "name_fr": {"Baromètre\nclient"}}
	if code, _, _ := admin.do(http.MethodPost, fmt.Sprintf("/admin/campaigns/%d", camp.ID), "application/x-www-form-urlencoded",
		mergeForm(form, admin.csrf).Encode()); code != http.StatusUnprocessableEntity {
		t.Fatalf("a name on two lines: %d, want 422", code)
	}
	form.Set("name_fr", "Baromètre client")
	if code, loc := admin.post(fmt.Sprintf("/admin/campaigns/%d", camp.ID), form); code != http.StatusSeeOther {
		t.Fatalf("save: %d %q", code, loc)
	}
	_, edit := admin.get(fmt.Sprintf("/admin/campaigns/%d/edit", camp.ID))
	if !strings.Contains(edit, `value="Kundenbarometer"`) {
		t.Error("the form does not show the German name again")
	}

	minutes := estimateMinutes(a.models.Latest().AnswerSlots())
	if minutes != 20 {
		t.Errorf("208 ratings take about %d minutes, want 20 (6 s a rating, to five minutes)", minutes)
	}
	f := newFlow(t, a, linkPath(demo.Links[1]))
	for lang, want := range map[string]string{"en": camp.Name, "de": "Kundenbarometer", "fr": "Baromètre client"} {
		_, page, _ := f.do(http.MethodGet, "?lang="+lang, "", "")
		if !strings.Contains(page, want) || !strings.Contains(page, "Dana Reyes") || !strings.Contains(page, fmt.Sprintf(" %d ", minutes)) {
			t.Errorf("welcome in %s lacks the campaign's name %q, its contact or %d minutes", lang, want, minutes)
		}
	}
	if _, page, _ := f.do(http.MethodGet, "/p/1?lang=en", "", ""); !strings.Contains(page, fmt.Sprintf("about %d min left", minutes)) {
		t.Errorf("the first section page does not say about %d min left", minutes)
	}
	if _, home, _ := newFlow(t, a, "").do(http.MethodGet, "/", "", ""); !strings.Contains(home, fmt.Sprintf("about %d minutes", minutes)) {
		t.Errorf("the home page does not say about %d minutes", minutes)
	}

	// The mails: the name in the mail's language, the logo and the contact
	// in the HTML, the same estimate in the text.
	if _, err := survey.SaveOrgLogo(context.Background(), a.db, camp.OrganisationID, "image/png", testLogo(t)); err != nil {
		t.Fatal(err)
	}
	a.sections.forgetBrand(camp.OrganisationID)
	cm, err := a.mail.campaign(context.Background(), camp.ID)
	if err != nil {
		t.Fatal(err)
	}
	var text, html bytes.Buffer
	v := a.mail.view(outbox.Job{Kind: outbox.MailInvite, InvitationID: "inv", Locale: "de"}, cm)
	if err := a.mail.text.Execute(&text, v); err != nil {
		t.Fatal(err)
	}
	if err := a.mail.html.Execute(&html, v); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(v.Campaign, "Kundenbarometer") {
		t.Errorf("German mail names the campaign %q", v.Campaign)
	}
	if !strings.Contains(html.String(), `<img src="`+a.cfg.BaseURL+"/brand/") || !strings.Contains(html.String(), "Dana Reyes") {
		t.Error("the mail's HTML lacks the logo or the contact")
	}
	if !strings.Contains(text.String(), fmt.Sprintf("etwa %d Minuten", minutes)) {
		t.Errorf("the mail's text lacks the estimate of %d minutes", minutes)
	}
}

// mergeForm adds the CSRF token to a form.
func mergeForm(form url.Values, csrf string) url.Values {
	out := url.Values{"csrf": {csrf}}
	for k, v := range form {
		out[k] = v
	}
	return out
}

// The logo's route is public: every respondent, signed in or not, sees it.
func init() {
	publicRoutes["/brand/:org/:file"] = "an organisation's logo at its content-hashed URL: every respondent sees it"
}
