package survey

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Whose survey is this: an organisation's logo and a campaign's name in
// each of its languages (issue 14).

// OrgLogo is an organisation's logo as uploaded by its admin. Hash, a
// prefix of the SHA-256 of Body, names it in its URL, so browsers may keep
// it for a year.
type OrgLogo struct {
	OrganisationID int64 `gorm:"primaryKey;autoIncrement:false"`
	ContentType    string
	Hash           string
	Body           []byte
	UpdatedAt      time.Time
}

func (OrgLogo) TableName() string { return "organisation_logos" }

// MaxLogoBytes bounds a logo: it is shown small, on every page.
const MaxLogoBytes = 256 << 10

// SaveOrgLogo stores (or replaces) an organisation's logo and returns its
// hash. The caller checks the type and size.
func SaveOrgLogo(ctx context.Context, db *DB, orgID int64, contentType string, body []byte) (string, error) {
	sum := sha256.Sum256(body)
	l := OrgLogo{OrganisationID: orgID, ContentType: contentType, Hash: hex.EncodeToString(sum[:])[:16], Body: body, UpdatedAt: time.Now().UTC()}
	err := db.Write.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "organisation_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"content_type", "hash", "body", "updated_at"}),
	}).Create(&l).Error
	return l.Hash, err
}

// DeleteOrgLogo removes an organisation's logo, if it has one.
func DeleteOrgLogo(ctx context.Context, db *DB, orgID int64) error {
	return db.Write.WithContext(ctx).Where("organisation_id = ?", orgID).Delete(&OrgLogo{}).Error
}

// LoadOrgLogo returns an organisation's logo; ErrNotFound when it has none.
func LoadOrgLogo(ctx context.Context, db *DB, orgID int64) (*OrgLogo, error) {
	var l OrgLogo
	err := db.Read.WithContext(ctx).Where("organisation_id = ?", orgID).Take(&l).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &l, err
}

// Brand is what a respondent page shows of the organisation behind a
// survey: its name and, when it has one, its logo's hash and type.
type Brand struct {
	Name               string
	LogoHash, LogoType string
}

// BrandOf loads an organisation's name and logo hash in one query, without
// the logo's bytes.
func BrandOf(ctx context.Context, db *DB, orgID int64) (Brand, error) {
	var b Brand
	err := db.Read.WithContext(ctx).Table("organisations o").
		Select("o.name AS name, COALESCE(l.hash, '') AS logo_hash, COALESCE(l.content_type, '') AS logo_type").
		Joins("LEFT JOIN organisation_logos l ON l.organisation_id = o.id").
		Where("o.id = ?", orgID).Take(&b).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Brand{}, ErrNotFound
	}
	return b, err
}

// NameIn is the campaign's name in a language: the one given for it, else
// the campaign's name.
func (c *Campaign) NameIn(locale string) string {
	if c.Names != "" {
		var names map[string]string
		if json.Unmarshal([]byte(c.Names), &names) == nil && names[locale] != "" {
			return names[locale]
		}
	}
	return c.Name
}

// encodeNames stores per-language names as JSON, leaving out empty ones.
func encodeNames(names map[string]string) string {
	kept := map[string]string{}
	for l, n := range names {
		if n != "" {
			kept[l] = n
		}
	}
	if len(kept) == 0 {
		return ""
	}
	b, _ := json.Marshal(kept) // a map of strings always encodes
	return string(b)
}

// NamesOf decodes a campaign's per-language names (for its form).
func NamesOf(c *Campaign) map[string]string {
	names := map[string]string{}
	if c.Names != "" {
		_ = json.Unmarshal([]byte(c.Names), &names)
	}
	return names
}
