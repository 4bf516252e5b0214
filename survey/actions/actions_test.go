package actions_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"tiltline/survey"
	"tiltline/survey/actions"
	"tiltline/survey/surveytest"
)

// world is one organisation with two units, an admin, a manager of the
// whole organisation, a manager limited to unit A, a learner, and a
// second organisation with a manager of its own.
type world struct {
	db                              *survey.DB
	m                               *survey.Model
	org, other                      int64
	unitA, unitB, otherUnit         int64
	admin, allMgr, unitMgr, learner actions.Actor
	outsider                        actions.Actor
	campaign                        int64
}

var now = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func newWorld(t *testing.T, dialect string) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{db: surveytest.Open(t, dialect), m: surveytest.Model(t)}
	mk := func(name string) int64 {
		o, err := survey.SaveOrganisation(ctx, w.db, 0, survey.OrgInput{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		return o.ID
	}
	w.org, w.other = mk("Org"), mk("Other")
	unit := func(org int64, name string) int64 {
		u, err := survey.AddUnit(ctx, w.db, org, name)
		if err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	w.unitA, w.unitB, w.otherUnit = unit(w.org, "A"), unit(w.org, "B"), unit(w.other, "X")
	user := func(email, role string, org int64) actions.Actor {
		u, err := survey.CreateUserWithPassword(ctx, w.db, email, "", role, &org, "correct horse battery")
		if err != nil {
			t.Fatal(err)
		}
		return actions.Actor{UserID: u.ID, Name: email, OrgID: org, Role: role}
	}
	w.admin = user("admin@org.example", survey.RoleOrgAdmin, w.org)
	w.allMgr = user("all@org.example", survey.RoleManager, w.org)
	if err := survey.SetManagerUnits(ctx, w.db, w.org, w.allMgr.UserID, true, nil); err != nil {
		t.Fatal(err)
	}
	w.unitMgr = user("unit@org.example", survey.RoleManager, w.org)
	if err := survey.SetManagerUnits(ctx, w.db, w.org, w.unitMgr.UserID, false, []int64{w.unitA}); err != nil {
		t.Fatal(err)
	}
	w.unitMgr.Limited, w.unitMgr.Units = true, []int64{w.unitA}
	w.learner = user("learner@org.example", survey.RoleLearner, w.org)
	w.outsider = user("mgr@other.example", survey.RoleManager, w.other)
	c, err := survey.CreateCampaign(ctx, w.db, w.org, w.m.Version, survey.CampaignInput{Name: "Wave 1", Locales: []string{"en"}, KMin: 5})
	if err != nil {
		t.Fatal(err)
	}
	w.campaign = c.ID
	return w
}

func (w *world) input(owner int64, units ...int64) actions.Input {
	return actions.Input{Title: "Map the complaint journey", Body: "Workshops with **service**.", OwnerID: owner,
		DueOn: now.AddDate(0, 0, 30), Practices: []string{w.m.Practices()[0].ID}, WholeOrg: len(units) == 0, Units: units, CampaignID: w.campaign}
}

func fieldError(err error) string {
	var fe survey.FieldErrors
	if errors.As(err, &fe) {
		for k, v := range fe {
			return k + ":" + v
		}
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func TestCreateRules(t *testing.T) {
	w := newWorld(t, "sqlite")
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		actor func() actions.Actor
		in    func() actions.Input
		want  string
	}{
		{"admin plans for the whole organisation", func() actions.Actor { return w.admin }, func() actions.Input { return w.input(w.allMgr.UserID) }, ""},
		{"limited manager plans for their own unit", func() actions.Actor { return w.unitMgr }, func() actions.Input { return w.input(w.unitMgr.UserID, w.unitA) }, ""},
		{"limited manager may not plan for the whole organisation", func() actions.Actor { return w.unitMgr }, func() actions.Input { return w.input(w.unitMgr.UserID) }, "scope:actions.error.scope_limit"},
		{"limited manager may not plan for another unit", func() actions.Actor { return w.unitMgr }, func() actions.Input { return w.input(w.unitMgr.UserID, w.unitA, w.unitB) }, "scope:actions.error.scope_limit"},
		{"manager of the whole organisation plans for any unit", func() actions.Actor { return w.allMgr }, func() actions.Input { return w.input(w.admin.UserID, w.unitB) }, ""},
		{"a unit of another organisation is refused", func() actions.Actor { return w.admin }, func() actions.Input { return w.input(w.admin.UserID, w.otherUnit) }, "scope:actions.error.scope"},
		{"the owner may be a learner of the organisation", func() actions.Actor { return w.admin }, func() actions.Input { return w.input(w.learner.UserID) }, ""},
		{"the owner must belong to the organisation", func() actions.Actor { return w.admin }, func() actions.Input { return w.input(w.outsider.UserID) }, "owner:actions.error.owner"},
		{"an owner that does not exist is refused", func() actions.Actor { return w.admin }, func() actions.Input { return w.input(999999) }, "owner:actions.error.owner"},
		{"a practice the model does not have is refused", func() actions.Actor { return w.admin }, func() actions.Input {
			in := w.input(w.admin.UserID)
			in.Practices = []string{"ZZ-99"}
			return in
		}, "practices:actions.error.practices"},
		{"at least one practice", func() actions.Actor { return w.admin }, func() actions.Input {
			in := w.input(w.admin.UserID)
			in.Practices = nil
			return in
		}, "practices:actions.error.practices"},
		{"a due day in the past is refused", func() actions.Actor { return w.admin }, func() actions.Input {
			in := w.input(w.admin.UserID)
			in.DueOn = now.AddDate(0, 0, -1)
			return in
		}, "due_on:actions.error.due_past"},
		{"a campaign of another organisation is refused", func() actions.Actor { return w.outsider }, func() actions.Input { return w.input(w.outsider.UserID) }, "campaign:form.error.choice"},
		{"a learner cannot plan", func() actions.Actor { return w.learner }, func() actions.Input { return w.input(w.learner.UserID) }, actions.ErrForbidden.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := actions.Create(ctx, w.db, tc.actor(), w.m, tc.in(), now)
			if got := fieldError(err); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestStatusChanges(t *testing.T) {
	for _, tc := range []struct {
		from, to string
		ok       bool
	}{
		{actions.Planned, actions.InProgress, true},
		{actions.Planned, actions.Done, true},
		{actions.Planned, actions.Dropped, true},
		{actions.InProgress, actions.Planned, true},
		{actions.InProgress, actions.Done, true},
		{actions.Done, actions.InProgress, true},
		{actions.Done, actions.Planned, false},
		{actions.Done, actions.Dropped, false},
		{actions.Dropped, actions.Planned, true},
		{actions.Dropped, actions.Done, false},
		{actions.Done, actions.Done, true},
	} {
		if got := actions.CanMove(tc.from, tc.to); got != tc.ok {
			t.Errorf("%s → %s: got %v, want %v", tc.from, tc.to, got, tc.ok)
		}
	}
	w := newWorld(t, "sqlite")
	ctx := context.Background()
	x, err := actions.Create(ctx, w.db, w.admin, w.m, w.input(w.learner.UserID), now)
	if err != nil {
		t.Fatal(err)
	}
	x, err = actions.SetStatus(ctx, w.db, w.learner, w.m, x.ID, actions.Done, now)
	if err != nil || x.Status != actions.Done || x.DoneAt == nil {
		t.Fatalf("owner marks done: %v %+v", err, x)
	}
	if _, err := actions.SetStatus(ctx, w.db, w.admin, w.m, x.ID, actions.Dropped, now); fieldError(err) != "status:actions.error.status" {
		t.Fatalf("done → dropped: %v", err)
	}
	in := actions.InputOf(x)
	in.Title = "Something else"
	if _, err := actions.Update(ctx, w.db, w.learner, w.m, x.ID, in, now); !errors.Is(err, actions.ErrForbidden) {
		t.Fatalf("the owner changes only the status; got %v", err)
	}
}

func TestWhoSeesAndEdits(t *testing.T) {
	w := newWorld(t, "sqlite")
	ctx := context.Background()
	org, err := actions.Create(ctx, w.db, w.admin, w.m, w.input(w.allMgr.UserID), now)
	if err != nil {
		t.Fatal(err)
	}
	inA, err := actions.Create(ctx, w.db, w.admin, w.m, w.input(w.admin.UserID, w.unitA), now)
	if err != nil {
		t.Fatal(err)
	}
	inAB, err := actions.Create(ctx, w.db, w.admin, w.m, w.input(w.admin.UserID, w.unitA, w.unitB), now)
	if err != nil {
		t.Fatal(err)
	}
	ownedB, err := actions.Create(ctx, w.db, w.admin, w.m, w.input(w.unitMgr.UserID, w.unitB), now)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		actor       actions.Actor
		id          int64
		sees, edits bool
	}{
		{"admin sees and edits everything", w.admin, inAB.ID, true, true},
		{"limited manager does not see an organisation-wide action", w.unitMgr, org.ID, false, false},
		{"limited manager edits an action of their unit", w.unitMgr, inA.ID, true, true},
		{"limited manager sees but does not edit an action spanning another unit", w.unitMgr, inAB.ID, true, false},
		{"an owner sees their action outside their units, without editing it", w.unitMgr, ownedB.ID, true, false},
		{"a learner sees nothing they do not own", w.learner, inA.ID, false, false},
		{"another organisation sees nothing", w.outsider, inA.ID, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, err := actions.Get(ctx, w.db, tc.actor, tc.id)
			if sees := err == nil; sees != tc.sees {
				t.Fatalf("sees: got %v (%v), want %v", sees, err, tc.sees)
			}
			if !tc.sees {
				if !errors.Is(err, actions.ErrNotFound) {
					t.Fatalf("want not found, got %v", err)
				}
				return
			}
			if got := tc.actor.Edits(x); got != tc.edits {
				t.Fatalf("edits: got %v, want %v", got, tc.edits)
			}
		})
	}
	list, err := actions.List(ctx, w.db, w.unitMgr, actions.Filter{})
	if err != nil || len(list) != 3 {
		t.Fatalf("limited manager's board: %d actions, %v; want the 3 of unit A or owned", len(list), err)
	}
	if err := actions.Delete(ctx, w.db, w.unitMgr, inAB.ID, now); !errors.Is(err, actions.ErrForbidden) {
		t.Fatalf("delete outside limits: %v", err)
	}
}

func TestAuditKeepsWhoDidWhat(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			w := newWorld(t, dialect)
			ctx := context.Background()
			x, err := actions.Create(ctx, w.db, w.allMgr, w.m, w.input(w.allMgr.UserID), now)
			if err != nil {
				t.Fatal(err)
			}
			in := actions.InputOf(x)
			in.Status, in.OwnerID = actions.InProgress, w.admin.UserID
			if _, err := actions.Update(ctx, w.db, w.allMgr, w.m, x.ID, in, now.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if _, err := actions.AddComment(ctx, w.db, w.admin, x.ID, "Budget agreed.", now); err != nil {
				t.Fatal(err)
			}
			if err := actions.Delete(ctx, w.db, w.allMgr, x.ID, now.Add(2*time.Hour)); err != nil {
				t.Fatal(err)
			}
			if _, err := actions.Get(ctx, w.db, w.admin, x.ID); !errors.Is(err, actions.ErrNotFound) {
				t.Fatalf("deleted action still shows: %v", err)
			}
			if _, err := actions.Audit(ctx, w.db, w.allMgr, x.ID); !errors.Is(err, actions.ErrNotFound) {
				t.Fatalf("a manager reads the audit: %v", err)
			}
			es, err := actions.Audit(ctx, w.db, w.admin, x.ID)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range es {
				got = append(got, e.Event+" "+e.UserName+" "+e.Detail)
			}
			want := []string{"created all@org.example ", "changed all@org.example owner,status=in_progress", "deleted all@org.example "}
			if len(got) != len(want) {
				t.Fatalf("audit %q, want %q", got, want)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("audit %q, want %q", got, want)
				}
			}
			if _, err := actions.Audit(ctx, w.db, actions.Actor{UserID: w.outsider.UserID, OrgID: w.other, Role: survey.RoleOrgAdmin}, x.ID); !errors.Is(err, actions.ErrNotFound) {
				t.Fatalf("another organisation's admin reads the audit: %v", err)
			}
		})
	}
}

// outboxKinds lists the queued action mails as "kind recipient".
func outboxKinds(t *testing.T, db *survey.DB) []string {
	t.Helper()
	var out []string
	for _, r := range surveytest.Rows(t, db.Read, `SELECT kind, recipient FROM outbox WHERE kind LIKE 'action_%' ORDER BY id`) {
		out = append(out, r[0]+" "+r[1])
	}
	return out
}

func TestRemindersAtMostWeekly(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			w := newWorld(t, dialect)
			ctx := context.Background()
			in := w.input(w.learner.UserID)
			in.DueOn = now.AddDate(0, 0, 10)
			x, err := actions.Create(ctx, w.db, w.admin, w.m, in, now)
			if err != nil {
				t.Fatal(err)
			}
			if got := outboxKinds(t, w.db); len(got) != 1 || got[0] != "action_assigned learner@org.example" {
				t.Fatalf("after assigning: %q", got)
			}
			steps := []struct {
				days int
				want int
			}{
				{1, 0},  // not due within a week, and just assigned
				{6, 0},  // due in 4 days, but the assignment was under a week ago
				{7, 1},  // a week before the due day has passed: reminded
				{8, 0},  // at most once a week
				{13, 0}, // overdue by 3 days, but reminded 6 days ago
				{14, 1}, // overdue: reminded again
				{20, 0},
			}
			for _, s := range steps {
				n, err := actions.QueueReminders(ctx, w.db, now.AddDate(0, 0, s.days))
				if err != nil || n != s.want {
					t.Fatalf("day %d: queued %d (%v), want %d", s.days, n, err, s.want)
				}
			}
			if _, err := actions.SetStatus(ctx, w.db, w.learner, w.m, x.ID, actions.Done, now.AddDate(0, 0, 20)); err != nil {
				t.Fatal(err)
			}
			if n, _ := actions.QueueReminders(ctx, w.db, now.AddDate(0, 0, 40)); n != 0 {
				t.Fatalf("a done action is reminded: %d", n)
			}
			// The weekly digest goes to the org admins once a week while actions are open.
			later := w.input(w.admin.UserID)
			later.DueOn = now.AddDate(0, 0, 90)
			if _, err := actions.Create(ctx, w.db, w.admin, w.m, later, now.AddDate(0, 0, 40)); err != nil {
				t.Fatal(err)
			}
			if err := actions.SetDigest(ctx, w.db, w.unitMgr, true); !errors.Is(err, actions.ErrForbidden) {
				t.Fatalf("a manager sets the digest: %v", err)
			}
			if err := actions.SetDigest(ctx, w.db, w.admin, true); err != nil {
				t.Fatal(err)
			}
			for _, s := range []struct{ days, want int }{{41, 1}, {45, 0}, {48, 1}} {
				if n, err := actions.QueueReminders(ctx, w.db, now.AddDate(0, 0, s.days)); err != nil || n != s.want {
					t.Fatalf("digest day %d: %d (%v), want %d", s.days, n, err, s.want)
				}
			}
			got := outboxKinds(t, w.db)
			want := []string{"action_assigned learner@org.example", "action_reminder learner@org.example", "action_reminder learner@org.example",
				"action_digest admin@org.example", "action_digest admin@org.example"}
			if len(got) != len(want) {
				t.Fatalf("outbox %q, want %q", got, want)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("outbox %q, want %q", got, want)
				}
			}
		})
	}
}

