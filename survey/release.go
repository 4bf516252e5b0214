package survey

import (
	"context"
	"time"
)

// Release is one published state of a campaign's results. Every view,
// export and API call reads the campaign's current release; a new one is
// made only when every cell changes by 0 or at least k responses.
type Release struct {
	CampaignID int64
	Seq        int
	K          int
	Responses  int
	HeldBack   int
	Cells      string
	CreatedAt  time.Time
}

// PublishRelease releases what the rules allow of a campaign's pending and
// unreleased responses, and returns the current release (nil: none yet).
// TODO(releases): stub until the release model lands.
func PublishRelease(ctx context.Context, db *DB, secret []byte, campaignID int64) (*Release, error) {
	return nil, nil
}
