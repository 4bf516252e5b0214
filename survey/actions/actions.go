// Package actions closes the loop of an assessment: what an organisation
// decided to do about its results (an action: owner, due date, status, the
// practices it addresses, its scope), the conversation about it, its audit,
// reminders to owners, targets for the next wave, and whether the next wave
// moved (effect.go).
//
// Actions are managers' words, not respondents': they are not anonymous,
// and nothing here reads or writes a response. The rules of who may see and
// change an action live in this file, so pages, API and exports apply the
// same ones.
package actions

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"tiltline/survey"
)

// Statuses of an action.
const (
	Planned    = "planned"
	InProgress = "in_progress"
	Done       = "done"
	Dropped    = "dropped"
)

// Statuses lists them in the order of a board.
var Statuses = []string{Planned, InProgress, Done, Dropped}

// next is every status change allowed: work starts, ends or is dropped;
// a done action can be reopened and a dropped one revived.
var next = map[string][]string{
	Planned:    {InProgress, Done, Dropped},
	InProgress: {Planned, Done, Dropped},
	Done:       {InProgress},
	Dropped:    {Planned},
}

// CanMove says whether an action may go from one status to another;
// staying is always allowed.
func CanMove(from, to string) bool { return from == to || slices.Contains(next[from], to) }

// Limits of what an action holds.
const (
	maxTitle     = 200
	maxBody      = 20000
	maxComment   = 5000
	maxPractices = 20
)

// Errors the server maps to pages and JSON.
var (
	// ErrNotFound: no such action, or not one the actor may see (the two
	// are not told apart).
	ErrNotFound = survey.ErrNotFound
	// ErrForbidden: the actor sees the action but may not do this to it.
	ErrForbidden = errors.New("not allowed for this action")
)

// Action is one row of actions with its practices and units.
type Action struct {
	ID             int64
	OrganisationID int64
	CampaignID     *int64
	ReleaseSeq     int
	Title          string
	Body           string
	OwnerID        *int64
	DueOn          time.Time
	Status         string
	WholeOrg       bool
	CreatedBy      *int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
	DoneAt         *time.Time
	LastRemindedAt *time.Time
	DeletedAt      *time.Time
	DeletedBy      *int64

	Practices []string `gorm:"-"`
	Units     []int64  `gorm:"-"`
	// OwnerName and OwnerEmail are filled by loads, for pages and exports.
	OwnerName  string `gorm:"-"`
	OwnerEmail string `gorm:"-"`
}

// Overdue says whether the action is still open after its due day.
func (a *Action) Overdue(now time.Time) bool {
	return (a.Status == Planned || a.Status == InProgress) && now.After(a.DueOn.AddDate(0, 0, 1))
}

// Open is planned or in progress.
func (a *Action) Open() bool { return a.Status == Planned || a.Status == InProgress }

type actionPractice struct {
	ActionID   int64
	PracticeID string
}

type actionUnit struct {
	ActionID int64
	UnitID   int64
}

// Comment is a manager's note on an action, with its author.
type Comment struct {
	ID         int64
	ActionID   int64
	AuthorID   *int64
	AuthorName string
	Body       string
	CreatedAt  time.Time
}

func (Comment) TableName() string { return "action_comments" }

// AuditEntry is one line of an action's audit.
type AuditEntry struct {
	ID       int64
	ActionID int64
	UserID   *int64
	UserName string
	Event    string // created, changed, deleted
	Detail   string // the changed fields, comma-separated ("status=done,owner")
	At       time.Time
}

func (AuditEntry) TableName() string { return "action_audit" }

// Fields names the changed fields ("status", "owner", …).
func (e AuditEntry) Fields() []string {
	if e.Detail == "" {
		return nil
	}
	fs := strings.Split(e.Detail, ",")
	for i, f := range fs {
		fs[i], _, _ = strings.Cut(f, "=")
	}
	return fs
}

