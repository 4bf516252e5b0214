package server

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"tiltline/survey"
)

func (f *flowClient) upload(path, filename string, data []byte) (int, string) {
	f.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	w.WriteField("csrf", f.csrf)
	part, _ := w.CreateFormFile("file", filename)
	part.Write(data)
	w.Close()
	code, page, _ := f.do(http.MethodPost, path, w.FormDataContentType(), body.String())
	return code, page
}

func TestParticipantUploadPreviewsThenImports(t *testing.T) {
	a, demo, _ := newTestApp(t)
	f := signedIn(t, a, demo.AdminEmail, demo.AdminPassword)
	base := fmt.Sprintf("/admin/campaigns/%d/participants", demo.CampaignID)
	csv := "\ufeffE-Mail;Name;Bereich;Rolle\nnew.one@example.com;New One;Marketing;researcher\nnot-an-email;X;Marketing;\nnew.two@example.com;Two;Brand New Unit;\nnew.one@example.com;Dup;;\n"
	var before int64
	a.db.Read.Model(&survey.Participant{}).Where("campaign_id = ?", demo.CampaignID).Count(&before)

	code, page := f.upload(base+"/preview", "people.csv", []byte(csv))
	if code != 200 {
		t.Fatalf("preview = %d", code)
	}
	for _, want := range []string{"Brand New Unit", "not-an-email", "Import 2 participants"} {
		if !strings.Contains(page, want) {
			t.Errorf("preview lacks %q", want)
		}
	}
	var after int64
	a.db.Read.Model(&survey.Participant{}).Where("campaign_id = ?", demo.CampaignID).Count(&after)
	if after != before {
		t.Fatal("the preview saved participants")
	}
	id := regexp.MustCompile(`name="upload" value="([^"]+)"`).FindStringSubmatch(page)
	if id == nil {
		t.Fatal("no upload id in the preview")
	}
	if code, loc := f.post(base+"/import", url.Values{"upload": {id[1]}, "create_units": {"on"}}); code != 303 || !strings.Contains(loc, "added=2") {
		t.Fatalf("import: %d %q", code, loc)
	}
	a.db.Read.Model(&survey.Participant{}).Where("campaign_id = ?", demo.CampaignID).Count(&after)
	if after != before+2 {
		t.Errorf("%d participants added, want 2", after-before)
	}
	if code, _ := f.post(base+"/import", url.Values{"upload": {id[1]}}); code != http.StatusGone {
		t.Errorf("importing the same upload twice = %d, want 410", code)
	}
	// A whole-file problem names what it found.
	if code, page := f.upload(base+"/preview", "twice.csv", []byte("email,Email\na@example.com,b@example.com\n")); code != http.StatusUnprocessableEntity || strings.Contains(page, "no value") || !strings.Contains(page, "Email") {
		t.Errorf("duplicate column = %d; the message must name the column", code)
	}
	// Garbage is a clear error page, never a 500.
	if code, page := f.upload(base+"/preview", "photo.jpg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01")); code != http.StatusUnprocessableEntity || !strings.Contains(page, `class="error"`) {
		t.Errorf("binary upload = %d", code)
	}
}

func TestParticipantAddKeepsInputOnError(t *testing.T) {
	a, demo, _ := newTestApp(t)
	f := signedIn(t, a, demo.AdminEmail, demo.AdminPassword)
	base := fmt.Sprintf("/admin/campaigns/%d/participants", demo.CampaignID)
	code, page, _ := f.do(http.MethodPost, base+"/add", "application/x-www-form-urlencoded",
		url.Values{"csrf": {f.csrf}, "email": {"broken@"}, "name": {"Keep Me"}}.Encode())
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, `value="Keep Me"`) || !strings.Contains(page, `value="broken@"`) {
		t.Errorf("add with a bad email = %d, the typed values must stay", code)
	}
	if code, _ := f.post(base+"/add", url.Values{"email": {"solo@example.com"}, "name": {"Solo"}}); code != 303 {
		t.Errorf("valid add = %d", code)
	}
	var p survey.Participant
	if err := a.db.Read.Where("campaign_id = ? AND email = ?", demo.CampaignID, "solo@example.com").First(&p).Error; err != nil {
		t.Fatal(err)
	}
	if code, _ := f.post(fmt.Sprintf("%s/%d/delete", base, p.ID), url.Values{"confirmed": {"1"}}); code != 303 {
		t.Errorf("delete = %d", code)
	}
}

func TestAPIParticipantsImportsValidLinesAndReportsTheRest(t *testing.T) {
	a, demo, _ := newTestApp(t)
	token, err := survey.CreateAPIToken(t.Context(), a.db, demo.AdminEmail, "hr")
	if err != nil {
		t.Fatal(err)
	}
	csv := "email,name,unit\napi.one@example.com,One,Marketing\nbad,Two,Marketing\napi.three@example.com,Three,Nowhere\n"
	code, out := apiCall(t, a, http.MethodPost, fmt.Sprintf("/api/v1/campaigns/%d/participants?create_units=true", demo.CampaignID), token, csv)
	if code != 200 || out["added"].(float64) != 2 || out["units_created"].(float64) != 1 {
		t.Fatalf("%d %v", code, out)
	}
	probs := out["problems"].([]any)
	if len(probs) != 1 || probs[0].(map[string]any)["line"].(float64) != 3 || probs[0].(map[string]any)["message"] == "" {
		t.Errorf("problems = %v", probs)
	}
	// A manager's token may read but not import.
	if code, _ := apiCall(t, a, http.MethodPost, fmt.Sprintf("/api/v1/campaigns/%d/participants", demo.CampaignID), demo.APIToken, csv); code != http.StatusForbidden {
		t.Errorf("manager import = %d, want 403", code)
	}
	if code, out := apiCall(t, a, http.MethodPost, fmt.Sprintf("/api/v1/campaigns/%d/participants", demo.CampaignID), token, "name\nno email column\n"); code != http.StatusUnprocessableEntity || errorCode(out) == "" {
		t.Errorf("file without an email column = %d %v", code, out)
	}
}
