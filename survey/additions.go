package survey

import (
	"cmp"
	"context"
	"time"

	"gorm.io/gorm"
)

// Participants added after a campaign opened could be people the adder
// controls, answering only to fill a small group around one real person.
// Such additions are recorded as counts (how many, when, by which account,
// how) and shown to everyone who reads the results; who was added is never
// part of the record.

// How participants were added.
const (
	AddedByImport = "import" // a file, on the page or through the API
	AddedByHand   = "manual" // one by one
)

// ParticipantAddition is one addition to a campaign's list after it opened.
type ParticipantAddition struct {
	ID         int64
	CampaignID int64
	AddedAt    time.Time
	Added      int
	UserID     *int64
	ByName     string // the account's name (or email) at the time
	Method     string
}

// recordAddition notes n participants added to c by an account, when c has
// opened; inside the transaction that added them, so the list never grows
// unrecorded.
func recordAddition(tx *gorm.DB, c *Campaign, n int, by *User, method string) error {
	if n == 0 || c.Status == StatusDraft {
		return nil
	}
	a := ParticipantAddition{CampaignID: c.ID, AddedAt: time.Now().UTC(), Added: n, Method: method}
	if by != nil {
		a.UserID, a.ByName = &by.ID, cmp.Or(by.Name, by.Email)
	}
	return tx.Create(&a).Error
}

// AdditionDay is what was added after opening on one day, by one account,
// one way.
type AdditionDay struct {
	Day    time.Time // midnight UTC
	Added  int
	By     string // "" when no account was recorded
	Method string
}

// ParticipantAdditions lists a campaign's additions after opening by day,
// account and method, oldest first.
func ParticipantAdditions(ctx context.Context, db *DB, campaignID int64) ([]AdditionDay, error) {
	var rows []ParticipantAddition
	if err := db.Read.WithContext(ctx).Where("campaign_id = ?", campaignID).Order("added_at, id").Find(&rows).Error; err != nil {
		return nil, err
	}
	var out []AdditionDay
	at := map[AdditionDay]int{} // key with Added 0 → index in out
	for _, r := range rows {
		t := r.AddedAt.UTC()
		k := AdditionDay{Day: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), By: r.ByName, Method: r.Method}
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, k)
		}
		out[i].Added += r.Added
	}
	return out, nil
}
