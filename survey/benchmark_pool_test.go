package survey_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/google/uuid"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

func TestContributeToPool(t *testing.T) {
	for _, d := range surveytest.Dialects() {
		t.Run(d, func(t *testing.T) {
			db := surveytest.Open(t, d)
			m := surveytest.Model(t)
			ctx := context.Background()
			res, err := survey.CreateDemo(ctx, db, m, survey.DemoOptions{Responses: 40, Secret: testSecret})
			if err != nil {
				t.Fatal(err)
			}
			var org survey.Organisation
			var c survey.Campaign
			db.Read.First(&c, res.PreviousCampaignID)
			db.Read.First(&org, c.OrganisationID)
			rows, err := survey.LoadReportRows(ctx, db, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			rep := survey.BuildReport(m, &c, rows, survey.ReportFilter{}, nil)
			now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
			for range 2 { // again after the demo did: updates, never duplicates
				if err := survey.ContributeToPool(ctx, db, &org, &c, rep, now); err != nil {
					t.Fatal(err)
				}
			}
			pool, err := survey.LoadPool(ctx, db)
			if err != nil || len(pool) != 1 {
				t.Fatalf("pool = %v, %v", pool, err)
			}
			e := pool[0]
			year := 2026
			if c.ClosesAt != nil {
				year = c.ClosesAt.Year()
			}
			if e.Overall != *rep.Overall.CEM || e.Sector != org.Sector || e.Year != year || len(e.Sections) != 13 {
				t.Errorf("entry %+v", e)
			}
			org.BenchmarkOptIn = false
			if err := survey.ContributeToPool(ctx, db, &org, &c, rep, now); err != nil {
				t.Fatal(err)
			}
			if pool, _ := survey.LoadPool(ctx, db); len(pool) != 0 {
				t.Errorf("opted out but %d entries stay", len(pool))
			}
			org.BenchmarkOptIn = true
			small := survey.BuildBenchmark(m, nil, nil, survey.BenchmarkFilter{}, 0)
			if !small.Suppressed {
				t.Errorf("empty benchmark not suppressed: %+v", small)
			}
		})
	}
}

// poolOrg is an opted-in organisation of the same comparison group as the others.
func poolOrg(t *testing.T, db *survey.DB, name string) *survey.Organisation {
	t.Helper()
	org, err := survey.SaveOrganisation(context.Background(), db, 0, survey.OrgInput{Name: name,
		Sector: "retail", Region: "europe", SizeBand: "250-999", BenchmarkOptIn: true})
	if err != nil {
		t.Fatal(err)
	}
	return org
}

// closeCampaign makes a closed campaign of n released responses whose every
// answer is level(i) for response i, closing on the given day, and
// contributes it to the pool as closing it would. It returns the campaign
// and its whole-campaign report.
func closeCampaign(t *testing.T, db *survey.DB, m *survey.Model, org *survey.Organisation, k, n int, closes time.Time, level func(i int) byte) (*survey.Campaign, *survey.Report) {
	t.Helper()
	ctx := context.Background()
	cp := &survey.Campaign{OrganisationID: org.ID, Name: "Wave " + closes.Format("2006-01-02"), WaveLabel: closes.Format("2006"),
		ModelVersion: m.Version, Locales: "en", KMin: k, Status: survey.StatusClosed, ClosesAt: &closes}
	if err := db.Write.Create(cp).Error; err != nil {
		t.Fatal(err)
	}
	rs := make([]survey.Response, n)
	for i := range rs {
		answers := make([]byte, m.AnswerSlots())
		for j := range answers {
			answers[j] = level(i)
		}
		rs[i] = survey.Response{ID: uuid.NewString(), CampaignID: cp.ID, Answers: answers}
	}
	if err := db.Write.CreateInBatches(rs, 100).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := survey.PublishRelease(ctx, db, testSecret, cp.ID); err != nil {
		t.Fatal(err)
	}
	rows, err := survey.LoadReportRows(ctx, db, cp.ID)
	if err != nil {
		t.Fatal(err)
	}
	rep := survey.BuildReport(m, cp, rows, survey.ReportFilter{}, nil)
	if err := survey.ContributeToPool(ctx, db, org, cp, rep, closes); err != nil {
		t.Fatal(err)
	}
	return cp, rep
}

// Attack class 6 of issue 12: an organisation closes many tiny campaigns
// (k = 3, 3 answers each) in one comparison group: 14 of them score 0, 15
// score 100. Once they fill the group's pool to 30 with the victim's one
// entry, the sorted pool is 0 ×14, the victim's v, 100 ×15, and the median
// is 50 + v/2: the victim's overall and section scores read off exactly. The pool
// must not be built from them, and nothing of the victim's shows.
func TestPoolTinyCampaignsAttack(t *testing.T) {
	for _, d := range surveytest.Dialects() {
		t.Run(d, func(t *testing.T) {
			db := surveytest.Open(t, d)
			m := surveytest.Model(t)
			ctx := context.Background()
			victim, attacker := poolOrg(t, db, "Victim"), poolOrg(t, db, "Attacker")
			day := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			_, vrep := closeCampaign(t, db, m, victim, 5, 40, day, func(i int) byte { return byte(1 + i%4) })
			for i := range survey.PoolTakesOver - 1 {
				level := byte(1) // scores 100: 15 of them
				if i%2 == 1 {
					level = 5 // scores 0: 14
				}
				closeCampaign(t, db, m, attacker, 3, 3, day.AddDate(0, 0, 1+i), func(int) byte { return level })
			}
			pool, err := survey.LoadPool(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			tiny := 0
			for _, e := range pool {
				if e.OrganisationID == attacker.ID {
					tiny++
				}
			}
			if tiny > 0 {
				t.Errorf("%d campaigns of 3 responses are in the pool", tiny)
			}
			b := survey.BuildBenchmark(m, pool, survey.ReferenceSet(), survey.BenchmarkFilter{Sector: "retail", Region: "europe", Year: 2026}, attacker.ID)
			if b.Source != survey.SourceReference || !b.Illustrative || b.Organisations != 0 {
				t.Errorf("the attacker's comparison group is built from the pool: source %s, %d entries, %d organisations", b.Source, b.Entries, b.Organisations)
			}
			// What the attacker would read, were the pool shown.
			read := func(p *survey.Percentiles) float64 { return 2*p.P50 - 100 }
			if b.Overall != nil && math.Abs(read(b.Overall)-*vrep.Overall.CEM) < 0.5 {
				t.Errorf("the victim's overall score %.1f reads off the median (%.1f)", *vrep.Overall.CEM, read(b.Overall))
			}
			for i, s := range b.Sections {
				if s.Percentiles != nil && math.Abs(read(s.Percentiles)-*vrep.Sections[i].CEM) < 0.5 {
					t.Errorf("section %s: the victim's score %.1f reads off the median", s.ID, *vrep.Sections[i].CEM)
				}
			}
		})
	}
}

// One entry per organisation and year: its latest closed campaign of the
// year with at least 30 responses. Reopening the latest brings back the
// one before; opting out takes the organisation's entries out.
func TestPoolOneEntryPerOrganisationAndYear(t *testing.T) {
	for _, d := range surveytest.Dialects() {
		t.Run(d, func(t *testing.T) {
			db := surveytest.Open(t, d)
			m := surveytest.Model(t)
			ctx := context.Background()
			org := poolOrg(t, db, "Many Waves")
			overalls := func() map[int]float64 {
				t.Helper()
				pool, err := survey.LoadPool(ctx, db)
				if err != nil {
					t.Fatal(err)
				}
				out := map[int]float64{}
				for _, e := range pool {
					if _, dup := out[e.Year]; dup || e.OrganisationID != org.ID {
						t.Errorf("pool entry %+v: twice in %d or another organisation's", e, e.Year)
					}
					out[e.Year] = e.Overall
				}
				return out
			}
			spring, _ := closeCampaign(t, db, m, org, 5, 30, time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), func(int) byte { return 2 }) // 75
			if got := overalls(); len(got) != 1 || got[2026] != 75 {
				t.Fatalf("after the spring wave: %v", got)
			}
			autumn, _ := closeCampaign(t, db, m, org, 5, 31, time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), func(int) byte { return 4 }) // 25
			if got := overalls(); len(got) != 1 || got[2026] != 25 {
				t.Errorf("a later wave of the same year replaces the earlier: %v", got)
			}
			closeCampaign(t, db, m, org, 5, 30, time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), func(int) byte { return 3 }) // 50
			if got := overalls(); len(got) != 2 || got[2026] != 25 || got[2025] != 50 {
				t.Errorf("another year is another entry: %v", got)
			}
			// A later wave of 29 responses does not enter, nor push the autumn one out.
			closeCampaign(t, db, m, org, 5, survey.PoolMinResponses-1, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), func(int) byte { return 1 })
			if got := overalls(); got[2026] != 25 {
				t.Errorf("a campaign of 29 responses entered the pool: %v", got)
			}
			// Reopening the autumn wave brings the spring wave back.
			if err := survey.SetCampaignStatus(ctx, db, autumn, survey.StatusOpen); err != nil {
				t.Fatal(err)
			}
			if err := survey.ContributeToPool(ctx, db, org, autumn, nil, time.Now()); err != nil {
				t.Fatal(err)
			}
			if got := overalls(); got[2026] != 75 {
				t.Errorf("reopening the latest wave does not restore the one before: %v", got)
			}
			if err := survey.SetCampaignStatus(ctx, db, spring, survey.StatusOpen); err != nil {
				t.Fatal(err)
			}
			survey.ContributeToPool(ctx, db, org, spring, nil, time.Now())
			if got := overalls(); len(got) != 1 || got[2025] != 50 {
				t.Errorf("with both 2026 waves reopened: %v", got)
			}
			// Opting out in the settings takes the organisation out at once.
			if _, err := survey.SaveOrganisation(ctx, db, org.ID, survey.OrgInput{Name: org.Name, Sector: org.Sector, Region: org.Region, SizeBand: org.SizeBand}); err != nil {
				t.Fatal(err)
			}
			if got := overalls(); len(got) != 0 {
				t.Errorf("opted out, still in the pool: %v", got)
			}
		})
	}
}

