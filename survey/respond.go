package survey

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Respondent is a person answering a campaign, known only by a link token (an
// invitation) or a cookie token (an open-link campaign). Invitation and
// Participant are nil for open links.
type Respondent struct {
	Campaign    *Campaign
	Invitation  *Invitation
	Participant *Participant
	DraftKey    string
}

// Domain errors of the respondent flow.
var (
	ErrAlreadySubmitted = errors.New("already submitted")
	ErrCampaignClosed   = errors.New("campaign closed")
	ErrCampaignNotOpen  = errors.New("campaign not open yet")
	ErrNoDraft          = errors.New("survey not started")
	ErrInvalidProfile   = errors.New("invalid profile")
)

// Answerable says whether the campaign takes answers now.
func (c *Campaign) Answerable(now time.Time) error {
	switch {
	case c.Status == StatusClosed || c.ClosesAt != nil && now.After(*c.ClosesAt):
		return ErrCampaignClosed
	case c.Status == StatusDraft || c.OpensAt != nil && now.Before(*c.OpensAt):
		return ErrCampaignNotOpen
	}
	return nil
}

// ResolveInvitation finds the respondent behind a link token.
func ResolveInvitation(ctx context.Context, db *DB, secret []byte, token string) (*Respondent, error) {
	inv, c, err := FindInvitation(ctx, db, token)
	if err != nil {
		return nil, err
	}
	r := &Respondent{Campaign: c, Invitation: inv, DraftKey: DraftKey(secret, token)}
	if inv.Status == InviteCompleted {
		return r, ErrAlreadySubmitted
	}
	var p Participant
	if err := db.Read.WithContext(ctx).First(&p, inv.ParticipantID).Error; err != nil {
		return nil, err
	}
	r.Participant = &p
	return r, nil
}

// Profile is what a response carries besides its answers.
type Profile struct {
	UnitID    *int64
	Role      string
	Seniority string
	Locale    string
}

// Asks reports which profile fields the respondent must give themselves:
// those the campaign asks for, or the participant list left empty.
func (r *Respondent) Asks() (unit, role, seniority bool) {
	c, p := r.Campaign, r.Participant
	if p == nil {
		return true, true, true
	}
	return c.AskUnit || p.UnitID == nil, c.AskRole || p.Role == "", c.AskSeniority || p.Seniority == ""
}

// Prefilled is the profile known from the participant list.
func (r *Respondent) Prefilled() Profile {
	if r.Participant == nil {
		return Profile{}
	}
	p := r.Participant
	return Profile{UnitID: p.UnitID, Role: p.Role, Seniority: p.Seniority, Locale: p.Locale}
}

// Units lists the business units of the campaign's organisation.
func Units(ctx context.Context, db *DB, orgID int64) ([]BusinessUnit, error) {
	var us []BusinessUnit
	err := db.Read.WithContext(ctx).Where("organisation_id = ?", orgID).Order("name").Find(&us).Error
	return us, err
}

// FindOpenCampaign resolves the key of an open-link campaign URL.
func FindOpenCampaign(ctx context.Context, db *DB, key string) (*Campaign, error) {
	if !WellFormedToken(key) {
		return nil, ErrNotFound
	}
	var c Campaign
	err := db.Read.WithContext(ctx).Where("open_key = ? AND open_link", key).First(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &c, err
}

// NewOpenToken identifies an open-link respondent's browser.
func NewOpenToken() string { return randomString(32) }

// LoadDraft returns the respondent's draft, or ErrNoDraft. Every section
// page reads it, so it is a kept statement scanned by hand, not a GORM
// query: GORM's statement building and reflection were half its cost.
func LoadDraft(ctx context.Context, db *DB, key string) (*Draft, error) {
	st, err := db.readStmt(ctx, `SELECT campaign_id, answers, unit_id, role, seniority, locale, last_page, updated_at FROM drafts WHERE key = ?`)
	if err != nil {
		return nil, err
	}
	d := Draft{Key: key}
	err = st.QueryRowContext(ctx, key).Scan(&d.CampaignID, &d.Answers, &d.UnitID, &d.Role, &d.Seniority, &d.Locale, &d.LastPage, &d.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoDraft
	}
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// StartDraft creates the draft (or updates its profile when it exists), so
// that everything after the welcome page is resumable from the link alone.
// It marks a sent invitation opened: a count for the response-rate page.
func StartDraft(ctx context.Context, db *DB, m *Model, r *Respondent, prof Profile) (*Draft, error) {
	if err := r.Campaign.Answerable(time.Now()); err != nil {
		return nil, err
	}
	if prof.Role != "" && !m.HasRole(prof.Role) || prof.Seniority != "" && !m.HasSeniority(prof.Seniority) {
		return nil, ErrInvalidProfile
	}
	if prof.UnitID != nil {
		var n int64
		err := db.Read.WithContext(ctx).Model(&BusinessUnit{}).Where("id = ? AND organisation_id = ?", *prof.UnitID, r.Campaign.OrganisationID).Count(&n).Error
		if err != nil { // not the respondent's mistake: the database is away
			return nil, err
		}
		if n == 0 {
			return nil, ErrInvalidProfile
		}
	}
	d := &Draft{Key: r.DraftKey, CampaignID: r.Campaign.ID, Answers: make([]byte, m.AnswerSlots()),
		UnitID: prof.UnitID, Role: prof.Role, Seniority: prof.Seniority, Locale: prof.Locale}
	err := db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if r.Invitation != nil {
			// The caller's view of the invitation may be cached: a link
			// submitted elsewhere must not get a fresh draft.
			var inv Invitation
			if err := tx.Select("status").First(&inv, "id = ?", r.Invitation.ID).Error; err != nil {
				return err
			}
			if inv.Status == InviteCompleted {
				return ErrAlreadySubmitted
			}
		}
		if err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "key"}},
			DoUpdates: clause.AssignmentColumns([]string{"unit_id", "role", "seniority", "locale", "updated_at"}),
		}).Create(d).Error; err != nil {
			return err
		}
		if r.Invitation != nil {
			return tx.Model(&Invitation{}).Where("id = ? AND status IN ?", r.Invitation.ID, []string{InvitePending, InviteSent}).
				Update("status", InviteOpened).Error
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return LoadDraft(ctx, db, r.DraftKey)
}

