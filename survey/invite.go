package survey

import (
	"context"
	"errors"

	"gorm.io/gorm"
)

// FindInvitation resolves a link token to its invitation and campaign.
// Malformed tokens are rejected without a query.
func FindInvitation(ctx context.Context, db *DB, token string) (*Invitation, *Campaign, error) {
	if !WellFormedToken(token) {
		return nil, nil, ErrNotFound
	}
	var inv Invitation
	err := db.Read.WithContext(ctx).Where("token_hash = ?", HashToken(token)).First(&inv).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	var c Campaign
	if err := db.Read.WithContext(ctx).First(&c, inv.CampaignID).Error; err != nil {
		return nil, nil, err
	}
	return &inv, &c, nil
}
