package server

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"tiltline/survey"
)

// Participant lists: upload a CSV, see a preview with every problem per line,
// then import; or add and remove people one by one. Nothing is saved before
// the admin confirms the preview.

// maxUpload bounds a participant file: 50,000 rows of a few columns fit in a
// few megabytes.
const maxUpload = 32 << 20

// uploads keeps previewed files until the admin confirms them: on disk in
// DATA_DIR/uploads (the directory 0700, each file 0600, named by a random
// id), never in memory, so previews cannot exhaust the server's memory. A
// file is bound to the user and campaign that uploaded it, removed when it
// is imported, replaced by the same user's next file for the campaign, and
// removed after ttl. The bytes held are bounded per organisation and
// overall; past either bound a new preview is refused until files are
// imported or expire.
type uploads struct {
	dir         string
	ttl         time.Duration
	perOrg, all int64 // bounds of the bytes held
	mu          sync.Mutex
	files       map[string]upload
	orgBytes    map[int64]int64
	heldBytes   int64
}

type upload struct {
	userID, campaignID, orgID int64
	name                      string
	size                      int64
	expires                   time.Time
}

// Bounds of the previewed files held at once: a few full-size files per
// organisation, a few dozen overall.
const (
	uploadsPerOrg = 4 * maxUpload
	uploadsAll    = 32 * maxUpload
)

// errUploadsFull: a new preview would pass a bound of the bytes held.
var errUploadsFull = errors.New("too many previewed files waiting")

func newUploads(dir string) *uploads {
	u := &uploads{dir: dir, ttl: 30 * time.Minute, perOrg: uploadsPerOrg, all: uploadsAll,
		files: map[string]upload{}, orgBytes: map[int64]int64{}}
	u.sweep() // files a previous run left behind, once expired
	return u
}

// put stores a previewed file of size bytes read from r and returns its
// id; the size is checked against the bounds before anything is written.
func (u *uploads) put(meta upload, size int64, r io.Reader) (string, error) {
	u.sweep()
	id := survey.NewOpenToken()
	meta.size, meta.expires = size, time.Now().Add(u.ttl)
	u.mu.Lock()
	for old, f := range u.files { // the same person's earlier file for the campaign is done with
		if f.userID == meta.userID && f.campaignID == meta.campaignID {
			u.dropLocked(old)
		}
	}
	if u.orgBytes[meta.orgID]+size > u.perOrg || u.heldBytes+size > u.all {
		u.mu.Unlock()
		return "", errUploadsFull
	}
	u.files[id] = meta // reserved while written
	u.orgBytes[meta.orgID] += size
	u.heldBytes += size
	u.mu.Unlock()
	err := u.write(id, r, size)
	if err != nil {
		u.remove(id)
		return "", err
	}
	time.AfterFunc(u.ttl+time.Second, u.sweep)
	return id, nil
}

