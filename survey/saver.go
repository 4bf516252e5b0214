package survey

import (
	"context"
	"database/sql/driver"
	"errors"
	"hash/fnv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Saver stores autosaved answers with group commit: requests that arrive
// within a millisecond or two share one transaction, and each caller returns
// only after that transaction commits. Throughput without giving up
// durability: an acknowledged answer is in the database.
type Saver struct {
	db      *DB
	queues  []chan saveReq
	linger  time.Duration
	maxSize int
}

type saveReq struct {
	DraftSave
	errc chan error
}

// DraftSave is one autosave: answers for one draft's slots.
type DraftSave struct {
	Key   string
	Slots []SlotValue
}

// NewSaver starts the writer. One on either database: on SQLite there is
// one write connection anyway; on Postgres a batch is one statement, and
// what arrives while it commits makes the next batch, so one writer makes
// the fewest, fullest commits. With four writers, each owning a quarter of
// the drafts, c=16 autosaves made 0.28 commits per save and one writer 0.09,
// at the same throughput on a busy machine (fsync, not the writer, is the
// limit: pg_stat_activity shows the backends in WALSync and WALWrite).
func NewSaver(db *DB) *Saver {
	const workers = 1
	s := &Saver{db: db, linger: time.Millisecond, maxSize: 64}
	for range workers {
		q := make(chan saveReq, 1024)
		s.queues = append(s.queues, q)
		go s.run(q)
	}
	return s
}

// Close stops the writers after the queued requests are handled.
func (s *Saver) Close() {
	for _, q := range s.queues {
		close(q)
	}
}

// Save applies the answers to the draft and returns once they are committed.
func (s *Saver) Save(ctx context.Context, key string, slots []SlotValue) error {
	h := fnv.New32a()
	h.Write([]byte(key))
	req := saveReq{DraftSave: DraftSave{Key: key, Slots: slots}, errc: make(chan error, 1)}
	select {
	case s.queues[int(h.Sum32())%len(s.queues)] <- req:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.errc:
		return err
	case <-ctx.Done():
		// The write may still commit; the client retries and the retry is idempotent.
		return ctx.Err()
	}
}

func (s *Saver) run(q chan saveReq) {
	batch := make([]saveReq, 0, s.maxSize)
	saves := make([]DraftSave, 0, s.maxSize)
	for first := range q {
		batch = append(batch[:0], first)
		timer := time.NewTimer(s.linger)
	collect:
		for len(batch) < s.maxSize {
			select {
			case r, ok := <-q:
				if !ok {
					break collect
				}
				batch = append(batch, r)
			case <-timer.C:
				break collect
			}
		}
		timer.Stop()
		saves = saves[:0]
		for _, r := range batch {
			saves = append(saves, r.DraftSave)
		}
		for i, err := range SaveDrafts(context.Background(), s.db, saves) {
			batch[i].errc <- err
		}
	}
}

// SaveDrafts writes a batch of autosaves and returns one error per save,
// nil for those committed.
//
// On Postgres the batch is one UPDATE … FROM (VALUES …) that applies each
// draft's answers in the row itself (tiltline_patch_answers, migration
// 00022): one statement, one round trip and one commit however many drafts
// it touches, no read before it and no explicit transaction. A concurrent
// write to the same draft (another instance's batch) waits for the row and
// the patch applies to what that one committed. Drafts the statement leaves
// alone, missing or sent a slot they do not have, go through the
// transaction below, which says which save failed and why.
//
// On SQLite, and for those, the batch is a transaction of two statements:
// read the drafts (locked on Postgres), apply the answers in order, write
// every changed draft back with one UPDATE … FROM (VALUES …).
//
// A save to a missing draft fails with ErrNoDraft and one with an unknown
// slot with ErrInvalidAnswer, without touching the rest. Should the
// statement or transaction itself fail, each draft is tried again in a
// transaction of its own, so that a draft the database refuses fails only
// its own saves; when the database is away they all fail, as they must.
func SaveDrafts(ctx context.Context, db *DB, saves []DraftSave) []error {
	errs := make([]error, len(saves))
	var err error
	if db.Dialect == "postgres" {
		var patched map[string]bool
		if patched, err = patchDrafts(ctx, db, saves); err == nil {
			var rest []int
			for i, sv := range saves {
				if !patched[sv.Key] {
					rest = append(rest, i)
				}
			}
			if len(rest) == 0 {
				return errs
			}
			sub := make([]DraftSave, len(rest))
			for j, i := range rest {
				sub[j] = saves[i]
			}
			for j, e := range saveEach(ctx, db, sub) {
				errs[rest[j]] = e
			}
			return errs
		}
	} else {
		err = saveBatch(ctx, db, saves, errs)
	}
	if err == nil {
		return errs
	}
	if len(saves) == 1 || ctx.Err() != nil {
		for i := range errs {
			errs[i] = errors.Join(errors.New("save answers"), err)
		}
		return errs
	}
	return saveEach(ctx, db, saves)
}

// saveEach saves each draft's share of the saves in a transaction of its own.
func saveEach(ctx context.Context, db *DB, saves []DraftSave) []error {
	errs := make([]error, len(saves))
	byKey := map[string][]int{}
	var keys []string
	for i, sv := range saves {
		if _, ok := byKey[sv.Key]; !ok {
			keys = append(keys, sv.Key)
		}
		byKey[sv.Key] = append(byKey[sv.Key], i)
	}
	for _, k := range keys {
		idx := byKey[k]
		one := make([]DraftSave, len(idx))
		for j, i := range idx {
			one[j] = saves[i]
		}
		oneErrs := make([]error, len(idx))
		if err := saveBatch(ctx, db, one, oneErrs); err != nil {
			for j := range oneErrs {
				oneErrs[j] = errors.Join(errors.New("save answers"), err)
			}
		}
		for j, i := range idx {
			errs[i] = oneErrs[j]
		}
	}
	return errs
}

// patchDrafts is the Postgres batch: one UPDATE applying every draft's
// saves, in order, where the draft exists and has every slot sent. It
// returns the drafts it wrote.
func patchDrafts(ctx context.Context, db *DB, saves []DraftSave) (map[string]bool, error) {
	type patch struct {
		b   []byte
		top int
	}
	var keys []string
	patches := map[string]*patch{}
	for _, sv := range saves {
		p := patches[sv.Key]
		if p == nil {
			p = &patch{top: -1}
			patches[sv.Key] = p
			keys = append(keys, sv.Key)
		}
		for _, v := range sv.Slots {
			if v.Slot < 0 || v.Slot > 0xffff {
				p.top = 0x10000 // no draft has it: left to the transaction to refuse
				continue
			}
			p.b = append(p.b, byte(v.Slot>>8), byte(v.Slot), v.Value)
			p.top = max(p.top, v.Slot)
		}
	}
	var sql strings.Builder
	args := make([]any, 0, 1+3*len(keys))
	args = append(args, time.Now().UTC())
	sql.WriteString("UPDATE drafts AS d SET answers = tiltline_patch_answers(d.answers, v.patch), updated_at = ? FROM (VALUES ")
	for i, k := range keys {
		if i > 0 {
			sql.WriteString(", (?, ?, ?)")
		} else {
			sql.WriteString("(CAST(? AS text), CAST(? AS bytea), CAST(? AS integer))")
		}
		args = append(args, k, blob(patches[k].b), patches[k].top)
	}
	sql.WriteString(") AS v(key, patch, top) WHERE d.key = v.key AND length(d.answers) > v.top RETURNING d.key")
	var written []string
	if err := db.Write.WithContext(ctx).Raw(sql.String(), args...).Scan(&written).Error; err != nil {
		return nil, err
	}
	done := make(map[string]bool, len(written))
	for _, k := range written {
		done[k] = true
	}
	return done, nil
}

// saveBatch is SaveDrafts' transaction. It fills errs for the saves that
// cannot apply and returns the error of the transaction, if any.
func saveBatch(ctx context.Context, db *DB, saves []DraftSave, errs []error) error {
	keys := make([]string, 0, len(saves))
	seen := make(map[string]bool, len(saves))
	for _, sv := range saves {
		if !seen[sv.Key] {
			seen[sv.Key] = true
			keys = append(keys, sv.Key)
		}
	}
	return db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for i := range errs {
			errs[i] = nil
		}
		var drafts []Draft
		q := tx.Select("key", "answers").Where("key IN ?", keys)
		if db.Dialect == "postgres" {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := q.Find(&drafts).Error; err != nil {
			return err
		}
		answers := make(map[string][]byte, len(drafts))
		for _, d := range drafts {
			answers[d.Key] = d.Answers
		}
		changed := make(map[string]bool, len(drafts))
		for i, sv := range saves {
			a, ok := answers[sv.Key]
			if !ok {
				errs[i] = ErrNoDraft
				continue
			}
			for _, v := range sv.Slots {
				if v.Slot < 0 || v.Slot >= len(a) {
					errs[i] = ErrInvalidAnswer
					break
				}
			}
			if errs[i] != nil {
				continue
			}
			for _, v := range sv.Slots {
				a[v.Slot] = v.Value
			}
			changed[sv.Key] = true
		}
		if len(changed) == 0 {
			return nil
		}
		// One statement for the whole batch. The first row's casts type the
		// VALUES columns on Postgres; SQLite needs none.
		var sql strings.Builder
		args := make([]any, 0, 2*len(changed)+1)
		sql.WriteString("WITH v(key, answers) AS (VALUES ")
		n := 0
		for _, k := range keys {
			if !changed[k] {
				continue
			}
			switch {
			case n > 0:
				sql.WriteString(", (?, ?)")
			case db.Dialect == "postgres":
				sql.WriteString("(CAST(? AS text), CAST(? AS bytea))")
			default:
				sql.WriteString("(?, ?)")
			}
			args = append(args, k, blob(answers[k]))
			n++
		}
		sql.WriteString(") UPDATE drafts SET answers = v.answers, updated_at = ? FROM v WHERE drafts.key = v.key")
		args = append(args, time.Now().UTC())
		return tx.Exec(sql.String(), args...).Error
	})
}

// blob passes bytes as one value: GORM would spread a bare []byte after an
// opening parenthesis into a list of numbers.
type blob []byte

func (b blob) Value() (driver.Value, error) { return []byte(b), nil }
