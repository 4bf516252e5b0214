package survey

import (
	"context"
	"errors"
	"hash/fnv"
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
	done    chan struct{}
}

type saveReq struct {
	key   string
	slots []SlotValue
	errc  chan error
}

// NewSaver starts the writers: one on SQLite (it has one write connection
// anyway), several on Postgres, each owning a share of the drafts by key so
// no two writers in this process ever contend for the same row.
func NewSaver(db *DB) *Saver {
	workers := 1
	if db.Dialect == "postgres" {
		workers = 4
	}
	s := &Saver{db: db, linger: time.Millisecond, maxSize: 64, done: make(chan struct{})}
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
	req := saveReq{key: key, slots: slots, errc: make(chan error, 1)}
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
		s.commit(batch)
	}
}

func (s *Saver) commit(batch []saveReq) {
	errs := make([]error, len(batch))
	keys := make([]string, 0, len(batch))
	for _, r := range batch {
		keys = append(keys, r.key)
	}
	err := s.db.Write.Transaction(func(tx *gorm.DB) error {
		var drafts []Draft
		q := tx.Select("key", "answers").Where("key IN ?", keys)
		if s.db.Dialect == "postgres" {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := q.Find(&drafts).Error; err != nil {
			return err
		}
		answers := make(map[string][]byte, len(drafts))
		for _, d := range drafts {
			answers[d.Key] = d.Answers
		}
		for i, r := range batch {
			a, ok := answers[r.key]
			if !ok {
				errs[i] = ErrNoDraft
				continue
			}
			for _, sv := range r.slots {
				if sv.Slot >= len(a) {
					errs[i] = ErrInvalidAnswer
					break
				}
			}
			if errs[i] != nil {
				continue
			}
			for _, sv := range r.slots {
				a[sv.Slot] = sv.Value
			}
		}
		now := time.Now().UTC()
		for key, a := range answers {
			if err := tx.Model(&Draft{}).Where("key = ?", key).Updates(map[string]any{"answers": a, "updated_at": now}).Error; err != nil {
				return err
			}
		}
		return nil
	})
	for i, r := range batch {
		if err != nil {
			errs[i] = errors.Join(errors.New("save answers"), err)
		}
		r.errc <- errs[i]
	}
}
