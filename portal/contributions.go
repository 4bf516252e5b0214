package portal

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"gorm.io/gorm"

	"tiltline/survey"
)

// Shared best practice: signed-in users propose a case for a sub-section; a
// platform admin publishes or rejects it; published cases show under the
// page and in search. Cases are other people's Markdown: rendered without
// raw HTML and then sanitised, with links marked nofollow ugc.

// Contribution statuses.
const (
	CasePending   = "pending"
	CasePublished = "published"
	CaseRejected  = "rejected"
)

// Contribution is a proposed case. The organisation it names is the
// author's own from their account, never typed: a free-text field let
// anyone publish a case in another company's name.
type Contribution struct {
	ID             int64
	AuthorID       *int64
	Subsection     string
	Locale         string
	Title          string
	Body           string
	OrganisationID *int64 // nil: shared anonymously
	OrgName        string `gorm:"->"` // the organisation's current name, read with the case
	Status         string
	ModeratorID    *int64
	RejectReason   string
	CreatedAt      time.Time
}

// CaseInput is the proposal form. NameOrg asks to show the author's
// organisation with the case; which organisation is not the form's to say.
type CaseInput struct {
	Subsection, Locale, Title, Body string
	NameOrg                         bool
}

const (
	maxCaseTitle = 160
	maxCaseBody  = 20000
	minCaseBody  = 200
)

// Validate returns the fields to fix, as message ids.
func (in *CaseInput) Validate(m *survey.Model) survey.FieldErrors {
	fe := survey.FieldErrors{}
	in.Title = strings.Join(strings.Fields(in.Title), " ")
	in.Body = strings.TrimSpace(strings.ReplaceAll(in.Body, "\r\n", "\n"))
	if _, ok := m.Subsection(in.Subsection); !ok {
		fe["subsection"] = "form.error.choice"
	}
	if in.Title == "" || len(in.Title) > maxCaseTitle {
		fe["title"] = "learn.case.error.title"
	}
	if n := len([]rune(in.Body)); n < minCaseBody || n > maxCaseBody {
		fe["body"] = "learn.case.error.body"
	}
	if len(fe) == 0 {
		return nil
	}
	return fe
}

// Propose stores a case for moderation, naming the author's organisation
// from their account when they ask for it (and have one).
func Propose(ctx context.Context, db *survey.DB, m *survey.Model, authorID int64, in CaseInput) (*Contribution, error) {
	if fe := in.Validate(m); fe != nil {
		return nil, fe
	}
	c := &Contribution{AuthorID: &authorID, Subsection: in.Subsection, Locale: in.Locale, Title: in.Title, Body: in.Body, Status: CasePending}
	if in.NameOrg {
		var author survey.User
		if err := db.Write.WithContext(ctx).Select("organisation_id").First(&author, authorID).Error; err != nil {
			return nil, err
		}
		c.OrganisationID = author.OrganisationID
	}
	return c, db.Write.WithContext(ctx).Create(c).Error
}

// cases reads contributions with their organisation's current name.
func cases(ctx context.Context, db *survey.DB) *gorm.DB {
	return db.Read.WithContext(ctx).Model(&Contribution{}).
		Select("contributions.*, COALESCE(organisations.name, '') AS org_name").
		Joins("LEFT JOIN organisations ON organisations.id = contributions.organisation_id")
}

// PendingCases lists what awaits moderation, oldest first.
func PendingCases(ctx context.Context, db *survey.DB) ([]Contribution, error) {
	var cs []Contribution
	return cs, cases(ctx, db).Where("contributions.status = ?", CasePending).Order("contributions.id").Find(&cs).Error
}

// PublishedCases lists the cases shown under a page, newest first.
func PublishedCases(ctx context.Context, db *survey.DB, subsection, locale string) ([]Contribution, error) {
	var cs []Contribution
	return cs, cases(ctx, db).Where("contributions.status = ? AND contributions.subsection = ? AND contributions.locale = ?", CasePublished, subsection, locale).
		Order("contributions.id DESC").Find(&cs).Error
}

// ErrAlreadyModerated is a decision on a case that is no longer pending.
var ErrAlreadyModerated = errors.New("case already moderated")

// Moderate publishes a case (indexing it for search) or rejects it with a reason.
func Moderate(ctx context.Context, db *survey.DB, id, moderatorID int64, publish bool, reason string) error {
	reason = strings.TrimSpace(reason)
	if !publish && reason == "" {
		return survey.FieldErrors{"reason": "learn.case.error.reason"}
	}
	return db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var c Contribution
		if err := tx.First(&c, id).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return survey.ErrNotFound
			}
			return err
		}
		if c.Status != CasePending {
			return ErrAlreadyModerated
		}
		status := CaseRejected
		if publish {
			status = CasePublished
		}
		if err := tx.Model(&c).Updates(map[string]any{"status": status, "moderator_id": moderatorID, "reject_reason": reason}).Error; err != nil {
			return err
		}
		if !publish {
			return nil
		}
		return insertDoc(tx, db.Dialect, searchDoc{"case", c.Subsection + "#case-" + strconv.FormatInt(c.ID, 10), c.Locale, c.Title, plainText([]byte(c.Body))})
	})
}

// caseMarkdown renders contributions: no raw HTML reaches the output.
var caseMarkdown = goldmark.New(goldmark.WithExtensions(extension.Linkify, extension.Table))

// casePolicy allows the formatting Markdown produces and nothing active:
// no scripts, no event handlers, no javascript: links.
var casePolicy = bluemonday.UGCPolicy().RequireNoFollowOnLinks(true).RequireParseableURLs(true).AllowURLSchemes("http", "https", "mailto")

// RenderCase turns a contribution's Markdown into safe HTML.
func RenderCase(md string) template.HTML {
	var buf bytes.Buffer
	if err := caseMarkdown.Convert([]byte(md), &buf); err != nil {
		return template.HTML(template.HTMLEscapeString(md))
	}
	safe := casePolicy.SanitizeBytes(buf.Bytes())
	return template.HTML(bytes.ReplaceAll(safe, []byte(`rel="nofollow"`), []byte(`rel="nofollow ugc"`)))
}
