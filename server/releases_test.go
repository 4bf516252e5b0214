package server

import (
	"testing"
	"time"

	"tiltline/survey"
)

// The running publisher releases after a submit's kick without anyone
// asking for results, and waits longer after a slow release.
func TestPublisherReleasesAfterSubmits(t *testing.T) {
	a, demo, _ := newTestApp(t)
	a.releases.every = 20 * time.Millisecond
	stop := a.releases.start(t.Context())
	defer stop()
	before, err := survey.CountResponses(t.Context(), a.db, demo.CampaignID)
	if err != nil {
		t.Fatal(err)
	}
	answers := make([]byte, a.models.Latest().AnswerSlots())
	for range 5 {
		if _, err := survey.SealPending(a.db.Write, a.cfg.Secret, survey.PendingResponse{CampaignID: demo.CampaignID, Role: "researcher", Seniority: "staff", Answers: answers}); err != nil {
			t.Fatal(err)
		}
	}
	a.releases.kick(demo.CampaignID)
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := survey.CountResponses(t.Context(), a.db, demo.CampaignID)
		if err != nil {
			t.Fatal(err)
		}
		if n == before+5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no release 10 s after the kick: %d shown, %d before", n, before)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if g := releaseGap(10 * time.Millisecond); g != publishEvery {
		t.Errorf("gap after a quick release = %v, want %v", g, publishEvery)
	}
	if g := releaseGap(450 * time.Millisecond); g != 4500*time.Millisecond {
		t.Errorf("gap after a 0.45 s release = %v, want 4.5 s", g)
	}
}
