package server

import (
	"context"
	"errors"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"tiltline/survey"
)

// linkCache remembers, for a few seconds, who is behind a link token: every
// page view and autosave of a respondent resolves the same token, and three
// lookups per request were most of the cost of an autosave. Entries are
// short-lived, dropped on submit here, and every write re-checks the
// database (Submit deletes the draft; StartDraft refuses a completed
// invitation), so a stale entry on another instance can never resurrect a
// submitted survey. Keys are token hashes, never tokens.
type linkCache struct {
	db     *survey.DB
	secret []byte
	lru    *expirable.LRU[string, linkEntry]
}

type linkEntry struct {
	respondent survey.Respondent
	err        error
}

func newLinkCache(db *survey.DB, secret []byte) *linkCache {
	return &linkCache{db: db, secret: secret, lru: expirable.NewLRU[string, linkEntry](10_000, nil, 3*time.Second)}
}

// resolve returns a fresh copy of the respondent so handlers may not share state.
func (lc *linkCache) resolve(ctx context.Context, token string) (*survey.Respondent, error) {
	if !survey.WellFormedToken(token) {
		return nil, survey.ErrNotFound
	}
	key := survey.HashToken(token)
	e, ok := lc.lru.Get(key)
	if !ok {
		r, err := survey.ResolveInvitation(ctx, lc.db, lc.secret, token)
		if err != nil && !errors.Is(err, survey.ErrAlreadySubmitted) && !errors.Is(err, survey.ErrNotFound) {
			return nil, err // a database failure is not remembered
		}
		if r != nil {
			e.respondent = *r
		}
		e.err = err
		lc.lru.Add(key, e)
	}
	if errors.Is(e.err, survey.ErrNotFound) {
		return nil, e.err
	}
	r := e.respondent
	camp, inv := *r.Campaign, *r.Invitation
	r.Campaign, r.Invitation = &camp, &inv
	if r.Participant != nil {
		p := *r.Participant
		r.Participant = &p
	}
	return &r, e.err
}

func (lc *linkCache) forget(token string) { lc.lru.Remove(survey.HashToken(token)) }
