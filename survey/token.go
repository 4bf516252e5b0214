package survey

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"regexp"

	"github.com/google/uuid"
)

// InviteToken derives an invitation's link token, so a reminder can rebuild
// the link without the token ever being stored.
func InviteToken(secret []byte, invitationID string) string {
	return base64.RawURLEncoding.EncodeToString(mac(secret, "invite:"+invitationID))
}

// HashToken is what the database keeps of a token: enough to find the row,
// not enough to rebuild the link.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// DraftKey keys a respondent's draft. Only someone holding the token (or the
// secret and the invitation list) can find it.
func DraftKey(secret []byte, token string) string {
	return hex.EncodeToString(mac(secret, "draft:"+token))
}

var tokenShape = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// WellFormedToken rejects anything that cannot be a link token before it reaches the database.
func WellFormedToken(token string) bool { return tokenShape.MatchString(token) }

// NewAPIToken returns a fresh bearer token for the JSON API.
func NewAPIToken() string { return "tl_" + randomString(32) }

func mac(secret []byte, msg string) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails on supported platforms (Go 1.24+ crashes instead)
	return b
}

func randomString(n int) string { return base64.RawURLEncoding.EncodeToString(randomBytes(n)) }

// newID is a random identifier for rows whose id must not be guessable or ordered.
func newID() string { return uuid.NewString() }
