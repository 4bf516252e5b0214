package actions

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"tiltline/survey"
	"tiltline/survey/outbox"
)

// Mails about actions go through the outbox like every other mail: queued
// here in the transaction that decides them, written in the recipient's
// language and sent by the mail worker (server/actions_mail.go), which
// reads the action when it sends, so a mail never shows stale text.
//
//   - assigned: to a new owner who is not the one assigning;
//   - reminder: to the owner of an open action, from a week before its due
//     day, and again while it is overdue, at most once a week per action
//     (actions.last_reminded_at; an assignment counts as one);
//   - digest: weekly, to the org admins of an organisation that asked for
//     it (action_settings), while it has open actions.

// RemindEvery is the least time between two mails about one action, and
// how long before its due day the first reminder goes.
const RemindEvery = 7 * 24 * time.Hour

// queueMail inserts one outbox job. It is the only place this package
// writes the outbox.
func queueMail(tx *gorm.DB, kind, recipient, locale string, actionID *int64, now time.Time) error {
	return tx.Exec(`INSERT INTO outbox (kind, recipient, locale, action_id, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		kind, recipient, locale, actionID, now.UTC(), now.UTC()).Error
}

// queueAssigned tells the action's owner it is theirs, unless they gave it
// to themselves.
func queueAssigned(tx *gorm.DB, x *Action, a Actor, now time.Time) error {
	if x.OwnerID == nil || *x.OwnerID == a.UserID {
		return nil
	}
	var u survey.User
	if err := tx.Select("id", "email", "locale").First(&u, *x.OwnerID).Error; err != nil {
		return err
	}
	if err := queueMail(tx, outbox.MailActionAssigned, u.Email, u.Locale, &x.ID, now); err != nil {
		return err
	}
	t := now.UTC()
	x.LastRemindedAt = &t
	return tx.Model(&Action{}).Where("id = ?", x.ID).Update("last_reminded_at", t).Error
}

// QueueReminders queues the reminders and digests due at now and returns
// how many mails it queued. Any number of instances may run it: each
// action's and organisation's mail is claimed by a guarded update first.
func QueueReminders(ctx context.Context, db *survey.DB, now time.Time) (int, error) {
	now = now.UTC()
	weekAgo := now.Add(-RemindEvery)
	type due struct {
		ID     int64
		Email  string
		Locale string
	}
	var rows []due
	err := db.Read.WithContext(ctx).Table("actions a").Select("a.id, u.email, u.locale").
		Joins("JOIN users u ON u.id = a.owner_id AND u.organisation_id = a.organisation_id").
		Where("a.deleted_at IS NULL AND a.status IN ? AND a.due_on <= ?", []string{Planned, InProgress}, now.Add(RemindEvery)).
		Where("a.last_reminded_at IS NULL OR a.last_reminded_at <= ?", weekAgo).
		Order("a.id").Limit(1000).Scan(&rows).Error
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range rows {
		err := db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			res := tx.Model(&Action{}).Where("id = ? AND (last_reminded_at IS NULL OR last_reminded_at <= ?)", r.ID, weekAgo).
				Update("last_reminded_at", now)
			if res.Error != nil || res.RowsAffected == 0 {
				return res.Error
			}
			n++
			return queueMail(tx, outbox.MailActionReminder, r.Email, r.Locale, &r.ID, now)
		})
		if err != nil {
			return n, err
		}
	}
	d, err := queueDigests(ctx, db, now)
	return n + d, err
}

// Settings are an organisation's choices about action mail.
type Settings struct {
	OrganisationID int64 `gorm:"primaryKey"`
	WeeklyDigest   bool
	LastDigestAt   *time.Time
}

func (Settings) TableName() string { return "action_settings" }

// SettingsOf reads an organisation's settings (the defaults when none are stored).
func SettingsOf(ctx context.Context, db *survey.DB, orgID int64) (Settings, error) {
	s := Settings{OrganisationID: orgID}
	err := db.Read.WithContext(ctx).Where("organisation_id = ?", orgID).Take(&s).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return s, nil
	}
	return s, err
}

// SetDigest turns the weekly digest on or off: org admins only.
func SetDigest(ctx context.Context, db *survey.DB, a Actor, on bool) error {
	if !a.Admin() || a.OrgID == 0 {
		return ErrForbidden
	}
	return db.Write.WithContext(ctx).Exec(`INSERT INTO action_settings (organisation_id, weekly_digest) VALUES (?, ?)
		ON CONFLICT (organisation_id) DO UPDATE SET weekly_digest = excluded.weekly_digest`, a.OrgID, on).Error
}

func queueDigests(ctx context.Context, db *survey.DB, now time.Time) (int, error) {
	weekAgo := now.Add(-RemindEvery)
	var orgs []int64
	err := db.Read.WithContext(ctx).Model(&Settings{}).
		Where("weekly_digest = ? AND (last_digest_at IS NULL OR last_digest_at <= ?)", true, weekAgo).
		Where("EXISTS (SELECT 1 FROM actions a WHERE a.organisation_id = action_settings.organisation_id AND a.deleted_at IS NULL AND a.status IN ?)", []string{Planned, InProgress}).
		Order("organisation_id").Pluck("organisation_id", &orgs).Error
	if err != nil {
		return 0, err
	}
	n := 0
	for _, org := range orgs {
		err := db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			res := tx.Model(&Settings{}).Where("organisation_id = ? AND (last_digest_at IS NULL OR last_digest_at <= ?)", org, weekAgo).
				Update("last_digest_at", now)
			if res.Error != nil || res.RowsAffected == 0 {
				return res.Error
			}
			var admins []survey.User
			if err := tx.Select("id", "email", "locale").Where("organisation_id = ? AND role = ?", org, survey.RoleOrgAdmin).Find(&admins).Error; err != nil {
				return err
			}
			for _, u := range admins {
				if err := queueMail(tx, outbox.MailActionDigest, u.Email, u.Locale, nil, now); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// ActorOf is an account as an actor, for mails written on its behalf.
func ActorOf(ctx context.Context, db *survey.DB, u *survey.User) (Actor, error) {
	a := Actor{UserID: u.ID, Name: NameOf(u), Role: u.Role}
	if u.OrganisationID != nil {
		a.OrgID = *u.OrganisationID
	}
	if u.Role == survey.RoleManager && !u.AllUnits {
		units, err := survey.ManagerUnits(ctx, db, u.ID)
		if err != nil {
			return a, err
		}
		a.Limited, a.Units = true, units
	}
	return a, nil
}

// NameOf is how an account is named in comments and the audit.
func NameOf(u *survey.User) string {
	if u.Name != "" {
		return u.Name
	}
	return u.Email
}
