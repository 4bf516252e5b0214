package survey_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

// refuseUpdates makes the database itself refuse every update of one draft,
// as a constraint or a corrupt row would: a failure only the database sees.
func refuseUpdates(t *testing.T, db *survey.DB, key string) {
	t.Helper()
	stmts := []string{fmt.Sprintf(`CREATE TRIGGER refuse_draft BEFORE UPDATE ON drafts WHEN OLD.key = '%s' BEGIN SELECT RAISE(ABORT, 'refused'); END`, key)}
	if db.Dialect == "postgres" {
		stmts = []string{
			fmt.Sprintf(`CREATE FUNCTION refuse_draft() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF OLD.key = '%s' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$`, key),
			`CREATE TRIGGER refuse_draft BEFORE UPDATE ON drafts FOR EACH ROW EXECUTE FUNCTION refuse_draft()`,
		}
	}
	for _, s := range stmts {
		if err := db.Write.Exec(s).Error; err != nil {
			t.Fatal(err)
		}
	}
}

// countStatements counts the statements run through db from now on.
func countStatements(t *testing.T, db *survey.DB) *atomic.Int64 {
	t.Helper()
	n := new(atomic.Int64)
	name := "count:" + t.Name()
	count := func(*gorm.DB) { n.Add(1) }
	cb := db.Write.Callback()
	for _, err := range []error{
		cb.Query().After("gorm:query").Register(name, count),
		cb.Raw().After("gorm:raw").Register(name, count),
		cb.Row().After("gorm:row").Register(name, count),
		cb.Update().After("gorm:update").Register(name, count),
		cb.Create().After("gorm:create").Register(name, count),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// A batch of autosaves to many drafts is one UPDATE on Postgres, a read and
// an UPDATE on SQLite, whatever its size; a save that cannot apply (no such draft, no such slot, a draft
// the database refuses) fails alone and the others commit.
func TestSaveDraftsBatchesManyDraftsAndFailsOnlyTheBadOne(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			db, m, rs := respondents(t, dialect, 9)
			for _, r := range rs {
				if _, err := survey.StartDraft(ctx, db, m, r, survey.Profile{}); err != nil {
					t.Fatal(err)
				}
			}
			slots := m.AnswerSlots()
			good, refused := rs[:8], rs[8]

			// Every good draft gets two saves in the batch; the second one
			// overwrites slot 0, so order within the batch counts.
			var saves []survey.DraftSave
			for i, r := range good {
				saves = append(saves,
					survey.DraftSave{Key: r.DraftKey, Slots: []survey.SlotValue{{Slot: 0, Value: 1}, {Slot: i + 1, Value: 3}}},
					survey.DraftSave{Key: r.DraftKey, Slots: []survey.SlotValue{{Slot: 0, Value: byte(1 + i%5)}}})
			}
			stmts := countStatements(t, db)
			errs := survey.SaveDrafts(ctx, db, saves)
			for i, err := range errs {
				if err != nil {
					t.Fatalf("save %d: %v", i, err)
				}
			}
			want := int64(2)
			if dialect == "postgres" {
				want = 1
			}
			if n := stmts.Load(); n != want {
				t.Errorf("a batch of %d saves to %d drafts ran %d statements, want %d", len(saves), len(good), n, want)
			}

			// Now with bad saves among them.
			refuseUpdates(t, db, refused.DraftKey)
			bad := []survey.DraftSave{
				{Key: "no-such-draft", Slots: []survey.SlotValue{{Slot: 0, Value: 1}}},
				{Key: good[1].DraftKey, Slots: []survey.SlotValue{{Slot: 20, Value: 4}, {Slot: slots, Value: 4}}},
				{Key: refused.DraftKey, Slots: []survey.SlotValue{{Slot: 0, Value: 2}}},
			}
			var mixed []survey.DraftSave
			for i, r := range good {
				mixed = append(mixed, survey.DraftSave{Key: r.DraftKey, Slots: []survey.SlotValue{{Slot: 10, Value: byte(1 + i%5)}}})
				if i < len(bad) {
					mixed = append(mixed, bad[i])
				}
			}
			errs = survey.SaveDrafts(ctx, db, mixed)
			for i, sv := range mixed {
				var want error
				switch sv.Key {
				case "no-such-draft":
					want = survey.ErrNoDraft
				case good[1].DraftKey:
					if len(sv.Slots) == 2 {
						want = survey.ErrInvalidAnswer
					}
				}
				switch {
				case sv.Key == refused.DraftKey:
					if errs[i] == nil || errors.Is(errs[i], survey.ErrNoDraft) {
						t.Errorf("save to the refused draft: %v, want the database's error", errs[i])
					}
				case !errors.Is(errs[i], want) || want == nil && errs[i] != nil:
					t.Errorf("save %d: %v, want %v", i, errs[i], want)
				}
			}
			for i, r := range good {
				d, err := survey.LoadDraft(ctx, db, r.DraftKey)
				if err != nil {
					t.Fatal(err)
				}
				if d.Answers[0] != byte(1+i%5) || d.Answers[i+1] != 3 || d.Answers[10] != byte(1+i%5) {
					t.Errorf("draft %d: slots 0, %d, 10 = %d %d %d, want %d 3 %d", i, i+1, d.Answers[0], d.Answers[i+1], d.Answers[10], 1+i%5, 1+i%5)
				}
				if i == 1 && d.Answers[20] != 0 {
					t.Errorf("the invalid save to draft 1 wrote slot 20 = %d", d.Answers[20])
				}
			}
			if d, _ := survey.LoadDraft(ctx, db, refused.DraftKey); d == nil || d.Answers[0] != 0 {
				t.Error("the refused draft changed")
			}
		})
	}
}