func TestTargetsReached(t *testing.T) {
	w := newWorld(t, "sqlite")
	ctx := context.Background()
	c, err := survey.CampaignOf(ctx, w.db, w.org, w.campaign)
	if err != nil {
		t.Fatal(err)
	}
	sec := w.m.Sections[0].ID
	v, bad := 40.0, 140.0
	if err := actions.SetTargets(ctx, w.db, w.unitMgr, w.m, c, nil, map[string]*float64{sec: &v}, now); fieldError(err) != "unit:actions.error.scope_limit" {
		t.Fatalf("limited manager sets organisation targets: %v", err)
	}
	if err := actions.SetTargets(ctx, w.db, w.admin, w.m, c, nil, map[string]*float64{sec: &bad}, now); fieldError(err) != "target_"+sec+":actions.error.target" {
		t.Fatalf("target above 100: %v", err)
	}
	if err := actions.SetTargets(ctx, w.db, w.admin, w.m, c, nil, map[string]*float64{sec: &v}, now); err != nil {
		t.Fatal(err)
	}
	if err := actions.SetTargets(ctx, w.db, w.unitMgr, w.m, c, &w.unitA, map[string]*float64{sec: &bad}, now); err == nil {
		t.Fatal("unit target above 100 accepted")
	}
	ts, err := actions.Targets(ctx, w.db, c.ID)
	if err != nil || len(ts) != 1 {
		t.Fatalf("targets %v %v", ts, err)
	}
	score := func(x float64) *survey.Report {
		rep := &survey.Report{Sections: make([]survey.ReportSection, len(w.m.Sections))}
		rep.Sections[0].CEM = &x
		return rep
	}
	if r := actions.ForView(ts, w.m, score(41)); len(r) != 1 || r[0].Reached == nil || !*r[0].Reached {
		t.Fatalf("41 ≥ 40 not reached: %+v", r)
	}
	if r := actions.ForView(ts, w.m, score(39.9)); len(r) != 1 || *r[0].Reached {
		t.Fatalf("39.9 < 40 reached: %+v", r)
	}
	unitView := score(45)
	unitView.Filter.UnitID = &w.unitA
	if r := actions.ForView(ts, w.m, unitView); len(r) != 0 {
		t.Fatalf("an organisation target applied to a unit's view: %+v", r)
	}
	if r := actions.ForView(ts, w.m, &survey.Report{Suppressed: true}); len(r) != 1 || r[0].Reached != nil {
		t.Fatalf("a suppressed view says whether a target was reached: %+v", r)
	}
}