func (u *uploads) write(id string, r io.Reader, size int64) error {
	if err := os.MkdirAll(u.dir, 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(u.dir, id), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, io.LimitReader(r, size+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n != size { // the bounds counted size
		err = fmt.Errorf("upload: %d bytes expected, %d read", size, n)
	}
	return err
}

// open returns a stored file if it exists, has not expired and belongs to
// the user and campaign.
func (u *uploads) open(id string, userID, campaignID int64) (*os.File, bool) {
	u.mu.Lock()
	f, ok := u.files[id]
	u.mu.Unlock()
	if !ok || f.userID != userID || f.campaignID != campaignID || time.Now().After(f.expires) {
		return nil, false
	}
	file, err := os.Open(filepath.Join(u.dir, id))
	return file, err == nil
}

func (u *uploads) remove(id string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.dropLocked(id)
}

func (u *uploads) dropLocked(id string) {
	if f, ok := u.files[id]; ok {
		delete(u.files, id)
		u.orgBytes[f.orgID] -= f.size
		if u.orgBytes[f.orgID] <= 0 {
			delete(u.orgBytes, f.orgID)
		}
		u.heldBytes -= f.size
	}
	_ = os.Remove(filepath.Join(u.dir, id))
}

// sweep removes expired files: those this process knows of, and any other
// file in the directory older than ttl (left by a process that stopped).
func (u *uploads) sweep() {
	now := time.Now()
	u.mu.Lock()
	for id, f := range u.files {
		if now.After(f.expires) {
			u.dropLocked(id)
		}
	}
	u.mu.Unlock()
	entries, _ := os.ReadDir(u.dir)
	for _, e := range entries {
		if info, err := e.Info(); err == nil && e.Type().IsRegular() && now.Sub(info.ModTime()) > u.ttl {
			u.mu.Lock()
			if _, known := u.files[e.Name()]; !known {
				_ = os.Remove(filepath.Join(u.dir, e.Name()))
			}
			u.mu.Unlock()
		}
	}
}

type participantsData struct {
	Campaign     *survey.Campaign
	Participants []survey.ParticipantRow
	Units        map[int64]string
	Total        int64 // matching the filter
	All          int64 // on the list
	Page, Pages  int
	// Filter as given, its choices, and the query string that keeps it
	// across pages.
	Filter     participantFilter
	Deliveries []string
	PageSizes  []int
	Locales    []string
	Keep       string
	Add        survey.ImportRow
	AddErrors  map[string]string
	Roles      []survey.Option
	Seniority  []survey.Option
	UnitList   []survey.BusinessUnit
	// FileError is why the whole file was refused, with the line and value its message names.
	FileError *survey.ImportProblem
	CSRF      string
}

// Page sizes of the participants list; the first is the default.
var participantPageSizes = []int{50, 100, 250, 500}

// participantFilter is the list's search form, as typed.
type participantFilter struct {
	Q, Unit, Role, Locale, Delivery string
	Size                            int
}

// Active is true when anything narrows the list.
func (f participantFilter) Active() bool {
	return f.Q != "" || f.Unit != "" || f.Role != "" || f.Locale != "" || f.Delivery != ""
}

func (a *App) participantsPage(c echo.Context) error {
	cp, err := a.campaignOf(c)
	if err != nil {
		return err
	}
	page, _ := strconv.Atoi(c.QueryParam("page"))
	return a.renderParticipants(c, http.StatusOK, cp, max(page, 1), participantsData{})
}

// readParticipantFilter reads the search form; values that are not among
// the choices are dropped rather than refused.
func readParticipantFilter(c echo.Context, m *survey.Model) participantFilter {
	f := participantFilter{Q: strings.TrimSpace(c.QueryParam("q")), Unit: c.QueryParam("unit"), Role: c.QueryParam("role"),
		Locale: c.QueryParam("locale"), Delivery: c.QueryParam("delivery")}
	if len(f.Q) > 200 {
		f.Q = f.Q[:200]
	}
	if _, err := strconv.ParseInt(f.Unit, 10, 64); err != nil && f.Unit != "none" {
		f.Unit = ""
	}
	if !slices.ContainsFunc(m.Roles, func(o survey.Option) bool { return o.Key == f.Role }) {
		f.Role = ""
	}
	if !slices.Contains(survey.Locales, f.Locale) {
		f.Locale = ""
	}
	if !slices.Contains(survey.DeliveryStates, f.Delivery) {
		f.Delivery = ""
	}
	f.Size, _ = strconv.Atoi(c.QueryParam("size"))
	if !slices.Contains(participantPageSizes, f.Size) {
		f.Size = participantPageSizes[0]
	}
	return f
}

func (a *App) renderParticipants(c echo.Context, status int, cp *survey.Campaign, page int, d participantsData) error {
	ctx := c.Request().Context()
	m, ok := a.models.Version(cp.ModelVersion)
	if !ok {
		m = a.models.Latest()
	}
	f := readParticipantFilter(c, m)
	ps, total, err := survey.FindParticipants(ctx, a.db, cp.ID, survey.ParticipantQuery{Search: f.Q, Unit: f.Unit, Role: f.Role,
		Locale: f.Locale, Delivery: f.Delivery, Offset: (page - 1) * f.Size, Limit: f.Size})
	if err != nil {
		return err
	}
	if err := a.db.Read.WithContext(ctx).Model(&survey.Participant{}).Where("campaign_id = ?", cp.ID).Count(&d.All).Error; err != nil {
		return err
	}
	units, err := survey.Units(ctx, a.db, cp.OrganisationID)
	if err != nil {
		return err
	}
	d.Campaign, d.Participants, d.Total, d.Page = cp, ps, total, page
	d.Pages = max(int((total+int64(f.Size)-1)/int64(f.Size)), 1)
	d.Units, d.UnitList, d.Roles, d.Seniority, d.CSRF = map[int64]string{}, units, m.Roles, m.Seniority, csrfOf(c)
	d.Filter, d.Deliveries, d.PageSizes, d.Locales = f, survey.DeliveryStates, participantPageSizes, survey.Locales
	keep := url.Values{}
	for k, v := range map[string]string{"q": f.Q, "unit": f.Unit, "role": f.Role, "locale": f.Locale, "delivery": f.Delivery} {
		if v != "" {
			keep.Set(k, v)
		}
	}
	if f.Size != participantPageSizes[0] {
		keep.Set("size", strconv.Itoa(f.Size))
	}
	d.Keep = keep.Encode()
	for _, u := range units {
		d.Units[u.ID] = u.Name
	}
	return a.render(c, status, "admin_participants", a.page(c, "admin.participants.title", d))
}

// OptionTitle is a model option's title in the page's language, or the key
// when the model does not know it (a value imported before the model changed).
func (p *Page) OptionTitle(opts []survey.Option, key string) string {
	for _, o := range opts {
		if o.Key == key {
			return o.Title.In(p.Lang)
		}
	}
	return key
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
	if fh.Size > maxUpload {
		return a.renderParticipants(c, http.StatusRequestEntityTooLarge, cp, 1, participantsData{FileError: &survey.ImportProblem{Code: "import.error.too_large"}})
	}
	src, err := fh.Open()
	if err != nil {
		return err
	}
	defer src.Close()
	v := viewerOf(c)
	id, err := a.uploads.put(upload{userID: v.ID, campaignID: cp.ID, orgID: cp.OrganisationID, name: fh.Filename}, fh.Size, src)
	if errors.Is(err, errUploadsFull) {
		return a.renderParticipants(c, http.StatusTooManyRequests, cp, 1, participantsData{FileError: &survey.ImportProblem{Code: "admin.participants.uploads_full"}})
	}
	if err != nil {
		return err
	}
	p, err := a.parseUpload(c, cp, id)
	var prob survey.ImportProblem
	if errors.As(err, &prob) {
		a.uploads.remove(id)
		return a.renderParticipants(c, http.StatusUnprocessableEntity, cp, 1, participantsData{FileError: &prob})
	}
	if err != nil {
		a.uploads.remove(id)
		return err
	}
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
	return survey.ParseParticipantData(data, m, units, existing)
}

// parseUpload parses a stored file; survey.ErrNotFound when it is gone.
func (a *App) parseUpload(c echo.Context, cp *survey.Campaign, id string) (*survey.ImportPreview, error) {
	f, ok := a.uploads.open(id, viewerOf(c).ID, cp.ID)
	if !ok {
		return nil, survey.ErrNotFound
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	data := make([]byte, st.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, err
	}
	return a.parseParticipants(c, cp, data)
}

// participantsImport saves a previewed file. It parses the file again: the
// campaign may have changed since the preview.
func (a *App) participantsImport(c echo.Context) error {
	cp, err := a.campaignOf(c)
	if err != nil {
		return err
	}
	id := c.FormValue("upload")
	p, err := a.parseUpload(c, cp, id)
	if errors.Is(err, survey.ErrNotFound) {
		return a.renderParticipants(c, http.StatusGone, cp, 1, participantsData{FileError: &survey.ImportProblem{Code: "admin.participants.expired"}})
	}
	if err != nil {
		return err
	}
	res, err := survey.ImportParticipants(c.Request().Context(), a.db, a.cfg.Secret, cp, p, c.FormValue("create_units") == "on", viewerOf(c).User)
	if err != nil {
		return err
	}
	a.uploads.remove(id)
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
	if !confirmed(c) {
		var n int64
		if err := a.db.Read.WithContext(c.Request().Context()).Model(&survey.Participant{}).Where("id = ? AND campaign_id = ?", pid, cp.ID).Count(&n).Error; err != nil || n == 0 {
			return cmp.Or[error](err, echo.ErrNotFound)
		}
		return askFirst(c, "")
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

// spoolUploads parses a participant file upload before anything else reads
// the form (the CSRF check does), keeping at most 1 MiB in memory: the file
// itself goes to a temporary file, which net/http removes after the request.
// The default would hold up to 32 MiB per upload in memory.
func spoolUploads(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Method == http.MethodPost && isUpload(c) && strings.HasPrefix(r.Header.Get(echo.HeaderContentType), echo.MIMEMultipartForm) {
			r.Body = http.MaxBytesReader(c.Response(), r.Body, maxUpload) // as uploadLimit, which runs later
			if err := r.ParseMultipartForm(1 << 20); err != nil {
				if errors.As(err, new(*http.MaxBytesError)) {
					return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
				}
				return echo.NewHTTPError(http.StatusBadRequest)
			}
		}
		return next(c)
	}
}