// Through the Saver, concurrent autosaves are grouped into batches, and each
// caller hears back only once its answer is committed: the moment Save
// returns, another connection reads it. The draft the database refuses fails
// its own callers and no one else's.
func TestSaverAcknowledgesEachSaveAfterCommit(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			db, m, rs := respondents(t, dialect, 9)
			for _, r := range rs {
				if _, err := survey.StartDraft(ctx, db, m, r, survey.Profile{}); err != nil {
					t.Fatal(err)
				}
			}
			good, refused := rs[:8], rs[8]
			saver := survey.NewSaver(db)
			defer saver.Close()
			const perDraft = 24
			// saveAll saves perDraft slots of every draft at once, each from
			// its own goroutine, and checks each acknowledgement with check.
			saveAll := func(drafts []*survey.Respondent, slot0 int, check func(r *survey.Respondent, slot int, v byte, err error)) {
				var wg sync.WaitGroup
				for k := range perDraft {
					for i, r := range drafts {
						wg.Go(func() {
							slot, v := slot0+k, byte(1+(i+k)%5)
							check(r, slot, v, saver.Save(ctx, r.DraftKey, []survey.SlotValue{{Slot: slot, Value: v}}))
						})
					}
				}
				wg.Wait()
			}

			// Batching: far fewer statements than saves.
			stmts := countStatements(t, db)
			saveAll(good, 0, func(r *survey.Respondent, slot int, _ byte, err error) {
				if err != nil {
					t.Errorf("slot %d: %v", slot, err)
				}
			})
			saves := int64(perDraft * len(good))
			if n := stmts.Load(); n*2 > saves {
				t.Errorf("%d statements for %d saves: batches of fewer than two", n, saves)
			}
			t.Logf("%d saves in %d statements", saves, stmts.Load())

			// Acknowledged means committed; refused means refused alone.
			refuseUpdates(t, db, refused.DraftKey)
			var refusedOK atomic.Int64
			saveAll(rs, perDraft, func(r *survey.Respondent, slot int, v byte, err error) {
				if r == refused {
					if err == nil {
						refusedOK.Add(1)
					}
					return
				}
				if err != nil {
					t.Errorf("slot %d: %v", slot, err)
					return
				}
				d, err := survey.LoadDraft(ctx, db, r.DraftKey)
				if err != nil || d.Answers[slot] != v {
					t.Errorf("slot %d acknowledged but not readable after Save returned (%v)", slot, err)
				}
			})
			if n := refusedOK.Load(); n != 0 {
				t.Errorf("%d saves to the refused draft acknowledged", n)
			}
		})
	}
}

// Two instances on one database (two Savers) autosave to the same drafts at
// once: neither overwrites the other's answers.
func TestTwoSaversOnOneDatabaseLoseNoAnswer(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			db, m, rs := respondents(t, dialect, 3)
			for _, r := range rs {
				if _, err := survey.StartDraft(ctx, db, m, r, survey.Profile{}); err != nil {
					t.Fatal(err)
				}
			}
			savers := []*survey.Saver{survey.NewSaver(db), survey.NewSaver(db)}
			defer savers[0].Close()
			defer savers[1].Close()
			slots := m.AnswerSlots()
			var wg sync.WaitGroup
			for slot := range slots {
				for _, r := range rs {
					wg.Go(func() {
						if err := savers[slot%2].Save(ctx, r.DraftKey, []survey.SlotValue{{Slot: slot, Value: byte(1 + slot%5)}}); err != nil {
							t.Error(err)
						}
					})
				}
			}
			wg.Wait()
			for _, r := range rs {
				d, err := survey.LoadDraft(ctx, db, r.DraftKey)
				if err != nil {
					t.Fatal(err)
				}
				for slot := range slots {
					if d.Answers[slot] != byte(1+slot%5) {
						t.Fatalf("slot %d = %d after both instances saved, want %d", slot, d.Answers[slot], 1+slot%5)
					}
				}
			}
		})
	}
}