// NewStatus is the status a change moved the action to, "" for none.
func (e AuditEntry) NewStatus() string {
	for _, f := range strings.Split(e.Detail, ",") {
		if s, ok := strings.CutPrefix(f, "status="); ok {
			return s
		}
	}
	return ""
}

// Actor is who acts, with the limits the results pages give them.
type Actor struct {
	UserID int64
	Name   string // for comments and the audit: the account's name or address
	OrgID  int64
	Role   string
	// Limited: a manager who reads only Units (none left: nothing).
	Limited bool
	Units   []int64
}

// Admin: org admins and platform admins managing the organisation.
func (a Actor) Admin() bool {
	return a.Role == survey.RoleOrgAdmin || a.Role == survey.RolePlatformAdmin
}

// Planner may create actions: admins and managers.
func (a Actor) Planner() bool { return a.Admin() || a.Role == survey.RoleManager }

// Sees says whether the actor may read the action: its owner always; a
// planner reading the whole organisation always; a limited manager when
// the action is scoped to one of their units (an organisation-wide action
// is about results they cannot read, so they do not see it).
func (a Actor) Sees(x *Action) bool {
	if x.OrganisationID != a.OrgID || x.DeletedAt != nil {
		return false
	}
	if x.OwnerID != nil && *x.OwnerID == a.UserID {
		return true
	}
	if !a.Planner() {
		return false
	}
	if !a.Limited {
		return true
	}
	return !x.WholeOrg && slices.ContainsFunc(x.Units, func(u int64) bool { return slices.Contains(a.Units, u) })
}

// Edits says whether the actor may change everything of the action and
// delete it: a planner whose limits hold its whole scope.
func (a Actor) Edits(x *Action) bool {
	if !a.Sees(x) || !a.Planner() {
		return false
	}
	return a.withinLimits(x.WholeOrg, x.Units)
}

// SetsStatus: whoever edits it, and its owner.
func (a Actor) SetsStatus(x *Action) bool {
	return a.Edits(x) || a.Sees(x) && x.OwnerID != nil && *x.OwnerID == a.UserID
}

// Audits: org admins read who did what.
func (a Actor) Audits(x *Action) bool { return a.Admin() && x.OrganisationID == a.OrgID }

func (a Actor) withinLimits(wholeOrg bool, units []int64) bool {
	if !a.Limited {
		return true
	}
	if wholeOrg || len(units) == 0 {
		return false
	}
	for _, u := range units {
		if !slices.Contains(a.Units, u) {
			return false
		}
	}
	return true
}

// Input is the action form (pages and API alike).
type Input struct {
	Title, Body string
	OwnerID     int64
	DueOn       time.Time // a day; zero is missing
	Status      string
	Practices   []string
	WholeOrg    bool
	Units       []int64
	// CampaignID: the wave the action answers; only read when creating.
	CampaignID int64
}

// InputOf fills a form from an action.
func InputOf(x *Action) Input {
	in := Input{Title: x.Title, Body: x.Body, DueOn: x.DueOn, Status: x.Status, Practices: slices.Clone(x.Practices),
		WholeOrg: x.WholeOrg, Units: slices.Clone(x.Units)}
	if x.OwnerID != nil {
		in.OwnerID = *x.OwnerID
	}
	if x.CampaignID != nil {
		in.CampaignID = *x.CampaignID
	}
	return in
}

