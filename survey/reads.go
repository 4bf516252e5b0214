package survey

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm/clause"
)

// Read marks of the learning path: a signed-in user ticks off a portal page
// (a sub-section slug) once they have worked through it. Marks belong to the
// person, not to an organisation or a campaign, and go with the account.

// PageRead is one row of page_reads (migration 00006).
type PageRead struct {
	UserID int64  `gorm:"primaryKey;autoIncrement:false"`
	Slug   string `gorm:"primaryKey"`
	ReadAt time.Time
}

// ErrBadSlug is a read mark for a slug that cannot be a page.
var ErrBadSlug = errors.New("bad page slug")

// maxSlugLen bounds what a mark may store; model slugs are far shorter.
const maxSlugLen = 100

func checkSlug(slug string) error {
	if slug == "" || len(slug) > maxSlugLen {
		return ErrBadSlug
	}
	return nil
}

// MarkRead records that the user read the page. Marking a page read again
// keeps the first date: it is when the reader got there.
func MarkRead(ctx context.Context, db *DB, userID int64, slug string, at time.Time) error {
	if err := checkSlug(slug); err != nil {
		return err
	}
	return db.Write.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&PageRead{UserID: userID, Slug: slug, ReadAt: at.UTC()}).Error
}

// MarkUnread removes the user's mark of the page; unmarking an unread page
// does nothing.
func MarkUnread(ctx context.Context, db *DB, userID int64, slug string) error {
	if err := checkSlug(slug); err != nil {
		return err
	}
	return db.Write.WithContext(ctx).Where("user_id = ? AND slug = ?", userID, slug).Delete(&PageRead{}).Error
}

// ReadSlugs returns the pages the user marked read, by slug, with the date
// of the mark.
func ReadSlugs(ctx context.Context, db *DB, userID int64) (map[string]time.Time, error) {
	var rows []PageRead
	if err := db.Read.WithContext(ctx).Where("user_id = ?", userID).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make(map[string]time.Time, len(rows))
	for _, r := range rows {
		out[r.Slug] = r.ReadAt
	}
	return out, nil
}
