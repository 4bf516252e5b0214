package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"tiltline/survey"
)

// The publisher makes releases (survey.PublishRelease): after submits, at
// most once per campaign every releaseGap (2 s, or ten times what its last
// release took: a Postgres release rewrites the campaign's rows, 0.45 s at
// 10k, so a busy large campaign spends at most a tenth of its time on
// them); every sweepEvery for campaigns with responses waiting (submits on
// other instances, held-back ones a later submit may free); and at once
// when a campaign closes.
type publisher struct {
	a     *App
	log   *slog.Logger
	kicks chan int64
	every time.Duration
	sweep time.Duration
}

const (
	publishEvery = 2 * time.Second
	sweepEvery   = 30 * time.Second
)

func newPublisher(a *App) *publisher {
	return &publisher{a: a, log: a.log, kicks: make(chan int64, 1024), every: publishEvery, sweep: sweepEvery}
}

// kick asks for a release of the campaign soon; it never blocks a request.
func (p *publisher) kick(campaignID int64) {
	select {
	case p.kicks <- campaignID:
	default: // the sweep will find it
	}
}

// start runs the publisher until ctx ends or stop is called.
func (p *publisher) start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { p.run(ctx) })
	return func() {
		cancel()
		wg.Wait()
	}
}

// releaseGap is how long a campaign waits for its next release after one
// that took took.
func releaseGap(took time.Duration) time.Duration { return max(publishEvery, 10*took) }

func (p *publisher) run(ctx context.Context) {
	due := map[int64]bool{}
	next := map[int64]time.Time{} // a campaign's next release, not before
	tick := time.NewTicker(p.every)
	defer tick.Stop()
	sweep := time.NewTicker(p.sweep)
	defer sweep.Stop()
	publish := func(id int64) {
		if time.Now().Before(next[id]) {
			return
		}
		delete(due, id)
		start := time.Now()
		p.publish(ctx, id)
		next[id] = start.Add(releaseGap(time.Since(start)))
	}
	p.sweepNow(ctx, publish) // responses stored before releases existed, or left by a crash
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-p.kicks:
			due[id] = true
		case <-tick.C:
			for id := range due {
				publish(id)
			}
		case <-sweep.C:
			p.sweepNow(ctx, publish)
		}
	}
}

func (p *publisher) sweepNow(ctx context.Context, publish func(int64)) {
	ids, err := survey.CampaignsWaiting(ctx, p.a.db)
	if err != nil {
		if ctx.Err() == nil {
			p.log.Error("find campaigns with responses waiting", "err", err)
		}
		return
	}
	for _, id := range ids {
		publish(id)
	}
}

func (p *publisher) publish(ctx context.Context, campaignID int64) {
	if err := p.a.publishNow(ctx, campaignID); err != nil && ctx.Err() == nil {
		p.log.Error("publish release", "campaign", campaignID, "err", err)
	}
}

// publishNow makes a release of the campaign if the rules allow one, and
// lets this instance's results show it at once.
func (a *App) publishNow(ctx context.Context, campaignID int64) error {
	before, err := survey.CurrentReleaseSeq(ctx, a.db, campaignID)
	if err != nil {
		return err
	}
	r, err := survey.PublishRelease(ctx, a.db, a.cfg.Secret, campaignID)
	if err != nil {
		return err
	}
	if r != nil && r.Seq != before {
		a.reports.touch(campaignID)
		// Counts only: which release, how many shown and waiting. Nothing
		// about who or which cells.
		a.log.Info("release published", "campaign", campaignID, "release", r.Seq, "shown", r.Shown, "held_back", r.HeldBack)
	}
	return nil
}