// validate checks what needs no database: the fields, the practices against
// the model, and that the scope is within the actor's limits.
func (in *Input) validate(a Actor, m *survey.Model) survey.FieldErrors {
	fe := survey.FieldErrors{}
	in.Title = strings.TrimSpace(in.Title)
	in.Body = strings.TrimSpace(in.Body)
	if in.Title == "" || utf8.RuneCountInString(in.Title) > maxTitle || !survey.OneLine(in.Title) {
		fe["title"] = "actions.error.title"
	}
	if utf8.RuneCountInString(in.Body) > maxBody {
		fe["body"] = "actions.error.body"
	}
	if in.OwnerID == 0 {
		fe["owner"] = "actions.error.owner"
	}
	if in.DueOn.IsZero() || in.DueOn.Year() < 2000 || in.DueOn.Year() > 2100 {
		fe["due_on"] = "actions.error.due"
	}
	if in.Status == "" {
		in.Status = Planned
	}
	if !slices.Contains(Statuses, in.Status) {
		fe["status"] = "form.error.choice"
	}
	slices.Sort(in.Practices)
	in.Practices = slices.Compact(in.Practices)
	if len(in.Practices) == 0 || len(in.Practices) > maxPractices {
		fe["practices"] = "actions.error.practices"
	}
	for _, p := range in.Practices {
		if _, ok := m.Practice(p); !ok {
			fe["practices"] = "actions.error.practices"
		}
	}
	slices.Sort(in.Units)
	in.Units = slices.Compact(in.Units)
	if in.WholeOrg {
		in.Units = nil
	} else if len(in.Units) == 0 {
		fe["scope"] = "actions.error.scope"
	}
	if _, ok := fe["scope"]; !ok && !a.withinLimits(in.WholeOrg, in.Units) {
		fe["scope"] = "actions.error.scope_limit"
	}
	if len(fe) == 0 {
		return nil
	}
	return fe
}

// check adds what needs the database: the owner is an account of the
// organisation, the units are the organisation's, the campaign too.
func (in *Input) check(tx *gorm.DB, orgID int64, fe survey.FieldErrors, creating bool) survey.FieldErrors {
	if fe == nil {
		fe = survey.FieldErrors{}
	}
	if in.OwnerID != 0 {
		var n int64
		if err := tx.Model(&survey.User{}).Where("id = ? AND organisation_id = ?", in.OwnerID, orgID).Count(&n).Error; err != nil || n == 0 {
			fe["owner"] = "actions.error.owner"
		}
	}
	if len(in.Units) > 0 {
		var n int64
		if err := tx.Model(&survey.BusinessUnit{}).Where("organisation_id = ? AND id IN ?", orgID, in.Units).Count(&n).Error; err != nil || n != int64(len(in.Units)) {
			fe["scope"] = "actions.error.scope"
		}
	}
	if creating && in.CampaignID != 0 {
		var n int64
		if err := tx.Model(&survey.Campaign{}).Where("id = ? AND organisation_id = ?", in.CampaignID, orgID).Count(&n).Error; err != nil || n == 0 {
			fe["campaign"] = "form.error.choice"
		}
	}
	if len(fe) == 0 {
		return nil
	}
	return fe
}

// Create stores a new action for the actor's organisation, with its first
// audit line. The wave's current release is recorded with it.
func Create(ctx context.Context, db *survey.DB, a Actor, m *survey.Model, in Input, now time.Time) (*Action, error) {
	if !a.Planner() || a.OrgID == 0 {
		return nil, ErrForbidden
	}
	fe := in.validate(a, m)
	if !in.DueOn.IsZero() && in.DueOn.Before(day(now)) {
		if fe == nil {
			fe = survey.FieldErrors{}
		}
		fe["due_on"] = "actions.error.due_past"
	}
	if fe = in.check(db.Read.WithContext(ctx), a.OrgID, fe, true); fe != nil {
		return nil, fe
	}
	x := &Action{OrganisationID: a.OrgID, Title: in.Title, Body: in.Body, OwnerID: &in.OwnerID, DueOn: day(in.DueOn),
		Status: in.Status, WholeOrg: in.WholeOrg, CreatedBy: &a.UserID, CreatedAt: now.UTC(), UpdatedAt: now.UTC(),
		Practices: in.Practices, Units: in.Units}
	if in.CampaignID != 0 {
		x.CampaignID = &in.CampaignID
		seq, err := survey.CurrentReleaseSeq(ctx, db, in.CampaignID)
		if err != nil {
			return nil, err
		}
		x.ReleaseSeq = seq
	}
	if x.Status == Done {
		t := now.UTC()
		x.DoneAt = &t
	}
	err := db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(x).Error; err != nil {
			return err
		}
		if err := saveLinks(tx, x); err != nil {
			return err
		}
		if err := queueAssigned(tx, x, a, now); err != nil {
			return err
		}
		return audit(tx, x.ID, a, "created", "", now)
	})
	if err != nil {
		return nil, err
	}
	return x, nil
}

