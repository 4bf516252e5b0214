package survey

import (
	"context"
	"errors"
	"slices"

	"gorm.io/gorm"
)

// A manager can be limited to some business units: their results then show
// only those units, never the whole organisation or another unit. A manager
// with no units listed sees the whole organisation.

type ManagerUnit struct {
	UserID int64
	UnitID int64
}

// ErrNotManager: units can only be given to a manager of the same organisation.
var ErrNotManager = errors.New("units can only be assigned to a manager of this organisation")

// ManagerUnits lists the units a user is limited to; empty means no limit.
func ManagerUnits(ctx context.Context, db *DB, userID int64) ([]int64, error) {
	var ids []int64
	err := db.Read.WithContext(ctx).Model(&ManagerUnit{}).Where("user_id = ?", userID).Order("unit_id").Pluck("unit_id", &ids).Error
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

// SetManagerUnits replaces a manager's units; unknown or foreign unit ids are ignored.
func SetManagerUnits(ctx context.Context, db *DB, orgID, userID int64, unitIDs []int64) error {
	return db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var u User
		if err := tx.Where("id = ? AND organisation_id = ? AND role = ?", userID, orgID, RoleManager).First(&u).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return ErrNotManager
			}
			return err
		}
		var valid []int64
		if len(unitIDs) > 0 {
			if err := tx.Model(&BusinessUnit{}).Where("organisation_id = ? AND id IN ?", orgID, unitIDs).Pluck("id", &valid).Error; err != nil {
				return err
			}
		}
		if err := tx.Where("user_id = ?", userID).Delete(&ManagerUnit{}).Error; err != nil {
			return err
		}
		slices.Sort(valid)
		rows := make([]ManagerUnit, 0, len(valid))
		for _, id := range slices.Compact(valid) {
			rows = append(rows, ManagerUnit{UserID: userID, UnitID: id})
		}
		if len(rows) == 0 {
			return nil
		}
		return tx.Create(&rows).Error
	})
}
