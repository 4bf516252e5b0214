package survey

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"
	"gorm.io/gorm"
)

// argon2id parameters: OWASP's recommended minimum (m=19 MiB, t=2, p=1).
// Memory is per sign-in in flight, so it bounds what a burst of logins can
// take from the server; stored hashes carry their own parameters.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns a PHC-format argon2id hash.
func HashPassword(password string) string {
	salt := randomBytes(16)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding.EncodeToString
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads, b64(salt), b64(key))
}

// CheckPassword reports whether password matches a hash made by HashPassword.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// RandomPassword is a one-time password strong enough to hand out on a terminal.
func RandomPassword() string { return randomString(12) }

// Domain errors of account handling.
var (
	ErrInvalidEmail = errors.New("invalid email address")
	ErrInvalidRole  = errors.New("invalid role")
	ErrEmailTaken   = errors.New("email already registered")
	ErrNotFound     = errors.New("not found")
)

// NormaliseEmail lower-cases and validates an address.
func NormaliseEmail(email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email {
		return "", fmt.Errorf("%w: %q", ErrInvalidEmail, email)
	}
	return email, nil
}

// CreateUser adds an account with a fresh random password and returns that password.
func CreateUser(ctx context.Context, db *DB, email, role string, orgID *int64) (*User, string, error) {
	password := RandomPassword()
	u, err := CreateUserWithPassword(ctx, db, email, "", role, orgID, password)
	return u, password, err
}

// CreateUserWithPassword adds an account with the given password.
func CreateUserWithPassword(ctx context.Context, db *DB, email, name, role string, orgID *int64, password string) (*User, error) {
	email, err := NormaliseEmail(email)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(UserRoles, role) {
		return nil, fmt.Errorf("%w %q: one of %s", ErrInvalidRole, role, strings.Join(UserRoles, ", "))
	}
	if role != RolePlatformAdmin && role != RoleLearner && orgID == nil {
		return nil, fmt.Errorf("%w: %s needs an organisation", ErrInvalidRole, role)
	}
	var n int64
	if err := db.Read.WithContext(ctx).Model(&User{}).Where("email = ?", email).Count(&n).Error; err != nil {
		return nil, err
	}
	if n > 0 {
		return nil, fmt.Errorf("%w: %s", ErrEmailTaken, email)
	}
	u := &User{Email: email, Name: strings.TrimSpace(name), Role: role, OrganisationID: orgID, PasswordHash: HashPassword(password), Locale: "en"}
	if err := db.Write.WithContext(ctx).Create(u).Error; err != nil {
		return nil, err
	}
	return u, nil
}

// FindOrganisation resolves an organisation by numeric id or exact name.
func FindOrganisation(ctx context.Context, db *DB, ref string) (*Organisation, error) {
	var o Organisation
	q := db.Read.WithContext(ctx)
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		q = q.Where("id = ? OR name = ?", id, ref)
	} else {
		q = q.Where("name = ?", ref)
	}
	if err := q.First(&o).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, fmt.Errorf("organisation %q: %w", ref, ErrNotFound)
		}
		return nil, err
	}
	return &o, nil
}

// PasswordToken is a one-time link to set or reset a password.
type PasswordToken struct {
	TokenHash string `gorm:"primaryKey"`
	UserID    int64
	ExpiresAt time.Time
	Used      bool
}

// ErrBadCredentials is the only answer to a failed sign-in, whatever failed,
// so the form cannot be used to find out which emails have accounts.
var ErrBadCredentials = errors.New("bad credentials")

// ErrTokenInvalid covers unknown, used and expired password links alike.
var ErrTokenInvalid = errors.New("link invalid or expired")

// ErrWeakPassword is a password the platform refuses.
var ErrWeakPassword = errors.New("password too short")

// MinPasswordLength follows NIST SP 800-63B for user-chosen secrets.
const MinPasswordLength = 10

