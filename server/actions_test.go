package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"tiltline/survey"
	"tiltline/survey/actions"
	"tiltline/survey/outbox"
	"tiltline/survey/surveytest"
)

var planLink = regexp.MustCompile(`href="(/actions/new\?campaign=\d+&amp;practice=[A-Z]{2}-\d+)"`)

// From a recommendation to an owned, dated action: the link on the
// results page opens a filled form; submitting it (after choosing an owner)
// creates the action, tells the owner by mail, and the results page then
// counts it next to the practice.
func TestActionFromARecommendation(t *testing.T) {
	a, demo, _ := newTestApp(t)
	mgr := managerFlow(t, a, demo)
	results := fmt.Sprintf("/results/%d", demo.CampaignID)
	code, page := mgr.get(results)
	m := planLink.FindStringSubmatch(page)
	if code != http.StatusOK || m == nil {
		t.Fatalf("results page: %d, no link to plan an action from a recommendation", code)
	}
	href := html.UnescapeString(m[1])
	practice := href[strings.LastIndex(href, "=")+1:]
	code, form := mgr.get(href)
	if code != http.StatusOK || !strings.Contains(form, `id="p-`+practice+`" name="practices" value="`+practice+`" checked`) {
		t.Fatalf("the form does not start from the recommendation's practice %s: %d", practice, code)
	}
	admin, _ := survey.UserByEmail(t.Context(), a.db, demo.AdminEmail)
	due := regexp.MustCompile(`name="due_on" type="date" required value="([0-9-]+)"`).FindStringSubmatch(form)
	title := regexp.MustCompile(`id="title" name="title" required maxlength="200" value="([^"]*)"`).FindStringSubmatch(form)
	if due == nil || title == nil || title[1] == "" {
		t.Fatal("the form is not filled with a title and a due day")
	}
	fields := url.Values{"title": {html.UnescapeString(title[1])}, "owner": {strconv.FormatInt(admin.ID, 10)}, "due_on": {due[1]},
		"status": {"planned"}, "campaign": {strconv.FormatInt(demo.CampaignID, 10)}, "scope": {"org"}, "practices": {practice}}
	code, loc := mgr.post("/actions", fields)
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/actions/") {
		t.Fatalf("create: %d %q", code, loc)
	}
	var kinds []string
	a.db.Read.Raw(`SELECT kind || ' ' || recipient FROM outbox WHERE kind LIKE 'action_%'`).Scan(&kinds)
	if len(kinds) != 1 || kinds[0] != "action_assigned "+demo.AdminEmail {
		t.Fatalf("mails queued: %q", kinds)
	}
	if code, page := mgr.get(loc); code != http.StatusOK || !strings.Contains(page, html.EscapeString(fields.Get("title"))) || !strings.Contains(page, "Ada Admin") {
		t.Fatalf("action page: %d", code)
	}
	if _, page := mgr.get(results); !strings.Contains(page, `href="/actions?practice=`+practice+`">Actions: 1, done: 0</a>`) {
		t.Error("the results page does not count the new action next to its practice")
	}

	// From a section: the form holds all of its practices.
	sectionLink := fmt.Sprintf(`href="/actions/new?campaign=%d&amp;section=RE"`, demo.CampaignID)
	if !strings.Contains(page, sectionLink) {
		t.Error("no link to plan an action on a section")
	}
	if _, form := mgr.get(fmt.Sprintf("/actions/new?campaign=%d&section=RE", demo.CampaignID)); strings.Count(form, `" checked><label for="p-RE-`) != len(a.models.Latest().Sections[4].Practices()) {
		t.Error("the form from a section does not hold all its practices")
	}

	// A bad due day keeps everything typed and says what is wrong.
	fields.Set("due_on", "31.12.")
	fields.Set("title", "Keep me")
	code, body, _ := mgr.do(http.MethodPost, "/actions", "application/x-www-form-urlencoded", withCSRF(fields, mgr.csrf), "Accept-Language", "de")
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "Geben Sie die Fälligkeit als Datum an.") || !strings.Contains(body, `value="Keep me"`) {
		t.Errorf("bad due day: %d", code)
	}
}

func withCSRF(v url.Values, csrf string) string {
	w := url.Values{}
	for k, vs := range v {
		w[k] = vs
	}
	w.Set("csrf", csrf)
	return w.Encode()
}

