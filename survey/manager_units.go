package survey

import (
	"context"
	"errors"
	"slices"

	"gorm.io/gorm"
)

// A manager reads either the whole organisation, which is an explicit
// choice (User.AllUnits), or only the units listed for them: their results
// then show only those units, never the whole organisation or another
// unit. A limit fails closed: a manager with no units listed (a new
// account, or one whose units were all deleted) reads nothing, so deleting
// a unit never widens anyone's access.

type ManagerUnit struct {
	UserID int64
	UnitID int64
}

// ErrNotManager: units can only be given to a manager of the same organisation.
var ErrNotManager = errors.New("units can only be assigned to a manager of this organisation")

// ErrUnknownUnit: a unit given for a manager is not (or no longer) one of
// the organisation's; nothing was changed.
var ErrUnknownUnit = errors.New("no such unit in this organisation")

// ErrNoUnits: "only these units" with none chosen.
var ErrNoUnits = errors.New("choose at least one unit, or the whole organisation")

// ManagerUnits lists the existing units a manager is limited to; what it
// means when empty depends on User.AllUnits.
func ManagerUnits(ctx context.Context, db *DB, userID int64) ([]int64, error) {
	ids := []int64{}
	err := db.Read.WithContext(ctx).Model(&ManagerUnit{}).
		Joins("JOIN business_units ON business_units.id = manager_units.unit_id").
		Joins("JOIN users ON users.id = manager_units.user_id AND users.organisation_id = business_units.organisation_id").
		Where("manager_units.user_id = ?", userID).Order("manager_units.unit_id").Pluck("manager_units.unit_id", &ids).Error
	return ids, err
}

// OrgManagerUnits maps each limited manager of an organisation to their units.
func OrgManagerUnits(ctx context.Context, db *DB, orgID int64) (map[int64][]int64, error) {
	var rows []ManagerUnit
	err := db.Read.WithContext(ctx).Model(&ManagerUnit{}).
		Joins("JOIN business_units ON business_units.id = manager_units.unit_id").
		Where("business_units.organisation_id = ?", orgID).Order("manager_units.unit_id").Find(&rows).Error
	out := map[int64][]int64{}
	for _, r := range rows {
		out[r.UserID] = append(out[r.UserID], r.UnitID)
	}
	return out, err
}

// SetManagerUnits gives a manager the whole organisation (all) or only the
// units listed, which must all be the organisation's and at least one.
func SetManagerUnits(ctx context.Context, db *DB, orgID, userID int64, all bool, unitIDs []int64) error {
	slices.Sort(unitIDs)
	unitIDs = slices.Compact(unitIDs)
	if all {
		unitIDs = nil
	} else if len(unitIDs) == 0 {
		return ErrNoUnits
	}
	return db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var u User
		if err := tx.Where("id = ? AND organisation_id = ? AND role = ?", userID, orgID, RoleManager).First(&u).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return ErrNotManager
			}
			return err
		}
		if len(unitIDs) > 0 {
			var n int64
			if err := tx.Model(&BusinessUnit{}).Where("organisation_id = ? AND id IN ?", orgID, unitIDs).Count(&n).Error; err != nil {
				return err
			}
			if n != int64(len(unitIDs)) {
				return ErrUnknownUnit
			}
		}
		if err := tx.Where("user_id = ?", userID).Delete(&ManagerUnit{}).Error; err != nil {
			return err
		}
		if err := tx.Model(&User{}).Where("id = ?", userID).Update("all_units", all).Error; err != nil {
			return err
		}
		if len(unitIDs) == 0 {
			return nil
		}
		rows := make([]ManagerUnit, 0, len(unitIDs))
		for _, id := range unitIDs {
			rows = append(rows, ManagerUnit{UserID: userID, UnitID: id})
		}
		return tx.Create(&rows).Error
	})
}
