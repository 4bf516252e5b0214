package survey_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

// FuzzInviteToken: for any secret and invitation id, the derived link token
// is well formed, carries 256 bits, is stable (reminders rebuild it), and is
// neither its stored hash nor its draft key. For any candidate string,
// WellFormedToken accepts exactly the 43-character base64url strings, and
// only the issued token resolves to the invitation: everything else is
// ErrNotFound, never another error, and a malformed one never reaches the
// database.
func FuzzInviteToken(f *testing.F) {
	secret := []byte("fuzz-secret-fuzz-secret-fuzz-secret!")
	f.Add([]byte("s"), "inv-1", "")
	f.Add(secret, "fuzz-invitation", "")
	f.Add([]byte{}, "", strings.Repeat("A", 43))
	f.Add([]byte{0}, "\x00", strings.Repeat("A", 42)+"=")
	f.Add([]byte("k"), "x", strings.Repeat("_", 43)+"\n")
	f.Add([]byte("k"), "x", "../../etc/passwd")
	f.Add([]byte("k"), "x", strings.Repeat("A", 42)+"%2F")
	f.Add([]byte("k"), "x", strings.Repeat("é", 22))
	f.Add([]byte("k"), "x", "' OR 1=1 --"+strings.Repeat("A", 32))
	f.Add([]byte("k"), "x", strings.Repeat("A", 44))

	ctx := context.Background()
	db := surveytest.Open(f, "sqlite")
	org := &survey.Organisation{Name: "Fuzz"}
	if err := db.Write.Create(org).Error; err != nil {
		f.Fatal(err)
	}
	camp := &survey.Campaign{OrganisationID: org.ID, Name: "F", ModelVersion: 1, KMin: 5, Status: survey.StatusOpen, Locales: "en"}
	if err := db.Write.Create(camp).Error; err != nil {
		f.Fatal(err)
	}
	p := &survey.Participant{CampaignID: camp.ID, Email: "p@fuzz.example"}
	if err := db.Write.Create(p).Error; err != nil {
		f.Fatal(err)
	}
	issued := survey.InviteToken(secret, "fuzz-invitation")
	inv := &survey.Invitation{ID: "fuzz-invitation", ParticipantID: p.ID, CampaignID: camp.ID, TokenHash: survey.HashToken(issued), Status: survey.InviteSent}
	if err := db.Write.Create(inv).Error; err != nil {
		f.Fatal(err)
	}
	closed := surveytest.Open(f, "sqlite")
	closed.Close() // any query on it fails

	f.Fuzz(func(t *testing.T, key []byte, invitationID, candidate string) {
		tok := survey.InviteToken(key, invitationID)
		raw, err := base64.RawURLEncoding.Strict().DecodeString(tok)
		if !survey.WellFormedToken(tok) || err != nil || len(raw) != 32 {
			t.Fatalf("token %q: well formed %v, %d bytes, %v", tok, survey.WellFormedToken(tok), len(raw), err)
		}
		if survey.InviteToken(key, invitationID) != tok {
			t.Fatal("the same invitation gave two tokens")
		}
		sum := sha256.Sum256([]byte(tok))
		if h := survey.HashToken(tok); h != hex.EncodeToString(sum[:]) || h == tok || strings.Contains(h, tok) {
			t.Fatalf("stored hash %q of %q", h, tok)
		}
		if dk := survey.DraftKey(key, tok); dk == survey.HashToken(tok) || strings.Contains(dk, tok) {
			t.Fatal("the draft key is derivable from what the database stores")
		}

		wf := survey.WellFormedToken(candidate)
		shape := len(candidate) == 43 && strings.Trim(candidate, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == ""
		if wf != shape {
			t.Fatalf("WellFormedToken(%q) = %v", candidate, wf)
		}
		if wf {
			if b, err := base64.RawURLEncoding.DecodeString(candidate); err != nil || len(b) != 32 {
				t.Fatalf("well-formed %q decodes to %d bytes, %v", candidate, len(b), err)
			}
		}
		got, c, err := survey.FindInvitation(ctx, db, candidate)
		switch {
		case candidate == issued:
			if err != nil || got.ID != inv.ID || c.ID != camp.ID {
				t.Fatalf("the issued token does not resolve: %v", err)
			}
		case !errors.Is(err, survey.ErrNotFound) || got != nil || c != nil:
			t.Fatalf("FindInvitation(%q) = %v, %v, %v; want ErrNotFound", candidate, got, c, err)
		}
		_, _, err = survey.FindInvitation(ctx, closed, candidate)
		if !wf && !errors.Is(err, survey.ErrNotFound) {
			t.Fatalf("malformed %q reached the database: %v", candidate, err)
		}
		if wf && errors.Is(err, survey.ErrNotFound) {
			t.Fatalf("well-formed %q did not query the (closed) database", candidate)
		}
	})
}