// Migration 00012 names each pool entry's organisation and drops the
// entries of campaigns with fewer than 30 responses, on both dialects.
func TestMigrationNamesPoolOrganisations(t *testing.T) {
	for _, d := range surveytest.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			db := surveytest.OpenAt(t, d, 8)
			exec := func(q string, args ...any) {
				t.Helper()
				if err := db.Write.Exec(q, args...).Error; err != nil {
					t.Fatal(err)
				}
			}
			exec("INSERT INTO organisations (id, name, benchmark_opt_in) VALUES (7, 'Big', TRUE), (8, 'Small', TRUE)")
			exec("INSERT INTO campaigns (id, organisation_id, name, model_version, status) VALUES (70, 7, 'Big wave', 1, 'closed'), (80, 8, 'Small wave', 1, 'closed')")
			for i := range 30 {
				exec("INSERT INTO responses (id, campaign_id, answers) VALUES (?, 70, ?)", uuid.NewString(), []byte{1})
				if i < 29 {
					exec("INSERT INTO responses (id, campaign_id, answers) VALUES (?, 80, ?)", uuid.NewString(), []byte{1})
				}
			}
			exec("INSERT INTO benchmark_entries (source, campaign_id, year, overall) VALUES ('pool', 70, 2026, 40), ('pool', 80, 2026, 50)")
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			var entries []survey.BenchmarkEntry
			db.Read.Find(&entries)
			if len(entries) != 1 || *entries[0].CampaignID != 70 || entries[0].OrganisationID == nil || *entries[0].OrganisationID != 7 {
				t.Errorf("entries after the migration: %+v", entries)
			}
		})
	}
}
