package actions

import (
	"context"
	"math"
	"slices"
	"time"

	"gorm.io/gorm"

	"tiltline/survey"
)

// Targets: on a wave, per section (and optionally per unit), the CEM score
// the organisation aims for in the next wave. The wave's results show them
// as the aim; the next wave's results show them against what it measured.

// Target is one section's aim, set on a wave for the next one.
type Target struct {
	ID         int64
	CampaignID int64
	SectionID  string
	UnitID     *int64
	Target     float64
	SetBy      *int64
	UpdatedAt  time.Time
}

func (Target) TableName() string { return "section_targets" }

// Targets lists the targets set on a wave.
func Targets(ctx context.Context, db *survey.DB, campaignID int64) ([]Target, error) {
	var ts []Target
	return ts, db.Read.WithContext(ctx).Where("campaign_id = ?", campaignID).Order("section_id, unit_id").Find(&ts).Error
}

// SetTargets replaces the targets of a wave for one unit (nil: the whole
// organisation); a nil value removes a section's target. Planners only; a
// limited manager sets targets only for their own units.
func SetTargets(ctx context.Context, db *survey.DB, a Actor, m *survey.Model, c *survey.Campaign, unitID *int64, values map[string]*float64, now time.Time) error {
	if !a.Planner() || c.OrganisationID != a.OrgID {
		return ErrForbidden
	}
	if unitID == nil && a.Limited || unitID != nil && a.Limited && !slices.Contains(a.Units, *unitID) {
		return survey.FieldErrors{"unit": "actions.error.scope_limit"}
	}
	fe := survey.FieldErrors{}
	for sec, v := range values {
		if !slices.ContainsFunc(m.Sections, func(s *survey.Section) bool { return s.ID == sec }) {
			fe["target_"+sec] = "form.error.choice"
		} else if v != nil && (math.IsNaN(*v) || *v < 0 || *v > 100) {
			fe["target_"+sec] = "actions.error.target"
		}
	}
	if len(fe) > 0 {
		return fe
	}
	return db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if unitID != nil {
			var n int64
			if err := tx.Model(&survey.BusinessUnit{}).Where("id = ? AND organisation_id = ?", *unitID, a.OrgID).Count(&n).Error; err != nil || n == 0 {
				return survey.FieldErrors{"unit": "form.error.choice"}
			}
		}
		q := tx.Where("campaign_id = ?", c.ID)
		if unitID == nil {
			q = q.Where("unit_id IS NULL")
		} else {
			q = q.Where("unit_id = ?", *unitID)
		}
		if err := q.Delete(&Target{}).Error; err != nil {
			return err
		}
		secs := make([]string, 0, len(values))
		for s := range values {
			secs = append(secs, s)
		}
		slices.Sort(secs)
		for _, s := range secs {
			if v := values[s]; v != nil {
				uid := a.UserID
				t := Target{CampaignID: c.ID, SectionID: s, UnitID: unitID, Target: math.Round(*v*10) / 10, SetBy: &uid, UpdatedAt: now.UTC()}
				if err := tx.Create(&t).Error; err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// TargetResult is a section's target next to what a view measured.
type TargetResult struct {
	Section string
	Target  float64
	Score   survey.Num
	// Reached is nil when the view shows no score for the section.
	Reached *bool
}

// ForView picks the targets that apply to a view (the organisation's when
// no unit is chosen, the unit's when one is) and, when rep is the wave they
// were set for, says whether each was reached. The result follows the
// model's section order.
func ForView(ts []Target, m *survey.Model, rep *survey.Report) []TargetResult {
	var unit *int64
	if rep != nil {
		unit = rep.Filter.UnitID
	}
	var out []TargetResult
	for _, s := range m.Sections {
		for _, t := range ts {
			if t.SectionID != s.ID || (t.UnitID == nil) != (unit == nil) || t.UnitID != nil && *t.UnitID != *unit {
				continue
			}
			r := TargetResult{Section: s.ID, Target: t.Target}
			if rep != nil && !rep.Suppressed && s.Index < len(rep.Sections) {
				r.Score = rep.Sections[s.Index].CEM
				if r.Score != nil {
					ok := *r.Score >= t.Target
					r.Reached = &ok
				}
			}
			out = append(out, r)
		}
	}
	return out
}
