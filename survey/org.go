package survey

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// Organisation settings the benchmark filters use; the lists are ours, short
// on purpose so benchmark groups stay large enough to show.
var (
	Sectors   = []string{"financial-services", "insurance", "retail", "telecoms", "utilities", "travel-and-leisure", "manufacturing", "public-sector", "healthcare", "technology", "other"}
	Regions   = []string{"europe", "north-america", "latin-america", "asia-pacific", "middle-east-africa"}
	SizeBands = []string{"1-249", "250-999", "1000-4999", "5000+"}
)

// FieldErrors maps a form field to the message id of what is wrong with it.
type FieldErrors map[string]string

func (fe FieldErrors) Error() string {
	keys := make([]string, 0, len(fe))
	for k, v := range fe {
		keys = append(keys, k+": "+v)
	}
	slices.Sort(keys)
	return "invalid input (" + strings.Join(keys, ", ") + ")"
}

// OrgInput is the organisation form.
type OrgInput struct {
	Name, Sector, Region, SizeBand string
	BenchmarkOptIn                 bool
}

// Validate returns the fields to fix, as message ids.
func (in *OrgInput) Validate() FieldErrors {
	fe := FieldErrors{}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 200 {
		fe["name"] = "form.error.required"
	}
	if in.Sector != "" && !slices.Contains(Sectors, in.Sector) {
		fe["sector"] = "form.error.choice"
	}
	if in.Region != "" && !slices.Contains(Regions, in.Region) {
		fe["region"] = "form.error.choice"
	}
	if in.SizeBand != "" && !slices.Contains(SizeBands, in.SizeBand) {
		fe["size_band"] = "form.error.choice"
	}
	if len(fe) == 0 {
		return nil
	}
	return fe
}

// SaveOrganisation creates (id 0) or updates an organisation.
func SaveOrganisation(ctx context.Context, db *DB, id int64, in OrgInput) (*Organisation, error) {
	if fe := in.Validate(); fe != nil {
		return nil, fe
	}
	o := &Organisation{ID: id}
	if id != 0 {
		if err := db.Read.WithContext(ctx).First(o, id).Error; err != nil {
			return nil, notFound(err)
		}
	}
	o.Name, o.Sector, o.Region, o.SizeBand, o.BenchmarkOptIn = in.Name, in.Sector, in.Region, in.SizeBand, in.BenchmarkOptIn
	return o, db.Write.WithContext(ctx).Save(o).Error
}

// Organisations lists every organisation (platform admins only).
func Organisations(ctx context.Context, db *DB) ([]Organisation, error) {
	var os []Organisation
	return os, db.Read.WithContext(ctx).Order("name").Find(&os).Error
}

// OrganisationByID loads one organisation.
func OrganisationByID(ctx context.Context, db *DB, id int64) (*Organisation, error) {
	var o Organisation
	return &o, notFound(db.Read.WithContext(ctx).First(&o, id).Error)
}

// AddUnit adds a business unit; names are unique per organisation.
func AddUnit(ctx context.Context, db *DB, orgID int64, name string) (*BusinessUnit, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 120 {
		return nil, FieldErrors{"name": "form.error.required"}
	}
	var n int64
	db.Read.WithContext(ctx).Model(&BusinessUnit{}).Where("organisation_id = ? AND lower(name) = lower(?)", orgID, name).Count(&n)
	if n > 0 {
		return nil, FieldErrors{"name": "form.error.duplicate"}
	}
	u := &BusinessUnit{OrganisationID: orgID, Name: name}
	return u, db.Write.WithContext(ctx).Create(u).Error
}

// DeleteUnit removes a unit of the organisation; participants and responses
// keep existing without a unit.
func DeleteUnit(ctx context.Context, db *DB, orgID, unitID int64) error {
	res := db.Write.WithContext(ctx).Where("id = ? AND organisation_id = ?", unitID, orgID).Delete(&BusinessUnit{})
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return res.Error
}

// OrgUsers lists the accounts of an organisation.
func OrgUsers(ctx context.Context, db *DB, orgID int64) ([]User, error) {
	var us []User
	return us, db.Read.WithContext(ctx).Where("organisation_id = ?", orgID).Order("email").Find(&us).Error
}

// DeleteUser removes an account of the organisation.
func DeleteUser(ctx context.Context, db *DB, orgID, userID int64) error {
	res := db.Write.WithContext(ctx).Where("id = ? AND organisation_id = ?", userID, orgID).Delete(&User{})
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return res.Error
}

func notFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	return err
}

// CampaignInput is the campaign form.
type CampaignInput struct {
	Name, WaveLabel             string
	OpensAt, ClosesAt           *time.Time
	Locales                     []string
	KMin                        int
	AskUnit, AskRole, AskSenior bool
	OpenLink                    bool
	ContactName, ContactEmail   string
	// SectionWeights in the stored form ("RE=2,TS=0.5"); see ParseSectionWeights.
	SectionWeights string
	// Names is the campaign's name in each language, where it differs (locale → name).
	Names map[string]string
}

