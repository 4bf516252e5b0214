package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/labstack/echo/v4"

	"tiltline/survey"
)

// Participant lists: upload a CSV, see a preview with every problem per line,
// then import; or add and remove people one by one. Nothing is saved before
// the admin confirms the preview.

// maxUpload bounds a participant file: 50,000 rows of a few columns fit in a
// few megabytes.
const maxUpload = 32 << 20

// uploads keeps a previewed file for half an hour, until the admin confirms
// it; keyed by a random id and bound to the user and campaign.
type uploads struct {
	lru *expirable.LRU[string, upload]
}

type upload struct {
	userID, campaignID int64
	name               string
	data               []byte
}

func newUploads() *uploads {
	return &uploads{lru: expirable.NewLRU[string, upload](256, nil, 30*time.Minute)}
}

type participantsData struct {
	Campaign     *survey.Campaign
	Participants []survey.Participant
	Units        map[int64]string
	Total        int64
	Page, Pages  int
	Add          survey.ImportRow
	AddErrors    map[string]string
	Roles        []survey.Option
	Seniority    []survey.Option
	UnitList     []survey.BusinessUnit
	// FileError is why the whole file was refused, with the line and value its message names.
	FileError *survey.ImportProblem
	CSRF      string
}

const participantsPerPage = 100

func (a *App) participantsPage(c echo.Context) error {
	cp, err := a.campaignOf(c)
	if err != nil {
		return err
	}
	page, _ := strconv.Atoi(c.QueryParam("page"))
	return a.renderParticipants(c, http.StatusOK, cp, max(page, 1), participantsData{})
}

func (a *App) renderParticipants(c echo.Context, status int, cp *survey.Campaign, page int, d participantsData) error {
	ctx := c.Request().Context()
	ps, total, err := survey.ListParticipants(ctx, a.db, cp.ID, (page-1)*participantsPerPage, participantsPerPage)
	if err != nil {
		return err
	}
	units, err := survey.Units(ctx, a.db, cp.OrganisationID)
	if err != nil {
		return err
	}
	m, _ := a.models.Version(cp.ModelVersion)
	d.Campaign, d.Participants, d.Total, d.Page = cp, ps, total, page
	d.Pages = int((total + participantsPerPage - 1) / participantsPerPage)
	d.Units, d.UnitList, d.Roles, d.Seniority, d.CSRF = map[int64]string{}, units, m.Roles, m.Seniority, csrfOf(c)
	for _, u := range units {
		d.Units[u.ID] = u.Name
	}
	return a.render(c, status, "admin_participants", a.page(c, "admin.participants.title", d))
}

type previewData struct {
	Campaign *survey.Campaign
	Preview  *survey.ImportPreview
	Problems []survey.ImportProblem // the first ones, for the page
	More     int
	UploadID string
	FileName string
	CSRF     string
}

// participantsPreview parses an uploaded file and shows what it would do.
func (a *App) participantsPreview(c echo.Context) error {
	cp, err := a.campaignOf(c)
	if err != nil {
		return err
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return a.renderParticipants(c, http.StatusUnprocessableEntity, cp, 1, participantsData{FileError: &survey.ImportProblem{Code: "admin.participants.no_file"}})
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxUpload+1))
	if err != nil {
		return err
	}
	if len(data) > maxUpload {
		return a.renderParticipants(c, http.StatusRequestEntityTooLarge, cp, 1, participantsData{FileError: &survey.ImportProblem{Code: "import.error.too_large"}})
	}
	p, err := a.parseParticipants(c, cp, data)
	var prob survey.ImportProblem
	if errors.As(err, &prob) {
		return a.renderParticipants(c, http.StatusUnprocessableEntity, cp, 1, participantsData{FileError: &prob})
	}
	if err != nil {
		return err
	}
	id := survey.NewOpenToken()
	a.uploads.lru.Add(id, upload{userID: viewerOf(c).ID, campaignID: cp.ID, name: fh.Filename, data: data})
	d := previewData{Campaign: cp, Preview: p, Problems: p.Problems, UploadID: id, FileName: fh.Filename, CSRF: csrfOf(c)}
	if len(d.Problems) > 200 {
		d.Problems, d.More = d.Problems[:200], len(p.Problems)-200
	}
	return a.render(c, http.StatusOK, "admin_participants_preview", a.page(c, "admin.participants.preview", d))
}

func (a *App) parseParticipants(c echo.Context, cp *survey.Campaign, data []byte) (*survey.ImportPreview, error) {
	ctx := c.Request().Context()
	units, err := survey.Units(ctx, a.db, cp.OrganisationID)
	if err != nil {
		return nil, err
	}
	existing, err := survey.CampaignEmails(ctx, a.db, cp.ID)
	if err != nil {
		return nil, err
	}
	m, _ := a.models.Version(cp.ModelVersion)
	return survey.ParseParticipants(bytes.NewReader(data), m, units, existing)
}

