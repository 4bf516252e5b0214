package survey

import "gorm.io/gorm"

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

// LoadPending opens a campaign's pending responses inside tx.
// TODO(sealed storage): replace this stub.
func LoadPending(tx *gorm.DB, secret []byte, campaignID int64) ([]PendingResponse, error) {
	return nil, nil
}

// DeletePending removes pending responses once they are released, inside tx.
// TODO(sealed storage): replace this stub.
func DeletePending(tx *gorm.DB, ids []string) error {
	return nil
}