// Update changes an action. A planner within its scope changes everything;
// its owner only the status. Changed fields go to the audit.
func Update(ctx context.Context, db *survey.DB, a Actor, m *survey.Model, id int64, in Input, now time.Time) (*Action, error) {
	x, err := Get(ctx, db, a, id)
	if err != nil {
		return nil, err
	}
	if !a.Edits(x) {
		if !a.SetsStatus(x) {
			return nil, ErrForbidden
		}
		// The owner's form may carry the rest unchanged; anything else is refused.
		keep := InputOf(x)
		keep.Status = in.Status
		if !sameInput(keep, in) {
			return nil, ErrForbidden
		}
	}
	fe := in.validate(a, m)
	if a.SetsStatus(x) && !a.Edits(x) {
		delete(fe, "scope") // the owner keeps the scope they were given
		if len(fe) == 0 {
			fe = nil
		}
	}
	if in.Status != "" && !CanMove(x.Status, in.Status) {
		if fe == nil {
			fe = survey.FieldErrors{}
		}
		fe["status"] = "actions.error.status"
	}
	if fe = in.check(db.Read.WithContext(ctx), a.OrgID, fe, false); fe != nil {
		return nil, fe
	}
	var changed []string
	if x.Title != in.Title {
		changed = append(changed, "title")
	}
	if x.Body != in.Body {
		changed = append(changed, "body")
	}
	if x.OwnerID == nil || *x.OwnerID != in.OwnerID {
		changed = append(changed, "owner")
	}
	if !x.DueOn.Equal(day(in.DueOn)) {
		changed = append(changed, "due_on")
	}
	if x.Status != in.Status {
		changed = append(changed, "status="+in.Status)
	}
	if !slices.Equal(x.Practices, in.Practices) {
		changed = append(changed, "practices")
	}
	if x.WholeOrg != in.WholeOrg || !slices.Equal(x.Units, in.Units) {
		changed = append(changed, "scope")
	}
	if len(changed) == 0 {
		return x, nil
	}
	ownerChanged := slices.Contains(changed, "owner")
	if x.Status != in.Status {
		if in.Status == Done {
			t := now.UTC()
			x.DoneAt = &t
		} else {
			x.DoneAt = nil
		}
	}
	x.Title, x.Body, x.OwnerID, x.DueOn, x.Status = in.Title, in.Body, &in.OwnerID, day(in.DueOn), in.Status
	x.Practices, x.WholeOrg, x.Units, x.UpdatedAt = in.Practices, in.WholeOrg, in.Units, now.UTC()
	if ownerChanged || slices.Contains(changed, "due_on") {
		x.LastRemindedAt = nil // a new owner or date: reminders start afresh
	}
	err = db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Select("title", "body", "owner_id", "due_on", "status", "whole_org", "updated_at", "done_at", "last_reminded_at").Save(x).Error; err != nil {
			return err
		}
		if err := tx.Where("action_id = ?", x.ID).Delete(&actionPractice{}).Error; err != nil {
			return err
		}
		if err := tx.Where("action_id = ?", x.ID).Delete(&actionUnit{}).Error; err != nil {
			return err
		}
		if err := saveLinks(tx, x); err != nil {
			return err
		}
		if ownerChanged {
			if err := queueAssigned(tx, x, a, now); err != nil {
				return err
			}
		}
		return audit(tx, x.ID, a, "changed", strings.Join(changed, ","), now)
	})
	if err != nil {
		return nil, err
	}
	return x, fillOwners(ctx, db, []*Action{x})
}