// dummyHash keeps the time of a sign-in with an unknown email the same as
// with a wrong password. Made on first use, not at start.
var dummyHash = sync.OnceValue(func() string { return HashPassword("no user has this password") })

// Authenticate checks an email and password.
func Authenticate(ctx context.Context, db *DB, email, password string) (*User, error) {
	var u User
	email = strings.ToLower(strings.TrimSpace(email))
	err := db.Read.WithContext(ctx).Where("email = ?", email).First(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		CheckPassword(dummyHash(), password)
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, err
	}
	if u.PasswordHash == "" || !CheckPassword(u.PasswordHash, password) {
		return nil, ErrBadCredentials
	}
	return &u, nil
}

// UserByID loads an account.
func UserByID(ctx context.Context, db *DB, id int64) (*User, error) {
	var u User
	err := db.Read.WithContext(ctx).First(&u, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &u, err
}

// UserByEmail loads an account by address.
func UserByEmail(ctx context.Context, db *DB, email string) (*User, error) {
	var u User
	err := db.Read.WithContext(ctx).Where("email = ?", strings.ToLower(strings.TrimSpace(email))).First(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &u, err
}

// CountUsers tells whether the installation still needs its first admin.
func CountUsers(ctx context.Context, db *DB) (int64, error) {
	var n int64
	err := db.Read.WithContext(ctx).Model(&User{}).Count(&n).Error
	return n, err
}

// NewPasswordToken issues a one-time link token for the user, valid for ttl.
func NewPasswordToken(ctx context.Context, db *DB, userID int64, ttl time.Duration) (string, error) {
	token := randomString(32)
	rec := &PasswordToken{TokenHash: HashToken(token), UserID: userID, ExpiresAt: time.Now().UTC().Add(ttl)}
	return token, db.Write.WithContext(ctx).Create(rec).Error
}

// CheckPasswordToken reports whether a link token is still usable.
func CheckPasswordToken(ctx context.Context, db *DB, token string) error {
	var t PasswordToken
	err := db.Read.WithContext(ctx).Where("token_hash = ? AND NOT used AND expires_at > ?", HashToken(token), time.Now().UTC()).First(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrTokenInvalid
	}
	return err
}

// UsePasswordToken sets a new password through a one-time link; the link
// and every other open link of the user stop working.
func UsePasswordToken(ctx context.Context, db *DB, token, password string) (*User, error) {
	if len([]rune(password)) < MinPasswordLength {
		return nil, ErrWeakPassword
	}
	var u User
	err := db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var t PasswordToken
		err := tx.Where("token_hash = ? AND NOT used AND expires_at > ?", HashToken(token), time.Now().UTC()).First(&t).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrTokenInvalid
		}
		if err != nil {
			return err
		}
		if err := tx.Model(&PasswordToken{}).Where("user_id = ?", t.UserID).Update("used", true).Error; err != nil {
			return err
		}
		if err := setPassword(tx, t.UserID, password); err != nil {
			return err
		}
		return tx.First(&u, t.UserID).Error
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// EndSessions signs a user out everywhere: sessions carry the epoch they
// were issued under, and this moves it on.
func EndSessions(ctx context.Context, db *DB, userID int64) error {
	return db.Write.WithContext(ctx).Model(&User{}).Where("id = ?", userID).
		Update("session_epoch", gorm.Expr("session_epoch + 1")).Error
}

// setPassword is the one place a stored password changes (a test holds
// every other write of password_hash to creating an account). Whoever knew
// the old password may have signed in or made an API token with it: the
// sessions end and the user's tokens are revoked.
func setPassword(tx *gorm.DB, userID int64, password string) error {
	if err := tx.Model(&User{}).Where("id = ?", userID).Updates(map[string]any{
		"password_hash": HashPassword(password), "session_epoch": gorm.Expr("session_epoch + 1")}).Error; err != nil {
		return err
	}
	return revokeAllAPITokens(tx, userID)
}
