package survey

import (
	"time"

	"gorm.io/gorm"
)

// The demo's action plan (issue 16): a few actions planned after last
// year's wave, some done, one overdue, so a new user sees the board, and
// this year's results show "did it work?" at once. The practices of the
// done actions move a little more in this year's wave than the others.
// Written as rows (survey does not import survey/actions, which owns them).

type demoAction struct {
	title, body string
	subsection  string // its first two practices
	status      string
	due         int  // days from now
	owner       int  // 0 admin, 1 manager
	unit        int  // -1: the whole organisation, else a demo unit
	done        bool // moved in this year's wave
}

var demoActions = []demoAction{
	{"Map the complaint journey end to end", "Walk three real complaints through every hand-off with **service**, **retail** and **IT**; fix the two slowest steps first.",
		"managing-dissatisfaction", "done", -40, 1, -1, true},
	{"Win back lapsed business customers", "- List customers lost in the last 12 months\n- Call the top 50 with their former relationship manager\n- Offer a review, not a discount",
		"winback", "done", -20, 1, 1, true},
	{"Agree a customer management strategy", "A one-page strategy, agreed by the executive team, with budgets for the next two years.",
		"customer-management-strategy", "in_progress", 60, 0, -1, false},
	{"Train service staff in complaint handling", "Half-day sessions for every team lead, then for all agents.",
		"delivering-the-basics", "planned", -10, 1, 2, false},
}

// liftDemoActions makes this year's answers on the done actions'
// practices about half a level better.
func (g *demoGenerator) liftDemoActions() {
	for _, d := range demoActions {
		if !d.done {
			continue
		}
		for _, p := range g.demoActionPractices(d) {
			g.slotOffset[g.model.Slot(p, Intention)] += 0.4
			g.slotOffset[g.model.Slot(p, Reality)] += 0.6
		}
	}
}

func (g *demoGenerator) demoActionPractices(d demoAction) []*Practice {
	sub, ok := g.model.Subsection(d.subsection)
	if !ok {
		return nil
	}
	return sub.Practices[:min(2, len(sub.Practices))]
}

// writeDemoActions stores the demo's actions against the earlier wave.
func (g *demoGenerator) writeDemoActions(tx *gorm.DB, orgID, campaignID int64, owners [2]int64, now time.Time) error {
	day := func(d int) time.Time {
		t := now.AddDate(0, 0, d).UTC()
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	created := now.AddDate(0, -10, 0).UTC()
	for _, d := range demoActions {
		var doneAt any
		if d.status == "done" {
			doneAt = day(d.due - 5)
		}
		var id int64
		err := tx.Raw(`INSERT INTO actions (organisation_id, campaign_id, release_seq, title, body, owner_id, due_on, status, whole_org,
				created_by, created_at, updated_at, done_at, last_reminded_at)
			VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			orgID, campaignID, d.title, d.body, owners[d.owner], day(d.due), d.status, d.unit < 0, owners[0], created, created, doneAt, now.UTC()).
			Scan(&id).Error
		if err != nil {
			return err
		}
		for _, p := range g.demoActionPractices(d) {
			if err := tx.Exec(`INSERT INTO action_practices (action_id, practice_id) VALUES (?, ?)`, id, p.ID).Error; err != nil {
				return err
			}
		}
		if d.unit >= 0 {
			if err := tx.Exec(`INSERT INTO action_units (action_id, unit_id) VALUES (?, ?)`, id, g.unitIDs[d.unit]).Error; err != nil {
				return err
			}
		}
		if err := tx.Exec(`INSERT INTO action_audit (action_id, user_id, user_name, event, detail, at) VALUES (?, ?, ?, 'created', '', ?)`,
			id, owners[0], "Ada Admin", created).Error; err != nil {
			return err
		}
		if d.status == "done" {
			if err := tx.Exec(`INSERT INTO action_comments (action_id, author_id, author_name, body, created_at) VALUES (?, ?, ?, ?, ?)`,
				id, owners[1], "Max Manager", "Done; the team will keep the new routine.", doneAt).Error; err != nil {
				return err
			}
		}
	}
	return nil
}

// DemoActionTitles lists the demo's actions, for tests.
func DemoActionTitles() []string {
	out := make([]string, len(demoActions))
	for i, d := range demoActions {
		out[i] = d.title
	}
	return out
}