// The demo's later wave says whether its done actions worked, and the
// board shows its overdue action.
func TestDemoShowsDidItWorkAndTheBoard(t *testing.T) {
	a, demo, _ := newTestApp(t)
	mgr := managerFlow(t, a, demo)
	_, page := mgr.get(fmt.Sprintf("/results/%d", demo.CampaignID))
	for _, want := range []string{"Did it work?", "Map the complaint journey end to end", "Average of the"} {
		if !strings.Contains(page, want) {
			t.Errorf("the second wave's results lack %q", want)
		}
	}
	if _, page := mgr.get(fmt.Sprintf("/results/%d", demo.PreviousCampaignID)); strings.Contains(page, "Did it work?") {
		t.Error("the first wave shows did-it-work: there is nothing before it")
	}
	code, board := mgr.get("/actions")
	if code != http.StatusOK || !strings.Contains(board, `class="overdue"`) || !strings.Contains(board, "Train service staff in complaint handling") {
		t.Errorf("board: %d, or no overdue action", code)
	}
	if _, page := mgr.get("/learn/managing-dissatisfaction"); !strings.Contains(page, `id="learn-actions-h"`) || !strings.Contains(page, "Map the complaint journey end to end") {
		t.Error("the learning page does not list the organisation's action on its practices")
	}
	if page := body(t, get(t, a, "/learn/managing-dissatisfaction")); strings.Contains(page, "Map the complaint journey") {
		t.Error("a visitor sees the organisation's actions on the learning page")
	}
	if code, csv := mgr.get("/actions.csv?status=done"); code != http.StatusOK || !strings.HasPrefix(csv, "id,title,status,owner") || strings.Count(csv, "\n") != 3 {
		t.Errorf("actions.csv of the done actions: %d %q", code, csv)
	}
}

// A manager limited to a unit sees and changes only the actions of their
// units (and their own), never an organisation-wide one, on pages and API.
func TestActionsFollowUnitLimits(t *testing.T) {
	a, demo, _ := newTestApp(t)
	ctx := t.Context()
	admin, _ := survey.UserByEmail(ctx, a.db, demo.AdminEmail)
	mgr, _ := survey.UserByEmail(ctx, a.db, demo.ManagerEmail)
	var retail, business survey.BusinessUnit
	a.db.Read.Where("organisation_id = ? AND name = ?", admin.OrganisationID, "Retail Banking").First(&retail)
	a.db.Read.Where("organisation_id = ? AND name = ?", admin.OrganisationID, "Business Banking").First(&business)
	if err := survey.SetManagerUnits(ctx, a.db, *admin.OrganisationID, mgr.ID, false, []int64{retail.ID}); err != nil {
		t.Fatal(err)
	}
	adminActor := actions.Actor{UserID: admin.ID, Name: "Ada", OrgID: *admin.OrganisationID, Role: admin.Role}
	in := actions.Input{Title: "Retail only", OwnerID: admin.ID, DueOn: a.now().AddDate(0, 1, 0), Practices: []string{"AP-01"}, Units: []int64{retail.ID}}
	mine, err := actions.Create(ctx, a.db, adminActor, a.models.Latest(), in, a.now())
	if err != nil {
		t.Fatal(err)
	}
	in.Title, in.Units = "Business only", []int64{business.ID}
	theirs, err := actions.Create(ctx, a.db, adminActor, a.models.Latest(), in, a.now())
	if err != nil {
		t.Fatal(err)
	}
	var orgWide int64
	a.db.Read.Raw(`SELECT id FROM actions WHERE organisation_id = ? AND whole_org = ? AND owner_id = ? ORDER BY id LIMIT 1`, *admin.OrganisationID, true, admin.ID).Scan(&orgWide)
	if orgWide == 0 {
		t.Fatal("the demo has no organisation-wide action owned by its admin")
	}

	f := managerFlow(t, a, demo)
	_, board := f.get("/actions")
	if !strings.Contains(board, "Retail only") || strings.Contains(board, "Business only") || strings.Contains(board, "Agree a customer management strategy") {
		t.Error("the limited manager's board shows actions outside their units")
	}
	for _, id := range []int64{theirs.ID, orgWide} {
		for _, p := range []string{"", "/edit", "/audit"} {
			if code, _ := f.get(fmt.Sprintf("/actions/%d%s", id, p)); code != http.StatusNotFound {
				t.Errorf("GET /actions/%d%s as a limited manager: %d, want 404", id, p, code)
			}
		}
		for _, p := range []string{"", "/status", "/comments", "/delete"} {
			if code, _ := f.post(fmt.Sprintf("/actions/%d%s", id, p), url.Values{"status": {"done"}, "comment": {"x"}, "title": {"x"}}); code != http.StatusNotFound {
				t.Errorf("POST /actions/%d%s as a limited manager: %d, want 404", id, p, code)
			}
		}
	}
	if code, _ := f.post(fmt.Sprintf("/actions/%d/status", mine.ID), url.Values{"status": {"in_progress"}}); code != http.StatusSeeOther {
		t.Errorf("the limited manager cannot move an action of their unit: %d", code)
	}
	// Planning for another unit is refused with the reason, and nothing stored.
	form := url.Values{"title": {"Sneaky"}, "owner": {strconv.FormatInt(mgr.ID, 10)}, "due_on": {a.now().AddDate(0, 1, 0).Format("2006-01-02")},
		"scope": {"units"}, "units": {strconv.FormatInt(business.ID, 10)}, "practices": {"AP-01"}}
	code, body, _ := f.do(http.MethodPost, "/actions", "application/x-www-form-urlencoded", withCSRF(form, f.csrf))
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "You can plan only for the units you are responsible for.") {
		t.Errorf("planning for another unit: %d", code)
	}

	token, err := survey.CreateAPIToken(ctx, a.db, demo.ManagerEmail, "actions")
	if err != nil {
		t.Fatal(err)
	}
	r := get(t, a, "/api/v1/actions", "Authorization", "Bearer "+token)
	var list apiPage[apiAction]
	if err := json.NewDecoder(r.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, x := range list.Items {
		ids = append(ids, x.ID)
	}
	if !slices.Contains(ids, mine.ID) || slices.Contains(ids, theirs.ID) || slices.Contains(ids, orgWide) {
		t.Errorf("API list as a limited manager: %v; want %d (their unit), not %d or %d", ids, mine.ID, theirs.ID, orgWide)
	}
	if r := get(t, a, fmt.Sprintf("/api/v1/actions/%d", theirs.ID), "Authorization", "Bearer "+token); r.StatusCode != http.StatusNotFound {
		t.Errorf("API get outside the units: %d", r.StatusCode)
	}
}

