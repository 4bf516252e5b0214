package survey

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// PLACEHOLDER (lead): the sealed-storage branch replaces this file.

// PendingResponse is a sealed response opened for the release.
type PendingResponse struct {
	ID         string `json:"-"`
	CampaignID int64  `json:"-"`
	UnitID     *int64 `json:"u"`
	Role       string `json:"r"`
	Seniority  string `json:"s"`
	Locale     string `json:"l"`
	Answers    []byte `json:"a"`
}

type pendingRow struct {
	ID         string
	CampaignID int64
	Sealed     []byte
}

func (pendingRow) TableName() string { return "pending_responses" }

func sealAEAD(secret []byte) (cipher.AEAD, error) {
	if len(secret) == 0 {
		return nil, errors.New("sealing needs the secret")
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("seal:v1"))
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// SealPending stores responses sealed, to wait for a release.
func SealPending(tx *gorm.DB, secret []byte, rs []PendingResponse) error {
	aead, err := sealAEAD(secret)
	if err != nil {
		return err
	}
	rows := make([]pendingRow, len(rs))
	for i, r := range rs {
		plain, err := json.Marshal(r)
		if err != nil {
			return err
		}
		nonce := make([]byte, aead.NonceSize())
		rand.Read(nonce)
		rows[i] = pendingRow{ID: uuid.NewString(), CampaignID: r.CampaignID, Sealed: aead.Seal(nonce, nonce, plain, nil)}
	}
	if len(rows) == 0 {
		return nil
	}
	return tx.CreateInBatches(rows, 500).Error
}

// LoadPending opens a campaign's pending responses inside tx.
func LoadPending(tx *gorm.DB, secret []byte, campaignID int64) ([]PendingResponse, error) {
	var rows []pendingRow
	if err := tx.Where("campaign_id = ?", campaignID).Find(&rows).Error; err != nil || len(rows) == 0 {
		return nil, err
	}
	aead, err := sealAEAD(secret)
	if err != nil {
		return nil, err
	}
	out := make([]PendingResponse, len(rows))
	for i, r := range rows {
		n := aead.NonceSize()
		if len(r.Sealed) < n {
			return nil, fmt.Errorf("pending response %s: too short", r.ID)
		}
		plain, err := aead.Open(nil, r.Sealed[:n], r.Sealed[n:], nil)
		if err != nil {
			return nil, fmt.Errorf("pending response %s: %w", r.ID, err)
		}
		if err := json.Unmarshal(plain, &out[i]); err != nil {
			return nil, fmt.Errorf("pending response %s: %w", r.ID, err)
		}
		out[i].ID, out[i].CampaignID = r.ID, r.CampaignID
	}
	return out, nil
}

// DeletePending removes pending responses once they are released, inside tx.
func DeletePending(tx *gorm.DB, ids []string) error {
	for len(ids) > 0 {
		n := min(len(ids), 500)
		if err := tx.Where("id IN ?", ids[:n]).Delete(&pendingRow{}).Error; err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}