func sameInput(a, b Input) bool {
	return a.Title == strings.TrimSpace(b.Title) && a.Body == strings.TrimSpace(b.Body) && a.OwnerID == b.OwnerID &&
		day(a.DueOn).Equal(day(b.DueOn)) && a.Status == b.Status && slices.Equal(a.Practices, sortedUnique(b.Practices)) &&
		a.WholeOrg == b.WholeOrg && (a.WholeOrg || slices.Equal(a.Units, sortedUnique(b.Units)))
}

func sortedUnique[T string | int64](xs []T) []T {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return slices.Compact(xs)
}

// Delete marks an action deleted; it and its audit stay for org admins.
func Delete(ctx context.Context, db *survey.DB, a Actor, id int64, now time.Time) error {
	x, err := Get(ctx, db, a, id)
	if err != nil {
		return err
	}
	if !a.Edits(x) {
		return ErrForbidden
	}
	return db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&Action{}).Where("id = ?", id).Updates(map[string]any{"deleted_at": now.UTC(), "deleted_by": a.UserID}).Error; err != nil {
			return err
		}
		// Waiting reminders about it go with it.
		if err := tx.Exec(`DELETE FROM outbox WHERE action_id = ? AND sent_at IS NULL`, id).Error; err != nil {
			return err
		}
		return audit(tx, id, a, "deleted", "", now)
	})
}

func saveLinks(tx *gorm.DB, x *Action) error {
	ps := make([]actionPractice, len(x.Practices))
	for i, p := range x.Practices {
		ps[i] = actionPractice{ActionID: x.ID, PracticeID: p}
	}
	if len(ps) > 0 {
		if err := tx.Create(&ps).Error; err != nil {
			return err
		}
	}
	us := make([]actionUnit, len(x.Units))
	for i, u := range x.Units {
		us[i] = actionUnit{ActionID: x.ID, UnitID: u}
	}
	if len(us) > 0 {
		return tx.Create(&us).Error
	}
	return nil
}

func audit(tx *gorm.DB, actionID int64, a Actor, event, detail string, now time.Time) error {
	uid := &a.UserID
	if a.UserID == 0 {
		uid = nil
	}
	return tx.Create(&AuditEntry{ActionID: actionID, UserID: uid, UserName: a.Name, Event: event, Detail: detail, At: now.UTC()}).Error
}