// The API: create, read, change, comment, delete; errors as JSON.
func TestActionsAPI(t *testing.T) {
	a, demo, _ := newTestApp(t)
	ctx := t.Context()
	admin, _ := survey.UserByEmail(ctx, a.db, demo.AdminEmail)
	call := func(method, path, body string) (int, map[string]any) {
		req, _ := http.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+demo.APIToken)
		req.Header.Set("Content-Type", "application/json")
		rec := serveRecorder(a, req)
		var out map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		return rec.Code, out
	}
	due := a.now().AddDate(0, 2, 0).Format("2006-01-02")
	code, out := call(http.MethodPost, "/api/v1/actions", fmt.Sprintf(`{"title":"From the API","owner_id":%d,"due_on":%q,"practices":["RE-01"],"campaign_id":%d}`, admin.ID, due, demo.CampaignID))
	if code != http.StatusCreated || out["title"] != "From the API" || out["status"] != "planned" {
		t.Fatalf("create: %d %v", code, out)
	}
	id := int64(out["id"].(float64))
	path := fmt.Sprintf("/api/v1/actions/%d", id)
	if code, out := call(http.MethodPatch, path, `{"status":"done"}`); code != http.StatusOK || out["status"] != "done" || out["done_at"] == nil {
		t.Errorf("patch status: %d %v", code, out)
	}
	if code, out := call(http.MethodPatch, path, `{"status":"dropped"}`); code != http.StatusUnprocessableEntity || out["error"].(map[string]any)["code"] != "invalid_input" {
		t.Errorf("done → dropped: %d %v", code, out)
	}
	if code, out := call(http.MethodPatch, path, `{"due_on":"tomorrow"}`); code != http.StatusUnprocessableEntity {
		t.Errorf("bad due day: %d %v", code, out)
	}
	if code, out := call(http.MethodPatch, path, `{"colour":"red"}`); code != http.StatusBadRequest {
		t.Errorf("unknown field: %d %v", code, out)
	}
	if code, out := call(http.MethodPost, path+"/comments", `{"body":"Looks good."}`); code != http.StatusCreated || out["author"] != "Max Manager" {
		t.Errorf("comment: %d %v", code, out)
	}
	if code, _ := call(http.MethodDelete, path, ""); code != http.StatusNoContent {
		t.Errorf("delete: %d", code)
	}
	if code, out := call(http.MethodGet, path, ""); code != http.StatusNotFound || out["error"] == nil {
		t.Errorf("get after delete: %d %v", code, out)
	}
}

func serveRecorder(a *App, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, req)
	return rec
}

