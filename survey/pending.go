package survey

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Pending responses: submitted, sealed, not yet released. A submit stores
// the response here, encrypted, so that nothing a plain SQL reader can see
// pairs it with the invitation completed in the same transaction; a release
// (release.go) moves pending responses into responses in shuffled batches
// of at least k and deletes them here.

// PendingResponse is a sealed response opened for the release.
type PendingResponse struct {
	ID         string // the pending row's own random id, not the response's
	CampaignID int64
	UnitID     *int64
	Role       string
	Seniority  string
	Locale     string
	Answers    []byte
}

// PendingRow is a pending response as stored: its campaign, and the rest
// sealed.
type PendingRow struct {
	ID         string
	CampaignID int64
	Sealed     []byte
}

func (PendingRow) TableName() string { return "pending_responses" }

var (
	// ErrNoSecret means a response cannot be sealed: the server has no secret.
	ErrNoSecret = errors.New("sealing a response needs the server secret")
	// ErrPendingGone means pending responses to delete were already gone:
	// another release moved them.
	ErrPendingGone = errors.New("pending responses already released")
)

// The sealed plaintext: a format byte, the unit (a presence byte and eight
// bytes), role, seniority and locale (a length byte and at most
// maxProfileField bytes each), the answers (two length bytes and the
// bytes), then zeros up to sealedHeader+len(answers). The padding makes
// every ciphertext of a campaign the same length, so its size does not
// tell a self-reported role or seniority apart.
const (
	sealFormat      = 1
	maxProfileField = 64
	sealedHeader    = 1 + 9 + 3*(1+maxProfileField) + 2
)

func sealAEAD(secret []byte) (cipher.AEAD, error) {
	if len(secret) == 0 {
		return nil, ErrNoSecret
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("seal:v1"))
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealAD binds a ciphertext to its row: moved to another campaign or id, it
// does not open.
func sealAD(id string, campaignID int64) []byte {
	return []byte("pending_responses:" + id + ":" + strconv.FormatInt(campaignID, 10))
}

func encodePending(p *PendingResponse) ([]byte, error) {
	if len(p.Answers) > 0xffff {
		return nil, fmt.Errorf("seal: %d answers", len(p.Answers))
	}
	b := make([]byte, 0, sealedHeader+len(p.Answers))
	b = append(b, sealFormat)
	if p.UnitID != nil {
		b = binary.BigEndian.AppendUint64(append(b, 1), uint64(*p.UnitID))
	} else {
		b = append(b, make([]byte, 9)...)
	}
	for _, s := range []string{p.Role, p.Seniority, p.Locale} {
		if len(s) > maxProfileField {
			return nil, fmt.Errorf("seal: profile field of %d bytes: %w", len(s), ErrInvalidProfile)
		}
		b = append(append(b, byte(len(s))), s...)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(p.Answers)))
	b = append(b, p.Answers...)
	return b[:cap(b)], nil // zero padding: the capacity is the fixed length
}

func decodePending(b []byte, p *PendingResponse) error {
	if len(b) < sealedHeader || b[0] != sealFormat {
		return errors.New("unknown format")
	}
	rest := b[1:]
	if rest[0] == 1 {
		u := int64(binary.BigEndian.Uint64(rest[1:9]))
		p.UnitID = &u
	}
	rest = rest[9:]
	for _, f := range []*string{&p.Role, &p.Seniority, &p.Locale} {
		n := int(rest[0])
		if n > maxProfileField {
			return errors.New("profile field too long")
		}
		*f, rest = string(rest[1:1+n]), rest[1+n:]
	}
	n := int(binary.BigEndian.Uint16(rest))
	if len(b) != sealedHeader+n || len(rest) < 2+n {
		return errors.New("answers do not fit")
	}
	p.Answers = append([]byte(nil), rest[2:2+n]...)
	return nil
}

// SealPending stores a response sealed, under a fresh random id, inside
// tx; p.ID is ignored and the new id returned.
func SealPending(tx *gorm.DB, secret []byte, p PendingResponse) (string, error) {
	ids, err := SealPendings(tx, secret, []PendingResponse{p})
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// SealPendings stores responses sealed, in batches, inside tx: what the
// demo and an upgrade's first release need for thousands at once.
func SealPendings(tx *gorm.DB, secret []byte, ps []PendingResponse) ([]string, error) {
	aead, err := sealAEAD(secret)
	if err != nil {
		return nil, err
	}
	rows := make([]PendingRow, len(ps))
	ids := make([]string, len(ps))
	for i := range ps {
		plain, err := encodePending(&ps[i])
		if err != nil {
			return nil, err
		}
		row := PendingRow{ID: uuid.NewString(), CampaignID: ps[i].CampaignID}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return nil, err
		}
		row.Sealed = aead.Seal(nonce, nonce, plain, sealAD(row.ID, row.CampaignID))
		rows[i], ids[i] = row, row.ID
	}
	if len(rows) == 0 {
		return ids, nil
	}
	return ids, tx.CreateInBatches(rows, 500).Error
}

// LoadPending opens a campaign's pending responses inside tx, in the order
// of their random ids. A row that does not open (another secret, a damaged
// or moved row) is an error naming it: a release must never drop a
// response silently.
func LoadPending(tx *gorm.DB, secret []byte, campaignID int64) ([]PendingResponse, error) {
	aead, err := sealAEAD(secret)
	if err != nil {
		return nil, err
	}
	var rows []PendingRow
	if err := tx.Where("campaign_id = ?", campaignID).Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]PendingResponse, len(rows))
	for i, row := range rows {
		ns := aead.NonceSize()
		if len(row.Sealed) < ns {
			return nil, fmt.Errorf("pending response %s does not open: too short", row.ID)
		}
		plain, err := aead.Open(nil, row.Sealed[:ns], row.Sealed[ns:], sealAD(row.ID, row.CampaignID))
		if err != nil {
			return nil, fmt.Errorf("pending response %s does not open (another secret, or a damaged row): %w", row.ID, err)
		}
		out[i] = PendingResponse{ID: row.ID, CampaignID: row.CampaignID}
		if err := decodePending(plain, &out[i]); err != nil {
			return nil, fmt.Errorf("pending response %s opens but does not decode: %s", row.ID, err)
		}
	}
	return out, nil
}

// DeletePending removes pending responses once they are released, inside
// tx. Deleting fewer than asked for is an error, so that of two concurrent
// releases only one can move the same responses.
func DeletePending(tx *gorm.DB, ids []string) error {
	const batch = 500
	for start := 0; start < len(ids); start += batch {
		part := ids[start:min(start+batch, len(ids))]
		del := tx.Where("id IN ?", part).Delete(&PendingRow{})
		if del.Error != nil {
			return del.Error
		}
		if int(del.RowsAffected) != len(part) {
			return fmt.Errorf("deleted %d of %d pending responses: %w", del.RowsAffected, len(part), ErrPendingGone)
		}
	}
	return nil
}