// day is the calendar day of t, at midnight UTC: due dates are days.
func day(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// Get loads an action the actor may see.
func Get(ctx context.Context, db *survey.DB, a Actor, id int64) (*Action, error) {
	var x Action
	err := db.Read.WithContext(ctx).Where("id = ? AND organisation_id = ? AND deleted_at IS NULL", id, a.OrgID).First(&x).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := loadLinks(ctx, db, []*Action{&x}); err != nil {
		return nil, err
	}
	if !a.Sees(&x) {
		return nil, ErrNotFound
	}
	return &x, fillOwners(ctx, db, []*Action{&x})
}

func loadLinks(ctx context.Context, db *survey.DB, xs []*Action) error {
	if len(xs) == 0 {
		return nil
	}
	ids := make([]int64, len(xs))
	byID := make(map[int64]*Action, len(xs))
	for i, x := range xs {
		ids[i] = x.ID
		byID[x.ID] = x
		x.Practices, x.Units = nil, nil
	}
	for chunk := range slices.Chunk(ids, 500) {
		var ps []actionPractice
		if err := db.Read.WithContext(ctx).Where("action_id IN ?", chunk).Order("practice_id").Find(&ps).Error; err != nil {
			return err
		}
		for _, p := range ps {
			byID[p.ActionID].Practices = append(byID[p.ActionID].Practices, p.PracticeID)
		}
		var us []actionUnit
		if err := db.Read.WithContext(ctx).Where("action_id IN ?", chunk).Order("unit_id").Find(&us).Error; err != nil {
			return err
		}
		for _, u := range us {
			byID[u.ActionID].Units = append(byID[u.ActionID].Units, u.UnitID)
		}
	}
	return nil
}

func fillOwners(ctx context.Context, db *survey.DB, xs []*Action) error {
	var ids []int64
	for _, x := range xs {
		if x.OwnerID != nil {
			ids = append(ids, *x.OwnerID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var us []survey.User
	if err := db.Read.WithContext(ctx).Select("id", "email", "name").Where("id IN ?", sortedUnique(ids)).Find(&us).Error; err != nil {
		return err
	}
	for _, x := range xs {
		for _, u := range us {
			if x.OwnerID != nil && *x.OwnerID == u.ID {
				x.OwnerName, x.OwnerEmail = u.Name, u.Email
			}
		}
	}
	return nil
}

// Filter narrows a list of actions.
type Filter struct {
	CampaignID int64
	UnitID     int64
	OwnerID    int64
	Status     string // one status, or "open" for planned and in progress
	Section    string // a section id ("AP")
	Practice   string
}

// List returns the actions the actor sees, by due date (soonest first).
func List(ctx context.Context, db *survey.DB, a Actor, f Filter) ([]*Action, error) {
	q := db.Read.WithContext(ctx).Model(&Action{}).Where("organisation_id = ? AND deleted_at IS NULL", a.OrgID)
	switch {
	case !a.Planner():
		q = q.Where("owner_id = ?", a.UserID)
	case a.Limited:
		units := a.Units
		if len(units) == 0 {
			units = []int64{-1}
		}
		q = q.Where("owner_id = ? OR (whole_org = ? AND EXISTS (SELECT 1 FROM action_units au WHERE au.action_id = actions.id AND au.unit_id IN ?))", a.UserID, false, units)
	}
	if f.CampaignID != 0 {
		q = q.Where("campaign_id = ?", f.CampaignID)
	}
	if f.UnitID != 0 {
		q = q.Where("EXISTS (SELECT 1 FROM action_units au WHERE au.action_id = actions.id AND au.unit_id = ?)", f.UnitID)
	}
	if f.OwnerID != 0 {
		q = q.Where("owner_id = ?", f.OwnerID)
	}
	switch {
	case f.Status == "open":
		q = q.Where("status IN ?", []string{Planned, InProgress})
	case f.Status != "":
		q = q.Where("status = ?", f.Status)
	}
	if f.Practice != "" {
		q = q.Where("EXISTS (SELECT 1 FROM action_practices ap WHERE ap.action_id = actions.id AND ap.practice_id = ?)", f.Practice)
	}
	if f.Section != "" {
		q = q.Where("EXISTS (SELECT 1 FROM action_practices ap WHERE ap.action_id = actions.id AND ap.practice_id LIKE ?)", f.Section+"-%")
	}
	var rows []Action
	if err := q.Order("due_on, id").Find(&rows).Error; err != nil {
		return nil, err
	}
	xs := make([]*Action, len(rows))
	for i := range rows {
		xs[i] = &rows[i]
	}
	if err := loadLinks(ctx, db, xs); err != nil {
		return nil, err
	}
	// The SQL applied the same rule; Sees is the one that counts.
	out := xs[:0]
	for _, x := range xs {
		if a.Sees(x) {
			out = append(out, x)
		}
	}
	return out, fillOwners(ctx, db, out)
}

// Deleted lists the organisation's deleted actions, for org admins' audit.
func Deleted(ctx context.Context, db *survey.DB, a Actor) ([]*Action, error) {
	if !a.Admin() {
		return nil, ErrForbidden
	}
	var rows []Action
	if err := db.Read.WithContext(ctx).Where("organisation_id = ? AND deleted_at IS NOT NULL", a.OrgID).Order("deleted_at DESC").Limit(200).Find(&rows).Error; err != nil {
		return nil, err
	}
	xs := make([]*Action, len(rows))
	for i := range rows {
		xs[i] = &rows[i]
	}
	return xs, loadLinks(ctx, db, xs)
}

// Comments lists an action's comments, oldest first.
func Comments(ctx context.Context, db *survey.DB, a Actor, id int64) ([]Comment, error) {
	if _, err := Get(ctx, db, a, id); err != nil {
		return nil, err
	}
	var cs []Comment
	return cs, db.Read.WithContext(ctx).Where("action_id = ?", id).Order("id").Find(&cs).Error
}

// AddComment adds a note to an action anyone who sees it may write.
func AddComment(ctx context.Context, db *survey.DB, a Actor, id int64, body string, now time.Time) (*Comment, error) {
	if _, err := Get(ctx, db, a, id); err != nil {
		return nil, err
	}
	body = strings.TrimSpace(body)
	if body == "" || utf8.RuneCountInString(body) > maxComment {
		return nil, survey.FieldErrors{"comment": "actions.error.comment"}
	}
	uid := a.UserID
	c := &Comment{ActionID: id, AuthorID: &uid, AuthorName: a.Name, Body: body, CreatedAt: now.UTC()}
	return c, db.Write.WithContext(ctx).Create(c).Error
}

// Audit lists who created, changed or deleted the action, oldest first:
// org admins only, also for a deleted action.
func Audit(ctx context.Context, db *survey.DB, a Actor, id int64) ([]AuditEntry, error) {
	var x Action
	if err := db.Read.WithContext(ctx).Where("id = ? AND organisation_id = ?", id, a.OrgID).First(&x).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	if !a.Audits(&x) {
		return nil, ErrNotFound // as for a page of another role: not confirmed
	}
	var es []AuditEntry
	return es, db.Read.WithContext(ctx).Where("action_id = ?", id).Order("id").Find(&es).Error
}

// Count is how many actions address a practice, and how many are done.
type Count struct{ Total, Done int }

// Counts maps each practice to the actions on it (dropped ones left out):
// the "2 actions, 1 done" next to a practice.
func Counts(xs []*Action) map[string]Count {
	out := map[string]Count{}
	for _, x := range xs {
		if x.Status == Dropped {
			continue
		}
		for _, p := range x.Practices {
			c := out[p]
			c.Total++
			if x.Status == Done {
				c.Done++
			}
			out[p] = c
		}
	}
	return out
}

// Version changes whenever an action of the organisation does: a cache key
// part for pages that show actions.
func Version(ctx context.Context, db *survey.DB, orgID int64) (string, error) {
	var row struct {
		N    int64
		Last *string
	}
	err := db.Read.WithContext(ctx).Model(&Action{}).Select("count(*) AS n, max(updated_at) AS last").
		Where("organisation_id = ? AND deleted_at IS NULL", orgID).Scan(&row).Error
	if err != nil || row.Last == nil {
		return strconv.FormatInt(row.N, 10), err
	}
	return strconv.FormatInt(row.N, 10) + "@" + *row.Last, nil
}

// SetStatus moves an action to a status: what its owner may do.
func SetStatus(ctx context.Context, db *survey.DB, a Actor, m *survey.Model, id int64, status string, now time.Time) (*Action, error) {
	x, err := Get(ctx, db, a, id)
	if err != nil {
		return nil, err
	}
	in := InputOf(x)
	in.Status = status
	return Update(ctx, db, a, m, id, in, now)
}

// Members lists the accounts of the organisation an action can be given to.
func Members(ctx context.Context, db *survey.DB, orgID int64) ([]survey.User, error) {
	var us []survey.User
	return us, db.Read.WithContext(ctx).Select("id", "email", "name", "role", "locale").
		Where("organisation_id = ?", orgID).Order("name, email").Find(&us).Error
}

// ByID loads an action whoever asks, deleted or not: for the mail worker,
// which decides for itself whether a mail about it still makes sense.
func ByID(ctx context.Context, db *survey.DB, id int64) (*Action, error) {
	var x Action
	err := db.Read.WithContext(ctx).First(&x, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := loadLinks(ctx, db, []*Action{&x}); err != nil {
		return nil, err
	}
	return &x, fillOwners(ctx, db, []*Action{&x})
}