// Validate checks a campaign form; k can never go below 3.
func (in *CampaignInput) Validate() FieldErrors {
	fe := FieldErrors{}
	in.Name = strings.TrimSpace(in.Name)
	in.WaveLabel = strings.TrimSpace(in.WaveLabel)
	if in.Name == "" || len(in.Name) > 200 {
		fe["name"] = "form.error.required"
	}
	if in.OpensAt != nil && in.ClosesAt != nil && !in.ClosesAt.After(*in.OpensAt) {
		fe["closes_at"] = "form.error.close_before_open"
	}
	if len(in.Locales) == 0 {
		fe["locales"] = "form.error.required"
	}
	for _, l := range in.Locales {
		if !slices.Contains(Locales, l) {
			fe["locales"] = "form.error.choice"
		}
	}
	for l, n := range in.Names {
		n = strings.TrimSpace(n)
		in.Names[l] = n
		if !slices.Contains(Locales, l) || !OneLine(n) || utf8.RuneCountInString(n) > 200 {
			fe["name_"+l] = "form.error.one_line"
		}
	}
	if in.KMin < 3 || in.KMin > 50 {
		fe["k_min"] = "form.error.k_min"
	}
	// The contact's name goes into every mail's Reply-To header: one line.
	in.ContactName = strings.TrimSpace(in.ContactName)
	if !OneLine(in.ContactName) || utf8.RuneCountInString(in.ContactName) > maxTextLen {
		fe["contact_name"] = "form.error.one_line"
	}
	if in.ContactEmail != "" {
		if e, err := NormaliseEmail(in.ContactEmail); err != nil {
			fe["contact_email"] = "form.error.email"
		} else {
			in.ContactEmail = e
		}
	}
	if len(fe) == 0 {
		return nil
	}
	return fe
}

func (in *CampaignInput) apply(c *Campaign) {
	c.Name, c.WaveLabel, c.OpensAt, c.ClosesAt = in.Name, in.WaveLabel, in.OpensAt, in.ClosesAt
	c.Locales, c.KMin = strings.Join(in.Locales, ","), in.KMin
	c.AskUnit, c.AskRole, c.AskSeniority, c.OpenLink = in.AskUnit, in.AskRole, in.AskSenior, in.OpenLink
	c.ContactName, c.ContactEmail = strings.TrimSpace(in.ContactName), in.ContactEmail
	c.SectionWeights = in.SectionWeights
	c.Names = encodeNames(in.Names)
	if c.OpenLink && c.OpenKey == nil {
		key := NewOpenToken()
		c.OpenKey = &key
	}
}

// InputOf fills a form from a campaign.
func InputOf(c *Campaign) CampaignInput {
	return CampaignInput{Name: c.Name, WaveLabel: c.WaveLabel, OpensAt: c.OpensAt, ClosesAt: c.ClosesAt,
		Locales: strings.Split(c.Locales, ","), KMin: c.KMin, AskUnit: c.AskUnit, AskRole: c.AskRole,
		AskSenior: c.AskSeniority, OpenLink: c.OpenLink, ContactName: c.ContactName, ContactEmail: c.ContactEmail,
		SectionWeights: c.SectionWeights, Names: NamesOf(c)}
}

// CreateCampaign starts a wave in draft, pinned to the given model version.
func CreateCampaign(ctx context.Context, db *DB, orgID int64, modelVersion int, in CampaignInput) (*Campaign, error) {
	if fe := in.Validate(); fe != nil {
		return nil, fe
	}
	c := &Campaign{OrganisationID: orgID, ModelVersion: modelVersion, Status: StatusDraft}
	in.apply(c)
	return c, db.Write.WithContext(ctx).Create(c).Error
}

// KFloor is the smallest k a campaign may be given. Once it has opened, k
// is fixed but for raising it: a lower k would show groups that earlier
// releases hid, and the difference would describe fewer than k people.
func (c *Campaign) KFloor() int {
	if c.Status == StatusDraft {
		return MinK
	}
	return EffectiveK(c.KMin)
}

// UpdateCampaign changes a wave's settings; the model version never changes.
func UpdateCampaign(ctx context.Context, db *DB, c *Campaign, in CampaignInput) error {
	if fe := in.Validate(); fe != nil {
		return fe
	}
	if in.KMin < c.KFloor() {
		return FieldErrors{"k_min": "form.error.k_lowered"}
	}
	in.apply(c)
	return db.Write.WithContext(ctx).Save(c).Error
}

// Campaigns lists an organisation's waves, newest first.
func Campaigns(ctx context.Context, db *DB, orgID int64) ([]Campaign, error) {
	var cs []Campaign
	return cs, db.Read.WithContext(ctx).Where("organisation_id = ?", orgID).Order("id DESC").Find(&cs).Error
}

// CampaignOf loads a campaign only if it belongs to the organisation: the one
// check that keeps tenants apart. orgID 0 means any (platform admin).
func CampaignOf(ctx context.Context, db *DB, orgID, id int64) (*Campaign, error) {
	var c Campaign
	q := db.Read.WithContext(ctx).Where("id = ?", id)
	if orgID != 0 {
		q = q.Where("organisation_id = ?", orgID)
	}
	return &c, notFound(q.First(&c).Error)
}

