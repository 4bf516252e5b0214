package survey

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// API tokens stand for their user on the JSON API. Only a token's hash is
// stored; the token is shown once. A token ends when it expires, when it is
// revoked (by its owner or an admin of the owner's organisation), when the
// owner's password is set anew, and with the owner's account.

// DefaultAPITokenDays is the lifetime a new token gets unless its creator
// chooses another.
const DefaultAPITokenDays = 90

// MaxAPITokenDays bounds a chosen lifetime; 0 days means no expiry.
const MaxAPITokenDays = 3650

// APITokenDayChoices are the lifetimes the tokens page offers (0: none).
var APITokenDayChoices = []int{30, DefaultAPITokenDays, 180, 365, 0}

// apiTokenTouchEvery bounds the writes of last_used_at: an integration
// calling many times a second costs one write a minute, not one a call.
const apiTokenTouchEvery = time.Minute

var (
	// ErrAPITokenExpired is a known token past its expiry. Only its holder
	// can present it, so telling it from an unknown one reveals nothing.
	ErrAPITokenExpired = errors.New("API token expired")
	// ErrTokenLifetime is a lifetime outside 0..MaxAPITokenDays.
	ErrTokenLifetime = errors.New("token lifetime out of range")
)

// IssuedAPIToken is a token as its creator sees it, once.
type IssuedAPIToken struct {
	Token     string
	ExpiresAt *time.Time
}

// CreateAPIToken issues a token with the default lifetime for the user with that email.
func CreateAPIToken(ctx context.Context, db *DB, email, name string) (string, error) {
	u, err := UserByEmail(ctx, db, email)
	if err != nil {
		return "", fmt.Errorf("user %s: %w", email, err)
	}
	t, err := IssueAPIToken(ctx, db, u.ID, name, DefaultAPITokenDays)
	return t.Token, err
}

// IssueAPIToken creates a token for a user that expires after days (0: never).
func IssueAPIToken(ctx context.Context, db *DB, userID int64, name string, days int) (IssuedAPIToken, error) {
	if days < 0 || days > MaxAPITokenDays {
		return IssuedAPIToken{}, fmt.Errorf("%w: %d days (0 to %d)", ErrTokenLifetime, days, MaxAPITokenDays)
	}
	out := IssuedAPIToken{Token: NewAPIToken()}
	if days > 0 {
		at := time.Now().UTC().AddDate(0, 0, days)
		out.ExpiresAt = &at
	}
	rec := &APIToken{UserID: userID, Name: strings.TrimSpace(name), TokenHash: HashToken(out.Token), ExpiresAt: out.ExpiresAt}
	if err := db.Write.WithContext(ctx).Create(rec).Error; err != nil {
		return IssuedAPIToken{}, err
	}
	return out, nil
}

// Expired reports whether the token is past its expiry at now.
func (t APIToken) Expired(now time.Time) bool {
	return t.ExpiresAt != nil && !now.Before(*t.ExpiresAt)
}

// APITokens lists a user's tokens, newest first (hashes only; the token itself was shown once).
func APITokens(ctx context.Context, db *DB, userID int64) ([]APIToken, error) {
	var ts []APIToken
	return ts, db.Read.WithContext(ctx).Where("user_id = ?", userID).Order("id DESC").Find(&ts).Error
}

// RevokeAPIToken stops a token of the user from working.
func RevokeAPIToken(ctx context.Context, db *DB, userID, tokenID int64) error {
	res := db.Write.WithContext(ctx).Model(&APIToken{}).Where("id = ? AND user_id = ? AND revoked_at IS NULL", tokenID, userID).
		Update("revoked_at", time.Now().UTC())
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return res.Error
}

// revokeAllAPITokens revokes every live token of a user, inside tx.
func revokeAllAPITokens(tx *gorm.DB, userID int64) error {
	return tx.Model(&APIToken{}).Where("user_id = ? AND revoked_at IS NULL", userID).
		Update("revoked_at", time.Now().UTC()).Error
}

// OrgAPIToken is a token of some user of an organisation, for its admins.
type OrgAPIToken struct {
	APIToken
	Email    string
	UserName string
}

// orgTokens selects the tokens of an organisation's users: the one scope
// both the list and a revocation go through.
func orgTokens(db *gorm.DB, orgID int64) *gorm.DB {
	return db.Table("api_tokens").
		Select("api_tokens.*, users.email AS email, users.name AS user_name").
		Joins("JOIN users ON users.id = api_tokens.user_id").
		Where("users.organisation_id = ?", orgID)
}

// OrgAPITokens lists the tokens of every user of the organisation, newest first.
func OrgAPITokens(ctx context.Context, db *DB, orgID int64) ([]OrgAPIToken, error) {
	var ts []OrgAPIToken
	return ts, orgTokens(db.Read.WithContext(ctx), orgID).Order("api_tokens.id DESC").Find(&ts).Error
}

// OrgAPITokenByID loads one token of the organisation; another
// organisation's token is ErrNotFound, as if it did not exist.
func OrgAPITokenByID(ctx context.Context, db *DB, orgID, tokenID int64) (*OrgAPIToken, error) {
	var t OrgAPIToken
	err := orgTokens(db.Read.WithContext(ctx), orgID).Where("api_tokens.id = ?", tokenID).Take(&t).Error
	return &t, notFound(err)
}

// RevokeOrgAPIToken revokes a token of any user of the organisation.
// Revoking a revoked token changes nothing.
func RevokeOrgAPIToken(ctx context.Context, db *DB, orgID, tokenID int64) error {
	res := db.Write.WithContext(ctx).Model(&APIToken{}).
		Where("id = ? AND user_id IN (?)", tokenID, db.Write.Model(&User{}).Select("id").Where("organisation_id = ?", orgID)).
		Where("revoked_at IS NULL").
		Update("revoked_at", time.Now().UTC())
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		_, err := OrgAPITokenByID(ctx, db, orgID, tokenID)
		return err
	}
	return nil
}

// UserByAPIToken authenticates a bearer token. An expired token is
// ErrAPITokenExpired; unknown, revoked and malformed ones are
// ErrBadCredentials. It notes when the token was last used, at most once a
// minute, so a busy integration does not write on every call.
func UserByAPIToken(ctx context.Context, db *DB, token string) (*User, error) {
	if !strings.HasPrefix(token, "tl_") || len(token) > 100 {
		return nil, ErrBadCredentials
	}
	var t APIToken
	err := db.Read.WithContext(ctx).Where("token_hash = ? AND revoked_at IS NULL", HashToken(token)).First(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	if t.Expired(now) {
		return nil, ErrAPITokenExpired
	}
	u, err := UserByID(ctx, db, t.UserID)
	if err != nil {
		return nil, err
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= apiTokenTouchEvery {
		// Conditional, so concurrent calls of one token write it once. A
		// failure here costs a stale date, not the caller's request.
		_ = db.Write.WithContext(ctx).Model(&APIToken{}).
			Where("id = ? AND (last_used_at IS NULL OR last_used_at <= ?)", t.ID, now.Add(-apiTokenTouchEvery)).
			Update("last_used_at", now).Error
	}
	return u, nil
}
