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

	"golang.org/x/crypto/argon2"
	"gorm.io/gorm"
)

// argon2id parameters (RFC 9106 second recommendation, lighter memory for a
// small server): t=3, m=64 MiB, p=2.
const (
	argonTime    = 3
	argonMemory  = 64 * 1024
	argonThreads = 2
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
	email, err := NormaliseEmail(email)
	if err != nil {
		return nil, "", err
	}
	if !slices.Contains(UserRoles, role) {
		return nil, "", fmt.Errorf("%w %q: one of %s", ErrInvalidRole, role, strings.Join(UserRoles, ", "))
	}
	var n int64
	if err := db.Read.WithContext(ctx).Model(&User{}).Where("email = ?", email).Count(&n).Error; err != nil {
		return nil, "", err
	}
	if n > 0 {
		return nil, "", fmt.Errorf("%w: %s", ErrEmailTaken, email)
	}
	password := RandomPassword()
	u := &User{Email: email, Role: role, OrganisationID: orgID, PasswordHash: HashPassword(password), Locale: "en"}
	if err := db.Write.WithContext(ctx).Create(u).Error; err != nil {
		return nil, "", err
	}
	return u, password, nil
}

// CreateAPIToken issues a bearer token for the user with that email; only its hash is kept.
func CreateAPIToken(ctx context.Context, db *DB, email, name string) (string, error) {
	email, err := NormaliseEmail(email)
	if err != nil {
		return "", err
	}
	var u User
	if err := db.Read.WithContext(ctx).Where("email = ?", email).First(&u).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return "", fmt.Errorf("user %s: %w", email, ErrNotFound)
		}
		return "", err
	}
	token := NewAPIToken()
	rec := &APIToken{UserID: u.ID, Name: name, TokenHash: HashToken(token)}
	if err := db.Write.WithContext(ctx).Create(rec).Error; err != nil {
		return "", err
	}
	return token, nil
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