// participantsImport saves a previewed file. It parses the file again: the
// campaign may have changed since the preview.
func (a *App) participantsImport(c echo.Context) error {
	cp, err := a.campaignOf(c)
	if err != nil {
		return err
	}
	up, ok := a.uploads.lru.Get(c.FormValue("upload"))
	if !ok || up.userID != viewerOf(c).ID || up.campaignID != cp.ID {
		return a.renderParticipants(c, http.StatusGone, cp, 1, participantsData{FileError: &survey.ImportProblem{Code: "admin.participants.expired"}})
	}
	p, err := a.parseParticipants(c, cp, up.data)
	if err != nil {
		return err
	}
	res, err := survey.ImportParticipants(c.Request().Context(), a.db, a.cfg.Secret, cp, p, c.FormValue("create_units") == "on", viewerOf(c).User)
	if err != nil {
		return err
	}
	a.uploads.lru.Remove(c.FormValue("upload"))
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/campaigns/%d?notice=admin.participants.imported&added=%d", cp.ID, res.Added))
}

func (a *App) participantAdd(c echo.Context) error {
	cp, err := a.campaignOf(c)
	if err != nil {
		return err
	}
	row := survey.ImportRow{Email: strings.TrimSpace(c.FormValue("email")), Name: strings.TrimSpace(c.FormValue("name")),
		Unit: c.FormValue("unit"), Role: c.FormValue("role"), Seniority: c.FormValue("seniority"), Locale: c.FormValue("locale")}
	_, err = survey.AddParticipant(c.Request().Context(), a.db, a.cfg.Secret, cp, row, viewerOf(c).User)
	var prob survey.ImportProblem
	if errors.As(err, &prob) {
		field := prob.Field
		if field == "" {
			field = "email"
		}
		return a.renderParticipants(c, http.StatusUnprocessableEntity, cp, 1, participantsData{Add: row, AddErrors: map[string]string{field: prob.Code}})
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/campaigns/%d/participants", cp.ID))
}

func (a *App) participantDelete(c echo.Context) error {
	cp, err := a.campaignOf(c)
	if err != nil {
		return err
	}
	pid, err := idParam(c, "pid")
	if err != nil {
		return err
	}
	if err := survey.RemoveParticipant(c.Request().Context(), a.db, cp.ID, pid); errors.Is(err, survey.ErrNotFound) {
		return echo.ErrNotFound
	} else if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/campaigns/%d/participants", cp.ID))
}

// apiParticipants is POST /api/v1/campaigns/{id}/participants with a CSV
// body: valid lines are added, the others come back with their problems.
func (a *App) apiParticipants(c echo.Context) error {
	cp, err := a.campaignOf(c)
	if err != nil {
		return err
	}
	data, err := io.ReadAll(io.LimitReader(c.Request().Body, maxUpload+1))
	if err != nil {
		return err
	}
	if len(data) > maxUpload {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "participant file larger than 32 MiB")
	}
	p, err := a.parseParticipants(c, cp, data)
	var prob survey.ImportProblem
	if errors.As(err, &prob) {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, a.importMessage(prob))
	}
	if err != nil {
		return err
	}
	res, err := survey.ImportParticipants(c.Request().Context(), a.db, a.cfg.Secret, cp, p, c.QueryParam("create_units") == "true", viewerOf(c).User)
	if err != nil {
		return err
	}
	type problem struct {
		survey.ImportProblem
		Message string `json:"message"`
	}
	probs := make([]problem, len(p.Problems))
	for i, pr := range p.Problems {
		probs[i] = problem{ImportProblem: pr, Message: a.importMessage(pr)}
	}
	return c.JSON(http.StatusOK, map[string]any{
		"added": res.Added, "skipped": res.Skipped, "units_created": res.UnitsCreated,
		"lines": p.Lines, "new_units": p.NewUnits, "problems": probs,
	})
}

// importMessage words an import problem for the API (in English, as the
// API's other messages): with its value and, when it has one, its line.
func (a *App) importMessage(p survey.ImportProblem) string {
	data := map[string]any{"Line": p.Line, "Value": p.Value}
	msg := a.i18n.T("en", p.Code, data)
	if p.Line > 0 && !strings.Contains(msg, strconv.Itoa(p.Line)) {
		data["Message"] = msg
		msg = a.i18n.T("en", "import.error.at_line", data)
	}
	return msg
}