// The action plan is a sheet of the workbook and a page of the PDF.
func TestActionPlanInTheExports(t *testing.T) {
	a, demo, _ := newTestApp(t)
	mgr := managerFlow(t, a, demo)
	code, pdf := mgr.get(fmt.Sprintf("/results/%d/export.pdf", demo.PreviousCampaignID))
	if code != http.StatusOK {
		t.Fatalf("pdf: %d", code)
	}
	if text, ok := surveytest.PDFText(t, []byte(pdf)); ok && (!strings.Contains(text, "Action plan") || !strings.Contains(text, "Win back lapsed business customers")) {
		t.Errorf("the PDF has no action plan page:\n%.500s", text)
	}
	code, xlsx := mgr.get(fmt.Sprintf("/results/%d/export.xlsx", demo.PreviousCampaignID))
	if code != http.StatusOK {
		t.Fatalf("xlsx: %d", code)
	}
	f, err := excelize.OpenReader(strings.NewReader(xlsx))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows("Action plan")
	if err != nil || len(rows) != 1+len(survey.DemoActionTitles()) || rows[1][1] == "" {
		t.Errorf("action sheet: %v %v", rows, err)
	}
}

// Action mails are written in the recipient's language when sent, and not
// at all once they make no sense (the action is done, or gone).
func TestActionMailsInTheOwnersLanguage(t *testing.T) {
	a, demo, _ := newTestApp(t)
	ctx := t.Context()
	admin, _ := survey.UserByEmail(ctx, a.db, demo.AdminEmail)
	mgr, _ := survey.UserByEmail(ctx, a.db, demo.ManagerEmail)
	a.db.Write.Model(&survey.User{}).Where("id = ?", admin.ID).Update("locale", "de")
	actor := actions.Actor{UserID: mgr.ID, Name: "Max", OrgID: *mgr.OrganisationID, Role: mgr.Role, Limited: false}
	x, err := actions.Create(ctx, a.db, actor, a.models.Latest(), actions.Input{Title: "Beschwerden halbieren", OwnerID: admin.ID,
		DueOn: a.now().AddDate(0, 0, 3), Practices: []string{"RE-09"}, WholeOrg: true}, a.now())
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := outbox.ClaimJobs(ctx, a.db, "test", 10, time.Minute)
	if err != nil || len(jobs) != 1 || jobs[0].ActionID != x.ID {
		t.Fatalf("claimed %+v %v", jobs, err)
	}
	msg, err := a.mail.composeAction(ctx, jobs[0])
	if err != nil || msg == nil {
		t.Fatalf("compose: %v", err)
	}
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	raw := string(undoQuotedPrintable(buf.Bytes()))
	for _, want := range []string{"Content-Language: de", fmt.Sprintf("http://test/actions/%d", x.ID), "RE-09", "http://test/learn/managing-dissatisfaction#RE-09"} {
		if !strings.Contains(raw, want) {
			t.Errorf("the mail lacks %q:\n%s", want, raw)
		}
	}
	if subj, err := new(mime.WordDecoder).DecodeHeader(strings.Join(msg.GetGenHeader("Subject"), "")); err != nil || subj != "Eine Maßnahme für Sie: Beschwerden halbieren" {
		t.Errorf("subject %q %v", subj, err)
	}
	// A reminder about an action done since it was queued is not sent.
	if _, err := actions.SetStatus(ctx, a.db, actor, a.models.Latest(), x.ID, actions.Done, a.now()); err != nil {
		t.Fatal(err)
	}
	job := jobs[0]
	job.Kind = outbox.MailActionReminder
	if msg, err := a.mail.composeAction(ctx, job); err != nil || msg != nil {
		t.Errorf("a reminder about a done action is written: %v", err)
	}
}

// The mail scheduler's round queues action reminders by the App's clock:
// the demo's overdue action is reminded a week after the demo was made,
// and not again the next day.
func TestReminderSweepUsesTheAppsClock(t *testing.T) {
	a, demo, _ := newTestApp(t)
	count := func() (n int64) {
		a.db.Read.Raw(`SELECT count(*) FROM outbox WHERE kind = ? AND recipient = ?`, outbox.MailActionReminder, demo.ManagerEmail).Scan(&n)
		return n
	}
	a.queueActionMail(t.Context())
	if n := count(); n != 0 {
		t.Fatalf("reminded on the day the demo was made: %d", n)
	}
	at := time.Now().UTC().AddDate(0, 0, 8)
	a.clock = func() time.Time { return at }
	a.queueActionMail(t.Context())
	if n := count(); n != 1 {
		t.Fatalf("a week later, %d reminders for the overdue action, want 1", n)
	}
	at = at.AddDate(0, 0, 1)
	a.queueActionMail(t.Context())
	if n := count(); n != 1 {
		t.Fatalf("the next day, %d reminders, want still 1", n)
	}
}