// SetDraftLocale records the language the respondent now answers in.
func SetDraftLocale(ctx context.Context, db *DB, key, locale string) error {
	return db.Write.WithContext(ctx).Model(&Draft{}).Where("key = ?", key).Update("locale", locale).Error
}

// Submit turns the draft into a sealed pending response in one transaction:
// delete the draft, mark the invitation completed, store the response
// sealed under the secret (pending.go). The draft's deletion is the guard:
// of two concurrent submits only one finds it, so exactly one response is
// stored. Nothing enters responses here: a release moves pending responses
// there later, in another transaction and a shuffled order, so that no
// system column, storage order or id pairs a response with this
// transaction's invitation.
func Submit(ctx context.Context, db *DB, secret []byte, r *Respondent) error {
	return db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// The campaign is read inside the transaction: the caller's copy may be cached.
		var c Campaign
		if err := tx.First(&c, r.Campaign.ID).Error; err != nil {
			return err
		}
		if err := c.Answerable(time.Now()); err != nil {
			return err
		}
		var d Draft
		q := tx.Where("key = ?", r.DraftKey)
		if db.Dialect == "postgres" {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := q.First(&d).Error; err != nil {
			if !errors.Is(err, gorm.ErrRecordNotFound) {
				return err
			}
			// A concurrent submit may have just taken the draft.
			var inv Invitation
			if r.Invitation != nil && tx.First(&inv, "id = ?", r.Invitation.ID).Error == nil && inv.Status == InviteCompleted {
				return ErrAlreadySubmitted
			}
			return ErrNoDraft
		}
		del := tx.Where("key = ?", d.Key).Delete(&Draft{})
		if del.Error != nil {
			return del.Error
		}
		if del.RowsAffected != 1 {
			return ErrAlreadySubmitted
		}
		if r.Invitation != nil {
			up := tx.Model(&Invitation{}).Where("id = ? AND status <> ?", r.Invitation.ID, InviteCompleted).Update("status", InviteCompleted)
			if up.Error != nil {
				return up.Error
			}
			if up.RowsAffected != 1 {
				return ErrAlreadySubmitted
			}
		}
		_, err := SealPending(tx, secret, PendingResponse{
			CampaignID: d.CampaignID, UnitID: d.UnitID,
			Role: d.Role, Seniority: d.Seniority, Locale: d.Locale, Answers: d.Answers,
		})
		return err
	})
}