// ErrBadTransition is a status change the campaign's life cycle does not allow.
var ErrBadTransition = errors.New("campaign status change not allowed")

// SetCampaignStatus moves draft → open → closed (and allows reopening a closed wave).
func SetCampaignStatus(ctx context.Context, db *DB, c *Campaign, status string) error {
	ok := map[string][]string{StatusDraft: {StatusOpen}, StatusOpen: {StatusClosed}, StatusClosed: {StatusOpen}}
	if !slices.Contains(ok[c.Status], status) {
		return fmt.Errorf("%w: %s → %s", ErrBadTransition, c.Status, status)
	}
	c.Status = status
	return db.Write.WithContext(ctx).Model(c).Update("status", status).Error
}

// CopyCampaign starts the next wave: same settings and participants, fresh
// invitations, in draft, pinned to the latest model, linked to its predecessor.
func CopyCampaign(ctx context.Context, db *DB, secret []byte, src *Campaign, modelVersion int, name, wave string) (*Campaign, error) {
	next := *src
	next.ID, next.Status, next.PreviousID, next.ModelVersion = 0, StatusDraft, &src.ID, modelVersion
	next.OpensAt, next.ClosesAt, next.OpenKey, next.CreatedAt = nil, nil, nil, time.Time{}
	if name != "" && name != src.Name {
		next.Name, next.Names = name, "" // the old names translate the old name
	}
	next.WaveLabel = wave
	if next.OpenLink {
		key := NewOpenToken()
		next.OpenKey = &key
	}
	err := db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&next).Error; err != nil {
			return err
		}
		var parts []Participant
		if err := tx.Where("campaign_id = ?", src.ID).Find(&parts).Error; err != nil {
			return err
		}
		for i := range parts {
			parts[i].ID, parts[i].CampaignID = 0, next.ID
		}
		return insertParticipants(tx, secret, parts)
	})
	return &next, err
}

// insertParticipants stores participants with a pending invitation each.
func insertParticipants(tx *gorm.DB, secret []byte, parts []Participant) error {
	if len(parts) == 0 {
		return nil
	}
	if err := tx.CreateInBatches(&parts, 1000).Error; err != nil {
		return err
	}
	invs := make([]Invitation, len(parts))
	for i, p := range parts {
		id := newID()
		invs[i] = Invitation{ID: id, ParticipantID: p.ID, CampaignID: p.CampaignID, TokenHash: HashToken(InviteToken(secret, id)), Status: InvitePending}
	}
	return tx.CreateInBatches(&invs, 1000).Error
}

// UnitRate is one row of the response-rate page: counts only.
type UnitRate struct {
	UnitID                     *int64
	Unit                       string
	Invited, Opened, Completed int
	Suppressed                 bool
}

// ResponseRates counts invitations per unit. A unit with fewer than k
// invitations is suppressed: with so few, even a count could identify people.
func ResponseRates(ctx context.Context, db *DB, c *Campaign) ([]UnitRate, error) {
	type row struct {
		UnitID *int64
		Status string
		N      int
	}
	var rows []row
	err := db.Read.WithContext(ctx).Table("invitations i").
		Select("p.unit_id AS unit_id, i.status AS status, count(*) AS n").
		Joins("JOIN participants p ON p.id = i.participant_id").
		Where("i.campaign_id = ?", c.ID).Group("p.unit_id, i.status").Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	units, err := Units(ctx, db, c.OrganisationID)
	if err != nil {
		return nil, err
	}
	names := map[int64]string{}
	for _, u := range units {
		names[u.ID] = u.Name
	}
	byUnit := map[int64]*UnitRate{}
	var order []int64
	for _, r := range rows {
		key := int64(0)
		if r.UnitID != nil {
			key = *r.UnitID
		}
		ur, ok := byUnit[key]
		if !ok {
			ur = &UnitRate{UnitID: r.UnitID, Unit: names[key]}
			byUnit[key] = ur
			order = append(order, key)
		}
		ur.Invited += r.N
		switch r.Status {
		case InviteOpened:
			ur.Opened += r.N
		case InviteCompleted:
			ur.Opened += r.N
			ur.Completed += r.N
		}
	}
	// The same rule as every breakdown: units under k hide, and with them
	// the next-smallest until the hidden ones together hold at least k, so
	// the campaign total minus the shown units describes no fewer than k.
	counts := make(map[string]int, len(order))
	for _, key := range order {
		counts[strconv.FormatInt(key, 10)] = byUnit[key].Invited
	}
	hidden := SuppressGroups(counts, c.KMin)
	out := make([]UnitRate, 0, len(order))
	for _, key := range order {
		ur := *byUnit[key]
		if hidden[strconv.FormatInt(key, 10)] {
			ur = UnitRate{UnitID: ur.UnitID, Unit: ur.Unit, Suppressed: true}
		}
		out = append(out, ur)
	}
	slices.SortFunc(out, func(a, b UnitRate) int { return strings.Compare(a.Unit, b.Unit) })
	return out, nil
}
